"""Helpers shared by the endpoint pages."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.template.loader import render_to_string
from rest_framework.exceptions import ValidationError

from endpoints.models import Endpoint, Status
from sharing import services as sharing
from sharing.levels import Level

if TYPE_CHECKING:
    from django.http import HttpRequest

FINAL_STATUSES = {Status.RUNNING, Status.STOPPED, Status.ERROR}
# htmx stops polling an element whose request answers 286.
HTMX_STOP_POLLING = 286


def endpoint_for(request: HttpRequest, endpoint_id: str, level: Level) -> tuple[Endpoint, Level]:
    """The endpoint and the level the user holds: 404 below READ, 403 below ``level``.

    Same rule as ``sharing.get_object_for_user``, but it keeps the held level
    so a page decides which buttons to show without asking again.
    """
    try:
        endpoint = Endpoint.objects.get(pk=uuid.UUID(hex=endpoint_id))
    except (Endpoint.DoesNotExist, ValueError):
        raise Http404("No endpoint matches the given query.") from None
    return endpoint, sharing.check_level(request.user, endpoint, level)


def permissions(level: Level) -> dict[str, bool]:
    """What the templates may offer for a held level."""
    return {"can_use": level >= Level.USE, "can_edit": level >= Level.EDIT, "can_manage": level >= Level.MANAGE}


def status_context(endpoint: Endpoint, level: Level) -> dict[str, Any]:
    return {"endpoint": endpoint, "polling": endpoint.status == Status.STARTING, **permissions(level)}


def messages_oob(request: HttpRequest) -> str:
    """The flash messages as an out-of-band swap, for htmx answers that are not a whole page."""
    return render_to_string("partials/messages_oob.html", request=request)


def error_messages(exc: ValidationError | DjangoValidationError) -> list[str]:
    """A service error flattened into sentences, for a flash message."""
    if isinstance(exc, DjangoValidationError):
        return list(exc.messages)
    return list(_flatten(exc.detail))


def _flatten(detail: Any):
    if isinstance(detail, dict):
        for value in detail.values():
            yield from _flatten(value)
    elif isinstance(detail, list):
        for value in detail:
            yield from _flatten(value)
    else:
        yield str(detail)
