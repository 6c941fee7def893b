"""Every validation rule of an endpoint's configuration answers 400 with a field error and stores nothing."""

from __future__ import annotations

import pytest

from endpoints.models import Endpoint
from endpoints.validation import DESTINATION_PARAMS
from sharing import services as sharing
from sharing.levels import Level
from tests.endpoints.conftest import URL, model_body

pytestmark = pytest.mark.django_db


def post(client, models, **overrides):
    return client.post(URL, {"name": "ep", "endpoint_type": "chat", "models": models, **overrides}, format="json")


def assert_refused(response, *path):
    assert response.status_code == 400, response.json()
    node = response.json()
    for step in path:
        # DRF's own field checks key a list's errors by index ("0"); the service's are a list.
        node = node[str(step)] if isinstance(node, dict) and isinstance(step, int) else node[step]
    assert node, response.json()
    assert not Endpoint.objects.exists()
    return node


@pytest.mark.parametrize("endpoint_type", ["chatbot", "", None])
def test_endpoint_type_must_be_known(api, alice, openai_key, endpoint_type):
    assert_refused(post(api(alice), [model_body(openai_key)], endpoint_type=endpoint_type), "endpoint_type")


@pytest.mark.parametrize("name", ["has spaces", "slash/y", "x" * 65, ""])
def test_name_must_be_a_short_slug(api, alice, openai_key, name):
    assert_refused(post(api(alice), [model_body(openai_key)], name=name), "name")


def test_duplicate_names_are_refused(api, alice, openai_key, make_endpoint):
    make_endpoint(alice, name="ep")
    response = post(api(alice), [model_body(openai_key)])
    assert response.status_code in (400, 409)
    assert Endpoint.objects.count() == 1


def test_at_least_one_model(api, alice):
    assert_refused(post(api(alice), []), "models")


def test_unknown_provider(api, alice, openai_key):
    errors = assert_refused(post(api(alice), [model_body(openai_key, provider="nope")]), "models", 0)
    assert "provider" in errors


def test_the_keys_provider_must_match(api, alice, anthropic_key):
    errors = assert_refused(post(api(alice), [model_body(anthropic_key)]), "models", 0, "key_id")
    assert "anthropic" in errors[0]


def test_a_provider_that_does_not_serve_the_type_is_refused(api, alice, server_key):
    # Even a key with its own server: LiteLLM has no rerank call for openai, whatever the server does.
    body = model_body(server_key, model_name="my-reranker")
    errors = assert_refused(post(api(alice), [body], endpoint_type="rerank"), "models", 0, "provider")
    assert errors == [
        "OpenAI does not serve rerank endpoints. "
        "Choose a provider that does, such as Amazon Bedrock, Google Vertex AI or Cohere."
    ]


def test_a_provider_that_serves_the_type_is_accepted(api, alice, openai_key):
    body = model_body(openai_key, model_name="text-embedding-3-small")
    assert post(api(alice), [body], endpoint_type="embedding").status_code == 201


def test_models_must_be_in_the_catalog(api, alice, openai_key):
    errors = assert_refused(post(api(alice), [model_body(openai_key, model_name="gpt-imaginary")]), "models", 0)
    assert errors["model_name"] == [
        "'gpt-imaginary' is not in the catalog for openai; to serve a model of your own, "
        "use a key that points at its server (the key's API base URL)."
    ]


def test_any_name_is_allowed_with_a_key_that_points_at_its_own_server(api, alice, server_key):
    assert post(api(alice), [model_body(server_key, model_name="my-local-llama")]).status_code == 201


@pytest.mark.parametrize("name", ["http://evil.example/v1", "/etc/passwd", "x\x00y", "a\nb", "m" * 256])
def test_a_model_name_is_a_name_not_an_address(api, alice, server_key, name):
    assert_refused(post(api(alice), [model_body(server_key, model_name=name)]), "models", 0, "model_name")


def test_the_models_mode_must_fit_the_endpoint_type(api, alice, openai_key):
    body = model_body(openai_key, model_name="text-embedding-3-small")
    errors = assert_refused(post(api(alice), [body]), "models", 0, "model_name")
    assert "embedding" in errors[0]
    assert post(api(alice), [body], endpoint_type="embedding").status_code == 201


@pytest.mark.parametrize("priority", [0, -1, 1.5, "x"])
def test_priority_must_be_at_least_one(api, alice, openai_key, priority):
    assert post(api(alice), [model_body(openai_key, priority=priority)]).status_code == 400
    assert not Endpoint.objects.exists()


@pytest.mark.parametrize("weight", [0, -0.5])
def test_weights_must_be_positive(api, alice, openai_key, weight):
    assert_refused(post(api(alice), [model_body(openai_key, weight=weight)]), "models", 0, "weight")


def test_weights_of_a_priority_level_must_sum_to_one(api, alice, openai_key):
    models = [model_body(openai_key, weight=0.6), model_body(openai_key, model_name="gpt-4o-mini", weight=0.3)]
    problems = assert_refused(post(api(alice), models), "weights")
    assert "priority 1" in problems[0] and "0.9" in problems[0]


