"""The main pages on a phone (390x844): nothing wider than the screen, and the nav works.

The data is made long on purpose (names, descriptions, api_base URLs, a full
recent-requests table) so a layout that only fits short values shows up here.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PHONE, assert_htmx_loaded
from tests.factories import make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# The innermost elements whose box or content reaches past the right edge of the screen, outside
# any scrolling or clipping container: the culprits of a horizontal page scroll, for the message.
OVERFLOWING = """() => {
    const width = window.innerWidth;
    const clipped = (element) => {
        for (let parent = element.parentElement; parent && parent !== document.body; parent = parent.parentElement) {
            if (getComputedStyle(parent).overflowX !== "visible") return true;
        }
        return false;
    };
    const wide = Array.from(document.querySelectorAll("body *")).filter((element) => {
        const box = element.getBoundingClientRect();
        const content = getComputedStyle(element).overflowX === "visible" ? element.scrollWidth : 0;
        return box.width && Math.max(box.right, box.left + content) > width + 1 && !clipped(element);
    });
    const innermost = wide.filter((element) => !wide.some((other) => other !== element && element.contains(other)));
    return innermost.slice(0, 8).map((element) => {
        const classes = typeof element.className === "string" ? element.className.trim().replace(/\\s+/g, ".") : "";
        const box = element.getBoundingClientRect();
        const content = getComputedStyle(element).overflowX === "visible" ? element.scrollWidth : 0;
        const right = Math.round(Math.max(box.right, box.left + content));
        return `${element.tagName.toLowerCase()}${classes ? "." + classes : ""} (to ${right}px)`;
    });
}"""


def _world(upstream_url: str):
    """alice's key, a running two-model endpoint with traffic, and a token, made through the services."""
    from django.utils import timezone

    from endpoints import lifecycle
    from endpoints import services as endpoint_services
    from endpoints.models import RequestLog
    from endpoints.validation import ModelSpec
    from keys import services as key_services
    from tokens import services as token_services

    alice = make_user("alice")
    make_user("bob")
    key = key_services.create_key(
        actor=alice,
        name="openai-production-primary-account",
        provider="openai",
        secret="sk-phone-test-SECRET-0123456789",
        description="The production account; rotate every quarter. " * 3,
        api_base=upstream_url + "/a/rather/long/path/to/an/openai-compatible/server",
    )
    specs = [
        ModelSpec(
            provider="openai",
            model_name="a-very-long-self-hosted-model-name-instruct-v2",
            key_id=key.public_id,
            weight=0.7,
        ),
        ModelSpec(
            provider="openai",
            model_name="another-self-hosted-model-with-a-long-name",
            key_id=key.public_id,
            weight=0.3,
        ),
    ]
    endpoint = endpoint_services.create_endpoint(
        actor=alice,
        name="customer-support-chat-production-eu-west",
        endpoint_type="chat",
        models=specs,
        description="Answers customer questions in the help centre widget. " * 3,
        rate_limit_rpm=12000,
        rate_limit_tpm=2500000,
    )
    lifecycle.start_endpoint(endpoint, actor=alice)
    now = timezone.now()
    RequestLog.objects.bulk_create(
        RequestLog(
            endpoint=endpoint,
            model_served="openai/a-very-long-self-hosted-model-name-instruct-v2",
            status_code=200 if number % 5 else 429,
            error_type="" if number % 5 else "RateLimitError",
            latency_ms=120.0 + number * 37,
            attempts=1 + (number % 3 == 0),
            stream=number % 2 == 0,
            prompt_tokens=1200 + number,
            completion_tokens=345 + number,
            cost_usd=Decimal("0.01234567"),
            created_at=now - timedelta(minutes=number * 3),
        )
        for number in range(20)
    )
    token_services.create_token(alice, "ci-pipeline-for-the-support-chat-nightly-evaluation")
    return endpoint, key


def test_the_main_pages_fit_a_phone(ui, upstream):
    endpoint, key = _world(upstream.url)
    page = ui.new_page(viewport=PHONE)
    ui.sign_in(page, "alice")

    pages = [
        ("dashboard", "/", "Dashboard"),
        ("keys-list", "/keys/", "Keys"),
        ("endpoints-list", "/endpoints/", "Endpoints"),
        ("tokens", "/tokens/", "Tokens"),
        ("audit", "/audit/", "Audit"),
        ("key-detail", f"/keys/{key.public_id}/", None),
        ("key-create", "/keys/new", None),
        ("endpoint-detail", f"/endpoints/{endpoint.public_id}/", None),
        ("endpoint-form", "/endpoints/new", None),
        ("endpoint-edit", f"/endpoints/{endpoint.public_id}/edit", None),
    ]
    problems: list[str] = []
    for name, path, nav_label in pages:
        if nav_label:  # reach the section pages through the nav, as a phone user would
            nav = page.get_by_role("navigation", name="Main")
            link = nav.get_by_role("link", name=nav_label, exact=True)
            link.scroll_into_view_if_needed()
            box = link.bounding_box()
            if not box or box["x"] < 0 or box["x"] + box["width"] > PHONE["width"] + 1:
                problems.append(f"{name}: the nav link {nav_label!r} can't be brought on screen ({box})")
            link.click()
        else:
            page.goto(path)
        expect(page).to_have_url(ui.url(path))
        page.wait_for_load_state("networkidle")  # htmx fragments (sharing panel, catalog rows) are in
        assert_htmx_loaded(page)
        if name == "endpoint-detail":
            expect(page.locator("#sharing-panel .share-panel")).to_be_visible()
            expect(page.locator("#recent-requests tbody tr")).to_have_count(20)
        if name == "endpoint-edit":
            expect(page.locator("#model-rows .model-row")).to_have_count(2)
            expect(page.locator("#weight-summary li")).to_have_class("ok")

        scroll_width, inner_width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        if scroll_width > inner_width + 1:
            problems.append(
                f"{name}: the page is {scroll_width}px wide on a {inner_width}px screen; "
                f"sticking out: {page.evaluate(OVERFLOWING)}"
            )
        # The nav stays reachable: every section link can be scrolled into the top bar and hit.
        for link in page.locator(".mainnav a").all():
            link.scroll_into_view_if_needed()
            box = link.bounding_box()
            if not box or box["x"] + box["width"] / 2 > inner_width or box["x"] + box["width"] / 2 < 0:
                problems.append(f"{name}: nav link {link.inner_text()!r} is off screen ({box})")
        ui.screenshot(page, f"{name}-phone")

    assert problems == []
    assert ui.js_errors == []
