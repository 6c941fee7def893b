"""Middleware adapters."""

from __future__ import annotations

import logging

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpResponse, JsonResponse
from django.urls import Resolver404, resolve
from django.utils.deprecation import MiddlewareMixin
from whitenoise.middleware import WhiteNoiseMiddleware

from gatewaylib.db import DatabaseUnavailable

logger = logging.getLogger(__name__)


class AsyncWhiteNoiseMiddleware:
    """WhiteNoise for static files, without making every request synchronous.

    WhiteNoise's middleware is sync-only; in an async stack Django would run
    every request (the proxy's included) through a thread hop because of it.
    This wrapper sends only static paths to WhiteNoise and passes the rest
    straight on, so the proxy's async views stay on the event loop.
    """

    sync_capable = False
    async_capable = True

    def __init__(self, get_response) -> None:
        if not iscoroutinefunction(get_response):
            raise TypeError("AsyncWhiteNoiseMiddleware needs an async middleware stack")
        self.get_response = get_response
        self.prefix = "/" + settings.STATIC_URL.lstrip("/")
        self.whitenoise = WhiteNoiseMiddleware(get_response=self._not_found)
        markcoroutinefunction(self)

    @staticmethod
    def _not_found(request):
        raise Http404("No such static file.")

    async def __call__(self, request):
        if request.path_info.startswith(self.prefix):
            return await sync_to_async(self.whitenoise, thread_sensitive=False)(request)
        return await self.get_response(request)


class ProxyFastPathMiddleware:
    """Send proxy requests (``/v1/``, ``/gateway/``) straight to their async view.

    Django's built-in middleware (sessions, CSRF, auth, messages...) is
    synchronous inside: under ASGI each one costs a thread hop per request,
    several milliseconds in all, and the proxy needs none of them (it
    authenticates with its own tokens and sets no cookies). Placed right
    after SecurityMiddleware, this keeps the allowed-hosts check and the
    security headers and skips the rest for proxy routes only.
    """

    sync_capable = False
    async_capable = True
    PREFIXES = ("/v1/", "/gateway/")

    def __init__(self, get_response) -> None:
        self.get_response = get_response
        markcoroutinefunction(self)

    async def __call__(self, request):
        if request.path_info.startswith(self.PREFIXES):
            request.get_host()  # raises DisallowedHost (-> 400) like CommonMiddleware would
            try:
                match = resolve(request.path_info)
            except Resolver404:
                return await self.get_response(request)
            if match.namespace == "proxy":
                return await match.func(request, *match.args, **match.kwargs)
        return await self.get_response(request)


DATABASE_DOWN_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Temporarily unavailable</title></head>
<body><h1>Temporarily unavailable</h1>
<p>The gateway cannot reach its database right now. Please try again in a few seconds.</p></body></html>
"""


class DatabaseUnavailableMiddleware(MiddlewareMixin):
    """A page or API call that needs the database while it is down: 503 with Retry-After, not a 500.

    Connection-level errors only (the same ones ``gatewaylib.db`` treats as an
    outage): the client can retry, and no traceback leaves the process. The
    page is plain HTML rendered without templates or context processors,
    which would query the database again (the session, the user).
    """

    RETRY_AFTER_SECONDS = "5"

    def process_exception(self, request, exception):
        if not isinstance(exception, OperationalError | InterfaceError | DatabaseUnavailable):
            return None
        logger.warning("database unavailable for %s %s (%s)", request.method, request.path, type(exception).__name__)
        if request.path_info.startswith("/api/"):
            response = JsonResponse({"detail": "The database is unavailable; retry shortly."}, status=503)
        else:
            response = HttpResponse(DATABASE_DOWN_PAGE, status=503, content_type="text/html; charset=utf-8")
        response["Retry-After"] = self.RETRY_AFTER_SECONDS
        return response
