"""Turn LiteLLM's model map (``litellm.model_cost``) into the catalog, once per process.

``load_catalog()`` imports LiteLLM lazily (the import alone takes seconds) and is
cached with ``functools.cache``: the map is parsed on first use and every later
call, in any request, returns the same read-only ``Catalog``. Settings set
``LITELLM_LOCAL_MODEL_COST_MAP=True`` so LiteLLM reads the copy of the map bundled
with the installed package instead of downloading it.

How the raw map becomes providers and models:

Providers
    A provider is an entry's ``litellm_provider``, folded so that each provider is
    a prefix a user can put in front of a model name in a LiteLLM call:

    * ``<base>-<family>`` sub-families are folded into ``<base>`` when ``<base>`` is
      itself a provider in the map. LiteLLM files Vertex AI's partner models under
      ``vertex_ai-anthropic_models``, ``vertex_ai-language-models`` and so on, and
      Fireworks embeddings under ``fireworks_ai-embedding-models``, but users
      configure and call all of them as ``vertex_ai/...`` and ``fireworks_ai/...``.
    * ``bedrock_converse`` is folded into ``bedrock``: LiteLLM does not accept
      ``bedrock_converse/`` as a prefix and routes ``bedrock/<model>`` through the
      Converse API on its own for the models the map lists under that name.
    * Everything else keeps its identifier (``text-completion-openai``,
      ``cohere_chat`` and ``azure_text`` are real LiteLLM prefixes).

Model names
    Names are shown the way a user types them *for that provider*, without the
    provider's own prefix: the map has both ``gpt-4o`` and ``groq/llama-...``
    style keys, and the catalog shows ``gpt-4o`` and ``llama-...``. Only the first
    segment is stripped, and only when it names the entry's provider (or its
    parent, as ``azure/`` for ``azure_text``; ``amazon-nova/`` for ``amazon_nova``), so nested paths keep their
    remainder (``bedrock/us-east-1/anthropic...`` -> ``us-east-1/anthropic...``).
    The gateway puts ``<provider>/`` back when it calls LiteLLM; see
    ``catalog.services.litellm_model_name``.

    Image pricing variants (``low/1024-x-1024/gpt-image-1``,
    ``1024-x-1024/50-steps/stability...``) are not separate models: the quality,
    size and step segments are dropped so they collapse onto the model itself.

    When several keys end up with the same name for a provider, a real key beats
    a pricing variant, then the entry carrying more information wins (fewest
    ``null`` fields), then the shortest key, so the choice is deterministic.

Skipped
    The ``sample_spec`` documentation entry, and entries without a ``mode``
    (pricing tiers such as ``fireworks-ai-up-to-4b``, which are not models).

Fields
    Missing or non-numeric numbers become ``None``; ``supports_*`` flags are real
    booleans (missing means ``False``). The map rarely states streaming support,
    so ``supports_streaming`` is ``True`` for chat and completion models unless the
    entry has ``supports_streaming: false``, and ``False`` for every other mode.
    (``supports_native_streaming: false`` does not count: LiteLLM then simulates
    the stream, and the client still receives one.)
"""

from __future__ import annotations

import functools
import re
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from catalog import providers as names
from gatewaylib.endpoint_types import ENDPOINT_TYPES

SAMPLE_SPEC_KEY = "sample_spec"
PROVIDER_ALIASES = {"bedrock_converse": "bedrock"}
# Key prefixes spelled differently from their provider. Not a general dash/underscore
# rule: ``fal-ai/flux/dev`` is a fal_ai model id, not a prefix.
KEY_PREFIX_SPELLINGS = {"amazon-nova": "amazon_nova"}
# Modes whose models stream when their entry does not say: those of the endpoint types that stream.
STREAMING_MODES = frozenset(entry.value for entry in ENDPOINT_TYPES if entry.streams)

_SIZE = re.compile(r"^(\d+|max)-x-(\d+|max)$")
_STEPS = re.compile(r"^(\d+|max)-steps$")
_QUALITIES = frozenset({"low", "medium", "high", "xhigh", "max", "standard", "hd"})

Record = Mapping[str, Any]


@dataclass(frozen=True)
class Catalog:
    """The parsed map: providers sorted by name, models per provider sorted by name."""

    providers: tuple[Record, ...]
    provider_index: Mapping[str, Record]
    models: Mapping[str, tuple[Record, ...]]
    model_index: Mapping[tuple[str, str], Record]
    modes: frozenset[str]


@functools.cache
def load_catalog() -> Catalog:
    """Parse LiteLLM's model map on first use; every later call returns the cached result."""
    import litellm  # deferred: importing LiteLLM costs seconds, most processes never need it here

    return build_catalog(litellm.model_cost)


def build_catalog(model_cost: Mapping[str, Any]) -> Catalog:
    """Build a catalog from a map shaped like ``litellm.model_cost`` (pure, so tests can feed a small one)."""
    entries = [(key, entry) for key, entry in model_cost.items() if _is_model(key, entry)]
    raw_providers = {entry["litellm_provider"] for _, entry in entries}
    chosen: dict[tuple[str, str], tuple[tuple[Any, ...], Record]] = {}
    for key, entry in entries:
        raw = entry["litellm_provider"]
        provider = canonical_provider(raw, raw_providers)
        name, is_variant = model_name(key, provider, raw)
        if not name:
            continue
        rank = (is_variant, -_information(entry), len(key), key)
        if (provider, name) not in chosen or rank < chosen[(provider, name)][0]:
            chosen[(provider, name)] = (rank, _model_record(provider, name, entry))
    return _assemble({ident: record for ident, (_, record) in chosen.items()})


