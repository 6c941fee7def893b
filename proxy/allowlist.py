"""Which request fields a client may send per route, and what each must hold: one table per route.

An allowlist, never a blocklist. LiteLLM honours hundreds of extra keyword
arguments, and copies unknown ones into the upstream body: ``api_base`` /
``base_url`` would send the gateway's provider key to a host of the client's
choosing, ``api_key`` swaps it, ``mock_response`` skips the provider,
``_target_order`` skips priority 1, ``extra_headers`` adds upstream headers,
``metadata`` feeds callbacks. So the proxy forwards only the fields of each
public API (OpenAI's, or Anthropic's on ``/v1/messages``) and refuses
anything else with a 400 naming the field.

The same tables type every field (see ``validators.py``), so malformed
input is a 400 here instead of a LiteLLM crash that the Router retries and
reports as a 502, and numbers are bounded before they reach a provider.
Which fields a body must have is the registry's (``gatewaylib.endpoint_types``).
Bounds follow the public APIs; the caps on token counts and sizes are only
there to refuse absurd values. ``tests/proxy/test_fuzz_proxy.py`` generates
bodies from these tables.
"""

from __future__ import annotations

from typing import Any

from litellm.types.llms.openai import ValidUserMessageContentTypes

from endpoints.validation import DESTINATION_PARAMS
from gatewaylib.endpoint_types import ROUTES, per_route
from proxy.errors import ProxyError
from proxy.routes import SPEECH_CONTENT_TYPES
from proxy.validators import (
    AnyOf,
    Arr,
    Bool,
    Int,
    Invalid,
    Message,
    Num,
    Obj,
    OpenFields,
    Part,
    Role,
    Str,
    Upload,
    Validator,
    check_body,
)

MAX_TOKENS = 1_000_000  # above any model's output limit; larger values are mistakes or probes
INT64 = 2**63 - 1

TEXT = Str()
TOKENS = Int(1, MAX_TOKENS)
TOKEN_IDS = Arr(Int(0, 2**32))
STRINGS = Arr(TEXT)
OBJECT = Obj()

# -- OpenAI chat messages ------------------------------------------------------
PART_FIELDS: dict[str, Validator] = {
    "text": TEXT,
    "image_url": AnyOf(TEXT, Obj({"url": TEXT, "detail": TEXT}, required=("url",))),
    "input_audio": Obj({"data": TEXT, "format": TEXT}),
    "file": Obj({"file_id": TEXT, "file_data": TEXT, "filename": TEXT}),
    "refusal": TEXT,
}
PART = Part({"type": Str(min_length=1), **PART_FIELDS})
# LiteLLM refuses (with a bare Exception, so a 502) user parts of any other type.
USER_PART = Part({"type": Str(choices=tuple(ValidUserMessageContentTypes)), **PART_FIELDS})
CONTENT = AnyOf(TEXT, Arr(PART))
TOOL_CALL = Obj({"id": TEXT, "type": TEXT, "function": Obj({"name": TEXT, "arguments": TEXT})})
CHAT_MESSAGE = Message(
    roles={
        "system": Role(CONTENT),
        "developer": Role(CONTENT),
        "user": Role(AnyOf(TEXT, Arr(USER_PART))),
        "assistant": Role(CONTENT, required=False),  # may carry tool_calls instead
        "tool": Role(CONTENT),
        "function": Role(CONTENT, required=False),
    },
    fields={
        "name": TEXT,
        "tool_calls": Arr(TOOL_CALL),
        "tool_call_id": TEXT,
        "function_call": Obj({"name": TEXT, "arguments": TEXT}),
        "refusal": TEXT,
    },
)
FUNCTION = Obj(
    {"name": Str(min_length=1), "description": TEXT, "parameters": OBJECT, "strict": Bool()}, required=("name",)
)
TOOL = Obj({"type": Str(min_length=1), "function": FUNCTION}, required=("type",))

