"""The allowlist on every proxy route: what a client may send, what it may not, and what it must.

The routes come from ``proxy.routes.ROUTE_PATHS``, so a route added to the
registry joins every test here; ``test_every_route_has_written_expectations``
fails until the tables below say what the new route's public API takes.
Those tables are written from the public API references (OpenAI's,
Anthropic's for ``/v1/messages`` and Google's for the Gemini routes), not
read from ``proxy/allowlist.py``:
dropping a documented field from the allowlist, making a required field
optional or letting a credential field through each fails here.

For every route:

- each documented field, sent alone beside the required ones with a valid
  value, is served (200) and reaches the provider;
- each field that would redirect the call or swap its credentials
  (``api_base``, ``base_url``, ``api_key``, ``extra_headers``...) is refused
  with exactly the 400 the route's API gives for an unknown argument, and
  the provider hears nothing;
- each required field left out is refused with exactly the 400 naming it.

One test per route and kind of check, each request in it held to one exact
outcome (a route's endpoint is made once: far cheaper than a test per field).
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from proxy.allowlist import SCHEMAS
from proxy.routes import ROUTE_PATHS
from tests.proxy.bodies import AUDIO, ENDPOINT, endpoint_for, example, names_model_in_body, path

ROUTES = tuple(ROUTE_PATHS)


def proto_json(names: set[str]) -> set[str]:
    """Google's REST APIs take each field under its lowerCamelCase JSON name or its proto (snake_case) name."""
    return names | {"".join(f"_{c.lower()}" if c.isupper() else c for c in name) for name in names}


GEMINI_GENERATE = proto_json(
    {
        "contents",
        "tools",
        "toolConfig",
        "safetySettings",
        "systemInstruction",
        "generationConfig",
        "cachedContent",
    }
)

BEDROCK_CONVERSE = {
    "messages",
    "system",
    "inferenceConfig",
    "toolConfig",
    "guardrailConfig",
    "additionalModelRequestFields",
    "additionalModelResponseFieldPaths",
    "promptVariables",
    "requestMetadata",
    "performanceConfig",
    "serviceTier",
}
CLAUDE_ON_BEDROCK = {
    "anthropic_version",
    "anthropic_beta",
    "max_tokens",
    "messages",
    "system",
    "temperature",
    "top_p",
    "top_k",
    "stop_sequences",
    "tools",
    "tool_choice",
    "thinking",
}

# The fields each route's public API documents, besides ``model`` (the endpoint's name here).
DOCUMENTED: dict[str, set[str]] = {
    "chat": {
        "messages",
        "temperature",
        "top_p",
        "n",
        "stop",
        "max_tokens",
        "max_completion_tokens",
        "presence_penalty",
        "frequency_penalty",
        "logit_bias",
        "seed",
        "user",
        "stream",
        "stream_options",
        "logprobs",
        "top_logprobs",
        "response_format",
        "tools",
        "tool_choice",
        "parallel_tool_calls",
        "functions",
        "function_call",
        "reasoning_effort",
        "verbosity",
        "modalities",
        "audio",
        "prediction",
        "web_search_options",
        "service_tier",
        "safety_identifier",
        "prompt_cache_key",
    },
    "anthropic_messages": {
        "messages",
        "max_tokens",
        "system",
        "metadata",
        "stop_sequences",
        "stream",
        "temperature",
        "top_p",
        "top_k",
        "tools",
        "tool_choice",
        "thinking",
    },
    "completion": {
        "prompt",
        "suffix",
        "echo",
        "best_of",
        "logprobs",
        "temperature",
        "top_p",
        "n",
        "stop",
        "max_tokens",
        "presence_penalty",
        "frequency_penalty",
        "logit_bias",
        "seed",
        "user",
        "stream",
        "stream_options",
    },
    "embedding": {"input", "dimensions", "encoding_format", "user"},
    "image_generation": {
        "prompt",
        "n",
        "size",
        "quality",
        "style",
        "response_format",
        "background",
        "output_format",
        "user",
    },
    "audio_transcription": {"file", "language", "prompt", "response_format", "temperature", "timestamp_granularities"},
    "audio_speech": {"input", "voice", "response_format", "speed", "instructions"},
    "moderation": {"input"},
    "rerank": {"query", "documents", "top_n", "return_documents", "max_chunks_per_doc"},
    # LiteLLM's search API (Perplexity's Search API request).
    "search": {"query", "max_results", "search_domain_filter", "max_tokens_per_page", "country"},
    # Google's Gemini API reference (models.generateContent, countTokens, embedContent, batchEmbedContents).
    "gemini_generate_content": GEMINI_GENERATE,
    "gemini_stream_generate_content": GEMINI_GENERATE,
    "gemini_count_tokens": proto_json({"contents", "generateContentRequest"}),
    "gemini_embed_content": proto_json({"content", "taskType", "title", "outputDimensionality"}),
    "gemini_batch_embed_contents": {"requests"},
    # Vertex AI's reference (publishers.models.generateContent, countTokens): Gemini's fields, and labels.
    "vertex_generate_content": GEMINI_GENERATE | {"labels"},
    "vertex_stream_generate_content": GEMINI_GENERATE | {"labels"},
    "vertex_count_tokens": proto_json({"contents", "generateContentRequest"}),
    # Vertex AI's text embeddings (publishers.models.predict; models.embedContent).
    "vertex_predict": {"instances", "parameters"},
    "vertex_embed_content": proto_json({"content", "embedContentConfig"}),
    # Bedrock Runtime's API reference (Converse, ConverseStream; the model id is in the URL).
    "bedrock_converse": BEDROCK_CONVERSE,
    "bedrock_converse_stream": BEDROCK_CONVERSE,
    # InvokeModel takes the model's own format; Claude's Messages fields as Bedrock documents them.
    "bedrock_invoke": CLAUDE_ON_BEDROCK,
    "bedrock_invoke_with_response_stream": CLAUDE_ON_BEDROCK,
    # Titan Text Embeddings V2's request, as Bedrock documents it.
    "bedrock_invoke_embeddings": {"inputText", "dimensions", "normalize", "embeddingTypes"},
}

