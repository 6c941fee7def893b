"""Every connection the proxy opens to a provider obeys the address rules, at the moment it connects.

An ``api_base`` is checked when a key is saved, but DNS can change after that
(a name that resolved to a public address at save time may resolve to
127.0.0.1 or a cloud metadata address later), the operator may have turned
``GATEWAY_BLOCK_PRIVATE_API_BASE`` on since, and a provider can answer with
a redirect to anywhere. So the one aiohttp session the proxy's provider calls
go through (``session()``, handed to LiteLLM as its ``shared_session``):

- resolves names with ``GuardedResolver``, which refuses the connection when
  any address fails ``netguard.check_address``: the addresses checked are
  the ones connected to, so there is no gap between check and use;
- checks IP-literal hosts in a client middleware (aiohttp does not resolve
  those);
- never follows a redirect: a 3xx answer is refused, not followed, on every
  request, whatever the caller asked for (httpx clients above this session
  would otherwise follow ``Location`` themselves).

A refusal raises ``EgressRefused`` and is noted in ``refusals`` (a context
variable the proxy sets per request), so the proxy can answer a clean 502
naming the rule instead of whatever a provider library made of it.
"""

from __future__ import annotations

import asyncio
import contextvars
import ipaddress
import socket
from typing import Any

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver

from gatewaylib import netguard

# Per request: the reasons connections were refused, so the proxy can say why.
refusals: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar("gateway_egress_refusals", default=None)

CONNECTION_LIMIT = 1000
PER_HOST_LIMIT = 0  # unlimited: one provider host may carry all of an endpoint's traffic
DNS_CACHE_SECONDS = 10
KEEPALIVE_SECONDS = 30
CONNECT_TIMEOUT = 10


class EgressRefused(aiohttp.ClientConnectionError):
    """The gateway refused to connect (or to follow a redirect); the message names the rule."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
        noted = refusals.get()
        if noted is not None:
            noted.append(reason)


def _check(host: str, address: str) -> None:
    try:
        netguard.check_address(address)
    except netguard.UnsafeAddress as exc:
        raise EgressRefused(f"The gateway refused to connect to {host}: {exc}") from None


class GuardedResolver(AbstractResolver):
    """aiohttp's resolver, refusing names that resolve to an address the rules forbid."""

    def __init__(self) -> None:
        self._inner = DefaultResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await self._inner.resolve(host, port, family)
        for result in results:
            _check(host, result["host"])
        return results

    async def close(self) -> None:
        await self._inner.close()


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]").split("%", 1)[0])
    except ValueError:
        return False
    return True


async def _guard(request: aiohttp.ClientRequest, handler: Any) -> aiohttp.ClientResponse:
    host = request.url.raw_host or ""
    if _is_ip(host):
        _check(host, host.strip("[]"))
    response = await handler(request)
    if 300 <= response.status < 400:
        status = response.status
        response.release()
        raise EgressRefused(
            f"The provider answered {status} with a redirect; the gateway never follows redirects "
            "(set the key's API base URL to the final address)."
        )
    return response


def _new_session() -> aiohttp.ClientSession:
    connector = aiohttp.TCPConnector(
        resolver=GuardedResolver(),
        limit=CONNECTION_LIMIT,
        limit_per_host=PER_HOST_LIMIT,
        ttl_dns_cache=DNS_CACHE_SECONDS,
        keepalive_timeout=KEEPALIVE_SECONDS,
    )
    # No cookies (providers' cookies must not cross between keys) and no
    # proxy settings from the environment (they would decide the destination).
    return aiohttp.ClientSession(
        connector=connector, cookie_jar=aiohttp.DummyCookieJar(), trust_env=False, middlewares=(_guard,)
    )


def install_for_litellm() -> None:
    """Route every async HTTP request LiteLLM makes through guarded sessions (idempotent).

    LiteLLM has no setting for a resolver or for refusing redirects, and its
    clients come from two places: the OpenAI SDK clients (which take
    ``litellm.aclient_session`` when it is set; text completions and
    moderations use nothing else) and ``AsyncHTTPHandler`` (every other
    provider), whose transports all come from
    ``AsyncHTTPHandler.create_async_transport``. Both are pointed at
    ``guarded_transport()``; tests call every route through the proxy with a
    forbidden address and a redirecting upstream, so a LiteLLM upgrade that
    opens another path fails them.
    """
    import httpx
    import litellm
    from django.conf import settings
    from litellm.llms.custom_httpx.http_handler import AsyncHTTPHandler

    if getattr(AsyncHTTPHandler.create_async_transport, "gateway_guarded", False):
        return

    def create_async_transport(*args: Any, **kwargs: Any) -> httpx.AsyncBaseTransport:
        return guarded_transport()

    create_async_transport.gateway_guarded = True  # type: ignore[attr-defined]
    AsyncHTTPHandler.create_async_transport = staticmethod(create_async_transport)
    AsyncHTTPHandler._create_async_transport = staticmethod(create_async_transport)
    # The SDKs pass each request's own timeout; this is only the fallback.
    timeout = httpx.Timeout(settings.GATEWAY_UPSTREAM_TIMEOUT, connect=CONNECT_TIMEOUT)
    litellm.aclient_session = httpx.AsyncClient(transport=guarded_transport(), follow_redirects=False, timeout=timeout)


def guarded_transport() -> Any:
    """An httpx transport over a guarded aiohttp session (one per event loop, made on first use)."""
    from litellm.llms.custom_httpx.aiohttp_transport import LiteLLMAiohttpTransport

    return LiteLLMAiohttpTransport(client=_new_session)


_sessions: dict[asyncio.AbstractEventLoop, aiohttp.ClientSession] = {}


def session() -> aiohttp.ClientSession:
    """The guarded session of the running event loop (aiohttp sessions are bound to one loop)."""
    loop = asyncio.get_running_loop()
    current = _sessions.get(loop)
    if current is None or current.closed:
        for stale in [other for other in _sessions if other.is_closed()]:
            del _sessions[stale]
        current = _sessions[loop] = _new_session()
    return current


async def close() -> None:
    """Close this loop's session (at shutdown)."""
    current = _sessions.pop(asyncio.get_running_loop(), None)
    if current is not None:
        await current.close()
