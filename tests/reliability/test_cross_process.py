"""A change made through one gateway process is refused by another within one second.

Two ``manage.py serve`` processes over the same PostgreSQL and Redis. Steady
traffic goes through process B while a change is made through process A's
API: an endpoint stopped, a token revoked, a grant lowered below USE. The
guarantee: no request B *starts* more than 1 s after the change returned
succeeds. And the Redis subscriber that makes it immediate is really there
(``PUBSUB NUMSUB``), also after Redis connections are cut and restored.
"""

from __future__ import annotations

import contextlib
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx
import pytest
import redis
from django.conf import settings

from endpoints import lifecycle
from gatewaylib import invalidation
from sharing.levels import Level
from tests.reliability.conftest import wait_for
from tests.reliability.forwarder import Forwarder
from tests.servers import GatewayProcess
from tokens import services as token_services

API = "/api/3.0/mlflow/gateway/"
MESSAGES = [{"role": "user", "content": "hi"}]
GUARANTEE_SECONDS = 1.0
OBSERVE_SECONDS = 1.8  # how long traffic continues after a change

pytestmark = pytest.mark.redis


@dataclass
class Traffic:
    """Back-to-back requests through one gateway, in a thread; each noted with when it started."""

    url: str
    token: str
    model: str
    results: list[tuple[float, int | None]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"traffic-{self.model}", daemon=True)

    def _run(self) -> None:
        body = {"model": self.model, "messages": MESSAGES}
        headers = {"Authorization": f"Bearer {self.token}"}
        with httpx.Client(base_url=self.url, timeout=10) as client:
            while not self._stop.is_set():
                started = time.monotonic()
                try:
                    status = client.post("/v1/chat/completions", json=body, headers=headers).status_code
                except httpx.HTTPError:
                    status = None
                self.results.append((started, status))

    def __enter__(self) -> Traffic:
        self._thread.start()
        assert wait_for(lambda: self.successes() >= 3, timeout=30), f"no steady traffic: {self.results[-5:]}"
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join(15)

    def successes(self, after: float = 0.0) -> int:
        return sum(1 for started, status in list(self.results) if started > after and status == 200)


def observe(traffic: Traffic, change) -> dict[str, object]:
    """Make the change while traffic runs; the figures of what B answered afterwards."""
    with traffic:
        response = change()
        assert response.status_code < 300, response.text
        changed = time.monotonic()
        time.sleep(OBSERVE_SECONDS)
    after = [(started - changed, status) for started, status in traffic.results if started > changed]
    refusals = [offset for offset, status in after if status != 200]
    return {
        "requests_after": len(after),
        "succeeded_after": sum(status == 200 for _, status in after),
        "succeeded_started_1s_after": sum(status == 200 for offset, status in after if offset > GUARANTEE_SECONDS),
        "first_refusal_after_s": round(refusals[0], 3) if refusals else None,
        "refused_with": sorted({status for _, status in after if status != 200}, key=str),
    }


@contextlib.contextmanager
def two_gateways(env: dict | None = None):
    with contextlib.ExitStack() as stack:
        a, b = GatewayProcess(env=env, name="gateway-a"), GatewayProcess(env=env, name="gateway-b")
        stack.callback(a.stop)
        stack.callback(b.stop)
        a.launch(), b.launch()  # both start at once: the imports take seconds
        yield a.wait_live(), b.wait_live()


