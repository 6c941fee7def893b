"""One full journey through the UI in a real browser.

alice signs in, adds an OpenAI-compatible key that points at the fake upstream
(the key says where its secret goes), builds an endpoint with two custom models
(0.7 / 0.3) on it, starts it (the badge turns Running without a
reload), creates a gateway token, sends traffic with the official OpenAI SDK,
watches the charts and the recent requests refresh, shares the endpoint READ
with bob (who sees it without any action button), then stops and deletes it.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import assert_htmx_loaded
from tests.factories import make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PROVIDER_SECRET = "sk-browser-journey-SECRET-0123456789abcdef"
ENDPOINT = "journey-chat"
REQUESTS = 20
MARKER = "set-before-start"


def test_the_full_journey(ui, upstream):
    from endpoints import lifecycle
    from endpoints.models import Endpoint
    from gateway_site.celery import app as celery_app
    from proxy.usage import recorder

    make_user("alice")
    make_user("bob")

    # -- alice signs in ---------------------------------------------------------------------------
    page = ui.new_page()
    ui.sign_in(page, "alice")
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()

    # -- adds a key ---------------------------------------------------------------------------------
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Keys").click()
    expect(page).to_have_url(ui.url("/keys/"))
    page.get_by_role("link", name="Add key").first.click()
    expect(page).to_have_url(ui.url("/keys/new"))
    page.get_by_label("Name").fill("openai-main")
    page.get_by_label("Provider").select_option("openai")
    page.get_by_label("Secret", exact=True).fill(PROVIDER_SECRET)
    page.get_by_label("API base URL").fill(upstream.base_url)
    ui.screenshot(page, "key-create")
    page.get_by_role("button", name="Add key").click()
    expect(page).to_have_url(re.compile(r"/keys/[0-9a-f]{32}/$"))
    expect(page.get_by_role("heading", name="openai-main")).to_be_visible()
    assert PROVIDER_SECRET not in page.content()
    expect(page.locator(".secret-hint").first).to_contain_text("cdef")
    expect(page.locator(".details")).to_contain_text(upstream.base_url)

    # -- builds an endpoint with two weighted custom models on the fake upstream ------------------
    page.goto("/endpoints/")
    page.get_by_role("link", name="New endpoint").click()
    expect(page).to_have_url(ui.url("/endpoints/new"))
    assert_htmx_loaded(page)
    page.get_by_label("Name", exact=True).fill(ENDPOINT)
    expect(page.get_by_label("Type")).to_have_value("chat")
    _fill_custom_row(page, 0, "up-seventy", "0.7")
    summary = page.locator("#weight-summary li")
    expect(summary).to_have_count(1)
    expect(summary).to_have_class("bad")  # a lone 0.7 does not add up to 1.0

    page.get_by_role("button", name="+ Add model").click()
    expect(page.locator("#model-rows .model-row")).to_have_count(2)
    _fill_custom_row(page, 1, "up-thirty", "0.3")
    expect(summary).to_have_class("ok")
    expect(summary).to_have_text("Priority 1: 0.7 + 0.3 = 1.0 ✓")
    ui.screenshot(page, "endpoint-form")
    page.get_by_role("button", name="Create endpoint").click()
    expect(page).to_have_url(re.compile(r"/endpoints/[0-9a-f]{32}/$"))
    detail_url = page.url
    badge = page.locator("#endpoint-status [data-testid=status-badge]")
    expect(badge).to_have_text("Stopped")
    models = page.locator("section[aria-labelledby=models-heading] tbody tr")
    expect(models).to_have_count(2)
    expect(models.nth(0)).to_contain_text("openai/up-seventy")
    expect(models.nth(0)).to_contain_text("70%")
    expect(models.nth(1)).to_contain_text("openai/up-thirty")
    expect(models.nth(1)).to_contain_text("30%")
    expect(page.locator("#sharing-panel .share-panel")).to_be_visible()  # loaded by htmx

    # -- starts it: Starting, then Running, in place --------------------------------------------
    # The start is queued instead of run in-process (no worker consumes the in-memory queue), so
    # the page shows "Starting" and polls; the test then does the worker's job.
    navigations: list[str] = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url) if frame == page.main_frame else None)
    page.evaluate(f"window.__journeyMarker = {MARKER!r}")
    celery_app.conf.task_always_eager = False
    try:
        page.locator("#endpoint-status").get_by_role("button", name="Start").click()
        page.wait_for_selector("#endpoint-status [data-testid=status-badge]:text-is('Starting')")
    finally:
        celery_app.conf.task_always_eager = True
    ui.orm(lifecycle.finish_start, detail_url.rstrip("/").rsplit("/", 1)[1])
    page.wait_for_selector("#endpoint-status [data-testid=status-badge]:text-is('Running')")  # by polling
    expect(page.locator("#endpoint-status").get_by_role("button", name="Stop")).to_be_visible()
    assert page.evaluate("window.__journeyMarker") == MARKER, "the page reloaded"
    assert navigations == []
    assert page.url == detail_url

    # -- a gateway token, shown once (second tab of alice's session) -----------------------------
    tab = page.context.new_page()
    ui.watch(tab)
    tab.goto("/tokens/")
    assert_htmx_loaded(tab)
    tab.get_by_label("Name").fill("journey")
    tab.get_by_role("button", name="Create token").click()
    token = tab.locator("#new-token").input_value()
    assert len(token) > 20
    expect(tab.locator(".reveal")).to_contain_text("won’t be shown again")
    ui.screenshot(tab, "tokens")

    # -- traffic through the proxy with the official SDK --------------------------------------------
    import openai

    client = openai.OpenAI(base_url=ui.url("/v1"), api_key=token, max_retries=0, timeout=30)
    for number in range(REQUESTS):
        reply = client.chat.completions.create(
            model=ENDPOINT, messages=[{"role": "user", "content": f"hello {number}"}]
        )
        assert reply.choices[0].message.content
    hits = upstream.stats()["hits"]
    assert hits.get("up-seventy", 0) + hits.get("up-thirty", 0) == REQUESTS, hits
    ui.orm(recorder.flush)

    # -- the detail page's activity refreshes without a reload ----------------------------------------
    # The page refreshes every 10 s and when its tab becomes visible again; use the latter.
    page.bring_to_front()
    page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
    rows = page.locator("#recent-requests tbody tr")
    expect(rows).to_have_count(REQUESTS)
    expect(rows.first).to_contain_text("200")
    expect(rows.first).to_contain_text(re.compile(r"up-(seventy|thirty)"))
    expect(page.locator("#activity-summary .ep-stats[data-range=hour] .ep-stat-value").first).to_have_text(
        str(REQUESTS)
    )
    page.wait_for_function(
        """n => {
            const chart = window.Chart && Chart.getChart('chart-requests');
            if (!chart) return false;
            const total = chart.data.datasets.flatMap(d => d.data).reduce((a, b) => a + (b || 0), 0);
            return total === n;
        }""",
        arg=REQUESTS,
    )
    # The latency chart shows the traffic: a line, or a dot when it all fell in one bucket
    # (a one-value line with hidden points used to draw nothing).
    assert page.evaluate(
        """() => {
            const chart = Chart.getChart('chart-latency');
            const values = chart.data.datasets[0].data;
            const points = chart.getDatasetMeta(0).data;
            const filled = values.filter(value => value != null).length;
            return filled > 1 || points.some((point, index) => values[index] != null && point.options.radius > 0);
        }"""
    ), "the latency chart draws nothing"
    assert page.evaluate("window.__journeyMarker") == MARKER, "the page reloaded"
    ui.screenshot(page, "endpoint-detail-running")

    # -- the other pages, now with data ------------------------------------------------------------
    tab.goto("/")
    expect(tab.locator(".stat-value").first).to_have_text(str(REQUESTS))
    expect(tab.get_by_role("link", name=ENDPOINT)).to_be_visible()
    ui.screenshot(tab, "dashboard")
    tab.goto("/keys/")
    expect(tab.get_by_role("link", name="openai-main")).to_be_visible()
    expect(tab.locator("tbody")).to_contain_text(ENDPOINT)  # "Used by"
    assert PROVIDER_SECRET not in tab.content()
    ui.screenshot(tab, "keys-list")
    tab.goto("/endpoints/")
    row = tab.locator("#endpoint-table tbody tr", has_text=ENDPOINT)
    expect(row.locator("[data-testid=status-badge]")).to_have_text("Running")
    expect(row).to_contain_text("+1 more")
    ui.screenshot(tab, "endpoints-list")
    tab.close()

    # -- shares it READ with bob through the sharing panel ------------------------------------------
    panel = page.locator("#sharing-panel .share-panel")
    panel.get_by_label("Add people or a team").select_option("user:bob")
    panel.get_by_label("Level", exact=True).select_option("READ")
    panel.get_by_role("button", name="Share").click()
    bob_row = page.locator("#sharing-panel .grant-row", has_text="bob")
    expect(bob_row).to_be_visible()
    expect(bob_row.get_by_label("Level for bob")).to_have_value("READ")

    # -- bob sees it, read-only ----------------------------------------------------------------------
    bob = ui.new_page()
    ui.sign_in(bob, "bob")
    bob.get_by_role("navigation", name="Main").get_by_role("link", name="Endpoints").click()
    bob.get_by_role("link", name=ENDPOINT).click()
    expect(bob).to_have_url(detail_url)
    expect(bob.locator("#endpoint-status [data-testid=status-badge]")).to_have_text("Running")
    expect(bob.locator("#sharing-panel")).to_contain_text("You have READ access.")
    main = bob.locator("main")
    for name in ("Edit", "Start", "Stop", "Delete", "Restore"):
        expect(main.get_by_role("button", name=name)).to_have_count(0)
        expect(main.get_by_role("link", name=name)).to_have_count(0)
    expect(bob.locator("#recent-requests tbody tr")).to_have_count(REQUESTS)
    ui.screenshot(bob, "endpoint-detail-bob")
    bob.context.close()

    # -- alice signs back in, stops it, then deletes it ----------------------------------------------
    page.context.close()  # her first session's page would keep polling the deleted endpoint
    page = ui.new_page()
    ui.sign_in(page, "alice")
    page.goto(detail_url)
    expect(page.locator("#endpoint-status [data-testid=status-badge]")).to_have_text("Running")
    expect(page.locator("#sharing-panel .grant-row", has_text="bob")).to_be_visible()
    page.locator("#endpoint-status").get_by_role("button", name="Stop").click()
    confirm = page.locator("#confirm-dialog")
    expect(confirm).to_be_visible()
    expect(confirm).to_contain_text(f"Stop “{ENDPOINT}”?")
    confirm.get_by_role("button", name="Confirm").click()
    expect(page.locator("#endpoint-status [data-testid=status-badge]")).to_have_text("Stopped")
    expect(page.locator("#endpoint-status").get_by_role("button", name="Start")).to_be_visible()
    with pytest.raises(openai.APIStatusError) as refused:
        client.chat.completions.create(model=ENDPOINT, messages=[{"role": "user", "content": "stopped?"}])
    assert refused.value.status_code == 409, refused.value

    page.locator("#endpoint-status").get_by_role("link", name="Delete").click()
    dialog = page.locator("#delete-dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Delete endpoint").click()
    expect(page).to_have_url(ui.url("/endpoints/"))
    expect(page.locator("#messages")).to_contain_text(f"Deleted endpoint “{ENDPOINT}”.")
    expect(page.get_by_role("link", name=ENDPOINT)).to_have_count(0)
    assert not ui.orm(Endpoint.objects.filter(name=ENDPOINT).exists)

    assert ui.js_errors == []


def _fill_custom_row(page, index: int, model: str, weight: str) -> None:
    """Fill model row ``index`` as a custom model on the key's OpenAI-compatible server."""
    row = page.locator(f"#model-rows .model-row[data-index='{index}']")
    provider = row.locator(".js-provider")
    if provider.input_value() != "openai":
        with page.expect_response(re.compile(r"/endpoints/catalog/models\?")):
            provider.select_option("openai")
    row.get_by_label("Custom model").check()
    expect(row.get_by_label("Model name")).to_be_visible()
    row.get_by_label("Model name").fill(model)
    expect(row.locator(".js-key")).not_to_have_value("")  # the only OpenAI key, picked for us
    row.get_by_label("Weight").fill(weight)
