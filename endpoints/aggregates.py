"""Request-log aggregations, computed by the database.

Counts, sums and latency percentiles all run in SQL, grouped by time bucket
or by model, so a busy endpoint's page costs a few grouped rows instead of
every request row shipped to Python. The same expressions work on SQLite and
PostgreSQL.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from django.db.models import (
    Case,
    Count,
    ExpressionWrapper,
    F,
    FloatField,
    Func,
    IntegerField,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
    Window,
)
from django.db.models.functions import Floor, RowNumber

from endpoints.models import RequestLog

# The percentiles every latency figure reports.
PERCENTILES = {"p50": 0.5, "p95": 0.95, "p99": 0.99}


class EpochSeconds(Func):
    """Whole seconds since 1970 of a datetime column.

    Django has no portable ``Extract("epoch")`` (SQLite lacks it), and a time
    bucket of any width is simplest as integer seconds divided by its width.
    """

    output_field = IntegerField()

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list[Any]]:
        # Four percent signs: the template is %-formatted once here and the
        # backend turns the query's %s placeholders into ? once more.
        return self.as_sql(compiler, connection, template="CAST(strftime('%%%%s', %(expressions)s) AS INTEGER)")

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list[Any]]:
        return self.as_sql(compiler, connection, template="CAST(FLOOR(EXTRACT(EPOCH FROM %(expressions)s)) AS BIGINT)")


class JsonArrayLength(Func):
    """The length of a JSON array column (``failed_attempts``), by each database's own function."""

    output_field = IntegerField()

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list[Any]]:
        return self.as_sql(compiler, connection, function="json_array_length")

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list[Any]]:
        return self.as_sql(compiler, connection, function="jsonb_array_length")


def bucket(seconds: int) -> Func:
    """The start of the ``seconds``-wide time bucket a row's ``created_at`` falls in, as epoch seconds."""
    return Floor(EpochSeconds("created_at") / Value(seconds)) * Value(seconds)


def nearest_rank(fraction: float, count: int) -> int:
    """The 1-based rank of the nearest-rank percentile among ``count`` sorted values."""
    return min(count, max(1, math.ceil(round(fraction * count, 9))))


def latency_percentiles(
    logs: QuerySet[RequestLog], *, by: str | None = None, field: str = "latency_ms"
) -> dict[Any, dict[str, float]]:
    """Nearest-rank p50/p95/p99 of ``field`` per value of the annotation ``by`` (or overall, keyed None).

    The database sorts and ranks each group with window functions and
    returns only the rows at the wanted ranks: at most three per group.
    """
    partition = [F(by)] if by else None
    ranked = logs.exclude(**{f"{field}__isnull": True}).annotate(
        _rank=Window(RowNumber(), partition_by=partition, order_by=F(field).asc()),
        _count=Window(Count("pk"), partition_by=partition),
    )
    # A row is wanted when its rank is the nearest rank of some percentile:
    # ceil(f * n) == rank, i.e. f * n <= rank < f * n + 1. Django filters on
    # window functions only through AND-ed lookups, hence one flag column.
    wanted = Case(
        *(
            When(Q(_rank__gte=_scaled(fraction), _rank__lt=_scaled(fraction) + 1), then=Value(1))
            for fraction in PERCENTILES.values()
        ),
        default=Value(0),
        output_field=IntegerField(),
    )
    rows = ranked.annotate(_wanted=wanted).filter(_wanted=1).order_by()
    result: dict[Any, dict[str, float]] = {}
    columns = ["_rank", "_count", field, *([by] if by else [])]
    for rank, count, value, *group in rows.values_list(*columns):
        figures = result.setdefault(group[0] if group else None, {})
        for name, fraction in PERCENTILES.items():
            if nearest_rank(fraction, count) == rank:
                figures[name] = round(value, 2)
    return result


def _scaled(fraction: float) -> ExpressionWrapper:
    return ExpressionWrapper(F("_count") * Value(fraction), output_field=FloatField())


def totals() -> dict[str, Any]:
    """The aggregates every summary and chart shows, as keyword arguments for ``aggregate``/``annotate``."""
    return {
        "requests": Count("pk"),
        "errors": Count("pk", filter=Q(status_code__gte=400)),
        # Served, but not by the first deployment tried.
        "failovers": Count("pk", filter=Q(status_code__lt=400, attempts__gt=1)),
        # Each failed attempt cools its deployment down (``allowed_fails`` is 0).
        "failed_attempts": Sum(JsonArrayLength("failed_attempts")),
        "prompt_tokens": Sum("prompt_tokens"),
        "completion_tokens": Sum("completion_tokens"),
        "cost_usd": Sum("cost_usd"),
    }


def per_bucket(logs: QuerySet[RequestLog], seconds: int) -> Iterable[dict[str, Any]]:
    """One row per non-empty bucket: its start (epoch seconds) and the totals."""
    return logs.annotate(bucket=bucket(seconds)).order_by().values("bucket").annotate(**totals())
