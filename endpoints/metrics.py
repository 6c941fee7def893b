"""Traffic figures for one endpoint over a recent window, from the request log."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from endpoints import aggregates
from endpoints.models import Endpoint, RequestLog

DEFAULT_WINDOW_SECONDS = 3600
MAX_WINDOW_SECONDS = 30 * 24 * 3600


def summarize(logs: QuerySet[RequestLog]) -> dict[str, Any]:
    """Request count, errors, latency percentiles, tokens and cost of a set of request logs (all in SQL)."""
    totals = logs.aggregate(**aggregates.totals())
    latency = aggregates.latency_percentiles(logs).get(None, {})
    requests, errors = totals["requests"] or 0, totals["errors"] or 0
    return {
        "request_count": requests,
        "error_count": errors,
        "error_rate": round(errors / requests, 4) if requests else 0.0,
        "failover_count": totals["failovers"] or 0,
        "latency_ms": {name: latency.get(name, 0.0) for name in aggregates.PERCENTILES},
        "prompt_tokens": totals["prompt_tokens"] or 0,
        "completion_tokens": totals["completion_tokens"] or 0,
        "cost_usd": float(totals["cost_usd"] or 0),
    }


def endpoint_metrics(endpoint: Endpoint, window_seconds: int = DEFAULT_WINDOW_SECONDS) -> dict[str, Any]:
    since = timezone.now() - timedelta(seconds=window_seconds)
    logs = RequestLog.objects.filter(endpoint=endpoint, created_at__gte=since)
    return {**summarize(logs), "window_seconds": window_seconds}
