"""The request log and the routing figures in a real browser, over real traffic through the proxy.

alice owns a running chat endpoint on the fake upstream: ``primary`` (priority 1)
and ``backup`` (priority 2, the fallback). Her gateway token sends four requests
with the official OpenAI SDK:

1. ``primary`` refuses it with a 400 (a refusal neither fails over nor cools the
   model down): the client gets the 400, no model served it;
2. ``primary`` now fails with 500: the request fails over and ``backup`` serves it
   (2 attempts);
3. and 4. ``primary`` is cooling down: ``backup`` serves them at once (1 attempt).

alice reads the routing table and the charts on the endpoint page, filters the
request log (htmx swaps the table, the filters land in the URL, a reload keeps
them) and opens the failover: each failed attempt says why. bob, who only READs
the endpoint, sees the same traffic without the callers or the reasons. A bad
filter in the URL is explained on the page, never a 500. No page ever shows the
provider key's secret.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

import pytest
from playwright.sync_api import expect

from tests.factories import make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PROVIDER_SECRET = "sk-request-log-SECRET-0123456789abcdef"
ENDPOINT = "routed-chat"
TOKEN_NAME = "ci-bot"
PRIMARY, BACKUP = "openai/primary", "openai/backup"
REFUSED = "The provider rejected the request: fake failure"  # what the fake upstream's 400 is logged as
FAILED = "The provider failed: fake failure"  # ...and its 500
PROVIDER_WORDS = "fake failure"  # in every reason, and nowhere else
# The whole log, newest first.
STATUSES = ["200", "200", "200", "400"]
MODELS = [BACKUP, BACKUP, BACKUP, "—"]
ATTEMPTS = ["1", "1", "2 (1 failed)", "1 (1 failed)"]
ROWS = "#request-table tbody tr"
READER_NOTE = "Why an attempt failed is shown to the caller and to the endpoint's editors."
# A request's time on the log and its page, localized by app.js: the date (its year), then the time to the second.
LOCAL_TIME_WITH_SECONDS = re.compile(r"\d{4}\D.*\b\d{2}:\d{2}:\d{2}$")


@dataclass(frozen=True)
class World:
    endpoint_id: str
    failover_id: int  # served by backup after primary failed
    refused_id: int  # refused by primary with a 400
    failover_at: datetime  # when the failover was logged

    @property
    def detail(self) -> str:
        return f"/endpoints/{self.endpoint_id}/"

    @property
    def requests(self) -> str:
        return f"/endpoints/{self.endpoint_id}/requests"


def _world(ui, upstream) -> World:
    """alice's running two-model endpoint and her four requests through the proxy (see the module doc).

    Call before the browser starts: it uses the ORM from the test's thread.
    """
    import openai

    from endpoints import lifecycle
    from endpoints import services as endpoint_services
    from endpoints.models import RequestLog
    from endpoints.validation import ModelSpec
    from keys import services as key_services
    from proxy.usage import recorder
    from tokens import services as token_services

    alice = make_user("alice")
    key = key_services.create_key(
        actor=alice, name="fake", provider="openai", secret=PROVIDER_SECRET, api_base=upstream.base_url
    )
    models = [
        ModelSpec(provider="openai", model_name="primary", key_id=key.public_id),
        ModelSpec(provider="openai", model_name="backup", key_id=key.public_id, priority=2),
    ]
    endpoint = endpoint_services.create_endpoint(actor=alice, name=ENDPOINT, endpoint_type="chat", models=models)
    lifecycle.start_endpoint(endpoint, actor=alice)  # the tests' Celery is eager: running on return
    endpoint.refresh_from_db()
    assert endpoint.status == "running", endpoint.last_error
    _, token = token_services.create_token(alice, TOKEN_NAME)
    client = openai.OpenAI(base_url=ui.url("/v1"), api_key=token, max_retries=0, timeout=30)

    def chat():
        return client.chat.completions.with_raw_response.create(
            model=ENDPOINT, messages=[{"role": "user", "content": "hello"}]
        )

    upstream.configure("primary", fail_status=400, fail_times=1)
    with pytest.raises(openai.BadRequestError) as refused:
        chat()
    assert refused.value.response.json()["error"]["message"] == REFUSED
    upstream.configure("primary", fail_status=500)
    served = [chat() for _ in range(3)]
    assert [(r.headers["x-gateway-model"], r.headers["x-gateway-attempts"]) for r in served] == [
        (BACKUP, "2"),
        (BACKUP, "1"),
        (BACKUP, "1"),
    ]
    assert upstream.stats()["hits"] == {"primary": 2, "backup": 3}
    recorder.flush()
    logs = list(RequestLog.objects.filter(endpoint=endpoint).order_by("created_at", "pk"))
    assert [(log.status_code, log.model_served, log.attempts) for log in logs] == [
        (400, "", 1),
        (200, BACKUP, 2),
        (200, BACKUP, 1),
        (200, BACKUP, 1),
    ]
    assert logs[1].failed_attempts == [{"model": PRIMARY, "status": 500, "message": FAILED}]
    return World(
        endpoint_id=endpoint.public_id, failover_id=logs[1].pk, refused_id=logs[0].pk, failover_at=logs[1].created_at
    )


def _cell(page, label: str):
    """Every row's cell of the request log's column ``label``, in order."""
    return page.locator(f"{ROWS} td[data-label='{label}']")


def _detail_value(page, term: str):
    """The value of the request detail page's ``term`` (Status, Caller...)."""
    term_cell = f"dt[normalize-space()='{term}']"
    return page.locator(f"xpath=//dl[contains(@class, 'details')]/{term_cell}/following-sibling::dd[1]")


