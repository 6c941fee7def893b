"""The endpoints API: inline models, responses, updates, deletion rules."""

from __future__ import annotations

import pytest

from endpoints.models import Binding, Endpoint, Status
from keys.models import Key
from tests.endpoints.conftest import URL, model_body

pytestmark = pytest.mark.django_db


def create(client, key, server_key=None, **overrides):
    body = {
        "name": "chat-prod",
        "endpoint_type": "chat",
        "rate_limit_rpm": 600,
        "models": [
            model_body(key, weight=0.7),
            model_body(key, model_name="gpt-4o-mini", weight=0.3),
            model_body(server_key or key, model_name="my-llama", priority=2, litellm_params={"timeout": 30}),
        ],
        **overrides,
    }
    return client.post(URL, body, format="json")


def test_creating_an_endpoint_with_inline_models(api, alice, openai_key, server_key):
    response = create(api(alice), openai_key, server_key)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert len(body["id"]) == 32
    assert body["status"] == "stopped"
    assert body["url"] == "http://testserver/gateway/chat-prod/invocations"
    assert body["config_version"] == 1
    assert body["rate_limit_rpm"] == 600
    assert [(m["model_name"], m["weight"], m["priority"]) for m in body["models"]] == [
        ("gpt-4o", 0.7, 1),
        ("gpt-4o-mini", 0.3, 1),
        ("my-llama", 1.0, 2),
    ]
    assert body["models"][2]["litellm_params"] == {"timeout": 30}
    assert body["models"][2]["key_id"] == server_key.public_id
    assert "sk-openai" not in response.content.decode() and "sk-server" not in response.content.decode()


def test_list_search_and_filters(api, alice, make_endpoint):
    make_endpoint(alice, name="chat-a", description="support bot")
    make_endpoint(alice, name="chat-b")
    client = api(alice)
    assert [e["name"] for e in client.get(URL + "?search=support").json()["results"]] == ["chat-a"]
    assert client.get(URL + "?endpoint_type=embedding").json()["count"] == 0
    assert client.get(URL + "?status=stopped").json()["count"] == 2
    assert client.get(URL + "?status=bogus").status_code == 400


def test_patch_fields_keeps_models_and_bumps_the_version(api, alice, make_endpoint):
    endpoint = make_endpoint(alice)
    model_id = endpoint.models.get().public_id
    response = api(alice).patch(f"{URL}{endpoint.public_id}/", {"rate_limit_tpm": 10000}, format="json")
    assert response.status_code == 200
    assert response.json()["rate_limit_tpm"] == 10000
    assert response.json()["config_version"] == 2
    assert response.json()["models"][0]["id"] == model_id


def test_patch_models_replaces_the_set(api, alice, make_endpoint, openai_key):
    endpoint = make_endpoint(alice)
    response = api(alice).patch(
        f"{URL}{endpoint.public_id}/",
        {"models": [model_body(openai_key, model_name="gpt-4o-mini")]},
        format="json",
    )
    assert response.status_code == 200
    assert [m["model_name"] for m in response.json()["models"]] == ["gpt-4o-mini"]


def test_a_no_op_patch_does_not_bump_the_version(api, alice, make_endpoint):
    endpoint = make_endpoint(alice)
    response = api(alice).patch(f"{URL}{endpoint.public_id}/", {"description": ""}, format="json")
    assert response.json()["config_version"] == 1


def test_changing_a_running_endpoint_bumps_its_config_version(
    api, alice, make_endpoint, django_capture_on_commit_callbacks
):
    endpoint = make_endpoint(alice)
    client = api(alice)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"{URL}{endpoint.public_id}/start")
    running = client.get(f"{URL}{endpoint.public_id}/").json()
    assert running["status"] == "running"
    changed = client.patch(f"{URL}{endpoint.public_id}/", {"rate_limit_rpm": 5}, format="json").json()
    assert changed["status"] == "running"
    assert changed["config_version"] > running["config_version"]


def test_replacing_a_keys_secret_bumps_the_endpoints_using_it(api, alice, make_endpoint, openai_key):
    endpoint = make_endpoint(alice)
    api(alice).patch(
        f"/api/3.0/mlflow/gateway/keys/{openai_key.public_id}/", {"secret": "sk-new-0000000000000"}, format="json"
    )
    endpoint.refresh_from_db()
    assert endpoint.config_version == 2


def test_deleting_an_endpoint(api, alice, make_endpoint):
    endpoint = make_endpoint(alice)
    assert api(alice).delete(f"{URL}{endpoint.public_id}/").status_code == 204
    assert not Endpoint.objects.exists()


