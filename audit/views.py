"""The audit page: the trail of the objects the viewer can READ, newest first, filtered and paginated."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import render
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET

from audit import services
from audit.filters import AuditEventPageFilterSet

if TYPE_CHECKING:
    from collections.abc import Iterable

    from django.http import HttpRequest, HttpResponse

    from audit.models import AuditEvent

PAGE_SIZE = 25


@login_required
@require_GET
def event_list(request: HttpRequest) -> HttpResponse:
    """htmx filter changes swap only the results (the full page on a history restore); bad values are form errors."""
    filters = AuditEventPageFilterSet(request.GET, queryset=services.visible_events(request.user))
    events = filters.qs.order_by("-created_at", "-pk") if filters.is_valid() else filters.queryset.none()
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    _link(page.object_list, request.user)
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": filters.form,
        "page": page,
        "query": query.urlencode(),
        "filtered": any(value for name, value in request.GET.items() if name not in ("page", "tz")),
    }
    partial = request.htmx and not request.htmx.history_restore_request
    response = render(request, "audit/partials/results.html" if partial else "audit/list.html", context)
    patch_vary_headers(response, ["HX-Request"])
    return response


def _link(events: Iterable[AuditEvent], user: Any) -> None:
    """Give each event whose object still exists, and which ``user`` can READ, the URL of that object's page."""
    readable = services.readable_objects(user, events)
    for event in events:
        obj = readable.get((event.object_type, event.object_id))
        event.url = obj.get_absolute_url() if hasattr(obj, "get_absolute_url") else ""
