"""What an operator sees of each proxied request besides its usage row: one log line and one trace span.

Both are written when the request is over (``Call.finish``), from figures the
pipeline already holds, so the request path does no extra work for them:

- the line goes to the ``gateway.requests`` logger at ``GATEWAY_REQUEST_LOG_LEVEL``
  (DEBUG unless set, so by default it costs one level check); with
  ``GATEWAY_LOG_FORMAT=json`` its fields are JSON keys;
- the span follows OpenTelemetry's GenAI semantic conventions and is exported
  over OTLP only when ``OTEL_EXPORTER_OTLP_ENDPOINT`` (or the traces-only
  variant) is set; otherwise there is no tracer and nothing is built.

Neither carries prompt or response content, nor anything secret: ids, names,
numbers and the error type.
"""

from __future__ import annotations

import logging
import os
import time
from typing import TYPE_CHECKING, Any

from django.conf import settings

from gatewaylib.endpoint_types import ROUTES

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider

    from proxy.pipeline import Call
    from proxy.state import ModelInfo

logger = logging.getLogger("gateway.requests")

# gen_ai.operation.name per route, from the registry.
OPERATIONS = {name: route.operation for name, route in ROUTES.items()}
# gen_ai.provider.name: the convention's names for LiteLLM's providers where they differ.
PROVIDERS = {
    "azure": "azure.ai.openai",
    "bedrock": "aws.bedrock",
    "vertex_ai": "gcp.vertex_ai",
    "gemini": "gcp.gemini",
    "mistral": "mistral_ai",
    "xai": "x_ai",
    "watsonx": "ibm.watsonx.ai",
}

_provider: Any = None
_tracer: Any = None
_propagator: Any = None


def finished(call: Call, status: int, error_type: str, model: ModelInfo | None, latency_ms: float) -> None:
    """Log and trace one request that is over."""
    level = settings.GATEWAY_REQUEST_LOG_LEVEL
    if logger.isEnabledFor(level):
        _log(level, call, status, error_type, model, latency_ms)
    if _tracer is not None:
        _span(call, status, error_type, model, latency_ms)


def _fields(call: Call, status: int, error_type: str, model: ModelInfo | None, latency_ms: float) -> dict[str, Any]:
    return {
        "request_id": call.request_id,
        "method": call.request.method,
        "path": call.request.path,
        "status": status,
        "endpoint": call.endpoint.name if call.endpoint else None,
        "model": model.label if model else None,
        "attempts": call.attempts,
        "latency_ms": round(latency_ms, 2),
        "ttft_ms": round(call.ttft_ms, 2) if call.ttft_ms is not None else None,
        "stream": call.stream,
        "prompt_tokens": call.prompt_tokens,
        "completion_tokens": call.completion_tokens,
        "user_id": call.caller.user_id if call.caller else None,
        "token_id": call.caller.token_id.hex if call.caller and call.caller.token_id else None,
        "error_type": error_type or None,
    }


def _log(level: int, call: Call, status: int, error_type: str, model: ModelInfo | None, latency_ms: float) -> None:
    fields = _fields(call, status, error_type, model, latency_ms)
    text = " ".join(f"{key}={value}" for key, value in fields.items() if value is not None and key != "path")
    # The plain format reads the message; the JSON format also gets every field as a key.
    logger.log(level, "%s %s %s %s", call.request.method, call.request.path, status, text, extra=fields)


def _span(call: Call, status: int, error_type: str, model: ModelInfo | None, latency_ms: float) -> None:
    from opentelemetry.trace import SpanKind, Status, StatusCode

    operation = OPERATIONS.get(call.route, call.route)
    requested = call.endpoint.name if call.endpoint else None
    attributes: dict[str, Any] = {
        "gen_ai.operation.name": operation,
        "http.request.method": call.request.method,
        "url.path": call.request.path,
        "http.response.status_code": status,
        "gateway.request_id": call.request_id,
        "gateway.attempts": call.attempts,
        "gateway.stream": call.stream,
    }
    if requested is not None:
        attributes["gen_ai.request.model"] = requested
        attributes["gateway.endpoint.name"] = requested
        attributes["gateway.endpoint.id"] = call.endpoint.id.hex
    if model is not None:
        attributes["gen_ai.response.model"] = model.model_name
        attributes["gen_ai.provider.name"] = PROVIDERS.get(model.provider, model.provider)
        attributes["gateway.model_id"] = call.model_id
    if call.prompt_tokens or call.completion_tokens:
        attributes["gen_ai.usage.input_tokens"] = call.prompt_tokens
        attributes["gen_ai.usage.output_tokens"] = call.completion_tokens
    if call.ttft_ms is not None:
        attributes["gateway.time_to_first_token_ms"] = round(call.ttft_ms, 2)
    if error_type:
        attributes["error.type"] = error_type
    end = time.time_ns()
    span = _tracer.start_span(
        f"{operation} {requested}" if requested else operation,
        context=_propagator.extract(call.request.headers),  # the caller's traceparent, if it sent one
        kind=SpanKind.SERVER,
        attributes=attributes,
        start_time=end - int(latency_ms * 1_000_000),
    )
    if status >= 500 or error_type:
        span.set_status(Status(StatusCode.ERROR, error_type or str(status)))
    span.end(end_time=end)


# -- configuration -------------------------------------------------------------------
def use_tracer_provider(provider: TracerProvider | None) -> None:
    """Trace proxy requests into ``provider`` (None: stop tracing). Tests pass one with an in-memory exporter."""
    global _provider, _tracer, _propagator
    _provider = provider
    if provider is None:
        _tracer = _propagator = None
        return
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    _propagator = TraceContextTextMapPropagator()
    _tracer = provider.get_tracer("ai-gateway.proxy")


def configure_from_environment(environ: dict[str, str] | os._Environ = os.environ) -> TracerProvider | None:
    """An OTLP/HTTP exporter when the standard variables name a collector; nothing otherwise.

    The exporter reads the rest of its configuration (headers, timeout,
    protocol details) from the standard ``OTEL_EXPORTER_OTLP_*`` variables.
    """
    if not (environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")):
        return None
    if environ.get("OTEL_SDK_DISABLED", "").lower() == "true":
        return None
    from opentelemetry import trace
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    # Resource.create also reads OTEL_RESOURCE_ATTRIBUTES.
    provider = TracerProvider(
        resource=Resource.create({SERVICE_NAME: environ.get("OTEL_SERVICE_NAME") or "ai-gateway"})
    )
    # Spans are batched and sent from the processor's own thread, never from the event loop.
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    use_tracer_provider(provider)
    return provider


def flush(timeout_ms: int = 5000) -> None:
    """Send the spans still batched (a stopping process calls this before it exits)."""
    if _provider is not None:
        _provider.force_flush(timeout_ms)


configure_from_environment()
