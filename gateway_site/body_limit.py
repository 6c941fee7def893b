"""An ASGI wrapper that refuses a request body over ``GATEWAY_MAX_BODY_BYTES`` while it arrives.

Django's ASGI handler reads the whole body (to a temporary file) before any
view or middleware runs, without a limit of its own: a view can only refuse
a body that is already on disk, however large. This wrapper counts the bytes
as they come (chunked bodies have no Content-Length to trust) and answers 413
as soon as the limit is passed, in the error shape of the route: OpenAI's on
the proxy, Anthropic's on ``/v1/messages``, DRF's ``{"detail": ...}``
elsewhere.
"""

from __future__ import annotations

import json
from typing import Any

PROXY_PREFIXES = ("/v1/", "/gateway/")


class _TooLarge(Exception):
    pass


def _error_body(path: str, limit: int) -> bytes:
    message = f"Request body is larger than {limit} bytes."
    if path == "/v1/messages":
        body: dict[str, Any] = {"type": "error", "error": {"type": "request_too_large", "message": message}}
    elif path.startswith(PROXY_PREFIXES):
        body = {"error": {"message": message, "type": "invalid_request_error", "param": None, "code": "too_large"}}
    else:
        body = {"detail": message}
    return json.dumps(body).encode()


class BodyLimit:
    def __init__(self, app: Any, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        if self._declared(scope) > self.limit:
            return await self._refuse(scope, send)
        received = 0

        async def counted() -> dict:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise _TooLarge
            return message

        try:
            await self.app(scope, counted, send)
        except _TooLarge:
            # Django reads the whole body before it answers, so nothing has been sent yet.
            await self._refuse(scope, send)

    @staticmethod
    def _declared(scope: dict) -> int:
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    return int(value)
                except ValueError:
                    return 0  # the view answers a malformed Content-Length itself
        return 0

    async def _refuse(self, scope: dict, send: Any) -> None:
        body = _error_body(scope.get("path", ""), self.limit)
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 413, "headers": [*headers, (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})
