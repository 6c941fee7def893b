from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from keys import crypto
from sharing.levels import level_permissions
from sharing.models import SharedQuerySet


class KeyQuerySet(SharedQuerySet):
    pass


class Key(models.Model):
    """A provider credential. The secret is encrypted at rest and never read back to a user.

    Only ``masked_secret`` (``sk-...abcd``) is ever shown. ``secret()``
    decrypts for the one caller that needs it: the code building a provider
    call.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=100)
    provider = models.CharField(max_length=64, help_text="A provider of the catalog, e.g. openai.")
    secret_ciphertext = models.TextField(editable=False)
    masked_secret = models.CharField(max_length=32, editable=False)
    description = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    last_rotated_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = KeyQuerySet.as_manager()

    class Meta:
        ordering = ["name", "created_at"]
        permissions = level_permissions("key")

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        # Never include the ciphertext: reprs end up in logs and tracebacks.
        return f"<Key {self.id.hex} {self.name!r} provider={self.provider!r} secret={self.masked_secret!r}>"

    @property
    def public_id(self) -> str:
        return self.id.hex

    def set_secret(self, plaintext: str) -> None:
        self.secret_ciphertext = crypto.encrypt(plaintext)
        self.masked_secret = crypto.mask(plaintext)

    def secret(self) -> str:
        """The decrypted secret; raises ``SecretDecryptionError`` rather than return ciphertext."""
        return crypto.decrypt(self.secret_ciphertext)


class KeyUserObjectPermission(UserObjectPermissionBase):
    """Guardian grant of a level on a key to a user (direct FK for indexed joins)."""

    content_object = models.ForeignKey(Key, on_delete=models.CASCADE)


class KeyGroupObjectPermission(GroupObjectPermissionBase):
    """Guardian grant of a level on a key to a group (direct FK for indexed joins)."""

    content_object = models.ForeignKey(Key, on_delete=models.CASCADE)


Key.user_permission_model = KeyUserObjectPermission
Key.group_permission_model = KeyGroupObjectPermission
