"""The catalog's public functions: which providers and models exist, and how LiteLLM names them.

Other apps (keys, endpoints, the UI, the API) call these and nothing else; the
data comes from ``catalog.model_map.load_catalog()``, parsed once per process.
Every function returns fresh dicts and lists, so a caller may change what it
gets back without touching the shared cache.

Model names are the ones a user types for a provider, without the provider's
prefix (``gpt-4o`` for openai, ``llama-3.1-8b-instant`` for groq);
``litellm_model_name`` adds the prefix back for the LiteLLM call. See
``catalog.model_map`` for how providers are folded and names derived.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from catalog.model_map import SELF_HOSTED_PROVIDERS, load_catalog

# Providers whose keys must say where to connect: self-hosted servers, and
# Azure, whose every resource has its own host.
API_BASE_REQUIRED = frozenset(SELF_HOSTED_PROVIDERS) | {"azure", "azure_text"}

# The modes an endpoint can be built for. The map knows more (responses,
# realtime, video_generation, ...); those still appear in ``supported_modes``
# and are accepted as a filter.
MODES: tuple[str, ...] = (
    "chat",
    "completion",
    "embedding",
    "image_generation",
    "audio_transcription",
    "audio_speech",
    "moderation",
    "rerank",
)


class UnknownProvider(LookupError):
    """Raised for a provider name the catalog does not know."""

    def __init__(self, name: str) -> None:
        super().__init__(f"Unknown provider '{name}'.")
        self.name = name


def list_providers() -> list[dict[str, Any]]:
    """Every provider, sorted by name: name, display_name, supported_modes, description."""
    return [_provider_dict(provider) for provider in load_catalog().providers]


def is_provider(name: str) -> bool:
    """Whether ``name`` is a provider in the catalog."""
    return name in load_catalog().provider_index


def unknown_provider_message(name: str) -> str:
    """What a form or the API says about a provider the catalog does not know, in plain words."""
    if not name:
        return "Choose a provider."
    return f"“{name}” is not a provider this gateway knows; choose one from the list."


def is_self_hosted(name: str) -> bool:
    """A server the team runs itself (vLLM, Ollama, ...): its key names the server and may have no secret."""
    return name in SELF_HOSTED_PROVIDERS


def requires_api_base(name: str) -> bool:
    """Whether a key for ``name`` must give the API base URL its secret is sent to."""
    return name in API_BASE_REQUIRED


def get_provider(name: str) -> dict[str, Any] | None:
    """One provider as ``list_providers`` shows it, or None."""
    provider = load_catalog().provider_index.get(name)
    return _provider_dict(provider) if provider is not None else None


def known_modes() -> tuple[str, ...]:
    """Every mode a model list can be filtered by: ``MODES`` plus any other mode in the map, sorted."""
    return tuple(sorted(set(MODES) | load_catalog().modes))


def list_models(provider: str, mode: str | None = None) -> list[dict[str, Any]]:
    """The provider's models sorted by name, optionally only those of one mode.

    Raises ``UnknownProvider`` for an unknown provider and ``ValueError`` for an
    unknown mode (a known mode the provider lacks simply gives an empty list).
    """
    catalog = load_catalog()
    if provider not in catalog.provider_index:
        raise UnknownProvider(provider)
    if mode is not None and mode not in known_modes():
        raise ValueError(f"Unknown mode '{mode}'. Valid modes: {', '.join(known_modes())}.")
    # Self-hosted providers have no catalog models: users name their own.
    return [dict(model) for model in catalog.models.get(provider, ()) if mode is None or model["mode"] == mode]


def get_model(provider: str, model_name: str) -> dict[str, Any] | None:
    """One model, named with or without the ``provider/`` prefix, or None."""
    index = load_catalog().model_index
    model = index.get((provider, model_name)) or index.get((provider, model_name.removeprefix(f"{provider}/")))
    return dict(model) if model is not None else None


def litellm_model_name(provider: str, model_name: str) -> str:
    """The model string LiteLLM expects for a catalog model: ``openai/gpt-4o``, ``groq/llama-3.1-8b-instant``."""
    return f"{provider}/{model_name}"


def _provider_dict(provider: Mapping[str, Any]) -> dict[str, Any]:
    return {**provider, "supported_modes": list(provider["supported_modes"])}
