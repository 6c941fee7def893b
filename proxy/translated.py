"""The translated path: LiteLLM's Router makes the call and converts the format.

For every pair the direct path does not cover (OpenAI format to Anthropic,
Bedrock, Vertex, ..., rerank, audio transcription). The Router retries and
fails over itself; an attempt counter (``proxy.attempts``) says how many
calls it made.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import orjson

from gatewaylib import egress
from gatewaylib.scrub import WITHHELD, Scrubber
from proxy import attempts as attempt_log
from proxy.errors import ProxyError, from_provider
from proxy.http import STREAM_HEADERS, Response
from proxy.routes import ROUTER_METHODS, SPEECH_CONTENT_TYPES, hidden, to_json, usage_of

if TYPE_CHECKING:
    from proxy.pipeline import Call
    from proxy.state import EndpointInfo, RouterEntry

logger = logging.getLogger(__name__)


async def dispatch(call: Call, endpoint: EndpointInfo, entry: RouterEntry, body: dict[str, Any]) -> Response:
    kwargs = {k: v for k, v in body.items() if k not in ("model", "metadata")}
    call.stream = bool(kwargs.get("stream"))
    client_wants_usage = bool((kwargs.get("stream_options") or {}).get("include_usage"))
    if call.stream and call.spec.stream_usage_option:
        # Always ask upstream for usage so streams are metered; the usage
        # chunk is passed on only when the client asked for it.
        kwargs["stream_options"] = {**(kwargs.get("stream_options") or {}), "include_usage": True}
    method = getattr(entry.router, ROUTER_METHODS[call.route])
    entry.translated = True
    attempts = attempt_log.begin(call.request_id)
    refused: list[str] = []
    egress.refusals.set(refused)
    try:
        response = await method(model=endpoint.name, metadata={"gw_request_id": call.request_id}, **kwargs)
    except Exception as exc:
        record = attempt_log.end(call.request_id)
        _note_failures(call, record, entry.scrubber)
        call.attempts = record.failures or 1
        call.headers["x-gateway-attempts"] = str(call.attempts)
        if refused:  # the provider libraries report these as a bare "Connection error."
            raise ProxyError(502, refused[-1], code="destination_refused") from None
        raise from_provider(exc, entry.scrubber) from None
    if call.stream:
        _served(call, response, attempts, entry.scrubber)  # attempts before the first chunk
        return _stream(call, response, client_wants_usage, entry.scrubber)
    await asyncio.sleep(0)  # let LiteLLM's success callback run before we read the attempt log
    _served(call, response, attempt_log.end(call.request_id), entry.scrubber)
    call.prompt_tokens, call.completion_tokens = usage_of(response)
    call.finish(200)
    if call.route == "audio_speech":
        content = response.content if hasattr(response, "content") else bytes(response)
        fmt = kwargs.get("response_format", "mp3")
        return Response(body=content, content_type=SPEECH_CONTENT_TYPES.get(fmt, "application/octet-stream"))
    return Response(body=to_json(response).encode())


def _served(call: Call, response: Any, attempts: attempt_log.Attempts, scrubber: Scrubber) -> None:
    _note_failures(call, attempts, scrubber)
    call.attempts = max(attempts.failures + 1, 1)
    call.serve(hidden(response).get("model_id") or attempts.served_by)


def _note_failures(call: Call, attempts: attempt_log.Attempts, scrubber: Scrubber) -> None:
    """Each attempt LiteLLM made that failed, in the words the client would have got (scrubbed)."""
    for model_id, exception in attempts.errors:
        error = from_provider(exception, scrubber)
        call.attempt_failed(model_id, getattr(exception, "status_code", None) or error.status, error.message)


def _stream(call: Call, stream: Any, client_wants_usage: bool, scrubber: Scrubber) -> Response:
    return Response(
        content_type="text/event-stream",
        headers=dict(STREAM_HEADERS),
        stream=_events(call, stream, client_wants_usage, scrubber),
        on_close=call.end_of_stream,
    )


async def _events(call: Call, stream: Any, client_wants_usage: bool, scrubber: Scrubber) -> AsyncIterator[bytes]:
    status, error_type, message = 200, "", ""
    try:
        async for chunk in stream:
            if call.ttft_ms is None:
                call.ttft_ms = (time.perf_counter() - call.started) * 1000
            if call.flavour == "anthropic":
                _count_anthropic(call, chunk)
                # These frames are the provider's own bytes, error events
                # included, and a provider may echo the request's credential.
                frame = scrubber.data(chunk if isinstance(chunk, bytes) else chunk.encode())
                yield frame if frame is not None else _withheld_frame(call)
                continue
            prompt, completion = usage_of(chunk)
            if prompt or completion:
                call.prompt_tokens, call.completion_tokens = prompt, completion
                if not client_wants_usage and not getattr(chunk, "choices", None):
                    continue
            yield b"data: " + chunk.model_dump_json(exclude_none=True).encode() + b"\n\n"
        if call.flavour == "openai":
            yield b"data: [DONE]\n\n"
    except asyncio.CancelledError:
        status, error_type = 499, "client_disconnected"
        raise
    except Exception as exc:
        error = from_provider(exc, scrubber)
        status, error_type, message = error.status, error.code or "stream_error", error.message
        yield error.event(call.flavour)
    finally:
        attempt_log.end(call.request_id)
        await asyncio.shield(_close(stream))
        call.finish(status, error_type, message)
        call.end_of_stream()


def _withheld_frame(call: Call) -> bytes:
    return ProxyError(
        502, f"The provider sent an event that held a credential; {WITHHELD}.", code="provider_error"
    ).event(call.flavour)


async def _close(stream: Any) -> None:
    close = getattr(stream, "aclose", None)
    if close is not None:
        try:
            await close()
        except Exception:  # the upstream connection is gone either way
            logger.debug("closing the upstream stream failed", exc_info=True)


def _count_anthropic(call: Call, frame: Any) -> None:
    text = frame.decode(errors="ignore") if isinstance(frame, bytes) else str(frame)
    for line in text.splitlines():
        if not line.startswith("data: "):
            continue
        try:
            data = orjson.loads(line[6:])
        except orjson.JSONDecodeError:
            continue
        if not isinstance(data, dict):
            continue
        usage = data.get("usage") or (data.get("message") or {}).get("usage") or {}
        call.prompt_tokens = usage.get("input_tokens") or call.prompt_tokens
        call.completion_tokens = usage.get("output_tokens") or call.completion_tokens
