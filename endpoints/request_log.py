"""The request log as people read it: filters, who may see what, callers, routing figures, retention.

The page, the API and the cleanup task all go through these functions.

Who sees what: anyone who can READ an endpoint sees its traffic (status,
model served, attempts, latency, tokens, cost). Why a request failed (the
provider's message per failed attempt) and who called belong to the
endpoint's editors, and to the caller for their own requests.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import django_filters
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from endpoints import aggregates
from endpoints.models import Endpoint, RequestLog
from sharing.levels import Level
from tokens.models import GatewayToken

PURGE_BATCH = 5000

STATUS_CHOICES = [
    ("ok", "Succeeded (2xx)"),
    ("error", "Failed (4xx and 5xx)"),
    ("4xx", "Refused (4xx)"),
    ("429", "Rate limited (429)"),
    ("5xx", "Provider or gateway error (5xx)"),
    ("failover", "Served after a failover"),
]

_STATUS_FILTERS = {
    "ok": Q(status_code__lt=400),
    "error": Q(status_code__gte=400),
    "4xx": Q(status_code__gte=400, status_code__lt=500),
    "429": Q(status_code=429),
    "5xx": Q(status_code__gte=500),
    "failover": Q(status_code__lt=400, attempts__gt=1),
}


def can_see_callers(level: Level) -> bool:
    return level >= Level.EDIT


def can_see_details(log: RequestLog, viewer: Any, level: Level) -> bool:
    """The provider's messages and the caller: for the endpoint's editors, and for the caller's own requests."""
    return level >= Level.EDIT or (log.user_id is not None and log.user_id == viewer.pk)


def with_details(logs: Iterable[RequestLog], viewer: Any, level: Level) -> list[dict[str, Any]]:
    """Each log with whether the viewer may read why it failed (``can_see_details``), for a list of requests."""
    return [{"log": log, "details": can_see_details(log, viewer, level)} for log in logs]


