"""Every way a gateway token is minted, checked or revoked goes through these functions.

The API, the ``create_token`` command, the admin and (later) the proxy call
them, so the token rules live in one place.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from tokens import crypto
from tokens.models import GatewayToken

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

# Recording every use would turn each authenticated request into a write;
# minute precision is enough to tell a user which token is still in use.
LAST_USED_RESOLUTION = timedelta(minutes=1)
# The endpoint page's playground calls the proxy as its user, with a token of
# theirs like any client; it lives in the page's memory only and expires soon.
PLAYGROUND_TOKEN_NAME = "Playground (browser)"
PLAYGROUND_TOKEN_LIFETIME = timedelta(hours=1)


def create_token(
    user: AbstractBaseUser, name: str, expires_at: datetime | None = None, rate_limit_rpm: int | None = None
) -> tuple[GatewayToken, str]:
    """Mint a token for ``user``; return it with its plaintext, which is never available again."""
    for _attempt in range(3):
        token = GatewayToken(user=user, name=name, expires_at=expires_at, rate_limit_rpm=rate_limit_rpm)
        secret = crypto.new_secret()
        if _insert_with_fresh_lookup_id(token, secret):
            return token, crypto.format_token(token.lookup_id, secret)
    raise RuntimeError("Could not allocate a unique token lookup id.")


def create_playground_token(user: AbstractBaseUser) -> tuple[GatewayToken, str]:
    """A short-lived token for the playground; the user's expired playground tokens are removed first.

    Unexpired ones are kept: another tab of the same user may still hold one.
    """
    now = timezone.now()
    GatewayToken.objects.filter(user=user, name=PLAYGROUND_TOKEN_NAME, expires_at__lte=now).delete()
    return create_token(user, PLAYGROUND_TOKEN_NAME, expires_at=now + PLAYGROUND_TOKEN_LIFETIME)


def _insert_with_fresh_lookup_id(token: GatewayToken, secret: str) -> bool:
    token.lookup_id = crypto.new_lookup_id()
    token.prefix = crypto.display_prefix(token.lookup_id)
    token.set_secret(secret)
    try:
        # A savepoint, so a (vanishingly unlikely) lookup id clash does not
        # break the caller's transaction and the caller can simply draw again.
        with transaction.atomic():
            token.save(force_insert=True)
    except IntegrityError:
        return False
    return True


def authenticate_token(raw: str) -> GatewayToken | None:
    """Return the live token ``raw`` stands for, with its user loaded, or None.

    None covers every failure (malformed, unknown, wrong secret, expired,
    inactive user) so callers cannot leak which one it was.
    """
    token = find_token(raw)
    if token is None:
        return None
    upgrade_pepper(token, raw)
    record_use(token)
    return token


def find_token(raw: str) -> GatewayToken | None:
    """The read-only half of :func:`authenticate_token`: no writes, so a cache can wrap it."""
    parsed = crypto.parse_token(raw)
    if parsed is None:
        return None
    lookup_id, secret = parsed
    # Lookup ids are not secret, so finding the row by one leaks nothing; the
    # secret is only ever checked with a constant-time comparison.
    token = GatewayToken.objects.select_related("user").filter(lookup_id=lookup_id).first()
    if token is None or not token.check_secret(secret):
        return None
    if token.is_expired() or not token.user.is_active:
        return None
    return token


def record_use(token: GatewayToken, now: datetime | None = None) -> None:
    """Set ``last_used_at``, writing at most once per LAST_USED_RESOLUTION per token."""
    now = now or timezone.now()
    cutoff = now - LAST_USED_RESOLUTION
    if token.last_used_at is not None and token.last_used_at > cutoff:
        return
    # The condition in the UPDATE keeps concurrent requests (or a stale cached
    # instance) from writing again within the same window.
    stale = Q(last_used_at__isnull=True) | Q(last_used_at__lte=cutoff)
    GatewayToken.objects.filter(stale, pk=token.pk).update(last_used_at=now)
    token.last_used_at = now


def revoke_token(token: GatewayToken) -> None:
    """Revoke a token for good. Deleting the row is revocation: nothing can match it afterwards."""
    token.delete()


def upgrade_pepper(token: GatewayToken, raw: str) -> None:
    """Re-hash a verified token under the newest pepper if it uses an older one."""
    # Only at authentication do we hold the secret, so this is the moment to
    # move a token onto the newest pepper; the old one can then be retired.
    parsed = crypto.parse_token(raw)
    if parsed is None or token.pepper_version == crypto.current_pepper_version():
        return
    token.set_secret(parsed[1])
    GatewayToken.objects.filter(pk=token.pk).update(digest=token.digest, pepper_version=token.pepper_version)
