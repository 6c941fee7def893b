"""Requests- and tokens-per-minute limits, with the ``limits`` library.

A moving window in Redis when ``REDIS_URL`` is set (so the limit is global
across processes), in process memory otherwise.

Redis failing (down, frozen, unreachable) never hangs a request: the client
has short socket and connect timeouts, and a failed check is decided by
``GATEWAY_RATE_LIMIT_ON_REDIS_ERROR``: ``allow`` serves the request
unlimited, ``deny`` answers 503 with Retry-After. After a failure the
storage is left alone for ``PAUSE_AFTER_ERROR_SECONDS``, so during an outage
one request in that interval waits for a timeout and the others are decided
at once.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from limits import RateLimitItemPerMinute
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError
from limits.storage import storage_from_string
from prometheus_client import Counter

from gatewaylib.outage import Outage
from proxy.errors import ProxyError

logger = logging.getLogger(__name__)

# Redis answers in well under a millisecond when healthy; half a second is a
# failure, and bounds what one check can add to a request.
REDIS_TIMEOUT_SECONDS = 0.5
PAUSE_AFTER_ERROR_SECONDS = 1.0

STORAGE_FAILURES = Counter(
    "gateway_rate_limit_storage_failures_total",
    "Rate-limit checks decided by GATEWAY_RATE_LIMIT_ON_REDIS_ERROR because the storage (Redis) failed",
    ["decision"],
)


class _StorageDown(Exception):
    """The limit could not be checked; the operator's policy decides."""


@dataclass
class LimitState:
    limit: int
    remaining: int
    reset_seconds: float


@dataclass
class _Storage:
    limiter: MovingWindowRateLimiter
    paused_until: float = 0.0  # after a failure, decide by policy without asking until then


class Limiter:
    def __init__(self) -> None:
        self._storages: dict[tuple[int, str], _Storage] = {}
        self._outage = Outage(logger, "the rate-limit storage (Redis)")

    def _storage(self) -> _Storage:
        # Async storages hold connections bound to the event loop that made them.
        key = (id(asyncio.get_running_loop()), settings.REDIS_URL)
        storage = self._storages.get(key)
        if storage is None:
            backend = _redis_storage(settings.REDIS_URL) if settings.REDIS_URL else MemoryStorage()
            storage = self._storages[key] = _Storage(MovingWindowRateLimiter(backend))
        return storage

    async def _guarded(self, method: str, *args: Any, **kwargs: Any) -> Any:
        """Call a limiter method, or raise ``_StorageDown`` (at once while paused after a failure)."""
        storage = self._storage()
        if time.monotonic() < storage.paused_until:
            raise _StorageDown
        try:
            result = await getattr(storage.limiter, method)(*args, **kwargs)
        except StorageError as exc:
            storage.paused_until = time.monotonic() + PAUSE_AFTER_ERROR_SECONDS
            self._outage.failed(exc.storage_error)
            raise _StorageDown from None
        self._outage.ok()
        return result

    async def _state(self, item: RateLimitItemPerMinute, *keys: str) -> LimitState:
        stats = await self._guarded("get_window_stats", item, *keys)
        return LimitState(item.amount, max(0, stats.remaining), max(0.0, stats.reset_time - time.time()))

    async def hit_requests(self, scope: str, key: str, rpm: int) -> LimitState | None:
        """Count one request; raise 429 when the limit is reached (None: not checked, storage down)."""
        item = RateLimitItemPerMinute(rpm)
        try:
            allowed = await self._guarded("hit", item, "rpm", scope, key)
            state = await self._state(item, "rpm", scope, key)
        except _StorageDown:
            return _unchecked()
        if not allowed:
            raise _too_many("requests", scope, state)
        return state

    async def check_tokens(self, scope: str, key: str, tpm: int) -> LimitState | None:
        """Refuse when the token budget of the window is used up (tokens are counted after the call)."""
        item = RateLimitItemPerMinute(tpm)
        try:
            state = await self._state(item, "tpm", scope, key)
        except _StorageDown:
            return _unchecked()
        if state.remaining <= 0:
            raise _too_many("tokens", scope, state)
        return state

    async def add_tokens(self, scope: str, key: str, tpm: int, tokens: int) -> None:
        if tokens <= 0:
            return
        item = RateLimitItemPerMinute(tpm)
        try:
            # A response can exceed what is left; count what fits so the window fills up.
            state = await self._state(item, "tpm", scope, key)
            cost = min(tokens, state.remaining)
            if cost > 0:
                await self._guarded("hit", item, "tpm", scope, key, cost=cost)
        except _StorageDown:
            return  # these tokens go uncounted; the outage is logged once


def _redis_storage(url: str):
    from redis.asyncio.retry import Retry
    from redis.backoff import NoBackoff
    from redis.exceptions import ConnectionError as RedisConnectionError

    return storage_from_string(
        "async+" + url,
        implementation="redispy",
        key_prefix="gateway-limits",
        wrap_exceptions=True,  # every client error arrives as limits' StorageError
        socket_timeout=REDIS_TIMEOUT_SECONDS,
        socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
        # One immediate retry on a fresh connection covers a pooled connection
        # that died with a Redis restart. Timeouts are not retried: redis-py's
        # default (3 retries with backoff) is what made a frozen Redis hang
        # requests for 5 s.
        retry=Retry(NoBackoff(), 1, supported_errors=(RedisConnectionError,)),
        health_check_interval=30,
    )


def _unchecked() -> None:
    """The limit could not be checked: apply GATEWAY_RATE_LIMIT_ON_REDIS_ERROR."""
    decision = settings.GATEWAY_RATE_LIMIT_ON_REDIS_ERROR
    STORAGE_FAILURES.labels(decision).inc()
    if decision == "deny":
        raise ProxyError(
            503,
            "The gateway cannot check its rate limits right now; retry shortly.",
            code="rate_limiter_unavailable",
            headers={"Retry-After": "1"},
        )


def _too_many(kind: str, scope: str, state: LimitState) -> ProxyError:
    retry_after = str(max(1, math.ceil(state.reset_seconds)))
    return ProxyError(
        429,
        f"Rate limit reached for {kind} per minute on this {scope}; retry after {retry_after}s.",
        code="rate_limit_exceeded",
        headers={
            "Retry-After": retry_after,
            f"x-ratelimit-limit-{kind}": str(state.limit),
            f"x-ratelimit-remaining-{kind}": str(state.remaining),
            f"x-ratelimit-reset-{kind}": f"{retry_after}s",
        },
    )


def headers_for(kind: str, state: LimitState | None) -> dict[str, str]:
    if state is None:  # not checked (storage down, policy allow): claim nothing
        return {}
    return {
        f"x-ratelimit-limit-{kind}": str(state.limit),
        f"x-ratelimit-remaining-{kind}": str(state.remaining),
        f"x-ratelimit-reset-{kind}": f"{max(0, math.ceil(state.reset_seconds))}s",
    }


limiter = Limiter()
