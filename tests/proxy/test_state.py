"""The proxy's in-process caches stay bounded and retire what they drop."""

from __future__ import annotations

import asyncio
import uuid

import httpx

from gatewaylib.scrub import Scrubber
from proxy import state as state_module
from proxy.state import EndpointInfo, ProxyState, RouterEntry


class FakeRouter:
    retired = 0

    def get_model_list(self):
        return []

    def retire(self):
        FakeRouter.retired += 1


def info(version=1, endpoint_id=None):
    return EndpointInfo(
        id=endpoint_id or uuid.uuid4(),
        name="x",
        endpoint_type="chat",
        status="running",
        config_version=version,
        rate_limit_rpm=None,
        rate_limit_tpm=None,
    )


def test_the_router_cache_is_bounded_and_retires_what_it_drops(monkeypatch):
    monkeypatch.setattr(state_module, "MAX_ROUTERS", 5)
    monkeypatch.setattr(state_module, "_build_router", lambda endpoint_id: RouterEntry(FakeRouter(), (), Scrubber()))
    FakeRouter.retired = 0
    proxy_state = ProxyState()

    async def build_many():
        for _ in range(1000):
            await proxy_state.router(info())

    asyncio.run(build_many())
    assert len(proxy_state.routers) == 5
    assert FakeRouter.retired == 995


def test_a_new_config_version_replaces_the_old_router(monkeypatch):
    monkeypatch.setattr(state_module, "_build_router", lambda endpoint_id: RouterEntry(FakeRouter(), (), Scrubber()))
    FakeRouter.retired = 0
    proxy_state = ProxyState()
    endpoint_id = uuid.uuid4()

    async def versions():
        first = await proxy_state.router(info(1, endpoint_id))
        again = await proxy_state.router(info(1, endpoint_id))
        second = await proxy_state.router(info(2, endpoint_id))
        return first, again, second

    first, again, second = asyncio.run(versions())
    assert first is again and second is not first
    assert list(proxy_state.routers) == [(endpoint_id, 2)] and FakeRouter.retired == 1


def test_the_other_caches_are_bounded(monkeypatch):
    monkeypatch.setattr(state_module, "MAX_ENTRIES", 100)
    cache = state_module._Cache()
    for n in range(10_000):
        cache.put(n, n)
    assert len(cache._data) <= 100


def test_metrics_are_exported_for_prometheus(gateway, world):
    world.endpoint()
    token = world.token(world.alice)
    httpx.post(
        f"{gateway.url}/v1/chat/completions",
        headers={"Authorization": f"Bearer {token}"},
        json={"model": "chat", "messages": [{"role": "user", "content": "hi"}]},
        timeout=30,
    )
    body = httpx.get(f"{gateway.url}/metrics", timeout=10).text
    assert 'gateway_requests_total{endpoint="chat",model="openai/upstream-a",status="200"}' in body
    assert "gateway_request_latency_seconds_bucket" in body
    assert 'gateway_tokens_total{endpoint="chat",kind="prompt",model="openai/upstream-a"}' in body


def test_metrics_can_require_a_token(gateway, world, settings):
    settings.GATEWAY_METRICS_TOKEN = "metrics-secret"
    assert httpx.get(f"{gateway.url}/metrics", timeout=10).status_code == 401
    ok = httpx.get(f"{gateway.url}/metrics", headers={"Authorization": "Bearer metrics-secret"}, timeout=10)
    assert ok.status_code == 200
