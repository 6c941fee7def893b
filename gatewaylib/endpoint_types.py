"""Every endpoint type, in one table: what it is called, which models serve it, how the proxy calls it.

One ``TypeEntry`` per type, in the order the UI lists them. The tables the
apps key on a type or a route are derived from it: ``EndpointType`` (the
model's choices), the catalog's modes per type, the proxy's routes, Router
methods, required fields, span names and direct-path URLs. The request-field
schemas stay in ``proxy.allowlist`` (they are big) but are keyed through
``per_route``, so a route without one fails at import.

Each type's first route is named after the type: it is the route its
``/gateway/<name>/invocations`` URL takes, and the one a wrongly routed call
is pointed to. Further routes are other public APIs for the same type
(Anthropic's Messages API for chat; Google's Gemini and Vertex AI APIs,
and Amazon Bedrock Runtime's, whose URLs carry the endpoint's name where the
provider expects the model's).

No Django and no models here: the catalog, the endpoints app and the proxy
all read it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TypeVar

T = TypeVar("T")

OPENAI, ANTHROPIC, GEMINI, VERTEX, BEDROCK = "openai", "anthropic", "gemini", "vertex_ai", "bedrock"
# Google's APIs: one request and response format (generateContent and its
# kin), one error shape; Gemini's (Google AI Studio) and Vertex AI's.
GOOGLE_WIRES = frozenset({GEMINI, VERTEX})
# The provider APIs served only passed through (LiteLLM's Router has no call for them).
NATIVE_WIRES = frozenset({*GOOGLE_WIRES, BEDROCK})
WIRE_LABELS: Mapping[str, str] = MappingProxyType({GEMINI: "Gemini", VERTEX: "Vertex AI", BEDROCK: "Bedrock"})

# Each Google API's REST layout under a gateway prefix, the endpoint's name
# where the provider puts the model's (``models/{model}:generateContent``).
GEMINI_PREFIX, GEMINI_VERSION = "/gemini", "v1beta"
VERTEX_PREFIX, VERTEX_VERSION = "/vertex_ai", "v1"
# Bedrock Runtime's layout (``/model/{modelId}/converse``) under its prefix: boto3's ``endpoint_url``.
BEDROCK_PREFIX = "/bedrock"
ENDPOINT_PLACEHOLDER = "{endpoint}"
# Where each provider-native API that is only passed through lives: its SDK's base URL, less the host.
NATIVE_API_PREFIXES: Mapping[str, str] = MappingProxyType(
    {GEMINI: GEMINI_PREFIX, VERTEX: VERTEX_PREFIX, BEDROCK: BEDROCK_PREFIX}
)
_MODEL_PATHS = {
    GEMINI: f"{GEMINI_PREFIX}/{GEMINI_VERSION}/models",
    # Vertex AI's publisher-model layout; clients may put projects/<p>/locations/<l>/ before
    # "publishers" (proxy.routes.VERTEX_PATH), but the key's project and location are what is called.
    VERTEX: f"{VERTEX_PREFIX}/{VERTEX_VERSION}/publishers/google/models",
}


@dataclass(frozen=True, slots=True)
class Route:
    """One public URL of the proxy."""

    name: str
    path: str  # a native API's holds ``{endpoint}``: the endpoint is named in the URL, not the body
    router_method: str  # the LiteLLM Router coroutine the translated path awaits ("": passthrough only)
    required: tuple[str, ...]  # the fields a body must have (the allowed ones are its allowlist schema)
    operation: str  # gen_ai.operation.name: the convention's value where one fits, else the route's name
    streams: bool = False  # takes ``"stream": true``
    wire: str = OPENAI  # the API the client speaks here: its errors' shape, and what the direct path forwards
    # Whether the direct path may forward the body unchanged to a provider that
    # speaks ``wire``. OpenAI-compatible providers serve it at ``path`` less
    # the ``/v1`` their base URL ends with.
    passthrough: bool = False
    multipart: bool = False  # the body is multipart/form-data (a file upload), not JSON
    # The provider's method in its URL: after the colon in Google's (``generateContent``), the last
    # segment in Bedrock's (``converse-stream``).
    native_method: str = ""
    always_streams: bool = False  # the route's answer is a stream whatever the body says (``streamGenerateContent``)

    @property
    def stream_usage_option(self) -> bool:
        """Streams report usage only when asked (OpenAI's ``stream_options.include_usage``)."""
        return self.streams and self.wire == OPENAI

    @property
    def names_endpoint_in_path(self) -> bool:
        return ENDPOINT_PLACEHOLDER in self.path

    def url_for(self, endpoint: str) -> str:
        """The path (and query) a client calls this route at for ``endpoint``."""
        path = self.path.replace(ENDPOINT_PLACEHOLDER, endpoint)
        return path + "?alt=sse" if self.always_streams and self.wire in GOOGLE_WIRES else path


# Route names: the API's short name, then the method in snake_case (``vertex_count_tokens``).
_NAME_PREFIXES = {GEMINI: "gemini", VERTEX: "vertex"}


def _google(wire: str, method: str, required: tuple[str, ...], operation: str | None, **flags: bool) -> Route:
    """A Gemini or Vertex AI method, passed through to that provider's models only (the Router has no call for it).

    ``operation`` None: no GenAI convention value fits, so the route's name is its operation.
    """
    snake = "".join(f"_{c.lower()}" if c.isupper() else c for c in method)
    name = f"{_NAME_PREFIXES[wire]}_{snake}"
    operation = operation or name
    path = f"{_MODEL_PATHS[wire]}/{ENDPOINT_PLACEHOLDER}:{method}"
    return Route(name, path, "", required, operation, wire=wire, passthrough=True, native_method=method, **flags)


def _bedrock(method: str, required: tuple[str, ...], operation: str = "chat", **flags: bool) -> Route:
    """A Bedrock Runtime operation on a model (``/bedrock/model/{endpoint}/converse``), passed through.

    InvokeModel serves embedding models too, at the same URL: its route for an
    embedding endpoint is named after the type (``bedrock_invoke_embeddings``).
    """
    name = "bedrock_" + method.replace("-", "_") + ("" if operation == "chat" else f"_{operation}")
    path = f"{BEDROCK_PREFIX}/model/{ENDPOINT_PLACEHOLDER}/{method}"
    return Route(name, path, "", required, operation, wire=BEDROCK, passthrough=True, native_method=method, **flags)


def _google_chat(wire: str) -> tuple[Route, ...]:
    return (
        _google(wire, "generateContent", ("contents",), "generate_content"),
        _google(wire, "streamGenerateContent", ("contents",), "generate_content", streams=True, always_streams=True),
        # Free at Google: counted as a request, with no tokens billed.
        _google(wire, "countTokens", (), None),
    )


@dataclass(frozen=True, slots=True)
class TypeEntry:
    """One endpoint type."""

    value: str  # stored in ``Endpoint.endpoint_type``; also the catalog mode of its own models
    label: str
    modes: frozenset[str]  # the catalog modes whose models can serve it
    routes: tuple[Route, ...]  # the first is named ``value``
    one_token_probe: bool = False  # a start check can make a one-token call (GATEWAY_START_PROBES=all)

    @property
    def streams(self) -> bool:
        return any(route.streams for route in self.routes)


ENDPOINT_TYPES: tuple[TypeEntry, ...] = (
    TypeEntry(
        "chat",
        "Chat",
        # The map files some chat models under ``responses`` only.
        modes=frozenset({"chat", "responses"}),
        routes=(
            Route(
                "chat",
                "/v1/chat/completions",
                "acompletion",
                required=("messages",),
                operation="chat",
                streams=True,
                passthrough=True,
            ),
            Route(
                "anthropic_messages",
                "/v1/messages",
                "aanthropic_messages",
                required=("messages", "max_tokens"),
                operation="chat",
                streams=True,
                wire=ANTHROPIC,
                passthrough=True,
            ),
            *_google_chat(GEMINI),
            *_google_chat(VERTEX),
            _bedrock("converse", ("messages",)),
            _bedrock("converse-stream", ("messages",), streams=True, always_streams=True),
            # The model's own request format (Anthropic's, Llama's, Titan's, ...), as InvokeModel takes it.
            _bedrock("invoke", ()),
            _bedrock("invoke-with-response-stream", (), streams=True, always_streams=True),
        ),
        one_token_probe=True,
    ),
    TypeEntry(
        "completion",
        "Completion",
        # LiteLLM adapts a text completion onto the chat API.
        modes=frozenset({"completion", "chat"}),
        routes=(
            Route(
                "completion",
                "/v1/completions",
                "atext_completion",
                required=("prompt",),
                operation="text_completion",
                streams=True,
                passthrough=True,
            ),
        ),
        one_token_probe=True,
    ),
    TypeEntry(
        "embedding",
        "Embedding",
        modes=frozenset({"embedding"}),
        routes=(
            Route(
                "embedding",
                "/v1/embeddings",
                "aembedding",
                required=("input",),
                operation="embeddings",
                passthrough=True,
            ),
            _google(GEMINI, "embedContent", ("content",), "embeddings"),
            _google(GEMINI, "batchEmbedContents", ("requests",), "embeddings"),
            # Vertex AI's: google-genai calls :embedContent for a model named like a Gemini one, :predict otherwise.
            _google(VERTEX, "predict", ("instances",), "embeddings"),
            _google(VERTEX, "embedContent", ("content",), "embeddings"),
            # Titan's, Cohere's or Nova's embedding request, as InvokeModel takes it.
            _bedrock("invoke", (), "embeddings"),
        ),
        one_token_probe=True,
    ),
    TypeEntry(
        "image_generation",
        "Image Generation",
        modes=frozenset({"image_generation"}),
        routes=(
            Route(
                "image_generation",
                "/v1/images/generations",
                "aimage_generation",
                required=("prompt",),
                operation="image_generation",
                passthrough=True,
            ),
        ),
    ),
    TypeEntry(
        "audio_transcription",
        "Audio Transcription",
        modes=frozenset({"audio_transcription"}),
        routes=(
            # Multipart: the direct path only forwards JSON.
            Route(
                "audio_transcription",
                "/v1/audio/transcriptions",
                "atranscription",
                required=("file",),
                operation="audio_transcription",
                multipart=True,
            ),
        ),
    ),
    TypeEntry(
        "audio_speech",
        "Audio Speech",
        modes=frozenset({"audio_speech"}),
        routes=(
            Route(
                "audio_speech",
                "/v1/audio/speech",
                "aspeech",
                required=("input", "voice"),
                operation="audio_speech",
                passthrough=True,
            ),
        ),
    ),
    TypeEntry(
        "moderation",
        "Moderation",
        modes=frozenset({"moderation"}),
        routes=(
            Route(
                "moderation",
                "/v1/moderations",
                "amoderation",
                required=("input",),
                operation="moderation",
                passthrough=True,
            ),
        ),
    ),
    TypeEntry(
        "rerank",
        "Rerank",
        modes=frozenset({"rerank"}),
        routes=(
            # Not an OpenAI API: each provider has its own, which LiteLLM speaks.
            Route(
                "rerank",
                "/v1/rerank",
                "arerank",
                required=("query", "documents"),
                operation="rerank",
            ),
        ),
    ),
    TypeEntry(
        "search",
        "Search",
        modes=frozenset({"search"}),
        routes=(
            # Web search (Tavily, Exa, Perplexity, SearXNG, ...): LiteLLM's search API makes the
            # call (proxy.search); the Router only chooses among the endpoint's models.
            Route("search", "/v1/search", "", required=("query",), operation="search"),
        ),
    ),
)

TYPES: Mapping[str, TypeEntry] = MappingProxyType({entry.value: entry for entry in ENDPOINT_TYPES})
ROUTES: Mapping[str, Route] = MappingProxyType(
    {route.name: route for entry in ENDPOINT_TYPES for route in entry.routes}
)
ROUTE_TYPES: Mapping[str, str] = MappingProxyType(
    {route.name: entry.value for entry in ENDPOINT_TYPES for route in entry.routes}
)


def _native_methods(wire: str) -> Mapping[str, Mapping[str, str]]:
    methods: dict[str, dict[str, str]] = {}
    for route in ROUTES.values():
        if route.wire == wire:
            methods.setdefault(route.native_method, {})[ROUTE_TYPES[route.name]] = route.name
    return MappingProxyType({method: MappingProxyType(by_type) for method, by_type in methods.items()})


# Each native API's method names (in its URLs) -> the route serving it for each endpoint type
# (one type for most; Bedrock's ``invoke`` serves chat and embedding endpoints), registry order.
NATIVE_METHODS: Mapping[str, Mapping[str, Mapping[str, str]]] = MappingProxyType(
    {wire: _native_methods(wire) for wire in sorted(NATIVE_WIRES)}
)


def per_route(table: Mapping[str, T], what: str) -> dict[str, T]:
    """``table`` in the registry's route order; a route missing from it, or one the registry lacks, is an error.

    For the tables kept next to the code that uses them (the allowlist's
    schemas), so that a route cannot be added to one place only.
    """
    if missing := [route for route in ROUTES if route not in table]:
        raise LookupError(f"No {what} for the route(s) {', '.join(missing)}.")
    if unknown := [route for route in table if route not in ROUTES]:
        raise LookupError(
            f"{what.capitalize()} for route(s) that gatewaylib.endpoint_types lacks: {', '.join(unknown)}."
        )
    return {route: table[route] for route in ROUTES}
