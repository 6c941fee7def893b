"""The scorer pages through the test client: the form, the hand-off to a new endpoint, runs, Used by."""

from __future__ import annotations

import html
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client
from django.utils import timezone

from catalog import services as catalog
from endpoints.models import Binding, Endpoint
from keys import services as key_services
from scorers import services
from scorers.models import Scorer
from sharing import services as sharing
from sharing.levels import Level
from tests.scorers.conftest import INSTRUCTIONS, SAMPLE
from tests.ui.test_endpoint_pages import form_data

HTMX = {"HTTP_HX_REQUEST": "true"}


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def scorer_form(**fields) -> dict:
    return {"name": "Correctness", "instructions": INSTRUCTIONS, "answer_kind": "yes_no", "endpoint": "", **fields}


@pytest.mark.django_db
def test_create_endpoint_saves_the_scorer_and_comes_back_with_the_new_endpoint_linked(alice, openai_key):
    client = client_for(alice)
    response = client.post("/scorers/new", scorer_form(create_endpoint="1"))
    scorer = Scorer.objects.get()
    assert scorer.endpoint is None
    # The endpoint form, filled in for a judge: a chat endpoint on a model that suits judging.
    target = urlsplit(response["Location"])
    assert target.path == "/endpoints/new"
    assert {name: values[0] for name, values in parse_qs(target.query).items()} == {
        "for": f"scorer:{scorer.public_id}",
        "return_to": f"/scorers/{scorer.public_id}/edit",
        "endpoint_type": "chat",
        "name": "correctness-judge",
        "description": "The judge of scorer “Correctness”.",
        "provider": "openai",
        "model": "gpt-5.4-mini",
        "key": openai_key.public_id,
    }
    page = client.get(response["Location"])
    assert page.context["form"]["name"].value() == "correctness-judge"
    assert page.context["formset"].forms[0]["model_name"].value() == "gpt-5.4-mini"
    text = page.content.decode()
    assert f'This endpoint will be linked to Scorer <a href="/scorers/{scorer.public_id}/">“Correctness”</a>' in text
    # Saving it records the binding, links the scorer and returns to its form with the endpoint selected.
    carried = {"for": f"scorer:{scorer.public_id}", "return_to": f"/scorers/{scorer.public_id}/edit"}
    rows = [{"key_id": openai_key.public_id, "model_name": "gpt-5.4-mini"}]
    response = client.post("/endpoints/new", form_data(rows, name="correctness-judge", **carried))
    assert response["Location"] == f"/scorers/{scorer.public_id}/edit?endpoint=correctness-judge"
    scorer.refresh_from_db()
    assert scorer.endpoint.name == "correctness-judge"
    binding = Binding.objects.get()
    assert (binding.endpoint, binding.resource_type, binding.resource_id) == (
        scorer.endpoint,
        "scorer",
        scorer.public_id,
    )
    edit = client.get(response["Location"])
    assert edit.context["form"]["endpoint"].value() == "correctness-judge"
    assert '<option value="correctness-judge" selected>gateway:/correctness-judge</option>' in edit.content.decode()


@pytest.mark.django_db
def test_the_hand_off_names_a_free_endpoint_and_needs_a_valid_scorer_first(alice, openai_key, make_endpoint):
    make_endpoint(alice, name="correctness-judge")
    client = client_for(alice)
    response = client.post("/scorers/new", scorer_form(create_endpoint="1", instructions="No variables."))
    assert response.status_code == 422 and not Scorer.objects.exists()
    assert "Use at least one of {{ inputs }}, {{ outputs }} or {{ expectations }}." in html.unescape(
        response.content.decode()
    )
    response = client.post("/scorers/new", scorer_form(create_endpoint="1"))
    assert parse_qs(urlsplit(response["Location"]).query)["name"] == ["correctness-judge-2"]


