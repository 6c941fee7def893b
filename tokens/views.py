"""Token pages: list and create your own gateway tokens, revoke them.

The plaintext of a new token exists only in the response to the create
request: it is never stored in the session, the URL or the database, and
that response is marked uncacheable.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from gatewaylib.ui import UNPROCESSABLE, render_htmx
from tokens import services
from tokens.forms import TokenForm
from tokens.models import GatewayToken

if TYPE_CHECKING:
    from django.http import HttpRequest, HttpResponse


def _render(request: HttpRequest, form: TokenForm, created: dict[str, Any] | None = None, status: int = 200):
    context = {"form": form, "tokens": GatewayToken.objects.for_user(request.user), "created": created}
    return render_htmx(request, "tokens/list.html", "tokens/partials/panel.html", context, status)


@never_cache
@login_required
def token_list(request: HttpRequest) -> HttpResponse:
    """Your tokens; a POST creates one and shows its plaintext in this response only."""
    form = TokenForm(request.POST or None)
    if request.method != "POST":
        return _render(request, form)
    if not form.is_valid():
        return _render(request, form, status=UNPROCESSABLE)
    token, plaintext = services.create_token(
        request.user, form.cleaned_data["name"], expires_at=form.cleaned_data["expires_on"]
    )
    return _render(request, TokenForm(), created={"token": token, "plaintext": plaintext})


@login_required
@require_POST
def token_revoke(request: HttpRequest, token_id: str) -> HttpResponse:
    """Revoke one of your own tokens; anyone else's does not exist here (404)."""
    token = get_object_or_404(GatewayToken.objects.for_user(request.user), pk=token_id)
    services.revoke_token(token)
    messages.success(request, f"Token “{token.name}” revoked. Clients using it are refused from now on.")
    return redirect("tokens:token-list")
