"""The model picker's rules: which providers serve an endpoint type, the popular group, search, model order."""

from __future__ import annotations

from datetime import date

import pytest

from catalog import services
from catalog.model_map import SELF_HOSTED_PROVIDERS

TODAY = date(2026, 1, 15)


def model(name: str, deprecation_date: str | None = None) -> dict:
    return {"model_name": name, "deprecation_date": deprecation_date}


def ordered(*models: dict) -> list[str]:
    return [m["model_name"] for m in sorted(models, key=lambda m: services.model_sort_key(m, TODAY))]


def names(endpoint_type: str) -> set[str]:
    return {p["name"] for p in services.providers_for_type(endpoint_type)}


# -- providers by endpoint type ------------------------------------------------------------------


def test_rerank_offers_cohere_and_the_self_hosted_rerankers_but_not_openai():
    rerank = names("rerank")
    assert {"cohere", "voyage", "infinity", "hosted_vllm"} <= rerank
    assert "openai" not in rerank and "anthropic" not in rerank
    assert not services.serves_type("openai", "rerank")
    assert services.serves_type("cohere", "rerank")


def test_embeddings_offer_openai_and_infinity_but_not_anthropic():
    embedding = names("embedding")
    assert {"openai", "cohere", "infinity", "ollama"} <= embedding
    assert "anthropic" not in embedding


def test_chat_offers_the_chat_providers_and_self_hosted_servers_that_chat():
    chat = names("chat")
    assert {"openai", "anthropic", "groq", "hosted_vllm", "ollama"} <= chat
    assert "infinity" not in chat  # embeddings and rerank only
    assert "cohere" not in chat  # its chat models are filed under cohere_chat
    assert "cohere_chat" in chat


def test_completion_also_offers_chat_providers():
    # LiteLLM adapts a text completion onto the chat API, so validation accepts chat models there.
    assert {"anthropic", "text-completion-openai"} <= names("completion")
    assert "text-completion-openai" not in names("chat")


def test_search_only_providers_serve_the_search_type_and_no_other():
    search_only = {p["name"] for p in services.list_providers() if set(p["supported_modes"]) == {"search"}}
    assert {"tavily", "exa_ai", "duckduckgo"} <= search_only
    assert search_only <= names("search")
    for endpoint_type in set(services.MODES) - {"search"}:
        assert not search_only & names(endpoint_type), endpoint_type


@pytest.mark.parametrize("endpoint_type", services.MODES)
def test_a_provider_is_listed_exactly_when_it_has_a_model_for_the_type_or_is_a_self_hosted_server(endpoint_type):
    listed = names(endpoint_type)
    for provider in services.list_providers():
        has_models = bool(services.list_models(provider["name"], endpoint_type=endpoint_type))
        self_hosted = endpoint_type in SELF_HOSTED_PROVIDERS.get(provider["name"], ())
        assert (provider["name"] in listed) == (has_models or self_hosted), provider["name"]


def test_the_filtered_list_is_a_short_part_of_the_catalog_sorted_by_name():
    every = services.list_providers()
    rerank = [p["name"] for p in services.providers_for_type("rerank")]
    assert rerank == sorted(rerank)
    assert len(rerank) < len(every) / 4


def test_an_unknown_type_is_refused_and_serves_nothing():
    with pytest.raises(ValueError, match="Unknown endpoint type 'telepathy'. Valid types: chat, completion"):
        services.providers_for_type("telepathy")
    assert not services.serves_type("openai", "telepathy")
    assert not services.serves_type("no-such-provider", "chat")


def test_the_popular_group_keeps_its_fixed_order_and_only_providers_of_the_type():
    popular, others = services.popular_first(services.providers_for_type("rerank"))
    assert [p["name"] for p in popular] == ["bedrock", "vertex_ai", "cohere", "hosted_vllm"]
    labels = [p["display_name"].lower() for p in others]
    assert labels == sorted(labels)
    assert not {p["name"] for p in others} & set(services.POPULAR_PROVIDERS)
    chat_popular = [p["name"] for p in services.popular_first(services.providers_for_type("chat"))[0]]
    assert chat_popular[:4] == ["openai", "anthropic", "azure", "bedrock"]


def test_the_refusal_names_the_provider_and_some_that_serve_the_type():
    assert services.provider_type_message("openai", "rerank") == (
        "OpenAI does not serve rerank endpoints. "
        "Choose a provider that does, such as Amazon Bedrock, Google Vertex AI or Cohere."
    )
    assert services.provider_type_message("infinity", "audio_speech").startswith(
        "Infinity (self-hosted) does not serve audio speech endpoints."
    )


# -- search --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "search", "found"),
    [
        ("gpt-4o-mini", "4o mini", True),
        ("gpt-4o-mini", "GPT-4O", True),
        ("claude-sonnet-4-5", "sonnet 4.5", True),
        ("us.anthropic.claude-opus-4-1", "anthropic claude opus", True),
        ("gpt-4o", "mini", False),
        ("gpt-4o", "", True),
        ("gpt-4o", "   ", True),
    ],
)
def test_search_finds_names_containing_every_word(name, search, found):
    assert services.matches_search(name, search) is found


