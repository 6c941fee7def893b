"""How each endpoint type is called through the Router, and what the client gets back."""

from __future__ import annotations

import json
import re
from typing import Any

from gatewaylib.endpoint_types import (
    BEDROCK,
    BEDROCK_PREFIX,
    GEMINI,
    GEMINI_PREFIX,
    ROUTES,
    VERTEX,
    VERTEX_PREFIX,
)
from gatewaylib.endpoint_types import ROUTE_TYPES as ROUTE_TYPES  # which endpoint type each route calls

# Read from the registry (gatewaylib.endpoint_types), under the names the proxy's modules use:
# where each route is served, and the Router method it awaits.
ROUTE_PATHS = {name: route.path for name, route in ROUTES.items()}
ROUTER_METHODS = {name: route.router_method for name, route in ROUTES.items()}
# Google's URLs: any API version its SDKs use, the endpoint where the model goes, then the method.
_MODEL_AND_METHOD = r"(?P<endpoint>[-a-zA-Z0-9_]+):(?P<method>[a-zA-Z]+)$"
GEMINI_PATH = re.compile("^" + re.escape(GEMINI_PREFIX) + r"/(?:v1|v1beta|v1alpha)/models/" + _MODEL_AND_METHOD)
# Vertex AI's publisher models, with or without the caller's projects/<p>/locations/<l>/ (the
# key's project and location are the ones called, whatever the client names).
VERTEX_PATH = re.compile(
    "^"
    + re.escape(VERTEX_PREFIX)
    + r"/(?:v1|v1beta1)/(?:projects/[^/]+/locations/[^/]+/)?publishers/google/models/"
    + _MODEL_AND_METHOD
)
# Bedrock Runtime's model operations, as boto3 calls them under its endpoint_url.
BEDROCK_PATH = re.compile("^" + re.escape(BEDROCK_PREFIX) + r"/model/(?P<endpoint>[-a-zA-Z0-9_]+)/(?P<method>[a-z-]+)$")
NATIVE_PATHS = {GEMINI: GEMINI_PATH, VERTEX: VERTEX_PATH, BEDROCK: BEDROCK_PATH}

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
