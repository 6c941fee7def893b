"""Stopping, deleting or changing an endpoint drops its Router, its HTTP clients and its decrypted secrets.

The proxy runs in this process (the in-thread gateway server), so the test
can look at the proxy's memory: after the change returns, within a second,
no Router of the endpoint is held and no live Python container references
the decrypted secret any more.
"""

from __future__ import annotations

import gc
import secrets
import time

import openai
import pytest

from endpoints import lifecycle, services
from fakeupstream import FakeUpstream
from gatewaylib.scrub import live_secrets
from proxy.state import state

# Every test here runs on the direct path and on LiteLLM's translated path.
pytestmark = pytest.mark.usefixtures("both_paths")

MESSAGES = [{"role": "user", "content": "hi"}]


def holders(secret: str) -> list[str]:
    """Types of the live containers holding ``secret`` (as a value, or inside a string such as a header).

    The items are read with ``gc.get_referents`` rather than by iterating the
    container: ``gc.get_objects()`` also returns containers another thread is
    still filling (``tuple(generator)`` is tracked with empty slots), and
    iterating one of those reads a NULL and crashes the interpreter (a
    segmentation fault seen once in CI); traversal skips empty slots.
    """
    found = []
    for obj in gc.get_objects():
        # By type, not isinstance: isinstance asks a dead weak proxy for its __class__ and raises.
        if not issubclass(type(obj), dict | list | tuple | set | frozenset):
            continue
        if any(type(value) is str and secret in value for value in gc.get_referents(obj)):
            found.append(type(obj).__name__)
    return found


def routers_of(endpoint) -> list:
    return [key for key in list(state.routers) if key[0] == endpoint.pk]


def wait_until(predicate, timeout: float = 1.0) -> float:
    """Seconds until ``predicate()`` holds; fail if it still does not once ``timeout`` has passed."""
    started = time.monotonic()
    while not predicate():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"not within {timeout} s")
        time.sleep(0.01)
    return time.monotonic() - started


def forgotten_within_a_second(endpoint, secret: str) -> float:
    """The proxy holds no Router of ``endpoint`` and nothing holds ``secret``, within a second of the change."""
    changed = time.monotonic()
    wait_until(lambda: not routers_of(endpoint))
    while held := holders(secret):
        assert time.monotonic() - changed < 1.0, f"still held after {time.monotonic() - changed:.2f} s: {held}"
        time.sleep(0.05)
    return time.monotonic() - changed


@pytest.fixture
def served(gateway, world):
    """A running endpoint whose key's secret exists only in the database and in the proxy's Router."""
    secret = "sk-forget-me-" + secrets.token_hex(16)
    # Its own upstream, stopped after the call: a server keeps the last request's headers.
    with FakeUpstream() as upstream:
        key = world.make_key(name="forgettable", secret=secret, api_base=upstream.base_url)
        endpoint = world.endpoint(name="forget", models=[world.model("upstream-a", key=key)])
        client = openai.OpenAI(base_url=f"{gateway.url}/v1", api_key=world.token(world.alice), max_retries=0)
        client.chat.completions.create(model="forget", messages=MESSAGES)
    assert routers_of(endpoint) and secret in live_secrets
    assert holders(secret), "the test cannot see the Router's secret at all"
    # Handed over as bytes, so the fixture's own reference does not count as a holder.
    return endpoint, secret.encode()


def test_stopping_drops_the_router_and_its_secret_from_memory(world, served):
    endpoint, secret = served[0], served[1].decode()
    lifecycle.stop_endpoint(endpoint, actor=world.alice)
    forgotten_within_a_second(endpoint, secret)
    assert secret not in live_secrets


def test_deleting_drops_it_too(world, served):
    endpoint, secret = served[0], served[1].decode()
    services.delete_endpoint(endpoint, actor=world.alice)
    forgotten_within_a_second(endpoint, secret)


def test_a_change_retires_the_old_router_without_waiting_for_traffic(world, served):
    endpoint, _ = served
    (old,) = routers_of(endpoint)
    services.update_endpoint(endpoint, actor=world.alice, rate_limit_rpm=1000)
    wait_until(lambda: old not in state.routers)
