"""The catalog's public functions: which providers and models exist, and how LiteLLM names them.

Other apps (keys, endpoints, the UI, the API) call these and nothing else; the
data comes from ``catalog.model_map.load_catalog()``, parsed once per process.
Every function returns fresh dicts and lists, so a caller may change what it
gets back without touching the shared cache.

Model names are the ones a user types for a provider, without the provider's
prefix (``gpt-4o`` for openai, ``llama-3.1-8b-instant`` for groq);
``litellm_model_name`` adds the prefix back for the LiteLLM call. See
``catalog.model_map`` for how providers are folded and names derived.

Which providers can serve an endpoint type (``providers_for_type``,
``serves_type``) and the order a picker shows models in (``model_sort_key``)
are decided here, once: the endpoint form, the catalog API and the endpoint
validation all ask these functions.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date
from types import MappingProxyType
from typing import Any

from django.utils import timezone

from catalog.model_map import SELF_HOSTED_PROVIDERS, load_catalog
from gatewaylib import endpoint_types

# Providers whose keys must say where to connect: self-hosted servers, and
# Azure, whose every resource has its own host.
API_BASE_REQUIRED = frozenset(SELF_HOSTED_PROVIDERS) | {"azure", "azure_text"}

# The modes an endpoint can be built for: the endpoint types'
# (gatewaylib.endpoint_types), each its own models' mode. The map knows more
# (responses, realtime, video_generation, ...); those still appear in
# ``supported_modes`` and are accepted as a filter.
MODES: tuple[str, ...] = tuple(endpoint_types.TYPES)

# Which catalog modes can serve each endpoint type (the keys are ``MODES``), from the registry.
ENDPOINT_TYPE_MODES: Mapping[str, frozenset[str]] = MappingProxyType(
    {value: entry.modes for value, entry in endpoint_types.TYPES.items()}
)

# The providers most teams use, most used first, shown as their own group at
# the top of a picker (only those that serve the endpoint type). A short,
# fixed, hand-kept list rather than a count of this gateway's own endpoints:
# a new gateway has none, and a list that reorders itself as endpoints come
# and go would move options under people's fingers. The endpoint form puts
# the providers the user already holds keys for above it.
POPULAR_PROVIDERS: tuple[str, ...] = (
    "openai",
    "anthropic",
    "azure",
    "bedrock",
    "vertex_ai",
    "gemini",
    "mistral",
    "groq",
    "cohere",
    "deepseek",
    "ollama",
    "hosted_vllm",
)

# A deprecation date this close (or past) is shown next to a model's name.
DEPRECATION_NOTICE_DAYS = 90
MAX_SEARCH_LENGTH = 100
ORDERS = ("name", "recommended")


class UnknownProvider(LookupError):
    """Raised for a provider name the catalog does not know."""

    def __init__(self, name: str) -> None:
        super().__init__(f"Unknown provider '{name}'.")
        self.name = name


def list_providers() -> list[dict[str, Any]]:
    """Every provider, sorted by name: name, display_name, supported_modes, description."""
    return [_provider_dict(provider) for provider in load_catalog().providers]


def providers_for_type(endpoint_type: str) -> list[dict[str, Any]]:
    """The providers that can serve ``endpoint_type``, sorted by name.

    A provider qualifies when at least one of its models is in a mode the type
    uses (``ENDPOINT_TYPE_MODES``), or, for the self-hosted servers listed
    without models, when LiteLLM supports the type for it. Providers whose
    models are all of modes no endpoint type uses (OCR,
    evaluation, ...) never qualify. Raises ``ValueError`` for an unknown type.
    """
    modes = modes_for_type(endpoint_type)
    return [_provider_dict(p) for p in load_catalog().providers if modes & set(p["supported_modes"])]


def serves_type(name: str, endpoint_type: str) -> bool:
    """Whether provider ``name`` is one ``providers_for_type(endpoint_type)`` lists (False when either is unknown)."""
    provider = load_catalog().provider_index.get(name)
    modes = ENDPOINT_TYPE_MODES.get(endpoint_type, frozenset())
    return provider is not None and bool(modes & set(provider["supported_modes"]))


def modes_for_type(endpoint_type: str) -> frozenset[str]:
    """The catalog modes whose models can serve ``endpoint_type``; ``ValueError`` for an unknown type."""
    try:
        return ENDPOINT_TYPE_MODES[endpoint_type]
    except KeyError:
        raise ValueError(
            f"Unknown endpoint type '{endpoint_type}'. Valid types: {', '.join(ENDPOINT_TYPE_MODES)}."
        ) from None


def is_popular(name: str) -> bool:
    """Whether ``name`` is in the short ``POPULAR_PROVIDERS`` group a picker shows first."""
    return name in POPULAR_PROVIDERS


def popular_first(providers: Iterable[Mapping[str, Any]]) -> tuple[list[Any], list[Any]]:
    """Split providers into the popular ones (in ``POPULAR_PROVIDERS`` order) and the rest (by display name)."""
    providers = list(providers)
    popular = sorted((p for p in providers if is_popular(p["name"])), key=lambda p: POPULAR_PROVIDERS.index(p["name"]))
    others = sorted((p for p in providers if not is_popular(p["name"])), key=lambda p: p["display_name"].lower())
    return popular, others


def provider_type_message(name: str, endpoint_type: str) -> str:
    """What a form or the API says about a provider that cannot serve the endpoint's type, in plain words."""
    provider = get_provider(name)
    label = provider["display_name"] if provider else name
    words = endpoint_type.replace("_", " ")
    examples = [p["display_name"] for p in popular_first(providers_for_type(endpoint_type))[0][:3]]
    message = f"{label} does not serve {words} endpoints."
    if examples:
        suggested = examples[0] if len(examples) == 1 else f"{', '.join(examples[:-1])} or {examples[-1]}"
        message += f" Choose a provider that does, such as {suggested}."
    return message


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


