"""The request log through the API, the database aggregations behind the charts, and retention."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from endpoints import aggregates, request_log
from endpoints.charts import bucket_series
from endpoints.metrics import summarize
from endpoints.models import RequestLog
from endpoints.tasks import purge_request_logs
from gateway_site import housekeeping
from sharing import services as sharing
from sharing.levels import Level
from tests.factories import make_user
from tokens import services as token_services

pytestmark = pytest.mark.django_db

API = "/api/3.0/mlflow/gateway/endpoints/{}/requests/"
MESSAGE = "Rate limit reached for gpt-4o"


@pytest.fixture
def endpoint(alice, make_endpoint):
    return make_endpoint(alice)


def add(endpoint, *, when=None, **fields) -> RequestLog:
    values = {
        "endpoint": endpoint,
        "request_id": uuid.uuid4(),
        "status_code": 200,
        "latency_ms": 100.0,
        "model_served": "openai/gpt-4o",
        "created_at": when or timezone.now(),
        **fields,
    }
    return RequestLog.objects.create(**values)


@pytest.fixture
def bobs_failure(endpoint, bob):
    token, _ = token_services.create_token(user=bob, name="ci-runner")
    return add(
        endpoint,
        user_id=bob.pk,
        token_id=token.pk,
        status_code=429,
        error_type="rate_limit_error",
        error_message=MESSAGE,
        failed_attempts=[{"model": "openai/gpt-4o", "status": 429, "message": MESSAGE}],
        model_served="",
    )


# -- the API -------------------------------------------------------------------------------------


def test_an_editor_reads_callers_and_reasons(api, alice, endpoint, bobs_failure):
    response = api(alice).get(API.format(endpoint.public_id))
    assert response.status_code == 200
    (row,) = response.json()["results"]
    assert row["request_id"] == str(bobs_failure.request_id)
    assert row["caller"] == {"username": "bob", "token_name": "ci-runner"}
    assert row["error_message"] == MESSAGE
    assert row["failed_attempts"] == [{"model": "openai/gpt-4o", "status": 429, "message": MESSAGE}]


def test_a_reader_gets_the_traffic_without_callers_or_reasons(api, endpoint, bobs_failure):
    reader = make_user("reader")
    sharing.grant(endpoint, reader, Level.READ)
    response = api(reader).get(API.format(endpoint.public_id))
    (row,) = response.json()["results"]
    assert row["status_code"] == 429 and row["attempts"] == 1
    assert row["caller"] is None and row["error_message"] is None and row["failed_attempts"] is None
    # The caller filter is an editor's: a reader's is ignored rather than answered.
    assert api(reader).get(API.format(endpoint.public_id) + "?caller=nobody").json()["count"] == 1


def test_the_caller_reads_their_own_reasons(api, bob, endpoint, bobs_failure):
    sharing.grant(endpoint, bob, Level.USE)
    response = api(bob).get(API.format(endpoint.public_id) + f"{bobs_failure.pk}/")
    assert response.status_code == 200
    assert response.json()["error_message"] == MESSAGE
    assert response.json()["caller"]["username"] == "bob"


@pytest.mark.parametrize(
    ("viewer", "level", "shown"),
    [
        ("alice", Level.MANAGE, [True, True, True]),
        ("bob", Level.USE, [True, False, False]),
        ("reader", Level.READ, [False] * 3),
    ],
)
def test_with_details_says_per_request_whose_reasons_the_viewer_reads(
    endpoint, alice, bob, bobs_failure, viewer, level, shown
):
    """The editors read every reason, a caller those of their own requests, a reader none (anonymous ones too)."""
    alices = add(endpoint, user_id=alice.pk, status_code=500, error_message="alice's reason")
    anonymous = add(endpoint, status_code=500, error_message="no caller")
    users = {"alice": alice, "bob": bob, "reader": make_user("reader")}
    rows = request_log.with_details([bobs_failure, alices, anonymous], users[viewer], level)
    assert [(row["log"], row["details"]) for row in rows] == list(
        zip([bobs_failure, alices, anonymous], shown, strict=True)
    )


def test_without_read_the_log_is_not_found(api, endpoint, bobs_failure):
    outsider = make_user("outsider")
    assert api(outsider).get(API.format(endpoint.public_id)).status_code == 404
    assert api(outsider).get(API.format(endpoint.public_id) + f"{bobs_failure.pk}/").status_code == 404
    assert api(None).get(API.format(endpoint.public_id)).status_code == 401


def test_api_filters_and_their_errors(api, alice, endpoint, bobs_failure):
    ok = add(endpoint)
    base = API.format(endpoint.public_id)
    assert [row["id"] for row in api(alice).get(base + "?status=ok").json()["results"]] == [ok.pk]
    assert [row["id"] for row in api(alice).get(base + "?status=429").json()["results"]] == [bobs_failure.pk]
    assert [row["id"] for row in api(alice).get(base + "?caller=bob").json()["results"]] == [bobs_failure.pk]
    bad = api(alice).get(base + "?status=teapot&request_id=nope")
    assert bad.status_code == 400
    assert set(bad.json()) >= {"status", "request_id"}


def test_a_request_of_another_endpoint_is_404(api, alice, make_endpoint, endpoint, bobs_failure):
    other = make_endpoint(alice, name="other")
    assert api(alice).get(API.format(other.public_id) + f"{bobs_failure.pk}/").status_code == 404
    assert api(alice).get(API.format(endpoint.public_id) + "abc/").status_code == 404


# -- aggregations in the database ----------------------------------------------------------------


def test_percentiles_are_nearest_rank_computed_by_the_database(endpoint):
    for value in range(1, 101):
        add(endpoint, latency_ms=float(value))
    figures = aggregates.latency_percentiles(RequestLog.objects.filter(endpoint=endpoint))
    assert figures == {None: {"p50": 50.0, "p95": 95.0, "p99": 99.0}}


def test_percentiles_of_one_request_are_that_request(endpoint):
    add(endpoint, latency_ms=42.0)
    assert aggregates.latency_percentiles(RequestLog.objects.all())[None] == {"p50": 42.0, "p95": 42.0, "p99": 42.0}


def test_summary_counts_errors_failovers_tokens_and_cost(endpoint):
    add(endpoint, latency_ms=10.0, prompt_tokens=3, completion_tokens=4, cost_usd="0.5")
    add(endpoint, latency_ms=20.0, attempts=2, failed_attempts=[{"model": "a", "status": 500, "message": "x"}])
    add(endpoint, latency_ms=30.0, status_code=502)
    summary = summarize(RequestLog.objects.filter(endpoint=endpoint))
    assert summary["request_count"] == 3
    assert summary["error_count"] == 1
    assert summary["failover_count"] == 1
    assert summary["latency_ms"] == {"p50": 20.0, "p95": 30.0, "p99": 30.0}
    assert (summary["prompt_tokens"], summary["completion_tokens"], summary["cost_usd"]) == (3, 4, 0.5)


def test_chart_buckets_group_by_the_minute_in_the_database(endpoint):
    now = datetime(2026, 12, 2, 10, 30, 30, tzinfo=UTC)
    add(endpoint, when=now - timedelta(seconds=20), latency_ms=100.0)  # 10:30:10, the current bucket
    add(endpoint, when=now - timedelta(seconds=29), latency_ms=300.0)  # 10:30:01
    add(endpoint, when=now - timedelta(seconds=31), latency_ms=50.0, status_code=500)  # 10:29:59
    add(
        endpoint,
        when=now - timedelta(minutes=5),
        attempts=3,
        failed_attempts=[{"model": "a", "status": 500, "message": "x"}, {"model": "b", "status": 503, "message": "y"}],
    )
    series = bucket_series(endpoint, span=timedelta(hours=1), bucket=timedelta(minutes=1), now=now)
    assert len(series["labels"]) == 60
    assert series["labels"][-1] == "2026-12-02T10:30:00+00:00"
    assert series["requests"][-1] == 2 and series["errors"][-1] == 0
    assert series["latency_p50"][-1] == 100.0 and series["latency_p95"][-1] == 300.0
    assert series["requests"][-2] == 1 and series["errors"][-2] == 1
    assert series["failovers"][-6] == 1 and series["failed_attempts"][-6] == 2
    assert series["latency_p50"][0] is None and series["requests"][0] == 0


def test_model_traffic_compares_served_share_with_configured_weight(alice, make_endpoint, openai_key):
    from tests.endpoints.conftest import model_body

    endpoint = make_endpoint(
        alice,
        name="split",
        models=[
            {**model_body(openai_key), "model_name": "gpt-4o", "weight": 0.75},
            {**model_body(openai_key), "model_name": "gpt-4o-mini", "weight": 0.25},
            {**model_body(openai_key), "model_name": "gpt-3.5-turbo", "weight": 1.0, "priority": 2},
        ],
    )
    models = {model.model_name: model for model in endpoint.models.all()}
    for _ in range(3):
        add(endpoint, endpoint_model_id=models["gpt-4o"].pk)
    add(endpoint, endpoint_model_id=models["gpt-3.5-turbo"].pk)
    add(endpoint, endpoint_model_id=models["gpt-4o-mini"].pk, status_code=500)  # failed: not served
    rows = {row["model"].model_name: row for row in request_log.model_traffic(endpoint, timezone.now() - timedelta(1))}
    assert rows["gpt-4o"]["configured_share"] == 0.75 and rows["gpt-4o"]["served_share"] == 0.75
    assert rows["gpt-4o-mini"]["configured_share"] == 0.25 and rows["gpt-4o-mini"]["served"] == 0
    assert rows["gpt-3.5-turbo"]["configured_share"] == 1.0 and rows["gpt-3.5-turbo"]["served_share"] == 0.25


def test_usage_by_caller_groups_by_user_and_token(endpoint, alice, bob):
    token, _ = token_services.create_token(user=bob, name="batch")
    add(endpoint, user_id=bob.pk, token_id=token.pk, prompt_tokens=10, completion_tokens=5, cost_usd="0.25")
    add(endpoint, user_id=bob.pk, token_id=token.pk, status_code=500)
    add(endpoint, user_id=alice.pk)
    rows = request_log.usage_by_caller(endpoint, timezone.now() - timedelta(hours=1))
    assert [(row["username"], row["token_name"], row["requests"], row["errors"]) for row in rows] == [
        ("bob", "batch", 2, 1),
        ("alice", "", 1, 0),
    ]
    assert rows[0]["tokens"] == 15 and rows[0]["cost_usd"] == 0.25


# -- retention -----------------------------------------------------------------------------------


def test_purge_deletes_only_what_is_past_retention_in_batches(settings, endpoint):
    settings.GATEWAY_REQUEST_LOG_RETENTION_DAYS = 7
    now = timezone.now()
    old = [add(endpoint, when=now - timedelta(days=8, minutes=i)) for i in range(5)]
    kept = add(endpoint, when=now - timedelta(days=6))
    assert request_log.purge_expired(batch=2) == len(old)
    assert list(RequestLog.objects.values_list("pk", flat=True)) == [kept.pk]


def test_zero_retention_keeps_everything(settings, endpoint):
    settings.GATEWAY_REQUEST_LOG_RETENTION_DAYS = 0
    add(endpoint, when=timezone.now() - timedelta(days=3650))
    assert request_log.purge_expired() == 0
    assert RequestLog.objects.count() == 1


def test_the_task_the_command_and_housekeeping_purge(settings, endpoint):
    settings.GATEWAY_REQUEST_LOG_RETENTION_DAYS = 1
    ancient = timezone.now() - timedelta(days=2)
    add(endpoint, when=ancient)
    assert purge_request_logs.delay().get() == 1
    add(endpoint, when=ancient)
    out = StringIO()
    call_command("purge_request_logs", stdout=out)
    assert "Deleted 1 request log(s) older than 1 day(s)." in out.getvalue()
    add(endpoint, when=ancient)
    assert housekeeping.run_once() == 1
    assert RequestLog.objects.count() == 0


def test_celery_beat_schedules_the_purge(settings):
    from gateway_site.celery import app

    (entry,) = [e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == "endpoints.tasks.purge_request_logs"]
    assert entry["schedule"] == 3600.0
    assert "endpoints.tasks.purge_request_logs" in app.tasks


def test_housekeeping_runs_in_serve_only_without_a_broker(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    assert housekeeping.needed() is True
    settings.CELERY_TASK_ALWAYS_EAGER = False
    assert housekeeping.needed() is False
