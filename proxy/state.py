"""What a proxy process keeps in memory so a warm request never touches the database.

Callers (by token digest), endpoints (by name), permission levels (by user and
endpoint) and Routers (by endpoint id and config_version) are cached here and
dropped whenever ``gatewaylib.invalidation`` announces a change. Loading a
miss runs the ORM in a worker thread (``sync_to_async``), never on the loop.
"""

from __future__ import annotations

import asyncio
import hashlib
import heapq
import logging
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from gatewaylib import invalidation
from gatewaylib.db import DatabaseUnavailable, run_in_thread
from gatewaylib.scrub import Scrubber, live_secrets
from proxy import attempts
from proxy.upstreams import direct_targets
from sharing.levels import Level

logger = logging.getLogger(__name__)

NEGATIVE_TTL = 5.0  # seconds an unknown token or endpoint name stays cached
MAX_ENTRIES = 10_000  # per cache; reaching it clears the cache (bounded memory)
MAX_ROUTERS = 256


@dataclass(frozen=True)
class Caller:
    user_id: int
    username: str
    token_id: uuid.UUID | None
    is_superuser: bool
    expires_at: float | None  # epoch seconds
    rate_limit_rpm: int | None = None


@dataclass(frozen=True)
class ModelInfo:
    provider: str
    model_name: str
    input_cost_per_token: float
    output_cost_per_token: float
    cost_per_query: float = 0.0  # a search provider's price of one answered query

    @property
    def label(self) -> str:
        """``provider/model_name``: how the response headers, the request log and the log line name it."""
        return f"{self.provider}/{self.model_name}"


@dataclass(frozen=True)
class EndpointInfo:
    id: uuid.UUID
    name: str
    endpoint_type: str
    status: str
    config_version: int
    rate_limit_rpm: int | None
    rate_limit_tpm: int | None
    models: dict[str, ModelInfo] = field(default_factory=dict)


@dataclass
class RouterEntry:
    """A Router with the decrypted secrets inside it, and the scrubber that keeps them out of replies.

    It also answers the direct path's three questions: where each deployment
    is called for a route (``targets``, worked out once per route), which
    deployment serves next (``pick``, the Router's choice), and what to do
    after a failure (``report_failure``, so the Router cools it down).
    """

    router: Any
    secrets: tuple[str, ...]
    scrubber: Scrubber
    deployments: list[dict[str, Any]] = field(default_factory=list)
    attempts: int = 3  # one call and the Router's retries
    cooldown_seconds: float = 30.0
    translated: bool = False  # LiteLLM made calls itself (it may have cooled a deployment down on its own)
    _targets: dict[str, Any] = field(default_factory=dict)
    _by_id: dict[str, dict[str, Any]] = field(default_factory=dict)
    _cooling_until: float = 0.0

    def deployment(self, deployment_id: str) -> dict[str, Any]:
        """One deployment as the Router was given it (its secret inside), by its id."""
        if not self._by_id:
            self._by_id = {deployment["model_info"]["id"]: deployment for deployment in self.deployments}
        return self._by_id[deployment_id]

    def targets(self, route: str) -> dict[str, Any] | None:
        if route not in self._targets:
            self._targets[route] = direct_targets(route, self.deployments)
        return self._targets[route]

    async def pick(self, name: str, excluded: list[str]) -> str:
        """The Router's choice of deployment (weights, priority order, cooldowns)."""
        if len(self.deployments) == 1 and not self.translated and time.monotonic() >= self._cooling_until:
            # One deployment, not cooling down: the Router could only answer
            # this one, and asking costs about 0.2 ms of CPU per request.
            return self.deployments[0]["model_info"]["id"]
        request = {"_excluded_deployment_ids": list(excluded)} if excluded else {}
        deployment = await self.router.select(name, request)
        return deployment["model_info"]["id"]

    def report_failure(self, deployment_id: str, failure: Exception) -> bool:
        """Tell the Router a deployment failed; True when it is now cooling down."""
        try:
            cooling = bool(self.router.health().record_failure(deployment_id, failure, failure.status_code))
        except Exception:  # the Router's bookkeeping must never turn a provider error into a 500
            logger.warning("could not report a failure to the Router", exc_info=True)
            return False
        if cooling:
            self._cooling_until = time.monotonic() + max(self.cooldown_seconds, _seconds(failure))
        return cooling


def _seconds(failure: Exception) -> float:
    """A failure's Retry-After in seconds (LiteLLM cools a deployment down at least that long)."""
    try:
        return float(getattr(failure, "retry_after", None) or 0)
    except ValueError:
        return 0.0


