"""Traffic figures for one endpoint over a recent window, from the request log."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from endpoints.models import Endpoint, RequestLog

DEFAULT_WINDOW_SECONDS = 3600
MAX_WINDOW_SECONDS = 30 * 24 * 3600


def percentile(sorted_values: list[float], fraction: float) -> float:
    """Nearest-rank percentile of an already sorted list (0 for an empty one)."""
    if not sorted_values:
        return 0.0
    rank = max(0, min(len(sorted_values) - 1, round(fraction * len(sorted_values) + 0.5) - 1))
    return round(sorted_values[rank], 2)


def summarize(logs: QuerySet[RequestLog]) -> dict[str, Any]:
    """Request count, errors, latency percentiles, tokens and cost of a set of request logs."""
    totals = logs.aggregate(
        request_count=Count("id"),
        error_count=Count("id", filter=Q(status_code__gte=400)),
        prompt_tokens=Sum("prompt_tokens"),
        completion_tokens=Sum("completion_tokens"),
        cost_usd=Sum("cost_usd"),
    )
    latencies = sorted(logs.values_list("latency_ms", flat=True))
    requests, errors = totals["request_count"] or 0, totals["error_count"] or 0
    return {
        "request_count": requests,
        "error_count": errors,
        "error_rate": round(errors / requests, 4) if requests else 0.0,
        "latency_ms": {
            "p50": percentile(latencies, 0.5),
            "p95": percentile(latencies, 0.95),
            "p99": percentile(latencies, 0.99),
        },
        "prompt_tokens": totals["prompt_tokens"] or 0,
        "completion_tokens": totals["completion_tokens"] or 0,
        "cost_usd": float(totals["cost_usd"] or 0),
    }


def endpoint_metrics(endpoint: Endpoint, window_seconds: int = DEFAULT_WINDOW_SECONDS) -> dict[str, Any]:
    since = timezone.now() - timedelta(seconds=window_seconds)
    logs = RequestLog.objects.filter(endpoint=endpoint, created_at__gte=since)
    return {**summarize(logs), "window_seconds": window_seconds}
