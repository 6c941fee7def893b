"""Scorers judge through the proxy: the fake upstream plays the judge model, alice owns its key."""

from __future__ import annotations

import json

import pytest

from endpoints import services as endpoint_services
from endpoints.validation import ModelSpec
from keys import services as key_services
from scorers import services
from tests.proxy.conftest import World, world  # noqa: F401 - the proxy tests' world, reused

YES = json.dumps({"score": "yes", "reason": "The answer names Paris, as expected."})
INSTRUCTIONS = "Is {{ outputs }} a correct answer to {{ inputs }}? The expected answer is {{ expectations }}."
SAMPLE = {"inputs": "What is the capital of France?", "outputs": "Paris.", "expectations": "Paris"}


@pytest.fixture
def judge_world(world: World) -> World:  # noqa: F811 - the imported fixture
    """A running chat endpoint ``judge`` on the fake model ``judge-model``, answering yes."""
    world.upstream.configure("judge-model", chunks=[YES])
    world.judge = world.endpoint(name="judge", models=[world.model("judge-model")])
    return world


@pytest.fixture
def openai_key(alice):
    return key_services.create_key(actor=alice, name="openai-prod", provider="openai", secret="sk-scorer-0000AAAA")


@pytest.fixture
def make_endpoint(openai_key):
    """A chat endpoint of ``owner``'s on alice's OpenAI key (not started)."""

    def make(owner, name="judge"):
        spec = ModelSpec(provider="openai", model_name="gpt-4o-mini", key_id=openai_key.public_id)
        return endpoint_services.create_endpoint(actor=owner, name=name, endpoint_type="chat", models=[spec])

    return make


@pytest.fixture
def make_scorer():
    def make(actor, name="correctness", endpoint=None, **fields):
        fields.setdefault("instructions", INSTRUCTIONS)
        return services.create_scorer(actor=actor, name=name, endpoint=endpoint, **fields)

    return make
