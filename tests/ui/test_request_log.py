"""The request log pages: filters, the detail view, and who sees callers and failure reasons."""

from __future__ import annotations

import html
import re
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from endpoints.models import RequestLog
from tests.factories import make_user
from tokens import services as token_services

pytestmark = pytest.mark.django_db

PROVIDER_MESSAGE = "Incorrect API key provided: sk-...AAAA"


@pytest.fixture
def endpoint(make_endpoint, key):
    return make_endpoint(key, name="chat-prod")


@pytest.fixture
def logs(endpoint, alice, bob):
    """Three requests: bob's success after a failover, bob's failure, alice's success."""
    now = timezone.now()
    bob_token, _ = token_services.create_token(user=bob, name="bob-laptop")
    failed = [{"model": "openai/gpt-4o", "status": 401, "message": PROVIDER_MESSAGE}]

    def log(minutes_ago: int, **fields) -> RequestLog:
        defaults = {
            "endpoint": endpoint,
            "request_id": uuid.uuid4(),
            "status_code": 200,
            "latency_ms": 120.0,
            "model_served": "openai/gpt-4o",
            "created_at": now - timedelta(minutes=minutes_ago),
        }
        return RequestLog.objects.create(**{**defaults, **fields})

    return {
        "failover": log(3, user_id=bob.pk, token_id=bob_token.pk, attempts=2, failed_attempts=failed),
        "failure": log(
            2,
            user_id=bob.pk,
            token_id=bob_token.pk,
            status_code=502,
            error_type="provider_error",
            error_message="All models failed: " + PROVIDER_MESSAGE,
            failed_attempts=failed,
            model_served="",
        ),
        "alice": log(1, user_id=alice.pk, status_code=200, model_served="openai/gpt-4o-mini", ttft_ms=40.0),
    }


def url(endpoint, query: str = "") -> str:
    return f"/endpoints/{endpoint.public_id}/requests" + (f"?{query}" if query else "")


def shown_ids(response) -> set[int]:
    return {row["log"].pk for row in response.context["rows"]}


def test_editors_see_every_request_with_callers_tokens_and_reasons(client_for, alice, endpoint, logs):
    response = client_for(alice).get(url(endpoint))
    assert response.status_code == 200
    assert shown_ids(response) == {log.pk for log in logs.values()}
    page = response.content.decode()
    assert "bob · bob-laptop" in page
    assert "All models failed" in page
    # Newest first.
    newest_first = [logs["alice"].pk, logs["failure"].pk, logs["failover"].pk]
    assert [row["log"].pk for row in response.context["rows"]] == newest_first


def test_a_reader_sees_traffic_but_not_other_callers_nor_their_failure_reasons(client_for, endpoint, logs, share):
    reader = make_user("reader")
    share(endpoint, reader, "READ")
    response = client_for(reader).get(url(endpoint))
    assert response.status_code == 200
    assert shown_ids(response) == {log.pk for log in logs.values()}
    page = response.content.decode()
    assert "bob" not in page and "bob-laptop" not in page
    assert "All models failed" not in page and PROVIDER_MESSAGE not in page
    assert "another user" in page
    # No caller filter for someone who may not see callers.
    assert 'name="caller"' not in page


def test_a_caller_sees_the_reasons_of_their_own_requests(client_for, bob, endpoint, logs, share):
    share(endpoint, bob, "USE")
    response = client_for(bob).get(url(endpoint))
    rows = {row["log"].pk: row for row in response.context["rows"]}
    assert rows[logs["failure"].pk]["details"] is True
    assert rows[logs["alice"].pk]["details"] is False
    detail = client_for(bob).get(f"/endpoints/{endpoint.public_id}/requests/{logs['failure'].pk}")
    assert PROVIDER_MESSAGE in detail.content.decode()
    other = client_for(bob).get(f"/endpoints/{endpoint.public_id}/requests/{logs['alice'].pk}")
    assert other.status_code == 200
    other_page = other.content.decode()
    assert "another user" in other_page and "alice" not in other_page


def test_someone_without_read_gets_404_for_the_list_and_a_request(client_for, endpoint, logs):
    outsider = make_user("outsider")
    client = client_for(outsider)
    assert client.get(url(endpoint)).status_code == 404
    assert client.get(f"/endpoints/{endpoint.public_id}/requests/{logs['alice'].pk}").status_code == 404


