"""Start checks in the browser: each model's probe result on the endpoint page, and a key's "Test connection".

The gateway under test probes the fake upstream on 127.0.0.1 (``GATEWAY_START_PROBES=free``):
listing its models is what a wrong key or a missing model fails on.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.factories import make_fake_endpoint, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SECRET = "sk-start-check-secret-0123456789"


@pytest.fixture
def probing(settings):
    settings.GATEWAY_START_PROBES = "free"
    settings.GATEWAY_PROBE_TIMEOUT = 5


def _endpoint(upstream, *models):
    return make_fake_endpoint(make_user("alice"), upstream, *models, secret=SECRET, name="checked")


def _start(ui, endpoint):
    page = ui.new_page()
    ui.sign_in(page, "alice")
    page.goto(f"/endpoints/{endpoint.public_id}/")
    expect(page.locator("[data-pg-not-running]")).to_be_visible()
    page.get_by_role("button", name="Start").click()
    return page


def test_start_shows_each_models_result_and_runs_when_one_can_serve(ui, upstream, probing):
    endpoint, _ = _endpoint(upstream, "fake-model", "gpt-missing")
    page = _start(ui, endpoint)
    status = page.locator("#endpoint-status")
    expect(status.locator(".badge").first).to_have_text("running", ignore_case=True)
    check = status.locator("details.start-check")
    expect(page.locator("[data-pg-not-running]")).to_be_hidden()  # the playground's hint followed the badge
    expect(check).not_to_have_attribute("open", "")  # closed while the endpoint runs
    check.locator("summary").click()
    rows = check.locator("tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0).locator("td").nth(0)).to_have_text("openai/fake-model")
    expect(rows.nth(0).locator(".badge")).to_have_text("OK")
    expect(rows.nth(1).locator(".badge")).to_have_text("Failed")
    expect(rows.nth(1)).to_contain_text("The key works, but the server does not list the model “gpt-missing”.")
    ui.screenshot(page, "start-check-running")
    assert SECRET not in page.content()
    assert ui.js_errors == []


def test_a_refused_key_ends_in_error_with_the_reason_on_the_page(ui, upstream, probing):
    upstream.configure("*", fail_status=401)
    endpoint, _ = _endpoint(upstream, "fake-model")
    page = _start(ui, endpoint)
    status = page.locator("#endpoint-status")
    expect(status.locator(".badge").first).to_have_text("error", ignore_case=True)
    reason = "The provider refused the key (HTTP 401): check the secret. It said: fake failure"
    expect(status.locator(".ep-status-error")).to_have_text(
        f"Failed to start. No model can serve: openai/fake-model: {reason}"
    )
    expect(status.locator("details.start-check")).to_have_attribute("open", "")
    expect(status.get_by_role("button", name="Start")).to_be_visible()  # fix the key, start again
    ui.screenshot(page, "start-check-error")
    assert ui.js_errors == []


def test_test_connection_on_a_key_shows_the_outcome_in_place(ui, upstream, probing):
    _, key = _endpoint(upstream, "fake-model")
    page = ui.new_page()
    ui.sign_in(page, "alice")
    page.goto(f"/keys/{key.public_id}/")
    page.get_by_role("button", name="Test connection").click()
    result = page.locator("#key-test-result")
    expect(result.locator(".badge")).to_have_text("OK")
    expect(result.locator(".probe-message")).to_have_text("The key works: the provider lists 1 model for it.")
    upstream.configure("*", fail_status=401)
    page.get_by_role("button", name="Test connection").click()
    expect(result.locator(".badge")).to_have_text("Failed")
    expect(result.locator(".probe-message")).to_have_text(
        "The provider refused the key (HTTP 401): check the secret. It said: fake failure"
    )
    ui.screenshot(page, "key-test-connection")
    assert page.url.endswith(f"/keys/{key.public_id}/")  # answered in place, no navigation
    assert SECRET not in page.content()
    assert ui.js_errors == []