# The fields a body must have.
REQUIRED: dict[str, tuple[str, ...]] = {
    "chat": ("messages",),
    "anthropic_messages": ("messages", "max_tokens"),
    "completion": ("prompt",),
    "embedding": ("input",),
    "image_generation": ("prompt",),
    "audio_transcription": ("file",),
    "audio_speech": ("input", "voice"),
    "moderation": ("input",),
    "rerank": ("query", "documents"),
    "search": ("query",),
    "gemini_generate_content": ("contents",),
    "gemini_stream_generate_content": ("contents",),
    "gemini_count_tokens": (),  # contents, or a whole generateContentRequest
    "gemini_embed_content": ("content",),
    "gemini_batch_embed_contents": ("requests",),
    "vertex_generate_content": ("contents",),
    "vertex_stream_generate_content": ("contents",),
    "vertex_count_tokens": (),
    "vertex_predict": ("instances",),
    "vertex_embed_content": ("content",),
    "bedrock_converse": ("messages",),
    "bedrock_converse_stream": ("messages",),
    "bedrock_invoke": (),  # whatever the model requires; the provider says
    "bedrock_invoke_with_response_stream": (),
    "bedrock_invoke_embeddings": (),
}

# Where the client speaks Anthropic's API (and so gets Anthropic's error shape).
ANTHROPIC_PATHS = {"/v1/messages"}
# Multipart: every field is a form part, the file a file part.
MULTIPART_PATHS = {"/v1/audio/transcriptions"}

# Fields LiteLLM would honour to send the call (and the gateway's provider
# key) elsewhere, to swap the credential, or to skip the provider.
REDIRECTING: dict[str, Any] = {
    "api_base": "http://attacker.example/v1",
    "base_url": "http://attacker.example/v1",
    "api_key": "sk-attacker-0000",
    "extra_headers": {"Authorization": "Bearer sk-attacker-0000"},
    "headers": {"Host": "attacker.example"},
    "extra_body": {"api_base": "http://attacker.example/v1"},
    "api_version": "2024-10-21",
    "organization": "org-attacker",
    "custom_llm_provider": "openai",
    "azure_ad_token": "attacker",
    "aws_access_key_id": "AKIAATTACKER",
    "vertex_credentials": "{}",
    "mock_response": "free",
}

# Documented fields the fake's provider refuses (LiteLLM's hosted_vllm rerank
# raises before sending, after the Router's retries: see test_bad_input). That
# the allowlist knows them shows with a value out of its range instead: the
# allowlist's own typed refusal, not "Unrecognized request argument".
PROVIDER_REFUSES: dict[tuple[str, str], tuple[Any, str]] = {
    ("rerank", "max_chunks_per_doc"): (
        0,
        "Invalid 'max_chunks_per_doc': integer below minimum value. Expected a value >= 1, but got 0 instead.",
    ),
}


