"""Every error status the proxy promises, in the OpenAI shape, never HTML, never a secret.

Each test pins the one status and the whole body (``{"error": {message, type,
param, code}}``) the client gets, so a changed status, type, code or message
fails here.
"""

from __future__ import annotations

import httpx
import pytest

from sharing.levels import Level
from tests.proxy.conftest import UPSTREAM_SECRET

# Every test here runs on the direct path and on LiteLLM's translated path.
pytestmark = pytest.mark.usefixtures("both_paths")

MESSAGES = [{"role": "user", "content": "hi"}]
CHAT = {"model": "chat", "messages": MESSAGES}


def post(gateway, path="/v1/chat/completions", token=None, **kwargs):
    headers = kwargs.pop("headers", {})
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return httpx.post(f"{gateway.url}{path}", headers=headers, timeout=30, **kwargs)


def error(message: str, error_type: str, code: str | None, param: str | None = None) -> dict:
    return {"error": {"message": message, "type": error_type, "param": param, "code": code}}


def assert_error(response, status: int, body: dict) -> None:
    """Exactly ``status`` with exactly ``body``, as JSON, without a provider secret or a traceback."""
    assert (response.status_code, response.json()) == (status, body), response.text
    assert response.headers["content-type"] == "application/json"
    assert UPSTREAM_SECRET not in response.text and "Traceback" not in response.text


MISSING_TOKEN = error(
    "Missing gateway token: send 'Authorization: Bearer <token>'.", "authentication_error", "missing_api_key"
)
BAD_TOKEN = error("Invalid or expired gateway token.", "authentication_error", "invalid_api_key")


def not_found(name: str) -> dict:
    message = f"The model '{name}' does not exist or you do not have access to it."
    return error(message, "not_found_error", "model_not_found", "model")


def test_a_missing_token_is_401(gateway, world):
    world.endpoint()
    assert_error(post(gateway, json=CHAT), 401, MISSING_TOKEN)


def test_a_bad_token_is_401(gateway, world):
    world.endpoint()
    assert_error(post(gateway, token="gw_nope_nope", json=CHAT), 401, BAD_TOKEN)


@pytest.mark.parametrize("header", ["x-api-key", "api-key"])
def test_other_auth_headers_work(gateway, world, header):
    world.endpoint()
    response = post(gateway, headers={header: world.token(world.alice)}, json=CHAT)
    assert response.status_code == 200, response.text
    assert response.json()["choices"][0]["message"]["content"] == "Hello from upstream-a"


def test_unknown_and_invisible_endpoints_look_the_same(gateway, world):
    world.endpoint()
    token = world.token(world.bob)
    assert_error(post(gateway, token=token, json={**CHAT, "model": "nope"}), 404, not_found("nope"))
    assert_error(post(gateway, token=token, json=CHAT), 404, not_found("chat"))


def test_read_without_use_is_403_and_use_is_enough(gateway, world):
    endpoint = world.endpoint()
    world.share(endpoint, world.bob, Level.READ)
    refused = error(
        "You can see 'chat' but not call it: ask for USE permission.", "permission_error", "permission_denied"
    )
    assert_error(post(gateway, token=world.token(world.bob), json=CHAT), 403, refused)
    world.share(endpoint, world.bob, Level.USE)
    assert post(gateway, token=world.token(world.bob), json=CHAT).status_code == 200


def test_revoking_access_takes_effect_at_once(gateway, world):
    endpoint = world.endpoint()
    world.share(endpoint, world.bob, Level.USE)
    assert post(gateway, token=world.token(world.bob), json=CHAT).status_code == 200
    from sharing import services as sharing

    sharing.revoke(endpoint, world.bob)
    assert_error(post(gateway, token=world.token(world.bob), json=CHAT), 404, not_found("chat"))


def test_a_stopped_endpoint_is_409_without_retry(gateway, world):
    from endpoints import lifecycle

    endpoint = world.endpoint()
    token = world.token(world.alice)
    assert post(gateway, token=token, json=CHAT).status_code == 200
    lifecycle.stop_endpoint(endpoint, actor=world.alice)
    response = post(gateway, token=token, json=CHAT)
    stopped = error("'chat' is stopped; start it before calling it.", "conflict_error", "endpoint_not_running")
    assert_error(response, 409, stopped)
    assert response.headers["x-should-retry"] == "false"


def unknown(field: str) -> dict:
    return error(
        f"Unrecognized request argument supplied: {field}", "invalid_request_error", "unknown_parameter", field
    )


