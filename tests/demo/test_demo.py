"""``make demo``'s setup and traffic, in a short mode: the dashboard and the charts show what it sent.

The fake providers, the demo's users, team, keys, endpoints and scorers
(``gateway_site.demo.seed``), the gateway under uvicorn in a thread, and a
few seconds of ``Traffic`` with its burst of failures; then the pages the
demo script (docs/demo.md) walks through.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import threading
import time
from pathlib import Path

import httpx
import pytest
from django.test import Client

from endpoints.models import Binding, Endpoint, RequestLog
from gateway_site import demo
from keys.models import Key
from scorers import services as scorer_services
from scorers.models import Scorer
from sharing import services as sharing
from sharing.levels import Level
from teams.models import Team
from tests.servers import GatewayServer, drain_usage, free_port

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _start_probes(settings):
    settings.GATEWAY_START_PROBES = "free"  # as `make demo` runs: each model is listed by its fake provider


@pytest.fixture
def providers():
    started = demo.FakeProviders().start()
    yield started
    started.stop()


@pytest.fixture
def gateway(django_db_blocker):
    server = GatewayServer().start()
    yield server
    with django_db_blocker.unblock():
        server.stop()


def signed_in(username: str) -> Client:
    client = Client()
    assert client.login(username=username, password=demo.USERS[username]["password"])
    return client


def test_the_demo_sets_up_a_team_its_endpoints_and_scorers(providers):
    seeded = demo.seed(providers)
    assert sorted(seeded.users) == ["admin", "alice", "bob"]
    team = Team.objects.get(group__name=demo.TEAM)
    assert sorted(team.group.user_set.values_list("username", flat=True)) == ["alice", "bob"]
    running = {endpoint.name: endpoint for endpoint in Endpoint.objects.filter(status="running")}
    assert sorted(running) == sorted(seeded.endpoints)
    chat = running["support-chat"]
    assert [(m.model_name, m.weight, m.priority) for m in chat.models.all()] == [
        ("gpt-4o-mini", 0.7, 1),  # at contoso, which fails on demand
        ("gpt-4o", 0.3, 1),
        ("gpt-4.1", 1.0, 2),
    ]
    assert running["docs-embeddings"].endpoint_type == "embedding"
    assert [m.provider for m in running["gemini-native"].models.all()] == ["gemini"]
    for scorer in Scorer.objects.all():
        assert Binding.objects.filter(endpoint=scorer.endpoint, resource_id=scorer.public_id).exists()
    # What the hand-off suggests for a new scorer on alice's keys is served (docs/demo.md, step 4).
    suggested = scorer_services.judge_model(seeded.users["alice"])
    assert suggested["key"] == Key.objects.get(name="northwind-openai").public_id
    assert suggested["model"] in demo.MODELS["northwind"]
    bob = seeded.users["bob"]
    assert sharing.get_level(bob, chat) == Level.USE  # through the team
    assert sharing.get_level(bob, Scorer.objects.get(name="Correctness")) == Level.USE


def test_a_short_run_of_traffic_shows_on_the_dashboard_with_failover(providers, gateway):
    seeded = demo.seed(providers)
    traffic = demo.Traffic(gateway.url, seeded, providers, duration=6, rate=25, rng=random.Random(7))
    traffic.run()
    drain_usage()
    sent = sum(count for kind, count in traffic.sent.items() if kind != "error")
    assert traffic.sent["error"] == 0 and sent > 20
    assert set(traffic.sent) >= {"chat", "embeddings", "gemini", "scorer"}
    assert set(traffic.statuses) == {200}, traffic.statuses  # failover hid the burst from every caller
    # Each call is one row of its endpoint's log (a scorer run, its judge's).
    assert RequestLog.objects.count() == sent
    # The burst: 70% of the chat went to the failing model; its attempts failed and others served them.
    failed_over = RequestLog.objects.filter(endpoint__name="support-chat", attempts__gt=1)
    assert failed_over.exists()
    assert all(attempt["model"] == "openai/gpt-4o-mini" for log in failed_over for attempt in log.failed_attempts)
    assert {log.model_served for log in failed_over} <= {"openai/gpt-4o", "openai/gpt-4.1"}
    assert not providers[demo.FAILING].state.configs_snapshot()[demo.FAILING_MODEL].get("fail_status")

    page = signed_in("alice").get("/")
    assert page.context["traffic"]["requests"] == sent
    assert {endpoint.name for endpoint in page.context["running"]} == set(seeded.endpoints)
    chat = Endpoint.objects.get(name="support-chat")
    metrics = signed_in("alice").get(f"/endpoints/{chat.public_id}/activity", HTTP_HX_REQUEST="true")
    assert metrics.status_code == 200
    # bob sees the team's endpoints and their traffic too.
    assert signed_in("bob").get("/").context["traffic"]["requests"] == sent


def test_bin_demo_runs_the_whole_demo_and_ctrl_c_stops_everything_it_started(tmp_path):
    """`make demo`'s script on a fresh data directory: it serves, drives traffic, and stops on SIGINT."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "GATEWAY_", "DATABASE_URL", "REDIS_"))}
    env.update(GATEWAY_DEMO_DIR=str(tmp_path), GATEWAY_PORT=str(port), DEMO_SECONDS="3")
    env["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
    demo_process = subprocess.Popen(  # noqa: S603 - our own script
        [str(ROOT / "bin" / "demo")], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(demo_process.stdout), daemon=True)
    reader.start()
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while not any(line.startswith("Traffic done:") for line in lines):
            assert demo_process.poll() is None, "".join(lines)
            assert time.monotonic() < deadline, "".join(lines)
            time.sleep(0.2)
        output = "".join(lines)
        assert f"The AI Gateway demo is running at {url}/" in output
        assert "alice  password alice-demo" in output and "docs/demo.md" in output
        client = httpx.Client(base_url=url, timeout=10)
        assert client.get("/health/ready").status_code == 200
        login = client.get("/accounts/login/")
        response = client.post(
            "/accounts/login/",
            data={"username": "bob", "password": "bob-demo", "csrfmiddlewaretoken": login.cookies["csrftoken"]},
        )
        assert response.status_code == 302
        assert "support-chat" in client.get("/").text
    finally:
        demo_process.send_signal(signal.SIGINT)
        try:
            returncode = demo_process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            demo_process.kill()
            raise
    reader.join(timeout=5)
    assert returncode == 0 and lines[-1].strip() == "Demo stopped.", "".join(lines[-20:])
    # The server it started is gone: nothing listens on its port.
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url}/health/live", timeout=2)
