"""Shared test infrastructure: the gateway's ASGI app under uvicorn in a thread, and the fake upstream.

Used by the proxy tests and the browser tests (their conftests import the
fixtures below). Tests that talk to the server use ``transactional_db`` so the
rows they create are committed and visible to the server's threads.
"""

from __future__ import annotations

import socket
import threading
import time

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
    from endpoints.proxy.state import state
    from endpoints.proxy.usage import recorder

    state.clear()
    recorder.paused = False
    yield
    state.clear()


def drain_usage() -> None:
    """Write queued usage, then keep the background writer away while pytest-django
    empties the tables (on PostgreSQL, TRUNCATE against a concurrent INSERT can deadlock)."""
    from endpoints.proxy.usage import recorder

    recorder.flush()
    recorder.paused = True
