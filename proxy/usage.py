"""Request logs and Prometheus metrics, written off the request path.

The proxy hands each finished request to ``recorder.record()``, which only
updates in-memory Prometheus counters and appends to a queue. A daemon thread
writes the queue in batches (``bulk_create``) and keeps rows it could not
write (the database briefly away) for the next round, so a slow or missing
database never delays a response and usage is not lost.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import logging
import operator
import queue
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from prometheus_client import Counter, Histogram

from gatewaylib.db import run_in_background, with_kept_connection
from gatewaylib.outage import Outage

logger = logging.getLogger(__name__)

# LiteLLM proxy's metric and label names where the meaning is the same, so
# dashboards built for it work here: requested_model is the endpoint the
# client named, model the deployment's model, api_provider its provider.
# With several worker processes these are aggregated across all of them
# (prometheus-client's multiprocess mode; see ``manage.py serve --workers``).
_LABELS = ["requested_model", "model", "api_provider"]
REQUESTS = Counter(
    "litellm_proxy_total_requests_metric", "Proxied requests, by final status", [*_LABELS, "status_code"]
)
FAILURES = Counter(
    "litellm_proxy_failed_requests_metric",
    "Proxied requests that failed",
    [*_LABELS, "exception_status", "exception_class"],
)
LATENCY = Histogram(
    "litellm_request_total_latency_metric",
    "Seconds from the request to the end of its response",
    _LABELS,
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
TIME_TO_FIRST_TOKEN = Histogram(
    "litellm_llm_api_time_to_first_token_metric",
    "Seconds from a streamed request to its first token",
    _LABELS,
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
INPUT_TOKENS = Counter("litellm_input_tokens_metric", "Prompt tokens", _LABELS)
OUTPUT_TOKENS = Counter("litellm_output_tokens_metric", "Completion tokens", _LABELS)
TOTAL_TOKENS = Counter("litellm_total_tokens_metric", "Prompt and completion tokens", _LABELS)
SPEND = Counter("litellm_spend_metric", "Estimated provider cost in USD", _LABELS)


@dataclass(frozen=True, slots=True)
class _Series:
    """One endpoint and model's metric children, looked up once rather than on every request."""

    labels: tuple[str, str, str]
    latency: Any
    time_to_first_token: Any
    input_tokens: Any
    output_tokens: Any
    total_tokens: Any
    spend: Any


_SERIES: dict[tuple[str, str], _Series] = {}


def _series(endpoint_name: str, model_served: str) -> _Series:
    if (found := _SERIES.get((endpoint_name, model_served))) is not None:
        return found
    provider, _, model = model_served.partition("/")
    labels = (endpoint_name, model or "none", provider or "none")
    if len(_SERIES) > 10_000:  # renamed and deleted endpoints; the children themselves stay exported
        _SERIES.clear()
    metrics = (LATENCY, TIME_TO_FIRST_TOKEN, INPUT_TOKENS, OUTPUT_TOKENS, TOTAL_TOKENS, SPEND)
    found = _SERIES[endpoint_name, model_served] = _Series(labels, *(metric.labels(*labels) for metric in metrics))
    return found


FLUSH_SECONDS = 0.5
BATCH_SIZE = 500
MAX_BACKLOG = 100_000
# The writer runs at the lowest priority, so its work never delays requests
# on the event loop's core; under sustained saturation that priority would
# starve it, so a queue this long is written by a thread at normal priority.
RESCUE_AT = 5_000


@dataclass
class Usage:
    endpoint_id: uuid.UUID
    endpoint_name: str
    status_code: int
    latency_ms: float
    request_id: uuid.UUID | None = None
    endpoint_model_id: str | None = None
    model_served: str = ""
    user_id: int | None = None
    token_id: uuid.UUID | None = None
    ttft_ms: float | None = None
    attempts: int = 1
    stream: bool = False
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    error_type: str = ""
    error_message: str = ""
    failed_attempts: list[dict[str, Any]] = field(default_factory=list)
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))


