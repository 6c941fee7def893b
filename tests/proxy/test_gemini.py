"""Gemini's own API through the gateway, with Google's ``google-genai`` SDK as the client.

A team whose code already speaks Gemini points the SDK's base URL at
``<gateway>/gemini`` and its API key at a gateway token; the endpoint's name
stands where the model's would. The stored Gemini key goes upstream, the
client's token never does.
"""

from __future__ import annotations

import io
import logging

import httpx
import litellm
import pytest
from google import genai
from google.genai import errors as genai_errors
from google.genai import types

from gatewaylib.logs import KeyInUrlFilter
from sharing.levels import Level
from tests.proxy.conftest import UPSTREAM_SECRET

pytestmark = pytest.mark.django_db(transaction=True)

GEMINI_SECRET = "AIza-gemini-provider-secret-0123456789"


def client_for(gateway, token: str) -> genai.Client:
    """Keep the client in a variable while it is used: a collected Client closes its HTTP client."""
    options = types.HttpOptions(base_url=f"{gateway.url}/gemini", api_version="v1beta", timeout=30_000)
    return genai.Client(api_key=token, http_options=options)


@pytest.fixture
def gemini_key(world):
    return world.make_key("gemini", name="gemini", secret=GEMINI_SECRET, api_base=world.upstream.url)


def gemini_model(key, name: str, **extra) -> dict:
    return {"provider": "gemini", "model_name": name, "key_id": key.public_id, "litellm_params": {}, **extra}


@pytest.fixture
def chat(world, gemini_key):
    """``ask``: a running chat endpoint of two Gemini models, 70/30."""
    models = [gemini_model(gemini_key, "gemini-a", weight=0.7), gemini_model(gemini_key, "gemini-b", weight=0.3)]
    return world.endpoint(name="ask", models=models)


# -- the SDK's calls -----------------------------------------------------------------------------


def test_generate_content_reaches_a_gemini_model_with_the_stored_key_and_is_metered(gateway, world, chat):
    client = client_for(gateway, world.token(world.alice))

    response = client.models.generate_content(model="ask", contents="Say hello to the gateway")

    assert response.text in {"Hello from gemini-a", "Hello from gemini-b"}
    assert response.usage_metadata.prompt_token_count == 5
    [call] = world.calls_to(":generateContent")
    model = call["path"].removeprefix("/v1beta/models/").removesuffix(":generateContent")
    assert model in {"gemini-a", "gemini-b"}
    assert call["headers"]["x-goog-api-key"] == GEMINI_SECRET  # the key's secret, never the client's token
    assert world.token(world.alice) not in str(call["headers"])
    assert call["json"] == {"contents": [{"parts": [{"text": "Say hello to the gateway"}], "role": "user"}]}
    [row] = world.logged(chat)
    assert (row.status_code, row.prompt_tokens, row.completion_tokens) == (200, 5, 3)
    assert row.model_served == f"gemini/{model}"
    assert row.user_id == world.alice.pk


def test_a_system_instruction_and_generation_config_pass_through_unchanged(gateway, world, chat):
    client = client_for(gateway, world.token(world.alice))
    config = types.GenerateContentConfig(system_instruction="Be brief", temperature=0.2, max_output_tokens=16)

    client.models.generate_content(model="ask", contents="hi", config=config)

    [call] = world.calls_to(":generateContent")
    assert call["json"]["systemInstruction"] == {"parts": [{"text": "Be brief"}], "role": "user"}
    assert call["json"]["generationConfig"] == {"temperature": 0.2, "maxOutputTokens": 16}


def test_a_stream_arrives_chunk_by_chunk_and_its_last_usage_is_recorded(gateway, world, chat):
    world.upstream.configure("*", chunks=["one", " two", " three", " four"])
    client = client_for(gateway, world.token(world.alice))

    pieces = [chunk.text for chunk in client.models.generate_content_stream(model="ask", contents="count to four")]

    assert pieces == ["one", " two", " three", " four"]
    [call] = world.calls_to(":streamGenerateContent")
    assert call["query"] == {"alt": "sse"}
    [row] = world.logged(chat)
    assert (row.status_code, row.stream, row.prompt_tokens, row.completion_tokens) == (200, True, 3, 4)
    assert row.ttft_ms is not None


