"""The catalog services: providers and models read once from LiteLLM's model map."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from unittest import mock

import pytest

from catalog import model_map, services
from catalog.model_map import build_catalog
from catalog.providers import KNOWN_PROVIDERS, description, display_name

HAND_WRITTEN = {
    "openai": "OpenAI",
    "anthropic": "Anthropic",
    "bedrock": "Amazon Bedrock",
    "vertex_ai": "Google Vertex AI",
    "azure": "Azure OpenAI",
    "gemini": "Google AI Studio (Gemini)",
}


def test_it_lists_more_than_a_hundred_providers_sorted_by_name():
    names = [p["name"] for p in services.list_providers()]
    assert len(names) > 100
    assert names == sorted(names)
    assert len(set(names)) == len(names)


@pytest.mark.parametrize(("name", "expected"), HAND_WRITTEN.items())
def test_the_most_used_providers_have_hand_written_names(name, expected):
    assert services.get_provider(name)["display_name"] == expected


def test_at_least_25_hand_written_providers_are_in_the_list():
    names = {p["name"] for p in services.list_providers()}
    assert len(names & KNOWN_PROVIDERS.keys()) >= 25


def test_every_provider_has_a_display_name_description_and_modes():
    for provider in services.list_providers():
        assert provider["display_name"].strip(), provider
        assert provider["description"].strip(), provider
        assert provider["supported_modes"], provider
        assert provider["supported_modes"] == sorted(set(provider["supported_modes"]))


def test_other_providers_get_a_generated_name_and_description():
    assert display_name("some_new_ai") == "Some New AI"
    assert description("some_new_ai") == "Models served by Some New AI through LiteLLM."


def test_vertex_ai_sub_families_are_folded_into_vertex_ai():
    assert not any(p["name"].startswith("vertex_ai-") for p in services.list_providers())
    vertex_names = {m["model_name"] for m in services.list_models("vertex_ai")}
    assert any(name.startswith("claude-") for name in vertex_names)  # from vertex_ai-anthropic_models
    assert any(name.startswith("gemini-") for name in vertex_names)  # from vertex_ai-language-models


def test_bedrock_converse_is_folded_into_bedrock():
    assert not services.is_provider("bedrock_converse")
    assert services.is_provider("bedrock")


def test_is_provider_and_get_provider_answer_for_unknown_names():
    assert services.is_provider("openai")
    assert not services.is_provider("no-such-provider")
    assert services.get_provider("no-such-provider") is None


def test_openai_models_are_unprefixed_and_carry_costs():
    models = {m["model_name"]: m for m in services.list_models("openai")}
    gpt_4o = models["gpt-4o"]
    assert gpt_4o["provider"] == "openai"
    assert gpt_4o["mode"] == "chat"
    assert isinstance(gpt_4o["input_cost_per_token"], float) and gpt_4o["input_cost_per_token"] > 0
    assert isinstance(gpt_4o["output_cost_per_token"], float) and gpt_4o["output_cost_per_token"] > 0
    assert isinstance(gpt_4o["max_input_tokens"], int)
    assert gpt_4o["supports_streaming"] is True
    assert not any(name.startswith("openai/") for name in models)


@pytest.mark.parametrize("provider", ["anthropic", "groq", "gemini", "azure", "bedrock", "vertex_ai", "fireworks_ai"])
def test_model_names_do_not_repeat_their_provider_prefix(provider):
    names = [m["model_name"] for m in services.list_models(provider)]
    assert names
    assert not [name for name in names if name.startswith(f"{provider}/")]
    assert len(names) == len(set(names))


def test_nested_paths_keep_everything_after_the_provider_prefix():
    fireworks = {m["model_name"] for m in services.list_models("fireworks_ai")}
    assert any(name.startswith("accounts/fireworks/models/") for name in fireworks)


def test_image_pricing_variants_collapse_onto_the_model():
    names = {m["model_name"] for m in services.list_models("openai", mode="image_generation")}
    assert not any("-x-" in name for name in names)


def test_the_mode_filter_keeps_only_that_mode():
    embeddings = services.list_models("openai", mode="embedding")
    assert embeddings
    assert {m["mode"] for m in embeddings} == {"embedding"}
    assert all(m["supports_streaming"] is False for m in embeddings)


def test_a_known_mode_the_provider_lacks_gives_an_empty_list():
    assert services.list_models("voyage", mode="audio_speech") == []


def test_an_unknown_provider_raises_unknown_provider():
    with pytest.raises(services.UnknownProvider, match="Unknown provider 'nope'."):
        services.list_models("nope")
    assert issubclass(services.UnknownProvider, LookupError)


def test_an_unknown_mode_raises_value_error_listing_the_valid_modes():
    with pytest.raises(ValueError, match="Valid modes: .*chat"):
        services.list_models("openai", mode="telepathy")


# What the catalog offers for each endpoint type, written from the providers'
# public model lists (not from the catalog's own tables): for a provider,
# models that must be offered and models of other kinds that must not be.
SERVED_BY_TYPE = {
    "chat": ("openai", {"gpt-4o", "o3", "o1-pro"}, {"text-embedding-3-small", "whisper-1", "tts-1", "gpt-image-1"}),
    # A completion endpoint also takes chat models (LiteLLM adapts the call), not Responses-only ones.
    "completion": ("openai", {"gpt-4o", "o3"}, {"o1-pro", "text-embedding-3-small", "omni-moderation-latest"}),
    "embedding": ("openai", {"text-embedding-3-small", "text-embedding-3-large"}, {"gpt-4o", "tts-1"}),
    "image_generation": ("openai", {"gpt-image-1"}, {"gpt-4o", "text-embedding-3-small"}),
    "audio_transcription": ("openai", {"whisper-1", "gpt-4o-transcribe"}, {"tts-1", "gpt-4o"}),
    "audio_speech": ("openai", {"tts-1", "tts-1-hd"}, {"whisper-1", "gpt-4o"}),
    "moderation": ("openai", {"omni-moderation-latest"}, {"gpt-4o", "text-embedding-3-small"}),
    "rerank": ("cohere", {"rerank-english-v3.0", "rerank-v3.5"}, {"embed-english-v3.0"}),
    # Perplexity has chat models and a search API; a search endpoint offers only the latter.
    "search": ("perplexity", {"search"}, {"sonar", "sonar-pro"}),
}

# Which of a few well-known providers serve each type, and which do not.
PROVIDERS_BY_TYPE = {
    "chat": ({"openai", "anthropic", "hosted_vllm", "ollama"}, {"voyage", "cohere", "elevenlabs"}),
    "completion": ({"openai", "anthropic", "cohere", "hosted_vllm"}, {"voyage", "elevenlabs"}),
    "embedding": ({"openai", "cohere", "voyage", "infinity"}, {"anthropic", "elevenlabs"}),
    "image_generation": ({"openai"}, {"anthropic", "cohere", "voyage"}),
    "audio_transcription": ({"openai", "deepgram", "elevenlabs"}, {"anthropic", "cohere"}),
    "audio_speech": ({"openai", "elevenlabs"}, {"anthropic", "deepgram"}),
    "moderation": ({"openai"}, {"anthropic", "cohere"}),
    "rerank": ({"cohere", "voyage", "jina_ai", "infinity", "hosted_vllm"}, {"openai", "anthropic"}),
    "search": ({"tavily", "exa_ai", "searxng", "perplexity", "serper"}, {"openai", "anthropic", "cohere"}),
}


def test_the_expectations_cover_every_endpoint_type_a_user_can_create():
    from endpoints.models import EndpointType

    assert set(SERVED_BY_TYPE) == set(PROVIDERS_BY_TYPE) == set(EndpointType.values)


@pytest.mark.parametrize("endpoint_type", SERVED_BY_TYPE)
def test_each_endpoint_type_offers_its_own_kind_of_models(endpoint_type):
    provider, offered, not_offered = SERVED_BY_TYPE[endpoint_type]
    names = {m["model_name"] for m in services.list_models(provider, endpoint_type=endpoint_type)}
    assert sorted(offered - names) == []
    assert sorted(not_offered & names) == []


@pytest.mark.parametrize("endpoint_type", PROVIDERS_BY_TYPE)
def test_each_endpoint_type_lists_the_providers_that_serve_it(endpoint_type):
    serving, not_serving = PROVIDERS_BY_TYPE[endpoint_type]
    listed = {p["name"] for p in services.providers_for_type(endpoint_type)}
    assert sorted(serving - listed) == []
    assert sorted(not_serving & listed) == []
    assert {name for name in serving | not_serving if services.serves_type(name, endpoint_type)} == serving


@pytest.mark.parametrize(
    ("mode", "model_name"),
    [
        ("chat", "gpt-4o"),
        ("responses", "o1-pro"),
        ("embedding", "text-embedding-3-small"),
        ("image_generation", "gpt-image-1"),
        ("audio_transcription", "whisper-1"),
        ("audio_speech", "tts-1"),
        ("moderation", "omni-moderation-latest"),
    ],
)
def test_the_mode_filter_finds_a_known_model_of_each_mode(mode, model_name):
    models = services.list_models("openai", mode=mode)
    assert model_name in {m["model_name"] for m in models}
    assert {m["mode"] for m in models} == {mode}


def test_an_unknown_endpoint_type_is_refused_with_the_valid_types():
    message = (
        "Unknown endpoint type 'telepathy'. Valid types: chat, completion, embedding, image_generation, "
        "audio_transcription, audio_speech, moderation, rerank, search."
    )
    with pytest.raises(ValueError) as raised:
        services.list_models("openai", endpoint_type="telepathy")
    assert str(raised.value) == message
    assert services.serves_type("openai", "telepathy") is False


def test_get_model_accepts_the_name_with_or_without_the_prefix():
    plain = services.get_model("openai", "gpt-4o")
    assert plain is not None
    assert services.get_model("openai", "openai/gpt-4o") == plain
    assert services.get_model("openai", "no-such-model") is None
    assert services.get_model("no-such-provider", "gpt-4o") is None


def test_litellm_model_name_puts_the_provider_prefix_back():
    assert services.litellm_model_name("openai", "gpt-4o") == "openai/gpt-4o"
    assert services.litellm_model_name("groq", "openai/gpt-oss-20b") == "groq/openai/gpt-oss-20b"


def test_every_model_uses_real_booleans_numbers_and_nulls():
    for provider in services.list_providers():
        for model in services.list_models(provider["name"]):
            for flag in ("supports_vision", "supports_function_calling", "supports_streaming", "supports_reasoning"):
                assert isinstance(model[flag], bool), model
            for field in ("max_input_tokens", "max_output_tokens"):
                assert model[field] is None or isinstance(model[field], int), model
            for field in ("input_cost_per_token", "output_cost_per_token"):
                assert model[field] is None or isinstance(model[field], float), model
            assert model["deprecation_date"] is None or isinstance(model["deprecation_date"], str), model


def test_callers_get_copies_they_can_change():
    services.list_providers()[0]["display_name"] = "changed"
    services.list_models("openai")[0]["model_name"] = "changed"
    assert services.list_providers()[0]["display_name"] != "changed"
    assert services.list_models("openai")[0]["model_name"] != "changed"


def test_the_map_is_parsed_once_per_process():
    model_map.load_catalog.cache_clear()
    with mock.patch.object(model_map, "build_catalog", wraps=model_map.build_catalog) as build:
        services.list_providers()
        services.list_models("openai", mode="chat")
        services.get_model("anthropic", "claude-sonnet-4-5")
        services.is_provider("groq")
    assert build.call_count == 1
    assert model_map.load_catalog.cache_info().misses == 1


def test_importing_the_services_does_not_import_litellm():
    code = "import sys, catalog.services; print('litellm' in sys.modules)"
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "False"


# build_catalog on a small hand-made map, for the rules the real map only shows by accident.

FAKE_MAP = {
    "sample_spec": {"litellm_provider": "one of the providers", "mode": "one of the modes"},
    "gpt-x": {"litellm_provider": "openai", "mode": "chat"},
    "openai/gpt-x": {"litellm_provider": "openai", "mode": "chat", "max_input_tokens": 1000, "supports_vision": True},
    "low/1024-x-1024/img-1": {"litellm_provider": "openai", "mode": "image_generation", "input_cost_per_pixel": 1.0},
    "img-1": {"litellm_provider": "openai", "mode": "image_generation"},
    "openai/no-stream": {"litellm_provider": "openai", "mode": "chat", "supports_streaming": False},
    "pricing-tier-up-to-4b": {"litellm_provider": "openai", "input_cost_per_token": 1e-7},
    "bedrock/us-east-1/anthropic.claude-v2": {"litellm_provider": "bedrock", "mode": "chat"},
    "vertex_ai/claude-x": {"litellm_provider": "vertex_ai-anthropic_models", "mode": "chat"},
    "vertex_ai/gemini-x": {"litellm_provider": "vertex_ai", "mode": "chat", "deprecation_date": "2030-01-01"},
}


def test_build_catalog_applies_the_documented_rules():
    catalog = build_catalog(FAKE_MAP)
    from catalog.model_map import SELF_HOSTED_PROVIDERS

    names = [p["name"] for p in catalog.providers if p["name"] not in SELF_HOSTED_PROVIDERS]
    assert names == ["bedrock", "openai", "vertex_ai"]
    openai = {m["model_name"]: m for m in catalog.models["openai"]}
    assert sorted(openai) == ["gpt-x", "img-1", "no-stream"]
    assert openai["gpt-x"]["max_input_tokens"] == 1000  # the entry with more information wins
    assert openai["gpt-x"]["supports_vision"] is True
    assert openai["gpt-x"]["input_cost_per_token"] is None
    assert openai["no-stream"]["supports_streaming"] is False
    assert openai["img-1"]["supports_streaming"] is False
    assert [m["model_name"] for m in catalog.models["bedrock"]] == ["us-east-1/anthropic.claude-v2"]
    vertex = {m["model_name"]: m for m in catalog.models["vertex_ai"]}
    assert sorted(vertex) == ["claude-x", "gemini-x"]
    assert vertex["gemini-x"]["deprecation_date"] == "2030-01-01"
    assert catalog.provider_index["openai"]["supported_modes"] == ("chat", "image_generation")


def test_self_hosted_providers_are_listed_without_models():
    provider = services.get_provider("hosted_vllm")
    assert provider is not None and "rerank" in provider["supported_modes"]
    assert services.list_models("hosted_vllm", mode="rerank") == []