@pytest.mark.parametrize(
    "body, expected",
    [
        ({**CHAT, "api_base": "http://evil.example"}, unknown("api_base")),
        ({**CHAT, "base_url": "http://evil.example"}, unknown("base_url")),
        ({**CHAT, "api_key": "sk-mine"}, unknown("api_key")),
        ({**CHAT, "extra_headers": {"x": "y"}}, unknown("extra_headers")),
        ({**CHAT, "mock_response": "free"}, unknown("mock_response")),
        ({**CHAT, "fallbacks": ["other"]}, unknown("fallbacks")),
        ({**CHAT, "_target_order": 2}, unknown("_target_order")),
        ({**CHAT, "aws_access_key_id": "x"}, unknown("aws_access_key_id")),
        ({**CHAT, "metadata": {"callbacks": "http://evil"}}, unknown("metadata")),
        (
            {"model": "chat"},
            error(
                "Missing required parameter: 'messages'.",
                "invalid_request_error",
                "missing_required_parameter",
                "messages",
            ),
        ),
        (
            {"messages": MESSAGES},
            error("Missing required parameter: 'model' (the endpoint name).", "invalid_request_error", None, "model"),
        ),
        (
            {"model": "chat", "messages": "not a list"},
            error(
                "Invalid type for 'messages': expected an array, but got a string instead.",
                "invalid_request_error",
                "invalid_type",
                "messages",
            ),
        ),
    ],
    ids=[
        "api_base",
        "base_url",
        "api_key",
        "extra_headers",
        "mock_response",
        "fallbacks",
        "_target_order",
        "aws_access_key_id",
        "metadata",
        "no messages",
        "no model",
        "messages not a list",
    ],
)
def test_fields_outside_the_allowlist_are_refused(gateway, world, body, expected):
    world.endpoint()
    assert_error(post(gateway, token=world.token(world.alice), json=body), 400, expected)
    assert world.upstream.stats()["total"] == 0


def test_bad_json_is_a_400(gateway, world):
    world.endpoint()
    response = post(
        gateway, token=world.token(world.alice), content=b"{nope", headers={"content-type": "application/json"}
    )
    message = (
        "The request body is not valid JSON: "
        "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"
    )
    assert_error(response, 400, error(message, "invalid_request_error", "invalid_json"))


def test_the_wrong_endpoint_type_is_a_400_naming_the_right_path(gateway, world):
    world.endpoint(name="vectors", endpoint_type="embedding", models=[world.model("embedder")])
    response = post(gateway, token=world.token(world.alice), json={**CHAT, "model": "vectors"})
    expected = error(
        "'vectors' is an embedding endpoint; call it at /v1/embeddings.",
        "invalid_request_error",
        "wrong_endpoint_type",
        "model",
    )
    assert_error(response, 400, expected)


def test_the_wrong_type_message_reads_as_english_for_a_consonant_too(gateway, world):
    world.endpoint(name="talk", models=[world.model("chatter")])
    response = httpx.post(
        f"{gateway.url}/v1/embeddings",
        headers={"Authorization": f"Bearer {world.token(world.alice)}"},
        json={"model": "talk", "input": "x"},
    )
    assert response.status_code == 400
    assert response.json()["error"]["message"] == "'talk' is a chat endpoint; call it at /v1/chat/completions."


def test_an_oversized_body_is_413(gateway, world, settings):
    world.endpoint()
    settings.GATEWAY_MAX_BODY_BYTES = 2048
    response = post(
        gateway,
        token=world.token(world.alice),
        json={"model": "chat", "messages": [{"role": "user", "content": "x" * 5000}]},
    )
    assert_error(response, 413, error("Request body is larger than 2048 bytes.", "invalid_request_error", "too_large"))


def test_provider_rate_limits_come_back_as_429_with_retry_after(gateway, world):
    world.endpoint(models=[world.model("limited")])
    world.upstream.configure("limited", rate_limit=True, retry_after=7)
    response = post(gateway, token=world.token(world.alice), json=CHAT)
    limited = error(
        "The provider is rate limiting this endpoint; retry later.", "rate_limit_error", "provider_rate_limited"
    )
    assert_error(response, 429, limited)
    assert response.headers["retry-after"] == "7"  # the provider's own advice, passed on


def test_a_slow_provider_is_a_504(gateway, world):
    world.endpoint(models=[world.model("slow", litellm_params={"timeout": 0.5, "max_retries": 0})])
    world.upstream.configure("slow", delay=3)
    response = post(gateway, token=world.token(world.alice), json=CHAT)
    assert_error(response, 504, error("The provider did not answer in time.", "timeout", "provider_timeout"))


def test_a_wrong_method_is_405(gateway, world):
    response = httpx.get(f"{gateway.url}/v1/chat/completions", timeout=10)
    expected = error("Use POST for /v1/chat/completions.", "invalid_request_error", "method_not_allowed")
    assert_error(response, 405, expected)


def test_an_unknown_route_is_404(gateway, world):
    response = httpx.post(f"{gateway.url}/v1/nothing-here", timeout=10)
    assert_error(response, 404, error("Unknown API route: /v1/nothing-here", "not_found_error", "unknown_url"))


def test_the_proxy_fast_path_still_checks_the_host(gateway, world):
    world.endpoint()
    response = post(
        gateway,
        token=world.token(world.alice),
        headers={"Host": "evil.example"},
        json=CHAT,
    )
    assert_error(response, 400, error("Invalid Host header.", "invalid_request_error", "invalid_host"))
    assert world.upstream.stats()["total"] == 0
