"""A scorer creates its own endpoint, comes back with it linked, and judges a sample through the proxy.

The whole journey of issue 11's scorers in the browser: "Create endpoint" on
a new scorer's form opens the endpoint form filled in for a judge; saving it
returns to the scorer with the endpoint selected; the endpoint page lists the
scorer under "Used by"; started, the endpoint judges a sample from the
scorer's page (score, reason, model served and latency, without a reload).
"""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect

from tests.factories import make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

VERDICT = {"score": 4, "reason": "Right city, but no detail."}


def _fake_openai_key(upstream):
    from keys import services as key_services

    alice = make_user("alice")
    secret, base = "sk-scorer-browser-0123", upstream.url + "/v1"
    return key_services.create_key(actor=alice, name="fake-openai", provider="openai", secret=secret, api_base=base)


def test_a_scorer_creates_its_endpoint_and_judges_a_sample(ui, upstream):
    from scorers.models import Scorer

    upstream.configure("gpt-5.4-mini", chunks=[json.dumps(VERDICT)], delay=0.05)
    key = _fake_openai_key(upstream)
    page = ui.new_page()
    ui.sign_in(page, "alice")

    # -- a new scorer; "Create endpoint" saves it and opens the endpoint form -----------------
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Scorers").click()
    page.get_by_role("link", name="Create your first scorer").click()
    page.get_by_label("Name").fill("Capital cities")
    page.get_by_label("Instructions").fill("Rate how well {{ outputs }} answers {{ inputs }}.")
    page.get_by_label("Answer").select_option(label="Score from 1 to 5")
    page.get_by_role("button", name="Create endpoint").click()
    expect(page).to_have_url(re.compile(r"/endpoints/new\?"))
    expect(page.get_by_test_id("linked-to")).to_contain_text("This endpoint will be linked to Scorer “Capital cities”")
    expect(page.get_by_label("Name", exact=True)).to_have_value("capital-cities-judge")
    row = page.locator("#model-rows .model-row").first
    expect(row.locator("select[name$=-model_name]")).to_have_value("gpt-5.4-mini")
    expect(row.locator("select[name$=-key_id]")).to_have_value(key.public_id)
    ui.screenshot(page, "scorer-endpoint-hand-off")

    # -- saving it returns to the scorer with the endpoint linked -------------------------------
    page.get_by_role("button", name="Create endpoint").click()
    scorer = ui.orm(Scorer.objects.select_related("endpoint").get)
    expect(page).to_have_url(ui.url(f"/scorers/{scorer.public_id}/edit?endpoint=capital-cities-judge"))
    expect(page.get_by_label("Judge endpoint")).to_have_value("capital-cities-judge")
    assert scorer.endpoint.name == "capital-cities-judge"
    page.get_by_role("button", name="Save changes").click()
    expect(page).to_have_url(ui.url(f"/scorers/{scorer.public_id}/"))
    endpoint_link = page.get_by_test_id("scorer-endpoint").get_by_role("link", name="gateway:/capital-cities-judge")

    # -- the endpoint lists the scorer; started, it can judge -----------------------------------
    endpoint_link.click()
    expect(page.get_by_test_id("used-by")).to_contain_text("Scorer “Capital cities”")
    page.locator("#endpoint-status").get_by_role("button", name="Start").click()
    page.wait_for_selector("#endpoint-status [data-testid=status-badge]:text-is('Running')")
    page.get_by_test_id("used-by").get_by_role("link", name="“Capital cities”").click()

    # -- run on a sample: the verdict appears in place ------------------------------------------
    expect(page).to_have_url(ui.url(f"/scorers/{scorer.public_id}/"))
    run = page.get_by_test_id("scorer-run")
    expect(run.get_by_label("Expectations")).to_have_count(0)  # the instructions don't use it
    run.get_by_label("Inputs").fill("What is the capital of France?")
    run.get_by_label("Outputs").fill("Paris.")
    page.evaluate("window.__scorerMarker = 1")
    run.get_by_role("button", name="Run").click()
    result = page.get_by_test_id("run-result")
    expect(result.get_by_test_id("run-score")).to_have_text("4")
    expect(result.get_by_test_id("run-reason")).to_have_text("Right city, but no detail.")
    expect(result.get_by_test_id("run-model")).to_have_text("openai/gpt-5.4-mini")
    expect(result.get_by_test_id("run-latency")).to_have_text(re.compile(r"^\d+ ms$"))
    assert page.evaluate("window.__scorerMarker") == 1, "the page reloaded"
    ui.screenshot(page, "scorer-run")
    sent = [request for request in upstream.requests() if request["path"].endswith("/chat/completions")]
    assert sent[-1]["json"]["messages"][1]["content"] == "Rate how well Paris. answers What is the capital of France?."
    assert ui.js_errors == []
