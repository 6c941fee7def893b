"""The invalidation watcher: its tasks stay alive, and async listeners run on its loop after a change."""

from __future__ import annotations

import asyncio
import gc
import threading

import httpx
import pytest
from django.conf import settings

from endpoints import lifecycle
from gatewaylib import invalidation
from tests.reliability.conftest import wait_for


def test_the_watcher_tasks_survive_garbage_collection():
    # The subscriber used to be created without a reference and collected at once.
    async def check() -> list[str]:
        watcher = invalidation.Watcher()
        watcher.ensure_started()
        watch = next(iter(watcher._watches.values()))
        await asyncio.sleep(0.1)
        gc.collect()
        await asyncio.sleep(0.1)
        alive = [task.get_name() for task in watch.main if not task.done()]
        for task in watch.main:
            task.cancel()
        await asyncio.gather(*watch.main, return_exceptions=True)
        return alive

    alive = asyncio.run(check())
    expected = ["gateway-invalidation-poll"] + (["gateway-invalidation-redis"] if settings.REDIS_URL else [])
    assert alive == expected


def test_an_async_listener_runs_on_the_watchers_loop_after_a_change(gateway, world):
    endpoint = world.endpoint()
    response = httpx.post(
        f"{gateway.url}/v1/chat/completions",
        headers={"Authorization": f"Bearer {world.token(world.alice)}"},
        json={"model": "chat", "messages": [{"role": "user", "content": "hi"}]},
        timeout=30,
    )
    assert response.status_code == 200  # the server's loop now has a watcher
    threads: list[str] = []

    async def listener() -> None:
        threads.append(threading.current_thread().name)

    remove = invalidation.on_change_async(listener)
    try:
        lifecycle.stop_endpoint(endpoint, actor=world.alice)
        assert wait_for(lambda: threads, timeout=2) is not None, "the listener did not run"
    finally:
        remove()
    assert gateway.thread.name in threads


def test_the_channel_is_namespaced_by_the_redis_database():
    assert invalidation.channel("redis://127.0.0.1:6379/12") == "gateway:invalidate:12"
    assert invalidation.channel("redis://127.0.0.1:6379") == "gateway:invalidate:0"


class CountingStore:
    """A version store that counts the announcements instead of writing a row."""

    def __init__(self) -> None:
        self.bumps = 0

    def bump(self) -> None:
        self.bumps += 1

    def read(self) -> int:
        return self.bumps


@pytest.fixture
def store(monkeypatch):
    counting = CountingStore()
    monkeypatch.setattr(invalidation, "_store", counting)
    return counting


def test_one_transaction_announces_its_changes_once(transactional_db, alice, store):
    from django.db import transaction

    from keys import services as key_services

    with transaction.atomic():
        # Each key's save, creator grant and audit row signal a change; services call changed() as well.
        key_services.create_key(actor=alice, name="one", provider="openai", secret="sk-once-0123456789")
        key_services.create_key(actor=alice, name="two", provider="openai", secret="sk-twice-0123456789")
        invalidation.changed()
        assert store.bumps == 0  # nothing before the commit
    assert store.bumps == 1


def test_a_change_in_a_rolled_back_savepoint_does_not_silence_the_next(transactional_db, store):
    from django.db import transaction

    with transaction.atomic():
        try:
            with transaction.atomic():
                invalidation.changed()
                raise RuntimeError("roll this savepoint back")
        except RuntimeError:
            pass
        invalidation.changed()
    assert store.bumps == 1


def test_outside_a_transaction_each_change_is_announced_at_once(transactional_db, store):
    invalidation.changed()
    invalidation.changed()
    assert store.bumps == 2


def test_the_version_row_counts_announcements(transactional_db):
    from endpoints.models import StateVersion

    before = StateVersion.read()
    invalidation.changed()
    assert StateVersion.read() == before + 1
