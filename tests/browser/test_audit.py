"""The audit page in a real browser: alice starts and stops an endpoint, then reads the trail.

She follows the endpoint's "See all activity" link, opens the Audit page from
the main nav, and narrows it by action, kind and day: each change swaps the
results in place and puts the filters in the URL. Times read 24-hour in her
own zone (a 12-hour New York browser). bob opens the URL she would share: he
sees nothing until the key is shared with him.
"""

from __future__ import annotations

import re
from datetime import datetime
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP
from tests.factories import make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NEW_YORK = "America/New_York"


def _world(upstream_url: str):
    from endpoints import services as endpoint_services
    from endpoints.validation import ModelSpec
    from keys import services as key_services

    alice, bob, charlie = make_user("alice"), make_user("bob"), make_user("charlie")
    key = key_services.create_key(
        actor=alice, name="fake", provider="openai", secret="sk-audit-browser-0123456789", api_base=upstream_url + "/v1"
    )
    spec = ModelSpec(provider="openai", model_name="upstream-a", key_id=key.public_id)
    endpoint = endpoint_services.create_endpoint(actor=alice, name="chat", endpoint_type="chat", models=[spec])
    key_services.create_key(actor=charlie, name="charlies-key", provider="openai", secret="sk-charlie-0123456789")
    return alice, bob, key, endpoint


def _page_in_new_york(ui, gateway_server):
    context = ui._browser().new_context(
        viewport=DESKTOP, base_url=gateway_server.url, locale="en-US", timezone_id=NEW_YORK
    )
    page = context.new_page()
    ui.watch(page)
    return page


def _query(page) -> dict[str, list[str]]:
    return parse_qs(urlsplit(page.url).query)


def test_reading_and_filtering_the_audit_trail(ui, upstream, gateway_server):
    from audit.models import AuditEvent
    from sharing import services as sharing
    from sharing.levels import Level

    alice, bob, key, endpoint = _world(upstream.url)
    page = _page_in_new_york(ui, gateway_server)
    ui.sign_in(page, "alice")

    # -- alice changes things ---------------------------------------------------------------------
    page.goto(f"/endpoints/{endpoint.public_id}/")
    status = page.locator("#endpoint-status")
    status.get_by_role("button", name="Start").click()
    expect(status.locator(".badge").first).to_have_text("running", ignore_case=True)
    status.get_by_role("button", name="Stop").click()
    page.locator("#confirm-dialog").get_by_role("button", name="Confirm").click()
    expect(status.locator(".badge").first).to_have_text("stopped", ignore_case=True)

    # -- the endpoint's whole history, from its page ----------------------------------------------
    page.reload()
    page.get_by_role("link", name="See all activity").click()
    expect(page).to_have_url(ui.url(f"/audit/?object={endpoint.public_id}"))
    sentences = page.locator(".audit-results .feed-sentence")
    expect(sentences).to_have_text(
        ["alice stopped endpoint chat", "alice started endpoint chat", "alice created endpoint chat"]
    )
    expect(page.locator(".audit-scope")).to_contain_text("Only endpoint chat")

    # -- everything she can see, from the main nav ------------------------------------------------
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Audit").click()
    expect(page).to_have_url(ui.url("/audit/"))
    expect(sentences).to_have_count(4)
    expect(sentences.first).to_have_text("alice stopped endpoint chat")
    expect(sentences.last).to_have_text("alice created key fake")
    expect(page.locator(".audit-results")).not_to_contain_text("charlies-key")

    # Times: 24-hour, in New York.
    created = ui.orm(lambda: AuditEvent.objects.get(object_id=key.pk).created_at)
    local = created.astimezone(ZoneInfo(NEW_YORK))
    stamp = page.locator(".audit-results .feed-meta time[data-local-time]").last
    expect(stamp).to_contain_text(local.strftime("%H:%M"))
    expect(stamp).not_to_contain_text(re.compile("AM|PM"))

    # -- narrowing: each change swaps the results and lands in the URL ----------------------------
    page.evaluate("window.__auditMarker = 'no reload'")
    page.get_by_label("Action", exact=True).select_option("start")
    expect(sentences).to_have_text(["alice started endpoint chat"])
    expect(page).to_have_url(re.compile(r"action=start"))

    page.get_by_label("Kind", exact=True).select_option("key")
    expect(page.locator(".audit-results")).to_contain_text("No events match")
    expect(page).to_have_url(re.compile(r"object_type=key"))

    page.get_by_label("Action", exact=True).select_option("")
    expect(sentences).to_have_text(["alice created key fake"])
    expect(sentences.get_by_role("link", name="fake")).to_have_attribute("href", f"/keys/{key.public_id}/")

    today_in_new_york = datetime.now(ZoneInfo(NEW_YORK)).date().isoformat()
    page.get_by_label("From", exact=True).fill(today_in_new_york)
    expect(page).to_have_url(re.compile(r"since=" + today_in_new_york))
    expect(sentences).to_have_text(["alice created key fake"])
    assert _query(page) == {"object_type": ["key"], "since": [today_in_new_york], "tz": [NEW_YORK]}
    assert page.evaluate("window.__auditMarker") == "no reload"
    ui.screenshot(page, "audit")

    # -- bob opens the same URL: nothing until the key is shared with him -------------------------
    shared_url = page.url
    bobs = ui.new_page()
    ui.sign_in(bobs, "bob")
    bobs.goto(shared_url)
    expect(bobs.locator(".audit-results")).to_contain_text("No events match")
    ui.orm(sharing.grant, key, bob, Level.READ, actor=alice)
    bobs.reload()
    expect(bobs.locator(".audit-results .feed-sentence")).to_have_text(
        ["alice shared key fake with bob at READ", "alice created key fake"]
    )
    ui.screenshot(bobs, "audit-shared")
    assert ui.js_errors == []
