"""The scorers API: create and link, permissions with several users, and runs through the proxy."""

from __future__ import annotations

import json

import pytest

from audit.models import AuditEvent
from endpoints import lifecycle
from endpoints.models import Binding
from scorers import services
from scorers.models import Scorer
from sharing import services as sharing
from sharing.levels import Level
from tests.scorers.conftest import INSTRUCTIONS, SAMPLE
from tokens.models import GatewayToken

BASE = "/api/3.0/mlflow/gateway/scorers/"


def run_url(scorer) -> str:
    return f"{BASE}{scorer.public_id}/run"


def test_creating_a_scorer_links_its_endpoint_and_records_the_binding(api, judge_world):
    alice = judge_world.alice
    body = {"name": "correctness", "instructions": INSTRUCTIONS, "answer_kind": "yes_no", "endpoint": "gateway:/judge"}
    response = api(alice).post(BASE, body, format="json")
    assert response.status_code == 201, response.data
    scorer = Scorer.objects.get()
    assert response.data == {
        "id": scorer.public_id,
        "name": "correctness",
        "instructions": INSTRUCTIONS,
        "answer_kind": "yes_no",
        "endpoint": "gateway:/judge",
        "created_by": "alice",
        "created_at": response.data["created_at"],
        "updated_at": response.data["updated_at"],
    }
    binding = Binding.objects.get()
    assert (binding.endpoint, binding.resource_type, binding.resource_id) == (
        judge_world.judge,
        "scorer",
        scorer.public_id,
    )
    assert sharing.get_level(alice, scorer) == Level.MANAGE
    assert AuditEvent.objects.filter(object_type="scorer", action="create").count() == 1


def test_changing_the_endpoint_moves_the_binding_and_unlinking_removes_it(api, judge_world, make_scorer):
    other = judge_world.endpoint(name="judge-2", models=[judge_world.model("judge-model")])
    scorer = make_scorer(judge_world.alice, endpoint=judge_world.judge)
    client = api(judge_world.alice)
    assert client.patch(f"{BASE}{scorer.public_id}", {"endpoint": "gateway:/judge-2"}, format="json").status_code == 200
    assert list(Binding.objects.values_list("endpoint__name", flat=True)) == ["judge-2"]
    assert client.patch(f"{BASE}{scorer.public_id}", {"endpoint": None}, format="json").data["endpoint"] is None
    assert not Binding.objects.exists()
    assert other.bindings.count() == 0


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"endpoint": "judge"}, {"endpoint": ["Write the endpoint as gateway:/<endpoint-name>."]}),
        ({"endpoint": "gateway:/nope"}, {"endpoint": ["No endpoint named 'nope' that you can see."]}),
        ({"endpoint": 7}, {"endpoint": ["Give a string."]}),
        (
            {"instructions": "Rate it."},
            {"instructions": ["Use at least one of {{ inputs }}, {{ outputs }} or {{ expectations }}."]},
        ),
        ({"answer_kind": "stars"}, {"answer_kind": ['"stars" is not a valid choice.']}),
        ({"name": "a\x1bb"}, {"name": ["Remove the control characters from this text."]}),
    ],
)
def test_bad_input_gets_field_errors(api, judge_world, body, errors):
    data = {"name": "s", "instructions": INSTRUCTIONS, **body}
    response = api(judge_world.alice).post(BASE, data, format="json")
    assert (response.status_code, response.json()) == (400, errors)
    assert not Scorer.objects.exists()


def test_linking_needs_use_on_the_endpoint_and_a_chat_endpoint(api, judge_world):
    bob = judge_world.bob
    judge_world.share(judge_world.judge, bob, Level.READ)
    body = {"name": "s", "instructions": INSTRUCTIONS, "endpoint": "gateway:/judge"}
    response = api(bob).post(BASE, body, format="json")
    assert response.status_code == 400
    assert response.json() == {"endpoint": ["You need USE permission on endpoint 'judge' to judge with it."]}
    # charlie cannot see it at all: the same answer as for a name that does not exist.
    response = api(judge_world.charlie).post(BASE, body, format="json")
    assert response.json() == {"endpoint": ["No endpoint named 'judge' that you can see."]}
    judge_world.endpoint(name="vectors", endpoint_type="embedding", models=[judge_world.model("embed-model")])
    response = api(judge_world.alice).post(BASE, {**body, "endpoint": "gateway:/vectors"}, format="json")
    assert response.json() == {"endpoint": ["Endpoint 'vectors' is of type embedding; a judge needs a chat endpoint."]}


