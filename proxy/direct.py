"""The direct path: the client's request goes to the provider in one pooled HTTP call, its bytes come back.

Used when the client's format is the provider's own (``proxy.upstreams``).
LiteLLM's Router still chooses: ``Router.select`` picks the deployment
(weights, priority order, cooldowns) and every failure is reported back with
``health().record_failure``, so the next pick avoids a cooled-down
deployment and moves to the next priority exactly as the Router's own retries
do. What the Router no longer does here is the call itself: the body goes
out as the client sent it with only ``model`` replaced (and usage asked for
on streams), and the provider's bytes are passed through; only the status
and the usage are read.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

import aiohttp
import orjson

from gatewaylib import egress, eventstream
from gatewaylib.endpoint_types import ANTHROPIC, BEDROCK, GOOGLE_WIRES, OPENAI
from gatewaylib.scrub import WITHHELD, Scrubber
from proxy import errors
from proxy.errors import ProxyError
from proxy.google_auth import TokenError
from proxy.http import STREAM_HEADERS, Response

if TYPE_CHECKING:
    from proxy.pipeline import Call
    from proxy.state import EndpointInfo, RouterEntry
    from proxy.upstreams import Upstream

logger = logging.getLogger(__name__)

# Statuses for which another deployment may do better: fail over. Any other
# 4xx is the request's own fault and goes straight back to the client.
FAIL_OVER = frozenset({401, 403, 404, 408, 409, 429})


class AttemptFailed(Exception):
    """One attempt failed; ``error`` is what the client gets if no other deployment serves."""

    def __init__(self, error: ProxyError, status: int | str, retry_after: str | None = None) -> None:
        super().__init__(error.message)
        self.error, self.status_code, self.llm_provider = error, status, "gateway"
        self.retry_after = retry_after


async def dispatch(
    call: Call, endpoint: EndpointInfo, entry: RouterEntry, body: dict[str, Any], targets: Mapping[str, Upstream]
) -> Response:
    # OpenAI's ``metadata`` is for the gateway's records; Anthropic's is the provider's.
    payload = {name: value for name, value in body.items() if call.flavour != OPENAI or name != "metadata"}
    call.stream = call.spec.always_streams or (call.spec.streams and bool(payload.get("stream")))
    wants_usage = bool((payload.get("stream_options") or {}).get("include_usage"))
    if call.stream and call.spec.stream_usage_option:
        # Always ask for usage so streams are metered; the usage chunk reaches
        # the client only if it asked for it.
        payload["stream_options"] = {**(payload.get("stream_options") or {}), "include_usage": True}
    return await with_failover(
        call,
        endpoint,
        entry,
        lambda deployment_id: _attempt(call, targets[deployment_id], payload, entry.scrubber, wants_usage),
    )


async def with_failover(
    call: Call, endpoint: EndpointInfo, entry: RouterEntry, attempt: Callable[[str], Awaitable[Response]]
) -> Response:
    """``attempt`` on the deployments the Router picks, one after another, until one serves.

    A failed attempt is reported to the Router (it cools the deployment down,
    and the next pick may fall to the next priority); a refused request goes
    straight back, as no other deployment would take it.
    """
    last: AttemptFailed | None = None
    excluded: list[str] = []
    for number in range(1, entry.attempts + 1):
        deployment_id = await pick(entry, endpoint.name, excluded, last)
        call.attempts = number
        try:
            return await attempt(deployment_id)
        except AttemptFailed as failed:
            call.attempt_failed(deployment_id, failed.status_code, failed.error.message)
            last = failed
            if not entry.report_failure(deployment_id, failed):
                excluded.append(deployment_id)
        except ProxyError as refused:  # the request itself was refused: no other deployment would take it
            call.attempt_failed(deployment_id, refused.status, refused.message)
            raise
    call.headers["x-gateway-attempts"] = str(call.attempts)
    raise last.error


async def pick(entry: RouterEntry, name: str, excluded: list[str], last: AttemptFailed | None) -> str:
    try:
        return await entry.pick(name, excluded)
    except Exception as exc:  # LiteLLM's "no deployments available" (all cooling down)
        if last is not None:
            raise last.error from None  # every model tried failed: the last one's error, as the Router does
        if exc.__class__.__name__ == "RouterRateLimitError":
            raise errors.no_healthy_model() from None
        raise


async def _attempt(
    call: Call, upstream: Upstream, payload: dict[str, Any], scrubber: Scrubber, wants_usage: bool
) -> Response:
    _name_model(payload, upstream)
    try:
        data = orjson.dumps(payload)
    except orjson.JSONEncodeError:  # an integer beyond 64 bits in a field the allowlist leaves open
        message = "The request body holds an integer that does not fit in 64 bits."
        raise ProxyError(400, message, code="invalid_json") from None
    try:
        headers = await upstream.signed_headers(data) if upstream.signs else upstream.headers
        response = await egress.session().post(upstream.target, data=data, headers=headers, timeout=upstream.timeout)
    except egress.EgressRefused as exc:
        raise AttemptFailed(ProxyError(502, exc.reason, code="destination_refused"), 502) from None
    except TokenError as exc:  # Vertex AI: no access token from the key's service account
        raise AttemptFailed(ProxyError(502, str(exc), code="provider_auth_error"), 502) from None
    except (TimeoutError, aiohttp.ServerTimeoutError):
        raise AttemptFailed(errors.timed_out(), 408) from None
    except aiohttp.ClientError:
        raise AttemptFailed(errors.unreachable(), 502) from None
    if response.status >= 400:
        raise await _refusal(response, scrubber)
    call.serve(upstream.deployment_id)
    if call.stream:
        return _relay(call, response, scrubber, wants_usage, upstream.wire)
    return await _complete(call, response, upstream.wire)


def _name_model(payload: dict[str, Any], upstream: Upstream) -> None:
    """Put the provider's model name where its API reads it (Gemini's and Bedrock's URLs already hold it)."""
    if upstream.wire == BEDROCK:
        return
    if upstream.wire not in GOOGLE_WIRES:
        payload["model"] = upstream.model
    elif "requests" in payload:  # batchEmbedContents names the model in every request too
        payload["requests"] = [{**item, "model": f"models/{upstream.model}"} for item in payload["requests"]]


