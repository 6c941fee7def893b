"""Counting the attempts LiteLLM's Router makes for one request.

The Router's own retry headers undercount after a priority fallback, so a
single global callback records every failed attempt and the success, keyed
by the request id the proxy puts in ``metadata``.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from gatewaylib import egress
from gatewaylib.scrub import install_log_filter

_configured = False
_lock = threading.Lock()


@dataclass
class Attempts:
    failures: int = 0
    served_by: str | None = None
    failed_models: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.failures + (1 if self.served_by else 0)


_live: dict[str, Attempts] = {}


def begin(request_id: str) -> Attempts:
    attempts = _live[request_id] = Attempts()
    return attempts


def end(request_id: str) -> Attempts:
    return _live.pop(request_id, Attempts())


def _request_id(kwargs: dict) -> str | None:
    params = kwargs.get("litellm_params") or {}
    metadata = params.get("metadata") or kwargs.get("metadata") or {}
    return metadata.get("gw_request_id")


def _model_id(kwargs: dict) -> str | None:
    params = kwargs.get("litellm_params") or {}
    info = (params.get("metadata") or {}).get("model_info") or params.get("model_info") or {}
    return info.get("id")


def configure_litellm() -> None:
    """Process-wide LiteLLM settings, applied once before the first Router is built."""
    global _configured
    with _lock:
        if _configured:
            return
        import litellm
        from litellm.integrations.custom_logger import CustomLogger

        class AttemptLogger(CustomLogger):
            # LiteLLM passes these by keyword: the parameter names matter.
            async def async_log_failure_event(self, kwargs, response_obj, start_time, end_time):
                attempts = _live.get(_request_id(kwargs) or "")
                if attempts is not None:
                    attempts.failures += 1
                    attempts.failed_models.append(_model_id(kwargs) or "")

            async def async_log_success_event(self, kwargs, response_obj, start_time, end_time):
                attempts = _live.get(_request_id(kwargs) or "")
                if attempts is not None:
                    attempts.served_by = _model_id(kwargs)

        litellm.suppress_debug_info = True
        litellm.set_verbose = False
        litellm.drop_params = True
        # OpenAI-compatible servers rarely serve /responses; send Anthropic
        # Messages through chat/completions instead.
        litellm.use_chat_completions_url_for_anthropic_messages = True
        litellm.callbacks = [AttemptLogger()]
        # LiteLLM writes through handlers of its own; scrub those lines too.
        install_log_filter("LiteLLM", "LiteLLM Router", "LiteLLM Proxy")
        # Every connection it opens obeys the address rules and never follows a redirect.
        egress.install_for_litellm()
        _configured = True
