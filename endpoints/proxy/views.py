"""The OpenAI-compatible proxy: thin async views over one request pipeline.

authenticate (cached) -> parse and allowlist the body -> resolve the endpoint
(cached) -> USE + running + type -> rate limits -> cached Router -> provider
-> response or SSE stream -> usage queued (never blocks the response).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.http.multipartparser import MultiPartParserError
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET

from endpoints.proxy import attempts as attempt_log
from endpoints.proxy.allowlist import check_fields
from endpoints.proxy.calls import (
    ROUTE_PATHS,
    ROUTE_TYPES,
    ROUTER_METHODS,
    SPEECH_CONTENT_TYPES,
    hidden,
    to_json,
    usage_of,
)
from endpoints.proxy.errors import ProxyError, database_unavailable, from_provider
from endpoints.proxy.ratelimit import headers_for, limiter
from endpoints.proxy.state import Caller, EndpointInfo, state
from endpoints.proxy.usage import Usage, recorder
from gateway_site.parsers import MAX_JSON_DEPTH, JSONTooDeep, strict_loads
from gatewaylib import egress
from gatewaylib.db import DatabaseUnavailable, run_in_thread
from gatewaylib.drain import Ticket, drain
from gatewaylib.invalidation import watcher
from gatewaylib.scrub import WITHHELD, Scrubber
from sharing.levels import Level

logger = logging.getLogger(__name__)


class Call:
    """One proxied request: what was asked, by whom, and what it cost."""

    def __init__(self, request: HttpRequest, route: str) -> None:
        self.request, self.route = request, route
        self.flavour = "anthropic" if route == "anthropic_messages" else "openai"
        self.request_id = uuid.uuid4().hex
        self.started = time.perf_counter()
        self.caller: Caller | None = None
        self.endpoint: EndpointInfo | None = None
        self.model_id: str | None = None
        self.attempts = 0
        self.prompt_tokens = self.completion_tokens = 0
        self.ttft_ms: float | None = None
        self.stream = False
        self.headers: dict[str, str] = {"x-request-id": self.request_id}
        self.in_flight: Ticket | None = None  # set by handle(); a stream ends it (gatewaylib.drain)

    # -- bookkeeping ---------------------------------------------------------
    def served(self, response: Any, attempts: attempt_log.Attempts) -> None:
        self.model_id = hidden(response).get("model_id") or attempts.served_by
        self.attempts = max(attempts.failures + 1, 1)
        self.headers["x-gateway-attempts"] = str(self.attempts)
        model = self.endpoint.models.get(self.model_id or "") if self.endpoint else None
        if model is not None:
            self.headers["x-gateway-model"] = f"{model.provider}/{model.model_name}"
            self.headers["x-gateway-model-id"] = self.model_id

    def finish(self, status: int, error_type: str = "") -> None:
        if self.endpoint is None:
            return  # nothing to attribute: bad token, unknown endpoint
        model = self.endpoint.models.get(self.model_id or "")
        cost = 0.0
        if model is not None:
            cost = (
                self.prompt_tokens * model.input_cost_per_token + self.completion_tokens * model.output_cost_per_token
            )
        recorder.record(
            Usage(
                request_id=uuid.UUID(self.request_id),
                endpoint_id=self.endpoint.id,
                endpoint_name=self.endpoint.name,
                status_code=status,
                latency_ms=(time.perf_counter() - self.started) * 1000,
                endpoint_model_id=self.model_id,
                model_served=f"{model.provider}/{model.model_name}" if model else "",
                user_id=self.caller.user_id if self.caller else None,
                token_id=self.caller.token_id if self.caller else None,
                ttft_ms=self.ttft_ms,
                attempts=self.attempts or (1 if status < 500 else 0),
                stream=self.stream,
                prompt_tokens=self.prompt_tokens,
                completion_tokens=self.completion_tokens,
                cost_usd=cost,
                error_type=error_type,
            )
        )
        if self.endpoint.rate_limit_tpm and (self.prompt_tokens or self.completion_tokens):
            total = self.prompt_tokens + self.completion_tokens
            task = asyncio.get_running_loop().create_task(
                limiter.add_tokens("endpoint", self.endpoint.id.hex, self.endpoint.rate_limit_tpm, total)
            )
            _background.add(task)
            task.add_done_callback(_background.discard)

    def respond(self, response: HttpResponse) -> HttpResponse:
        for name, value in self.headers.items():
            response[name] = value
        return response


_background: set[asyncio.Task] = set()


# -- pipeline steps ------------------------------------------------------------
def _token_from(request: HttpRequest) -> str | None:
    header = request.headers.get("authorization", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip()
    return request.headers.get("x-api-key") or request.headers.get("api-key")


async def authenticate(call: Call) -> Caller:
    raw = _token_from(call.request)
    if not raw:
        raise ProxyError(401, "Missing gateway token: send 'Authorization: Bearer <token>'.", code="missing_api_key")
    caller = await state.caller(raw)
    if caller is None:
        raise ProxyError(401, "Invalid or expired gateway token.", code="invalid_api_key")
    return caller


# Above this (or with no Content-Length), reading the spooled body and parsing
# it leave the event loop: a 25 MB body would stall every other request.
LARGE_BODY_BYTES = 1024 * 1024


async def read_body(call: Call) -> dict[str, Any]:
    request = call.request
    try:
        length = int(request.headers.get("content-length") or 0)
    except ValueError:
        raise ProxyError(400, "The Content-Length header is not a number.", code="invalid_request") from None
    if length > settings.GATEWAY_MAX_BODY_BYTES:
        raise _too_large()
    if call.route == "audio_transcription":
        return await sync_to_async(_read_multipart, thread_sensitive=False)(request)
    if 0 < length <= LARGE_BODY_BYTES:
        return _read_json(request)
    return await sync_to_async(_read_json, thread_sensitive=False)(request)


def _read_json(request: HttpRequest) -> dict[str, Any]:
    try:
        raw = request.body  # a chunked body has no Content-Length: Django measures what arrived
    except RequestDataTooBig:
        raise _too_large() from None
    if len(raw) > settings.GATEWAY_MAX_BODY_BYTES:
        raise _too_large()
    try:
        body = strict_loads(raw or b"null")
    except JSONTooDeep:
        message = f"The request body nests JSON more than {MAX_JSON_DEPTH} levels deep."
        raise ProxyError(400, message, code="invalid_json") from None
    except ValueError as exc:  # UnicodeDecodeError included; the detail names a position, never content
        raise ProxyError(400, f"The request body is not valid JSON: {exc}", code="invalid_json") from None
    if not isinstance(body, dict):
        raise ProxyError(400, "The request body must be a JSON object.", code="invalid_json")
    return body


def _too_large() -> ProxyError:
    return ProxyError(413, f"Request body is larger than {settings.GATEWAY_MAX_BODY_BYTES} bytes.", code="too_large")


def _read_multipart(request: HttpRequest) -> dict[str, Any]:
    try:
        form, files = request.POST, request.FILES
    except RequestDataTooBig:
        raise _too_large() from None
    except (MultiPartParserError, TooManyFieldsSent, TooManyFilesSent) as exc:
        message = f"The request body is not valid multipart/form-data: {exc}"
        raise ProxyError(400, message, code="invalid_multipart") from None
    # Arrays arrive as repeated ``name[]`` parts (the OpenAI SDKs' encoding).
    body: dict[str, Any] = {}
    for name, values in form.lists():
        if name.endswith("[]"):
            body[name[:-2]] = values
        else:
            body[name] = values[-1]
    upload = files.get("file")
    if upload is None:
        raise ProxyError(400, "Missing required parameter: 'file'.", param="file", code="missing_file")
    body["file"] = (upload.name, upload.read(), upload.content_type or "application/octet-stream")
    if isinstance(body.get("temperature"), str):
        try:
            body["temperature"] = float(body["temperature"])
        except ValueError:
            message = "Invalid type for 'temperature': expected a number, but got a string instead."
            raise ProxyError(400, message, param="temperature", code="invalid_type") from None
    return body


async def resolve(call: Call, name: Any) -> EndpointInfo:
    if not isinstance(name, str) or not name:
        raise ProxyError(400, "Missing required parameter: 'model' (the endpoint name).", param="model")
    endpoint = await state.endpoint(name)
    level = await state.level(call.caller, endpoint) if endpoint is not None else None
    if endpoint is None or level is None:
        message = f"The model '{name}' does not exist or you do not have access to it."
        raise ProxyError(404, message, code="model_not_found", param="model")
    if level < Level.USE:
        raise ProxyError(
            403, f"You can see '{name}' but not call it: ask for USE permission.", code="permission_denied"
        )
    call.endpoint = endpoint
    return endpoint


def check_callable(call: Call, endpoint: EndpointInfo) -> None:
    expected = ROUTE_TYPES[call.route]
    if endpoint.endpoint_type != expected:
        path = ROUTE_PATHS[endpoint.endpoint_type]
        raise ProxyError(
            400,
            f"'{endpoint.name}' is a {endpoint.endpoint_type} endpoint; call it at {path}.",
            code="wrong_endpoint_type",
            param="model",
        )
    if endpoint.status == "starting":
        raise ProxyError(
            503,
            f"'{endpoint.name}' is starting; retry in a moment.",
            code="endpoint_starting",
            headers={"Retry-After": "2"},
        )
    if endpoint.status != "running":
        raise ProxyError(
            409,
            f"'{endpoint.name}' is {endpoint.status}; start it before calling it.",
            code="endpoint_not_running",
            headers={"x-should-retry": "false"},
        )


async def apply_limits(call: Call, endpoint: EndpointInfo) -> None:
    if endpoint.rate_limit_rpm:
        limit = await limiter.hit_requests("endpoint", endpoint.id.hex, endpoint.rate_limit_rpm)
        call.headers.update(headers_for("requests", limit))
    if endpoint.rate_limit_tpm:
        limit = await limiter.check_tokens("endpoint", endpoint.id.hex, endpoint.rate_limit_tpm)
        call.headers.update(headers_for("tokens", limit))
    if call.caller.rate_limit_rpm:
        await limiter.hit_requests("token", str(call.caller.token_id), call.caller.rate_limit_rpm)


# -- the pipeline ----------------------------------------------------------------
async def handle(request: HttpRequest, route: str | None, endpoint_name: str | None = None) -> HttpResponse:
    """Run the pipeline. ``route`` None means "by the endpoint's type" (its invocations URL)."""
    watcher.ensure_started()
    call = Call(request, route or "chat")
    # -- drain (gatewaylib.drain) ----------------------------------------------
    # A stopping process takes nothing new; the client retries elsewhere. A
    # request counts as in flight until its response is complete: a stream
    # until its generator ends (stream_response's finally).
    if drain.draining:
        return call.respond(_shutting_down().response(call.flavour))
    call.in_flight = drain.enter()
    response = None
    try:
        response = await _pipeline(call, route, endpoint_name)
        return response
    finally:
        if response is None or not response.streaming:
            call.in_flight.done()


def _shutting_down() -> ProxyError:
    return ProxyError(
        503,
        "This gateway process is shutting down; retry the request.",
        code="server_shutting_down",
        # Close the connection so the retry goes through the load balancer to another process.
        headers={"Retry-After": "1", "Connection": "close"},
    )


# -- end of drain ----------------------------------------------------------------
async def _pipeline(call: Call, route: str | None, endpoint_name: str | None) -> HttpResponse:
    request = call.request
    try:
        if request.method != "POST":
            raise ProxyError(405, f"Use POST for {request.path}.", code="method_not_allowed")
        call.caller = await authenticate(call)
        if endpoint_name is not None:
            endpoint = await resolve(call, endpoint_name)
            call.route = route or endpoint.endpoint_type
            body = await read_body(call)
        else:
            body = await read_body(call)
            endpoint = await resolve(call, body.get("model"))
        check_callable(call, endpoint)
        check_fields(call.route, body)  # raises a 400 naming the field
        await apply_limits(call, endpoint)
        return await dispatch(call, endpoint, body)
    except ProxyError as error:
        call.finish(error.status, error.code or "error")
        return call.respond(error.response(call.flavour))
    except DatabaseUnavailable:
        error = database_unavailable()
        call.finish(error.status, error.code)
        return call.respond(error.response(call.flavour))
    except Exception:
        # A bug, not a provider problem: still answer in the client's format.
        logger.exception("proxy failure on %s", request.path)
        call.finish(500, "internal_error")
        return call.respond(ProxyError(500, "The gateway failed to handle this request.").response(call.flavour))


async def dispatch(call: Call, endpoint: EndpointInfo, body: dict[str, Any]) -> HttpResponse:
    entry = await state.router(endpoint)
    kwargs = {k: v for k, v in body.items() if k not in ("model", "metadata")}
    call.stream = bool(kwargs.get("stream"))
    client_wants_usage = bool((kwargs.get("stream_options") or {}).get("include_usage"))
    if call.stream and call.route in ("chat", "completion"):
        # Always ask upstream for usage so streams are metered; the usage
        # chunk is passed on only when the client asked for it.
        kwargs["stream_options"] = {**(kwargs.get("stream_options") or {}), "include_usage": True}
    method = getattr(entry.router, ROUTER_METHODS[call.route])
    attempts = attempt_log.begin(call.request_id)
    refused: list[str] = []
    egress.refusals.set(refused)
    try:
        response = await method(model=endpoint.name, metadata={"gw_request_id": call.request_id}, **kwargs)
    except Exception as exc:
        record = attempt_log.end(call.request_id)
        call.attempts = record.failures or 1
        call.headers["x-gateway-attempts"] = str(call.attempts)
        if refused:  # the provider libraries report these as a bare "Connection error."
            raise ProxyError(502, refused[-1], code="destination_refused") from None
        raise from_provider(exc, entry.scrubber) from None
    if call.stream:
        call.served(response, attempts)  # attempts before the first chunk
        return stream_response(call, response, client_wants_usage, entry.scrubber)
    await asyncio.sleep(0)  # let LiteLLM's success callback run before we read the attempt log
    call.served(response, attempt_log.end(call.request_id))
    call.prompt_tokens, call.completion_tokens = usage_of(response)
    if call.route == "audio_speech":
        content = response.content if hasattr(response, "content") else bytes(response)
        fmt = kwargs.get("response_format", "mp3")
        http = HttpResponse(content, content_type=SPEECH_CONTENT_TYPES.get(fmt, "application/octet-stream"))
    else:
        http = HttpResponse(to_json(response), content_type="application/json")
    call.finish(200)
    return call.respond(http)


def stream_response(call: Call, stream: Any, client_wants_usage: bool, scrubber: Scrubber) -> HttpResponse:
    async def events() -> AsyncIterator[bytes]:
        status, error_type = 200, ""
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
            status, error_type = error.status, error.code or "stream_error"
            payload = json.loads(error.response(call.flavour).content)
            prefix = b"event: error\n" if call.flavour == "anthropic" else b""
            yield prefix + b"data: " + json.dumps(payload).encode() + b"\n\n"
        finally:
            attempt_log.end(call.request_id)
            await asyncio.shield(_close(stream))
            call.finish(status, error_type)
            if call.in_flight is not None:  # drain: the stream, and its usage, are done
                call.in_flight.done()

    response = StreamingHttpResponse(_Events(events(), call), content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"
    return call.respond(response)


class _Events:
    """A stream's events, closable: Django closes a response's content when it is done with it.

    A client that leaves before the first event never starts the generator,
    so its ``finally`` never runs; closing still ends the request's place in
    the drain count (``Ticket.done`` is idempotent).
    """

    def __init__(self, events: AsyncIterator[bytes], call: Call) -> None:
        self._events, self._call = events, call

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._events

    def close(self) -> None:
        if self._call.in_flight is not None:
            self._call.in_flight.done()


def _withheld_frame(call: Call) -> bytes:
    error = ProxyError(502, f"The provider sent an event that held a credential; {WITHHELD}.", code="provider_error")
    return b"event: error\ndata: " + error.response(call.flavour).content + b"\n\n"


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
            data = json.loads(line[6:])
        except ValueError:
            continue
        usage = data.get("usage") or (data.get("message") or {}).get("usage") or {}
        call.prompt_tokens = usage.get("input_tokens") or call.prompt_tokens
        call.completion_tokens = usage.get("output_tokens") or call.completion_tokens


# -- views ---------------------------------------------------------------------
def _route_view(route: str):
    @csrf_exempt
    async def view(request: HttpRequest) -> HttpResponse:
        return await handle(request, route)

    view.__name__ = f"proxy_{route}"
    return view


chat_completions = _route_view("chat")
completions = _route_view("completion")
embeddings = _route_view("embedding")
image_generations = _route_view("image_generation")
audio_transcriptions = _route_view("audio_transcription")
audio_speech = _route_view("audio_speech")
moderations = _route_view("moderation")
rerank = _route_view("rerank")
anthropic_messages = _route_view("anthropic_messages")


@csrf_exempt
async def invocations(request: HttpRequest, endpoint_name: str) -> HttpResponse:
    """The endpoint's own URL: dispatches by the endpoint's type."""
    return await handle(request, None, endpoint_name=endpoint_name)


@csrf_exempt
async def unknown_route(request: HttpRequest, rest: str) -> HttpResponse:
    if drain.draining:
        return _shutting_down().response()
    return ProxyError(404, f"Unknown API route: {request.path}", code="unknown_url").response()


@require_GET
async def list_models(request: HttpRequest) -> HttpResponse:
    """Running endpoints the caller may USE, in OpenAI's list shape."""
    if drain.draining:
        return _shutting_down().response()
    call = Call(request, "chat")
    try:
        caller = await authenticate(call)
        names = await run_in_thread(_usable_endpoints, caller.user_id)
    except ProxyError as error:
        return error.response()
    except DatabaseUnavailable:
        return database_unavailable().response()

    data = [{"id": name, "object": "model", "created": int(created), "owned_by": "gateway"} for name, created in names]
    return JsonResponse({"object": "list", "data": data})


def _usable_endpoints(user_id: int) -> list[tuple[str, float]]:
    from django.contrib.auth import get_user_model

    from endpoints.models import Endpoint

    user = get_user_model().objects.get(pk=user_id)
    rows = Endpoint.objects.running().visible_to(user, Level.USE).order_by("name").values_list("name", "created_at")
    return [(name, created.timestamp()) for name, created in rows]