@pytest.mark.django_db
def test_a_hand_off_by_someone_who_cannot_edit_the_scorer_binds_without_linking(alice, bob, openai_key):
    scorer = Scorer.objects.create(name="theirs", instructions=INSTRUCTIONS)
    sharing.grant(scorer, alice, Level.READ)
    rows = [{"key_id": openai_key.public_id}]
    client_for(alice).post("/endpoints/new", form_data(rows, name="mine", **{"for": f"scorer:{scorer.public_id}"}))
    scorer.refresh_from_db()
    assert scorer.endpoint is None
    assert Binding.objects.filter(resource_id=scorer.public_id).count() == 1


@pytest.mark.django_db
def test_the_endpoint_page_lists_its_scorers_by_name_for_those_who_may_see_them(alice, bob, make_endpoint):
    endpoint = make_endpoint(alice, name="judge")
    scorer = Scorer.objects.create(name="Correctness", instructions=INSTRUCTIONS)
    sharing.grant(scorer, alice, Level.MANAGE)
    client_for(alice).post(f"/scorers/{scorer.public_id}/edit", scorer_form(endpoint="judge"))
    page = client_for(alice).get(f"/endpoints/{endpoint.public_id}/").content.decode()
    assert f'Scorer <a href="/scorers/{scorer.public_id}/">“Correctness”</a>' in page
    sharing.grant(endpoint, bob, Level.READ)
    page = client_for(bob).get(f"/endpoints/{endpoint.public_id}/").content.decode()
    assert f"Scorer <code>{scorer.public_id}</code>" in page and "Correctness" not in page
    # Deleting it warns with the same names.
    dialog = client_for(alice).get(f"/endpoints/{endpoint.public_id}/delete").content.decode()
    assert "In use by 1 resource" in dialog and "“Correctness”" in dialog


@pytest.mark.django_db
def test_the_form_offers_only_chat_endpoints_the_user_may_use(alice, bob, make_endpoint):
    usable = make_endpoint(alice, name="usable")
    readable = make_endpoint(alice, name="readable")
    sharing.grant(usable, bob, Level.USE)
    sharing.grant(readable, bob, Level.READ)
    choices = dict(client_for(bob).get("/scorers/new").context["form"].fields["endpoint"].choices)
    assert choices == {"": "None yet", "usable": "gateway:/usable"}
    response = client_for(bob).post("/scorers/new", scorer_form(endpoint="readable"))
    assert response.status_code == 422
    assert "Select a valid choice." in response.content.decode()


@pytest.mark.django_db
def test_the_scorer_pages_follow_its_levels(alice, bob, charlie):
    scorer = Scorer.objects.create(name="Correctness", instructions=INSTRUCTIONS)
    sharing.grant(scorer, alice, Level.MANAGE)
    sharing.grant(scorer, bob, Level.READ)
    base = f"/scorers/{scorer.public_id}/"
    assert client_for(charlie).get(base).status_code == 404
    assert "Correctness" not in client_for(charlie).get("/scorers/").content.decode()
    page = client_for(bob).get(base).content.decode()
    assert "Correctness" in page and "Try it" not in page and "Edit" not in page
    assert client_for(bob).get(base + "edit").status_code == 403
    assert client_for(bob).post(base + "run", SAMPLE).status_code == 403
    assert client_for(bob).post(base + "delete").status_code == 403
    assert client_for(alice).post(base + "delete").status_code == 302
    assert not Scorer.objects.exists()


def test_running_from_the_page_shows_score_reason_model_and_latency(judge_world, make_scorer):
    scorer = make_scorer(judge_world.alice, endpoint=judge_world.judge)
    response = client_for(judge_world.alice).post(f"/scorers/{scorer.public_id}/run", SAMPLE, **HTMX)
    assert response.status_code == 200
    page = response.content.decode()
    assert '<span data-testid="run-score">yes</span>' in page
    assert "The answer names Paris, as expected." in page
    assert '<span class="mono" data-testid="run-model">openai/judge-model</span>' in page
    run = response.context["run"]
    assert run.latency_ms > 0
    # The call is in the endpoint's request log, linked from the verdict.
    log_url = f"/endpoints/{judge_world.judge.public_id}/requests?request_id={run.request_id}"
    assert f'<a href="{log_url}">in the request log</a>' in page
    (logged,) = judge_world.logged(judge_world.judge)
    listed = client_for(judge_world.alice).get(log_url)
    assert [row.pk for row in listed.context["page"]] == [logged.pk]