def test_searching_a_provider_keeps_only_matches_with_the_exact_name_first():
    models = services.list_models("openai", endpoint_type="chat", search="gpt-4o", order="recommended")
    found = [m["model_name"] for m in models]
    assert found[0] == "gpt-4o"
    assert all("gpt-4o" in name for name in found)
    assert "ft:gpt-4o-2024-08-06" in found
    assert found.index("gpt-4o-mini") < found.index("gpt-4o-2024-08-06") < found.index("ft:gpt-4o-2024-08-06")
    assert {m["mode"] for m in models} <= {"chat", "responses"}


def test_an_unknown_order_is_refused():
    with pytest.raises(ValueError, match="Unknown order 'random'"):
        services.list_models("openai", order="random")


# -- the order of models -------------------------------------------------------------------------


def test_current_families_come_first_newest_first_then_snapshots_deprecated_and_fine_tunes():
    assert ordered(
        model("ft:gpt-4o-2024-08-06"),
        model("gpt-3.5-turbo-0613", "2024-06-13"),
        model("gpt-4o-2024-08-06"),
        model("chat-latest"),
        model("gpt-4o"),
        model("gpt-4.1"),
        model("gpt-4o-mini"),
        model("gpt-5-mini"),
        model("gpt-5"),
        model("gpt-4-0613", "2025-06-06"),
        model("o3"),
        model("computer-use-preview"),
    ) == [
        "gpt-5",
        "gpt-5-mini",
        "gpt-4.1",
        "gpt-4o",
        "gpt-4o-mini",
        "o3",
        "chat-latest",  # no version: after the versioned current models
        "gpt-4o-2024-08-06",
        "computer-use-preview",
        "gpt-4-0613",
        "gpt-3.5-turbo-0613",
        "ft:gpt-4o-2024-08-06",
    ]


def test_claude_generations_read_with_dashes_and_the_old_naming():
    assert ordered(
        model("claude-3-5-sonnet-20240620", "2025-10-22"),
        model("claude-haiku-4-5-20251001"),
        model("claude-3-7-sonnet-latest"),
        model("claude-opus-4-1"),
        model("claude-sonnet-4-5"),
    ) == [
        "claude-sonnet-4-5",
        "claude-opus-4-1",
        "claude-3-7-sonnet-latest",
        "claude-haiku-4-5-20251001",
        "claude-3-5-sonnet-20240620",
    ]


def test_sizes_and_prefixes_are_not_versions_and_the_plain_name_leads_its_copies():
    assert ordered(
        model("llama-3.1-8b-instant"),
        model("llama-3.3-70b-versatile"),
        model("gpt-35-turbo"),
        model("us.anthropic.claude-opus-4-1"),
        model("eu.anthropic.claude-opus-4-1"),
        model("claude-opus-4-1"),
    ) == [
        "claude-opus-4-1",
        "eu.anthropic.claude-opus-4-1",
        "us.anthropic.claude-opus-4-1",
        "llama-3.3-70b-versatile",
        "llama-3.1-8b-instant",
        "gpt-35-turbo",  # Azure's spelling of 3.5: no generation 35
    ]


@pytest.mark.parametrize(
    ("name", "deprecation_date", "group"),
    [
        ("gpt-4o", None, "current"),
        ("gpt-4o", "2026-01-16", "current"),  # deprecated tomorrow: still current today
        ("gpt-4o", "2026-01-15", "deprecated"),
        ("ft:gpt-4o-mini-2024-07-18", "2025-01-01", "fine_tuned"),
        ("gpt-4o-2024-08-06", None, "snapshot"),
        ("claude-opus-4-7-20260416", None, "snapshot"),
        ("mistral-large-2512", None, "snapshot"),
        ("gemini-exp-1206", None, "snapshot"),
        ("gemini-3-pro-preview", None, "snapshot"),
        ("us-east-1/anthropic.claude-v2", None, "snapshot"),
        ("*/6-month-commitment/cohere.command-text-v14", None, "snapshot"),
        ("text-embedding-ada-002", None, "current"),
        ("imagen-3.0-generate-001", None, "current"),
    ],
)
def test_each_model_falls_in_one_group(name, deprecation_date, group):
    assert services.model_group(model(name, deprecation_date), TODAY) == group


@pytest.mark.parametrize(
    ("deprecation_date", "note"),
    [
        ("2025-06-01", "deprecated 2025-06-01"),
        ("2026-01-15", "deprecated 2026-01-15"),
        ("2026-03-01", "retires 2026-03-01"),
        ("2027-01-01", ""),
        (None, ""),
        ("not a date", ""),
    ],
)
def test_the_deprecation_note_shown_after_a_name(deprecation_date, note):
    assert services.deprecation_note(model("gpt-4o", deprecation_date), TODAY) == note


def test_the_real_catalog_puts_the_ones_people_pick_before_fine_tunes_and_deprecated():
    models = services.list_models("openai", endpoint_type="chat", order="recommended", today=TODAY)
    found = [m["model_name"] for m in models]
    assert found[-1].startswith("ft:")
    assert found.index("gpt-4o") < found.index("gpt-4o-2024-08-06") < found.index("ft:gpt-4o-2024-08-06")
    groups = [services.model_group(m, TODAY) for m in models]
    assert groups == sorted(groups, key=list(services.MODEL_GROUPS).index)
