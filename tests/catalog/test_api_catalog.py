"""The catalog API: provider and model listings for signed-in users."""

from __future__ import annotations

import pytest
from drf_spectacular.generators import SchemaGenerator

from catalog import model_map

pytestmark = pytest.mark.django_db

PROVIDERS_URL = "/api/3.0/mlflow/gateway/providers/list"
MODELS_URL = "/api/3.0/mlflow/gateway/models/list"


def test_it_lists_every_provider_sorted_by_name(api, alice):
    response = api(alice).get(PROVIDERS_URL)
    assert response.status_code == 200
    providers = response.json()["providers"]
    assert len(providers) > 100
    assert [p["name"] for p in providers] == sorted(p["name"] for p in providers)
    openai = next(p for p in providers if p["name"] == "openai")
    assert openai["display_name"] == "OpenAI"
    assert set(openai) == {"name", "display_name", "supported_modes", "description"}
    assert "chat" in openai["supported_modes"]


def test_every_provider_has_a_display_name_description_and_modes(api, alice):
    for provider in api(alice).get(PROVIDERS_URL).json()["providers"]:
        assert provider["display_name"] and provider["description"] and provider["supported_modes"], provider


def test_a_trailing_slash_is_accepted(api, alice):
    client = api(alice)
    assert client.get(f"{PROVIDERS_URL}/").status_code == 200
    assert client.get(f"{MODELS_URL}/", {"provider": "openai"}).status_code == 200


def test_it_lists_openai_models_without_the_prefix_and_with_costs(api, alice):
    response = api(alice).get(MODELS_URL, {"provider": "openai"})
    assert response.status_code == 200
    models = {m["model_name"]: m for m in response.json()["models"]}
    gpt_4o = models["gpt-4o"]
    assert isinstance(gpt_4o["input_cost_per_token"], float)
    assert isinstance(gpt_4o["output_cost_per_token"], float)
    assert gpt_4o["supports_function_calling"] is True
    assert set(gpt_4o) == {
        "model_name",
        "provider",
        "mode",
        "max_input_tokens",
        "max_output_tokens",
        "input_cost_per_token",
        "output_cost_per_token",
        "input_cost_per_query",
        "supports_vision",
        "supports_function_calling",
        "supports_streaming",
        "supports_reasoning",
        "deprecation_date",
    }
    assert gpt_4o["input_cost_per_query"] is None


@pytest.mark.django_db
def test_search_providers_are_listed_for_the_search_type_only_with_their_price_per_query(api, alice):
    client = api(alice)
    for_search = {p["name"] for p in client.get(PROVIDERS_URL, {"endpoint_type": "search"}).json()["providers"]}
    for_chat = {p["name"] for p in client.get(PROVIDERS_URL, {"endpoint_type": "chat"}).json()["providers"]}

    assert {"tavily", "exa_ai", "searxng", "perplexity"} <= for_search
    assert not {"tavily", "exa_ai", "searxng", "serper"} & for_chat  # search-only providers
    assert "perplexity" in for_chat  # it has chat models too
    assert "openai" not in for_search
    [tavily] = [
        m for m in client.get(MODELS_URL, {"provider": "tavily"}).json()["models"] if m["model_name"] == "search"
    ]
    assert (tavily["mode"], tavily["input_cost_per_query"]) == ("search", 0.008)


def test_anthropic_models_have_no_anthropic_prefix(api, alice):
    models = api(alice).get(MODELS_URL, {"provider": "anthropic"}).json()["models"]
    assert models
    assert all(m["provider"] == "anthropic" for m in models)
    assert not [m["model_name"] for m in models if m["model_name"].startswith("anthropic/")]
    assert any(m["model_name"].startswith("claude-") for m in models)


def test_the_mode_filter_keeps_only_that_mode(api, alice):
    response = api(alice).get(MODELS_URL, {"provider": "openai", "mode": "embedding"})
    assert response.status_code == 200
    models = response.json()["models"]
    assert models
    assert {m["mode"] for m in models} == {"embedding"}


def test_a_missing_provider_is_a_field_error(api, alice):
    response = api(alice).get(MODELS_URL)
    assert response.status_code == 400
    assert "provider" in response.json()["provider"][0]


def test_a_blank_provider_is_a_field_error(api, alice):
    response = api(alice).get(MODELS_URL, {"provider": ""})
    assert response.status_code == 400
    assert list(response.json()) == ["provider"]


def test_an_unknown_provider_answers_404(api, alice):
    response = api(alice).get(MODELS_URL, {"provider": "x"})
    assert response.status_code == 404
    assert response.json() == {"detail": "Unknown provider 'x'."}


def test_an_unknown_mode_answers_400_listing_the_valid_modes(api, alice):
    response = api(alice).get(MODELS_URL, {"provider": "openai", "mode": "telepathy"})
    assert response.status_code == 400
    message = response.json()["mode"][0]
    assert "telepathy" in message
    assert "chat" in message and "embedding" in message


