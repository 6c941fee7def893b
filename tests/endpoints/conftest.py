from __future__ import annotations

import pytest

from endpoints import services
from endpoints.validation import ModelSpec
from keys import services as key_services

URL = "/api/3.0/mlflow/gateway/endpoints/"


@pytest.fixture
def openai_key(alice):
    return key_services.create_key(actor=alice, name="openai", provider="openai", secret="sk-openai-secret-0000AAAA")


@pytest.fixture
def server_key(alice):
    """An OpenAI-compatible server of alice's own: the key says where it is."""
    return key_services.create_key(
        actor=alice,
        name="llama-server",
        provider="openai",
        secret="sk-server-secret-0000CCCC",
        api_base="http://10.0.0.5:8000/v1",
    )


@pytest.fixture
def anthropic_key(alice):
    return key_services.create_key(actor=alice, name="anthropic", provider="anthropic", secret="sk-ant-secret-0000BBBB")


def model_body(key, **overrides):
    return {"provider": "openai", "model_name": "gpt-4o", "key_id": key.id.hex, **overrides}


@pytest.fixture
def make_endpoint(openai_key):
    def make(owner, *, name="chat-prod", endpoint_type="chat", models=None, **fields):
        specs = [ModelSpec.from_dict(m) for m in (models or [model_body(openai_key)])]
        return services.create_endpoint(actor=owner, name=name, endpoint_type=endpoint_type, models=specs, **fields)

    return make