# -- the tables ----------------------------------------------------------------
SAMPLING: dict[str, Validator] = {
    "temperature": Num(0, 2),
    "top_p": Num(0, 1),
    "n": Int(1, 128),
    "stop": AnyOf(TEXT, STRINGS),
    "max_tokens": TOKENS,
    "presence_penalty": Num(-2, 2),
    "frequency_penalty": Num(-2, 2),
    "logit_bias": Obj(values=Num(-100, 100)),
    "seed": Int(-INT64 - 1, INT64),
    "user": TEXT,
}
STREAMING: dict[str, Validator] = {
    "stream": Bool(),
    "stream_options": Obj({"include_usage": Bool(), "include_obfuscation": Bool()}),
}

CHAT: dict[str, Validator] = {
    **SAMPLING,
    **STREAMING,
    "messages": Arr(CHAT_MESSAGE),
    "logprobs": Bool(),
    "top_logprobs": Int(0, 20),
    "max_completion_tokens": TOKENS,
    "response_format": Obj(
        {
            "type": Str(choices=("text", "json_object", "json_schema")),
            "json_schema": Obj({"name": TEXT, "description": TEXT, "schema": OBJECT, "strict": Bool()}),
        },
        required=("type",),
    ),
    "tools": Arr(TOOL),
    "tool_choice": AnyOf(Str(choices=("none", "auto", "required")), Obj({"type": TEXT, "function": OBJECT})),
    "parallel_tool_calls": Bool(),
    "functions": Arr(FUNCTION),
    "function_call": AnyOf(TEXT, Obj({"name": TEXT})),
    "reasoning_effort": TEXT,
    "verbosity": TEXT,
    "modalities": STRINGS,
    "audio": Obj({"voice": AnyOf(TEXT, OBJECT), "format": TEXT}),
    "prediction": Obj({"type": TEXT, "content": CONTENT}),
    "web_search_options": OBJECT,
    "service_tier": TEXT,
    "safety_identifier": TEXT,
    "prompt_cache_key": TEXT,
}

PROMPT = AnyOf(TEXT, STRINGS, TOKEN_IDS, Arr(TOKEN_IDS))
COMPLETION: dict[str, Validator] = {
    **SAMPLING,
    **STREAMING,
    "prompt": PROMPT,
    "suffix": TEXT,
    "echo": Bool(),
    "best_of": Int(0, 20),
    "logprobs": Int(0, 5),
}

EMBEDDING: dict[str, Validator] = {
    "input": PROMPT,
    "dimensions": Int(1, 16_384),
    "encoding_format": Str(choices=("float", "base64")),
    "user": TEXT,
}

IMAGE_GENERATION: dict[str, Validator] = {
    "prompt": Str(min_length=1),
    "n": Int(1, 10),
    "size": TEXT,
    "quality": TEXT,
    "style": TEXT,
    "response_format": Str(choices=("url", "b64_json")),
    "background": TEXT,
    "output_format": TEXT,
    "user": TEXT,
}

# Multipart: every field arrives as text; _read_multipart types temperature
# and timestamp_granularities[] before these checks run.
AUDIO_TRANSCRIPTION: dict[str, Validator] = {
    "file": Upload(),
    "language": TEXT,
    "prompt": TEXT,
    "response_format": Str(choices=("json", "text", "srt", "verbose_json", "vtt")),
    "temperature": Num(0, 1),
    "timestamp_granularities": Arr(Str(choices=("word", "segment"))),
}

AUDIO_SPEECH: dict[str, Validator] = {
    "input": Str(min_length=1),
    "voice": AnyOf(Str(min_length=1), Obj({"id": Str(min_length=1)}, required=("id",))),
    "response_format": Str(choices=tuple(SPEECH_CONTENT_TYPES)),
    "speed": Num(0.25, 4.0),
    "instructions": TEXT,
}

MODERATION: dict[str, Validator] = {
    "input": AnyOf(TEXT, STRINGS, Arr(PART)),
}

RERANK: dict[str, Validator] = {
    "query": Str(min_length=1),
    "documents": AnyOf(STRINGS, Arr(OBJECT)),
    "top_n": Int(1, 10_000),
    "return_documents": Bool(),
    "max_chunks_per_doc": Int(1, 10_000),
}

