"""How each endpoint type is called through the Router, and what the client gets back."""

from __future__ import annotations

import json
from typing import Any

# Which request route may call which endpoint type.
ROUTE_TYPES = {
    "chat": "chat",
    "completion": "completion",
    "embedding": "embedding",
    "image_generation": "image_generation",
    "audio_transcription": "audio_transcription",
    "audio_speech": "audio_speech",
    "moderation": "moderation",
    "rerank": "rerank",
    "anthropic_messages": "chat",
}

ROUTE_PATHS = {
    "chat": "/v1/chat/completions",
    "completion": "/v1/completions",
    "embedding": "/v1/embeddings",
    "image_generation": "/v1/images/generations",
    "audio_transcription": "/v1/audio/transcriptions",
    "audio_speech": "/v1/audio/speech",
    "moderation": "/v1/moderations",
    "rerank": "/v1/rerank",
    "anthropic_messages": "/v1/messages",
}

ROUTER_METHODS = {
    "chat": "acompletion",
    "completion": "atext_completion",
    "embedding": "aembedding",
    "image_generation": "aimage_generation",
    "audio_transcription": "atranscription",
    "audio_speech": "aspeech",
    "moderation": "amoderation",
    "rerank": "arerank",
    "anthropic_messages": "aanthropic_messages",
}

SPEECH_CONTENT_TYPES = {
    "mp3": "audio/mpeg",
    "opus": "audio/ogg",
    "aac": "audio/aac",
    "flac": "audio/flac",
    "wav": "audio/wav",
    "pcm": "audio/pcm",
}


def hidden(response: Any) -> dict[str, Any]:
    if isinstance(response, dict):
        return response.get("_hidden_params") or {}
    return getattr(response, "_hidden_params", None) or {}


def usage_of(response: Any) -> tuple[int, int]:
    """(prompt, completion) tokens from any response shape (OpenAI or Anthropic)."""
    usage = response.get("usage") if isinstance(response, dict) else getattr(response, "usage", None)
    if usage is None:
        return 0, 0
    if not isinstance(usage, dict):
        usage = usage.model_dump() if hasattr(usage, "model_dump") else dict(usage)
    prompt = usage.get("prompt_tokens") or usage.get("input_tokens") or 0
    completion = usage.get("completion_tokens") or usage.get("output_tokens") or 0
    return int(prompt or 0), int(completion or 0)


def to_json(response: Any) -> str:
    """The client-facing JSON of a LiteLLM response (its private ``_hidden_params`` dropped)."""
    if isinstance(response, dict):  # Anthropic Messages responses come back as plain dicts
        return json.dumps({k: v for k, v in response.items() if k != "_hidden_params"})
    if hasattr(response, "model_dump_json"):  # pydantic models; private attributes are not dumped
        return response.model_dump_json()
    return json.dumps(response)
