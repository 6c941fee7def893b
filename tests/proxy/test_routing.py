"""Traffic split, failover, cooldown and the headers that explain routing."""

from __future__ import annotations

from collections import Counter

import openai
import pytest

from endpoints.models import RequestLog
from proxy.usage import recorder

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
    assert failed_over.headers["x-gateway-model"] == "openai/backup"
    assert int(failed_over.headers["x-gateway-attempts"]) >= 2
    recorder.flush()
    log = RequestLog.objects.order_by("-created_at").first()
    assert log.model_served == "openai/backup" and log.attempts >= 2


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


def test_when_every_model_fails_the_client_gets_a_502(gateway, world):
    world.endpoint(models=[world.model("down")])
    world.upstream.configure("down", fail_status=500)
    client = openai.OpenAI(base_url=f"{gateway.url}/v1", api_key=world.token(world.alice), max_retries=0)
    try:
        client.chat.completions.create(model="chat", messages=[{"role": "user", "content": "x"}])
    except openai.APIStatusError as exc:
        assert exc.status_code == 502
        error = exc.response.json()["error"]
        assert (error["type"], error["code"]) == ("server_error", "provider_error"), error
        assert error["message"].startswith("The provider failed: ") and "fake failure" in error["message"]
        assert "sk-upstream" not in exc.response.text
    else:
        raise AssertionError("expected an error")