class RequestLogFilter(django_filters.FilterSet):
    """Filters for one endpoint's request log; the page's form and the API's query parameters."""

    status = django_filters.ChoiceFilter(
        choices=STATUS_CHOICES, method="filter_status", label="Status", empty_label="Any status"
    )
    model = django_filters.ChoiceFilter(field_name="model_served", label="Model served", empty_label="Any model")
    caller = django_filters.CharFilter(method="filter_caller", label="Caller (username)", max_length=150)
    request_id = django_filters.UUIDFilter(field_name="request_id", label="Request id")
    stream = django_filters.BooleanFilter(field_name="stream", label="Streamed")
    since = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte", label="Since")
    until = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt", label="Until")

    class Meta:
        model = RequestLog
        fields = ["status", "model", "caller", "request_id", "stream", "since", "until"]

    def __init__(self, *args: Any, endpoint: Endpoint, level: Level, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.filters["model"].extra["choices"] = [(label, label) for label in served_models(endpoint)]
        if not can_see_callers(level):
            # Naming another caller would tell who uses the endpoint.
            del self.filters["caller"]

    def filter_status(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(_STATUS_FILTERS[value])

    def filter_caller(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        user_ids = get_user_model().objects.filter(username__iexact=value).values("pk")
        return queryset.filter(user_id__in=user_ids)


def served_models(endpoint: Endpoint) -> list[str]:
    """Every model label that served (or failed) a request of ``endpoint``, plus its configured models."""
    configured = {f"{model.provider}/{model.model_name}" for model in endpoint.models.all()}
    logged = RequestLog.objects.filter(endpoint=endpoint).exclude(model_served="")
    return sorted(configured | set(logged.order_by().values_list("model_served", flat=True).distinct()))


def requests_of(endpoint: Endpoint) -> QuerySet[RequestLog]:
    return RequestLog.objects.filter(endpoint=endpoint).order_by("-created_at", "-pk")


@dataclass(frozen=True)
class Caller:
    """Who made a request, as the viewer may see it."""

    username: str
    token_name: str

    @property
    def label(self) -> str:
        return f"{self.username} · {self.token_name}" if self.token_name else self.username


HIDDEN_CALLER = Caller("another user", "")


def callers(logs: list[RequestLog], viewer: Any, level: Level) -> dict[int, Caller]:
    """The caller of each log (by log pk) the viewer may see: two queries for a whole page."""
    user_ids = {log.user_id for log in logs if log.user_id}
    users = dict(get_user_model().objects.filter(pk__in=user_ids).values_list("pk", "username"))
    tokens = dict(
        GatewayToken.objects.filter(pk__in={log.token_id for log in logs if log.token_id}).values_list("pk", "name")
    )
    shown = {}
    for log in logs:
        if log.user_id is None:
            continue
        if can_see_details(log, viewer, level):
            username = users.get(log.user_id, "deleted user")
            shown[log.pk] = Caller(username, tokens.get(log.token_id, "") if log.token_id else "")
        else:
            shown[log.pk] = HIDDEN_CALLER
    return shown


# -- routing and usage ---------------------------------------------------------------------------


def model_traffic(endpoint: Endpoint, since: datetime) -> list[dict[str, Any]]:
    """Each configured model's share of the traffic it was configured for and of what it actually served.

    Configured share is the weight among the models of its priority
    (fallbacks only serve when the models before them fail); actual share is
    the requests it served successfully over every request served.
    """
    models = list(endpoint.models.order_by("priority", "-weight"))
    weight_of_priority: dict[int, float] = {}
    for model in models:
        weight_of_priority[model.priority] = weight_of_priority.get(model.priority, 0) + model.weight
    served = dict(
        RequestLog.objects.filter(endpoint=endpoint, created_at__gte=since, status_code__lt=400)
        .order_by()
        .values("endpoint_model_id")
        .annotate(count=Count("pk"))
        .values_list("endpoint_model_id", "count")
    )
    total = sum(served.values())
    return [
        {
            "model": model,
            "label": f"{model.provider}/{model.model_name}",
            "configured_share": model.weight / weight_of_priority[model.priority]
            if weight_of_priority[model.priority]
            else 0.0,
            "served": served.get(model.pk, 0),
            "served_share": served.get(model.pk, 0) / total if total else 0.0,
        }
        for model in models
    ]


def traffic_per_model(endpoint: Endpoint, first: datetime, seconds: int) -> dict[str, dict[int, int]]:
    """Requests served per model label per bucket (epoch seconds), grouped by the database."""
    rows = (
        RequestLog.objects.filter(endpoint=endpoint, created_at__gte=first, status_code__lt=400)
        .annotate(bucket=aggregates.bucket(seconds))
        .order_by()
        .values("model_served", "bucket")
        .annotate(count=Count("pk"))
    )
    series: dict[str, dict[int, int]] = {}
    for row in rows:
        series.setdefault(row["model_served"] or "unknown", {})[row["bucket"]] = row["count"]
    return series


def usage_by_caller(endpoint: Endpoint, since: datetime, limit: int = 20) -> list[dict[str, Any]]:
    """Requests, errors, tokens and cost per (caller, token) since ``since``, the busiest first."""
    rows = list(
        RequestLog.objects.filter(endpoint=endpoint, created_at__gte=since, user_id__isnull=False)
        .order_by()
        .values("user_id", "token_id")
        .annotate(
            requests=Count("pk"),
            errors=Count("pk", filter=Q(status_code__gte=400)),
            prompt_tokens=Sum("prompt_tokens"),
            completion_tokens=Sum("completion_tokens"),
            cost_usd=Sum("cost_usd"),
        )
        .order_by("-requests", "user_id")[:limit]
    )
    users = dict(get_user_model().objects.filter(pk__in={row["user_id"] for row in rows}).values_list("pk", "username"))
    tokens = dict(
        GatewayToken.objects.filter(pk__in={row["token_id"] for row in rows if row["token_id"]}).values_list(
            "pk", "name"
        )
    )
    for row in rows:
        row["username"] = users.get(row["user_id"], "deleted user")
        row["token_name"] = tokens.get(row["token_id"], "") if row["token_id"] else ""
        row["tokens"] = (row["prompt_tokens"] or 0) + (row["completion_tokens"] or 0)
        row["cost_usd"] = float(row["cost_usd"] or 0)
    return rows


# -- retention -----------------------------------------------------------------------------------


def retention() -> timedelta | None:
    """How long request logs are kept (``GATEWAY_REQUEST_LOG_RETENTION_DAYS``; 0 keeps them forever)."""
    days = settings.GATEWAY_REQUEST_LOG_RETENTION_DAYS
    return timedelta(days=days) if days else None


def purge_expired(now: datetime | None = None, batch: int = PURGE_BATCH) -> int:
    """Delete request logs older than the retention period, a batch per transaction; the number deleted.

    In batches so a first purge of a large table neither holds one huge
    transaction nor locks out the usage writer for long.
    """
    kept = retention()
    if kept is None:
        return 0
    cutoff = (now or timezone.now()) - kept
    deleted = 0
    while True:
        with transaction.atomic():
            ids = list(RequestLog.objects.filter(created_at__lt=cutoff).order_by().values_list("pk", flat=True)[:batch])
            if not ids:
                return deleted
            deleted += RequestLog.objects.filter(pk__in=ids).delete()[0]
