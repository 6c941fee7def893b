"""Connections obey the address rules every time, on every route, and no redirect is ever followed.

A key's api_base is checked when it is saved; these tests change the world
after that (the operator blocks private addresses, a name re-resolves to a
metadata address, the upstream starts redirecting) and call every route
through the proxy: each answers a clean 502 naming the rule, and nothing
reaches the address that was refused. (LiteLLM's Router retries a refused
deployment with a backoff, so each case takes a few seconds; the matrices
cover each HTTP client LiteLLM uses rather than every pair.)
"""

from __future__ import annotations

import socket

import httpx
import pytest
from aiohttp.resolver import ThreadedResolver

from tests.proxy.listeners import Attacker, Redirector

MESSAGES = [{"role": "user", "content": "hi"}]

# Every test here runs on the direct path and on LiteLLM's translated path.
pytestmark = pytest.mark.usefixtures("both_paths")

# route: (endpoint type, provider, path, body, multipart)
ROUTES = {
    "chat": ("chat", "openai", "/v1/chat/completions", {"messages": MESSAGES}),
    "chat-stream": ("chat", "openai", "/v1/chat/completions", {"messages": MESSAGES, "stream": True}),
    "completion": ("completion", "openai", "/v1/completions", {"prompt": "hi"}),
    "embedding": ("embedding", "openai", "/v1/embeddings", {"input": "hi"}),
    "image": ("image_generation", "openai", "/v1/images/generations", {"prompt": "a cat"}),
    "moderation": ("moderation", "openai", "/v1/moderations", {"input": "hi"}),
    "speech": ("audio_speech", "openai", "/v1/audio/speech", {"input": "hi", "voice": "alloy"}),
    "transcription": ("audio_transcription", "openai", "/v1/audio/transcriptions", None),
    "messages": ("chat", "openai", "/v1/messages", {"messages": MESSAGES, "max_tokens": 10}),
    "rerank": ("rerank", "hosted_vllm", "/v1/rerank", {"query": "q", "documents": ["a", "b"]}),
}


def call(gateway, world, route: str) -> httpx.Response:
    _, _, path, body = ROUTES[route]
    headers = {"Authorization": f"Bearer {world.token(world.alice)}"}
    if body is None:
        files = {"file": ("a.wav", b"RIFF0000WAVEfmt ", "audio/wav")}
        return httpx.post(f"{gateway.url}{path}", headers=headers, data={"model": "ep"}, files=files, timeout=30)
    return httpx.post(f"{gateway.url}{path}", headers=headers, json={"model": "ep", **body}, timeout=30)


def endpoint_at(world, route: str, api_base: str) -> None:
    endpoint_type, provider, _, _ = ROUTES[route]
    key = world.make_key(provider, name=f"{route}-key", api_base=api_base)
    world.endpoint(name="ep", endpoint_type=endpoint_type, models=[world.model("m", key=key, provider=provider)])


def refusal(response: httpx.Response) -> str:
    assert response.status_code == 502, response.text
    body = response.json()
    error = body["error"]
    if "code" in error:  # the OpenAI shape; /v1/messages answers in Anthropic's
        assert error["code"] == "destination_refused"
    return error["message"]


@pytest.mark.parametrize("route", ROUTES)
def test_a_private_address_is_refused_at_connect_time_once_the_operator_blocks_it(gateway, world, settings, route):
    # Saved while private addresses were allowed, by name, so the check happens at connect time.
    endpoint_at(world, route, world.upstream.base_url.replace("127.0.0.1", "localhost"))
    settings.GATEWAY_BLOCK_PRIVATE_API_BASE = True
    before = world.upstream.stats()["total"]
    message = refusal(call(gateway, world, route))
    assert message.startswith("The gateway refused to connect to localhost: ")
    assert "is a private or loopback address, which this gateway does not allow." in message
    assert world.upstream.stats()["total"] == before


@pytest.mark.parametrize("route", ["chat", "rerank"])
def test_an_ip_literal_is_checked_at_connect_time_too(gateway, world, settings, route):
    endpoint_at(world, route, world.upstream.base_url)
    settings.GATEWAY_BLOCK_PRIVATE_API_BASE = True
    before = world.upstream.stats()["total"]
    assert "127.0.0.1 is a private or loopback address" in refusal(call(gateway, world, route))
    assert world.upstream.stats()["total"] == before


@pytest.mark.parametrize("route", ["chat-stream", "rerank"])
def test_a_name_that_re_resolves_to_a_metadata_address_is_refused(gateway, world, monkeypatch, route):
    host = f"{route}.rebind.test"
    answer = {"address": "93.184.216.34"}  # public when the key is saved
    real_getaddrinfo = socket.getaddrinfo

    def getaddrinfo(name, port, *args, **kwargs):  # what the save-time check sees
        if name == host:
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (answer["address"], port or 80))]
        return real_getaddrinfo(name, port, *args, **kwargs)

    real_resolve = ThreadedResolver.resolve

    async def resolve(self, name, port=0, family=socket.AF_INET):  # what a connection resolves to
        if name == host:
            return [
                {
                    "hostname": name,
                    "host": answer["address"],
                    "port": port,
                    "family": family,
                    "proto": 0,
                    "flags": socket.AI_NUMERICHOST,
                }
            ]
        return await real_resolve(self, name, port, family)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(ThreadedResolver, "resolve", resolve)
    endpoint_at(world, route, f"http://{host}:8080/v1")
    answer["address"] = "169.254.169.254"  # ...and the cloud metadata service when it is called
    message = refusal(call(gateway, world, route))
    assert message == (
        f"The gateway refused to connect to {host}: 169.254.169.254 is a link-local or cloud metadata address."
    )


@pytest.fixture
def redirect_to_attacker():
    with Attacker() as attacker, Redirector(attacker.url) as redirector:
        yield redirector, attacker


@pytest.mark.parametrize(
    "route", ["chat", "chat-stream", "completion", "embedding", "moderation", "messages", "rerank"]
)
def test_a_redirect_is_never_followed(gateway, world, redirect_to_attacker, route):
    redirector, attacker = redirect_to_attacker
    endpoint_at(world, route, redirector.url + "/v1")
    message = refusal(call(gateway, world, route))
    assert message.startswith("The provider answered 307 with a redirect; the gateway never follows redirects")
    assert redirector.requests and attacker.requests == []
