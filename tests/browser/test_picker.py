"""The endpoint form's model picker in a real browser.

alice holds an OpenAI and a Cohere key. On the new-endpoint form the provider
list follows the endpoint type (switching to rerank drops OpenAI, clears it
from the row with a note, and offers Cohere), the model search narrows the
list as she types, the keyboard reaches the results, and the endpoint saves
with the model she picked. The same on a phone: nothing wider than the screen.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PHONE, assert_htmx_loaded
from tests.browser.test_phone import OVERFLOWING
from tests.factories import make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MODELS = re.compile(r"/endpoints/catalog/models\?")
PROVIDERS = re.compile(r"/endpoints/catalog/providers\?")


def _alice_with_keys() -> None:
    from keys import services as key_services

    alice = make_user("alice")
    key_services.create_key(actor=alice, name="openai-main", provider="openai", secret="sk-picker-openai-0000AAAA")
    key_services.create_key(actor=alice, name="cohere-main", provider="cohere", secret="sk-picker-cohere-0000BBBB")


def _provider_values(select) -> list[str]:
    return select.locator("option").evaluate_all("options => options.map(option => option.value).filter(Boolean)")


def _open_form(ui, viewport=None):
    _alice_with_keys()
    page = ui.new_page(viewport=viewport)
    ui.sign_in(page, "alice")
    page.goto("/endpoints/new")
    assert_htmx_loaded(page)
    return page, page.locator("#model-rows .model-row[data-index='0']")


def test_switching_the_type_refreshes_the_providers_and_the_search_finds_the_model(ui):
    from endpoints.models import Endpoint

    page, row = _open_form(ui)
    page.get_by_label("Name", exact=True).fill("picker-rerank")
    provider = row.get_by_label("Provider")

    # -- chat: OpenAI (a key of hers) first, Cohere (no chat models of its own) absent ----------
    expect(provider.locator("optgroup").first).to_have_attribute("label", "With your keys")
    expect(provider.locator("optgroup[label='With your keys'] option")).to_have_text(["OpenAI"])
    chat = _provider_values(provider)
    assert "openai" in chat and "anthropic" in chat and "cohere" not in chat and "tavily" not in chat
    with page.expect_response(MODELS):
        provider.select_option("openai")
    expect(row.get_by_label("Model", exact=True)).to_contain_text("gpt-4o")

    # -- rerank: OpenAI is gone and cleared from the row, with a note; Cohere is offered -------
    with page.expect_response(PROVIDERS):
        page.get_by_label("Type").select_option("rerank")
    note = row.locator(".js-provider-note")
    expect(note).to_be_visible()
    expect(note).to_have_text("OpenAI does not serve rerank endpoints, so it was cleared. Choose another provider.")
    expect(provider).to_have_value("")
    rerank = _provider_values(provider)
    assert "openai" not in rerank and "cohere" in rerank and "infinity" in rerank
    expect(provider.locator("optgroup[label='With your keys'] option")).to_have_text(["Cohere"])
    expect(row.get_by_label("Model", exact=True)).to_have_text("Choose a provider first")
    expect(row.get_by_label("Search models")).to_be_disabled()
    ui.screenshot(page, "picker-type-switched")

    # -- picks Cohere, searches, picks with the keyboard ----------------------------------------
    with page.expect_response(MODELS):
        provider.select_option("cohere")
    expect(note).to_be_hidden()
    expect(row.locator(".js-key")).to_have_value(re.compile(r"[0-9a-f]{32}"))  # her only Cohere key
    model = row.get_by_label("Model", exact=True)
    search = row.get_by_label("Search models")
    with page.expect_response(MODELS):
        search.press_sequentially("multiling")
    expect(model.locator("option[value]:not([value=''])")).to_have_text(["rerank-multilingual-v3.0"])
    expect(row.locator(".ep-search-status")).to_have_text("1 model matches “multiling”.")
    search.press("ArrowDown")
    expect(model).to_be_focused()
    with page.expect_response(re.compile(r"/endpoints/catalog/model-info\?")):
        model.select_option("rerank-multilingual-v3.0")
    expect(row.locator(".ep-model-info")).to_contain_text("Context")
    ui.screenshot(page, "picker-model-found")

    # -- Enter in the search box does not submit the form -------------------------------------------
    search.focus()
    search.press("Enter")
    expect(model).to_be_focused()
    expect(page).to_have_url(ui.url("/endpoints/new"))

    page.get_by_role("button", name="Create endpoint").click()
    expect(page).to_have_url(re.compile(r"/endpoints/[0-9a-f]{32}/$"))
    models = page.locator("section[aria-labelledby=models-heading] tbody tr")
    expect(models).to_have_count(1)
    expect(models.first).to_contain_text("cohere/rerank-multilingual-v3.0")
    ui.screenshot(page, "picker-saved")
    endpoint = ui.orm(lambda: Endpoint.objects.select_related().get(name="picker-rerank"))
    assert endpoint.endpoint_type == "rerank"
    assert ui.orm(lambda: list(endpoint.models.values_list("model_name", flat=True))) == ["rerank-multilingual-v3.0"]
    assert ui.js_errors == []


def test_the_picker_on_a_phone(ui):
    page, row = _open_form(ui, viewport=PHONE)
    provider = row.get_by_label("Provider")
    with page.expect_response(MODELS):
        provider.select_option("openai")
    search = row.get_by_label("Search models")
    expect(search).to_be_visible()
    with page.expect_response(MODELS):
        search.fill("4o mini")
    model = row.get_by_label("Model", exact=True)
    expect(model.locator("option[value='gpt-4o-mini']")).to_have_count(1)
    names = model.locator("option").evaluate_all("options => options.map(option => option.value).filter(Boolean)")
    assert names and all("4o" in name and "mini" in name for name in names), names
    model.select_option("gpt-4o-mini")
    for control in (provider, search, model):
        box = control.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], box
    assert page.evaluate(OVERFLOWING) == []
    ui.screenshot(page, "picker-phone")
    assert ui.js_errors == []


def test_a_search_endpoint_is_built_from_a_search_provider_only_offered_for_that_type(ui):
    from django.contrib.auth import get_user_model

    from endpoints.models import Endpoint
    from keys import services as key_services

    page, row = _open_form(ui)
    alice = ui.orm(lambda: get_user_model().objects.get(username="alice"))
    ui.orm(
        lambda: key_services.create_key(actor=alice, name="tavily", provider="tavily", secret="tvly-picker-0000CCCC")
    )
    page.reload()
    page.get_by_label("Name", exact=True).fill("picker-search")
    provider = row.get_by_label("Provider")
    assert "tavily" not in _provider_values(provider)  # a chat endpoint: no search provider

    with page.expect_response(PROVIDERS):
        page.get_by_label("Type").select_option("search")
    offered = _provider_values(provider)
    assert {"tavily", "exa_ai", "searxng"} <= set(offered) and "openai" not in offered and "cohere" not in offered
    expect(provider.locator("optgroup[label='With your keys'] option")).to_have_text(["Tavily"])
    with page.expect_response(MODELS):
        provider.select_option("tavily")
    expect(row.get_by_label("Model", exact=True)).to_contain_text("search-advanced")
    row.get_by_label("Model", exact=True).select_option("search")
    page.get_by_role("button", name="Create endpoint").click()

    expect(page).to_have_url(re.compile(r"/endpoints/[0-9a-f]{32}/$"))
    endpoint = ui.orm(lambda: Endpoint.objects.get(name="picker-search"))
    assert endpoint.endpoint_type == "search"
    assert ui.orm(lambda: list(endpoint.models.values_list("provider", "model_name"))) == [("tavily", "search")]
    assert ui.js_errors == []