async def _refusal(response: aiohttp.ClientResponse, scrubber: Scrubber) -> Exception:
    """The provider said no: scrub its message, map its status; a request-shape 4xx is not failed over."""
    status, retry_after = response.status, response.headers.get("retry-after")
    try:
        raw = await response.read()
    except (aiohttp.ClientError, TimeoutError):
        raw = b""
    finally:
        response.release()
    error = errors.from_status(status, scrubber.text(_provider_message(raw))[:500], retry_after)
    if status < 500 and status not in FAIL_OVER:
        return error
    return AttemptFailed(error, status, retry_after)


def _provider_message(raw: bytes) -> str:
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return raw.decode(errors="replace")
    error = data.get("error") if isinstance(data, dict) else None
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        return error["message"]
    for name in ("message", "Message"):  # AWS's shape
        if isinstance(data, dict) and isinstance(data.get(name), str):
            return data[name]
    return raw.decode(errors="replace")


async def _complete(call: Call, response: aiohttp.ClientResponse, wire: str) -> Response:
    try:
        body = await response.read()
    except (aiohttp.ClientError, TimeoutError):
        raise ProxyError(502, "The provider's answer broke off.", code="provider_unreachable") from None
    finally:
        response.release()
    content_type = response.headers.get("content-type", "application/json")
    headers = {}
    if wire == BEDROCK:
        # InvokeModel reports usage (and latency) in headers, whatever the model's format.
        headers = {name: value for name, value in response.headers.items() if name.lower() in BEDROCK_HEADERS}
        _count_bedrock_headers(call, headers)
    if content_type.startswith("application/json") and not call.prompt_tokens:
        _count(call, body, wire)
    call.finish(200)
    return Response(status=200, body=body, content_type=content_type, headers=headers)


BEDROCK_HEADERS = frozenset(
    {"x-amzn-bedrock-input-token-count", "x-amzn-bedrock-output-token-count", "x-amzn-bedrock-invocation-latency"}
)


def _count_bedrock_headers(call: Call, headers: Mapping[str, str]) -> None:
    counts = {name.lower(): value for name, value in headers.items()}
    prompt = counts.get("x-amzn-bedrock-input-token-count", "")
    completion = counts.get("x-amzn-bedrock-output-token-count", "")
    if prompt.isdigit():
        call.prompt_tokens = int(prompt)
    if completion.isdigit():
        call.completion_tokens = int(completion)