@pytest.mark.parametrize("url", [PROVIDERS_URL, f"{MODELS_URL}?provider=openai"])
def test_anonymous_callers_get_401(api, url):
    assert api(None).get(url).status_code == 401


def test_requests_reuse_the_parsed_map(api, alice):
    client = api(alice)
    client.get(PROVIDERS_URL)  # make sure the catalog is loaded
    before = model_map.load_catalog.cache_info()
    assert client.get(PROVIDERS_URL).status_code == 200
    assert client.get(MODELS_URL, {"provider": "openai"}).status_code == 200
    after = model_map.load_catalog.cache_info()
    assert after.misses == before.misses
    assert after.hits >= before.hits + 2


def test_the_schema_documents_both_operations():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    paths = schema["paths"]
    assert f"{PROVIDERS_URL}/" not in paths  # the trailing-slash alias is not documented twice
    models = paths[MODELS_URL]["get"]
    parameters = {p["name"]: p for p in models["parameters"]}
    assert parameters["provider"]["required"] is True
    assert "mode" in parameters
    assert {"200", "400", "404"} <= set(models["responses"])
    assert paths[PROVIDERS_URL]["get"]["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ProviderList"
    }


# -- the picker's filters: providers by endpoint type, model search and order ----------------------


def test_providers_can_be_filtered_by_endpoint_type(api, alice):
    response = api(alice).get(PROVIDERS_URL, {"endpoint_type": "rerank"})
    assert response.status_code == 200
    names = [p["name"] for p in response.json()["providers"]]
    assert "cohere" in names and "infinity" in names
    assert "openai" not in names and "tavily" not in names
    assert names == sorted(names)
    embedding = [p["name"] for p in api(alice).get(PROVIDERS_URL, {"endpoint_type": "embedding"}).json()["providers"]]
    assert "openai" in embedding and "anthropic" not in embedding


def test_an_unknown_endpoint_type_is_a_field_error(api, alice):
    response = api(alice).get(PROVIDERS_URL, {"endpoint_type": "telepathy"})
    assert response.status_code == 400
    assert response.json() == {
        "endpoint_type": [
            "Unknown endpoint type 'telepathy'. Valid types: chat, completion, embedding, image_generation, "
            "audio_transcription, audio_speech, moderation, rerank, search."
        ]
    }


def test_model_search_keeps_names_containing_every_word(api, alice):
    response = api(alice).get(MODELS_URL, {"provider": "openai", "search": "4o mini"})
    assert response.status_code == 200
    found = [m["model_name"] for m in response.json()["models"]]
    assert "gpt-4o-mini" in found
    assert all("4o" in name and "mini" in name for name in found)
    assert found == sorted(found)  # the default order is by name


def test_models_can_be_filtered_by_endpoint_type(api, alice):
    models = api(alice).get(MODELS_URL, {"provider": "openai", "endpoint_type": "embedding"}).json()["models"]
    assert {m["model_name"] for m in models} >= {"text-embedding-3-small", "text-embedding-3-large"}
    assert {m["mode"] for m in models} == {"embedding"}
    assert api(alice).get(MODELS_URL, {"provider": "openai", "endpoint_type": "rerank"}).json() == {"models": []}


def test_the_recommended_order_puts_the_exact_match_first_and_fine_tunes_last(api, alice):
    query = {"provider": "openai", "search": "gpt-4o", "endpoint_type": "chat", "order": "recommended"}
    found = [m["model_name"] for m in api(alice).get(MODELS_URL, query).json()["models"]]
    assert found[0] == "gpt-4o"
    assert found[-1].startswith("ft:gpt-4o")


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"endpoint_type": "chatbot"}, "endpoint_type"),
        ({"order": "random"}, "order"),
        ({"search": "x" * 101}, "search"),
    ],
)
def test_bad_model_filters_are_field_errors(api, alice, query, field):
    response = api(alice).get(MODELS_URL, {"provider": "openai", **query})
    assert response.status_code == 400
    assert list(response.json()) == [field]


def test_the_schema_documents_the_filters():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    providers = {p["name"]: p for p in schema["paths"][PROVIDERS_URL]["get"]["parameters"]}
    assert set(providers["endpoint_type"]["schema"]["enum"]) == {
        "chat",
        "completion",
        "embedding",
        "image_generation",
        "audio_transcription",
        "audio_speech",
        "moderation",
        "rerank",
        "search",
    }
    assert "400" in schema["paths"][PROVIDERS_URL]["get"]["responses"]
    models = {p["name"] for p in schema["paths"][MODELS_URL]["get"]["parameters"]}
    assert {"endpoint_type", "search", "order"} <= models
