"""The hot path: no database query on a warm request, changes seen quickly, usage recorded off the path."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from django.db import connection
from django.db.backends import utils as db_utils

from endpoints.models import RequestLog
from proxy.usage import recorder
from tests.proxy.conftest import UPSTREAM_SECRET

# Every test here runs on the direct path and on LiteLLM's translated path.
pytestmark = pytest.mark.usefixtures("both_paths")

ROOT = Path(__file__).resolve().parents[2]
MESSAGES = [{"role": "user", "content": "hi"}]


# Background threads that query by design, off the request path.
BACKGROUND_THREADS = ("gateway-usage-writer", "gateway-invalidation")


@contextmanager
def count_queries_in_every_thread():
    """Like assertNumQueries(0), but for queries made by any request-serving thread
    (the server runs in its own thread and a worker pool)."""
    seen: list[str] = []
    lock = threading.Lock()
    original_execute, original_executemany = db_utils.CursorWrapper.execute, db_utils.CursorWrapper.executemany

    def note(sql):
        if not threading.current_thread().name.startswith(BACKGROUND_THREADS):
            with lock:
                seen.append(f"{threading.current_thread().name}: {sql}")

    def execute(self, sql, params=None):
        note(sql)
        return original_execute(self, sql, params)

    def executemany(self, sql, param_list):
        note(sql)
        return original_executemany(self, sql, param_list)

    db_utils.CursorWrapper.execute, db_utils.CursorWrapper.executemany = execute, executemany
    try:
        yield seen
    finally:
        db_utils.CursorWrapper.execute, db_utils.CursorWrapper.executemany = original_execute, original_executemany


def chat(gateway, token, **extra):
    return httpx.post(
        f"{gateway.url}/v1/chat/completions",
        headers={"Authorization": f"Bearer {token}"},
        json={"model": "chat", "messages": MESSAGES, **extra},
        timeout=30,
    )


def test_a_warm_request_makes_no_database_query(gateway, world):
    world.endpoint(rate_limit_rpm=1000, rate_limit_tpm=100000)
    token = world.token(world.alice)
    # Let the server's change watcher see the setup's last change (it polls
    # twice a second), so it does not clear the caches in the middle.
    time.sleep(1.2)
    assert chat(gateway, token).status_code == 200  # warms the caches
    assert chat(gateway, token, stream=True).status_code == 200
    recorder.flush()
    with count_queries_in_every_thread() as queries:
        for _ in range(5):
            assert chat(gateway, token).status_code == 200
        # streaming too
        assert chat(gateway, token, stream=True).status_code == 200
    assert queries == [], queries


def test_usage_is_written_in_batches_after_the_response(gateway, world):
    world.endpoint()
    token = world.token(world.alice)
    for _ in range(3):
        assert chat(gateway, token).status_code == 200
    recorder.flush()
    logs = list(RequestLog.objects.all())
    assert len(logs) == 3
    assert all(log.user_id == world.alice.pk and log.token_id is not None for log in logs)
    assert all(float(log.cost_usd) >= 0 and log.latency_ms > 0 for log in logs)


def test_usage_survives_a_database_outage(gateway, world, monkeypatch):
    from proxy import usage

    world.endpoint()
    token = world.token(world.alice)
    real_write = usage._write
    monkeypatch.setattr(usage, "_write", lambda batch: (_ for _ in ()).throw(RuntimeError("database away")))
    assert chat(gateway, token).status_code == 200  # the response does not wait for the database
    time.sleep(0.2)
    assert recorder.flush() == 0
    monkeypatch.setattr(usage, "_write", real_write)
    assert recorder.flush() >= 1
    assert RequestLog.objects.count() == 1


def test_a_stop_made_by_another_process_is_seen_within_a_second(gateway, world):
    endpoint = world.endpoint()
    token = world.token(world.alice)
    assert chat(gateway, token).status_code == 200
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "gateway_site.settings"}
    if connection.vendor == "sqlite":
        env["DATABASE_URL"] = f"sqlite:///{connection.settings_dict['NAME']}"
    else:
        settings_dict = connection.settings_dict
        env["DATABASE_URL"] = (
            f"postgres://{settings_dict['USER']}@{settings_dict['HOST']}:{settings_dict['PORT']}/{settings_dict['NAME']}"
        )
    script = (
        "import django; django.setup()\n"
        "from endpoints.models import Endpoint; from endpoints import lifecycle\n"
        f"lifecycle.stop_endpoint(Endpoint.objects.get(pk='{endpoint.pk}'), actor=None)\n"
    )
    subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, check=True, timeout=120)
    stopped_at = time.monotonic()
    while chat(gateway, token).status_code == 200:
        assert time.monotonic() - stopped_at < 1.5, "the stop was not seen within a second"
        time.sleep(0.05)
    assert chat(gateway, token).status_code == 409


def test_a_client_that_disconnects_mid_stream_cancels_the_upstream_call(gateway, world):
    world.endpoint()
    world.upstream.configure("upstream-a", stream_chunk_delay=0.3, chunks=["word "] * 30)
    with httpx.stream(
        "POST",
        f"{gateway.url}/v1/chat/completions",
        headers={"Authorization": f"Bearer {world.token(world.alice)}"},
        json={"model": "chat", "messages": MESSAGES, "stream": True},
        timeout=30,
    ) as response:
        for line in response.iter_lines():
            if line.startswith("data: ") and "word" in line:
                break  # leave after the first content chunk
    world.upstream.wait_until(lambda stats: stats["stream_aborted"] >= 1, timeout=10)
    deadline = time.monotonic() + 5
    while not RequestLog.objects.exists() and time.monotonic() < deadline:
        recorder.flush()
        time.sleep(0.1)
    log = RequestLog.objects.get()
    assert log.stream and log.status_code == 499


def test_no_secret_reaches_a_response_or_a_log_line(gateway, world, caplog):
    caplog.set_level(logging.DEBUG)
    world.endpoint(models=[world.model("upstream-a"), world.model("down", priority=2)])
    world.upstream.configure("upstream-a", fail_status=401)
    world.upstream.configure("down", fail_status=500)
    response = chat(gateway, world.token(world.alice))
    assert response.status_code >= 500
    assert UPSTREAM_SECRET not in response.text
    assert UPSTREAM_SECRET not in caplog.text


@pytest.mark.parametrize("limit_field", ["rate_limit_rpm"])
def test_requests_per_minute_limit(gateway, world, limit_field):
    world.endpoint(**{limit_field: 3})
    token = world.token(world.alice)
    statuses = [chat(gateway, token) for _ in range(4)]
    assert [r.status_code for r in statuses] == [200, 200, 200, 429]
    limited = statuses[-1]
    assert int(limited.headers["retry-after"]) >= 1
    assert limited.headers["x-ratelimit-limit-requests"] == "3"
    assert limited.headers["x-ratelimit-remaining-requests"] == "0"
    assert limited.json()["error"]["code"] == "rate_limit_exceeded"
    assert statuses[0].headers["x-ratelimit-remaining-requests"] == "2"


def test_tokens_per_minute_limit(gateway, world):
    world.endpoint(rate_limit_tpm=10)
    token = world.token(world.alice)
    statuses = []
    for _ in range(6):
        statuses.append(chat(gateway, token).status_code)
        time.sleep(0.1)  # token counts are added just after each response
    assert statuses[0] == 200 and 429 in statuses


def test_a_per_token_limit(gateway, world):
    from tokens import services as token_services

    world.endpoint()
    _, token = token_services.create_token(world.alice, "limited", rate_limit_rpm=2)
    assert [chat(gateway, token).status_code for _ in range(3)] == [200, 200, 429]
    # Another token of the same user has its own budget.
    assert chat(gateway, world.token(world.alice)).status_code == 200
