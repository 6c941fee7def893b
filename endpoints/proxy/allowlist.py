"""Which request fields a client may send, per endpoint type (an allowlist, never a blocklist).

LiteLLM honours hundreds of extra keyword arguments, and copies unknown ones
into the upstream body: ``api_base``/``base_url`` would send the gateway's
provider key to a host of the client's choosing, ``api_key`` swaps it,
``mock_response`` skips the provider, ``_target_order`` skips priority 1,
``extra_headers`` adds upstream headers, ``metadata`` feeds callbacks. So the
proxy forwards only the fields of each public API (OpenAI's, or Anthropic's
on ``/v1/messages``) and refuses anything else with a 400 naming the field.
"""

from __future__ import annotations

SAMPLING = {"temperature", "top_p", "n", "stop", "max_tokens", "presence_penalty", "frequency_penalty"}
SAMPLING |= {"logit_bias", "logprobs", "seed", "user"}

CHAT = SAMPLING | {
    "messages",
    "stream",
    "stream_options",
    "max_completion_tokens",
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
}

COMPLETION = SAMPLING | {"prompt", "suffix", "echo", "best_of", "stream", "stream_options"}
EMBEDDING = {"input", "dimensions", "encoding_format", "user"}
IMAGE_GENERATION = {"prompt", "n", "size", "quality", "style", "response_format", "background", "output_format", "user"}
AUDIO_TRANSCRIPTION = {"file", "language", "prompt", "response_format", "temperature", "timestamp_granularities"}
AUDIO_SPEECH = {"input", "voice", "response_format", "speed", "instructions"}
MODERATION = {"input"}
RERANK = {"query", "documents", "top_n", "return_documents", "max_chunks_per_doc"}

ANTHROPIC_MESSAGES = {
    "messages",
    "system",
    "max_tokens",
    "metadata",
    "stop_sequences",
    "stream",
    "temperature",
    "top_p",
    "top_k",
    "tools",
    "tool_choice",
    "thinking",
}

ALLOWED_FIELDS: dict[str, frozenset[str]] = {
    "chat": frozenset(CHAT),
    "completion": frozenset(COMPLETION),
    "embedding": frozenset(EMBEDDING),
    "image_generation": frozenset(IMAGE_GENERATION),
    "audio_transcription": frozenset(AUDIO_TRANSCRIPTION),
    "audio_speech": frozenset(AUDIO_SPEECH),
    "moderation": frozenset(MODERATION),
    "rerank": frozenset(RERANK),
    "anthropic_messages": frozenset(ANTHROPIC_MESSAGES),
}

REQUIRED_FIELDS: dict[str, tuple[str, ...]] = {
    "chat": ("messages",),
    "completion": ("prompt",),
    "embedding": ("input",),
    "image_generation": ("prompt",),
    "audio_transcription": ("file",),
    "audio_speech": ("input", "voice"),
    "moderation": ("input",),
    "rerank": ("query", "documents"),
    "anthropic_messages": ("messages", "max_tokens"),
}


def check_fields(kind: str, body: dict) -> tuple[str, str] | None:
    """Return ``(param, message)`` for the first problem in ``body``, or None when it is acceptable."""
    allowed = ALLOWED_FIELDS[kind]
    for name in body:
        if name == "model":
            continue
        if name not in allowed:
            return name, f"Unrecognized request argument supplied: {name}"
    for name in REQUIRED_FIELDS[kind]:
        if body.get(name) in (None, "", []):
            return name, f"Missing required parameter: '{name}'."
    if kind in ("chat", "anthropic_messages") and not isinstance(body.get("messages"), list):
        return "messages", "'messages' must be an array of message objects."
    if "stream_options" in body and not isinstance(body["stream_options"], dict):
        return "stream_options", "'stream_options' must be an object."
    if kind == "anthropic_messages" and "metadata" in body:
        # Anthropic's metadata only carries user_id; anything else would reach LiteLLM's callbacks.
        metadata = body["metadata"]
        if not isinstance(metadata, dict) or set(metadata) - {"user_id"}:
            return "metadata", "Only metadata.user_id is accepted."
    return None