def test_changes_through_a_are_refused_by_b_within_a_second(world, report, postgres_and_redis):
    stopped = world.endpoint(name="chat-stop")
    world.share(world.endpoint(name="chat-revoke"), world.bob, Level.USE)
    lowered = world.endpoint(name="chat-grant")
    world.share(lowered, world.charlie, Level.USE)
    alice, bob_api, charlie = (world.token(user) for user in (world.alice, world.bob, world.charlie))
    victim, victim_raw = token_services.create_token(world.bob, "victim")

    with two_gateways() as (a, b), httpx.Client(base_url=a.url + API, timeout=10) as api:

        def as_user(token: str) -> dict[str, str]:
            return {"Authorization": f"Bearer {token}"}

        scenarios = {
            "stop_endpoint": (
                Traffic(b.url, alice, "chat-stop"),
                lambda: api.post(f"endpoints/{stopped.public_id}/stop", headers=as_user(alice)),
            ),
            "revoke_token": (
                Traffic(b.url, victim_raw, "chat-revoke"),
                lambda: api.delete(f"tokens/{victim.id.hex}", headers=as_user(bob_api)),
            ),
            "grant_below_use": (
                Traffic(b.url, charlie, "chat-grant"),
                lambda: api.post(
                    f"endpoints/{lowered.public_id}/permissions",
                    json={"user": "charlie", "level": "READ"},
                    headers=as_user(alice),
                ),
            ),
        }
        figures = {name: observe(traffic, change) for name, (traffic, change) in scenarios.items()}
        context = b.describe()
    for name, numbers in figures.items():
        report(change=name, **numbers)
    for name, numbers in figures.items():
        assert numbers["succeeded_started_1s_after"] == 0, f"{name}: {numbers}\n{context}"
        assert numbers["requests_after"] > 0 and numbers["first_refusal_after_s"] is not None, f"{name}: {numbers}"


def subscribers(client: redis.Redis, channel: str) -> int:
    return dict(client.pubsub_numsub(channel)).get(channel.encode(), 0)


def test_the_subscriber_is_there_and_comes_back_after_redis_restarts(world, report, postgres_and_redis):
    endpoint = world.endpoint()
    stopped_during_cut = world.endpoint(name="chat-cut")
    token = world.token(world.alice)
    real = urlsplit(settings.REDIS_URL)
    channel = invalidation.channel(settings.REDIS_URL)
    direct = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2)
    with Forwarder((real.hostname, real.port or 6379)) as forwarder:
        env = {"REDIS_URL": f"redis://127.0.0.1:{forwarder.port}{real.path}"}
        baseline = subscribers(direct, channel)
        with GatewayProcess(env=env, name="subscriber") as gateway, httpx.Client(timeout=10) as client:

            def chat(model: str = "chat") -> int:
                body = {"model": model, "messages": MESSAGES}
                headers = {"Authorization": f"Bearer {token}"}
                return client.post(f"{gateway.url}/v1/chat/completions", json=body, headers=headers).status_code

            subscribed_after = wait_for(lambda: subscribers(direct, channel) == baseline + 1, timeout=10)
            assert chat() == 200 and chat("chat-cut") == 200
            forwarder.cut()  # every connection closed, new ones refused: a Redis restart
            dropped_after = wait_for(lambda: subscribers(direct, channel) == baseline, timeout=5)
            # Published while its subscription is down: only the version poll can tell it.
            lifecycle.stop_endpoint(stopped_during_cut, actor=world.alice)
            refused_without_pubsub_after = wait_for(lambda: chat("chat-cut") == 409, timeout=3)
            time.sleep(0.5)  # its reconnects are refused meanwhile
            forwarder.restore()
            resubscribed_after = wait_for(lambda: subscribers(direct, channel) == baseline + 1, timeout=10)
            lifecycle.stop_endpoint(endpoint, actor=world.alice)  # this process publishes
            refused_after = wait_for(lambda: chat() == 409, timeout=3)
            log = gateway.log()
            context = gateway.describe()
    direct.close()
    report(
        subscribers_baseline=baseline,
        subscribed_after_start_s=_round(subscribed_after),
        dropped_after_cut_s=_round(dropped_after),
        stop_refused_without_pubsub_after_s=_round(refused_without_pubsub_after),
        resubscribed_after_restore_s=_round(resubscribed_after),
        stop_refused_after_s=_round(refused_after),
        failure_log_lines=log.count("invalidation subscription (Redis) is failing"),
        recovery_log_lines=log.count("invalidation subscription (Redis) recovered"),
    )
    assert subscribed_after is not None, f"never subscribed\n{context}"
    assert dropped_after is not None, "the cut did not end the subscription"
    assert resubscribed_after is not None, f"did not subscribe again after Redis came back\n{context}"
    assert refused_after is not None and refused_after < GUARANTEE_SECONDS, f"{refused_after}\n{context}"
    assert refused_without_pubsub_after is not None and refused_without_pubsub_after < GUARANTEE_SECONDS, context
    assert log.count("invalidation subscription (Redis) is failing") == 1, context
    assert log.count("invalidation subscription (Redis) recovered") == 1, context
    assert "Task was destroyed but it is pending" not in log, context


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)