def test_anonymous_is_sent_to_log_in(client_for, endpoint):
    response = client_for(None).get(url(endpoint))
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("status=ok", {"failover", "alice"}),
        ("status=error", {"failure"}),
        ("status=5xx", {"failure"}),
        ("status=4xx", set()),
        ("status=failover", {"failover"}),
        ("model=openai/gpt-4o-mini", {"alice"}),
        ("caller=bob", {"failover", "failure"}),
        ("caller=BOB", {"failover", "failure"}),
        ("caller=nobody", set()),
    ],
)
def test_each_filter_narrows_to_exactly_its_requests(client_for, alice, endpoint, logs, query, expected):
    response = client_for(alice).get(url(endpoint, query))
    assert response.status_code == 200
    assert shown_ids(response) == {logs[name].pk for name in expected}


def test_a_request_id_finds_its_request(client_for, alice, endpoint, logs):
    response = client_for(alice).get(url(endpoint, f"request_id={logs['failure'].request_id}"))
    assert shown_ids(response) == {logs["failure"].pk}


@pytest.mark.parametrize("query", ["status=teapot", "request_id=not-a-uuid", "model=nope/never", "since=yesterday"])
def test_bad_filters_are_explained_not_a_500(client_for, alice, endpoint, logs, query):
    response = client_for(alice).get(url(endpoint, query))
    assert response.status_code == 200
    assert shown_ids(response) == set()
    assert "These filters cannot be applied" in response.content.decode()


def test_htmx_filtering_swaps_only_the_table(client_for, alice, endpoint, logs):
    response = client_for(alice, htmx=True).get(url(endpoint, "status=error"))
    page = response.content.decode()
    assert page.lstrip().startswith('<div id="request-table"')
    assert "<html" not in page


def test_the_detail_view_tells_the_whole_story_of_a_failover(client_for, alice, endpoint, logs):
    log = logs["failover"]
    response = client_for(alice).get(f"/endpoints/{endpoint.public_id}/requests/{log.pk}")
    assert response.status_code == 200
    page = response.content.decode()
    assert str(log.request_id) in page
    assert PROVIDER_MESSAGE in page
    assert "served the request" in page
    assert "bob-laptop" in page


def test_a_request_of_another_endpoint_is_not_found_under_this_one(client_for, alice, make_endpoint, key, logs):
    other = make_endpoint(key, name="other")
    response = client_for(alice).get(f"/endpoints/{other.public_id}/requests/{logs['alice'].pk}")
    assert response.status_code == 404


def test_the_detail_page_links_to_the_log_and_each_recent_request(client_for, alice, endpoint, logs):
    page = client_for(alice).get(f"/endpoints/{endpoint.public_id}/").content.decode()
    assert f"/endpoints/{endpoint.public_id}/requests" in page
    assert f"/endpoints/{endpoint.public_id}/requests/{logs['alice'].pk}" in page


def test_the_endpoint_page_shows_routing_to_all_and_callers_to_editors(client_for, alice, endpoint, logs, share):
    editor_page = client_for(alice).get(f"/endpoints/{endpoint.public_id}/").content.decode()
    assert "Routing, last 24 hours" in editor_page
    assert "Usage by caller, last 24 hours" in editor_page and "bob-laptop" in editor_page
    reader = make_user("reader")
    share(endpoint, reader, "READ")
    reader_page = client_for(reader).get(f"/endpoints/{endpoint.public_id}/").content.decode()
    assert "Routing, last 24 hours" in reader_page
    assert "Usage by caller" not in reader_page and "bob-laptop" not in reader_page
    # The polled fragment follows the same rule.
    fragment = client_for(reader, htmx=True).get(f"/endpoints/{endpoint.public_id}/activity").content.decode()
    assert "bob-laptop" not in fragment and "Routing, last 24 hours" in fragment


