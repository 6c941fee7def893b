"""Business rules for provider keys. The API, the UI, the admin and commands call these."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from audit import services as audit
from catalog import services as catalog
from gateway_site.api import Conflict
from keys import crypto
from keys.models import Key
from keys.signals import key_changed
from sharing import services as sharing

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

logger = logging.getLogger(__name__)

MAX_SECRET_LENGTH = 64 * 1024  # large enough for a cloud service-account JSON


def clean_secret(value: str) -> str:
    """Normalise and check a secret, with messages that never echo it."""
    if not isinstance(value, str):
        raise ValidationError("The secret must be a string.")
    value = value.strip()
    if not value:
        raise ValidationError("The secret may not be empty.")
    if len(value) > MAX_SECRET_LENGTH:
        raise ValidationError(f"The secret may be at most {MAX_SECRET_LENGTH} characters.")
    if "\x00" in value:
        raise ValidationError("The secret contains a NUL character.")
    return value


def summary(key: Key) -> dict[str, str]:
    """The audit-safe description of a key: public fields and the masked hint only."""
    return {
        "name": key.name,
        "provider": key.provider,
        "description": key.description,
        "masked_secret": key.masked_secret,
    }


def clean_provider(value: str) -> str:
    if not catalog.is_provider(value):
        raise ValidationError(f"Unknown provider {value!r}; pick one from providers/list.")
    return value


def _checked(field: str, check, value):
    """Run a field check, reporting its error under ``field``."""
    try:
        return check(value)
    except ValidationError as exc:
        raise ValidationError({field: exc.messages}) from None


@transaction.atomic
def create_key(*, actor: AbstractBaseUser, name: str, provider: str, secret: str, description: str = "") -> Key:
    key = Key(name=name, provider=_checked("provider", clean_provider, provider), description=description)
    key.created_by = actor
    key.set_secret(_checked("secret", clean_secret, secret))
    key.full_clean(exclude=["secret_ciphertext", "masked_secret"])
    key.save()
    sharing.grant_creator(key, actor)
    audit.record(actor, "create", key, {"after": summary(key)})
    logger.info("key created id=%s provider=%s by=%s", key.public_id, key.provider, actor.pk)
    return key


@transaction.atomic
def update_key(key: Key, *, actor: AbstractBaseUser, secret: str | None = None, **changes: str) -> Key:
    """Change a key's fields; a ``secret`` replaces the stored one."""
    before = summary(key)
    if "provider" in changes:
        _checked("provider", clean_provider, changes["provider"])
    for field, value in changes.items():
        setattr(key, field, value)
    if secret is not None:
        key.set_secret(_checked("secret", clean_secret, secret))
        key.last_rotated_at = timezone.now()
    key.full_clean(exclude=["secret_ciphertext", "masked_secret"])
    key.save()
    if secret is not None or before["provider"] != key.provider:
        key_changed.send(sender=Key, key=key)
    changes = audit.diff(before, summary(key))
    if secret is not None:
        changes["secret"] = "replaced"
    audit.record(actor, "update", key, changes)
    logger.info("key updated id=%s fields=%s by=%s", key.public_id, sorted(changes), actor.pk)
    return key


def endpoints_using(key: Key, viewer: AbstractBaseUser) -> tuple[list, int]:
    """The endpoints using ``key`` that ``viewer`` can see, and how many others use it.

    Only visible endpoints are named, so a key's usage never reveals the
    existence of an endpoint the viewer cannot READ.
    """
    from endpoints.models import Endpoint

    using = Endpoint.objects.filter(models__key=key).distinct()
    visible = list(using.visible_to(viewer).order_by("name"))
    return visible, using.count() - len(visible)


@transaction.atomic
def delete_key(key: Key, *, actor: AbstractBaseUser) -> None:
    visible, hidden = endpoints_using(key, actor)
    if visible or hidden:
        raise Conflict(
            {
                "detail": "This key is used by endpoints; remove it from them first.",
                "endpoints": [endpoint.name for endpoint in visible],
                "hidden_endpoints": hidden,
            }
        )
    logger.info("key deleted id=%s by=%s", key.public_id, actor.pk)
    audit.record(actor, "delete", key, {"before": summary(key)})
    key.delete()


def rotate_all(*, actor: AbstractBaseUser | None = None, batch_size: int = 500) -> int:
    """Re-encrypt every stored secret under the newest encryption key.

    Each row is rotated in its own short transaction with a row lock, so a
    concurrent secret replacement is never overwritten with a stale value.
    A row that no configured key decrypts stops the run with an error naming
    the key id (never the secret): removing the old key then would lose it.
    """
    rotated = 0
    ids = list(Key.objects.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), batch_size):
        for pk in ids[start : start + batch_size]:
            with transaction.atomic():
                key = Key.objects.select_for_update().filter(pk=pk).first()
                if key is None:
                    continue  # deleted meanwhile
                try:
                    key.secret_ciphertext = crypto.rotate(key.secret_ciphertext)
                except crypto.SecretDecryptionError:
                    raise crypto.SecretDecryptionError(
                        f"Key {key.public_id} ({key.name!r}) cannot be decrypted with any configured key; "
                        "nothing after it was rotated."
                    ) from None
                key.last_rotated_at = timezone.now()
                key.save(update_fields=["secret_ciphertext", "last_rotated_at"])
                audit.record(actor, "rotate", key, {"encryption": "re-encrypted under the newest key"})
                rotated += 1
    return rotated
