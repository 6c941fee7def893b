"""Search endpoints: ``POST /v1/search`` (and the endpoint's invocations URL) answered by a web search provider.

LiteLLM's search API makes the call (Tavily's API here, at the fake
upstream); the Router chooses among the endpoint's models; each answered
query is billed at the catalog's price per query.
"""

from __future__ import annotations

import httpx
import litellm
import pytest

from sharing.levels import Level

pytestmark = pytest.mark.django_db(transaction=True)

TAVILY_SECRET = "tvly-provider-secret-0123456789"


@pytest.fixture
def tavily_key(world):
    return world.make_key("tavily", name="tavily", secret=TAVILY_SECRET, api_base=f"{world.upstream.url}/tavily-a")


def tavily_model(key, name: str = "search", **extra) -> dict:
    return {"provider": "tavily", "model_name": name, "key_id": key.public_id, "litellm_params": {}, **extra}


@pytest.fixture
def web(world, tavily_key):
    return world.endpoint(name="web", endpoint_type="search", models=[tavily_model(tavily_key)])


def search(gateway, token: str, body: dict, path: str = "/v1/search") -> httpx.Response:
    return httpx.post(f"{gateway.url}{path}", headers={"Authorization": f"Bearer {token}"}, json=body, timeout=30)


def test_a_search_reaches_the_provider_with_the_keys_secret_and_is_billed_per_query(gateway, world, web):
    response = search(
        gateway,
        world.token(world.alice),
        {"model": "web", "query": "llm gateways", "max_results": 2, "search_domain_filter": ["docs.example"]},
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["object"] == "search"
    assert [(hit["title"], hit["url"], hit["snippet"]) for hit in body["results"]] == [
        ("Result 1 for llm gateways from tavily-a", "https://docs.example/1", "A snippet about llm gateways."),
        ("Result 2 for llm gateways from tavily-a", "https://docs.example/2", "A snippet about llm gateways."),
    ]
    assert response.headers["x-gateway-model"] == "tavily/search"
    [call] = world.calls_to("/tavily-a/search")
    assert call["headers"]["authorization"] == f"Bearer {TAVILY_SECRET}"
    assert world.token(world.alice) not in str(call["headers"])
    assert call["json"] == {"query": "llm gateways", "max_results": 2, "include_domains": ["docs.example"]}
    [row] = world.logged(web)
    assert (row.status_code, row.model_served, row.user_id) == (200, "tavily/search", world.alice.pk)
    assert float(row.cost_usd) == pytest.approx(litellm.model_cost["tavily/search"]["input_cost_per_query"])


def test_the_endpoints_own_url_searches_too(gateway, world, web):
    response = search(gateway, world.token(world.alice), {"query": "hello"}, path="/gateway/web/invocations")

    assert response.status_code == 200, response.text
    assert len(response.json()["results"]) == 5


def test_a_failing_provider_fails_over_to_the_fallback_and_costs_nothing(gateway, world, tavily_key):
    spare = world.make_key(
        "tavily", name="tavily-b", secret="tvly-spare-0000000001", api_base=f"{world.upstream.url}/tavily-b"
    )
    endpoint = world.endpoint(
        name="web",
        endpoint_type="search",
        models=[tavily_model(tavily_key), tavily_model(spare, "search-advanced", priority=2)],
    )
    world.upstream.configure("tavily-a", fail_status=500)

    response = search(gateway, world.token(world.alice), {"model": "web", "query": "q"})

    assert response.status_code == 200, response.text
    assert response.json()["results"][0]["title"] == "Result 1 for q from tavily-b"
    assert (response.headers["x-gateway-model"], response.headers["x-gateway-attempts"]) == (
        "tavily/search-advanced",
        "2",
    )
    [row] = world.logged(endpoint)
    assert [attempt["model"] for attempt in row.failed_attempts] == ["tavily/search"]
    assert float(row.cost_usd) == pytest.approx(litellm.model_cost["tavily/search-advanced"]["input_cost_per_query"])


def test_when_every_provider_fails_the_client_gets_the_error_and_no_cost(gateway, world, web):
    world.upstream.configure("tavily-a", fail_status=500)

    response = search(gateway, world.token(world.alice), {"model": "web", "query": "q"})

    assert response.status_code == 502
    assert response.json()["error"]["code"] == "provider_error"
    assert TAVILY_SECRET not in response.text
    [row] = world.logged(web)
    assert (row.status_code, float(row.cost_usd)) == (502, 0.0)


def test_use_is_needed_read_is_not_enough(gateway, world, web):
    world.share(web, world.bob, Level.READ)
    refused = search(gateway, world.token(world.bob), {"model": "web", "query": "q"})
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "permission_denied")

    world.share(web, world.bob, Level.USE)
    assert search(gateway, world.token(world.bob), {"model": "web", "query": "q"}).status_code == 200

    hidden = search(gateway, world.token(world.charlie), {"model": "web", "query": "q"})
    assert (hidden.status_code, hidden.json()["error"]["code"]) == (404, "model_not_found")
    assert len(world.calls_to("/search")) == 1


def test_fields_beyond_the_search_api_are_refused_before_anything_is_sent(gateway, world, web):
    token = world.token(world.alice)
    for body, message in (
        ({"query": "q", "api_base": "http://attacker.example"}, "Unrecognized request argument supplied: api_base"),
        ({"query": "q", "max_results": 50}, None),
        ({}, "Missing required parameter: 'query'."),
    ):
        response = search(gateway, token, {"model": "web", **body})
        assert response.status_code == 400, response.text
        if message is not None:
            assert response.json()["error"]["message"] == message
    assert world.upstream.requests() == []


def test_a_chat_endpoint_is_not_a_search_endpoint(gateway, world):
    world.endpoint(name="chat")

    response = search(gateway, world.token(world.alice), {"model": "chat", "query": "q"})

    assert response.status_code == 400
    assert response.json()["error"]["message"] == "'chat' is a chat endpoint; call it at /v1/chat/completions."


def test_a_search_endpoint_is_not_a_chat_model(gateway, world, web):
    response = httpx.post(
        f"{gateway.url}/v1/chat/completions",
        headers={"Authorization": f"Bearer {world.token(world.alice)}"},
        json={"model": "web", "messages": [{"role": "user", "content": "hi"}]},
    )

    assert response.status_code == 400
    assert response.json()["error"]["message"] == "'web' is a search endpoint; call it at /v1/search."


def test_a_searxng_instance_of_the_teams_own_needs_no_secret_and_max_results_holds(gateway, world):
    key = world.make_key("searxng", name="searx", secret="", api_base=f"{world.upstream.url}/searx")
    world.endpoint(name="meta", endpoint_type="search", models=[tavily_model(key) | {"provider": "searxng"}])

    response = search(gateway, world.token(world.alice), {"model": "meta", "query": "open source", "max_results": 3})

    assert response.status_code == 200, response.text
    assert [hit["title"] for hit in response.json()["results"]] == [
        "Result 1 for open source from searx",
        "Result 2 for open source from searx",
        "Result 3 for open source from searx",
    ]
    assert response.json()["results"][0]["date"] == "2026-11-30T00:00:00"
    [call] = world.calls_to("/searx/search")
    assert (call["method"], call["query"]) == ("GET", {"q": "open source", "format": "json"})
    assert "authorization" not in call["headers"]  # no secret, none sent
