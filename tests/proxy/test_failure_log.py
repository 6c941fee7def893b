"""The request log says why a request failed: the client's error, and why each attempt that did not serve failed.

Over real HTTP to the fake upstream, on the direct path and on LiteLLM's
translated path. (That no secret reaches these columns is checked with the
other key-leak sweeps in test_credentials.py.)
"""

from __future__ import annotations

import httpx
import pytest

from endpoints.models import RequestLog
from proxy.usage import recorder

pytestmark = pytest.mark.usefixtures("both_paths")

MESSAGES = [{"role": "user", "content": "hello"}]


def _chat(gateway, world, model: str = "chat") -> httpx.Response:
    return httpx.post(
        f"{gateway.url}/v1/chat/completions",
        headers={"Authorization": f"Bearer {world.token(world.alice)}"},
        json={"model": model, "messages": MESSAGES},
        timeout=30,
    )


def _row() -> RequestLog:
    recorder.flush()
    return RequestLog.objects.get()


def test_a_served_request_lists_the_attempts_that_failed_before(gateway, world):
    world.endpoint(models=[world.model("primary"), world.model("backup", priority=2)])
    world.upstream.configure("primary", fail_status=500)
    response = _chat(gateway, world)
    assert response.status_code == 200 and response.headers["x-gateway-model"] == "openai/backup"
    row = _row()
    assert row.error_message == "" and row.attempts >= 2
    assert len(row.failed_attempts) == row.attempts - 1
    for attempt in row.failed_attempts:
        assert attempt["model"] == "openai/primary" and attempt["status"] == 500
        assert attempt["message"].startswith("The provider failed: ") and "fake failure" in attempt["message"]


def _failing(gateway, world, model: str, fail_status: int, status: int) -> tuple[httpx.Response, RequestLog]:
    """A one-model endpoint whose upstream answers ``fail_status``: the client's response and its row."""
    world.endpoint(models=[world.model(model)])
    world.upstream.configure(model, fail_status=fail_status)
    response = _chat(gateway, world)
    assert response.status_code == status
    return response, _row()


def test_a_failed_request_keeps_what_the_client_was_told(gateway, world):
    response, row = _failing(gateway, world, "down", fail_status=500, status=502)
    assert (row.status_code, row.error_type) == (502, "provider_error")
    assert row.error_message == response.json()["error"]["message"]
    assert len(row.failed_attempts) == row.attempts >= 1
    assert {attempt["model"] for attempt in row.failed_attempts} == {"openai/down"}


def test_a_request_the_provider_refuses_is_one_failed_attempt_with_its_message(gateway, world):
    response, row = _failing(gateway, world, "picky", fail_status=400, status=400)
    assert row.error_message == response.json()["error"]["message"]
    assert "fake failure" in row.error_message
    assert [(a["model"], a["status"]) for a in row.failed_attempts] == [("openai/picky", 400)]


def test_a_refusal_before_any_provider_call_has_no_attempts(gateway, world):
    world.endpoint(start=False)
    response = _chat(gateway, world)
    assert response.status_code == 409
    row = _row()
    assert row.error_message == response.json()["error"]["message"] and row.failed_attempts == []