def refusal(route: str, message: str, param: str, code: str) -> dict[str, Any]:
    """The exact 400 body of ``route``'s API for a refused field."""
    if path(route).startswith("/bedrock/"):  # AWS's shape: its code is in x-amzn-ErrorType
        return {"message": message, "reason": code, "param": param}
    if path(route).startswith(("/gemini/", "/vertex_ai/")):  # google.rpc.Status, the reason where Google puts it
        info = {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": code, "domain": "ai-gateway"}
        info["metadata"] = {"param": param}
        return {"error": {"code": 400, "message": message, "status": "INVALID_ARGUMENT", "details": [info]}}
    if ROUTE_PATHS[route] in ANTHROPIC_PATHS:
        return {"type": "error", "error": {"type": "invalid_request_error", "message": message}}
    return {"error": {"message": message, "type": "invalid_request_error", "param": param, "code": code}}


# Valid values where the validator's smallest example is not one a client would send.
VALUES: dict[tuple[str, str], Any] = {
    ("anthropic_messages", "tools"): [{"name": "get_weather", "input_schema": {"type": "object"}}],
}


def valid_value(route: str, field: str) -> Any:
    """A valid value for a documented field (from the route's validator; a field the allowlist lacks gets a string)."""
    if (route, field) in VALUES:
        return VALUES[route, field]
    validator = SCHEMAS[route].get(field)
    return example(validator) if validator is not None else "x"


def required_body(route: str) -> dict[str, Any]:
    return {field: valid_value(route, field) for field in REQUIRED[route]}


def send(gateway, world, route: str, body: dict[str, Any]) -> httpx.Response:
    """POST ``body`` to the route's URL as alice: JSON, or multipart with its ``file`` as the file part."""
    url = f"{gateway.url}{path(route)}"
    headers = {"Authorization": f"Bearer {world.token(world.alice)}"}
    if not names_model_in_body(route):  # Gemini's URL names the endpoint
        return httpx.post(url, headers=headers, json=body, timeout=60)
    if ROUTE_PATHS[route] not in MULTIPART_PATHS:
        return httpx.post(url, headers=headers, json={"model": ENDPOINT, **body}, timeout=60)
    data: dict[str, Any] = {"model": ENDPOINT}
    files = {}
    for name, value in body.items():
        if isinstance(value, tuple):  # (filename, bytes, content type)
            files[name] = value
        elif isinstance(value, list):
            data[f"{name}[]"] = [str(item) for item in value]  # the SDKs' encoding of an array
        else:
            data[name] = value if isinstance(value, str) else json.dumps(value)
    return httpx.post(url, headers=headers, data=data, files=files, timeout=60)


# How LiteLLM's translation hands a field to the provider when it does not
# forward it as sent: ``(upstream name, value)``, or None when it drops it.
# Everything else reaches the provider under its own name with the value sent.
TRANSLATED: dict[tuple[str, str], tuple[str, Any] | None] = {
    # Anthropic's Messages API onto the OpenAI-compatible provider behind the fake.
    ("anthropic_messages", "system"): (
        "messages",
        [{"role": "system", "content": "x"}, {"role": "user", "content": "x"}],
    ),
    ("anthropic_messages", "stop_sequences"): ("stop", ["x"]),
    ("anthropic_messages", "thinking"): ("reasoning_effort", "none"),  # {"type": "disabled"}
    ("anthropic_messages", "metadata"): None,  # {} carries nothing
    ("anthropic_messages", "tool_choice"): None,  # {"type": "any"} without tools
    ("anthropic_messages", "tools"): (
        "tools",
        [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}],
    ),
    # LiteLLM's search API onto Tavily's: its names, its lowercase country, no page-size option.
    ("search", "search_domain_filter"): ("include_domains", ["x"]),
    ("search", "max_tokens_per_page"): None,
    # The OpenAI SDK's multipart encoding of an array.
    ("audio_transcription", "timestamp_granularities"): ("timestamp_granularities[]", "segment"),
}


def upstream_form(route: str, field: str) -> tuple[str, Any] | None:
    """What the provider should receive for ``field`` sent alone with a valid value."""
    if (route, field) in TRANSLATED:
        return TRANSLATED[route, field]
    value = valid_value(route, field)
    if ROUTE_PATHS[route] in MULTIPART_PATHS:  # form parts are text
        value = value if isinstance(value, str) else json.dumps(value)
    return field, value


