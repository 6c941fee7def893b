"""Every validation rule of an endpoint's configuration answers 400 with a field error and stores nothing."""

from __future__ import annotations

import socket

import pytest

from endpoints.models import Endpoint
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
        node = node[step]
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


def test_models_must_be_in_the_catalog(api, alice, openai_key):
    errors = assert_refused(post(api(alice), [model_body(openai_key, model_name="gpt-imaginary")]), "models", 0)
    assert "api_base" in errors["model_name"][0]


def test_any_name_is_allowed_with_an_api_base(api, alice, openai_key):
    body = model_body(openai_key, model_name="my-local-llama", litellm_params={"api_base": "http://127.0.0.1:8000/v1"})
    assert post(api(alice), [body]).status_code == 201


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
    body = model_body(openai_key, litellm_params={"api_key": "sk-sneaky", "timeout": 30})
    errors = assert_refused(post(api(alice), [body]), "models", 0, "litellm_params")
    assert "'api_key' is not an allowed parameter" in errors[0]


@pytest.mark.parametrize(
    "params",
    [{"timeout": -1}, {"timeout": "soon"}, {"max_retries": 1.5}, {"rpm": 0}, {"drop_params": "yes"}],
)
def test_litellm_param_values_are_type_checked(api, alice, openai_key, params):
    assert_refused(post(api(alice), [model_body(openai_key, litellm_params=params)]), "models", 0, "litellm_params")


@pytest.mark.parametrize(
    "api_base",
    [
        "ftp://10.0.0.5/v1",
        "http://169.254.169.254/latest/meta-data",
        "http://[fe80::1]/v1",
        "http://metadata.google.internal/computeMetadata/v1",
        "http://[::ffff:169.254.169.254]/",
        "http://100.100.100.200/",
        "http://user:pass@10.0.0.5/",
        "not a url",
    ],
)
def test_api_base_may_not_point_at_link_local_or_metadata(api, alice, openai_key, api_base):
    body = model_body(openai_key, model_name="x", litellm_params={"api_base": api_base})
    assert_refused(post(api(alice), [body]), "models", 0, "litellm_params")


def test_hostnames_resolving_to_metadata_addresses_are_refused(api, alice, openai_key, monkeypatch):
    def fake_getaddrinfo(host, port, *args, **kwargs):
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("169.254.169.254", port))]

    monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo)
    body = model_body(openai_key, model_name="x", litellm_params={"api_base": "http://innocent.example/v1"})
    errors = assert_refused(post(api(alice), [body]), "models", 0, "litellm_params")
    assert "link-local" in errors[0]


def test_private_addresses_are_allowed_by_default_but_can_be_blocked(api, alice, openai_key, settings):
    body = model_body(openai_key, model_name="x", litellm_params={"api_base": "http://10.0.0.5:8000/v1"})
    assert post(api(alice), [body]).status_code == 201
    Endpoint.objects.all().delete()
    settings.GATEWAY_BLOCK_PRIVATE_API_BASE = True
    for url in ("http://10.0.0.5:8000/v1", "http://127.0.0.1:8000/v1", "http://localhost:8000/v1"):
        body = model_body(openai_key, model_name="x", litellm_params={"api_base": url})
        assert_refused(post(api(alice), [body]), "models", 0, "litellm_params")


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
        body = {"provider": "anthropic", "model_name": "claude-3-5-haiku-20241022", "key_id": anthropic_key.public_id}
        response = api(bob).post(f"{URL}{endpoint.public_id}/models/", {**body, "priority": 2}, format="json")
        assert response.status_code == 400
        assert "does not exist" in response.json()["models"][1]["key_id"][0]

    def test_malformed_key_ids_look_missing(self, api, alice):
        errors = assert_refused(
            post(api(alice), [{"provider": "openai", "model_name": "gpt-4o", "key_id": "zz"}]), "models", 0
        )
        assert "key_id" in errors
