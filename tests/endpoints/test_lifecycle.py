"""Start, stop, and the task that takes an endpoint from starting to running or error."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from audit.models import AuditEvent
from endpoints import lifecycle
from endpoints.models import Endpoint, Status
from tests.endpoints.conftest import URL

pytestmark = pytest.mark.django_db


def _task_hand_offs(callbacks):
    return [callback for callback in callbacks if "start_endpoint" in callback.__qualname__]


def start(client, endpoint):
    return client.post(f"{URL}{endpoint.public_id}/start")


def test_start_runs_the_task_and_the_endpoint_becomes_running(
    api, alice, make_endpoint, django_capture_on_commit_callbacks
):
    endpoint = make_endpoint(alice)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = start(api(alice), endpoint)
    assert response.status_code == 200
    assert response.json()["status"] in ("starting", "running")
    assert response.json()["url"].endswith("/gateway/chat-prod/invocations")
    assert len(_task_hand_offs(callbacks)) == 1
    endpoint.refresh_from_db()
    assert endpoint.status == Status.RUNNING
    assert endpoint.started_at is not None and endpoint.last_error == ""


def test_start_marks_starting_before_the_task_runs(api, alice, make_endpoint, django_capture_on_commit_callbacks):
    endpoint = make_endpoint(alice)
    with django_capture_on_commit_callbacks(execute=False):
        assert start(api(alice), endpoint).json()["status"] == "starting"
    endpoint.refresh_from_db()
    assert endpoint.status == Status.STARTING


def test_starting_twice_is_harmless(api, alice, make_endpoint, django_capture_on_commit_callbacks):
    endpoint = make_endpoint(alice)
    with django_capture_on_commit_callbacks(execute=True):
        start(api(alice), endpoint)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert start(api(alice), endpoint).json()["status"] == "running"
    assert _task_hand_offs(callbacks) == []


def test_stop_is_immediate_and_bumps_the_version(api, alice, make_endpoint, django_capture_on_commit_callbacks):
    endpoint = make_endpoint(alice)
    with django_capture_on_commit_callbacks(execute=True):
        start(api(alice), endpoint)
    version = Endpoint.objects.get(pk=endpoint.pk).config_version
    response = api(alice).post(f"{URL}{endpoint.public_id}/stop")
    assert response.json()["status"] == "stopped"
    endpoint.refresh_from_db()
    assert endpoint.status == Status.STOPPED and endpoint.stopped_at is not None
    assert endpoint.config_version > version


def test_a_stop_during_starting_wins_over_a_late_task(api, alice, make_endpoint, django_capture_on_commit_callbacks):
    endpoint = make_endpoint(alice)
    with django_capture_on_commit_callbacks(execute=False):
        start(api(alice), endpoint)
    api(alice).post(f"{URL}{endpoint.public_id}/stop")
    lifecycle.finish_start(endpoint.public_id)  # the task arrives late
    endpoint.refresh_from_db()
    assert endpoint.status == Status.STOPPED


def test_a_key_that_cannot_be_decrypted_blocks_the_start(api, alice, make_endpoint, settings):
    endpoint = make_endpoint(alice)
    settings.GATEWAY_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    response = start(api(alice), endpoint)
    assert response.status_code == 400
    assert "cannot be decrypted" in response.json()["detail"]
    assert "sk-openai" not in response.content.decode()
    endpoint.refresh_from_db()
    assert endpoint.status == Status.STOPPED


def test_a_router_failure_sets_error_with_a_readable_message(
    api, alice, make_endpoint, monkeypatch, django_capture_on_commit_callbacks
):
    from endpoints import routing

    def broken(endpoint):
        raise routing.RouterConfigError("LiteLLM rejected the configuration: something specific")

    monkeypatch.setattr(routing, "check_router", broken)
    endpoint = make_endpoint(alice)
    with django_capture_on_commit_callbacks(execute=True):
        start(api(alice), endpoint)
    status = api(alice).get(f"{URL}{endpoint.public_id}/status").json()
    assert status["status"] == "error"
    assert "something specific" in status["error"]


def test_router_errors_never_carry_the_secret():
    from endpoints.routing import _safe_message

    message = _safe_message(ValueError("bad key sk-very-secret-value given"), ("sk-very-secret-value",))
    assert message == "LiteLLM rejected the configuration: ValueError: bad key *** given"


def test_the_router_configuration_uses_weights_priorities_and_stable_ids(alice, make_endpoint, openai_key, server_key):
    from endpoints.routing import model_list
    from tests.endpoints.conftest import model_body

    endpoint = make_endpoint(
        alice,
        models=[
            model_body(openai_key, weight=0.7),
            model_body(openai_key, model_name="gpt-4o-mini", weight=0.3),
            model_body(server_key, model_name="llama", priority=2, litellm_params={"timeout": 30}),
        ],
    )
    deployments = model_list(endpoint)
    assert [d["litellm_params"]["model"] for d in deployments] == [
        "openai/gpt-4o",
        "openai/gpt-4o-mini",
        "openai/llama",
    ]
    assert [d["litellm_params"]["weight"] for d in deployments] == [0.7, 0.3, 1.0]
    assert [d["litellm_params"]["order"] for d in deployments] == [1, 1, 2]
    # Where each model connects, and with which secret, comes from its key.
    assert "api_base" not in deployments[0]["litellm_params"]
    assert deployments[0]["litellm_params"]["api_key"] == "sk-openai-secret-0000AAAA"
    assert deployments[2]["litellm_params"]["api_base"] == "http://10.0.0.5:8000/v1"
    assert deployments[2]["litellm_params"]["api_key"] == "sk-server-secret-0000CCCC"
    assert deployments[2]["litellm_params"]["timeout"] == 30
    assert {d["model_name"] for d in deployments} == {"chat-prod"}
    assert [d["model_info"]["id"] for d in deployments] == [m.public_id for m in endpoint.models.all()]


def test_start_and_stop_are_audited(api, alice, make_endpoint, django_capture_on_commit_callbacks):
    endpoint = make_endpoint(alice)
    with django_capture_on_commit_callbacks(execute=True):
        start(api(alice), endpoint)
    api(alice).post(f"{URL}{endpoint.public_id}/stop")
    actions = list(
        AuditEvent.objects.filter(object_id=endpoint.pk).order_by("created_at").values_list("action", "actor_name")
    )
    assert actions == [("create", "alice"), ("start", "alice"), ("stop", "alice")]
