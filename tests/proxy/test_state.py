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
    monkeypatch.setattr(state_module, "_load_router", lambda endpoint_id: RouterEntry(FakeRouter(), (), Scrubber()))
    FakeRouter.retired = 0
    proxy_state = ProxyState()

    async def build_many():
        for _ in range(1000):
            await proxy_state.router(info())

    asyncio.run(build_many())
    assert len(proxy_state.routers) == 5
    assert FakeRouter.retired == 995


def test_a_new_config_version_replaces_the_old_router(monkeypatch):
    monkeypatch.setattr(state_module, "_load_router", lambda endpoint_id: RouterEntry(FakeRouter(), (), Scrubber()))
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


def _samples(gateway) -> dict[str, float]:
    """The ``/metrics`` samples of the endpoint "chat" served by upstream-a, by metric name and extra labels."""
    from prometheus_client.parser import text_string_to_metric_families

    text = httpx.get(f"{gateway.url}/metrics", timeout=10).text
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = dict(sample.labels)
            if labels.pop("requested_model", None) == "chat" and labels.pop("model", None) == "upstream-a":
                assert labels.pop("api_provider") == "openai"
                labels.pop("le", None)
                found[sample.name + "".join(f"|{k}={v}" for k, v in sorted(labels.items()))] = sample.value
    return found


def test_metrics_are_exported_for_prometheus(gateway, world):
    """LiteLLM proxy's metric and label names, so dashboards built for it work unchanged."""
    world.endpoint()
    token = world.token(world.alice)
    before = _samples(gateway)  # the process has served other tests' "chat" endpoints already
    usage = httpx.post(
        f"{gateway.url}/v1/chat/completions",
        headers={"Authorization": f"Bearer {token}"},
        json={"model": "chat", "messages": [{"role": "user", "content": "hi"}]},
        timeout=30,
    ).json()["usage"]
    after = _samples(gateway)
    grew = {name: after[name] - before.get(name, 0) for name in after if after[name] != before.get(name, 0)}
    prompt, completion = usage["prompt_tokens"], usage["completion_tokens"]
    assert grew.pop("litellm_request_total_latency_metric_sum") > 0
    assert {n: v for n, v in grew.items() if not n.split("|")[0].endswith(("_bucket", "_created"))} == {
        "litellm_proxy_total_requests_metric_total|status_code=200": 1,
        "litellm_request_total_latency_metric_count": 1,
        "litellm_input_tokens_metric_total": prompt,
        "litellm_output_tokens_metric_total": completion,
        "litellm_total_tokens_metric_total": prompt + completion,
    }


def test_metrics_can_require_a_token(gateway, world, settings):
    settings.GATEWAY_METRICS_TOKEN = "metrics-secret"
    assert httpx.get(f"{gateway.url}/metrics", timeout=10).status_code == 401
    ok = httpx.get(f"{gateway.url}/metrics", headers={"Authorization": "Bearer metrics-secret"}, timeout=10)
    assert ok.status_code == 200
