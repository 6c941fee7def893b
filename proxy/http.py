"""The data plane's own request and response: plain objects, cheap to build, served straight over ASGI.

Django's request machinery (a request object with lazy META, a body spooled
to a temporary file, middleware, signals, a response object translated back
to ASGI) costs several times more CPU than the rest of a proxied call.
``proxy.asgi`` builds a ``Request`` from the ASGI scope and sends a
``Response`` back itself; ``proxy.views`` adapts the same objects to Django
for the test client and WSGI. The pipeline sees only these.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import orjson


@dataclass(slots=True)
class Request:
    method: str
    path: str
    headers: dict[str, str]  # lower-case names
    body: bytes = b""
    query: str = ""  # the raw query string (Gemini's routes read ``alt`` and ``key`` from it)


@dataclass(slots=True)
class Response:
    """A complete body, or a ``stream`` of byte chunks; ``on_close`` runs once the response is over."""

    status: int = 200
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    stream: AsyncIterator[bytes] | None = None
    on_close: Callable[[], None] | None = None

    def close(self) -> None:
        if self.on_close is not None:
            self.on_close()
            self.on_close = None


def json_response(data: object, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(status=status, body=orjson.dumps(data), headers=headers or {})


STREAM_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
