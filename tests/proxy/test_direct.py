"""The direct path: which pairs take it, and that it passes the provider's bytes through unchanged.

The routing, failover, cooldown, error, limit, usage and zero-query tests run
on both paths (``both_paths``); these are the direct path's own promises:
one HTTP call from the gateway itself (aiohttp's user agent, not the
provider SDK's), the client's body forwarded with only ``model`` replaced,
the provider's answer returned as it came, Anthropic's Messages API spoken
natively, and the provider's own error message (scrubbed) on a 4xx.
"""

from __future__ import annotations

import json

import anthropic
import httpx
import openai
import pytest

from endpoints.models import RequestLog
from proxy.upstreams import upstream_for
from proxy.usage import recorder
from tests.proxy.conftest import UPSTREAM_SECRET

MESSAGES = [{"role": "user", "content": "hi there"}]


def post(gateway, world, body, path="/v1/chat/completions"):
    headers = {"Authorization": f"Bearer {world.token(world.alice)}"}
    return httpx.post(f"{gateway.url}{path}", headers=headers, json=body, timeout=30)


def sent_by_the_gateway_itself(request) -> bool:
    return request["headers"]["user-agent"].startswith("Python/") and "aiohttp" in request["headers"]["user-agent"]


# -- which pairs are direct --------------------------------------------------------------------------------


def deployment(provider, model="m", **params):
    return {
        "litellm_params": {"api_key": "sk-k", **params},
        "model_info": {"id": "d1", "provider": provider, "model_name": model},
    }


@pytest.mark.parametrize(
    ("provider", "params", "url"),
    [
        ("openai", {}, "https://api.openai.com/v1/chat/completions"),
        ("groq", {}, "https://api.groq.com/openai/v1/chat/completions"),
        ("openai", {"api_base": "http://10.0.0.5:8000/v1/"}, "http://10.0.0.5:8000/v1/chat/completions"),
        ("hosted_vllm", {"api_base": "http://vllm:8000/v1"}, "http://vllm:8000/v1/chat/completions"),
        ("ollama", {"api_base": "http://ollama:11434"}, "http://ollama:11434/v1/chat/completions"),
        (
            "azure",
            {"api_base": "https://team.openai.azure.com", "api_version": "2024-10-21"},
            "https://team.openai.azure.com/openai/deployments/m/chat/completions?api-version=2024-10-21",
        ),
    ],
)
def test_openai_format_chat_goes_direct_to_openai_compatible_providers(provider, params, url):
    upstream = upstream_for("chat", deployment(provider, **params))
    assert upstream.url == url
    assert upstream.model == "m"


def test_the_credential_is_presented_the_way_each_provider_expects():
    assert upstream_for("chat", deployment("openai", organization="org-1")).headers == {
        "Content-Type": "application/json",
        "Authorization": "Bearer sk-k",
        "OpenAI-Organization": "org-1",
    }
    azure = upstream_for("chat", deployment("azure", api_base="https://a.openai.azure.com", api_version="v"))
    assert azure.headers["api-key"] == "sk-k" and "Authorization" not in azure.headers
    messages = upstream_for("anthropic_messages", deployment("anthropic"))
    assert messages.url == "https://api.anthropic.com/v1/messages"
    assert messages.headers["x-api-key"] == "sk-k" and messages.headers["anthropic-version"] == "2023-06-01"
    keyless = upstream_for("chat", deployment("hosted_vllm", api_base="http://vllm/v1", api_key="EMPTY"))
    assert "Authorization" not in keyless.headers
    assert "sk-k" not in repr(messages)  # the secret stays out of reprs (logs, tracebacks)


@pytest.mark.parametrize(
    ("route", "provider", "params"),
    [
        ("chat", "anthropic", {}),  # OpenAI format to Anthropic: LiteLLM translates
        ("chat", "bedrock", {}),
        ("chat", "vertex_ai", {}),
        ("anthropic_messages", "openai", {}),  # Anthropic format to OpenAI
        ("image_generation", "groq", {}),  # only OpenAI's own API serves every route
        ("rerank", "hosted_vllm", {"api_base": "http://vllm/v1"}),
        ("audio_transcription", "openai", {}),
        ("chat", "hosted_vllm", {}),  # no address to call
        ("chat", "azure", {"api_base": "https://a.openai.azure.com"}),  # no api-version
    ],
)
def test_every_other_pair_is_translated_by_litellm(route, provider, params):
    assert upstream_for(route, deployment(provider, **params)) is None


def test_a_model_with_router_limits_is_translated(world):
    # The Router counts a deployment's rpm/tpm only on the calls it makes itself.
    from proxy.upstreams import direct_targets

    assert direct_targets("chat", [deployment("openai", rpm=10)]) is None
    assert direct_targets("chat", [deployment("openai"), deployment("bedrock")]) is None


# -- what goes out and what comes back ----------------------------------------------------------------------


def test_the_body_goes_out_as_sent_with_only_the_model_replaced(gateway, world):
    world.endpoint(models=[world.model("upstream-a")])
    body = {"model": "chat", "messages": MESSAGES, "temperature": 0.25, "user": "u-1", "seed": 7}
    response = post(gateway, world, body)
    assert response.status_code == 200
    sent = world.upstream.requests()[-1]
    assert sent_by_the_gateway_itself(sent)
    assert sent["json"] == {**body, "model": "upstream-a"}
    assert sent["headers"]["authorization"] == f"Bearer {UPSTREAM_SECRET}"
    assert world.token(world.alice) not in json.dumps(sent["headers"])


