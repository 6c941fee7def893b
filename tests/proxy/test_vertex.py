"""Vertex AI's own API through the gateway, with ``google-genai`` in Vertex AI mode as the client.

The SDK's base URL points at ``<gateway>/vertex_ai`` and its credentials are
a gateway token; the endpoint's name stands where the model's would. The
key's project and location are called, whatever the client names, with an
access token the gateway mints from the key's service account.
"""

from __future__ import annotations

import httpx
import pytest
from google import genai
from google.auth import jwt
from google.genai import errors as genai_errors
from google.genai import types
from google.oauth2.credentials import Credentials

from proxy import google_auth
from sharing.levels import Level
from tests.proxy.google_accounts import public_pem, service_account_json

pytestmark = pytest.mark.django_db(transaction=True)


def client_for(gateway, token: str, project: str = "client-project", location: str = "europe-west4") -> genai.Client:
    """Keep the client in a variable while it is used: a collected Client closes its HTTP client."""
    options = types.HttpOptions(base_url=f"{gateway.url}/vertex_ai", api_version="v1", timeout=30_000)
    return genai.Client(
        vertexai=True, project=project, location=location, credentials=Credentials(token=token), http_options=options
    )


@pytest.fixture(autouse=True)
def fresh_accounts():
    google_auth._ACCOUNTS.clear()  # every test mints its own first token
    yield
    google_auth._ACCOUNTS.clear()


@pytest.fixture
def vertex_key(world):
    secret = service_account_json(world.upstream.url + "/token")
    fields = {"api_base": world.upstream.url, "region": "us-central1", "project": "key-project"}
    return world.make_key("vertex_ai", name="vertex", secret=secret, **fields)


def vertex_model(key, name: str, **extra) -> dict:
    return {"provider": "vertex_ai", "model_name": name, "key_id": key.public_id, "litellm_params": {}, **extra}


@pytest.fixture
def chat(world, vertex_key):
    return world.endpoint(name="ask", models=[vertex_model(vertex_key, "gemini-a")])


