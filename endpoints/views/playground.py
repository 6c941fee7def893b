"""The endpoint page's playground: the browser calls the proxy as its user, with a short-lived token.

The page never talks to a provider or to the proxy's internals: it asks this
view for a token of the signed-in user's own (USE on the endpoint needed,
CSRF-checked), keeps it in memory, and calls ``/v1/...`` like any client, so
a playground request is authenticated, limited, routed and logged exactly as
an application's would be.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_POST

from endpoints.views.common import endpoint_for
from sharing.levels import Level
from tokens import services as tokens

if TYPE_CHECKING:
    from django.http import HttpRequest


@login_required
@require_POST
def playground_token(request: HttpRequest, endpoint_id: str) -> JsonResponse:
    """A new playground token for the caller (USE on this endpoint): the plaintext, once, never cached."""
    endpoint_for(request, endpoint_id, Level.USE)
    token, plaintext = tokens.create_playground_token(request.user)
    response = JsonResponse({"token": plaintext, "name": token.name, "expires_at": token.expires_at.isoformat()})
    add_never_cache_headers(response)
    return response
