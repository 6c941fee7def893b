"""``/v1/*`` and ``/gateway/*`` served straight from ASGI, in front of Django.

Measured on the benchmark machine, Django's request handling (the request
object, the body spooled to a file, middleware, signals, the response object)
cost more CPU per proxied call than everything else the gateway does, so the
proxy's routes are answered here, with Django's settings, models and caches
but not its request cycle. Everything else goes to Django unchanged. What
Django's middleware would have done for these routes is done here too: the
Host header is checked against ``ALLOWED_HOSTS``, plain HTTP is redirected
when ``SECURE_SSL_REDIRECT`` is on, and the security headers are set. The
same table of routes (``proxy.routes.ROUTE_PATHS``) feeds ``proxy.urls``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from typing import Any

from django.conf import settings
from django.http.request import split_domain_port, validate_host

from gatewaylib.endpoint_types import NATIVE_API_PREFIXES
from gatewaylib.endpoint_types import ROUTES as REGISTRY
from proxy import pipeline
from proxy.errors import ProxyError
from proxy.http import Request, Response
from proxy.routes import NATIVE_PATHS, ROUTE_PATHS

logger = logging.getLogger(__name__)

PREFIXES = ("/v1/", "/gateway/", *(prefix + "/" for prefix in NATIVE_API_PREFIXES.values()))
INVOCATIONS = re.compile(r"^/gateway/([-a-zA-Z0-9_]+)/invocations$")
# The routes at fixed paths; Google's name the endpoint in theirs (NATIVE_PATHS).
ROUTES = {route_path: route for route, route_path in ROUTE_PATHS.items() if not REGISTRY[route].names_endpoint_in_path}


class ProxyApp:
    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not path.startswith(PREFIXES):
            return await self.app(scope, receive, send)
        invocation = INVOCATIONS.match(path) or _native(path)
        if path.startswith("/gateway/") and invocation is None:
            return await self.app(scope, receive, send)  # not a proxy route: Django's 404
        headers = {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope["headers"]}
        if (refusal := _refusal(scope, headers)) is not None:
            return await _send(send, refusal, secure=False)
        body = await _body(receive)
        if body is None:
            return  # the client left while sending its request
        query = scope.get("query_string", b"").decode("latin-1")
        request = Request(method=scope["method"], path=path, headers=headers, body=body, query=query)
        await _serve(request, invocation, receive, send, secure=_is_secure(scope, headers))


def _native(path: str) -> re.Match | None:
    if path.startswith("/v1/"):
        return None  # the OpenAI routes: no Google pattern to try on the hot path
    for pattern in NATIVE_PATHS.values():
        if (match := pattern.match(path)) is not None:
            return match
    return None


async def _body(receive: Any) -> bytes | None:
    # The body-size limit is enforced as it arrives, around this app (gateway_site.body_limit).
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


async def _respond(request: Request, invocation: re.Match | None) -> Response:
    if invocation is not None and invocation.re is not INVOCATIONS:
        wire = next(wire for wire, pattern in NATIVE_PATHS.items() if pattern is invocation.re)
        return await pipeline.handle_native(request, wire, invocation["endpoint"], invocation["method"])
    if invocation is not None:
        return await pipeline.handle(request, None, endpoint_name=invocation.group(1))
    if (route := ROUTES.get(request.path)) is not None:
        return await pipeline.handle(request, route)
    if request.path == "/v1/models":
        return await pipeline.list_models(request)
    return pipeline.unknown_route(request)


async def _serve(request: Request, invocation: re.Match | None, receive: Any, send: Any, *, secure: bool) -> None:
    """Answer, and cancel the work if the client goes away first (the upstream call goes with it)."""
    sent = asyncio.Event()

    async def work() -> None:
        response = await _respond(request, invocation)
        await _send(send, response, secure=secure)
        sent.set()

    task = asyncio.ensure_future(work())
    gone = asyncio.ensure_future(_disconnect(receive))
    try:
        await asyncio.wait((task, gone), return_when=asyncio.FIRST_COMPLETED)
    except asyncio.CancelledError:  # the server is shutting this connection down
        task.cancel()
        gone.cancel()
        raise
    gone.cancel()
    if not task.done() and not sent.is_set():
        task.cancel()  # the client left before its answer was complete
    with contextlib.suppress(asyncio.CancelledError):  # cancelled just above: nobody waits for this answer
        await task


async def _disconnect(receive: Any) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


async def _send(send: Any, response: Response, *, secure: bool) -> None:
    headers = [(b"content-type", response.content_type.encode("latin-1"))]
    headers += [
        (name.lower().encode("latin-1"), str(value).encode("latin-1")) for name, value in response.headers.items()
    ]
    headers += _security_headers(secure)
    try:
        if response.stream is None:
            headers.append((b"content-length", str(len(response.body)).encode()))
            await send({"type": "http.response.start", "status": response.status, "headers": headers})
            await send({"type": "http.response.body", "body": response.body})
            return
        await send({"type": "http.response.start", "status": response.status, "headers": headers})
        async for chunk in response.stream:
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b""})
    finally:
        response.close()


def _is_secure(scope: dict, headers: dict[str, str]) -> bool:
    if scope.get("scheme") == "https":
        return True
    forwarded = settings.SECURE_PROXY_SSL_HEADER
    if forwarded:
        name, value = forwarded
        return headers.get(name.removeprefix("HTTP_").replace("_", "-").lower()) == value
    return False


def _refusal(scope: dict, headers: dict[str, str]) -> Response | None:
    """What Django's CommonMiddleware and SecurityMiddleware would refuse, in the API's error shape."""
    domain, _ = split_domain_port(headers.get("host", ""))
    if not domain or not validate_host(domain, settings.ALLOWED_HOSTS):
        return ProxyError(400, "Invalid Host header.", code="invalid_host").response()
    if settings.SECURE_SSL_REDIRECT and not _is_secure(scope, headers):
        location = f"https://{headers['host']}{scope['path']}"
        return Response(status=301, headers={"Location": location}, content_type="text/plain")
    return None


def _security_headers(secure: bool) -> list[tuple[bytes, bytes]]:
    headers = []
    if settings.SECURE_CONTENT_TYPE_NOSNIFF:
        headers.append((b"x-content-type-options", b"nosniff"))
    if secure and settings.SECURE_HSTS_SECONDS:
        value = f"max-age={settings.SECURE_HSTS_SECONDS}"
        if settings.SECURE_HSTS_INCLUDE_SUBDOMAINS:
            value += "; includeSubDomains"
        if settings.SECURE_HSTS_PRELOAD:
            value += "; preload"
        headers.append((b"strict-transport-security", value.encode()))
    return headers
