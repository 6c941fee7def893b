"""Helpers shared by the endpoint pages."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.template.loader import render_to_string

from endpoints.models import Endpoint, Status
from gatewaylib.ui import Access, object_for

if TYPE_CHECKING:
    from django.http import HttpRequest

    from sharing.levels import Level

FINAL_STATUSES = {Status.RUNNING, Status.STOPPED, Status.ERROR}
# htmx stops polling an element whose request answers 286.
HTMX_STOP_POLLING = 286


def endpoint_for(request: HttpRequest, endpoint_id: str, level: Level) -> tuple[Endpoint, Access]:
    """The endpoint and the caller's Access on it: 404 below READ, 403 below ``level`` (``sharing``'s rule).

    Pages keep the Access to decide which buttons to show (``access.can_edit``)
    and pass ``access.level`` on to what needs the level itself.
    """
    return object_for(request, Endpoint.objects.all(), level, pk=endpoint_id)


def status_context(endpoint: Endpoint, access: Access) -> dict[str, Any]:
    return {"endpoint": endpoint, "polling": endpoint.status == Status.STARTING, "access": access}


def messages_oob(request: HttpRequest) -> str:
    """The flash messages as an out-of-band swap, for htmx answers that are not a whole page."""
    return render_to_string("partials/messages_oob.html", request=request)
