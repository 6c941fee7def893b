"""Token format, peppers and digests: the only place that knows how a token is hashed.

A token reads ``gw_<lookup_id>_<secret>``. The lookup id is public (it finds
the row and is shown as the prefix); the secret is never stored, only its
HMAC-SHA256 keyed by a *pepper* that lives in settings, not in the database,
so a leaked database alone cannot be used to check guesses (NetBox v2 tokens).
Each row records its pepper version, so peppers can be rotated.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import string

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

TOKEN_PREFIX = "gw"
LOOKUP_ID_LENGTH = 12
SECRET_BYTES = 32  # token_urlsafe(32) gives 43 characters
MIN_PEPPER_LENGTH = 32
DERIVED_PEPPER_VERSION = 0

# The lookup id avoids "_" so the token splits unambiguously; the secret is
# urlsafe base64 and may contain "_" or "-". The upper bound stops a caller
# from making us hash megabytes.
_TOKEN_RE = re.compile(
    rf"^{TOKEN_PREFIX}_(?P<lookup_id>[A-Za-z0-9]{{{LOOKUP_ID_LENGTH}}})_(?P<secret>[A-Za-z0-9_-]{{40,128}})$"
)
_LOOKUP_ALPHABET = string.ascii_letters + string.digits


def new_lookup_id() -> str:
    return "".join(secrets.choice(_LOOKUP_ALPHABET) for _ in range(LOOKUP_ID_LENGTH))


def new_secret() -> str:
    return secrets.token_urlsafe(SECRET_BYTES)


def format_token(lookup_id: str, secret: str) -> str:
    return f"{TOKEN_PREFIX}_{lookup_id}_{secret}"


def display_prefix(lookup_id: str) -> str:
    """The recognisable, non-secret part shown in lists: ``gw_<lookup_id>``."""
    return f"{TOKEN_PREFIX}_{lookup_id}"


def parse_token(raw: str) -> tuple[str, str] | None:
    """Split a plaintext token into ``(lookup_id, secret)``, or None when it is malformed."""
    # fullmatch, not match with "$", which would also accept a trailing newline.
    match = _TOKEN_RE.fullmatch(raw)
    if match is None:
        return None
    return match["lookup_id"], match["secret"]


def peppers() -> dict[int, bytes]:
    """Return every usable pepper by version.

    ``GATEWAY_TOKEN_PEPPERS`` (version -> secret) is authoritative when set;
    settings may add it later, so it is read with getattr. Without it, one
    pepper is derived from SECRET_KEY, which means rotating SECRET_KEY
    invalidates tokens: set the explicit setting to decouple the two.
    Removing a version from the setting invalidates the tokens hashed with it.
    """
    configured = getattr(settings, "GATEWAY_TOKEN_PEPPERS", None)
    if configured is None:
        return {DERIVED_PEPPER_VERSION: _derived_pepper()}
    return _validated_peppers(configured)


def current_pepper_version() -> int:
    """New tokens (and re-hashed old ones) use the highest version."""
    return max(peppers())


def hash_secret(secret: str) -> tuple[int, str]:
    """Return ``(pepper_version, digest)`` of ``secret`` under the current pepper."""
    available = peppers()
    version = max(available)
    return version, _hmac_hex(available[version], secret)


def digest_matches(secret: str, pepper_version: int, stored_digest: str) -> bool:
    """Check ``secret`` against a stored digest; False when its pepper has been retired."""
    pepper = peppers().get(pepper_version)
    if pepper is None:
        return False
    # compare_digest keeps the comparison time independent of where the strings differ.
    return hmac.compare_digest(_hmac_hex(pepper, secret), stored_digest)


def _hmac_hex(pepper: bytes, secret: str) -> str:
    return hmac.new(pepper, secret.encode("ascii"), hashlib.sha256).hexdigest()


def _derived_pepper() -> bytes:
    # A single HMAC with a fixed label is an HKDF-expand of SECRET_KEY: the
    # pepper is independent of every other use Django makes of the key.
    return hmac.new(settings.SECRET_KEY.encode(), b"ai-gateway/tokens/pepper/v0", hashlib.sha256).digest()


def _validated_peppers(configured: object) -> dict[int, bytes]:
    if not isinstance(configured, dict) or not configured:
        raise ImproperlyConfigured("GATEWAY_TOKEN_PEPPERS must be a non-empty dict of version -> secret.")
    result: dict[int, bytes] = {}
    for version, secret in configured.items():
        result[_pepper_version(version)] = _pepper_bytes(version, secret)
    return result


def _pepper_version(version: object) -> int:
    try:
        number = int(version)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        number = -1
    if not 0 <= number <= 32767:
        raise ImproperlyConfigured(f"GATEWAY_TOKEN_PEPPERS: version {version!r} must be an integer 0..32767.")
    return number


def _pepper_bytes(version: object, secret: object) -> bytes:
    value = secret.encode() if isinstance(secret, str) else secret
    if not isinstance(value, bytes) or len(value) < MIN_PEPPER_LENGTH:
        raise ImproperlyConfigured(
            f"GATEWAY_TOKEN_PEPPERS: pepper {version!r} must be a string of at least {MIN_PEPPER_LENGTH} characters."
        )
    return value