class UsageRecorder:
    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[Usage] = queue.SimpleQueue()
        self._backlog: list[Usage] = []
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._rescuer: threading.Thread | None = None
        self._wake = threading.Event()
        # Tests pause the background writer while they reset the database.
        self.paused = False
        # One line when writing starts failing (rows are kept), one when it recovers.
        self.outage = Outage(logger, "writing usage rows")

    def record(self, usage: Usage) -> None:
        series = _series(usage.endpoint_name, usage.model_served)
        REQUESTS.labels(*series.labels, str(usage.status_code)).inc()
        series.latency.observe(usage.latency_ms / 1000)
        if usage.ttft_ms is not None:
            series.time_to_first_token.observe(usage.ttft_ms / 1000)
        if usage.error_type:
            FAILURES.labels(*series.labels, str(usage.status_code), usage.error_type).inc()
        if usage.prompt_tokens:
            series.input_tokens.inc(usage.prompt_tokens)
        if usage.completion_tokens:
            series.output_tokens.inc(usage.completion_tokens)
        if usage.prompt_tokens or usage.completion_tokens:
            series.total_tokens.inc(usage.prompt_tokens + usage.completion_tokens)
        if usage.cost_usd:
            series.spend.inc(usage.cost_usd)
        self._queue.put(usage)
        self._ensure_thread()
        if self._queue.qsize() > RESCUE_AT:
            self._rescue()

    def _rescue(self) -> None:
        if self._rescuer is None or not self._rescuer.is_alive():
            # Started from the event loop's thread, whose (normal) priority it inherits.
            self._rescuer = threading.Thread(target=self._flush_quietly, name="gateway-usage-rescue", daemon=True)
            self._rescuer.start()

    def _flush_quietly(self) -> None:
        try:
            self.flush()
        except Exception:  # rows stay in the backlog for the writer
            logger.exception("usage writer failed")

    def _ensure_thread(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            with self._lock:
                if self._thread is None or not self._thread.is_alive():
                    self._thread = threading.Thread(target=self._run, name="gateway-usage-writer", daemon=True)
                    self._thread.start()

    def _run(self) -> None:
        run_in_background()
        while True:
            self._wake.wait(FLUSH_SECONDS)
            self._wake.clear()
            if self.paused:
                continue
            try:
                self.flush()
            except Exception:  # never let the writer die; rows stay in the backlog
                logger.exception("usage writer failed")
                time.sleep(1)

    def flush(self) -> int:
        """Write everything queued so far; returns how many rows were written."""
        with self._lock:
            while True:
                try:
                    self._backlog.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            if len(self._backlog) > MAX_BACKLOG:
                dropped = len(self._backlog) - MAX_BACKLOG
                logger.error("usage backlog full; dropping the %d oldest rows", dropped)
                del self._backlog[:dropped]
            written = 0
            while self._backlog:
                batch = self._backlog[:BATCH_SIZE]
                try:
                    with_kept_connection(_write, batch)
                except Exception as exc:
                    if not _shutting_down():
                        self.outage.failed(exc)
                    break
                self.outage.ok()
                del self._backlog[: len(batch)]
                written += len(batch)
            return written


def _shutting_down() -> bool:
    import sys

    return sys.is_finalizing()


# The columns the writer fills, in order (RequestLog's id is the database's).
COLUMNS = (
    "request_id",
    "endpoint_id",
    "endpoint_model_id",
    "model_served",
    "user_id",
    "token_id",
    "status_code",
    "latency_ms",
    "ttft_ms",
    "attempts",
    "stream",
    "prompt_tokens",
    "completion_tokens",
    "cost_usd",
    "error_type",
    "error_message",
    "failed_attempts",
    "created_at",
)


def _row(u: Usage) -> tuple:
    return (
        u.request_id,
        u.endpoint_id,
        uuid.UUID(u.endpoint_model_id) if u.endpoint_model_id else None,
        u.model_served[:255],
        u.user_id,
        u.token_id,
        u.status_code,
        u.latency_ms,
        u.ttft_ms,
        u.attempts,
        u.stream,
        u.prompt_tokens,
        u.completion_tokens,
        Decimal(str(round(u.cost_usd, 8))),
        u.error_type[:64],
        u.error_message[:500],
        u.failed_attempts,
        u.created_at,
    )


def _insert(rows: list[tuple]) -> None:
    """INSERT the rows in one statement, skipping a request id already written.

    By hand rather than ``bulk_create``: that builds a model instance and
    compiles SQL for every row, which at proxy rates (a thousand rows a
    second) cost as much CPU as serving the requests themselves. The values
    still go through each field's own database conversion.
    """
    from django.db import connection
    from django.db.models.constants import OnConflict

    from endpoints.models import RequestLog

    fields = [RequestLog._meta.get_field(name) for name in COLUMNS]
    ops = connection.ops
    columns = ", ".join(ops.quote_name(field.column) for field in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    sql = (
        f"{ops.insert_statement(on_conflict=OnConflict.IGNORE)} {ops.quote_name(RequestLog._meta.db_table)} "
        f"({columns}) VALUES ({placeholders}){ops.on_conflict_suffix_sql(fields, OnConflict.IGNORE, None, None)}"
    )
    convert = [database_value(field, connection) for field in fields]
    values = [[_to_db(to_db, value) for to_db, value in zip(convert, row, strict=True)] for row in rows]
    with connection.cursor() as cursor:
        cursor.executemany(sql, values)


def _sqlite_datetime(value: datetime) -> str:
    return str(value.astimezone(UTC).replace(tzinfo=None))


def database_value(field, connection):
    """How a value of ``field`` goes to this database's driver (None: as it is).

    Django's own field conversions validate and re-check timezones on every
    value; for the few types the writer stores, on the two databases it
    runs on, these are the same conversions done directly (a test compares
    them with Django's). Any other database goes through Django's.
    """
    from django.db import models

    if isinstance(field, models.IntegerField | models.FloatField | models.CharField | models.BooleanField):
        return None
    if connection.vendor == "postgresql" and isinstance(
        field, models.UUIDField | models.DecimalField | models.DateTimeField
    ):
        return None  # psycopg adapts these types itself
    if connection.vendor == "sqlite" and isinstance(field, models.DecimalField):
        return None
    if connection.vendor == "sqlite" and isinstance(field, models.UUIDField):
        return operator.attrgetter("hex")
    if connection.vendor == "sqlite" and isinstance(field, models.DateTimeField):
        return _sqlite_datetime
    return functools.partial(field.get_db_prep_save, connection=connection)


def _to_db(to_db, value):
    return value if value is None or to_db is None else to_db(value)


def _write(batch: list[Usage]) -> None:
    from django.db import transaction
    from django.db.models import Q

    from endpoints.models import Endpoint
    from tokens.models import GatewayToken

    live = set(Endpoint.objects.filter(pk__in={u.endpoint_id for u in batch}).values_list("pk", flat=True))
    # An endpoint deleted meanwhile takes its logs with it.
    rows = [_row(u) for u in batch if u.endpoint_id in live]
    last_used: dict[uuid.UUID, datetime] = {}
    for u in batch:
        if u.token_id:
            last_used[u.token_id] = max(u.created_at, last_used.get(u.token_id, u.created_at))
    with transaction.atomic():
        if rows:
            _insert(rows)
        minute_ago = datetime.now(UTC).timestamp() - 60
        for token_id, when in last_used.items():
            stale = Q(last_used_at__isnull=True) | Q(last_used_at__lt=datetime.fromtimestamp(minute_ago, UTC))
            GatewayToken.objects.filter(stale, pk=token_id).update(last_used_at=when)


def _flush_at_exit() -> None:
    # At interpreter exit the database or logging may already be gone.
    with contextlib.suppress(Exception):
        recorder.flush()


recorder = UsageRecorder()
atexit.register(_flush_at_exit)
