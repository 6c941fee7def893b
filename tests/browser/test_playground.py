"""The playground on the endpoint page: a USE holder calls the endpoint as themselves, from the browser.

The page mints a short-lived token of the user's own and calls the proxy's
OpenAI routes like any client: the answer streams in, the model served,
attempts, latency and tokens show, and the request is in the log under the
user and the playground token. A READ holder gets no playground.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.factories import make_fake_endpoint, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SECRET = "sk-playground-secret-0123456789"


def _endpoint(upstream, *, endpoint_type="chat", models=("upstream-a",)):
    from endpoints import lifecycle

    alice = make_user("alice")
    name = f"{endpoint_type.replace('_', '-')}-try"
    endpoint, _ = make_fake_endpoint(alice, upstream, *models, secret=SECRET, name=name, endpoint_type=endpoint_type)
    lifecycle.start_endpoint(endpoint, actor=alice)
    endpoint.refresh_from_db()
    assert endpoint.status == "running", endpoint.last_error
    return endpoint


def _send(page):
    playground = page.locator("#playground")
    playground.get_by_role("button", name="Send").click()
    expect(playground.get_by_role("button", name="Send")).to_be_enabled()
    return playground


def test_a_chat_streams_through_the_proxy_with_failover_and_lands_in_the_log(ui, upstream):
    from endpoints.models import RequestLog

    upstream.configure("upstream-a", fail_status=500)  # priority 1 fails; the request fails over
    upstream.configure("upstream-b", chunks=["Hello", " from", " the", " playground"], stream_chunk_delay=0.05)
    endpoint = _endpoint(upstream, models=("upstream-a", "upstream-b"))
    page = ui.new_page()
    ui.sign_in(page, "alice")
    page.goto(f"/endpoints/{endpoint.public_id}/")
    playground = page.locator("#playground")
    playground.get_by_label("Message").fill("Hi there")
    playground = _send(page)
    expect(playground.locator(".pg-output")).to_have_text("Hello from the playground")
    expect(playground.locator('[data-pg="model"]')).to_have_text("openai/upstream-b")
    expect(playground.locator('[data-pg="attempts"]')).to_have_text("2")
    expect(playground.locator('[data-pg="latency"]')).to_have_text(re.compile(r"^\d+ ms \(first token after \d+ ms\)$"))
    expect(playground.locator('[data-pg="tokens"]')).to_have_text(re.compile(r"^\d+ prompt · 4 completion$"))
    expect(playground.locator(".pg-error")).to_be_hidden()
    ui.screenshot(page, "playground-chat-streamed")

    (call,) = [record for record in upstream.requests("upstream-b") if record["path"] == "/v1/chat/completions"]
    assert call["json"]["messages"] == [{"role": "user", "content": "Hi there"}]
    assert call["json"]["stream"] is True

    from proxy.usage import recorder

    ui.orm(recorder.flush)  # the usage writer batches rows; a person clicks later than a test
    playground.get_by_role("link", name="Open in the request log").click()
    expect(page).to_have_url(re.compile(r"/requests\?request_id=[0-9a-f]{32}$"))
    rows = page.locator("table.ep-requests tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("upstream-b")
    expect(rows.first).to_contain_text("Playground (browser)")

    def logged():
        from django.contrib.auth import get_user_model

        from tokens.models import GatewayToken

        log = RequestLog.objects.get(endpoint=endpoint)
        user = get_user_model().objects.get(pk=log.user_id)
        return log.status_code, log.attempts, user.username, GatewayToken.objects.get(pk=log.token_id).name, log.stream

    assert ui.orm(logged) == (200, 2, "alice", "Playground (browser)", True)
    assert SECRET not in page.content()
    assert ui.js_errors == []


def test_an_embedding_shows_its_dimensions(ui, upstream):
    endpoint = _endpoint(upstream, endpoint_type="embedding", models=("embed-a",))
    page = ui.new_page()
    ui.sign_in(page, "alice")
    page.goto(f"/endpoints/{endpoint.public_id}/")
    playground = _send(page)
    expect(playground.locator(".pg-output")).to_have_text(re.compile(r"^\d+ dimensions: \[(-?\d\.\d{4}, ){8}…\]$"))
    expect(playground.locator('[data-pg="model"]')).to_have_text("openai/embed-a")
    expect(playground.locator('[data-pg="attempts"]')).to_have_text("1")
    ui.screenshot(page, "playground-embedding")
    assert ui.js_errors == []


def test_a_provider_error_is_shown_in_the_proxys_words(ui, upstream):
    upstream.configure("upstream-a", fail_status=400)
    endpoint = _endpoint(upstream)
    page = ui.new_page()
    ui.sign_in(page, "alice")
    page.goto(f"/endpoints/{endpoint.public_id}/")
    playground = page.locator("#playground")
    playground.get_by_label("Stream the answer").uncheck()
    playground = _send(page)
    error = playground.locator(".pg-error")
    expect(error).to_be_visible()
    expect(error).to_contain_text("fake failure")
    expect(playground.locator(".pg-output")).to_be_empty()
    assert SECRET not in page.content()
    ui.screenshot(page, "playground-error")


def test_a_read_holder_gets_no_playground_and_no_token(ui, upstream, gateway_server):
    from sharing import services as sharing
    from sharing.levels import Level

    endpoint = _endpoint(upstream)
    bob = make_user("bob")
    sharing.grant(endpoint, bob, Level.READ)
    page = ui.new_page()
    ui.sign_in(page, "bob")
    page.goto(f"/endpoints/{endpoint.public_id}/")
    expect(page.locator("#playground")).to_have_count(0)
    expect(page.get_by_text("calling needs USE")).to_be_visible()
    csrf = page.evaluate("document.cookie.match(/csrftoken=([^;]+)/)[1]")
    response = page.request.post(f"/endpoints/{endpoint.public_id}/playground/token", headers={"X-CSRFToken": csrf})
    assert response.status == 403
    assert ui.js_errors == []


def test_a_search_endpoint_answers_the_playground_with_its_results(ui, upstream):
    from endpoints import lifecycle, services
    from endpoints.validation import ModelSpec
    from keys import services as key_services

    alice = make_user("alice")
    key = key_services.create_key(
        actor=alice, name="tavily", provider="tavily", secret="tvly-playground-0001", api_base=f"{upstream.url}/web"
    )
    spec = ModelSpec(provider="tavily", model_name="search", key_id=key.public_id)
    endpoint = services.create_endpoint(actor=alice, name="web-try", endpoint_type="search", models=[spec])
    lifecycle.start_endpoint(endpoint, actor=alice)
    page = ui.new_page()
    ui.sign_in(page, "alice")
    page.goto(f"/endpoints/{endpoint.public_id}/")

    playground = page.locator("#playground")
    playground.get_by_label("Search query").fill("gateways")
    playground = _send(page)

    expect(playground.locator(".pg-output")).to_contain_text("1. Result 1 for gateways from web")
    expect(playground.locator(".pg-output")).to_contain_text("5. Result 5 for gateways from web")
    expect(playground.locator('[data-pg="model"]')).to_have_text("tavily/search")
    expect(playground.locator(".pg-error")).to_be_hidden()
    assert ui.js_errors == []