def _text(fragment: str) -> str:
    """``fragment`` as a reader reads it: no tags, entities decoded, spaces collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", fragment)).split())


def test_the_status_filter_starts_with_any_status(client_for, alice, endpoint, logs):
    page = client_for(alice).get(url(endpoint)).content.decode()
    status_select = re.search(r'<select name="status".*?</select>', page, re.S).group(0)
    assert re.findall(r"<option[^>]*>(.*?)</option>", status_select)[0] == "Any status"


@pytest.mark.parametrize(
    ("query", "error"),
    [
        ("request_id=not-a-uuid", "Request id: Enter a valid UUID."),
        ("model=nope/never", "Model served: Select a valid choice. nope/never is not one of the available choices."),
        ("status=teapot", "Status: Select a valid choice. teapot is not one of the available choices."),
    ],
)
def test_a_bad_filter_is_named_by_its_label(client_for, alice, endpoint, logs, query, error):
    page = client_for(alice).get(url(endpoint, query)).content.decode()
    alert = re.search(r'<div class="alert alert-error".*?</div>', page, re.S).group(0)
    assert [_text(item) for item in re.findall(r"<li>(.*?)</li>", alert, re.S)] == [error]


def test_request_times_keep_their_seconds_on_the_log_and_the_detail(client_for, alice, endpoint, logs):
    """app.js shows a ``datetime-seconds`` time with its seconds; requests a second apart must differ."""
    listing = client_for(alice).get(url(endpoint)).content.decode()
    assert re.findall(r'data-local-time="([^"]*)"', listing) == ["datetime-seconds"] * 3
    detail = client_for(alice).get(f"/endpoints/{endpoint.public_id}/requests/{logs['alice'].pk}").content.decode()
    assert re.findall(r'data-local-time="([^"]*)"', detail) == ["datetime-seconds"]


def _reader_note(client, endpoint, log) -> str:
    page = client.get(f"/endpoints/{endpoint.public_id}/requests/{log.pk}").content.decode()
    return _text(re.search(r'<p class="muted mb-0">(.*?)</p>', page, re.S).group(1))


READER_NOTE = "Why an attempt failed is shown to the caller and to the endpoint's editors."


def test_a_reader_is_told_whether_a_request_was_served_and_after_how_many_failures(client_for, endpoint, logs, share):
    reader = make_user("reader")
    share(endpoint, reader, "READ")
    failed = [{"model": "openai/gpt-4o", "status": 500, "message": PROVIDER_MESSAGE}]
    now = timezone.now()
    twice = RequestLog.objects.create(
        endpoint=endpoint, status_code=502, latency_ms=9, attempts=2, failed_attempts=failed * 2, created_at=now
    )
    refused = RequestLog.objects.create(
        endpoint=endpoint, status_code=429, latency_ms=1, error_message="Slow down", created_at=now
    )
    client = client_for(reader)
    assert _reader_note(client, endpoint, logs["alice"]) == f"Served by openai/gpt-4o-mini. {READER_NOTE}"
    assert (
        _reader_note(client, endpoint, logs["failover"])
        == f"Served by openai/gpt-4o after 1 failed attempt. {READER_NOTE}"
    )
    assert _reader_note(client, endpoint, logs["failure"]) == f"Not served: 1 attempt failed. {READER_NOTE}"
    assert _reader_note(client, endpoint, twice) == f"Not served: 2 attempts failed. {READER_NOTE}"
    assert _reader_note(client, endpoint, refused) == f"Not served. {READER_NOTE}"


def _recent_reasons(page: str) -> list[str]:
    """The failure reasons under the endpoint page's recent requests, newest request first."""
    recent = page.split('id="recent-requests"', 1)[1].split("</table>", 1)[0]
    return [_text(reason) for reason in re.findall(r'<div class="ep-why small"[^>]*>(.*?)</div>', recent, re.S)]


def test_the_endpoint_page_shows_a_caller_the_reasons_of_their_own_recent_requests(
    client_for, alice, bob, endpoint, logs, share
):
    """The same rule as the request log (``request_log.can_see_details``), on the page and its refresh."""
    RequestLog.objects.create(
        endpoint=endpoint,
        user_id=alice.pk,
        status_code=500,
        latency_ms=5,
        error_message="alice's own reason",
        created_at=timezone.now(),
    )
    share(endpoint, bob, "USE")
    bobs = f"openai/gpt-4o → 401: {PROVIDER_MESSAGE}"
    for path in (f"/endpoints/{endpoint.public_id}/", f"/endpoints/{endpoint.public_id}/activity"):
        assert _recent_reasons(client_for(bob).get(path).content.decode()) == [bobs, bobs], path
    editor = client_for(alice).get(f"/endpoints/{endpoint.public_id}/").content.decode()
    assert _recent_reasons(editor) == ["alice's own reason", bobs, bobs]
