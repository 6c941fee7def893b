from __future__ import annotations

import uuid
from datetime import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from gatewaylib.validators import no_control_characters
from tokens import crypto


class GatewayTokenQuerySet(models.QuerySet["GatewayToken"]):
    def for_user(self, user: models.Model) -> GatewayTokenQuerySet:
        """Tokens are personal: a user only ever sees their own."""
        return self.filter(user=user)

    def unexpired(self, now: datetime | None = None) -> GatewayTokenQuerySet:
        now = now or timezone.now()
        return self.filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))


class GatewayToken(models.Model):
    """A personal bearer token that authenticates its user on the API and the proxy.

    Only the HMAC digest of the secret part is stored (see ``tokens.crypto``);
    the plaintext is returned once, when the token is created. ``lookup_id``
    is public and finds the row; ``prefix`` is what lists show so a user can
    recognise which token is which.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="gateway_tokens")
    name = models.CharField(max_length=100, validators=[no_control_characters])
    prefix = models.CharField(max_length=16, editable=False)
    lookup_id = models.CharField(max_length=crypto.LOOKUP_ID_LENGTH, unique=True, db_index=True, editable=False)
    digest = models.CharField(max_length=64, editable=False)
    pepper_version = models.PositiveSmallIntegerField(editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    expires_at = models.DateTimeField(null=True, blank=True)
    rate_limit_rpm = models.PositiveIntegerField(
        null=True, blank=True, help_text="Optional requests-per-minute limit for proxy calls made with this token."
    )

    objects = GatewayTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "gateway token"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix})"

    def set_secret(self, secret: str) -> None:
        """Store the digest of ``secret`` under the current pepper (never the secret itself)."""
        self.pepper_version, self.digest = crypto.hash_secret(secret)

    def check_secret(self, secret: str) -> bool:
        return crypto.digest_matches(secret, self.pepper_version, self.digest)

    def is_expired(self, now: datetime | None = None) -> bool:
        return self.expires_at is not None and self.expires_at <= (now or timezone.now())