class _Cache:
    """A dict with optional per-entry expiry and a size bound."""

    def __init__(self) -> None:
        self._data: dict[Any, tuple[Any, float | None]] = {}

    def get(self, key: Any) -> tuple[bool, Any]:
        item = self._data.get(key)
        if item is None:
            return False, None
        value, expires = item
        if expires is not None and expires < time.monotonic():
            self._data.pop(key, None)
            return False, None
        return True, value

    def put(self, key: Any, value: Any, ttl: float | None = None) -> None:
        if len(self._data) >= MAX_ENTRIES:
            self._data.clear()
        self._data[key] = (value, None if ttl is None else time.monotonic() + ttl)

    def clear(self) -> None:
        self._data.clear()


def token_digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ProxyState:
    def __init__(self) -> None:
        self.callers = _Cache()
        self.endpoints = _Cache()
        self.levels = _Cache()
        self.routers: OrderedDict[tuple[uuid.UUID, int], RouterEntry] = OrderedDict()
        self._loop: asyncio.AbstractEventLoop | None = None  # the loop the Routers serve on
        self._reconciling: asyncio.Task | None = None

    def clear(self) -> None:
        """Forget cached rows at once; Routers of changed or stopped endpoints go right after."""
        self.callers.clear()
        self.endpoints.clear()
        self.levels.clear()
        loop = self._loop
        if loop is not None and not loop.is_closed():
            # Called from request threads, the invalidation watcher or a
            # commit hook: the Routers belong to their loop, so hand it over.
            loop.call_soon_threadsafe(self._start_reconcile)

    # -- callers ---------------------------------------------------------
    async def caller(self, raw_token: str) -> Caller | None:
        digest = token_digest(raw_token)
        hit, caller = self.callers.get(digest)
        if not hit:
            caller = await run_in_thread(_load_caller, raw_token)
            self.callers.put(digest, caller, ttl=None if caller else NEGATIVE_TTL)
        if caller is not None and caller.expires_at is not None and caller.expires_at <= time.time():
            return None
        return caller

    # -- endpoints -------------------------------------------------------
    async def endpoint(self, name: str) -> EndpointInfo | None:
        hit, info = self.endpoints.get(name)
        if not hit:
            info = await run_in_thread(_load_endpoint, name)
            self.endpoints.put(name, info, ttl=None if info else NEGATIVE_TTL)
        return info

    async def level(self, caller: Caller, endpoint: EndpointInfo) -> Level | None:
        if caller.is_superuser:
            return Level.MANAGE
        key = (caller.user_id, endpoint.id)
        hit, level = self.levels.get(key)
        if not hit:
            level = await run_in_thread(_load_level, caller.user_id, endpoint.id)
            self.levels.put(key, level)
        return level

    # -- routers ---------------------------------------------------------
    async def router(self, endpoint: EndpointInfo) -> RouterEntry:
        key = (endpoint.id, endpoint.config_version)
        entry = self.routers.get(key)
        if entry is not None:
            self.routers.move_to_end(key)
            return entry
        self._loop = asyncio.get_running_loop()
        entry = await run_in_thread(_load_router, endpoint.id)
        # Older versions of this endpoint are never used again.
        for stale in [k for k in self.routers if k[0] == endpoint.id]:
            _retire(self.routers.pop(stale))
        self.routers[key] = entry
        while len(self.routers) > MAX_ROUTERS:
            _retire(self.routers.popitem(last=False)[1])
        return entry

    def _start_reconcile(self) -> None:
        if self._reconciling is None or self._reconciling.done():
            self._reconciling = asyncio.get_running_loop().create_task(self.reconcile(), name="gateway-routers")

    async def reconcile(self) -> None:
        """Drop every Router whose endpoint was deleted, stopped or changed, with its clients and secrets.

        Run after each change announcement, so a stopped endpoint's decrypted
        secrets leave memory without waiting for traffic or the LRU bound.
        """
        held = list(self.routers)
        if not held:
            return
        try:
            live = await run_in_thread(_live_router_keys, {endpoint_id for endpoint_id, _ in held})
        except DatabaseUnavailable:
            logger.warning("could not check Routers against the database; keeping them until the next change")
            return
        for key in held:
            if key not in live and key in self.routers:
                _retire(self.routers.pop(key))

    def drop_all(self) -> None:
        """Retire every Router (process shutdown, tests)."""
        while self.routers:
            _retire(self.routers.popitem()[1])