def test_generate_content_goes_to_the_keys_project_with_a_token_from_its_service_account(gateway, world, chat):
    client = client_for(gateway, world.token(world.alice))

    response = client.models.generate_content(model="ask", contents="Say hello to Vertex")

    assert response.text == "Hello from gemini-a"
    [call] = world.calls_to(":generateContent")
    # The key's project and location, not the client's.
    assert (
        call["path"]
        == "/v1/projects/key-project/locations/us-central1/publishers/google/models/gemini-a:generateContent"
    )
    [grant] = world.calls_to("/token")
    # The token the key's token endpoint minted (the fake numbers them by its request count).
    assert call["headers"]["authorization"] == f"Bearer ya29.fake-token-{grant['seq']}"
    assert world.token(world.alice) not in str(call["headers"])
    assert call["json"] == {"contents": [{"parts": [{"text": "Say hello to Vertex"}], "role": "user"}]}
    assert grant["form"]["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer"
    claims = jwt.decode(grant["form"]["assertion"], certs=public_pem(), audience=world.upstream.url + "/token")
    assert claims["iss"] == "gateway@account-project.iam.gserviceaccount.com"
    assert claims["scope"] == "https://www.googleapis.com/auth/cloud-platform"
    [row] = world.logged(chat)
    assert (row.status_code, row.prompt_tokens, row.completion_tokens, row.model_served) == (
        200,
        4,
        3,
        "vertex_ai/gemini-a",
    )


def test_the_access_token_is_minted_once_and_reused(gateway, world, chat):
    client = client_for(gateway, world.token(world.alice))

    for _ in range(3):
        client.models.generate_content(model="ask", contents="hi")

    [grant] = world.calls_to("/token")
    minted = f"Bearer ya29.fake-token-{grant['seq']}"
    assert [c["headers"]["authorization"] for c in world.calls_to(":generateContent")] == [minted] * 3


def test_a_stream_and_count_tokens(gateway, world, chat):
    world.upstream.configure("*", chunks=["a", "b", "c"])
    client = client_for(gateway, world.token(world.alice))

    assert [chunk.text for chunk in client.models.generate_content_stream(model="ask", contents="x")] == ["a", "b", "c"]
    assert client.models.count_tokens(model="ask", contents="three words here").total_tokens == 3

    [stream] = world.calls_to(":streamGenerateContent")
    assert stream["query"] == {"alt": "sse"}
    assert [(row.stream, row.completion_tokens) for row in world.logged(chat)] == [(True, 3), (False, 0)]


def test_a_refused_service_account_fails_over_to_the_next_priority(gateway, world, vertex_key):
    broken = world.make_key(
        "vertex_ai",
        name="broken",
        secret=service_account_json(world.upstream.url + "/no-such-token-endpoint"),
        api_base=world.upstream.url,
        region="us-central1",
        project="key-project",
    )
    endpoint = world.endpoint(
        name="ask", models=[vertex_model(broken, "gemini-a"), vertex_model(vertex_key, "gemini-b", priority=2)]
    )
    client = client_for(gateway, world.token(world.alice))

    assert client.models.generate_content(model="ask", contents="hi").text == "Hello from gemini-b"
    [row] = world.logged(endpoint)
    assert row.failed_attempts == [
        {
            "model": "vertex_ai/gemini-a",
            "status": 502,
            "message": "The token endpoint refused the key's service account.",
        }
    ]


def test_an_api_key_instead_of_a_service_account_is_express_mode(gateway, world):
    key = world.make_key("vertex_ai", name="express", secret="AQ.vertex-express-key-0001", api_base=world.upstream.url)
    world.endpoint(name="ask", models=[vertex_model(key, "gemini-a")])
    client = client_for(gateway, world.token(world.alice))

    client.models.generate_content(model="ask", contents="hi")

    [call] = world.calls_to(":generateContent")
    assert call["path"] == "/v1/publishers/google/models/gemini-a:generateContent"
    assert call["headers"]["x-goog-api-key"] == "AQ.vertex-express-key-0001"
    assert "authorization" not in call["headers"]


def test_use_is_needed_and_errors_come_in_googles_shape(gateway, world, chat):
    world.share(chat, world.bob, Level.READ)
    bob = client_for(gateway, world.token(world.bob))

    with pytest.raises(genai_errors.ClientError) as raised:
        bob.models.generate_content(model="ask", contents="hi")

    assert (raised.value.code, raised.value.status) == (403, "PERMISSION_DENIED")
    assert world.upstream.requests() == []


def test_an_endpoint_with_a_model_of_another_provider_refuses_the_vertex_api(gateway, world, vertex_key):
    world.endpoint(name="mixed", models=[vertex_model(vertex_key, "gemini-a"), world.model("gpt-x", priority=2)])
    client = client_for(gateway, world.token(world.alice))

    with pytest.raises(genai_errors.ClientError) as raised:
        client.models.generate_content(model="mixed", contents="hi")

    assert raised.value.message == (
        "'mixed' cannot take Vertex AI API calls: every model of it must be a Vertex AI model without rpm/tpm "
        "limits of its own. Call it at /v1/chat/completions instead."
    )


def test_a_missing_token_is_a_401_naming_where_it_goes(gateway, world, chat):
    response = httpx.post(
        f"{gateway.url}/vertex_ai/v1/projects/p/locations/l/publishers/google/models/ask:generateContent",
        json={"contents": [{"parts": [{"text": "hi"}]}]},
    )

    assert response.status_code == 401
    assert response.json()["error"]["message"] == (
        "Missing gateway token: send it as the access token ('Authorization: Bearer <token>')."
    )


def test_the_api_gives_the_sdks_base_url(world, vertex_key, client):
    world.endpoint(name="ask", models=[vertex_model(vertex_key, "gemini-a")], start=False)
    client.force_login(world.alice)

    [item] = client.get("/api/3.0/mlflow/gateway/endpoints/").json()["results"]

    assert item["native_api_urls"] == {"vertex_ai": "http://testserver/vertex_ai"}


# -- embeddings ----------------------------------------------------------------------------------


def test_embed_content_on_vertex_ai_goes_to_predict_and_counts_each_instances_tokens(gateway, world, vertex_key):
    """google-genai calls :predict for a model whose name is not a Gemini one (the endpoint's, here)."""
    endpoint = world.endpoint(
        name="vectors", endpoint_type="embedding", models=[vertex_model(vertex_key, "text-embedding-005")]
    )
    client = client_for(gateway, world.token(world.alice))

    result = client.models.embed_content(
        model="vectors",
        contents=["first text here", "second"],
        config=types.EmbedContentConfig(output_dimensionality=4, task_type="RETRIEVAL_DOCUMENT"),
    )

    assert [len(embedding.values) for embedding in result.embeddings] == [4, 4]
    assert [embedding.statistics.token_count for embedding in result.embeddings] == [3, 1]
    [call] = world.calls_to(":predict")
    assert call["path"] == (
        "/v1/projects/key-project/locations/us-central1/publishers/google/models/text-embedding-005:predict"
    )
    assert call["json"] == {
        "instances": [
            {"content": "first text here", "task_type": "RETRIEVAL_DOCUMENT"},
            {"content": "second", "task_type": "RETRIEVAL_DOCUMENT"},
        ],
        "parameters": {"outputDimensionality": 4},
    }
    [row] = world.logged(endpoint)
    assert (row.status_code, row.prompt_tokens, row.completion_tokens) == (200, 4, 0)


def test_an_endpoint_named_like_a_gemini_model_is_embedded_with_embed_content(gateway, world, vertex_key):
    endpoint = world.endpoint(
        name="gemini-vectors", endpoint_type="embedding", models=[vertex_model(vertex_key, "gemini-embedding-001")]
    )
    client = client_for(gateway, world.token(world.alice))

    result = client.models.embed_content(
        model="gemini-vectors", contents="one two", config=types.EmbedContentConfig(output_dimensionality=3)
    )

    assert len(result.embeddings[0].values) == 3
    [call] = world.calls_to("/gemini-embedding-001:embedContent")
    assert call["json"]["embedContentConfig"] == {"outputDimensionality": 3}
    [row] = world.logged(endpoint)
    assert (row.status_code, row.prompt_tokens) == (200, 2)


def test_predict_refuses_a_field_vertex_ai_does_not_document(gateway, world, vertex_key):
    world.endpoint(name="vectors", endpoint_type="embedding", models=[vertex_model(vertex_key, "text-embedding-005")])

    response = httpx.post(
        f"{gateway.url}/vertex_ai/v1/publishers/google/models/vectors:predict",
        headers={"Authorization": f"Bearer {world.token(world.alice)}"},
        json={"instances": [{"content": "hi"}], "endpoint": "https://elsewhere.example"},
    )

    assert response.status_code == 400
    assert response.json()["error"]["message"] == "Unrecognized request argument supplied: endpoint"
    assert world.calls_to(":predict") == []
