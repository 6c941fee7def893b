"""POST-only actions on one endpoint: start, stop, delete, restore a revision.

Each calls the lifecycle or the services and answers with the status
fragment (htmx) or a redirect carrying a flash message.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from endpoints import bindings, lifecycle, services
from endpoints.views.common import endpoint_for, messages_oob, status_context
from gatewaylib.errors import Conflict
from sharing.levels import Level

if TYPE_CHECKING:
    from django.http import HttpRequest

    from endpoints.models import Endpoint
    from gatewaylib.ui import Access


def _done(request: HttpRequest, endpoint: Endpoint, access: Access) -> HttpResponse:
    """The status fragment (and flash messages out of band) for htmx; otherwise back to the page."""
    if not request.htmx:
        return redirect("endpoints:endpoint-detail", endpoint.public_id)
    endpoint.refresh_from_db()
    html = render_to_string("endpoints/partials/status.html", status_context(endpoint, access), request=request)
    return HttpResponse(html + messages_oob(request))


@login_required
@require_POST
def endpoint_start(request: HttpRequest, endpoint_id: str) -> HttpResponse:
    endpoint, access = endpoint_for(request, endpoint_id, Level.EDIT)
    try:
        lifecycle.start_endpoint(endpoint, actor=request.user)
    except ValidationError as exc:
        messages.error(request, "Cannot start: " + " ".join(exc.messages))
    else:
        messages.info(request, f"Starting “{endpoint.name}”…")
    return _done(request, endpoint, access)


@login_required
@require_POST
def endpoint_stop(request: HttpRequest, endpoint_id: str) -> HttpResponse:
    endpoint, access = endpoint_for(request, endpoint_id, Level.EDIT)
    lifecycle.stop_endpoint(endpoint, actor=request.user)
    messages.success(request, f"Stopped “{endpoint.name}”. Requests to it are refused until it is started again.")
    return _done(request, endpoint, access)


@login_required
@require_http_methods(["GET", "POST"])
def endpoint_delete(request: HttpRequest, endpoint_id: str) -> HttpResponse:
    """GET asks for confirmation (the page's dialog does the same without a round trip); POST deletes."""
    endpoint, _ = endpoint_for(request, endpoint_id, Level.MANAGE)
    context = {"endpoint": endpoint, "bindings": bindings.described(endpoint.bindings.all(), request.user)}
    if request.method == "GET":
        return render(request, "endpoints/delete.html", context)
    try:
        services.delete_endpoint(endpoint, actor=request.user, force=request.POST.get("force") == "1")
    except Conflict as exc:
        # Someone bound it since the page was drawn: show who, and offer to delete anyway.
        return render(request, "endpoints/delete.html", {**context, "conflict": exc.payload}, status=409)
    messages.success(request, f"Deleted endpoint “{endpoint.name}”.")
    return redirect("endpoints:endpoint-list")


@login_required
@require_POST
def revision_restore(request: HttpRequest, endpoint_id: str, number: str) -> HttpResponse:
    endpoint, _ = endpoint_for(request, endpoint_id, Level.EDIT)
    number = int(number)  # the URL pattern allows digits only
    try:
        revision = services.restore_revision(endpoint, number, actor=request.user)
    except ValidationError as exc:
        messages.error(request, f"Cannot restore revision {number}: " + " ".join(exc.messages))
    else:
        messages.success(request, f"Restored revision {number} as revision {revision.number}.")
    return redirect(reverse("endpoints:endpoint-detail", args=[endpoint.public_id]) + "#revisions")
