"""A real gateway (uvicorn in a thread, the project's ASGI app) and the fake upstream, for proxy tests.

Proxy tests use ``transactional_db`` so rows they create are committed and
visible to the server's worker threads.
"""

from __future__ import annotations

import socket
import threading
import time

import pytest

from endpoints import lifecycle, services
from endpoints.proxy.state import state
from endpoints.proxy.usage import recorder
from endpoints.validation import ModelSpec
from fakeupstream import FakeUpstream
from keys import services as key_services
from sharing import services as sharing
from sharing.levels import Level
from tokens import services as token_services

UPSTREAM_SECRET = "sk-upstream-provider-secret-XYZ123"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class GatewayServer:
    def __init__(self) -> None:
        import uvicorn

        from gateway_site.asgi import application

        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(application, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True, name="gateway-under-test")

    def start(self) -> GatewayServer:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the gateway did not start")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        _release_server_connections()


def _release_server_connections() -> None:
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
def gateway(django_db_setup, django_db_blocker):
    server = GatewayServer().start()
    yield server
    with django_db_blocker.unblock():
        server.stop()


@pytest.fixture(scope="session")
def upstream_server():
    with FakeUpstream() as server:
        yield server


@pytest.fixture
def upstream(upstream_server):
    upstream_server.reset()
    yield upstream_server
    upstream_server.reset()


@pytest.fixture(autouse=True)
def _fresh_proxy_state():
    state.clear()
    recorder.paused = False
    yield
    state.clear()


@pytest.fixture
def world(transactional_db, upstream, alice, bob, charlie):
    """alice owns an OpenAI-compatible key pointing at the fake upstream and holds a token."""
    yield World(upstream)
    # Write what is queued, then keep the background writer away while
    # pytest-django empties the tables (on PostgreSQL, TRUNCATE against a
    # concurrent INSERT can deadlock).
    recorder.flush()
    recorder.paused = True


class World:
    def __init__(self, upstream: FakeUpstream) -> None:
        from django.contrib.auth import get_user_model

        self.upstream = upstream
        users = get_user_model().objects
        self.alice, self.bob, self.charlie = (users.get(username=n) for n in ("alice", "bob", "charlie"))
        self.key = key_services.create_key(actor=self.alice, name="fake", provider="openai", secret=UPSTREAM_SECRET)
        self.tokens = {}

    def token(self, user) -> str:
        if user.username not in self.tokens:
            self.tokens[user.username] = token_services.create_token(user, "tests")[1]
        return self.tokens[user.username]

    def model(self, name: str, **extra) -> dict:
        params = {"api_base": self.upstream.base_url, **extra.pop("litellm_params", {})}
        return {
            "provider": "openai",
            "model_name": name,
            "key_id": self.key.public_id,
            "litellm_params": params,
            **extra,
        }

    def endpoint(self, name="chat", endpoint_type="chat", models=None, start=True, **fields):
        specs = [ModelSpec.from_dict(m) for m in (models or [self.model("upstream-a")])]
        endpoint = services.create_endpoint(
            actor=self.alice, name=name, endpoint_type=endpoint_type, models=specs, **fields
        )
        if start:
            lifecycle.start_endpoint(endpoint, actor=self.alice)
            endpoint.refresh_from_db()
            assert endpoint.status == "running", endpoint.last_error
        return endpoint

    def share(self, obj, user, level: Level) -> None:
        sharing.grant(obj, user, level)