def test_count_tokens_is_answered_by_the_provider(gateway, world, chat):
    client = client_for(gateway, world.token(world.alice))

    assert client.models.count_tokens(model="ask", contents="four words right here").total_tokens == 4
    [row] = world.logged(chat)
    assert (row.status_code, row.prompt_tokens, row.completion_tokens) == (200, 0, 0)


def test_embed_content_goes_to_the_chosen_model_named_in_every_request(gateway, world, gemini_key):
    endpoint = world.endpoint(
        name="vectors", endpoint_type="embedding", models=[gemini_model(gemini_key, "text-embedding-004")]
    )
    client = client_for(gateway, world.token(world.alice))

    result = client.models.embed_content(
        model="vectors", contents=["first text", "second"], config=types.EmbedContentConfig(output_dimensionality=4)
    )

    assert [len(embedding.values) for embedding in result.embeddings] == [4, 4]
    [call] = world.calls_to("/text-embedding-004:batchEmbedContents")
    # The SDK names the endpoint in each request; the provider gets its own model's name.
    assert [item["model"] for item in call["json"]["requests"]] == ["models/text-embedding-004"] * 2
    assert [row.status_code for row in world.logged(endpoint)] == [200]


def test_a_single_embed_content_call_over_rest(gateway, world, gemini_key):
    world.endpoint(name="vectors", endpoint_type="embedding", models=[gemini_model(gemini_key, "text-embedding-004")])

    response = httpx.post(
        f"{gateway.url}/gemini/v1beta/models/vectors:embedContent",
        headers={"x-goog-api-key": world.token(world.alice)},
        json={"content": {"parts": [{"text": "hello"}]}, "output_dimensionality": 3},
    )

    assert response.status_code == 200
    assert len(response.json()["embedding"]["values"]) == 3


def test_the_key_query_parameter_authenticates_as_in_googles_rest_examples(gateway, world, chat):
    response = httpx.post(
        f"{gateway.url}/gemini/v1beta/models/ask:generateContent?key={world.token(world.alice)}",
        json={"contents": [{"parts": [{"text": "hi"}]}]},
    )

    assert response.status_code == 200
    [call] = world.calls_to(":generateContent")
    assert call["query"] == {}  # the client's token is not passed on in the URL either


# -- routing ---------------------------------------------------------------------------------------


def test_a_failing_first_priority_fails_over_to_the_fallback(gateway, world, gemini_key):
    endpoint = world.endpoint(
        name="ask",
        models=[gemini_model(gemini_key, "gemini-main"), gemini_model(gemini_key, "gemini-spare", priority=2)],
    )
    world.upstream.configure("gemini-main", fail_status=500)
    client = client_for(gateway, world.token(world.alice))

    response = client.models.generate_content(model="ask", contents="hi")

    assert response.text == "Hello from gemini-spare"
    [row] = world.logged(endpoint)
    assert (row.model_served, row.attempts) == ("gemini/gemini-spare", 2)
    assert [attempt["model"] for attempt in row.failed_attempts] == ["gemini/gemini-main"]


def test_a_provider_rate_limit_comes_back_in_googles_error_shape(gateway, world, gemini_key):
    world.endpoint(name="ask", models=[gemini_model(gemini_key, "gemini-main")])
    world.upstream.configure("gemini-main", rate_limit=True, retry_after=7)

    response = httpx.post(
        f"{gateway.url}/gemini/v1beta/models/ask:generateContent",
        headers={"x-goog-api-key": world.token(world.alice)},
        json={"contents": [{"parts": [{"text": "hi"}]}]},
    )

    assert response.status_code == 429
    assert response.headers["retry-after"] == "7"
    assert response.json() == {
        "error": {
            "code": 429,
            "message": "The provider is rate limiting this endpoint; retry later.",
            "status": "RESOURCE_EXHAUSTED",
            "details": [
                {
                    "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                    "reason": "provider_rate_limited",
                    "domain": "ai-gateway",
                }
            ],
        }
    }


