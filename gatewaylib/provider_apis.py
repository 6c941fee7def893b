"""Where each provider's own API lives, for the code that builds requests to it.

The proxy's direct path (``proxy.upstreams``) and the start probes
(``endpoints.probes``) both send a key's secret to these addresses, so they
read them from here; a key's ``api_base`` always takes precedence.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# Provider -> its API's base URL when the key names none (None: the key must).
OPENAI_COMPATIBLE = {
    "openai": "https://api.openai.com/v1",
    "groq": "https://api.groq.com/openai/v1",
    "mistral": "https://api.mistral.ai/v1",
    "deepseek": "https://api.deepseek.com/v1",
    "together_ai": "https://api.together.xyz/v1",
    "fireworks_ai": "https://api.fireworks.ai/inference/v1",
    "xai": "https://api.x.ai/v1",
    "openrouter": "https://openrouter.ai/api/v1",
    "perplexity": "https://api.perplexity.ai",
    "cerebras": "https://api.cerebras.ai/v1",
    "deepinfra": "https://api.deepinfra.com/v1/openai",
    "hosted_vllm": None,
    "lm_studio": None,
    "llamafile": "http://127.0.0.1:8080/v1",
    "ollama": "http://localhost:11434",
}
ANTHROPIC_BASE = "https://api.anthropic.com"
ANTHROPIC_VERSION = "2023-06-01"
GEMINI_BASE = "https://generativelanguage.googleapis.com"


def openai_base(provider: str, params: Mapping[str, Any]) -> str | None:
    """The OpenAI-style base URL (".../v1") of an OpenAI-compatible deployment, or None if the key must name it."""
    base = params.get("api_base") or OPENAI_COMPATIBLE.get(provider)
    if not base:
        return None
    base = base.rstrip("/")
    if provider == "ollama" and not base.endswith("/v1"):
        base += "/v1"  # Ollama's OpenAI-compatible API lives under /v1
    return base
