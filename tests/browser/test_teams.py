"""Teams in a real browser: alice creates a team, adds bob, shares a key with the team; bob (his own
browser context, signed in) sees it; alice removes him and it is gone for him.

Also: the members card changes in place (htmx, no reload), refusals show inline, and the team pages
fit a phone (390 px) with the manager's controls on them.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PHONE, assert_htmx_loaded
from tests.browser.test_phone import OVERFLOWING
from tests.factories import make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SECRET = "sk-browser-teams-SECRET-0123456789abcdef"
MARKER = "members-card-marker"


def _fits(page) -> list[str]:
    """What sticks out past the right edge of the screen (nothing, on a page that fits)."""
    scroll_width, inner_width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    return [] if scroll_width <= inner_width + 1 else page.evaluate(OVERFLOWING)


def test_a_team_shares_a_key_with_its_members_until_one_is_removed(ui):
    from keys import services as key_services

    alice = make_user("alice")
    make_user("bob")
    key = key_services.create_key(actor=alice, name="team-openai", provider="openai", secret=SECRET)
    key_url = f"/keys/{key.public_id}/"

    # -- alice creates the team from the Teams page ---------------------------------------------------
    page = ui.new_page()
    ui.sign_in(page, "alice")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Teams").click()
    expect(page).to_have_url(ui.url("/teams/"))
    expect(page.get_by_role("heading", name="No teams yet")).to_be_visible()
    page.get_by_label("Team name").fill("platform")
    page.get_by_role("button", name="Create team").click()
    expect(page).to_have_url(re.compile(r"/teams/[0-9a-f]{32}/$"))
    team_url = page.url
    expect(page.get_by_role("heading", name="platform", exact=True)).to_be_visible()
    expect(page.locator("#messages")).to_contain_text("Team “platform” created.")
    members = page.locator(".team-members")
    expect(members.locator(".member-row")).to_have_count(1)
    expect(members.locator(".member-row", has_text="alice")).to_contain_text("Manager")

    # -- adds bob, in place; an unknown name and the last manager are refused inline -------------------
    page.evaluate(f"window.__teamsMarker = {MARKER!r}")
    members.get_by_label("Username").fill("nobody")
    members.get_by_role("button", name="Add member").click()
    expect(page.locator(".team-members")).to_contain_text("No active user named 'nobody'.")
    page.locator(".team-members").get_by_label("Username").fill("bob")
    page.locator(".team-members").get_by_role("button", name="Add member").click()
    bob_row = page.locator(".team-members .member-row", has_text="bob")
    expect(bob_row).to_contain_text("Member")
    expect(page.locator("#messages")).to_contain_text("Added bob to “platform”.")
    expect(page.locator(".team-members .hint")).to_have_text("2 members")
    page.get_by_role("button", name="Make alice a member").click()
    expect(page.locator(".team-members [role=alert]")).to_contain_text(
        "alice is the last manager of team “platform”; make another member a manager first."
    )
    assert page.evaluate("window.__teamsMarker") == MARKER, "the page reloaded"
    ui.screenshot(page, "team-detail")

    # -- shares the key with the team, by its name, in the key's sharing panel -------------------------
    page.goto(key_url)
    panel = page.locator("#sharing-panel .share-panel")
    panel.get_by_label("Add people or a team").select_option("group:platform")
    panel.get_by_label("Level", exact=True).select_option("USE")
    panel.get_by_role("button", name="Share").click()
    expect(panel.locator(".grant-row", has_text="platform").get_by_label("Level for platform")).to_have_value("USE")
    ui.screenshot(page, "key-shared-with-team")

    # -- bob, in his own browser context, sees the team and the key ------------------------------------
    bob = ui.new_page()
    ui.sign_in(bob, "bob")
    bob.get_by_role("navigation", name="Main").get_by_role("link", name="Teams").click()
    expect(bob.locator("tbody tr", has_text="platform")).to_contain_text("2 members")
    ui.screenshot(bob, "teams-list-bob")
    bob.get_by_role("link", name="platform").click()
    expect(bob).to_have_url(team_url)
    shared = bob.locator("section[aria-labelledby=shared-title] tbody tr")
    expect(shared).to_have_count(1)
    expect(shared).to_contain_text("team-openai")
    expect(shared).to_contain_text("Use")
    main = bob.locator("main")
    for control in ("Add member", "Rename team", "Make alice a member", "Remove alice"):
        expect(main.get_by_role("button", name=control)).to_have_count(0)
    expect(main.get_by_role("link", name="Delete team")).to_have_count(0)
    expect(main.get_by_role("button", name="Leave platform")).to_be_visible()
    ui.screenshot(bob, "team-detail-bob")
    bob.get_by_role("navigation", name="Main").get_by_role("link", name="Keys").click()
    expect(bob.get_by_role("link", name="team-openai")).to_be_visible()
    assert SECRET not in bob.content()
    ui.screenshot(bob, "keys-list-bob-in-team")

    # -- the team page on a phone, as its manager (every control on it) --------------------------------
    phone = ui.new_page(viewport=PHONE)
    ui.sign_in(phone, "alice")
    phone.goto(team_url)
    assert_htmx_loaded(phone)
    expect(phone.locator(".team-members .member-row")).to_have_count(2)
    expect(phone.locator(".team-members .member-row", has_text="bob").locator(".member-role")).to_be_visible()
    assert _fits(phone) == []
    ui.screenshot(phone, "team-detail-phone")
    phone.goto("/teams/")
    assert _fits(phone) == []
    ui.screenshot(phone, "teams-list-phone")
    phone.context.close()

    # -- alice removes bob (after the confirmation), in place --------------------------------------------
    page.goto(team_url)
    page.evaluate(f"window.__teamsMarker = {MARKER!r}")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Remove bob").click()
    expect(page.locator(".team-members .member-row", has_text="bob")).to_have_count(0)
    expect(page.locator("#messages")).to_contain_text("Removed bob from “platform”.")
    assert page.evaluate("window.__teamsMarker") == MARKER, "the page reloaded"

    # -- and the key is gone for bob, and so is the team -----------------------------------------------
    bob.reload()
    expect(bob.get_by_role("link", name="team-openai")).to_have_count(0)
    assert bob.request.get(ui.url(key_url)).status == 404
    assert bob.request.get(team_url).status == 404
    bob.goto("/teams/")
    expect(bob.get_by_role("heading", name="No teams yet")).to_be_visible()
    ui.screenshot(bob, "teams-list-bob-after-removal")

    # The two refusals were answered 422, which the console reports; nothing else may go wrong.
    refused = [error for error in ui.js_errors if "status of 422" in error]
    assert len(refused) == 2, ui.js_errors
    assert [error for error in ui.js_errors if error not in refused] == []