def test_weights_within_tolerance_are_accepted(api, alice, openai_key):
    third = 1 / 3
    models = [model_body(openai_key, weight=third), model_body(openai_key, model_name="gpt-4o-mini", weight=third)]
    models.append(model_body(openai_key, model_name="gpt-4.1", weight=third))
    assert post(api(alice), models).status_code == 201


def test_several_models_of_one_priority_need_weights(api, alice, openai_key):
    models = [model_body(openai_key), model_body(openai_key, model_name="gpt-4o-mini")]
    assert_refused(post(api(alice), models), "weights")


def test_each_priority_level_is_checked_on_its_own(api, alice, openai_key):
    models = [model_body(openai_key), model_body(openai_key, model_name="gpt-4o-mini", priority=2)]
    assert post(api(alice), models).status_code == 201


def test_unknown_litellm_params_are_refused(api, alice, openai_key):
    body = model_body(openai_key, litellm_params={"frobnicate": True, "timeout": 30})
    errors = assert_refused(post(api(alice), [body]), "models", 0, "litellm_params")
    assert errors[0].startswith("'frobnicate' is not an allowed parameter; use one of: drop_params,")


@pytest.mark.parametrize("param", sorted(DESTINATION_PARAMS))
def test_a_model_may_not_say_where_the_secret_goes(api, alice, openai_key, param):
    body = model_body(openai_key, litellm_params={param: "http://attacker.example/v1"})
    errors = assert_refused(post(api(alice), [body]), "models", 0, "litellm_params")
    assert errors == [
        f"'{param}' decides where the key's secret is sent; set it on the key, not on the endpoint's model."
    ]


@pytest.mark.parametrize(
    "params",
    [
        {"timeout": -1},
        {"timeout": "soon"},
        {"timeout": 10**19},
        {"max_retries": 1.5},
        {"max_retries": 11},
        {"rpm": 0},
        {"rpm": 2**63},
        {"input_cost_per_token": 2},
        {"drop_params": "yes"},
    ],
)
def test_litellm_param_values_are_type_checked_and_bounded(api, alice, openai_key, params):
    assert_refused(post(api(alice), [model_body(openai_key, litellm_params=params)]), "models", 0, "litellm_params")


@pytest.mark.parametrize("priority", [101, 2**31, 10**19])
def test_priority_is_bounded(api, alice, openai_key, priority):
    errors = assert_refused(post(api(alice), [model_body(openai_key, priority=priority)]), "models", 0, "priority")
    assert errors == ["The priority must be at most 100."]


@pytest.mark.parametrize("weight", [1.5, 10**19])
def test_a_weight_is_at_most_one(api, alice, openai_key, weight):
    errors = assert_refused(post(api(alice), [model_body(openai_key, weight=weight)]), "models", 0, "weight")
    assert errors == ["The weight must be at most 1."]


class TestKeyPermissions:
    def test_a_key_the_caller_cannot_read_looks_missing(self, api, bob, openai_key):
        errors = assert_refused(post(api(bob), [model_body(openai_key)]), "models", 0, "key_id")
        assert "does not exist" in errors[0]

    def test_read_on_a_key_is_not_enough_to_attach_it(self, api, bob, openai_key):
        sharing.grant(openai_key, bob, Level.READ)
        errors = assert_refused(post(api(bob), [model_body(openai_key)]), "models", 0, "key_id")
        assert "USE" in errors[0]

    def test_use_on_a_key_is_enough(self, api, bob, openai_key):
        sharing.grant(openai_key, bob, Level.USE)
        assert post(api(bob), [model_body(openai_key)]).status_code == 201

    def test_use_through_a_group_is_enough(self, api, dave, team, openai_key):
        sharing.grant(openai_key, team, Level.USE)
        assert post(api(dave), [model_body(openai_key)]).status_code == 201

    def test_an_editor_may_change_limits_without_use_on_the_attached_key(self, api, alice, bob, make_endpoint):
        endpoint = make_endpoint(alice)
        sharing.grant(endpoint, bob, Level.EDIT)
        response = api(bob).patch(f"{URL}{endpoint.public_id}/", {"rate_limit_rpm": 10}, format="json")
        assert response.status_code == 200

    def test_an_editor_may_not_attach_a_key_they_cannot_use(self, api, alice, bob, make_endpoint, anthropic_key):
        endpoint = make_endpoint(alice)
        sharing.grant(endpoint, bob, Level.EDIT)
        body = {"provider": "anthropic", "model_name": "claude-haiku-4-5", "key_id": anthropic_key.public_id}
        response = api(bob).post(f"{URL}{endpoint.public_id}/models/", {**body, "priority": 2}, format="json")
        assert response.status_code == 400
        # About the one model sent, not its place in the endpoint's list.
        assert list(response.json()) == ["key_id"]
        assert "does not exist" in response.json()["key_id"][0]

    def test_malformed_key_ids_look_missing(self, api, alice):
        errors = assert_refused(
            post(api(alice), [{"provider": "openai", "model_name": "gpt-4o", "key_id": "zz"}]), "models", 0
        )
        assert "key_id" in errors
