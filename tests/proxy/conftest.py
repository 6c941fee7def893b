"""A real gateway (uvicorn in a thread, the project's ASGI app) and the fake upstream, for proxy tests.

Proxy tests use ``transactional_db`` so rows they create are committed and
visible to the server's worker threads.
"""

from __future__ import annotations

import pytest

from endpoints import lifecycle, services
from endpoints.validation import ModelSpec
from fakeupstream import FakeUpstream
from keys import services as key_services
from sharing import services as sharing
from sharing.levels import Level
from tests.servers import GatewayServer, drain_usage
from tokens import services as token_services

UPSTREAM_SECRET = "sk-upstream-provider-secret-XYZ123"


@pytest.fixture(scope="session")
def gateway(django_db_setup, django_db_blocker):
    server = GatewayServer().start()
    yield server
    with django_db_blocker.unblock():
        server.stop()


@pytest.fixture(params=["direct", "translated"])
def both_paths(request, settings):
    """Run a test on the direct path and again with every request through LiteLLM's translation."""
    settings.GATEWAY_DIRECT_PATH = request.param == "direct"
    return request.param


@pytest.fixture
def world(transactional_db, upstream, alice, bob, charlie):
    """alice owns an OpenAI-compatible key pointing at the fake upstream and holds a token."""
    yield World(upstream)
    drain_usage()


class World:
    def __init__(self, upstream: FakeUpstream) -> None:
        from django.contrib.auth import get_user_model

        self.upstream = upstream
        users = get_user_model().objects
        self.alice, self.bob, self.charlie = (users.get(username=n) for n in ("alice", "bob", "charlie"))
        self.key = key_services.create_key(
            actor=self.alice, name="fake", provider="openai", secret=UPSTREAM_SECRET, api_base=upstream.base_url
        )
        self.tokens = {}

    def token(self, user) -> str:
        if user.username not in self.tokens:
            self.tokens[user.username] = token_services.create_token(user, "tests")[1]
        return self.tokens[user.username]

    def make_key(self, provider: str = "openai", name: str = "other", secret: str = UPSTREAM_SECRET, **fields):
        """Another of alice's keys, pointing at the fake upstream unless ``api_base`` says otherwise."""
        fields.setdefault("api_base", self.upstream.base_url)
        return key_services.create_key(actor=self.alice, name=name, provider=provider, secret=secret, **fields)

    def model(self, name: str, key=None, **extra) -> dict:
        """A model served by the fake upstream (through ``self.key``, whose destination it is)."""
        return {
            "provider": "openai",
            "model_name": name,
            "key_id": (key or self.key).public_id,
            "litellm_params": extra.pop("litellm_params", {}),
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

    def calls_to(self, path_end: str) -> list[dict]:
        """The requests the fake upstream recorded at paths ending so, oldest first."""
        return [r for r in self.upstream.requests() if r["path"].endswith(path_end)]

    @staticmethod
    def logged(endpoint) -> list:
        """The endpoint's request-log rows, oldest first, once the queued ones are written."""
        from endpoints.models import RequestLog
        from proxy.usage import recorder

        recorder.flush()
        return list(RequestLog.objects.filter(endpoint=endpoint).order_by("created_at"))