# LiteLLM's search API (Perplexity's Search API fields), which maps them onto each provider's.
SEARCH: dict[str, Validator] = {
    "query": AnyOf(Str(min_length=1), Arr(Str(min_length=1), max_items=5)),
    "max_results": Int(1, 20),
    "search_domain_filter": Arr(TEXT, max_items=20),
    "max_tokens_per_page": Int(1, 1_000_000),
    "country": Str(min_length=2),
}

# -- Anthropic Messages ----------------------------------------------------------
BLOCK = Part({"type": Str(min_length=1), "text": TEXT})
ANTHROPIC_CONTENT = AnyOf(TEXT, Arr(BLOCK))
ANTHROPIC_MESSAGES: dict[str, Validator] = {
    "messages": Arr(Message(roles={"user": Role(ANTHROPIC_CONTENT), "assistant": Role(ANTHROPIC_CONTENT)})),
    "system": AnyOf(TEXT, Arr(BLOCK)),
    "max_tokens": TOKENS,
    # Only user_id: anything else would reach LiteLLM's callbacks.
    "metadata": Obj({"user_id": TEXT}, closed=True),
    "stop_sequences": STRINGS,
    "stream": Bool(),
    "temperature": Num(0, 1),
    "top_p": Num(0, 1),
    "top_k": Int(0, MAX_TOKENS),
    "tools": Arr(Obj({"name": Str(min_length=1), "description": TEXT, "input_schema": OBJECT, "type": TEXT})),
    "tool_choice": Obj(
        {"type": Str(choices=("auto", "any", "tool", "none")), "name": TEXT, "disable_parallel_tool_use": Bool()},
        required=("type",),
    ),
    "thinking": Obj({"type": Str(choices=("enabled", "disabled")), "budget_tokens": TOKENS}, required=("type",)),
}


# -- Google's Gemini API -----------------------------------------------------------
# Gemini's REST API takes each field in camelCase or snake_case (its SDKs send
# camelCase; its curl examples use both). The body never names a model (the
# URL does) or a credential, and nothing in it changes where a request goes.
def _both_cases(fields: dict[str, Validator]) -> dict[str, Validator]:
    snake = {"".join(f"_{c.lower()}" if c.isupper() else c for c in name): rule for name, rule in fields.items()}
    return {**fields, **snake}


GEMINI_PART = Obj()  # text, inlineData, fileData, functionCall, ...: the provider checks its own parts
GEMINI_CONTENT = Obj({"role": Str(choices=("user", "model", "function", "tool")), "parts": Arr(GEMINI_PART)})
GEMINI_GENERATE: dict[str, Validator] = _both_cases(
    {
        "contents": Arr(GEMINI_CONTENT),
        "systemInstruction": GEMINI_CONTENT,
        "generationConfig": OBJECT,
        "safetySettings": Arr(OBJECT),
        "tools": Arr(OBJECT),
        "toolConfig": OBJECT,
        "cachedContent": TEXT,
    }
)
VERTEX_GENERATE: dict[str, Validator] = {**GEMINI_GENERATE, "labels": Obj(values=TEXT)}
GEMINI_COUNT_TOKENS: dict[str, Validator] = _both_cases(
    {"contents": Arr(GEMINI_CONTENT), "generateContentRequest": Obj(_both_cases({"contents": Arr(GEMINI_CONTENT)}))}
)
GEMINI_EMBED_FIELDS: dict[str, Validator] = _both_cases(
    {
        "content": GEMINI_CONTENT,
        "taskType": TEXT,
        "title": TEXT,
        "outputDimensionality": Int(1, 16_384),
    }
)
GEMINI_EMBED: dict[str, Validator] = GEMINI_EMBED_FIELDS
# Each request names the model again: the gateway puts the provider's there.
GEMINI_BATCH_EMBED: dict[str, Validator] = {
    "requests": Arr(Obj({**GEMINI_EMBED_FIELDS, "model": TEXT}, required=("content",), closed=True)),
}

# Vertex AI's text embeddings: :predict's instances and parameters, or :embedContent with its config.
VERTEX_PREDICT: dict[str, Validator] = {
    "instances": Arr(Obj({"content": TEXT, "task_type": TEXT, "title": TEXT}, required=("content",))),
    "parameters": Obj({"outputDimensionality": Int(1, 16_384), "autoTruncate": Bool()}),
}
VERTEX_EMBED: dict[str, Validator] = _both_cases({"content": GEMINI_CONTENT, "embedContentConfig": OBJECT})

