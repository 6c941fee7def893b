"""Importing a LiteLLM config in the browser: Import on the endpoint list, paste, preview, import, the summary."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from endpoints.models import Endpoint
from keys.models import Key
from tests.factories import make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SECRET = "sk-browser-import-secret-0123456789"
CONFIG = """model_list:
  - model_name: support-bot
    litellm_params:
      model: openai/gpt-4o
      api_key: os.environ/OPENAI_API_KEY
      weight: 3
  - model_name: support-bot
    litellm_params:
      model: openai/gpt-4o-mini
      api_key: os.environ/OPENAI_API_KEY
      weight: 1
router_settings:
  routing_strategy: simple-shuffle
"""


def test_paste_preview_and_import_a_litellm_config(ui):
    ui.orm(make_user, "alice")
    page = ui.new_page()
    ui.sign_in(page, "alice")
    page.goto("/endpoints/")
    page.get_by_role("link", name="Import").click()
    page.wait_for_url(ui.url("/endpoints/import"))
    ui.screenshot(page, "import-form")
    page.get_by_label("Or paste the YAML").fill(CONFIG)
    page.get_by_label("Environment variables").fill(f"OPENAI_API_KEY={SECRET}")
    page.get_by_role("button", name="Preview").click()

    preview = page.locator("[data-import-preview]")
    expect(preview).to_be_visible()
    expect(preview.locator("[data-import-endpoints] tbody tr")).to_have_count(1)
    expect(preview.locator("[data-import-endpoints]")).to_contain_text("support-bot")
    expect(preview.locator("[data-import-endpoints]")).to_contain_text("weight 0.75")
    expect(preview.locator("[data-import-keys]")).to_contain_text("sk-...6789")
    expect(preview.locator("[data-import-skipped]")).to_contain_text("router_settings.routing_strategy")
    ui.screenshot(page, "import-preview")
    assert ui.orm(Endpoint.objects.count) == 0
    assert SECRET not in page.content()

    preview.get_by_role("button", name="Import").click()
    summary = page.locator("[data-import-summary]")
    expect(summary).to_be_visible()
    expect(page.locator("#messages")).to_contain_text("Imported 1 endpoint(s) and 1 key(s).")
    ui.screenshot(page, "import-summary")
    assert SECRET not in page.content()
    summary.get_by_role("link", name="support-bot", exact=True).click()
    expect(page.locator("h1")).to_contain_text("support-bot")
    assert ui.orm(lambda: Key.objects.get().secret()) == SECRET
    assert ui.js_errors == []
