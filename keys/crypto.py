"""Encryption of provider secrets at rest, with ``cryptography``'s MultiFernet.

We use MultiFernet directly rather than an encrypted-field library: the
libraries either do not import on Django 4+ (django-fernet-fields) or hand the
ciphertext back as the value when decryption fails
(django-fernet-encrypted-fields), which would send ciphertext upstream as an
API key. Here a failed decryption always raises ``SecretDecryptionError``.

``GATEWAY_ENCRYPTION_KEYS`` lists Fernet keys newest first: the first one
encrypts, all of them decrypt, so a new key can be added before
``rotate_encryption_keys`` re-encrypts every row and the old one is removed.
"""

from __future__ import annotations

import base64
import functools
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver


class SecretDecryptionError(Exception):
    """A stored secret cannot be decrypted with the configured keys.

    The message never contains the ciphertext or any part of the secret.
    """


def _development_key() -> bytes:
    # Only reached with DJANGO_DEBUG=1 and no GATEWAY_ENCRYPTION_KEYS (settings
    # refuses to start otherwise): derive a stable key so a local database
    # keeps working between restarts.
    digest = hashlib.sha256(b"gateway-encryption-key:" + settings.SECRET_KEY.encode()).digest()
    return base64.urlsafe_b64encode(digest)


@functools.cache
def _multifernet(keys: tuple[str, ...]) -> MultiFernet:
    fernets = []
    for position, key in enumerate(keys, start=1):
        try:
            fernets.append(Fernet(key.encode() if isinstance(key, str) else key))
        except (ValueError, TypeError):
            raise ImproperlyConfigured(
                f"GATEWAY_ENCRYPTION_KEYS entry #{position} is not a valid Fernet key "
                "(32 url-safe base64-encoded bytes)."
            ) from None
    return MultiFernet(fernets)


def get_multifernet() -> MultiFernet:
    keys = tuple(settings.GATEWAY_ENCRYPTION_KEYS) or (_development_key().decode(),)
    return _multifernet(keys)


@receiver(setting_changed)
def _forget_keys(*, setting: str, **kwargs: object) -> None:
    if setting in {"GATEWAY_ENCRYPTION_KEYS", "SECRET_KEY"}:
        _multifernet.cache_clear()


def encrypt(plaintext: str) -> str:
    return get_multifernet().encrypt(plaintext.encode()).decode()


def decrypt(ciphertext: str) -> str:
    try:
        return get_multifernet().decrypt(ciphertext.encode()).decode()
    except (InvalidToken, ValueError, TypeError):
        raise SecretDecryptionError(
            "The stored secret cannot be decrypted with the configured GATEWAY_ENCRYPTION_KEYS."
        ) from None


def rotate(ciphertext: str) -> str:
    """Re-encrypt ``ciphertext`` under the newest key."""
    try:
        return get_multifernet().rotate(ciphertext.encode()).decode()
    except (InvalidToken, ValueError, TypeError):
        raise SecretDecryptionError(
            "The stored secret cannot be decrypted with the configured GATEWAY_ENCRYPTION_KEYS."
        ) from None


def mask(secret: str) -> str:
    """A hint that identifies a secret without revealing it: ``sk-...abcd``.

    Short secrets show less, so the hint never reveals a meaningful share; an
    empty secret (a self-hosted server without one) has no hint.
    """
    if not secret:
        return ""
    if len(secret) >= 16:
        return f"{secret[:3]}...{secret[-4:]}"
    if len(secret) >= 8:
        return f"...{secret[-2:]}"
    return "..."
