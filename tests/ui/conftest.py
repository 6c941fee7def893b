"""Fixtures for the server-rendered UI tests: logged-in clients, a key owned by alice, an endpoint using it."""

from __future__ import annotations

import pytest
from django.test import Client

from endpoints import services as endpoint_services
from endpoints.validation import ModelSpec
from keys import services as key_services
from sharing import services as sharing

SECRET = "sk-ui-test-SECRET-9f8e7d6c5b4a"


@pytest.fixture
def client_for():
    """Return a function giving a Django test client logged in as ``user`` (anonymous for None)."""

    def make(user=None, *, htmx: bool = False) -> Client:
        client = Client(headers={"HX-Request": "true"} if htmx else None)
        if user is not None:
            client.force_login(user)
        return client

    return make


@pytest.fixture
def key(alice):
    return key_services.create_key(actor=alice, name="openai-prod", provider="openai", secret=SECRET)


@pytest.fixture
def server_key(alice):
    """alice's OpenAI-compatible server: the key says where it is."""
    return key_services.create_key(
        actor=alice,
        name="llama-server",
        provider="openai",
        secret=SECRET + "-server",
        api_base="http://10.0.0.5:8000/v1",
    )


@pytest.fixture
def make_endpoint(alice):
    def make(key, *, name: str = "ep", owner=None):
        spec = ModelSpec(provider="openai", model_name="gpt-4o", key_id=key.public_id)
        return endpoint_services.create_endpoint(actor=owner or alice, name=name, endpoint_type="chat", models=[spec])

    return make


@pytest.fixture
def share():
    """``share(obj, principal, "READ")``: grant a level the way the panel would."""
    from sharing.levels import Level

    def grant(obj, principal, level: str) -> None:
        sharing.grant(obj, principal, Level[level])

    return grant
