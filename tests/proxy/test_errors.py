"""Every error status the proxy promises, in the OpenAI shape, never HTML, never a secret."""

from __future__ import annotations

import httpx
import pytest

from sharing.levels import Level
from tests.proxy.conftest import UPSTREAM_SECRET

# Every test here runs on the direct path and on LiteLLM's translated path.
pytestmark = pytest.mark.usefixtures("both_paths")

MESSAGES = [{"role": "user", "content": "hi"}]


def post(gateway, path="/v1/chat/completions", token=None, **kwargs):
    headers = kwargs.pop("headers", {})
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return httpx.post(f"{gateway.url}{path}", headers=headers, timeout=30, **kwargs)


def assert_openai_error(response, status, code=None):
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    if code:
        assert error["code"] == code
    assert UPSTREAM_SECRET not in response.text and "Traceback" not in response.text
    return error


def test_missing_and_bad_tokens_are_401(gateway, world):
    world.endpoint()
    assert_openai_error(post(gateway, json={"model": "chat", "messages": MESSAGES}), 401, "missing_api_key")
    assert_openai_error(post(gateway, token="gw_nope_nope", json={"model": "chat", "messages": MESSAGES}), 401)


@pytest.mark.parametrize("header", ["x-api-key", "api-key"])
def test_other_auth_headers_work(gateway, world, header):
    world.endpoint()
    response = post(gateway, headers={header: world.token(world.alice)}, json={"model": "chat", "messages": MESSAGES})
    assert response.status_code == 200


def test_unknown_and_invisible_endpoints_look_the_same(gateway, world):
    world.endpoint()
    unknown = assert_openai_error(
        post(gateway, token=world.token(world.bob), json={"model": "nope", "messages": MESSAGES}), 404
    )
    hidden = assert_openai_error(
        post(gateway, token=world.token(world.bob), json={"model": "chat", "messages": MESSAGES}), 404
    )
    assert unknown["code"] == hidden["code"] == "model_not_found"


def test_read_without_use_is_403_and_use_is_enough(gateway, world):
    endpoint = world.endpoint()
    world.share(endpoint, world.bob, Level.READ)
    assert_openai_error(post(gateway, token=world.token(world.bob), json={"model": "chat", "messages": MESSAGES}), 403)
    world.share(endpoint, world.bob, Level.USE)
    assert post(gateway, token=world.token(world.bob), json={"model": "chat", "messages": MESSAGES}).status_code == 200


def test_revoking_access_takes_effect_at_once(gateway, world):
    endpoint = world.endpoint()
    world.share(endpoint, world.bob, Level.USE)
    assert post(gateway, token=world.token(world.bob), json={"model": "chat", "messages": MESSAGES}).status_code == 200
    from sharing import services as sharing

    sharing.revoke(endpoint, world.bob)
    assert post(gateway, token=world.token(world.bob), json={"model": "chat", "messages": MESSAGES}).status_code == 404


def test_a_stopped_endpoint_is_409_without_retry(gateway, world):
    from endpoints import lifecycle

    endpoint = world.endpoint()
    token = world.token(world.alice)
    assert post(gateway, token=token, json={"model": "chat", "messages": MESSAGES}).status_code == 200
    lifecycle.stop_endpoint(endpoint, actor=world.alice)
    response = post(gateway, token=token, json={"model": "chat", "messages": MESSAGES})
    assert_openai_error(response, 409, "endpoint_not_running")
    assert response.headers["x-should-retry"] == "false"


@pytest.mark.parametrize(
    "body, param",
    [
        ({"model": "chat", "messages": MESSAGES, "api_base": "http://evil.example"}, "api_base"),
        ({"model": "chat", "messages": MESSAGES, "base_url": "http://evil.example"}, "base_url"),
        ({"model": "chat", "messages": MESSAGES, "api_key": "sk-mine"}, "api_key"),
        ({"model": "chat", "messages": MESSAGES, "extra_headers": {"x": "y"}}, "extra_headers"),
        ({"model": "chat", "messages": MESSAGES, "mock_response": "free"}, "mock_response"),
        ({"model": "chat", "messages": MESSAGES, "fallbacks": ["other"]}, "fallbacks"),
        ({"model": "chat", "messages": MESSAGES, "_target_order": 2}, "_target_order"),
        ({"model": "chat", "messages": MESSAGES, "aws_access_key_id": "x"}, "aws_access_key_id"),
        ({"model": "chat", "messages": MESSAGES, "metadata": {"callbacks": "http://evil"}}, None),
        ({"model": "chat"}, "messages"),
        ({"messages": MESSAGES}, "model"),
        ({"model": "chat", "messages": "not a list"}, "messages"),
    ],
)
def test_fields_outside_the_allowlist_are_refused(gateway, world, body, param):
    world.endpoint()
    error = assert_openai_error(post(gateway, token=world.token(world.alice), json=body), 400)
    if param:
        assert error["param"] == param
    assert world.upstream.stats()["total"] == 0


def test_bad_json_is_a_400(gateway, world):
    world.endpoint()
    response = post(
        gateway, token=world.token(world.alice), content=b"{nope", headers={"content-type": "application/json"}
    )
    assert_openai_error(response, 400, "invalid_json")


def test_the_wrong_endpoint_type_is_a_400_naming_the_right_path(gateway, world):
    world.endpoint(name="vectors", endpoint_type="embedding", models=[world.model("embedder")])
    error = assert_openai_error(
        post(gateway, token=world.token(world.alice), json={"model": "vectors", "messages": MESSAGES}), 400
    )
    assert "/v1/embeddings" in error["message"]


def test_an_oversized_body_is_413(gateway, world, settings):
    world.endpoint()
    settings.GATEWAY_MAX_BODY_BYTES = 2048
    response = post(
        gateway,
        token=world.token(world.alice),
        json={"model": "chat", "messages": [{"role": "user", "content": "x" * 5000}]},
    )
    assert_openai_error(response, 413)


def test_provider_rate_limits_come_back_as_429_with_retry_after(gateway, world):
    world.endpoint(models=[world.model("limited")])
    world.upstream.configure("limited", rate_limit=True, retry_after=7)
    response = post(gateway, token=world.token(world.alice), json={"model": "chat", "messages": MESSAGES})
    assert_openai_error(response, 429)
    assert response.headers["retry-after"] == "7"  # the provider's own advice, passed on


def test_a_slow_provider_is_a_504(gateway, world):
    world.endpoint(models=[world.model("slow", litellm_params={"timeout": 0.5, "max_retries": 0})])
    world.upstream.configure("slow", delay=3)
    assert_openai_error(
        post(gateway, token=world.token(world.alice), json={"model": "chat", "messages": MESSAGES}), 504
    )


def test_unknown_routes_and_wrong_methods_answer_json(gateway, world):
    assert_openai_error(httpx.get(f"{gateway.url}/v1/chat/completions", timeout=10), 405)
    assert_openai_error(httpx.post(f"{gateway.url}/v1/nothing-here", timeout=10), 404)


def test_the_proxy_fast_path_still_checks_the_host(gateway, world):
    world.endpoint()
    response = post(
        gateway,
        token=world.token(world.alice),
        headers={"Host": "evil.example"},
        json={"model": "chat", "messages": MESSAGES},
    )
    assert response.status_code == 400
    assert world.upstream.stats()["total"] == 0
