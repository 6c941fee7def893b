"""Middleware adapters."""

from __future__ import annotations

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.conf import settings
from django.http import Http404
from django.urls import Resolver404, resolve
from whitenoise.middleware import WhiteNoiseMiddleware


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
            if getattr(match.func, "__module__", "") == "endpoints.proxy.views":
                return await match.func(request, *match.args, **match.kwargs)
        return await self.get_response(request)
