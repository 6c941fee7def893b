"""Shared test infrastructure: the gateway's ASGI app under uvicorn in a thread, and the fake upstream.

Used by the proxy tests and the browser tests (their conftests import the
fixtures below). Tests that talk to the server use ``transactional_db`` so the
rows they create are committed and visible to the server's threads.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import quote

import pytest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class GatewayServer:
    """An ASGI app (the project's by default) under uvicorn in a daemon thread."""

    def __init__(self, application=None, name: str = "gateway-under-test") -> None:
        import uvicorn

        if application is None:
            from gateway_site.asgi import application
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(application, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True, name=name)

    def start(self) -> GatewayServer:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the gateway did not start")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        """Stop serving; call with database access allowed (it ends the server's connections)."""
        self.server.should_exit = True
        self.thread.join(timeout=10)
        release_server_connections()


def release_server_connections() -> None:
    """The server's worker threads keep database connections open; end them so
    pytest-django can drop the PostgreSQL test database afterwards."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )


@pytest.fixture(scope="session")
def upstream_server():
    from fakeupstream import FakeUpstream

    with FakeUpstream() as server:
        yield server


@pytest.fixture
def upstream(upstream_server):
    upstream_server.reset()
    yield upstream_server
    upstream_server.reset()


@pytest.fixture(autouse=True)
def fresh_proxy_state():
    """Empty proxy caches per test; the usage writer runs (a fixture pauses it before the tables are emptied)."""
    from proxy.state import state
    from proxy.usage import recorder

    state.clear()
    recorder.paused = False
    yield
    state.clear()


def drain_usage() -> None:
    """Write queued usage, then keep the background writer away while pytest-django
    empties the tables (on PostgreSQL, TRUNCATE against a concurrent INSERT can deadlock)."""
    from proxy.usage import recorder

    recorder.flush()
    recorder.paused = True


# -- the gateway as its own process ----------------------------------------------
ROOT = Path(__file__).resolve().parent.parent


def subprocess_database_url(host: str | None = None, port: int | None = None) -> str:
    """A DATABASE_URL naming the test database, for a gateway subprocess (optionally through a forwarder)."""
    from django.db import connection

    settings_dict = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{settings_dict['NAME']}"
    password = f":{quote(settings_dict['PASSWORD'], safe='')}" if settings_dict.get("PASSWORD") else ""
    host, port = host or settings_dict["HOST"] or "127.0.0.1", port or settings_dict["PORT"] or 5432
    return f"postgres://{quote(settings_dict['USER'], safe='')}{password}@{host}:{port}/{settings_dict['NAME']}"


class GatewayProcess:
    """``manage.py serve`` in a subprocess over the test database: what production runs.

    ``env`` overrides the inherited environment (a value of None removes the
    variable). Use with ``transactional_db`` so the rows it must see are
    committed. Output goes to a log file (a pipe could fill and block it),
    whose tail ``describe()`` puts into assertion messages.
    """

    def __init__(
        self, env: dict[str, str | None] | None = None, name: str = "gateway", args: tuple[str, ...] = ()
    ) -> None:
        self.args = args  # more options for ``manage.py serve``
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.name = name
        merged: dict[str, str | None] = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "gateway_site.settings",
            "DATABASE_URL": subprocess_database_url(),
            **(env or {}),
        }
        self.env = {key: value for key, value in merged.items() if value is not None}
        self.log_path = Path(tempfile.mkstemp(prefix=f"{name}-", suffix=".log")[1])
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 90) -> GatewayProcess:
        return self.launch().wait_live(timeout)

    def launch(self) -> GatewayProcess:
        """Start the process without waiting (start several, then ``wait_live`` each)."""
        command = [sys.executable, "manage.py", "serve", "--host", "127.0.0.1", "--port", str(self.port), *self.args]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        return self

    def wait_live(self, timeout: float = 90) -> GatewayProcess:
        import httpx

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                description = self.describe()
                self.stop()
                raise RuntimeError(f"{self.name} exited at start\n{description}")
            try:
                if httpx.get(f"{self.url}/health/live", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        description = self.describe()
        self.stop()
        raise RuntimeError(f"{self.name} did not start within {timeout} s\n{description}")

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def signal(self, signum: int = signal.SIGTERM) -> None:
        assert self.process is not None
        self.process.send_signal(signum)

    def wait(self, timeout: float) -> int | None:
        """The exit code, or None if it is still running after ``timeout`` seconds."""
        assert self.process is not None
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self) -> None:
        """Stop it whatever state it is in (SIGTERM, then SIGKILL after 15 s) and remove its log.

        Take ``describe()`` or ``log()`` before: tests put them in their assertion messages.
        """
        if self.process is not None and self.process.poll() is None:
            self.signal(signal.SIGTERM)
            if self.wait(15) is None:
                self.process.kill()
                self.process.wait(10)
        self.log_path.unlink(missing_ok=True)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def describe(self, lines: int = 40) -> str:
        tail = "\n".join(self.log().splitlines()[-lines:])
        return f"--- last lines of {self.name}'s log ({self.log_path}) ---\n{tail}"

    def __enter__(self) -> GatewayProcess:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
