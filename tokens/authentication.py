"""DRF authentication with a personal gateway token: ``Authorization: Bearer gw_...``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed

from tokens.services import authenticate_token

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser
    from rest_framework.request import Request

    from tokens.models import GatewayToken

INVALID_TOKEN_MESSAGE = "Invalid or expired token."


class GatewayTokenAuthentication(BaseAuthentication):
    """Authenticate a request by its bearer gateway token.

    No CSRF check: unlike a session cookie, a browser never attaches the
    Authorization header on its own, so a cross-site request cannot carry it.
    """

    keyword = b"bearer"

    def authenticate(self, request: Request) -> tuple[AbstractBaseUser, GatewayToken] | None:
        parts = get_authorization_header(request).split()
        # No header, or another scheme: leave the request to the other authenticators.
        if not parts or parts[0].lower() != self.keyword:
            return None
        if len(parts) != 2:
            raise AuthenticationFailed(INVALID_TOKEN_MESSAGE)
        token = authenticate_token(_decode(parts[1]))
        if token is None:
            raise AuthenticationFailed(INVALID_TOKEN_MESSAGE)
        return token.user, token

    def authenticate_header(self, request: Request) -> str:
        # Returning a challenge makes DRF answer 401 (not 403) to anonymous calls.
        return 'Bearer realm="api"'


def _decode(credential: bytes) -> str:
    try:
        return credential.decode("ascii")
    except UnicodeDecodeError:
        raise AuthenticationFailed(INVALID_TOKEN_MESSAGE) from None
