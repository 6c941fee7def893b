"""The endpoint form's model picker: providers by endpoint type, popular ones first, model search and order."""

from __future__ import annotations

import html
import re
from datetime import date
from unittest import mock

import pytest

from catalog import services as catalog
from endpoints.models import Endpoint
from keys import services as key_services
from tests.ui.test_endpoint_pages import form_data

pytestmark = pytest.mark.django_db

MODELS = "/endpoints/catalog/models"


@pytest.fixture
def as_alice(client, alice):
    client.force_login(alice)
    return client


@pytest.fixture
def openai_key(alice):
    return key_services.create_key(actor=alice, name="openai", provider="openai", secret="sk-picker-0000AAAA")


def groups(response) -> dict[str, list[str]]:
    return {label: [p["name"] for p in providers] for label, providers in response.context["provider_groups"]}


def options(page: str) -> list[str]:
    return re.findall(r'<option value="([^"]+)"', page)


# -- providers ------------------------------------------------------------------------------------


def test_the_form_lists_only_the_providers_that_serve_its_type(as_alice):
    response = as_alice.get("/endpoints/new?endpoint_type=rerank")
    listed = groups(response)
    assert list(listed) == ["Popular", "Other providers (A–Z)"]
    assert listed["Popular"] == ["bedrock", "vertex_ai", "cohere", "hosted_vllm"]
    everything = {name for names in listed.values() for name in names}
    assert everything == {p["name"] for p in catalog.providers_for_type("rerank")}
    assert "openai" not in everything and "tavily" not in everything
    page = response.content.decode()
    assert '<optgroup label="Popular"><option value="bedrock">Amazon Bedrock</option>' in page


def test_providers_with_the_users_keys_come_first_and_each_is_listed_once(as_alice, openai_key):
    response = as_alice.get("/endpoints/new")
    listed = groups(response)
    assert list(listed) == ["With your keys", "Popular", "Other providers (A–Z)"]
    assert listed["With your keys"] == ["openai"]
    assert listed["Popular"][:3] == ["anthropic", "azure", "bedrock"]
    names = [name for group in listed.values() for name in group]
    assert len(names) == len(set(names))
    assert "tavily" not in names  # web search only


def test_the_providers_fragment_follows_the_type(as_alice, openai_key):
    page = as_alice.get("/endpoints/catalog/providers?endpoint_type=rerank").content.decode()
    assert "cohere" in options(page) and "openai" not in options(page)
    embedding = as_alice.get("/endpoints/catalog/providers?endpoint_type=embedding").content.decode()
    assert '<optgroup label="With your keys"><option value="openai">OpenAI</option></optgroup>' in embedding
    assert "anthropic" not in options(embedding)
    unknown = as_alice.get("/endpoints/catalog/providers?endpoint_type=telepathy")
    assert unknown.status_code == 200 and "anthropic" in options(unknown.content.decode())  # the chat list


def test_the_form_refuses_a_provider_that_does_not_serve_the_type(as_alice, server_key):
    row = {"key_id": server_key.public_id, "custom": "on", "custom_model_name": "my-reranker"}
    response = as_alice.post("/endpoints/new", form_data([row], name="ranker", endpoint_type="rerank"))
    assert response.status_code == 400
    message = (
        "OpenAI does not serve rerank endpoints. "
        "Choose a provider that does, such as Amazon Bedrock, Google Vertex AI or Cohere."
    )
    assert response.context["formset"].forms[0].errors["provider"] == [message]
    assert f"Model 1, provider: {message}" in html.unescape(response.content.decode())  # the error summary
    assert not Endpoint.objects.exists()


# -- models ---------------------------------------------------------------------------------------


def test_the_search_keeps_the_models_matching_every_word(as_alice):
    page = as_alice.get(MODELS, {"provider": "openai", "endpoint_type": "chat", "row": "0", "q": "4o mini"})
    text = html.unescape(page.content.decode())
    found = options(text)
    assert "gpt-4o-mini" in found
    assert all("4o" in name and "mini" in name for name in found)
    assert f"{len(found)} matches for “4o mini”: choose one" in text
    assert f'id="models-0-search-status" hx-swap-oob="true" aria-live="polite">{len(found)} models match' in text


def test_an_exact_name_comes_first(as_alice):
    page = as_alice.get(MODELS, {"provider": "openai", "endpoint_type": "chat", "q": "gpt-4o"}).content.decode()
    assert options(page)[0] == "gpt-4o"


def test_a_chosen_model_the_search_leaves_out_stays_chosen(as_alice):
    query = {"provider": "openai", "endpoint_type": "chat", "row": "0", "q": "mini", "selected": "gpt-4o"}
    page = as_alice.get(MODELS, query).content.decode()
    assert options(page)[0] == "gpt-4o"
    assert '<option value="gpt-4o" selected>gpt-4o' in page
    assert all("mini" in name for name in options(page)[1:])
    assert 'id="models-0-info"' in page and "Context" in page  # its info panel stays too


def test_a_search_without_matches_says_so(as_alice):
    page = as_alice.get(MODELS, {"provider": "anthropic", "endpoint_type": "chat", "row": "1", "q": "zzz"})
    text = html.unescape(page.content.decode())
    assert options(text) == []
    assert "No models match “zzz”: change the search, or use a custom model" in text
    assert "No model matches “zzz”." in text


def test_a_model_of_another_type_is_not_kept_as_chosen(as_alice):
    query = {"provider": "openai", "endpoint_type": "embedding", "q": "small", "selected": "gpt-4o"}
    page = as_alice.get(MODELS, query).content.decode()
    assert options(page) == ["text-embedding-3-small"]
    assert " selected" not in page


def test_models_are_grouped_current_first_with_deprecation_next_to_the_name(as_alice):
    with mock.patch("django.utils.timezone.localdate", return_value=date(2026, 11, 1)):
        page = as_alice.get(MODELS, {"provider": "openai", "endpoint_type": "chat"}).content.decode()
    labels = re.findall(r'<optgroup label="([^"]+)"', html.unescape(page))
    assert labels == ["Current models", "Snapshots, previews and regional variants", "Deprecated", "Fine-tuned"]
    current, _, deprecated, fine_tuned = re.split(r"<optgroup ", page)[1:]
    assert '<option value="gpt-4o">' in current
    assert '<option value="gpt-4-0613">gpt-4-0613 — deprecated 2026-10-23</option>' in deprecated
    assert "ft:gpt-4o-2024-08-06" in fine_tuned and "ft:" not in current + deprecated


def test_the_form_renders_the_search_box_and_ordered_models_for_a_prefilled_row(as_alice, openai_key):
    page = as_alice.get("/endpoints/new?provider=openai&model=gpt-4o-mini").content.decode()
    assert 'class="ep-model-search js-model-search"' in page
    assert 'hx-trigger="input changed delay:250ms, search"' in page
    assert '<option value="gpt-4o-mini" selected>' in page
    models = options(page[page.index('id="id_models-0-model_name"') : page.index('id="models-0-search-status"')])
    assert models.index("gpt-4o") < models.index("gpt-4o-2024-08-06") and models[-1].startswith("ft:")
