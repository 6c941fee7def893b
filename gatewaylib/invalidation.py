"""Telling every proxy process that something it caches has changed.

``changed()`` is called (through signals and the services) whenever an
endpoint, a model, a key, a grant, a token or a user changes. After the
transaction commits, this process clears its caches at once; other processes
learn of it within a second: through Redis pub/sub when ``REDIS_URL`` is set
(at once), and in every mode by polling a version counter twice a second
from a background task, off the request path. The poll is the guarantee;
pub/sub makes it immediate. The counter is stored by whoever registers a
``VersionStore`` (the endpoints app's ``StateVersion`` row), so this module
knows no model.

However many rows one transaction saves (each save's signal calls
``changed()``, and the services call it for bulk updates that send no
signal), the change is announced once, when the transaction commits.

Listeners:

- ``on_change(fn)``: a plain function that clears a local cache; called at
  once in the process that made the change and on every change seen from
  another process.
- ``on_change_async(coro_fn)``: a coroutine function run on each watcher's
  event loop after every change (local or remote), for work that belongs to
  that loop, such as retiring LiteLLM Routers whose HTTP clients live there.
  Errors are logged and do not stop the watcher. Keep it idempotent: one
  change can be announced more than once (the local call, the Redis echo,
  the version poll).
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Protocol

from django.conf import settings
from django.db import transaction

from gatewaylib.db import run_in_background, with_kept_connection
from gatewaylib.outage import Outage

logger = logging.getLogger(__name__)

CHANNEL_PREFIX = "gateway:invalidate"
POLL_SECONDS = 0.5
# Publishing happens on the thread of whoever made the change (an API
# request): a frozen Redis may delay it by this much, never hang it.
REDIS_TIMEOUT_SECONDS = 0.5
# redis-py PINGs an idle subscription this often; no answer for two
# intervals means the connection is dead even if TCP has not noticed.
HEALTH_CHECK_SECONDS = 5
RECONNECT_BASE_SECONDS, RECONNECT_CAP_SECONDS = 0.1, 2.0


class VersionStore(Protocol):
    """Where the change counter lives (a database row every process can read)."""

    def bump(self) -> None: ...

    def read(self) -> int: ...


_store: VersionStore | None = None
_listeners: list[Callable[[], None]] = []
_async_listeners: list[Callable[[], Awaitable[None]]] = []


def use_version_store(store: VersionStore) -> None:
    """Keep the change counter in ``store`` (called once, from an app's ``ready()``)."""
    global _store
    _store = store


def on_change(callback: Callable[[], None]) -> None:
    """Register a function that clears a local cache."""
    _listeners.append(callback)


def on_change_async(callback: Callable[[], Awaitable[None]]) -> Callable[[], None]:
    """Register a coroutine function run on the watcher's event loop after each change; returns its remover."""
    _async_listeners.append(callback)
    return lambda: _async_listeners.remove(callback)


def _clear_local() -> None:
    for callback in _listeners:
        callback()


def channel(url: str | None = None) -> str:
    """The pub/sub channel of this Redis database.

    Channels are server-wide in Redis, so without the database number two
    deployments (or two test runs) sharing a server would invalidate each other.
    """
    from redis.connection import parse_url

    return f"{CHANNEL_PREFIX}:{parse_url(url or settings.REDIS_URL).get('db', 0)}"


def changed() -> None:
    """Announce a change once the current transaction commits (at once outside one), once per transaction."""
    connection = transaction.get_connection()
    # A callback registered in a savepoint that rolled back is gone from the
    # list, so a later change in the same transaction registers it again.
    if connection.in_atomic_block and any(entry[1] is _publish for entry in connection.run_on_commit):
        return
    transaction.on_commit(_publish, robust=True)


def _publish() -> None:
    _clear_local()
    watcher.notify_loops()
    if _store is not None:
        _store.bump()
    if settings.REDIS_URL:
        import redis

        try:
            _publisher(settings.REDIS_URL).publish(channel(), "changed")
        except redis.RedisError as exc:
            # Other processes still catch up through the version poll.
            logger.warning("could not broadcast a change: %s", exc.__class__.__name__)


@functools.cache
def _publisher(url: str):
    """One pooled client per URL (thread-safe), instead of a connection per change."""
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    return redis.Redis.from_url(
        url,
        socket_timeout=REDIS_TIMEOUT_SECONDS,
        socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
        # One quick retry on a fresh connection covers a pooled connection
        # that died with a Redis restart; a timeout is not retried (a frozen
        # Redis would only make the caller wait longer).
        retry=Retry(NoBackoff(), 1, supported_errors=(redis.ConnectionError,)),
        health_check_interval=30,
    )


def read_version() -> int:
    return _store.read() if _store is not None else 0


@dataclass
class _LoopWatch:
    loop: asyncio.AbstractEventLoop
    main: list[asyncio.Task]
    # The event loop keeps only weak references to tasks: one that nothing
    # else references can be garbage-collected while it waits (which is how
    # the Redis subscriber used to vanish at start). Every task lives here.
    extra: set[asyncio.Task] = field(default_factory=set)

    def alive(self) -> bool:
        return not any(task.done() for task in self.main)

    def spawn(self, coro: Awaitable[None], name: str) -> None:
        task = self.loop.create_task(coro, name=name)
        self.extra.add(task)
        task.add_done_callback(self.extra.discard)


class Watcher:
    """Per event loop: a version poll and (with Redis) a subscriber, clearing local caches on change."""

    def __init__(self) -> None:
        self._watches: dict[int, _LoopWatch] = {}
        # Its own thread, so version polls never queue behind request work.
        self._executor = ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="gateway-invalidation", initializer=run_in_background
        )
        self._poll_outage = Outage(logger, "the invalidation version poll (database)")
        self._redis_outage = Outage(logger, "the invalidation subscription (Redis)")

    def ensure_started(self) -> None:
        """Start watching on the running loop, once (cheap enough for every request)."""
        loop = asyncio.get_running_loop()
        watch = self._watches.get(id(loop))
        if watch is not None and watch.loop is loop and watch.alive():
            return
        if watch is not None:
            for task in watch.main:
                task.cancel()
        tasks = [loop.create_task(self._poll(), name="gateway-invalidation-poll")]
        if settings.REDIS_URL:
            tasks.append(loop.create_task(self._subscribe(settings.REDIS_URL), name="gateway-invalidation-redis"))
        self._watches[id(loop)] = _LoopWatch(loop, tasks)

    def notify_loops(self) -> None:
        """From a thread that made a change: run the async listeners on every watcher loop."""
        if not _async_listeners:
            return
        for watch in list(self._watches.values()):
            try:
                watch.loop.call_soon_threadsafe(watch.spawn, _run_async_listeners(), "gateway-invalidation-listeners")
            except RuntimeError:  # that loop is closed (a stopped server)
                continue

    async def _changed(self) -> None:
        _clear_local()
        await _run_async_listeners()

    # -- the version poll (every mode) ----------------------------------------
    async def _poll(self) -> None:
        last: int | None = None
        while True:
            try:
                current = await asyncio.get_running_loop().run_in_executor(
                    self._executor, with_kept_connection, read_version
                )
            except Exception as exc:  # the database may be away; keep serving from cache
                self._poll_outage.failed(exc)
            else:
                self._poll_outage.ok()
                if last is not None and current != last:
                    await self._changed()
                last = current
            await asyncio.sleep(POLL_SECONDS)

    # -- Redis pub/sub (with REDIS_URL) ---------------------------------------
    async def _subscribe(self, url: str) -> None:
        from redis.backoff import ExponentialBackoff

        backoff = ExponentialBackoff(cap=RECONNECT_CAP_SECONDS, base=RECONNECT_BASE_SECONDS)
        failures = 0

        def subscribed() -> None:
            nonlocal failures
            failures = 0

        while True:
            try:
                await self._listen(url, subscribed)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self._redis_outage.failed(exc)
            failures += 1
            await asyncio.sleep(backoff.compute(failures))

    async def _listen(self, url: str, subscribed: Callable[[], None]) -> None:
        """Subscribe and handle messages until the connection fails (it raises then)."""
        import redis
        import redis.asyncio as aioredis
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff

        client = aioredis.Redis.from_url(
            url,
            socket_timeout=REDIS_TIMEOUT_SECONDS * 2,
            socket_connect_timeout=REDIS_TIMEOUT_SECONDS * 2,
            health_check_interval=HEALTH_CHECK_SECONDS,
            # Reconnecting is ours (below), so we know to clear the caches.
            retry=Retry(NoBackoff(), 0),
            client_name="gateway-invalidation",
        )
        async with client, client.pubsub() as pubsub:
            await pubsub.subscribe(channel(url))
            await _confirmed(pubsub)
            self._redis_outage.ok()
            subscribed()
            await self._changed()  # anything may have changed while we were not listening
            while True:
                message = await pubsub.get_message(timeout=1.0)
                if message is not None and message.get("type") == "message":
                    await self._changed()
                connection = pubsub.connection
                if connection is None or asyncio.get_running_loop().time() > (
                    connection.next_health_check + HEALTH_CHECK_SECONDS
                ):
                    raise redis.ConnectionError("Redis did not answer the subscription's health check")


async def _confirmed(pubsub) -> None:
    """``subscribe()`` only sends the command; wait until Redis confirms it."""
    import redis

    deadline = asyncio.get_running_loop().time() + REDIS_TIMEOUT_SECONDS * 4
    while asyncio.get_running_loop().time() < deadline:
        message = await pubsub.get_message(timeout=REDIS_TIMEOUT_SECONDS)
        if message is not None and message.get("type") == "subscribe":
            return
    raise redis.TimeoutError("Redis did not confirm the subscription")


async def _run_async_listeners() -> None:
    for callback in list(_async_listeners):
        try:
            await callback()
        except Exception:
            logger.exception("an invalidation listener failed")


watcher = Watcher()
