"""Production mode end to end: the API queues the start on Redis and a real Celery worker finishes it.

Needs ``REDIS_URL`` and PostgreSQL (the worker is another process, so it
cannot see an in-memory SQLite test database); skipped otherwise. The worker
gets the test process's environment with ``DATABASE_URL`` pointing at the test
database pytest-django created, and a queue of its own so that no other worker
on the same Redis takes the task (and no stale message reaches this one).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import quote, urlencode

import pytest
from django.conf import settings
from django.db import connection

from endpoints.models import Endpoint, Status

REDIS_URL = os.environ.get("REDIS_URL", "")
ON_POSTGRES = settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
START_TIMEOUT = 60  # the worker imports Django and LiteLLM first
RUNNING_TIMEOUT = 30

pytestmark = [
    pytest.mark.redis,
    pytest.mark.skipif(not REDIS_URL, reason="needs REDIS_URL (production mode)"),
    pytest.mark.skipif(not ON_POSTGRES, reason="the worker process needs a shared database (PostgreSQL)"),
]

BASE_DIR = Path(__file__).resolve().parents[2]
CELERY = Path(sys.executable).with_name("celery")


def database_url(settings_dict: dict) -> str:
    """A ``DATABASE_URL`` for the database a connection uses (here, the test database)."""
    user = quote(settings_dict.get("USER") or "", safe="")
    password = quote(settings_dict.get("PASSWORD") or "", safe="")
    credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = settings_dict.get("HOST") or "localhost"
    port = f":{settings_dict['PORT']}" if settings_dict.get("PORT") else ""
    options = {k: v for k, v in (settings_dict.get("OPTIONS") or {}).items() if isinstance(v, str | int)}
    query = f"?{urlencode(options)}" if options else ""
    return f"postgres://{credentials}{host}{port}/{quote(settings_dict['NAME'], safe='')}{query}"


def _tail(path: Path, lines: int = 40) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else "(no log)"


@pytest.fixture
def worker_queue():
    """Send this test's tasks to a queue only its worker reads."""
    from gateway_site.celery import app

    queue = f"test-worker-{uuid.uuid4().hex[:12]}"
    before = app.conf.task_default_queue
    app.conf.task_default_queue = queue
    yield queue
    app.conf.task_default_queue = before
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    client.delete(queue, f"_kombu.binding.{queue}")
    client.close()


@pytest.fixture
def celery_worker(transactional_db, worker_queue, tmp_path):
    """A real ``celery worker`` on the test database, stopped when the test ends."""
    log = tmp_path / "worker.log"
    env = {**os.environ, "DATABASE_URL": database_url(connection.settings_dict), "REDIS_URL": REDIS_URL}
    command = [
        str(CELERY),
        "-A",
        "gateway_site",
        "worker",
        "--pool=solo",
        "--concurrency=1",
        "-Q",
        worker_queue,
        "-n",
        f"{worker_queue}@%h",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        "--loglevel=INFO",
    ]
    with log.open("wb") as output:
        process = subprocess.Popen(command, cwd=BASE_DIR, env=env, stdout=output, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while " ready." not in log.read_text(errors="replace"):
            if process.poll() is not None:
                pytest.fail(f"the celery worker exited with {process.returncode}:\n{_tail(log)}")
            if time.monotonic() > deadline:
                pytest.fail(f"the celery worker was not ready after {START_TIMEOUT}s:\n{_tail(log)}")
            time.sleep(0.2)
        yield process, log
    finally:
        # Before pytest-django flushes or drops the test database, which the worker holds a connection to.
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


@pytest.mark.real_worker
@pytest.mark.django_db(transaction=True)
def test_a_worker_takes_a_started_endpoint_from_starting_to_running(celery_worker, api, alice, make_endpoint):
    _, log = celery_worker
    endpoint = make_endpoint(alice)

    response = api(alice).post(f"/api/3.0/mlflow/gateway/endpoints/{endpoint.public_id}/start")

    assert response.status_code == 200, response.content
    assert response.json()["status"] == Status.STARTING  # queued on Redis, not run in-process
    deadline = time.monotonic() + RUNNING_TIMEOUT
    while (current := Endpoint.objects.get(pk=endpoint.pk)).status == Status.STARTING:
        if time.monotonic() > deadline:
            pytest.fail(f"still starting after {RUNNING_TIMEOUT}s; worker log:\n{_tail(log)}")
        time.sleep(0.2)
    assert current.status == Status.RUNNING, f"{current.status}: {current.last_error}\n{_tail(log)}"
    assert current.started_at is not None and current.last_error == ""
    assert current.config_version > endpoint.config_version
    assert "endpoints.tasks.finish_start" in log.read_text(errors="replace")