# -- who may call, and what is refused -----------------------------------------------------------


def test_a_bad_token_is_refused_in_googles_shape_by_the_sdk(gateway, world, chat):
    client = client_for(gateway, "gw_not-a-token")
    with pytest.raises(genai_errors.ClientError) as raised:
        client.models.generate_content(model="ask", contents="hi")

    assert (raised.value.code, raised.value.status) == (401, "UNAUTHENTICATED")
    assert raised.value.message == "Invalid or expired gateway token."
    assert world.calls_to(":generateContent") == []


def test_use_is_needed_read_is_not_enough(gateway, world, chat):
    bob, charlie = client_for(gateway, world.token(world.bob)), client_for(gateway, world.token(world.charlie))
    world.share(chat, world.bob, Level.READ)
    with pytest.raises(genai_errors.ClientError) as raised:
        bob.models.generate_content(model="ask", contents="hi")
    assert (raised.value.code, raised.value.status) == (403, "PERMISSION_DENIED")
    assert raised.value.message == "You can see 'ask' but not call it: ask for USE permission."

    world.share(chat, world.bob, Level.USE)
    assert bob.models.generate_content(model="ask", contents="hi").text.startswith("Hello from gemini-")

    with pytest.raises(genai_errors.ClientError) as raised:  # charlie holds nothing: the endpoint is not there
        charlie.models.generate_content(model="ask", contents="hi")
    assert (raised.value.code, raised.value.status) == (404, "NOT_FOUND")


def test_an_endpoint_with_a_model_of_another_provider_refuses_the_gemini_api(gateway, world, gemini_key):
    world.endpoint(name="mixed", models=[gemini_model(gemini_key, "gemini-a"), world.model("gpt-x", priority=2)])

    client = client_for(gateway, world.token(world.alice))
    with pytest.raises(genai_errors.ClientError) as raised:
        client.models.generate_content(model="mixed", contents="hi")

    assert (raised.value.code, raised.value.status) == (400, "INVALID_ARGUMENT")
    assert raised.value.message == (
        "'mixed' cannot take Gemini API calls: every model of it must be a Gemini model without rpm/tpm limits "
        "of its own. Call it at /v1/chat/completions instead."
    )
    assert world.upstream.requests() == []


def test_fields_that_are_not_geminis_are_refused_before_anything_is_sent(gateway, world, chat):
    response = httpx.post(
        f"{gateway.url}/gemini/v1beta/models/ask:generateContent",
        headers={"x-goog-api-key": world.token(world.alice)},
        json={"contents": [{"parts": [{"text": "hi"}]}], "api_key": UPSTREAM_SECRET},
    )

    assert response.status_code == 400
    assert response.json()["error"]["status"] == "INVALID_ARGUMENT"
    assert "api_key" in response.json()["error"]["message"]
    assert world.upstream.requests() == []


def test_a_stream_without_alt_sse_is_refused_with_what_to_add(gateway, world, chat):
    response = httpx.post(
        f"{gateway.url}/gemini/v1beta/models/ask:streamGenerateContent",
        headers={"x-goog-api-key": world.token(world.alice)},
        json={"contents": [{"parts": [{"text": "hi"}]}]},
    )

    assert response.status_code == 400
    assert response.json()["error"]["message"] == (
        "Add ?alt=sse: /gemini/v1beta/models/ask:streamGenerateContent streams as server-sent events."
    )


def test_an_embedding_endpoint_is_not_a_chat_model(gateway, world, gemini_key):
    world.endpoint(name="vectors", endpoint_type="embedding", models=[gemini_model(gemini_key, "text-embedding-004")])

    client = client_for(gateway, world.token(world.alice))
    with pytest.raises(genai_errors.ClientError) as raised:
        client.models.generate_content(model="vectors", contents="hi")

    assert raised.value.code == 400
    assert raised.value.message == "'vectors' is an embedding endpoint; call it at /v1/embeddings."


