"""The dashboard: running endpoints, the last hour of traffic, and recent activity, for what the user can see."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q, QuerySet
from django.shortcuts import render
from django.utils import timezone

from audit.services import visible_events
from endpoints import aggregates
from endpoints.metrics import summarize
from endpoints.models import Endpoint, RequestLog, Status
from keys.models import Key
from sharing.levels import Level

if TYPE_CHECKING:
    from django.http import HttpRequest, HttpResponse

WINDOW = timedelta(hours=1)
BUCKET = timedelta(minutes=5)
BUCKETS = int(WINDOW / BUCKET)
RECENT_EVENTS = 10


def _bucket_starts(now: datetime) -> list[datetime]:
    """Twelve 5-minute buckets on clock boundaries, the last one holding ``now``."""
    current = now.replace(minute=now.minute - now.minute % 5, second=0, microsecond=0)
    return [current - BUCKET * offset for offset in range(BUCKETS - 1, -1, -1)]


def _series(logs: QuerySet[RequestLog], starts: list[datetime]) -> dict[str, list[Any]]:
    """Requests and errors per 5-minute bucket, grouped by the database."""
    index_of = {int(start.timestamp()): index for index, start in enumerate(starts)}
    requests, errors = [0] * len(starts), [0] * len(starts)
    for row in aggregates.per_bucket(logs.filter(created_at__gte=starts[0]), int(BUCKET.total_seconds())):
        index = index_of.get(row["bucket"])
        if index is not None:
            requests[index], errors[index] = row["requests"], row["errors"]
    return {"labels": [start.isoformat() for start in starts], "requests": requests, "errors": errors}


def traffic(endpoints: QuerySet[Endpoint], now: datetime | None = None) -> dict[str, Any]:
    """Last-hour totals over ``endpoints`` (p95 over all their requests) and the per-5-minute series."""
    now = now or timezone.now()
    logs = RequestLog.objects.filter(endpoint__in=endpoints)
    summary = summarize(logs.filter(created_at__gte=now - WINDOW))
    return {
        "requests": summary["request_count"],
        "errors": summary["error_count"],
        "error_rate": summary["error_rate"],
        "p95_ms": summary["latency_ms"]["p95"],
        "tokens": summary["prompt_tokens"] + summary["completion_tokens"],
        "cost": summary["cost_usd"],
        "series": _series(logs, _bucket_starts(now)),
    }


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """The home page."""
    visible = Endpoint.objects.visible_to(request.user, Level.READ)
    since = timezone.now() - WINDOW
    running = visible.running().annotate(
        recent_requests=Count("request_logs", filter=Q(request_logs__created_at__gte=since))
    )
    context = {
        "running": running,
        "failing": visible.filter(status=Status.ERROR),
        "endpoint_count": visible.count(),
        "traffic": traffic(visible),
        "events": visible_events(request.user, [Key, Endpoint])[:RECENT_EVENTS],
    }
    return render(request, "dashboard.html", context)
