"""Redis frozen or unreachable never hangs a rate-limited request.

The guarantee: with Redis frozen (connections open, no answer) or
unreachable (a closed port), a rate-limited request answers within
``BOUND_SECONDS``: 200 under GATEWAY_RATE_LIMIT_ON_REDIS_ERROR=allow, 503
with Retry-After under deny. One log line when it starts failing, one when
it recovers, and a Prometheus counter of the checks decided by the policy.

These run through the in-thread gateway, with ``REDIS_URL`` pointed at the
broken Redis (the limiter's storage follows the setting), so they need
neither PostgreSQL nor a real Redis; with a real Redis, "frozen" first
serves through a forwarder, so the freeze hits an established connection.
"""

from __future__ import annotations

import contextlib
import logging
import time
from urllib.parse import urlsplit

import httpx
import pytest
from prometheus_client import REGISTRY

from tests.reliability.forwarder import Forwarder
from tests.servers import free_port

BOUND_SECONDS = 1.5
MESSAGES = [{"role": "user", "content": "hi"}]
REQUESTS = 4


def chat(gateway, token: str) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = httpx.post(
        f"{gateway.url}/v1/chat/completions",
        headers={"Authorization": f"Bearer {token}"},
        json={"model": "chat", "messages": MESSAGES},
        timeout=30,
    )
    return response, time.monotonic() - started


@contextlib.contextmanager
def broken_redis(kind: str, settings, warm):
    """Point the limiter at a Redis that is frozen or unreachable; yields the forwarder (or None)."""
    if kind == "unreachable":
        settings.REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
        yield None
        return
    real = urlsplit(settings.REDIS_URL) if settings.REDIS_URL else None
    with Forwarder((real.hostname, real.port or 6379) if real else None) as forwarder:
        settings.REDIS_URL = f"redis://127.0.0.1:{forwarder.port}{real.path if real else '/0'}"
        if real:
            warm()  # an established, pooled connection is what freezes
        forwarder.freeze()
        yield forwarder


def storage_failures(decision: str) -> float:
    return REGISTRY.get_sample_value("gateway_rate_limit_storage_failures_total", {"decision": decision}) or 0.0


@pytest.mark.parametrize("kind", ["frozen", "unreachable"])
@pytest.mark.parametrize("policy, expected", [("allow", 200), ("deny", 503)])
def test_a_rate_limited_request_answers_within_the_bound(
    gateway, world, settings, caplog, report, kind, policy, expected
):
    caplog.set_level(logging.WARNING, logger="proxy.ratelimit")
    world.endpoint(rate_limit_rpm=1000)
    token = world.token(world.alice)
    assert chat(gateway, token)[0].status_code == 200  # caches warm: only the limiter meets Redis below
    settings.GATEWAY_RATE_LIMIT_ON_REDIS_ERROR = policy
    counted_before = storage_failures(policy)

    def warm() -> None:
        assert chat(gateway, token)[0].status_code == 200

    with broken_redis(kind, settings, warm) as forwarder:
        results = [chat(gateway, token) for _ in range(REQUESTS)]
        if forwarder is not None and forwarder.target is not None:
            forwarder.thaw()
            time.sleep(1.1)  # past the pause after a failure: the next check asks Redis again
            recovered = chat(gateway, token)[0]
            assert recovered.status_code == 200 and "x-ratelimit-remaining-requests" in recovered.headers

    statuses = [response.status_code for response, _ in results]
    seconds = [round(elapsed, 3) for _, elapsed in results]
    episode_lines = [r.getMessage() for r in caplog.records if r.name == "proxy.ratelimit"]
    report(redis=kind, policy=policy, statuses=statuses, request_seconds=seconds, log_lines=len(episode_lines))
    assert statuses == [expected] * REQUESTS, f"{statuses} under {policy}"
    assert max(seconds) < BOUND_SECONDS, f"a request took {max(seconds)} s with Redis {kind}"
    assert storage_failures(policy) - counted_before >= REQUESTS
    assert sum("is failing" in line for line in episode_lines) == 1, episode_lines
    if policy == "deny":
        response = results[0][0]
        assert response.headers["retry-after"] and response.json()["error"]["code"] == "rate_limiter_unavailable"