def _local_time(page, when: datetime) -> re.Pattern:
    """``when`` as the page shows it in the browser's time zone: its year, then HH:MM:SS, whatever the locale."""
    from zoneinfo import ZoneInfo

    local = when.astimezone(ZoneInfo(page.evaluate("Intl.DateTimeFormat().resolvedOptions().timeZone")))
    return re.compile(rf"{local:%Y}\D.*\b{local:%H:%M:%S}$")


def _chart_sums(page, canvas: str) -> dict[str, int]:
    """Each dataset of a chart (by its legend label): the sum over the shown range."""
    page.wait_for_function(f"() => window.Chart && Chart.getChart('{canvas}')")
    return page.evaluate(
        f"""() => Object.fromEntries(Chart.getChart('{canvas}').data.datasets.map(
            d => [d.label, d.data.reduce((a, b) => a + (b || 0), 0)]))"""
    )


def _assert_routing(page) -> None:
    """The routing table: what each model served against its configured share (same for every viewer)."""
    rows = page.locator(".ep-routing-table tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0).locator("td")).to_have_text([PRIMARY, "1", "100%", "0%", "0"])
    expect(rows.nth(1).locator("td")).to_have_text([BACKUP, "2 fallback", "100% of fallback traffic", "100%", "3"])
    assert _chart_sums(page, "chart-models") == {BACKUP: 3}
    assert _chart_sums(page, "chart-failover") == {"Failovers": 1, "Failed attempts (cooldowns)": 2}
    assert _chart_sums(page, "chart-requests") == {"Succeeded": 3, "Failed": 1}


def test_an_owner_follows_a_failover_from_the_charts_to_its_reasons(ui, upstream):
    world = _world(ui, upstream)
    page = ui.new_page()
    ui.sign_in(page, "alice")

    # -- the endpoint page: routing, charts, failover count, recent requests with reasons ------------
    page.goto(world.detail)
    hour = page.locator("#activity-summary .ep-stats[data-range=hour] .ep-stat-value")
    expect(hour.nth(0)).to_have_text("4")
    expect(hour.nth(1)).to_have_text("1 25%")
    _assert_routing(page)
    expect(page.locator("#recent-requests .ep-why")).to_have_text(
        [f"{PRIMARY} → 500: {FAILED}", f"{PRIMARY} → 400: {REFUSED}"]
    )
    callers = page.locator(".ep-callers tbody tr")
    expect(callers).to_have_count(1)
    expect(callers.locator("td").nth(0)).to_have_text("alice")
    expect(callers.locator("td").nth(1)).to_have_text(TOKEN_NAME)
    expect(callers.locator("td").nth(2)).to_have_text("4")
    expect(callers.locator("td").nth(3)).to_have_text("1")
    assert PROVIDER_SECRET not in page.content()
    ui.screenshot(page, "request-log-endpoint-routing")

    # -- the request log: every request, newest first ------------------------------------------------
    page.get_by_role("link", name="All requests, with filters →").click()
    expect(page).to_have_url(ui.url(world.requests))
    expect(page.locator(ROWS)).to_have_count(4)
    expect(_cell(page, "Status").locator(".ep-code")).to_have_text(STATUSES)
    expect(_cell(page, "Model served")).to_have_text(MODELS)
    expect(_cell(page, "Attempts")).to_have_text(ATTEMPTS)
    expect(_cell(page, "Caller")).to_have_text([f"you · {TOKEN_NAME}"] * 4)
    expect(page.locator(f"{ROWS} .ep-why")).to_have_text([REFUSED])  # the client's error, for the refused one
    expect(page.locator("#request-table .ep-pager > .muted")).to_have_text("1–4 of 4 requests")
    # Each time to the second, in the browser's time zone: requests in the same minute still differ.
    times = page.locator(f"{ROWS} td.cell-primary time")
    expect(times).to_have_text([LOCAL_TIME_WITH_SECONDS] * 4)
    expect(times.nth(2)).to_have_text(_local_time(page, world.failover_at))
    assert PROVIDER_SECRET not in page.content()
    ui.screenshot(page, "request-log-list")

    # -- filters: htmx swaps the table, the URL follows ------------------------------------------------
    page.evaluate("window.__requestLogMarker = 'no reload'")
    status, model = page.get_by_label("Status", exact=True), page.get_by_label("Model served", exact=True)
    expect(status.locator("option").first).to_have_text("Any status")
    expect(model.locator("option").first).to_have_text("Any model")
    status.select_option("error")
    expect(page).to_have_url(ui.url(world.requests) + "?status=error&model=&caller=&request_id=")
    expect(_cell(page, "Status").locator(".ep-code")).to_have_text(["400"])

    status.select_option("")
    model.select_option(BACKUP)
    expect(page).to_have_url(ui.url(world.requests) + "?status=&model=openai%2Fbackup&caller=&request_id=")
    expect(_cell(page, "Model served")).to_have_text([BACKUP] * 3)
    expect(_cell(page, "Attempts")).to_have_text(ATTEMPTS[:3])

    model.select_option(PRIMARY)  # configured, but it served nothing
    expect(page).to_have_url(ui.url(world.requests) + "?status=&model=openai%2Fprimary&caller=&request_id=")
    expect(page.locator("#request-table .empty h3")).to_have_text("No requests match")
    expect(page.locator(ROWS)).to_have_count(0)

    status.select_option("failover")
    model.select_option(BACKUP)
    expect(page).to_have_url(ui.url(world.requests) + "?status=failover&model=openai%2Fbackup&caller=&request_id=")
    expect(_cell(page, "Attempts")).to_have_text(["2 (1 failed)"])
    assert page.evaluate("window.__requestLogMarker") == "no reload"
    ui.screenshot(page, "request-log-filtered")

    # -- a reload keeps the filters (the form and the table) -------------------------------------------
    page.reload()
    assert page.evaluate("typeof window.__requestLogMarker") == "undefined"
    expect(status).to_have_value("failover")
    expect(model).to_have_value(BACKUP)
    expect(_cell(page, "Status").locator(".ep-code")).to_have_text(["200"])
    expect(_cell(page, "Attempts")).to_have_text(["2 (1 failed)"])

    # An editor may narrow by caller: nobody else called.
    status.select_option("")
    model.select_option("")
    page.get_by_label("Caller", exact=True).fill("nobody")
    expect(page).to_have_url(ui.url(world.requests) + "?status=&model=&caller=nobody&request_id=")
    expect(page.locator("#request-table .empty h3")).to_have_text("No requests match")

    # -- the failover in full: why each attempt failed -------------------------------------------------
    page.goto(world.requests + "?status=failover")
    page.locator(f"{ROWS} td.cell-primary a").click()
    expect(page).to_have_url(ui.url(f"{world.requests}/{world.failover_id}"))
    attempts = page.locator(".ep-attempts > li")
    expect(attempts).to_have_text(
        [
            f"500 {PRIMARY} failed; the gateway moved on to the next attempt. {FAILED}",
            f"200 {BACKUP} served the request.",
        ]
    )
    expect(page.locator(".ep-attempts .ep-why")).to_have_text([FAILED])
    expect(page.locator("section[aria-labelledby=attempts-heading] .hint")).to_have_text("2 attempts")
    expect(_detail_value(page, "Model served")).to_have_text(BACKUP)
    expect(_detail_value(page, "Caller")).to_have_text("you")
    expect(_detail_value(page, "Token")).to_have_text(TOKEN_NAME)
    when = page.locator(".page-header .subtitle time")
    expect(when).to_have_text(_local_time(page, world.failover_at))
    assert PROVIDER_SECRET not in page.content()
    ui.screenshot(page, "request-log-detail-failover")

    # ...and the refused request: the attempt, and what the client was told.
    page.goto(f"{world.requests}/{world.refused_id}")
    expect(attempts).to_have_text([f"400 {PRIMARY} failed. {REFUSED}"])
    expect(page.locator(".ep-request .card-body p", has_text="The client was told:")).to_have_text(
        f"The client was told: {REFUSED}"
    )
    assert PROVIDER_SECRET not in page.content()
    assert ui.js_errors == []


def test_a_reader_sees_the_traffic_but_not_who_called_nor_why_it_failed(ui, upstream):
    from endpoints.models import Endpoint
    from sharing import services as sharing
    from sharing.levels import Level

    world = _world(ui, upstream)
    bob = make_user("bob")
    endpoint = Endpoint.objects.get(name=ENDPOINT)
    sharing.grant(endpoint, bob, Level.READ, actor=endpoint.created_by)
    page = ui.new_page()
    ui.sign_in(page, "bob")

    # -- the endpoint page: the same routing and charts; no callers, no reasons -----------------------
    page.goto(world.detail)
    expect(page.locator("#sharing-panel")).to_contain_text("You have READ access.")
    _assert_routing(page)
    expect(page.locator("#recent-requests tbody tr")).to_have_count(4)
    expect(page.locator("#recent-requests .ep-why")).to_have_count(0)
    expect(page.locator(".ep-callers")).to_have_count(0)
    content = page.content()
    assert "Usage by caller" not in content and PROVIDER_WORDS not in content and PROVIDER_SECRET not in content
    ui.screenshot(page, "request-log-reader-endpoint")

    # -- the request log: status, model, attempts; the caller is "another user" ----------------------
    page.goto(world.requests)
    expect(page.locator(ROWS)).to_have_count(4)
    expect(_cell(page, "Status").locator(".ep-code")).to_have_text(STATUSES)
    expect(_cell(page, "Model served")).to_have_text(MODELS)
    expect(_cell(page, "Attempts")).to_have_text(ATTEMPTS)
    expect(_cell(page, "Caller")).to_have_text(["another user"] * 4)
    expect(page.locator(f"{ROWS} .ep-why")).to_have_count(0)
    expect(page.locator("input[name=caller]")).to_have_count(0)  # no filter by caller for a reader
    expect(page.locator(".page-header .subtitle")).to_contain_text("who called (your own calls)")
    content = page.content()
    assert PROVIDER_WORDS not in content and TOKEN_NAME not in content and PROVIDER_SECRET not in content
    ui.screenshot(page, "request-log-reader-list")

    # The status filter is a reader's too; a caller in the URL is ignored, not answered.
    page.get_by_label("Status", exact=True).select_option("failover")
    expect(page).to_have_url(ui.url(world.requests) + "?status=failover&model=&request_id=")
    expect(_cell(page, "Attempts")).to_have_text(["2 (1 failed)"])
    page.goto(world.requests + "?caller=nobody")
    expect(page.locator(ROWS)).to_have_count(4)

    # -- the failover in full: how many attempts failed, not why -------------------------------------
    page.goto(f"{world.requests}/{world.failover_id}")
    expect(page.locator("section[aria-labelledby=attempts-heading] .hint")).to_have_text("2 attempts")
    expect(page.locator(".ep-attempts")).to_have_count(0)
    expect(page.locator("section[aria-labelledby=attempts-heading] .card-body")).to_have_text(
        f"Served by {BACKUP} after 1 failed attempt. {READER_NOTE}"
    )
    expect(_detail_value(page, "Caller")).to_have_text("another user")
    expect(_detail_value(page, "Token")).to_have_count(0)
    content = page.content()
    assert PROVIDER_WORDS not in content and TOKEN_NAME not in content and PROVIDER_SECRET not in content
    ui.screenshot(page, "request-log-reader-detail")

    page.goto(f"{world.requests}/{world.refused_id}")
    expect(page.locator("section[aria-labelledby=attempts-heading] .card-body")).to_have_text(
        f"Not served: 1 attempt failed. {READER_NOTE}"
    )
    assert PROVIDER_WORDS not in page.content()
    assert ui.js_errors == []


def test_a_bad_filter_is_explained_on_the_page_not_a_500(ui, upstream):
    world = _world(ui, upstream)
    page = ui.new_page()
    ui.sign_in(page, "alice")
    alert = page.locator("#request-table .alert-error")

    cases = [
        ("status=bogus", "Status: Select a valid choice. bogus is not one of the available choices."),
        ("since=yesterday", "Since: Enter a valid date/time."),
        (
            "model=openai%2Fnever",
            "Model served: Select a valid choice. openai/never is not one of the available choices.",
        ),
    ]
    for query, error in cases:
        response = page.goto(f"{world.requests}?{query}")
        assert response.status == 200, query
        expect(alert.locator("strong")).to_have_text("These filters cannot be applied:")
        expect(alert.locator("li")).to_have_text([error])
        expect(page.locator(ROWS)).to_have_count(0)  # nothing rather than everything
        expect(page.locator("#request-table .empty h3")).to_have_text("No requests match")
    ui.screenshot(page, "request-log-bad-filter")

    # A good filter beside a bad one applies neither; typing a bad request id answers the same through htmx.
    page.goto(f"{world.requests}?status=ok&since=2026-13-45")
    expect(alert.locator("li")).to_have_text(["Since: Enter a valid date/time."])
    expect(page.locator(ROWS)).to_have_count(0)
    page.goto(world.requests)
    expect(page.locator(ROWS)).to_have_count(4)
    page.get_by_label("Request id", exact=True).fill("not-a-uuid")
    expect(page).to_have_url(ui.url(world.requests) + "?status=&model=&caller=&request_id=not-a-uuid")
    expect(alert.locator("li")).to_have_text(["Request id: Enter a valid UUID."])
    expect(page.locator(ROWS)).to_have_count(0)
    ui.screenshot(page, "request-log-bad-request-id")
    assert ui.js_errors == []