def list_models(
    provider: str,
    mode: str | None = None,
    *,
    endpoint_type: str | None = None,
    search: str = "",
    order: str = "name",
    today: date | None = None,
) -> list[dict[str, Any]]:
    """A provider's models: all, or only one mode's, those serving an endpoint type, those matching a search.

    ``search`` keeps the models whose name contains every word of it
    (``matches_search``). ``order`` is ``"name"`` (the default) or
    ``"recommended"``: ``model_sort_key``, with an exact name match first.
    Raises ``UnknownProvider`` for an unknown provider and ``ValueError`` for an
    unknown mode, endpoint type or order (a known mode the provider lacks
    simply gives an empty list).
    """
    catalog = load_catalog()
    if provider not in catalog.provider_index:
        raise UnknownProvider(provider)
    if mode is not None and mode not in known_modes():
        raise ValueError(f"Unknown mode '{mode}'. Valid modes: {', '.join(known_modes())}.")
    if order not in ORDERS:
        raise ValueError(f"Unknown order '{order}'. Valid orders: {', '.join(ORDERS)}.")
    modes = modes_for_type(endpoint_type) if endpoint_type is not None else None
    # Self-hosted providers have no catalog models: users name their own.
    models = [
        dict(model)
        for model in catalog.models.get(provider, ())
        if (mode is None or model["mode"] == mode)
        and (modes is None or model["mode"] in modes)
        and matches_search(model["model_name"], search)
    ]
    if order == "recommended":
        today = today or timezone.localdate()
        wanted = _normalized(search.strip())
        models.sort(key=lambda model: (_normalized(model["model_name"]) != wanted, model_sort_key(model, today)))
    return models


def matches_search(model_name: str, search: str) -> bool:
    """Whether every word of ``search`` occurs in ``model_name``, ignoring case and separators.

    Dots, dashes, underscores, colons and slashes count as the same character,
    so "sonnet 4.5" finds ``claude-sonnet-4-5`` and "4o mini" finds
    ``gpt-4o-mini``. A blank search matches everything; only the first
    ``MAX_SEARCH_LENGTH`` characters of a search are used.
    """
    name = _normalized(model_name)
    return all(_normalized(word) in name for word in search[:MAX_SEARCH_LENGTH].split())


def _normalized(text: str) -> str:
    return _SEPARATORS.sub("-", text.lower())


_SEPARATORS = re.compile(r"[._:/\s-]+")


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


# -- The order a picker shows models in ----------------------------------------------------------
#
# LiteLLM's map lists every model a provider ever priced, in no particular
# order: fine-tuning price entries, dated snapshots, regional pricing rows and
# retired models sit beside the models people pick. ``model_sort_key`` puts
# the ones people pick first. Groups, in this order (``model_group``):

MODEL_GROUPS: Mapping[str, str] = MappingProxyType(
    {
        "current": "Current models",
        "snapshot": "Snapshots, previews and regional variants",
        "deprecated": "Deprecated",
        "fine_tuned": "Fine-tuned",
    }
)