def forwarded(world, route: str, field: str) -> tuple[str, Any] | None:
    """What the provider received for ``field`` in the last request (``upstream_form``'s shape)."""
    requests = world.upstream.requests()
    if not requests:
        return None
    last = requests[-1]
    received = (last.get("form") if ROUTE_PATHS[route] in MULTIPART_PATHS else last.get("json")) or {}
    expected = upstream_form(route, field)
    name = expected[0] if expected is not None else field
    return (name, received[name]) if name in received else None


def provider_calls(world) -> int:
    """Calls the fake upstream served as the provider (a Vertex AI key's first call also mints a token)."""
    stats = world.upstream.stats()
    return stats["total"] - stats["paths"].get("/token", 0)


def outcome(response: httpx.Response) -> tuple[int, Any]:
    try:
        return response.status_code, response.json()
    except ValueError:
        return response.status_code, response.content[:200]


def test_every_route_has_written_expectations():
    assert sorted(DOCUMENTED) == sorted(ROUTES)
    assert sorted(REQUIRED) == sorted(ROUTES)
    for route in ROUTES:
        assert set(REQUIRED[route]) <= DOCUMENTED[route], route


@pytest.mark.parametrize("route", ROUTES)
def test_the_allowlist_takes_no_field_the_public_api_lacks(route):
    """Widening a route's allowlist beyond its public API needs this table changed too, on purpose."""
    assert sorted(set(SCHEMAS[route]) - DOCUMENTED[route]) == []


@pytest.mark.parametrize("route", ROUTES)
def test_every_documented_field_is_accepted_and_reaches_the_provider(gateway, world, route):
    endpoint_for(world, route)
    problems = []
    for field in sorted(DOCUMENTED[route] - set(REQUIRED[route]) - {"stream", "stream_options"}):
        before = provider_calls(world)
        if (route, field) in PROVIDER_REFUSES:
            value, message = PROVIDER_REFUSES[route, field]
            response = send(gateway, world, route, {**required_body(route), field: value})
            got = outcome(response)
            expected, reached = (400, refusal(route, message, field, "integer_below_min_value")), 0
        else:
            response = send(gateway, world, route, {**required_body(route), field: valid_value(route, field)})
            got = (response.status_code, forwarded(world, route, field))
            expected, reached = (200, upstream_form(route, field)), 1
        if got != expected or provider_calls(world) - before != reached:
            problems.append((field, got, expected))
    assert problems == []


@pytest.mark.parametrize("route", [route for route in ROUTES if "stream" in DOCUMENTED[route]])
def test_streaming_fields_are_accepted_where_the_api_has_them(gateway, world, route):
    endpoint_for(world, route)
    body = {**required_body(route), "stream": True}
    if "stream_options" in DOCUMENTED[route]:
        body["stream_options"] = {"include_usage": True}
    response = send(gateway, world, route, body)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/event-stream")
    assert world.upstream.stats()["total"] == 1


@pytest.mark.parametrize("route", ROUTES)
def test_fields_that_redirect_or_re_credential_the_call_are_refused(gateway, world, route):
    endpoint_for(world, route)
    problems = []
    for field, value in REDIRECTING.items():
        response = send(gateway, world, route, {**required_body(route), field: value})
        message = f"Unrecognized request argument supplied: {field}"
        expected = (400, refusal(route, message, field, "unknown_parameter"))
        if outcome(response) != expected:
            problems.append((field, outcome(response)))
    assert problems == []
    assert world.upstream.stats()["total"] == 0


@pytest.mark.parametrize("route", ROUTES)
def test_each_missing_required_field_is_refused(gateway, world, route):
    endpoint_for(world, route)
    problems = []
    for field in REQUIRED[route]:
        body = {name: value for name, value in required_body(route).items() if name != field}
        if ROUTE_PATHS[route] in MULTIPART_PATHS and field == "file":
            # Still multipart: another file part in place of ``file``.
            body = {"other": AUDIO}
            expected = refusal(route, f"Missing required parameter: '{field}'.", field, "missing_file")
        else:
            expected = refusal(route, f"Missing required parameter: '{field}'.", field, "missing_required_parameter")
        response = send(gateway, world, route, body)
        if outcome(response) != (400, expected):
            problems.append((field, outcome(response)))
    assert problems == []
    assert world.upstream.stats()["total"] == 0


def test_a_file_part_alone_is_a_whole_transcription(gateway, world):
    """The multipart route's required file, sent alone, is served: the baseline the cases above vary."""
    route = next(name for name, path in ROUTE_PATHS.items() if path in MULTIPART_PATHS)
    endpoint_for(world, route)
    response = send(gateway, world, route, {"file": AUDIO})
    assert response.status_code == 200, response.text
    assert world.upstream.stats()["total"] == 1
