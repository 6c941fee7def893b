"""Traffic split, failover, cooldown and the headers that explain routing."""

from __future__ import annotations

from collections import Counter

import httpx
import openai
import pytest

from endpoints.models import RequestLog
from proxy.usage import recorder
from tests.proxy.conftest import UPSTREAM_SECRET

# Every test here runs on the direct path and on LiteLLM's translated path.
pytestmark = pytest.mark.usefixtures("both_paths")


def chat(gateway, token, n=1, model="chat"):
    client = openai.OpenAI(base_url=f"{gateway.url}/v1", api_key=token, max_retries=0)
    results = []
    for _ in range(n):
        raw = client.chat.completions.with_raw_response.create(model=model, messages=[{"role": "user", "content": "x"}])
        results.append(raw)
    return results


def test_priority_one_shares_traffic_by_weight(gateway, world):
    world.endpoint(models=[world.model("seventy", weight=0.7), world.model("thirty", weight=0.3)])
    served = Counter(r.headers["x-gateway-model"] for r in chat(gateway, world.token(world.alice), n=300))
    share = served["openai/seventy"] / 300
    assert 0.6 < share < 0.8, served
    assert served["openai/seventy"] + served["openai/thirty"] == 300


def test_priority_two_is_used_only_when_priority_one_fails(gateway, world):
    world.endpoint(models=[world.model("primary"), world.model("backup", priority=2)])
    token = world.token(world.alice)
    assert {r.headers["x-gateway-model"] for r in chat(gateway, token, n=10)} == {"openai/primary"}

    world.upstream.configure("primary", fail_status=500)
    failed_over = chat(gateway, token)[0]
    assert (failed_over.headers["x-gateway-model"], failed_over.headers["x-gateway-attempts"]) == ("openai/backup", "2")
    assert world.upstream.stats()["hits"] == {"primary": 11, "backup": 1}  # ten served, one failed, then the backup
    recorder.flush()
    log = RequestLog.objects.order_by("-created_at").first()
    assert (log.status_code, log.model_served, log.attempts) == (200, "openai/backup", 2)


def test_a_failing_model_cools_down(gateway, world):
    world.endpoint(
        models=[
            world.model("healthy", weight=0.5),
            world.model("broken", weight=0.5),
            world.model("backup", priority=2),
        ]
    )
    world.upstream.configure("broken", fail_status=500)
    token = world.token(world.alice)
    # Send traffic until the weighted choice has picked the broken model once.
    for _ in range(50):
        chat(gateway, token)
        if world.upstream.stats()["hits"].get("broken", 0):
            break
    hits_after_warmup = world.upstream.stats()["hits"].get("broken", 0)
    assert hits_after_warmup >= 1
    served = Counter(r.headers["x-gateway-model"] for r in chat(gateway, token, n=20))
    assert served == {"openai/healthy": 20}
    assert world.upstream.stats()["hits"].get("broken", 0) == hits_after_warmup  # cooling down: no traffic


# What the client reads when the only model fails every attempt. The direct
# path quotes the provider's own message; the translated path quotes LiteLLM's
# exception text, which wraps the same message.
PROVIDER_FAILED = {
    "direct": "The provider failed: fake failure",
    "translated": (
        "The provider failed: litellm.InternalServerError: InternalServerError: OpenAIException - fake failure"
        "\n\nLiteLLM: model group 'chat' failed with the error above. No fallback was attempted."
    ),
}


def test_when_every_model_fails_the_client_gets_a_502(gateway, world, both_paths):
    world.endpoint(models=[world.model("down")])
    world.upstream.configure("down", fail_status=500)
    response = httpx.post(
        f"{gateway.url}/v1/chat/completions",
        headers={"Authorization": f"Bearer {world.token(world.alice)}"},
        json={"model": "chat", "messages": [{"role": "user", "content": "x"}]},
        timeout=30,
    )
    assert response.status_code == 502, response.text
    assert response.json() == {
        "error": {
            "message": PROVIDER_FAILED[both_paths],
            "type": "server_error",
            "param": None,
            "code": "provider_error",
        }
    }
    assert response.headers["content-type"] == "application/json"
    assert response.headers["x-gateway-attempts"] == "3"
    assert world.upstream.stats()["hits"] == {"down": 3}
    assert UPSTREAM_SECRET not in response.text