def test_a_failed_run_shows_the_proxys_reason_on_the_page(judge_world, make_scorer):
    scorer = make_scorer(judge_world.alice, endpoint=judge_world.judge)
    judge_world.upstream.configure("judge-model", fail_status=500)
    response = client_for(judge_world.alice).post(f"/scorers/{scorer.public_id}/run", SAMPLE, **HTMX)
    page = response.content.decode()
    assert response.status_code == 200 and 'data-testid="run-failure"' in page
    assert "The run failed (" in page
    missing = client_for(judge_world.alice).post(f"/scorers/{scorer.public_id}/run", {"inputs": "q"}, **HTMX)
    assert missing.status_code == 422
    assert "These instructions use {{ outputs }}; give outputs." in html.unescape(missing.content.decode())


@pytest.mark.django_db
def test_the_admin_saves_through_the_service(admin_client, alice, make_endpoint):
    endpoint = make_endpoint(alice, name="judge")
    data = {"name": "From admin", "instructions": "Rate {{ outputs }}.", "answer_kind": "scale_1_5"}
    response = admin_client.post("/admin/scorers/scorer/add/", {**data, "endpoint": endpoint.pk})
    assert response.status_code == 302
    scorer = Scorer.objects.get()
    assert Binding.objects.get().resource_id == scorer.public_id
    response = admin_client.post("/admin/scorers/scorer/add/", {**data, "name": "Bad", "instructions": "none"})
    assert response.status_code == 200 and Scorer.objects.count() == 1
    assert "Use at least one of" in response.content.decode()
    assert Endpoint.objects.count() == 1


@pytest.mark.parametrize("provider", sorted(services.JUDGE_MODELS))
def test_every_provider_of_the_hand_off_has_a_judge_in_the_catalog(provider):
    model = services.suggested_judge(provider)
    assert model is not None and catalog.get_model(provider, model)["mode"] == "chat"


@pytest.mark.parametrize(
    ("retiring", "suggested"),
    [
        ((), "gpt-5.4-mini"),
        (("gpt-5.4-mini",), "gpt-4.1-mini"),
        (("gpt-5.4-mini", "gpt-4.1-mini"), "gpt-4o-mini"),
        (("gpt-5.4-mini", "gpt-4.1-mini", "gpt-4o-mini"), "gpt-5.4-mini"),  # all retire: still a judge
    ],
)
def test_a_judge_retiring_soon_gives_way_to_the_next(monkeypatch, retiring, suggested):
    real = catalog.get_model
    soon = (timezone.localdate() + timedelta(days=catalog.DEPRECATION_NOTICE_DAYS - 1)).isoformat()

    def dated(provider, name):
        return {**real(provider, name), "deprecation_date": soon if name in retiring else None}

    monkeypatch.setattr(catalog, "get_model", dated)
    assert services.suggested_judge("openai") == suggested


@pytest.mark.django_db
def test_the_judge_suggested_follows_the_keys_the_user_may_use(alice, bob):
    assert services.judge_model(bob) == {}
    claude = key_services.create_key(actor=bob, name="claude", provider="anthropic", secret="sk-ant-000000000000")
    assert services.judge_model(bob) == {"provider": "anthropic", "model": "claude-haiku-4-5", "key": claude.public_id}
    other = key_services.create_key(actor=bob, name="cohere", provider="cohere", secret="co-0000000000000000")
    key_services.delete_key(claude, actor=bob)
    assert services.judge_model(bob) == {"provider": "cohere", "key": other.public_id}
