"""Time series for the endpoint detail page's charts, bucketed from the request log.

The page shows two ranges: the last hour in 1-minute buckets and the last day
in 30-minute buckets. Buckets are aligned to the bucket size (10:31, 10:32...)
so a refresh ten seconds later moves the series instead of reshuffling it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from endpoints.metrics import percentile
from endpoints.models import Endpoint, RequestLog


@dataclass(frozen=True)
class Range:
    """A chart range: how far back, and how wide each bucket is."""

    key: str
    label: str
    span: timedelta
    bucket: timedelta


RANGES = (
    Range("hour", "Last hour", timedelta(hours=1), timedelta(minutes=1)),
    Range("day", "Last 24 hours", timedelta(days=1), timedelta(minutes=30)),
)


def _floor(moment: datetime, bucket: timedelta) -> datetime:
    seconds = int(bucket.total_seconds())
    return datetime.fromtimestamp(int(moment.timestamp()) // seconds * seconds, tz=moment.tzinfo)


def bucket_series(
    endpoint: Endpoint, *, span: timedelta, bucket: timedelta, now: datetime | None = None
) -> dict[str, list[Any]]:
    """Per-bucket requests, errors, latency p50/p95, tokens and cost, oldest bucket first.

    The last bucket is the (partial) current one; empty buckets are zeros so
    the x axis stays evenly spaced.
    """
    now = now or timezone.now()
    count = int(span / bucket)
    first = _floor(now, bucket) - bucket * (count - 1)
    starts = [first + bucket * index for index in range(count)]
    latencies: list[list[float]] = [[] for _ in starts]
    series: dict[str, list[Any]] = {
        name: [0] * count for name in ("requests", "errors", "prompt_tokens", "completion_tokens", "cost_usd")
    }
    rows = RequestLog.objects.filter(endpoint=endpoint, created_at__gte=first, created_at__lte=now).values_list(
        "created_at", "status_code", "latency_ms", "prompt_tokens", "completion_tokens", "cost_usd"
    )
    for created_at, status_code, latency_ms, prompt_tokens, completion_tokens, cost_usd in rows.iterator():
        index = int((created_at - first) / bucket)
        if not 0 <= index < count:
            continue
        series["requests"][index] += 1
        series["errors"][index] += status_code >= 400
        series["prompt_tokens"][index] += prompt_tokens
        series["completion_tokens"][index] += completion_tokens
        series["cost_usd"][index] += float(cost_usd)
        latencies[index].append(latency_ms)
    for values in latencies:
        values.sort()
    series["latency_p50"] = [percentile(values, 0.5) if values else None for values in latencies]
    series["latency_p95"] = [percentile(values, 0.95) if values else None for values in latencies]
    series["cost_usd"] = [round(value, 6) for value in series["cost_usd"]]
    series["labels"] = [start.isoformat() for start in starts]
    return series


def chart_data(endpoint: Endpoint, now: datetime | None = None) -> dict[str, Any]:
    """Every range the detail page can switch between, ready for ``json_script``."""
    now = now or timezone.now()
    return {
        item.key: {
            "label": item.label,
            "bucket_seconds": int(item.bucket.total_seconds()),
            **bucket_series(endpoint, span=item.span, bucket=item.bucket, now=now),
        }
        for item in RANGES
    }
