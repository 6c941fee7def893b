"""A form that comes back with errors starts the user at the list of what to fix.

The summary is focused and on screen, and links to each field.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PHONE
from tests.factories import make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_refused_key_form_focuses_its_error_summary_and_links_to_the_fields(ui):
    make_user("alice")
    page = ui.new_page(viewport=PHONE)  # a small screen: the problems would otherwise be out of sight
    ui.sign_in(page, "alice")
    page.goto("/keys/new")
    page.get_by_role("button", name="Add key").click()

    summary = page.locator("[data-error-summary]")
    expect(summary).to_be_visible()
    expect(summary).to_be_focused()
    assert summary.bounding_box()["y"] < PHONE["height"]  # scrolled into view
    expect(summary.get_by_role("link")).to_have_count(2)  # name and provider

    summary.get_by_role("link", name="Provider: This field is required.").click()
    expect(page.locator("#id_provider")).to_be_focused()
    # The refused POST is answered 422, which the console reports; nothing else may go wrong.
    assert [error for error in ui.js_errors if "status of 422" not in error] == []


def test_the_aws_access_key_fields_show_only_for_a_bedrock_key_and_make_one(ui):
    from keys.models import Key

    make_user("alice")
    page = ui.new_page()
    ui.sign_in(page, "alice")
    page.goto("/keys/new")
    access_key_id = page.get_by_label("AWS access key ID")
    expect(access_key_id).to_be_hidden()  # no provider chosen yet

    page.get_by_label("Name").fill("bedrock-prod")
    page.get_by_label("Provider").select_option("bedrock")
    expect(access_key_id).to_be_visible()
    access_key_id.fill("AKIABROWSERTEST00001")
    page.get_by_label("AWS secret access key").fill("browser-secret-access-key")
    page.get_by_label("Region").fill("eu-west-1")
    page.get_by_role("button", name="Add key").click()

    expect(page.get_by_role("heading", name="bedrock-prod")).to_be_visible()
    assert "browser-secret-access-key" not in page.content()
    key = ui.orm(lambda: Key.objects.get(name="bedrock-prod"))
    assert (key.masked_secret, ui.orm(key.litellm_connection)["aws_secret_access_key"]) == (
        "AKI...0001",
        "browser-secret-access-key",
    )
    page.goto("/keys/new")
    page.get_by_label("Provider").select_option("openai")
    expect(page.get_by_label("AWS access key ID")).to_be_hidden()
    assert ui.js_errors == []