def test_deleting_an_endpoint_with_bindings_needs_force(api, alice, make_endpoint):
    endpoint = make_endpoint(alice)
    Binding.objects.create(endpoint=endpoint, resource_type="scorer", resource_id="s-1")
    client = api(alice)
    response = client.delete(f"{URL}{endpoint.public_id}/")
    assert response.status_code == 409
    assert response.json()["bindings"] == [{"resource_type": "scorer", "resource_id": "s-1"}]
    assert Endpoint.objects.exists()
    assert client.delete(f"{URL}{endpoint.public_id}/?force=true").status_code == 204
    assert not Endpoint.objects.exists()


def test_deleting_a_running_endpoint_stops_it_first(api, alice, make_endpoint, django_capture_on_commit_callbacks):
    from audit.models import AuditEvent

    endpoint = make_endpoint(alice)
    client = api(alice)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"{URL}{endpoint.public_id}/start")
    assert client.delete(f"{URL}{endpoint.public_id}/").status_code == 204
    actions = list(AuditEvent.objects.filter(object_id=endpoint.pk).values_list("action", flat=True))
    assert actions.index("stop") == actions.index("delete") + 1  # newest first: stop happened before delete


def test_deleting_a_key_in_use_is_a_409_listing_the_endpoints(api, alice, make_endpoint, openai_key):
    make_endpoint(alice, name="uses-the-key")
    response = api(alice).delete(f"/api/3.0/mlflow/gateway/keys/{openai_key.public_id}/")
    assert response.status_code == 409
    assert response.json()["endpoints"] == ["uses-the-key"]
    assert Key.objects.filter(pk=openai_key.pk).exists()


def test_the_409_for_a_key_in_use_does_not_name_endpoints_the_caller_cannot_see(
    api, alice, bob, make_endpoint, openai_key
):
    from sharing import services as sharing
    from sharing.levels import Level

    make_endpoint(alice, name="secret-project")
    sharing.grant(openai_key, bob, Level.MANAGE)
    response = api(bob).delete(f"/api/3.0/mlflow/gateway/keys/{openai_key.public_id}/")
    assert response.status_code == 409
    assert response.json()["endpoints"] == [] and response.json()["hidden_endpoints"] == 1


class TestNestedModels:
    def test_list_add_change_remove(self, api, alice, make_endpoint, openai_key):
        endpoint = make_endpoint(alice, models=[model_body(openai_key, weight=1.0)])
        client = api(alice)
        models_url = f"{URL}{endpoint.public_id}/models/"
        assert client.get(models_url).json()["count"] == 1

        # Adding a second priority-1 model breaks the weight sum: refused.
        refused = client.post(models_url, model_body(openai_key, model_name="gpt-4o-mini", weight=0.5), format="json")
        assert refused.status_code == 400 and "weights" in refused.json()

        added = client.post(models_url, model_body(openai_key, model_name="gpt-4o-mini", priority=2), format="json")
        assert added.status_code == 201, added.json()
        model_id = added.json()["id"]
        assert client.get(f"{models_url}{model_id}/").json()["model_name"] == "gpt-4o-mini"

        changed = client.patch(f"{models_url}{model_id}/", {"priority": 3}, format="json")
        assert changed.status_code == 200 and changed.json()["priority"] == 3
        assert changed.json()["id"] == model_id

        assert client.delete(f"{models_url}{model_id}/").status_code == 204
        assert client.get(models_url).json()["count"] == 1

    def test_removing_the_last_model_is_refused(self, api, alice, make_endpoint):
        endpoint = make_endpoint(alice)
        model = endpoint.models.get()
        response = api(alice).delete(f"{URL}{endpoint.public_id}/models/{model.public_id}/")
        assert response.status_code == 400
        assert endpoint.models.count() == 1

    def test_readers_see_models_but_cannot_change_them(self, api, alice, bob, make_endpoint, openai_key):
        from sharing import services as sharing
        from sharing.levels import Level

        endpoint = make_endpoint(alice)
        models_url = f"{URL}{endpoint.public_id}/models/"
        assert api(bob).get(models_url).status_code == 404
        sharing.grant(endpoint, bob, Level.READ)
        assert api(bob).get(models_url).status_code == 200
        assert api(bob).post(models_url, model_body(openai_key, priority=2), format="json").status_code == 403


def test_status_reports_metrics_zeros_until_traffic(api, alice, make_endpoint):
    endpoint = make_endpoint(alice)
    body = api(alice).get(f"{URL}{endpoint.public_id}/status").json()
    assert body["status"] == Status.STOPPED
    assert body["metrics"]["request_count"] == 0
    assert body["metrics"]["window_seconds"] == 3600
    assert api(alice).get(f"{URL}{endpoint.public_id}/status?window=600").json()["metrics"]["window_seconds"] == 600
    assert api(alice).get(f"{URL}{endpoint.public_id}/status?window=abc").status_code == 400
