"""Read-only endpoint pages: the list, the detail page and the fragments it polls."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import render
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET

from audit.models import AuditEvent
from endpoints import bindings, request_log
from endpoints.charts import chart_data
from endpoints.forms import EndpointFilterForm
from endpoints.metrics import endpoint_metrics
from endpoints.models import Endpoint, RequestLog
from endpoints.views.common import FINAL_STATUSES, HTMX_STOP_POLLING, endpoint_for, status_context
from endpoints.views.snippets import usage_snippets
from gatewaylib.endpoint_types import TYPES
from sharing.levels import Level

if TYPE_CHECKING:
    from django.http import HttpRequest, HttpResponse

PAGE_SIZE = 20
RECENT_REQUESTS = 20
HISTORY_LENGTH = 20


@login_required
@require_GET
def endpoint_list(request: HttpRequest) -> HttpResponse:
    """Every endpoint the user can READ; htmx searches swap only the table (full page on history restore)."""
    filters = EndpointFilterForm(request.GET)
    endpoints = filters.filter(Endpoint.objects.visible_to(request.user, Level.READ)).prefetch_related("models")
    page = Paginator(endpoints.order_by("name"), PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {"filters": filters, "page": page, "query": query.urlencode(), "filtered": _is_filtered(filters)}
    partial = request.htmx and not request.htmx.history_restore_request
    response = render(request, "endpoints/partials/list_table.html" if partial else "endpoints/list.html", context)
    patch_vary_headers(response, ["HX-Request"])
    return response


def _is_filtered(filters: EndpointFilterForm) -> bool:
    return filters.is_valid() and any(filters.cleaned_data.values())


@login_required
@require_GET
def endpoint_detail(request: HttpRequest, endpoint_id: str) -> HttpResponse:
    endpoint, access = endpoint_for(request, endpoint_id, Level.READ)
    models = list(endpoint.models.select_related("key"))
    context = {
        **status_context(endpoint, access),
        **_activity_context(endpoint, access.level, request.user),
        "models": models,
        "revisions": endpoint.revisions.select_related("created_by")[:HISTORY_LENGTH],
        "events": AuditEvent.objects.filter(object_type="endpoint", object_id=endpoint.pk)[:HISTORY_LENGTH],
        "bindings": bindings.described(endpoint.bindings.all(), request.user),
        "invocation_url": request.build_absolute_uri(endpoint.invocation_path),
        "snippets": usage_snippets(endpoint, request, models),
        "proxy_path": TYPES[endpoint.endpoint_type].routes[0].path,  # where the playground sends its call
    }
    return render(request, "endpoints/detail.html", context)


@login_required
@require_GET
def status_fragment(request: HttpRequest, endpoint_id: str) -> HttpResponse:
    """The status badge and buttons; polled while starting, answering 286 once the state is final."""
    endpoint, access = endpoint_for(request, endpoint_id, Level.READ)
    response = render(request, "endpoints/partials/status.html", status_context(endpoint, access))
    if endpoint.status in FINAL_STATUSES:
        response.status_code = HTMX_STOP_POLLING
    return response


@login_required
@require_GET
def activity_fragment(request: HttpRequest, endpoint_id: str) -> HttpResponse:
    """Summary figures, chart data and recent requests; the detail page refreshes it every few seconds."""
    endpoint, access = endpoint_for(request, endpoint_id, Level.READ)
    context = {"endpoint": endpoint, "access": access, **_activity_context(endpoint, access.level, request.user)}
    return render(request, "endpoints/partials/activity.html", context)


def _activity_context(endpoint: Endpoint, level: Level, viewer: Any) -> dict[str, Any]:
    day_ago = timezone.now() - timedelta(days=1)
    return {
        "metrics": {"hour": endpoint_metrics(endpoint, 3600), "day": endpoint_metrics(endpoint, 24 * 3600)},
        "chart_data": chart_data(endpoint),
        # Why each failed, for the editors and the caller's own requests (see endpoints.request_log).
        "recent_requests": request_log.with_details(
            RequestLog.objects.filter(endpoint=endpoint)[:RECENT_REQUESTS], viewer, level
        ),
        "routing": request_log.model_traffic(endpoint, day_ago),
        # Who calls is for the endpoint's editors (see endpoints.request_log).
        "callers": request_log.usage_by_caller(endpoint, day_ago) if request_log.can_see_callers(level) else None,
    }
