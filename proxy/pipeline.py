"""One proxied request, start to end.

request -> caller (token, cached) -> body (parsed, typed) -> endpoint (cached)
-> permission (USE, cached) -> running and the right type -> limits
-> the Router chooses a deployment -> the upstream call, direct
(``proxy.direct``) or translated by LiteLLM (``proxy.translated``)
-> response or SSE stream -> usage queued (never blocks the response).
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Mapping
from io import BytesIO
from typing import Any
from urllib.parse import parse_qs

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.core.files.uploadhandler import MemoryFileUploadHandler, TemporaryFileUploadHandler
from django.http.multipartparser import MultiPartParser, MultiPartParserError

from gateway_site.parsers import MAX_JSON_DEPTH, JSONTooDeep, strict_loads
from gatewaylib.db import DatabaseUnavailable, run_in_thread
from gatewaylib.drain import Ticket, drain
from gatewaylib.endpoint_types import (
    BEDROCK,
    GEMINI,
    GOOGLE_WIRES,
    NATIVE_API_PREFIXES,
    NATIVE_METHODS,
    ROUTES,
    TYPES,
    VERTEX,
    WIRE_LABELS,
)
from gatewaylib.invalidation import watcher
from proxy import direct, observe, search, translated
from proxy.allowlist import check_fields
from proxy.errors import ProxyError, database_unavailable
from proxy.http import Request, Response, json_response
from proxy.ratelimit import headers_for, limiter
from proxy.routes import ROUTE_PATHS, ROUTE_TYPES
from proxy.state import Caller, EndpointInfo, ModelInfo, state
from proxy.usage import Usage, recorder
from sharing.levels import Level

logger = logging.getLogger(__name__)

# Above this (or with no Content-Length), parsing leaves the event loop: a
# 25 MB body would stall every other request.
LARGE_BODY_BYTES = 1024 * 1024


class Call:
    """One proxied request: what was asked, by whom, what served it and what it cost."""

    __slots__ = (
        "request",
        "route",
        "flavour",
        "spec",
        "request_id",
        "request_uuid",
        "started",
        "caller",
        "endpoint",
        "model_id",
        "attempts",
        "prompt_tokens",
        "completion_tokens",
        "ttft_ms",
        "stream",
        "headers",
        "in_flight",
        "finished",
        "failed_attempts",
    )

    def __init__(self, request: Request, route: str) -> None:
        self.request = request
        self.use_route(route)
        self.request_uuid = uuid.uuid4()
        self.request_id = self.request_uuid.hex
        self.started = time.perf_counter()
        self.caller: Caller | None = None
        self.endpoint: EndpointInfo | None = None
        self.model_id: str | None = None
        self.attempts = 0
        self.prompt_tokens = self.completion_tokens = 0
        self.ttft_ms: float | None = None
        self.stream = False
        self.headers: dict[str, str] = {"x-request-id": self.request_id}
        self.in_flight: Ticket | None = None  # a stream ends it when it is over (gatewaylib.drain)
        self.finished = False
        self.failed_attempts: list[dict[str, Any]] = []

    def use_route(self, route: str) -> None:
        """Serve as ``route`` (an invocations URL learns it from the endpoint's type)."""
        self.route, self.spec = route, ROUTES[route]
        self.flavour = self.spec.wire  # the shape of its errors

    def serve(self, model_id: str | None) -> None:
        """Note the deployment that answered; the response says which, and after how many attempts."""
        self.model_id = model_id
        self.headers["x-gateway-attempts"] = str(max(self.attempts, 1))
        model = self.endpoint.models.get(model_id or "") if self.endpoint else None
        if model is not None:
            self.headers["x-gateway-model"] = model.label
            self.headers["x-gateway-model-id"] = model_id

    def attempt_failed(self, model_id: str | None, status: int | str | None, message: str) -> None:
        """Note why one attempt failed, for the request log (``message`` is already scrubbed)."""
        model = self.endpoint.models.get(model_id or "") if self.endpoint is not None else None
        served = model.label if model is not None else ""
        self.failed_attempts.append({"model": served, "status": status, "message": message[:500]})

    def finish(self, status: int, error_type: str = "", message: str = "") -> None:
        """Record the request once: its log line and span, and its usage when it reached an endpoint.

        A stream closed unread is finished by its close; a request refused
        before its endpoint was known (bad token, unknown endpoint) has no
        usage row to attribute, but is still logged and traced.
        """
        if self.finished:
            return
        self.finished = True
        latency_ms = (time.perf_counter() - self.started) * 1000
        model = self.endpoint.models.get(self.model_id or "") if self.endpoint is not None else None
        if self.endpoint is not None:
            self._record_usage(status, error_type, message, model, latency_ms)
        observe.finished(self, status, error_type, model, latency_ms)

    def _record_usage(
        self, status: int, error_type: str, message: str, model: ModelInfo | None, latency_ms: float
    ) -> None:
        cost = 0.0
        if model is not None:
            cost = (
                self.prompt_tokens * model.input_cost_per_token + self.completion_tokens * model.output_cost_per_token
            )
            if status < 400:
                cost += model.cost_per_query  # search providers price each answered query
        recorder.record(
            Usage(
                request_id=self.request_uuid,
                endpoint_id=self.endpoint.id,
                endpoint_name=self.endpoint.name,
                status_code=status,
                latency_ms=latency_ms,
                endpoint_model_id=self.model_id,
                model_served=model.label if model else "",
                user_id=self.caller.user_id if self.caller else None,
                token_id=self.caller.token_id if self.caller else None,
                ttft_ms=self.ttft_ms,
                attempts=self.attempts or (1 if status < 500 else 0),
                stream=self.stream,
                prompt_tokens=self.prompt_tokens,
                completion_tokens=self.completion_tokens,
                cost_usd=cost,
                error_type=error_type,
                error_message=message,
                failed_attempts=self.failed_attempts,
            )
        )
        if self.endpoint.rate_limit_tpm and (self.prompt_tokens or self.completion_tokens):
            total = self.prompt_tokens + self.completion_tokens
            task = asyncio.get_running_loop().create_task(
                limiter.add_tokens("endpoint", self.endpoint.id.hex, self.endpoint.rate_limit_tpm, total)
            )
            _background.add(task)
            task.add_done_callback(_background.discard)

    def end_of_stream(self) -> None:
        """The stream is over (or was never started): its place in the drain count goes (idempotent)."""
        if self.in_flight is not None:
            self.in_flight.done()

    def respond(self, response: Response) -> Response:
        response.headers.update(self.headers)
        return response


_background: set[asyncio.Task] = set()


# -- steps ---------------------------------------------------------------------
def token_from(headers: dict[str, str]) -> str | None:
    header = headers.get("authorization", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip()
    # Anthropic's SDKs send x-api-key, Azure's api-key, Google's x-goog-api-key.
    return headers.get("x-api-key") or headers.get("api-key") or headers.get("x-goog-api-key")


def _query(call: Call, name: str) -> str | None:
    values = parse_qs(call.request.query).get(name) if call.request.query else None
    return values[-1] if values else None


def signing_key_id(headers: dict[str, str]) -> str | None:
    """The access key id of an AWS Signature Version 4 ``Authorization`` header: where boto3 puts the token.

    ``AWS4-HMAC-SHA256 Credential=<key id>/<date>/<region>/<service>/aws4_request, SignedHeaders=..., Signature=...``.
    The signature is not checked: it is made with a secret the gateway never
    sees (any will do); the token in the key id is the credential, as a bearer
    token would be.
    """
    header = headers.get("authorization", "")
    if not header.startswith("AWS4-HMAC-SHA256 "):
        return None
    for part in header[17:].split(","):
        name, _, value = part.strip().partition("=")
        if name == "Credential":
            return value.split("/", 1)[0].strip() or None
    return None


async def authenticate(call: Call) -> Caller:
    raw = token_from(call.request.headers)
    if not raw and call.flavour == GEMINI:
        raw = _query(call, "key")  # Gemini's REST examples pass the key in the URL
    if not raw and call.flavour == BEDROCK:
        raw = signing_key_id(call.request.headers)
    if not raw:
        raise ProxyError(401, _MISSING_TOKEN.get(call.flavour, _MISSING_TOKEN["openai"]), code="missing_api_key")
    caller = await state.caller(raw)
    if caller is None:
        raise ProxyError(401, "Invalid or expired gateway token.", code="invalid_api_key")
    return caller


_MISSING_TOKEN = {
    "openai": "Missing gateway token: send 'Authorization: Bearer <token>'.",
    GEMINI: "Missing gateway token: send it as the API key ('x-goog-api-key: <token>').",
    VERTEX: "Missing gateway token: send it as the access token ('Authorization: Bearer <token>').",
    BEDROCK: "Missing gateway token: sign with it as the AWS access key id, or send 'Authorization: Bearer <token>'.",
}


def check_query(call: Call) -> None:
    """Gemini streams only as server-sent events here (its SDKs ask for them); its JSON-array stream is refused."""
    if call.spec.always_streams and call.flavour in GOOGLE_WIRES and _query(call, "alt") != "sse":
        raise ProxyError(400, f"Add ?alt=sse: {call.request.path} streams as server-sent events.", code="invalid_alt")


async def read_body(call: Call) -> dict[str, Any]:
    request = call.request
    if len(request.body) > settings.GATEWAY_MAX_BODY_BYTES:
        raise too_large()
    parse = _read_multipart if call.spec.multipart else _read_json
    if len(request.body) <= LARGE_BODY_BYTES and parse is _read_json:
        return parse(request)
    return await asyncio.get_running_loop().run_in_executor(None, parse, request)


def too_large() -> ProxyError:
    return ProxyError(413, f"Request body is larger than {settings.GATEWAY_MAX_BODY_BYTES} bytes.", code="too_large")


def _read_json(request: Request) -> dict[str, Any]:
    try:
        body = strict_loads(request.body or b"null")
    except JSONTooDeep:
        message = f"The request body nests JSON more than {MAX_JSON_DEPTH} levels deep."
        raise ProxyError(400, message, code="invalid_json") from None
    except ValueError as exc:  # UnicodeDecodeError included; the detail names a position, never content
        raise ProxyError(400, f"The request body is not valid JSON: {exc}", code="invalid_json") from None
    if not isinstance(body, dict):
        raise ProxyError(400, "The request body must be a JSON object.", code="invalid_json")
    return body


def _read_multipart(request: Request) -> dict[str, Any]:
    meta = {"CONTENT_TYPE": request.headers.get("content-type", ""), "CONTENT_LENGTH": str(len(request.body))}
    handlers = [MemoryFileUploadHandler(), TemporaryFileUploadHandler()]
    try:
        form, files = MultiPartParser(meta, BytesIO(request.body), handlers).parse()
    except RequestDataTooBig:
        raise too_large() from None
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
        kind = TYPES[endpoint.endpoint_type].label.lower()
        article = "an" if kind[0] in "aeiou" else "a"
        raise ProxyError(
            400,
            f"'{endpoint.name}' is {article} {kind} endpoint; call it at {path}.",
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


def shutting_down() -> ProxyError:
    return ProxyError(
        503,
        "This gateway process is shutting down; retry the request.",
        code="server_shutting_down",
        # Close the connection so the retry goes through the load balancer to another process.
        headers={"Retry-After": "1", "Connection": "close"},
    )


# -- the walk --------------------------------------------------------------------
async def handle(
    request: Request,
    route: str | None,
    endpoint_name: str | None = None,
    by_type: Mapping[str, str] | None = None,
) -> Response:
    """Serve one request. ``route`` None means "by the endpoint's type" (its invocations URL).

    ``by_type``: the URL serves one route per endpoint type (Bedrock's
    ``invoke``); the endpoint's type picks it, ``route`` otherwise.
    """
    watcher.ensure_started()
    call = Call(request, route or "chat")
    # A stopping process takes nothing new; the client retries elsewhere. A
    # request counts as in flight until its response is complete: a stream
    # until it ends (or is closed unread).
    if drain.draining:
        return call.respond(shutting_down().response(call.flavour))
    call.in_flight = drain.enter()
    response = None
    try:
        response = await _serve(call, route, endpoint_name, by_type)
        return response
    finally:
        if response is None or response.stream is None:
            call.in_flight.done()


async def _serve(
    call: Call, route: str | None, endpoint_name: str | None, by_type: Mapping[str, str] | None
) -> Response:
    request = call.request
    try:
        if request.method != "POST":
            raise ProxyError(405, f"Use POST for {request.path}.", code="method_not_allowed")
        call.caller = await authenticate(call)
        if endpoint_name is not None:
            endpoint = await resolve(call, endpoint_name)
            call.use_route((by_type or {}).get(endpoint.endpoint_type) or route or endpoint.endpoint_type)
            check_query(call)
            body = await read_body(call)
        else:
            body = await read_body(call)
            endpoint = await resolve(call, body.get("model"))
        check_callable(call, endpoint)
        check_fields(call.route, body)  # raises a 400 naming the field
        await apply_limits(call, endpoint)
        return call.respond(await dispatch(call, endpoint, body))
    except ProxyError as error:
        call.finish(error.status, error.code or "error", error.message)
        return call.respond(error.response(call.flavour))
    except DatabaseUnavailable:
        error = database_unavailable()
        call.finish(error.status, error.code, error.message)
        return call.respond(error.response(call.flavour))
    except Exception:
        # A bug, not a provider problem: still answer in the client's format.
        logger.exception("proxy failure on %s", request.path)
        error = ProxyError(500, "The gateway failed to handle this request.")
        call.finish(500, "internal_error", error.message)
        return call.respond(error.response(call.flavour))


async def dispatch(call: Call, endpoint: EndpointInfo, body: dict[str, Any]) -> Response:
    """The direct path when every deployment speaks the client's format, LiteLLM's translation otherwise."""
    entry = await state.router(endpoint)
    if call.route == "search":
        return await search.dispatch(call, endpoint, entry, body)
    passthrough_only = not call.spec.router_method
    targets = entry.targets(call.route) if settings.GATEWAY_DIRECT_PATH or passthrough_only else None
    if targets is not None:
        return await direct.dispatch(call, endpoint, entry, body, targets)
    if passthrough_only:
        raise not_passthrough(call, endpoint)
    return await translated.dispatch(call, endpoint, entry, body)


def not_passthrough(call: Call, endpoint: EndpointInfo) -> ProxyError:
    """A provider's own API (Gemini's, Bedrock's) reaches its provider's models only: the Router has no call for it."""
    provider = WIRE_LABELS[call.spec.wire]
    message = (
        f"'{endpoint.name}' cannot take {provider} API calls: every model of it must be a {provider} model "
        f"without rpm/tpm limits of its own. Call it at {ROUTE_PATHS[endpoint.endpoint_type]} instead."
    )
    return ProxyError(400, message, code="not_passthrough")


async def handle_native(request: Request, wire: str, endpoint_name: str, method: str) -> Response:
    """A provider's own API (``/gemini/v1beta/models/<endpoint>:<method>``, ``/bedrock/model/<endpoint>/converse``)."""
    by_type = NATIVE_METHODS[wire].get(method)
    if by_type is None:
        return unknown_route(request)
    first = next(iter(by_type.values()))  # another type's endpoint is told where it is called
    return await handle(request, first, endpoint_name=endpoint_name, by_type=by_type if len(by_type) > 1 else None)


# -- GET /v1/models ----------------------------------------------------------------
async def list_models(request: Request) -> Response:
    """Running endpoints the caller may USE, in OpenAI's list shape."""
    if drain.draining:
        return shutting_down().response()
    if request.method != "GET":
        return ProxyError(405, f"Use GET for {request.path}.", code="method_not_allowed").response()
    call = Call(request, "chat")
    try:
        caller = await authenticate(call)
        names = await run_in_thread(_usable_endpoints, caller.user_id)
    except ProxyError as error:
        return error.response()
    except DatabaseUnavailable:
        return database_unavailable().response()
    data = [{"id": name, "object": "model", "created": int(created), "owned_by": "gateway"} for name, created in names]
    return json_response({"object": "list", "data": data})


def _usable_endpoints(user_id: int) -> list[tuple[str, float]]:
    from django.contrib.auth import get_user_model

    from endpoints.models import Endpoint

    user = get_user_model().objects.get(pk=user_id)
    rows = Endpoint.objects.running().visible_to(user, Level.USE).order_by("name").values_list("name", "created_at")
    return [(name, created.timestamp()) for name, created in rows]


def unknown_route(request: Request) -> Response:
    prefixes = NATIVE_API_PREFIXES.items()
    flavour = next((wire for wire, prefix in prefixes if request.path.startswith(prefix + "/")), "openai")
    if drain.draining:
        return shutting_down().response(flavour)
    return ProxyError(404, f"Unknown API route: {request.path}", code="unknown_url").response(flavour)
