"""What a proxy process keeps in memory so a warm request never touches the database.

Callers (by token digest), endpoints (by name), permission levels (by user and
endpoint) and Routers (by endpoint id and config_version) are cached here and
dropped whenever ``gatewaylib.invalidation`` announces a change. Loading a
miss runs the ORM in a worker thread (``sync_to_async``), never on the loop.
"""

from __future__ import annotations

import hashlib
import logging
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from gatewaylib import invalidation
from gatewaylib.db import run_in_thread
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
    router: Any
    secrets: tuple[str, ...]


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
        self.pending_token_use: dict[uuid.UUID, float] = {}

    def clear(self) -> None:
        self.callers.clear()
        self.endpoints.clear()
        self.levels.clear()

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
        entry = await run_in_thread(_build_router, endpoint.id)
        # Older versions of this endpoint are never used again.
        for stale in [k for k in self.routers if k[0] == endpoint.id]:
            _retire(self.routers.pop(stale))
        self.routers[key] = entry
        while len(self.routers) > MAX_ROUTERS:
            _retire(self.routers.popitem(last=False)[1])
        return entry

    def drop_routers_not_in(self, live: set[tuple[uuid.UUID, int]]) -> None:
        for key in [k for k in self.routers if k not in live]:
            _retire(self.routers.pop(key))


def _retire(entry: RouterEntry) -> None:
    try:
        entry.router.retire()
    except Exception:  # retiring is best effort; the object is dropped either way
        logger.debug("router retire failed", exc_info=True)


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


def _build_router(endpoint_id: uuid.UUID) -> RouterEntry:
    from endpoints import routing
    from endpoints.models import Endpoint

    endpoint = Endpoint.objects.get(pk=endpoint_id)
    router, deployments = routing.build_router(endpoint)
    secrets = tuple(d["litellm_params"]["api_key"] for d in deployments if d["litellm_params"].get("api_key"))
    return RouterEntry(router=router, secrets=secrets)


state = ProxyState()
invalidation.on_change(state.clear)
