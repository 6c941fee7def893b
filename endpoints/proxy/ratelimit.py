"""Requests- and tokens-per-minute limits, with the ``limits`` library.

A moving window in Redis when ``REDIS_URL`` is set (so the limit is global
across processes), in process memory otherwise.
"""

from __future__ import annotations

import asyncio
import math
import time
from dataclasses import dataclass

from django.conf import settings
from limits import RateLimitItemPerMinute
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string

from endpoints.proxy.errors import ProxyError


@dataclass
class LimitState:
    limit: int
    remaining: int
    reset_seconds: float


class Limiter:
    def __init__(self) -> None:
        self._limiters: dict[int, MovingWindowRateLimiter] = {}

    def _limiter(self) -> MovingWindowRateLimiter:
        # Async storages hold connections bound to the event loop that made them.
        loop_id = id(asyncio.get_running_loop())
        limiter = self._limiters.get(loop_id)
        if limiter is None:
            if settings.REDIS_URL:
                uri = "async+" + settings.REDIS_URL
                storage = storage_from_string(uri, implementation="redispy", key_prefix="gateway-limits")
            else:
                storage = MemoryStorage()
            limiter = self._limiters[loop_id] = MovingWindowRateLimiter(storage)
        return limiter

    async def _state(self, item: RateLimitItemPerMinute, *keys: str) -> LimitState:
        stats = await self._limiter().get_window_stats(item, *keys)
        return LimitState(item.amount, max(0, stats.remaining), max(0.0, stats.reset_time - time.time()))

    async def hit_requests(self, scope: str, key: str, rpm: int) -> LimitState:
        """Count one request; raise 429 when the limit is reached."""
        item = RateLimitItemPerMinute(rpm)
        allowed = await self._limiter().hit(item, "rpm", scope, key)
        state = await self._state(item, "rpm", scope, key)
        if not allowed:
            raise _too_many("requests", scope, state)
        return state

    async def check_tokens(self, scope: str, key: str, tpm: int) -> LimitState:
        """Refuse when the token budget of the window is used up (tokens are counted after the call)."""
        item = RateLimitItemPerMinute(tpm)
        state = await self._state(item, "tpm", scope, key)
        if state.remaining <= 0:
            raise _too_many("tokens", scope, state)
        return state

    async def add_tokens(self, scope: str, key: str, tpm: int, tokens: int) -> None:
        if tokens <= 0:
            return
        item = RateLimitItemPerMinute(tpm)
        # A response can exceed what is left; count what fits so the window fills up.
        state = await self._state(item, "tpm", scope, key)
        cost = min(tokens, state.remaining)
        if cost > 0:
            await self._limiter().hit(item, "tpm", scope, key, cost=cost)


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


def headers_for(kind: str, state: LimitState) -> dict[str, str]:
    return {
        f"x-ratelimit-limit-{kind}": str(state.limit),
        f"x-ratelimit-remaining-{kind}": str(state.remaining),
        f"x-ratelimit-reset-{kind}": f"{max(0, math.ceil(state.reset_seconds))}s",
    }


limiter = Limiter()
