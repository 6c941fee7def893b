"""The request log pages: one endpoint's requests, filtered, and one request in full."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, render
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET

from endpoints import request_log
from endpoints.views.common import endpoint_for
from sharing.levels import Level

if TYPE_CHECKING:
    from django.http import HttpRequest, HttpResponse

PAGE_SIZE = 50


@login_required
@require_GET
def request_list(request: HttpRequest, endpoint_id: str) -> HttpResponse:
    """Every request of the endpoint, newest first; htmx filter changes swap only the table."""
    endpoint, access = endpoint_for(request, endpoint_id, Level.READ)
    filters = request_log.RequestLogFilter(
        request.GET, queryset=request_log.requests_of(endpoint), endpoint=endpoint, level=access.level
    )
    logs = filters.qs if filters.is_valid() else request_log.requests_of(endpoint).none()
    page = Paginator(logs, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "endpoint": endpoint,
        "access": access,
        "filters": filters,
        "page": page,
        "rows": _rows(list(page), request, access.level),
        "query": query.urlencode(),
        "filtered": any(value for name, value in request.GET.items() if name != "page"),
        "can_see_callers": request_log.can_see_callers(access.level),
    }
    partial = request.htmx and not request.htmx.history_restore_request
    template = "endpoints/partials/request_table.html" if partial else "endpoints/requests.html"
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


@login_required
@require_GET
def request_detail(request: HttpRequest, endpoint_id: str, log_id: str) -> HttpResponse:
    endpoint, access = endpoint_for(request, endpoint_id, Level.READ)
    log = get_object_or_404(request_log.requests_of(endpoint), pk=log_id)
    (row,) = _rows([log], request, access.level)
    return render(request, "endpoints/request_detail.html", {"endpoint": endpoint, "access": access, **row})


def _rows(logs: list, request: HttpRequest, level: Level) -> list[dict]:
    callers = request_log.callers(logs, request.user, level)
    return [
        {
            "log": log,
            "caller": callers.get(log.pk),
            "own": log.user_id is not None and log.user_id == request.user.pk,
            "details": request_log.can_see_details(log, request.user, level),
        }
        for log in logs
    ]