def test_an_editor_keeps_an_endpoint_someone_else_linked(api, judge_world, make_scorer):
    scorer = make_scorer(judge_world.alice, endpoint=judge_world.judge)
    sharing.grant(scorer, judge_world.bob, Level.EDIT)
    response = api(judge_world.bob).patch(f"{BASE}{scorer.public_id}", {"name": "renamed"}, format="json")
    assert response.status_code == 200 and response.data["endpoint"] == "gateway:/judge"


def test_levels_on_a_scorer(api, judge_world, make_scorer):
    alice, bob, charlie = judge_world.alice, judge_world.bob, judge_world.charlie
    scorer = make_scorer(alice, endpoint=judge_world.judge)
    detail = f"{BASE}{scorer.public_id}"
    assert api(charlie).get(detail).status_code == 404
    assert api(charlie).get(BASE).data["results"] == []
    sharing.grant(scorer, bob, Level.READ)
    assert api(bob).get(detail).status_code == 200
    assert api(bob).patch(detail, {"name": "x"}, format="json").status_code == 403
    assert api(bob).post(run_url(scorer), SAMPLE, format="json").status_code == 403
    assert api(bob).delete(detail).status_code == 403
    sharing.grant(scorer, bob, Level.EDIT)
    assert api(bob).patch(detail, {"name": "x"}, format="json").status_code == 200
    assert api(bob).delete(detail).status_code == 403
    sharing.grant(scorer, bob, Level.MANAGE)
    assert api(bob).delete(detail).status_code == 204
    assert not Scorer.objects.exists() and not Binding.objects.exists()


def test_running_judges_the_sample_through_the_proxy_as_the_caller(api, judge_world, make_scorer):
    scorer = make_scorer(judge_world.alice, endpoint=judge_world.judge)
    response = api(judge_world.alice).post(run_url(scorer), SAMPLE, format="json")
    assert response.status_code == 200, response.data
    data = response.json()
    assert (data["score"], data["reason"], data["model"], data["endpoint"]) == (
        "yes",
        "The answer names Paris, as expected.",
        "openai/judge-model",
        "judge",
    )
    assert data["latency_ms"] > 0
    call = judge_world.calls_to("/chat/completions")[-1]
    sent = call["json"]["messages"]
    assert sent[0]["role"] == "system" and '"score": "yes" or "no"' in sent[0]["content"]
    assert sent[1]["content"] == (
        "Is Paris. a correct answer to What is the capital of France?? The expected answer is Paris."
    )
    # Logged as alice's request, under the id the run reports; its one-off token is gone.
    (log,) = judge_world.logged(judge_world.judge)
    assert (log.user_id, log.status_code, log.request_id.hex) == (judge_world.alice.pk, 200, data["request_id"])
    assert not GatewayToken.objects.exists()


def test_a_scale_scorer_reads_a_score_from_1_to_5(api, judge_world, make_scorer):
    judge_world.upstream.configure("judge-model", chunks=[json.dumps({"score": 2, "reason": "Vague."})])
    scorer = make_scorer(judge_world.alice, endpoint=judge_world.judge, answer_kind="scale_1_5")
    data = api(judge_world.alice).post(run_url(scorer), SAMPLE, format="json").json()
    assert (data["score"], data["reason"]) == (2, "Vague.")


def test_running_needs_use_on_the_endpoint_too(api, judge_world, make_scorer):
    scorer = make_scorer(judge_world.alice, endpoint=judge_world.judge)
    sharing.grant(scorer, judge_world.bob, Level.USE)
    response = api(judge_world.bob).post(run_url(scorer), SAMPLE, format="json")
    # The proxy answers bob as it would any client of his: he cannot see the endpoint.
    assert response.status_code == 404
    assert response.json()["detail"] == "The model 'judge' does not exist or you do not have access to it."
    judge_world.share(judge_world.judge, judge_world.bob, Level.READ)
    response = api(judge_world.bob).post(run_url(scorer), SAMPLE, format="json")
    assert response.status_code == 403
    judge_world.share(judge_world.judge, judge_world.bob, Level.USE)
    response = api(judge_world.bob).post(run_url(scorer), SAMPLE, format="json")
    assert (response.status_code, response.json()["score"]) == (200, "yes")
    # Only the allowed run reached the provider and the endpoint's log, as bob's.
    assert len(judge_world.calls_to("/chat/completions")) == 1
    assert [log.user_id for log in judge_world.logged(judge_world.judge)] == [judge_world.bob.pk]


