"""LiteLLM's process-wide settings, applied once before the first Router is built (control and data plane)."""

from __future__ import annotations

import threading

from gatewaylib import egress
from gatewaylib.scrub import install_log_filter

_lock = threading.Lock()
_configured = False


def configure_litellm() -> None:
    global _configured
    with _lock:
        if _configured:
            return
        import litellm

        litellm.suppress_debug_info = True
        litellm.set_verbose = False
        litellm.drop_params = True
        # OpenAI-compatible servers rarely serve /responses; send Anthropic
        # Messages through chat/completions instead.
        litellm.use_chat_completions_url_for_anthropic_messages = True
        # LiteLLM writes through handlers of its own; scrub those lines too.
        install_log_filter("LiteLLM", "LiteLLM Router", "LiteLLM Proxy")
        # Every connection it opens obeys the address rules and never follows a redirect.
        egress.install_for_litellm()
        _configured = True