def test_the_providers_answer_comes_back_byte_for_byte(gateway, world, upstream):
    world.endpoint(models=[world.model("upstream-a")])
    response = post(gateway, world, {"model": "chat", "messages": MESSAGES})
    direct = httpx.post(
        f"{upstream.base_url}/chat/completions",
        headers={"Authorization": "Bearer x"},
        json={"model": "upstream-a", "messages": MESSAGES},
        timeout=10,
    )
    ours, theirs = response.json(), direct.json()
    for varying in ("id", "created"):
        ours.pop(varying), theirs.pop(varying)
    assert ours == theirs  # the fields and their order, not a re-serialised object
    assert list(response.json()) == list(direct.json())


def test_a_stream_asks_for_usage_and_drops_the_usage_chunk_the_client_did_not_ask_for(gateway, world):
    world.endpoint(models=[world.model("upstream-a")])
    headers = {"Authorization": f"Bearer {world.token(world.alice)}"}
    body = {"model": "chat", "messages": MESSAGES, "stream": True}
    with httpx.stream("POST", f"{gateway.url}/v1/chat/completions", headers=headers, json=body, timeout=30) as r:
        events = [line for line in r.iter_lines() if line.startswith("data: ")]
    assert world.upstream.requests()[-1]["json"]["stream_options"] == {"include_usage": True}
    assert events[-1] == "data: [DONE]"
    assert not any('"usage"' in event and '"choices":[]' in event.replace(" ", "") for event in events)
    recorder.flush()
    log = RequestLog.objects.get()
    assert log.stream and log.prompt_tokens > 0 and log.completion_tokens > 0 and log.ttft_ms is not None


def test_a_stream_that_asked_for_usage_gets_it(gateway, world):
    world.endpoint(models=[world.model("upstream-a")])
    client = openai.OpenAI(base_url=f"{gateway.url}/v1", api_key=world.token(world.alice), max_retries=0)
    chunks = list(
        client.chat.completions.create(
            model="chat", messages=MESSAGES, stream=True, stream_options={"include_usage": True}
        )
    )
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens > 0


def test_a_provider_4xx_comes_back_with_its_own_message(gateway, world):
    world.endpoint(models=[world.model("upstream-a")])
    world.upstream.configure("upstream-a", fail_status=422)
    response = post(gateway, world, {"model": "chat", "messages": MESSAGES})
    assert response.status_code == 400
    assert response.json()["error"] == {
        "message": "The provider rejected the request: fake failure",
        "type": "invalid_request_error",
        "param": None,
        "code": "provider_bad_request",
    }
    assert world.upstream.stats()["total"] == 1  # the request's own fault: not retried elsewhere


def test_a_provider_429_keeps_its_retry_after(gateway, world):
    world.endpoint(models=[world.model("limited")])
    world.upstream.configure("limited", rate_limit=True, retry_after=7)
    response = post(gateway, world, {"model": "chat", "messages": MESSAGES})
    assert response.status_code == 429
    assert response.headers["retry-after"] == "7"
    assert response.json()["error"]["code"] == "provider_rate_limited"


# -- Anthropic's Messages API, natively ------------------------------------------------------------------------


@pytest.fixture
def claude(gateway, world):
    key = world.make_key("anthropic", name="anthropic", secret="sk-ant-direct-secret-0123", api_base=world.upstream.url)
    world.endpoint(name="claude", models=[world.model("claude-haiku-4-5", key=key, provider="anthropic")])
    return anthropic.Anthropic(base_url=gateway.url, api_key=world.token(world.alice), max_retries=0)


def test_anthropic_messages_go_to_anthropic_as_they_are(claude, world):
    message = claude.messages.create(model="claude", max_tokens=50, messages=MESSAGES, metadata={"user_id": "u-1"})
    assert message.content[0].text and message.usage.input_tokens > 0
    sent = world.upstream.requests()[-1]
    assert sent["path"] == "/v1/messages" and sent_by_the_gateway_itself(sent)
    expected = {"model": "claude-haiku-4-5", "max_tokens": 50, "messages": MESSAGES, "metadata": {"user_id": "u-1"}}
    assert sent["json"] == expected
    assert sent["headers"]["x-api-key"] == "sk-ant-direct-secret-0123"
    assert sent["headers"]["anthropic-version"] == "2023-06-01"
    recorder.flush()
    log = RequestLog.objects.get()
    assert (log.model_served, log.prompt_tokens, log.completion_tokens) == (
        "anthropic/claude-haiku-4-5",
        message.usage.input_tokens,
        message.usage.output_tokens,
    )


def test_anthropic_streams_pass_through_event_by_event(claude, world):
    with claude.messages.stream(model="claude", max_tokens=50, messages=MESSAGES) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text and final.usage.output_tokens > 0
    assert world.upstream.requests()[-1]["json"]["stream"] is True
    recorder.flush()
    log = RequestLog.objects.get()
    assert log.stream and log.prompt_tokens > 0 and log.completion_tokens == final.usage.output_tokens


@pytest.mark.usefixtures("both_paths")
def test_the_anthropic_provider_serves_messages_on_both_paths(claude):
    assert claude.messages.create(model="claude", max_tokens=20, messages=MESSAGES).content[0].text
    with claude.messages.stream(model="claude", max_tokens=20, messages=MESSAGES) as stream:
        assert "".join(stream.text_stream)