def _count(call: Call, body: bytes, wire: str) -> None:
    """Read the usage of a JSON answer or event (the only part of it the gateway reads)."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return
    if not isinstance(data, dict):
        return
    if wire in GOOGLE_WIRES and isinstance(predictions := data.get("predictions"), list):
        # Vertex AI's :predict embeddings count each instance's tokens in its statistics.
        counts = [((item.get("embeddings") or {}).get("statistics") or {}).get("token_count") for item in predictions]
        counted = sum(count for count in counts if isinstance(count, int | float))
        usage, names = {"promptTokenCount": int(counted)}, ("promptTokenCount", "candidatesTokenCount")
    elif wire in GOOGLE_WIRES:
        usage = data.get("usageMetadata")
        names = ("promptTokenCount", "candidatesTokenCount")
    elif wire == BEDROCK:
        # Converse's usage (and its stream's metadata event), or the invocation metrics
        # at the end of an InvokeModel stream; a Claude body's own usage otherwise.
        if isinstance(metrics := data.get("amazon-bedrock-invocationMetrics"), dict):
            usage, names = metrics, ("inputTokenCount", "outputTokenCount")
        elif isinstance(usage := data.get("usage"), dict) and "inputTokens" in usage:
            names = ("inputTokens", "outputTokens")
        else:
            names = ("input_tokens", "output_tokens")
    elif wire == ANTHROPIC:
        usage = data.get("usage") or (data.get("message") or {}).get("usage")
        names = ("input_tokens", "output_tokens")
    else:
        usage = data.get("usage")
        names = ("prompt_tokens", "completion_tokens")
    if isinstance(usage, dict):
        prompt, completion = usage.get(names[0]), usage.get(names[1])
        if wire in GOOGLE_WIRES and isinstance(usage.get("thoughtsTokenCount"), int):
            completion = (completion or 0) + usage["thoughtsTokenCount"]  # Gemini bills thinking as output
        if isinstance(prompt, int) and prompt:
            call.prompt_tokens = prompt
        if isinstance(completion, int) and completion:
            call.completion_tokens = completion


def _relay(call: Call, response: aiohttp.ClientResponse, scrubber: Scrubber, wants_usage: bool, wire: str) -> Response:
    def closed() -> None:
        # Also when the stream was never read (the client left first): the
        # upstream connection goes back, and the request is still logged.
        response.release()
        call.finish(499, "client_disconnected")
        call.end_of_stream()

    return Response(
        status=200,
        content_type=response.headers.get("content-type", "text/event-stream"),
        headers=dict(STREAM_HEADERS),
        stream=_events(call, response, scrubber, wants_usage, wire),
        on_close=closed,
    )


async def _events(
    call: Call, response: aiohttp.ClientResponse, scrubber: Scrubber, wants_usage: bool, wire: str
) -> AsyncIterator[bytes]:
    """The provider's stream as it arrives, event by event: SSE events, or Bedrock's event-stream messages.

    Usage is read on the way, and the OpenAI usage chunk the gateway asked for
    is dropped unless the client asked for it too.
    """
    bedrock = wire == BEDROCK
    end_of, passed = (eventstream.message_end, _pass_message) if bedrock else (_event_end, _pass)
    status, error_type, message, pending = 200, "", "", b""
    try:
        async for chunk in response.content.iter_any():
            if call.ttft_ms is None:
                call.ttft_ms = (time.perf_counter() - call.started) * 1000
            pending += chunk
            while (end := end_of(pending)) != -1:
                event, pending = pending[:end], pending[end:]
                if (kept := passed(call, event, scrubber, wants_usage, wire)) is not None:
                    yield kept
        if pending and bedrock:
            raise eventstream.MalformedMessage("the stream ended inside a message")
        if pending:
            yield pending
    except asyncio.CancelledError:
        status, error_type = 499, "client_disconnected"
        raise
    except (aiohttp.ClientError, TimeoutError, eventstream.MalformedMessage):
        error = ProxyError(502, "The provider's stream broke off.", code="provider_unreachable")
        status, error_type, message = error.status, error.code, error.message
        yield error.event(wire)
    finally:
        response.release()
        call.finish(status, error_type, message)
        call.end_of_stream()


def _event_end(buffer: bytes) -> int:
    """Index just past the first complete SSE event in ``buffer`` (-1 if none yet)."""
    end = buffer.find(b"\n\n")
    if end != -1:
        return end + 2
    end = buffer.find(b"\r\n\r\n")
    return end + 4 if end != -1 else -1


def _pass(call: Call, event: bytes, scrubber: Scrubber, wants_usage: bool, wire: str) -> bytes | None:
    """The event as the client gets it (None to drop it)."""
    if b'"usage' in event:  # OpenAI's and Anthropic's "usage", Gemini's "usageMetadata"
        for line in event.splitlines():
            if line.startswith(b"data:"):
                _count(call, line[5:].strip(), wire)
        if wire == OPENAI and not wants_usage and b'"choices":[]' in event.replace(b" ", b""):
            return None  # the usage-only chunk the gateway asked for on its own account
    if b"error" in event:
        # A provider may echo the request, credential included, in an error event.
        scrubbed = scrubber.data(event)
        if scrubbed is None:
            return ProxyError(502, f"The provider sent an error; {WITHHELD}.", code="provider_error").event(wire)
        return scrubbed
    return event


def _pass_message(call: Call, frame: bytes, scrubber: Scrubber, wants_usage: bool, wire: str) -> bytes:
    """One message as the client gets it: usage counted, an exception's text scrubbed."""
    if b"metadata" not in frame and b"chunk" not in frame and b"exception" not in frame:
        return frame  # a text delta (the header names are plain bytes): nothing to read
    message = eventstream.decode(frame)
    if message.is_exception:
        # A provider may echo the request, credential included, in an error.
        scrubbed = scrubber.data(message.payload)
        if scrubbed is None:
            return ProxyError(502, f"The provider sent an error; {WITHHELD}.", code="provider_error").event(BEDROCK)
        return frame if scrubbed == message.payload else eventstream.encode(message.headers, scrubbed)
    if message.event_type == "metadata":
        _count(call, message.payload, BEDROCK)
    elif message.event_type == "chunk":  # InvokeModel's stream: the model's own event, base64 in "bytes"
        try:
            inner = base64.b64decode(orjson.loads(message.payload).get("bytes") or "")
        except (orjson.JSONDecodeError, binascii.Error, AttributeError, TypeError):
            return frame
        if b"invocationMetrics" in inner:
            _count(call, inner, BEDROCK)
    return frame
