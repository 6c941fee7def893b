"""The dashboard: running endpoints, last-hour traffic and recent activity, only for what the user can see."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from endpoints.models import Endpoint, RequestLog, Status
from gateway_site.dashboard import traffic
from keys import services as key_services

pytestmark = pytest.mark.django_db


def run(endpoint: Endpoint) -> None:
    Endpoint.objects.filter(pk=endpoint.pk).update(status=Status.RUNNING, started_at=timezone.now())


def log(endpoint: Endpoint, *, minutes_ago: float = 1, status: int = 200, latency: float = 100, tokens=(10, 5)):
    return RequestLog.objects.create(
        endpoint=endpoint,
        status_code=status,
        latency_ms=latency,
        prompt_tokens=tokens[0],
        completion_tokens=tokens[1],
        cost_usd="0.01",
        created_at=timezone.now() - timedelta(minutes=minutes_ago),
    )


@pytest.fixture
def charlies_endpoint(charlie, make_endpoint):
    key = key_services.create_key(actor=charlie, name="charlies", provider="openai", secret="sk-charlie-000011112222")
    endpoint = make_endpoint(key, name="charlies-ep", owner=charlie)
    run(endpoint)
    return endpoint


def test_it_shows_running_endpoints_the_user_can_see(client_for, alice, key, make_endpoint, charlies_endpoint):
    running = make_endpoint(key, name="chat-prod")
    make_endpoint(key, name="stopped-one")
    run(running)
    response = client_for(alice).get("/")
    content = response.content.decode()
    assert response.status_code == 200
    assert "chat-prod" in content and 'badge badge-dot badge-running">Running' in content
    assert "stopped-one" not in content.split("Running endpoints")[1].split("Recent activity")[0]
    assert "charlies-ep" not in content


def test_traffic_sums_only_visible_endpoints(client_for, alice, key, make_endpoint, charlies_endpoint):
    endpoint = make_endpoint(key, name="chat-prod")
    for latency in range(1, 21):
        log(endpoint, latency=latency * 10)
    log(endpoint, status=502, latency=999)
    log(endpoint, minutes_ago=90)  # outside the hour
    for _ in range(50):
        log(charlies_endpoint)

    context = client_for(alice).get("/").context
    summary = context["traffic"]
    assert summary["requests"] == 21
    assert summary["errors"] == 1
    assert summary["p95_ms"] == 200
    assert summary["tokens"] == 21 * 15
    assert summary["cost"] == pytest.approx(0.21)


def test_the_chart_data_is_rendered_into_a_json_script_tag(client_for, alice, key, make_endpoint):
    endpoint = make_endpoint(key, name="chat-prod")
    log(endpoint, minutes_ago=0)
    log(endpoint, minutes_ago=0, status=500)
    content = client_for(alice).get("/").content.decode()
    data = json.loads(content.split('<script id="traffic-data" type="application/json">', 1)[1].split("</script>")[0])
    assert len(data["labels"]) == len(data["requests"]) == len(data["errors"]) == 12
    assert data["requests"][-1] == 2 and data["errors"][-1] == 1
    assert sum(data["requests"]) == 2
    assert "chart-4.6.1.umd.min.js" in content and "js/dashboard.js" in content


def test_traffic_buckets_are_five_minutes_on_clock_boundaries(alice, key, make_endpoint):
    endpoint = make_endpoint(key, name="chat-prod")
    now = datetime(2026, 1, 1, 12, 7, 30, tzinfo=UTC)
    for minute in (12 * 60 + 7, 12 * 60 + 5, 12 * 60 + 4, 11 * 60 + 10, 11 * 60 + 4):
        RequestLog.objects.create(
            endpoint=endpoint,
            status_code=200,
            latency_ms=1,
            created_at=datetime(2026, 1, 1, minute // 60, minute % 60, 15, tzinfo=UTC),
        )
    series = traffic(Endpoint.objects.all(), now=now)["series"]
    assert series["labels"][0] == "2026-01-01T11:10:00+00:00"
    assert series["labels"][-1] == "2026-01-01T12:05:00+00:00"
    assert series["requests"][-1] == 2  # 12:05 and 12:07
    assert series["requests"][-2] == 1  # 12:04
    assert series["requests"][0] == 1  # 11:10; 11:04 is before the first bucket


def test_an_empty_dashboard_explains_what_to_do(client_for, charlie):
    content = client_for(charlie).get("/").content.decode()
    assert "Nothing running" in content
    assert "No activity" in content


def test_recent_activity_shows_only_visible_events(client_for, alice, bob, key, share, charlies_endpoint):
    share(key, bob, "READ")
    alice_view = client_for(alice).get("/").content.decode()
    assert "openai-prod" in alice_view and "charlies-ep" not in alice_view
    bob_view = client_for(bob).get("/").content.decode()
    assert "openai-prod" in bob_view
    assert "charlies" not in bob_view


def test_recent_activity_is_capped_at_ten(client_for, alice, key):
    for number in range(12):
        key_services.update_key(key, actor=alice, description=f"v{number}")
    context = client_for(alice).get("/").context
    assert len(context["events"]) == 10


def test_endpoints_in_error_are_called_out(client_for, alice, key, make_endpoint):
    broken = make_endpoint(key, name="broken-ep")
    Endpoint.objects.filter(pk=broken.pk).update(status=Status.ERROR)
    content = client_for(alice).get("/").content.decode()
    assert "1 endpoint is in error" in content
    assert f'href="/endpoints/{broken.public_id}/">broken-ep' in content
