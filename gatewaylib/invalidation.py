"""Telling every proxy process that something it caches has changed.

``changed()`` is called (through signals and the services) whenever an
endpoint, a model, a key, a grant, a token or a user changes. After the
transaction commits, this process clears its caches at once; other processes
learn of it within a second: through Redis pub/sub when ``REDIS_URL`` is set,
otherwise by polling a version row (``endpoints.StateVersion``) from a
background task, off the request path.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.db import transaction
from django.db.models import F

logger = logging.getLogger(__name__)

CHANNEL = "gateway:invalidate"
POLL_SECONDS = 0.5
_listeners: list[Callable[[], None]] = []


def on_change(callback: Callable[[], None]) -> None:
    """Register a function that clears a local cache."""
    _listeners.append(callback)


def _clear_local() -> None:
    for callback in _listeners:
        callback()


def changed() -> None:
    """Announce a change once the current transaction commits (at once outside one)."""
    transaction.on_commit(_publish, robust=True)


def _publish() -> None:
    from endpoints.models import StateVersion

    _clear_local()
    updated = StateVersion.objects.filter(pk=1).update(version=F("version") + 1)
    if not updated:
        StateVersion.objects.get_or_create(pk=1)
    if settings.REDIS_URL:
        import redis

        try:
            client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=1, socket_connect_timeout=1)
            client.publish(CHANNEL, "changed")
            client.close()
        except redis.RedisError as exc:
            # Other processes still catch up through the version poll.
            logger.warning("could not broadcast a change: %s", exc.__class__.__name__)


def read_version() -> int:
    from endpoints.models import StateVersion

    return StateVersion.objects.filter(pk=1).values_list("version", flat=True).first() or 0


def _read_version_and_release() -> int:
    from django.db import close_old_connections

    close_old_connections()
    return read_version()


class Watcher:
    """One background task per event loop that clears local caches when another process changes something."""

    def __init__(self) -> None:
        self._tasks: dict[int, asyncio.Task] = {}
        # Its own thread, so version polls never queue behind request work.
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gateway-invalidation")

    async def _read_version(self) -> int:
        return await asyncio.get_running_loop().run_in_executor(self._executor, _read_version_and_release)

    def ensure_started(self) -> None:
        loop = asyncio.get_running_loop()
        task = self._tasks.get(id(loop))
        if task is None or task.done():
            self._tasks[id(loop)] = loop.create_task(self._run(), name="gateway-invalidation-watcher")

    async def _run(self) -> None:
        # Both modes poll the version row (cheap, and it catches messages a
        # dropped Redis connection missed); Redis adds an immediate push.
        if settings.REDIS_URL:
            asyncio.get_running_loop().create_task(self._subscribe())
        last = await self._read_version()
        while True:
            await asyncio.sleep(POLL_SECONDS if not settings.REDIS_URL else 2.0)
            try:
                current = await self._read_version()
            except Exception as exc:  # the database may be briefly away; keep serving from cache
                logger.warning("invalidation poll failed: %s", exc.__class__.__name__)
                continue
            if current != last:
                last = current
                _clear_local()

    async def _subscribe(self) -> None:
        import redis.asyncio as aioredis

        while True:
            try:
                client = aioredis.Redis.from_url(settings.REDIS_URL)
                async with client.pubsub() as pubsub:
                    await pubsub.subscribe(CHANNEL)
                    _clear_local()  # anything may have changed while we were not listening
                    async for message in pubsub.listen():
                        if message.get("type") == "message":
                            _clear_local()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                logger.warning("invalidation subscription lost: %s", exc.__class__.__name__)
                await asyncio.sleep(1)


watcher = Watcher()