def _live_router_keys(endpoint_ids: set[uuid.UUID]) -> set[tuple[uuid.UUID, int]]:
    from endpoints.models import Endpoint

    rows = Endpoint.objects.running().filter(pk__in=endpoint_ids).values_list("pk", "config_version")
    return set(rows)


def _retire(entry: RouterEntry) -> None:
    """Unhook the Router from LiteLLM's process-wide registries and forget its secrets."""
    from endpoints import routing

    live_secrets.discard(entry.secrets)
    try:
        routing.retire_router(entry.router)
        _forget_litellm_clients(entry.secrets)
    except Exception:  # retiring is best effort; the object is dropped either way
        logger.debug("router retire failed", exc_info=True)


def _forget_litellm_clients(secrets: tuple[str, ...]) -> None:
    """Drop LiteLLM's cached SDK clients for these secrets (they outlive the Router otherwise).

    LiteLLM caches one SDK client per credential for up to ten minutes, with
    the key inside the client and inside the cache key; its cache has no call
    to forget a credential, so its entries (and their expiry records) are
    removed here.
    """
    import litellm

    cache = getattr(litellm, "in_memory_llm_clients_cache", None)
    if cache is None or not secrets:
        return

    def holds_secret(key: str, client: Any) -> bool:
        return any(secret in key or getattr(client, "api_key", None) == secret for secret in secrets)

    for key, client in list(cache.cache_dict.items()):
        if holds_secret(key, client):
            cache.delete_cache(key)
    cache.expiration_heap = [item for item in cache.expiration_heap if item[1] in cache.ttl_dict]
    heapq.heapify(cache.expiration_heap)


def _load_caller(raw_token: str) -> Caller | None:
    from tokens import services as tokens

    token = tokens.find_token(raw_token)
    if token is None or not token.user.is_active:
        return None
    return Caller(
        user_id=token.user_id,
        username=token.user.get_username(),
        token_id=token.id,
        is_superuser=token.user.is_superuser,
        expires_at=token.expires_at.timestamp() if token.expires_at else None,
        rate_limit_rpm=token.rate_limit_rpm,
    )


def _load_endpoint(name: str) -> EndpointInfo | None:
    from catalog import services as catalog
    from endpoints.models import Endpoint

    endpoint = Endpoint.objects.filter(name=name).prefetch_related("models").first()
    if endpoint is None:
        return None
    models = {}
    for model in endpoint.models.all():
        entry = catalog.get_model(model.provider, model.model_name) or {}
        params = model.litellm_params
        models[model.public_id] = ModelInfo(
            provider=model.provider,
            model_name=model.model_name,
            input_cost_per_token=float(params.get("input_cost_per_token", entry.get("input_cost_per_token") or 0)),
            output_cost_per_token=float(params.get("output_cost_per_token", entry.get("output_cost_per_token") or 0)),
            cost_per_query=float(entry.get("input_cost_per_query") or 0),
        )
    return EndpointInfo(
        id=endpoint.id,
        name=endpoint.name,
        endpoint_type=endpoint.endpoint_type,
        status=endpoint.status,
        config_version=endpoint.config_version,
        rate_limit_rpm=endpoint.rate_limit_rpm,
        rate_limit_tpm=endpoint.rate_limit_tpm,
        models=models,
    )


def _load_level(user_id: int, endpoint_id: uuid.UUID) -> Level | None:
    from django.contrib.auth import get_user_model

    from endpoints.models import Endpoint
    from sharing import services as sharing

    user = get_user_model().objects.filter(pk=user_id).first()
    endpoint = Endpoint.objects.filter(pk=endpoint_id).first()
    if user is None or endpoint is None:
        return None
    return sharing.get_level(user, endpoint)


def _load_router(endpoint_id: uuid.UUID) -> RouterEntry:
    from django.conf import settings

    from endpoints import routing
    from endpoints.models import Endpoint

    attempts.install()
    endpoint = Endpoint.objects.get(pk=endpoint_id)
    router, secrets = routing.build_router(endpoint)
    live_secrets.add(secrets)
    return RouterEntry(
        router=router,
        secrets=secrets,
        scrubber=Scrubber(secrets),
        deployments=routing.model_list(endpoint),
        attempts=1 + routing.ROUTER_SETTINGS["num_retries"],
        cooldown_seconds=settings.GATEWAY_COOLDOWN_SECONDS,
    )


state = ProxyState()
invalidation.on_change(state.clear)