def test_an_unknown_gemini_method_is_a_404_in_googles_shape(gateway, world, chat):
    response = httpx.post(
        f"{gateway.url}/gemini/v1beta/models/ask:predictLongRunning",
        headers={"x-goog-api-key": world.token(world.alice)},
        json={},
    )

    assert response.status_code == 404
    assert response.json()["error"]["status"] == "NOT_FOUND"
    assert response.json()["error"]["message"] == "Unknown API route: /gemini/v1beta/models/ask:predictLongRunning"


# -- the token in the URL ------------------------------------------------------------------------


def test_a_token_sent_as_key_in_the_url_is_withheld_from_access_log_lines():
    """``serve --access-log`` has uvicorn log each URL through the console handler (``log_config=None``)."""
    consoles = [
        handler
        for handler in logging.getLogger().handlers
        if any(isinstance(f, KeyInUrlFilter) for f in handler.filters) and isinstance(handler, logging.StreamHandler)
    ]
    assert consoles
    sink = io.StringIO()
    url = "/gemini/v1beta/models/ask:streamGenerateContent?key=gw_secret-token-123&alt=sse"
    record = logging.getLogger("uvicorn.access").makeRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5", "POST", url, "1.1", 200),
        None,
    )
    for handler in consoles:
        stream = handler.setStream(sink)
        try:
            handler.handle(record)
        finally:
            handler.setStream(stream)

    line = sink.getvalue()
    assert "gw_secret-token-123" not in line
    assert 'POST /gemini/v1beta/models/ask:streamGenerateContent?key=[withheld]&alt=sse HTTP/1.1" 200' in line


# -- cost, and where the API says the SDK goes ----------------------------------------------------


def test_cost_comes_from_geminis_usage_and_the_catalogs_prices(gateway, world, gemini_key):
    endpoint = world.endpoint(name="ask", models=[gemini_model(gemini_key, "gemini-2.5-flash")])
    client = client_for(gateway, world.token(world.alice))

    client.models.generate_content(model="ask", contents="two words")

    [row] = world.logged(endpoint)
    prices = litellm.model_cost["gemini/gemini-2.5-flash"]
    expected = 2 * prices["input_cost_per_token"] + 3 * prices["output_cost_per_token"]
    assert (row.prompt_tokens, row.completion_tokens) == (2, 3)
    assert float(row.cost_usd) == pytest.approx(expected)


def test_the_api_gives_the_sdks_base_url_only_for_an_endpoint_the_gemini_api_reaches(world, gemini_key, client):
    world.endpoint(name="ask", models=[gemini_model(gemini_key, "gemini-a")], start=False)
    world.endpoint(
        name="mixed", models=[gemini_model(gemini_key, "gemini-a"), world.model("gpt-x", priority=2)], start=False
    )
    client.force_login(world.alice)

    listed = client.get("/api/3.0/mlflow/gateway/endpoints/").json()["results"]

    assert {item["name"]: item["native_api_urls"] for item in listed} == {
        "ask": {"gemini": "http://testserver/gemini"},
        "mixed": {},
    }


def test_the_endpoints_request_limit_holds_on_the_gemini_api_too(gateway, world, gemini_key):
    world.endpoint(name="ask", models=[gemini_model(gemini_key, "gemini-a")], rate_limit_rpm=1)
    client = client_for(gateway, world.token(world.alice))
    client.models.generate_content(model="ask", contents="hi")

    with pytest.raises(genai_errors.ClientError) as raised:
        client.models.generate_content(model="ask", contents="again")

    assert (raised.value.code, raised.value.status) == (429, "RESOURCE_EXHAUSTED")
    assert len(world.calls_to(":generateContent")) == 1


def test_an_integer_beyond_64_bits_in_an_open_field_is_a_400_not_a_crash(gateway, world, chat):
    response = httpx.post(
        f"{gateway.url}/gemini/v1beta/models/ask:generateContent",
        headers={"x-goog-api-key": world.token(world.alice)},
        json={"contents": [{"parts": [{"text": "hi"}]}], "generationConfig": {"seed": 2**64}},
    )

    assert response.status_code == 400
    assert response.json()["error"]["message"] == "The request body holds an integer that does not fit in 64 bits."
    assert world.upstream.requests() == []
