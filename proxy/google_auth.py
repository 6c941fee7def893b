"""Vertex AI access tokens from a key's service account, minted on the event loop and cached.

google-auth's own refresh blocks (it calls ``requests``) and would POST to the
account's ``token_uri`` outside the gateway's guarded egress. So google-auth
only signs here (its ``crypt`` and ``jwt`` modules: the RS256 assertion of
OAuth's JWT-bearer grant, with the account's private key), and the exchange
is one POST through ``gatewaylib.egress``, like every call that carries a
key's credential: the same address rules, no redirect.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from dataclasses import dataclass, field

import aiohttp
from google.auth import crypt, jwt

from gatewaylib import egress

SCOPE = "https://www.googleapis.com/auth/cloud-platform"
GRANT_TYPE = "urn:ietf:params:oauth:grant-type:jwt-bearer"
LIFETIME_SECONDS = 3600  # the longest an assertion may ask for
EARLY_SECONDS = 300  # a token is replaced this long before it expires
TIMEOUT = aiohttp.ClientTimeout(total=30)


class TokenError(Exception):
    """No access token: the message is safe to show (it never holds the account's secrets)."""


@dataclass(eq=False)
class ServiceAccount:
    email: str
    token_uri: str
    project_id: str
    signer: crypt.Signer = field(repr=False)
    _token: str = field(default="", repr=False)
    _expires: float = 0.0
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False)

    @classmethod
    def from_secret(cls, secret: str) -> ServiceAccount | None:
        """The account a key's secret holds, or None when the secret is not a service account's JSON.

        One object per account and process, so every route and Router rebuild
        shares its token.
        """
        digest = hashlib.sha256(secret.encode()).hexdigest()
        if digest in _ACCOUNTS:
            return _ACCOUNTS[digest]
        try:
            info = json.loads(secret)
        except ValueError:
            return None
        if not isinstance(info, dict) or info.get("type") != "service_account":
            return None
        try:
            signer = crypt.RSASigner.from_service_account_info(info)
            account = cls(info["client_email"], info["token_uri"], info.get("project_id", ""), signer)
        except (KeyError, ValueError, TypeError):
            return None  # not a usable account: Vertex AI refuses the secret as an API key instead
        _ACCOUNTS[digest] = account
        return account

    async def access_token(self) -> str:
        if time.monotonic() < self._expires:
            return self._token
        async with self._lock:  # one exchange at a time; the others wait for its token
            if time.monotonic() >= self._expires:
                self._token, lifetime = await self._exchange()
                self._expires = time.monotonic() + max(lifetime - EARLY_SECONDS, 0)
        return self._token

    async def _exchange(self) -> tuple[str, float]:
        now = int(time.time())
        claims = {"iss": self.email, "scope": SCOPE, "aud": self.token_uri, "iat": now, "exp": now + LIFETIME_SECONDS}
        form = {"grant_type": GRANT_TYPE, "assertion": jwt.encode(self.signer, claims).decode()}
        try:
            async with egress.session().post(self.token_uri, data=form, timeout=TIMEOUT) as response:
                body = await response.json(content_type=None) if response.status == 200 else None
        except egress.EgressRefused as exc:
            raise TokenError(f"The service account's token endpoint is refused: {exc.reason}") from None
        except (aiohttp.ClientError, TimeoutError, ValueError):
            raise TokenError("The gateway could not reach the service account's token endpoint.") from None
        if not isinstance(body, dict) or not isinstance(body.get("access_token"), str):
            raise TokenError("The token endpoint refused the key's service account.")
        return body["access_token"], float(body.get("expires_in") or LIFETIME_SECONDS)


_ACCOUNTS: dict[str, ServiceAccount] = {}
