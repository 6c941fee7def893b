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

from endpoints import aggregates, request_log
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


SUMMED = ("requests", "errors", "failovers", "failed_attempts", "prompt_tokens", "completion_tokens")


def bucket_series(
    endpoint: Endpoint, *, span: timedelta, bucket: timedelta, now: datetime | None = None
) -> dict[str, list[Any]]:
    """Per-bucket requests, errors, failovers, failed attempts, latency p50/p95, tokens and cost, oldest first.

    The database groups the rows by bucket (see ``endpoints.aggregates``);
    the last bucket is the (partial) current one, and empty buckets are
    zeros so the x axis stays evenly spaced.
    """
    now = now or timezone.now()
    count = int(span / bucket)
    seconds = int(bucket.total_seconds())
    first = _floor(now, bucket) - bucket * (count - 1)
    starts = [first + bucket * index for index in range(count)]
    index_of = {int(start.timestamp()): index for index, start in enumerate(starts)}
    logs = RequestLog.objects.filter(endpoint=endpoint, created_at__gte=first, created_at__lte=now)
    series: dict[str, list[Any]] = {name: [0] * count for name in (*SUMMED, "cost_usd")}
    series["latency_p50"] = [None] * count
    series["latency_p95"] = [None] * count
    for row in aggregates.per_bucket(logs, seconds):
        index = index_of.get(row["bucket"])
        if index is None:
            continue
        for name in SUMMED:
            series[name][index] = row[name] or 0
        series["cost_usd"][index] = round(float(row["cost_usd"] or 0), 6)
    buckets = logs.annotate(bucket=aggregates.bucket(seconds))
    for start, figures in aggregates.latency_percentiles(buckets, by="bucket").items():
        index = index_of.get(start)
        if index is not None:
            series["latency_p50"][index] = figures["p50"]
            series["latency_p95"][index] = figures["p95"]
    series["per_model"] = {
        label: [counts.get(int(start.timestamp()), 0) for start in starts]
        for label, counts in sorted(request_log.traffic_per_model(endpoint, first, seconds).items())
    }
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
