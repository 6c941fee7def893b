"""The sharing panel: one htmx fragment that lists, adds, changes and removes grants on a key or an endpoint.

Contract for pages that embed it (the key detail page, the endpoint detail page)::

    <div id="sharing-panel" hx-get="/share/endpoint/<hex>/" hx-trigger="load">Loading…</div>

- ``GET /share/<kind>/<hex>/`` (kind is ``key``, ``endpoint`` or ``scorer``) answers the
  fragment ``sharing/partials/panel.html``: the grants with a level <select>
  and a remove button per row and an add form, for a caller holding MANAGE;
  a one-line "You have EDIT access" for a caller below MANAGE; 404 for a
  caller who cannot READ the object (or an unknown kind or id).
- ``POST /share/<kind>/<hex>/grant`` (``principal=user:<name>|group:<name>``,
  ``level=READ|USE|EDIT|MANAGE``) adds a grant or replaces the principal's level.
- ``POST /share/<kind>/<hex>/revoke`` (``principal=...``) removes it.

Both writes need MANAGE (403 below it, 404 below READ) and answer the
re-rendered fragment: 200 with a flash message swapped out of band into
``#messages``, or 422 with the error (unknown user, last manager) inline.
The fragment's own forms target ``closest .share-panel`` with
``outerHTML``, so it never depends on the embedding element's id. Without
htmx the same URLs answer a full page, so the panel also works without JS.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import Group
from django.http import Http404
from django.views.decorators.http import require_GET, require_POST

from gatewaylib.ui import UNPROCESSABLE, Access, access_for, object_for, render_htmx
from sharing import services
from sharing.forms import GrantForm, PrincipalForm, RevokeForm, level_options, principal_choices, principal_value
from sharing.levels import Level

if TYPE_CHECKING:
    from django.db.models import Model
    from django.http import HttpRequest, HttpResponse


def _shared_object(request: HttpRequest, kind: str, obj_id: str, level: Level) -> tuple[Model, Access]:
    model = services.shareable_model(kind)
    if model is None:
        raise Http404("Nothing of that kind can be shared.")
    return object_for(request, model.objects.all(), level, pk=obj_id)


def _render_panel(
    request: HttpRequest,
    kind: str,
    obj: Model,
    access: Access,
    failed: PrincipalForm | None = None,
    status: int = 200,
) -> HttpResponse:
    grants = services.list_grants(obj) if access.can_manage else []
    context: dict[str, Any] = {
        "kind": kind,
        "obj": obj,
        "access": access,
        "grants": [{"grant": grant, "value": principal_value(grant)} for grant in grants],
        "principal_choices": principal_choices(grants, request.user) if access.can_manage else [],
        "levels": level_options(),
        "errors": [error for errors in failed.errors.values() for error in errors] if failed else [],
    }
    return render_htmx(request, "sharing/page.html", "sharing/partials/panel.html", context, status)


@login_required
@require_GET
def panel(request: HttpRequest, kind: str, obj_id: str) -> HttpResponse:
    """The panel; READ is enough to see it, MANAGE to see the grants and change them."""
    obj, access = _shared_object(request, kind, obj_id, Level.READ)
    return _render_panel(request, kind, obj, access)


@login_required
@require_POST
def grant(request: HttpRequest, kind: str, obj_id: str) -> HttpResponse:
    """Add a grant or change a principal's level."""
    obj, access = _shared_object(request, kind, obj_id, Level.MANAGE)
    form = GrantForm(request.POST)
    if form.is_valid() and (done := form.try_save(obj, actor=request.user)):
        messages.success(request, f"Access updated: {_principal_label(done)} now has {done.level.name} on {obj}.")
        # The change may have been to the caller's own grant: the panel shows their level after it.
        return _render_panel(request, kind, obj, access_for(request.user, obj))
    return _render_panel(request, kind, obj, access, failed=form, status=UNPROCESSABLE)


@login_required
@require_POST
def revoke(request: HttpRequest, kind: str, obj_id: str) -> HttpResponse:
    """Remove every level a principal holds on the object."""
    obj, access = _shared_object(request, kind, obj_id, Level.MANAGE)
    form = RevokeForm(request.POST)
    if form.is_valid():
        if form.try_save(obj, actor=request.user):
            messages.success(request, f"Removed {_principal_label(form.cleaned_data['principal'])}'s access to {obj}.")
            return _render_panel(request, kind, obj, access_for(request.user, obj))
        if not form.errors:
            form.add_error(None, "They had no access to remove.")
    return _render_panel(request, kind, obj, access, failed=form, status=UNPROCESSABLE)


def _principal_label(principal: services.Grant | Any) -> str:
    """``bob`` or ``team platform`` for a Grant, a user or a group (groups are teams)."""
    if isinstance(principal, services.Grant):
        return principal.user if principal.user is not None else f"team {principal.group}"
    if isinstance(principal, Group):
        return f"team {principal.name}"
    return principal.get_username()
