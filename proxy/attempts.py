"""Counting the attempts LiteLLM's Router makes for one request.

The Router's own retry headers undercount after a priority fallback, so a
single global callback records every failed attempt and the success, keyed
by the request id the proxy puts in ``metadata``.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from gatewaylib.llm import configure_litellm

_configured = False
_lock = threading.Lock()


@dataclass
class Attempts:
    failures: int = 0
    served_by: str | None = None
    # (deployment id, exception) of each failed attempt, for the request log.
    errors: list[tuple[str | None, BaseException]] = field(default_factory=list)


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


def install() -> None:
    """LiteLLM's settings, plus the callback that counts attempts (once per process)."""
    global _configured
    configure_litellm()
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
                    if isinstance(exception := kwargs.get("exception"), BaseException):
                        attempts.errors.append((_model_id(kwargs), exception))

            async def async_log_success_event(self, kwargs, response_obj, start_time, end_time):
                attempts = _live.get(_request_id(kwargs) or "")
                if attempts is not None:
                    attempts.served_by = _model_id(kwargs)

        litellm.callbacks = [*litellm.callbacks, AttemptLogger()]
        _configured = True