# -- Amazon Bedrock Runtime -----------------------------------------------------------
# Converse's documented request (the model is in the URL; credentials and region are the key's).
BEDROCK_CONTENT = Obj()  # text, image, document, toolUse, toolResult, ...: Bedrock checks its own blocks
BEDROCK_CONVERSE: dict[str, Validator] = {
    "messages": Arr(
        Obj({"role": Str(choices=("user", "assistant")), "content": Arr(BEDROCK_CONTENT)}, required=("role",))
    ),
    "system": Arr(BEDROCK_CONTENT),
    "inferenceConfig": Obj(
        {"maxTokens": TOKENS, "temperature": Num(0, 1), "topP": Num(0, 1), "stopSequences": STRINGS}, closed=True
    ),
    "toolConfig": OBJECT,
    "guardrailConfig": OBJECT,
    "additionalModelRequestFields": OBJECT,
    "additionalModelResponseFieldPaths": STRINGS,
    "promptVariables": OBJECT,
    "requestMetadata": Obj(values=TEXT),
    "performanceConfig": OBJECT,
    "serviceTier": OBJECT,
}

# InvokeModel's body is the model's own format (Claude's, Llama's, Titan's, ...): only the
# names that would send a LiteLLM call elsewhere, re-credential it or skip the provider are refused.
LITELLM_CONTROLS = frozenset(
    {"extra_body", "mock_response", "mock_testing_fallbacks", "_target_order", "fallbacks", "num_retries"}
)
INVOKE = OpenFields(DESTINATION_PARAMS | LITELLM_CONTROLS)

# Keyed through the registry: a route added there without a table here (or
# the other way round) fails at import.
SCHEMAS: dict[str, dict[str, Validator]] = per_route(
    {
        "chat": CHAT,
        "completion": COMPLETION,
        "embedding": EMBEDDING,
        "image_generation": IMAGE_GENERATION,
        "audio_transcription": AUDIO_TRANSCRIPTION,
        "audio_speech": AUDIO_SPEECH,
        "moderation": MODERATION,
        "rerank": RERANK,
        "search": SEARCH,
        "anthropic_messages": ANTHROPIC_MESSAGES,
        "gemini_generate_content": GEMINI_GENERATE,
        "gemini_stream_generate_content": GEMINI_GENERATE,
        "gemini_count_tokens": GEMINI_COUNT_TOKENS,
        "gemini_embed_content": GEMINI_EMBED,
        "gemini_batch_embed_contents": GEMINI_BATCH_EMBED,
        # Vertex AI takes the same requests (and labels, its billing tags).
        "vertex_generate_content": VERTEX_GENERATE,
        "vertex_stream_generate_content": VERTEX_GENERATE,
        "vertex_count_tokens": GEMINI_COUNT_TOKENS,
        "vertex_predict": VERTEX_PREDICT,
        "vertex_embed_content": VERTEX_EMBED,
        "bedrock_converse": BEDROCK_CONVERSE,
        "bedrock_converse_stream": BEDROCK_CONVERSE,
        "bedrock_invoke": INVOKE,
        "bedrock_invoke_with_response_stream": INVOKE,
        "bedrock_invoke_embeddings": INVOKE,
    },
    "allowlist schema",
)

ALLOWED_FIELDS: dict[str, frozenset[str]] = {route: frozenset(table) for route, table in SCHEMAS.items()}

REQUIRED_FIELDS: dict[str, tuple[str, ...]] = {name: route.required for name, route in ROUTES.items()}


def check_fields(kind: str, body: dict[str, Any]) -> None:
    """Raise a 400 ``ProxyError`` naming the first field of ``body`` that is not allowed or not well-formed."""
    try:
        check_body(SCHEMAS[kind], REQUIRED_FIELDS[kind], body)
    except Invalid as problem:
        raise ProxyError(400, problem.message, param=problem.param, code=problem.code) from None
