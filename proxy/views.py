"""The proxy's routes as Django views, for Django's test client and WSGI.

Under ASGI, ``proxy.asgi.ProxyApp`` answers these paths before Django sees
them; both run the same pipeline on the same ``Request``/``Response``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.views.decorators.csrf import csrf_exempt

from proxy import pipeline
from proxy.http import Request, Response


def to_request(request: HttpRequest) -> Request:
    headers = {name.lower(): value for name, value in request.headers.items()}
    query = request.META.get("QUERY_STRING", "")
    return Request(method=request.method or "GET", path=request.path, headers=headers, body=request.body, query=query)


def to_django(response: Response) -> HttpResponse:
    if response.stream is None:
        django = HttpResponse(response.body, status=response.status, content_type=response.content_type)
    else:
        django = StreamingHttpResponse(_Closable(response), status=response.status, content_type=response.content_type)
    for name, value in response.headers.items():
        django[name] = value
    return django


class _Closable:
    """A stream Django closes when it is done with it (also when it never started reading it)."""

    def __init__(self, response: Response) -> None:
        self._response = response

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._response.stream

    def close(self) -> None:
        self._response.close()


def route_view(route: str):
    @csrf_exempt
    async def view(request: HttpRequest) -> HttpResponse:
        return to_django(await pipeline.handle(to_request(request), route))

    view.__name__ = f"proxy_{route}"
    return view


@csrf_exempt
async def invocations(request: HttpRequest, endpoint_name: str) -> HttpResponse:
    """The endpoint's own URL: dispatches by the endpoint's type."""
    return to_django(await pipeline.handle(to_request(request), None, endpoint_name=endpoint_name))


@csrf_exempt
async def native_api(request: HttpRequest, wire: str, endpoint: str, method: str) -> HttpResponse:
    """A provider's own API for an endpoint (``/gemini/v1beta/models/<endpoint>:<method>``, ``/bedrock/model/...``)."""
    return to_django(await pipeline.handle_native(to_request(request), wire, endpoint, method))


@csrf_exempt
async def unknown_route(request: HttpRequest, rest: str) -> HttpResponse:
    return to_django(pipeline.unknown_route(to_request(request)))


async def list_models(request: HttpRequest) -> HttpResponse:
    return to_django(await pipeline.list_models(to_request(request)))