_FINE_TUNED = re.compile(r"(?:^|/)ft:")
# A dated or numbered snapshot segment: -2024-08-06, -20250929, -0613, -2512.
_SNAPSHOT = re.compile(r"(?:^|[-_@.])(?:\d{4}-\d{2}-\d{2}|\d{4,8})(?=$|[-_:.@v])")
_PREVIEW = re.compile(r"(?:^|[-_.@])(?:preview|exp|experimental|beta|alpha)(?=$|[-_.@\d])")
# Bedrock's per-region and provisioned-throughput pricing rows: us-east-1/..., */6-month-commitment/...
_REGIONAL = re.compile(r"(?:^|/)(?:[a-z]{2}(?:-gov)?-[a-z]+-\d|\*|\d+-month-commitment)/")
# Vendor and cross-region prefixes before the model's own name: "us.anthropic.claude-...", "meta/llama-...".
_VENDOR_DOTS = re.compile(r"^(?:[a-z0-9_]+\.)+(?=[a-z])")
_VERSION = re.compile(r"(?<![\d.])(\d{1,2}(?:\.\d{1,2})*)(?![\d.])")
_MINOR = re.compile(r"-(\d{1,2})(?=$|-)")
_NOT_A_VERSION = re.compile(r"[bmkx](?![a-z])")  # 8b, 22m, 32k (sizes) and 8x7b (a mixture)
_MAX_GENERATION = 9  # "gpt-35-turbo" (Azure's spelling) and "command-text-v14" are no generation 35 or 14


def model_group(model: Mapping[str, Any], today: date | None = None) -> str:
    """The ``MODEL_GROUPS`` key of a model; the first rule that applies wins.

    * ``fine_tuned``: OpenAI's ``ft:`` names, the map's fine-tuning price entries.
    * ``deprecated``: its ``deprecation_date`` is today or earlier.
    * ``snapshot``: a pinned dated copy (``gpt-4o-2024-08-06``,
      ``claude-opus-4-7-20260416``, ``gpt-4-0613``, ``mistral-large-2512``), a
      preview or experiment (``-preview``, ``-exp``), or a per-region or
      provisioned pricing row (Bedrock's ``us-east-1/...``).
    * ``current``: everything else.
    """
    name = model["model_name"]
    if _FINE_TUNED.search(name):
        return "fine_tuned"
    if _is_deprecated(model, today or timezone.localdate()):
        return "deprecated"
    lowered = name.lower()
    if _SNAPSHOT.search(lowered) or _PREVIEW.search(lowered) or _REGIONAL.search(lowered):
        return "snapshot"
    return "current"


def model_sort_key(model: Mapping[str, Any], today: date | None = None) -> tuple[Any, ...]:
    """Sort key for a picker: current families first, then older ones; deprecated and fine-tuned last.

    1. the group (``model_group``): current, snapshot, deprecated, fine-tuned;
    2. within a group, the family's generation, newest first: the first
       version number of the name without its vendor or region prefix
       (``gpt-5.4-mini`` 5.4, ``claude-opus-4-7`` 4.7, ``gemini-2.5-flash`` 2.5,
       ``o3`` 3; sizes such as ``8b`` do not count), so ``gpt-5`` comes before
       ``gpt-4.1``, ``gpt-4o`` and ``gpt-3.5-turbo``; names without a version
       (``chat-latest``) follow the versioned ones;
    3. then the name without its prefix, the plain name before its prefixed
       copies (``claude-opus-4-8`` before ``us.anthropic.claude-opus-4-8``), then
       the full name, so the order is total and stable.
    """
    name = model["model_name"]
    base = _base_name(name)
    version = _version(base)
    newest_first = tuple(-number for number in (version + (0, 0, 0, 0))[:4])
    group = list(MODEL_GROUPS).index(model_group(model, today))
    return (group, not version, newest_first, base, base != name, name)


def deprecation_note(model: Mapping[str, Any], today: date | None = None) -> str:
    """What a picker shows next to the name: "deprecated 2025-06-01" once the date has passed,
    "retires 2026-12-11" within ``DEPRECATION_NOTICE_DAYS`` of it, otherwise nothing."""
    day = _deprecation_day(model)
    today = today or timezone.localdate()
    if day is None or (day - today).days > DEPRECATION_NOTICE_DAYS:
        return ""
    return f"deprecated {day.isoformat()}" if day <= today else f"retires {day.isoformat()}"


def _deprecation_day(model: Mapping[str, Any]) -> date | None:
    try:
        return date.fromisoformat(model.get("deprecation_date") or "")
    except ValueError:
        return None


def _is_deprecated(model: Mapping[str, Any], today: date) -> bool:
    day = _deprecation_day(model)
    return day is not None and day <= today


def _base_name(name: str) -> str:
    return _VENDOR_DOTS.sub("", name.rsplit("/", 1)[-1].lower())


def _version(base: str) -> tuple[int, ...]:
    for match in _VERSION.finditer(base):
        if _NOT_A_VERSION.match(base, match.end()) or base[match.start() - 1 : match.start()] == "x":
            continue
        parts = [int(part) for part in match.group(1).split(".")]
        if len(parts) == 1 and parts[0] > _MAX_GENERATION:
            continue
        position = match.end()
        while minor := _MINOR.match(base, position):
            parts.append(int(minor.group(1)))
            position = minor.end()
        return tuple(parts)
    return ()