def canonical_provider(raw: str, known: set[str] | frozenset[str]) -> str:
    """The provider a user configures for an entry filed under ``raw`` (see the module docstring)."""
    if raw in PROVIDER_ALIASES:
        return PROVIDER_ALIASES[raw]
    base, dash, _ = raw.partition("-")
    return base if dash and base in known else raw


def model_name(key: str, provider: str, raw_provider: str) -> tuple[str, bool]:
    """The name a user types for ``key`` under ``provider``, and whether the key was a pricing variant."""
    parts = key.split("/")
    kept = [part for index, part in enumerate(parts) if not _is_variant_segment(parts, index)]
    if len(kept) > 1 and _names_provider(kept[0], provider, raw_provider):
        kept = kept[1:]
    return "/".join(kept), any(_SIZE.match(part) for part in parts)


def _is_model(key: str, entry: Any) -> bool:
    return (
        key != SAMPLE_SPEC_KEY
        and isinstance(entry, Mapping)
        and isinstance(entry.get("litellm_provider"), str)
        and isinstance(entry.get("mode"), str)
        and bool(entry["mode"])
    )


def _is_variant_segment(parts: list[str], index: int) -> bool:
    part = parts[index]
    if _SIZE.match(part) or _STEPS.match(part):
        return True
    return part in _QUALITIES and index + 1 < len(parts) and bool(_SIZE.match(parts[index + 1]))


def _names_provider(segment: str, provider: str, raw_provider: str) -> bool:
    segment = KEY_PREFIX_SPELLINGS.get(segment, segment)
    return segment in (provider, raw_provider) or raw_provider.startswith(f"{segment}_")


def _information(entry: Mapping[str, Any]) -> int:
    return sum(value is not None for value in entry.values())


def _number(value: Any, kind: type[int] | type[float]) -> int | float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return kind(value)


def _supports_streaming(entry: Mapping[str, Any], mode: str) -> bool:
    stated = entry.get("supports_streaming")
    return bool(stated) if stated is not None else mode in STREAMING_MODES


def _model_record(provider: str, name: str, entry: Mapping[str, Any]) -> Record:
    mode = entry["mode"]
    deprecation = entry.get("deprecation_date")
    return MappingProxyType(
        {
            "model_name": name,
            "provider": provider,
            "mode": mode,
            "max_input_tokens": _number(entry.get("max_input_tokens"), int),
            "max_output_tokens": _number(entry.get("max_output_tokens"), int),
            "input_cost_per_token": _number(entry.get("input_cost_per_token"), float),
            "output_cost_per_token": _number(entry.get("output_cost_per_token"), float),
            "input_cost_per_query": _number(entry.get("input_cost_per_query"), float),
            "supports_vision": bool(entry.get("supports_vision")),
            "supports_function_calling": bool(entry.get("supports_function_calling")),
            "supports_streaming": _supports_streaming(entry, mode),
            "supports_reasoning": bool(entry.get("supports_reasoning")),
            "deprecation_date": deprecation if isinstance(deprecation, str) and deprecation else None,
        }
    )


def _provider_record(name: str, models: tuple[Record, ...]) -> Record:
    return MappingProxyType(
        {
            "name": name,
            "display_name": names.display_name(name),
            "supported_modes": tuple(sorted({model["mode"] for model in models})),
            "description": names.description(name),
        }
    )


# Self-hosted servers have no models in LiteLLM's map (you name your own, with
# an api_base), but users must be able to pick them. Modes are what LiteLLM
# supports for each.
SELF_HOSTED_PROVIDERS: dict[str, tuple[str, ...]] = {
    "hosted_vllm": ("chat", "completion", "embedding", "rerank"),
    "infinity": ("embedding", "rerank"),
    "lm_studio": ("chat", "completion", "embedding"),
    "llamafile": ("chat", "completion", "embedding"),
    "ollama": ("chat", "completion", "embedding"),
    "searxng": ("search",),  # a metasearch instance of the team's own, usually without a key
}


def _assemble(records: dict[tuple[str, str], Record]) -> Catalog:
    grouped: dict[str, list[Record]] = defaultdict(list)
    for (provider, _), record in records.items():
        grouped[provider].append(record)
    models = {p: tuple(sorted(rs, key=lambda r: r["model_name"])) for p, rs in sorted(grouped.items())}
    providers_by_name = {p: _provider_record(p, rs) for p, rs in models.items()}
    for name, modes in SELF_HOSTED_PROVIDERS.items():
        record = dict(providers_by_name.get(name) or _provider_record(name, ()))
        record["supported_modes"] = tuple(sorted(set(record["supported_modes"]) | set(modes)))
        providers_by_name[name] = MappingProxyType(record)
    providers = tuple(providers_by_name[name] for name in sorted(providers_by_name))
    return Catalog(
        providers=providers,
        provider_index=MappingProxyType({p["name"]: p for p in providers}),
        models=MappingProxyType(models),
        model_index=MappingProxyType(dict(records)),
        modes=frozenset(record["mode"] for record in records.values()),
    )
