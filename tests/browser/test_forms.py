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