def test_a_stopped_endpoint_or_a_missing_value_fails_with_the_reason(api, judge_world, make_scorer):
    scorer = make_scorer(judge_world.alice, endpoint=judge_world.judge)
    client = api(judge_world.alice)
    response = client.post(run_url(scorer), {"inputs": "q", "outputs": "a"}, format="json")
    assert (response.status_code, response.json()) == (
        400,
        {"expectations": ["These instructions use {{ expectations }}; give expectations."]},
    )
    lifecycle.stop_endpoint(judge_world.judge, actor=judge_world.alice)
    response = client.post(run_url(scorer), SAMPLE, format="json")
    assert response.status_code == 409
    assert response.json()["detail"] == "'judge' is stopped; start it before calling it."
    assert not judge_world.calls_to("/chat/completions")


def test_an_unreadable_answer_is_a_502_with_the_answer(api, judge_world, make_scorer):
    judge_world.upstream.configure("judge-model", chunks=["I would rather not say."])
    scorer = make_scorer(judge_world.alice, endpoint=judge_world.judge)
    response = api(judge_world.alice).post(run_url(scorer), SAMPLE, format="json")
    assert response.status_code == 502
    assert response.json() == {
        "detail": 'The judge\'s answer holds no "yes" or "no".',
        "answer": "I would rather not say.",
        "request_id": response.json()["request_id"],
    }


def test_a_scorer_without_an_endpoint_cannot_run(api, judge_world, make_scorer):
    scorer = make_scorer(judge_world.alice)
    response = api(judge_world.alice).post(run_url(scorer), SAMPLE, format="json")
    assert (response.status_code, response.json()) == (
        400,
        {"endpoint": ["This scorer has no endpoint yet; link one first."]},
    )


def test_deleting_the_bound_endpoint_warns_then_unlinks_the_scorer(api, judge_world, make_scorer):
    scorer = make_scorer(judge_world.alice, endpoint=judge_world.judge)
    url = f"/api/3.0/mlflow/gateway/endpoints/{judge_world.judge.public_id}"
    response = api(judge_world.alice).delete(url)
    assert response.status_code == 409
    assert response.json()["bindings"] == [{"resource_type": "scorer", "resource_id": scorer.public_id}]
    assert api(judge_world.alice).delete(url + "?force=true").status_code == 204
    scorer.refresh_from_db()
    assert scorer.endpoint is None


def test_a_name_taken_by_a_concurrent_save_is_a_field_error(api, judge_world, make_scorer, monkeypatch):
    make_scorer(judge_world.alice, name="taken")
    body = {"name": "taken", "instructions": INSTRUCTIONS}
    assert api(judge_world.alice).post(BASE, body, format="json").json() == {"name": [services.NAME_TAKEN]}
    # The check passed, then another save took the name: the database's refusal reads the same.
    monkeypatch.setattr(Scorer, "full_clean", lambda self, **kwargs: None)
    response = api(judge_world.alice).post(BASE, body, format="json")
    assert (response.status_code, response.json()) == (400, {"name": [services.NAME_TAKEN]})
    assert Scorer.objects.filter(name="taken").count() == 1


def test_removing_the_binding_through_the_endpoints_api_unlinks_the_scorer(api, judge_world, make_scorer):
    scorer = make_scorer(judge_world.alice, endpoint=judge_world.judge)
    url = f"/api/3.0/mlflow/gateway/endpoints/{judge_world.judge.public_id}/bindings"
    query = f"?resource_type=scorer&resource_id={scorer.public_id}"
    # bob may use the endpoint but not edit the scorer: refused, and the scorer keeps its judge and its row.
    judge_world.share(judge_world.judge, judge_world.bob, Level.USE)
    response = api(judge_world.bob).delete(url + query)
    assert (response.status_code, response.json()) == (
        400,
        {"resource_id": ["A scorer judges with this endpoint; someone who may edit the scorer must unlink it."]},
    )
    scorer.refresh_from_db()
    assert scorer.endpoint == judge_world.judge and Binding.objects.count() == 1
    assert api(judge_world.alice).delete(url + query).status_code == 204
    scorer.refresh_from_db()
    assert scorer.endpoint is None and not Binding.objects.exists()
    assert api(judge_world.alice).delete(url + query).status_code == 404
