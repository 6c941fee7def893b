"""Watching an endpoint change: toasts cover neither the status nor the buttons, and times read the same everywhere.

Starting an endpoint shows a toast while the badge goes starting -> running;
both must stay visible and clickable meanwhile. Every time on the page (chart
axes, the request table) is 24-hour, in the viewer's time zone.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP, PHONE
from tests.factories import make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _stopped_endpoint(upstream_url: str):
    from endpoints import services as endpoint_services
    from endpoints.validation import ModelSpec
    from keys import services as key_services

    alice = make_user("alice")
    key = key_services.create_key(
        actor=alice, name="fake", provider="openai", secret="sk-toast-test-0123456789", api_base=upstream_url + "/v1"
    )
    spec = ModelSpec(provider="openai", model_name="upstream-a", key_id=key.public_id)
    return endpoint_services.create_endpoint(actor=alice, name="chat", endpoint_type="chat", models=[spec])


def _overlaps(a: dict, b: dict) -> bool:
    return (
        a["x"] < b["x"] + b["width"]
        and b["x"] < a["x"] + a["width"]
        and a["y"] < b["y"] + b["height"]
        and (b["y"] < a["y"] + a["height"])
    )


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_a_toast_covers_neither_the_status_nor_the_actions(ui, upstream, viewport):
    endpoint = _stopped_endpoint(upstream.url)
    page = ui.new_page(viewport=viewport)
    ui.sign_in(page, "alice")
    page.goto(f"/endpoints/{endpoint.public_id}/")
    page.get_by_role("button", name="Start").click()
    toast = page.locator("#messages .flash").first
    expect(toast).to_be_visible()
    expect(page.locator("#endpoint-status .badge").first).to_have_text("running", ignore_case=True)
    toast_box = toast.bounding_box()
    watched = page.locator("#endpoint-status .badge, #endpoint-status .page-actions .btn, .page-header .btn")
    covered = [
        watched.nth(index).inner_text().strip()
        for index in range(watched.count())
        if watched.nth(index).is_visible() and _overlaps(toast_box, watched.nth(index).bounding_box())
    ]
    assert covered == [], f"the toast at {toast_box} covers {covered}"
    ui.screenshot(page, f"toast-{viewport['width']}")
    assert ui.js_errors == []


def test_every_time_is_24_hour_in_the_viewers_time_zone(ui, upstream, gateway_server):
    """A browser in New York with a 12-hour locale reads New York times, 24-hour, on the charts and in the table."""
    from datetime import UTC, datetime, timedelta
    from zoneinfo import ZoneInfo

    from endpoints.models import RequestLog

    endpoint = _stopped_endpoint(upstream.url)
    logged = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=7)
    RequestLog.objects.create(endpoint=endpoint, status_code=200, latency_ms=12, created_at=logged)
    new_york = ZoneInfo("America/New_York")
    context = ui._browser().new_context(
        viewport=DESKTOP, base_url=gateway_server.url, locale="en-US", timezone_id="America/New_York"
    )
    page = context.new_page()
    ui.watch(page)
    ui.sign_in(page, "alice")
    data = "JSON.parse(document.getElementById('{}').textContent)"
    checks = [
        (f"/endpoints/{endpoint.public_id}/", "chart-requests", data.format("chart-data") + ".hour.labels"),
        ("/", "traffic-chart", data.format("traffic-data") + ".labels"),
    ]
    for path, canvas, source in checks:
        page.goto(path)
        page.wait_for_function(f"() => window.Chart && Chart.getChart(document.getElementById('{canvas}'))")
        shown = page.evaluate(f"Chart.getChart(document.getElementById('{canvas}')).data.labels")
        expected = [datetime.fromisoformat(iso).astimezone(new_york).strftime("%H:%M") for iso in page.evaluate(source)]
        assert shown == expected, (path, shown[:3], expected[:3])

    page.goto(f"/endpoints/{endpoint.public_id}/")
    expect(page.locator("#recent-requests time").first).to_have_text(logged.astimezone(new_york).strftime("%H:%M:%S"))
    # ...and still after the activity refresh swaps the table in again.
    page.evaluate("htmx.trigger(document.getElementById('activity-summary'), 'refresh')")
    page.wait_for_load_state("networkidle")
    expect(page.locator("#recent-requests time").first).to_have_text(logged.astimezone(new_york).strftime("%H:%M:%S"))
    created = endpoint.created_at.astimezone(new_york).strftime("%H:%M")
    expect(page.locator(".details time[data-local-time='datetime']").first).to_contain_text(created)
    context.close()
    assert ui.js_errors == []
