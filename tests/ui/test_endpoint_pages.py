"""The endpoint pages of the web UI: list, form, detail, fragments and the POST actions."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from endpoints import services
from endpoints.charts import bucket_series
from endpoints.models import Binding, Endpoint, RequestLog, Status
from endpoints.validation import ModelSpec
from keys import services as key_services
from sharing import services as sharing
from sharing.levels import Level

pytestmark = pytest.mark.django_db

SECRET = "sk-openai-secret-0000AAAA"


@pytest.fixture
def openai_key(alice):
    return key_services.create_key(actor=alice, name="openai", provider="openai", secret=SECRET)


@pytest.fixture
def make_endpoint(openai_key):
    def make(owner, *, name="chat-prod", endpoint_type="chat", model_name="gpt-4o", **fields):
        spec = ModelSpec(provider="openai", model_name=model_name, key_id=openai_key.public_id)
        return services.create_endpoint(actor=owner, name=name, endpoint_type=endpoint_type, models=[spec], **fields)

    return make


@pytest.fixture
def as_user(client):
    def login(user):
        client.force_login(user)
        return client

    return login


def form_data(rows, name="chat-prod", endpoint_type="chat", **extra):
    """The POST body of the endpoint form, with one formset row per dict in ``rows``."""
    data = {
        "name": name,
        "endpoint_type": endpoint_type,
        "description": "",
        "rate_limit_rpm": "",
        "rate_limit_tpm": "",
        "models-TOTAL_FORMS": str(len(rows)),
        "models-INITIAL_FORMS": str(len(rows)),
        "models-MIN_NUM_FORMS": "0",
        "models-MAX_NUM_FORMS": "1000",
    }
    for index, row in enumerate(rows):
        values = {"provider": "openai", "model_name": "gpt-4o", "weight": "", "priority": "1", **row}
        data.update({f"models-{index}-{field}": value for field, value in values.items()})
    return {**data, **extra}


def url(endpoint, action=""):
    return f"/endpoints/{endpoint.public_id}/{action}"


# -- list ---------------------------------------------------------------------------------------


def test_the_list_shows_only_endpoints_the_user_can_read(as_user, alice, bob, make_endpoint):
    shared = make_endpoint(alice, name="shared-one")
    make_endpoint(alice, name="private-one")
    sharing.grant(shared, bob, Level.READ)
    page = as_user(bob).get("/endpoints/").content.decode()
    assert "shared-one" in page
    assert "private-one" not in page


def test_the_list_filters_by_search_type_and_status(as_user, alice, make_endpoint):
    make_endpoint(alice, name="chat-alpha", description="support bot")
    make_endpoint(alice, name="embed-beta", endpoint_type="embedding", model_name="text-embedding-3-small")
    running = make_endpoint(alice, name="chat-gamma")
    Endpoint.objects.filter(pk=running.pk).update(status=Status.RUNNING)
    client = as_user(alice)

    def names(query):
        response = client.get(f"/endpoints/?{query}")
        return {e.name for e in response.context["page"].object_list}

    assert names("q=support") == {"chat-alpha"}
    assert names("q=beta") == {"embed-beta"}
    assert names("endpoint_type=embedding") == {"embed-beta"}
    assert names("status=running") == {"chat-gamma"}
    assert names("endpoint_type=chat&status=stopped") == {"chat-alpha"}


def test_an_htmx_search_returns_only_the_table(as_user, alice, make_endpoint):
    make_endpoint(alice, name="chat-alpha")
    response = as_user(alice).get("/endpoints/?q=alpha", headers={"HX-Request": "true"})
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="endpoint-table"')
    assert "<html" not in body and "chat-alpha" in body
    assert "HX-Request" in response["Vary"]


def test_the_list_paginates_by_twenty(as_user, alice, make_endpoint):
    for number in range(23):
        make_endpoint(alice, name=f"ep-{number:02d}")
    client = as_user(alice)
    first, second = client.get("/endpoints/"), client.get("/endpoints/?page=2")
    assert len(first.context["page"].object_list) == 20
    assert [e.name for e in second.context["page"].object_list] == ["ep-20", "ep-21", "ep-22"]
    assert "Page 2 of 2" in second.content.decode()


# -- create and edit ----------------------------------------------------------------------------


def test_creating_with_two_models_splits_the_traffic_and_records_a_revision(as_user, alice, openai_key):
    rows = [
        {"key_id": openai_key.public_id, "weight": "0.7"},
        {"key_id": openai_key.public_id, "model_name": "gpt-4o-mini", "weight": "0.3"},
    ]
    response = as_user(alice).post("/endpoints/new", form_data(rows))
    endpoint = Endpoint.objects.get(name="chat-prod")
    assert response.status_code == 302 and response["Location"] == url(endpoint)
    assert sorted((m.model_name, m.weight) for m in endpoint.models.all()) == [("gpt-4o", 0.7), ("gpt-4o-mini", 0.3)]
    assert list(endpoint.revisions.values_list("number", flat=True)) == [1]
    assert sharing.get_level(alice, endpoint) == Level.MANAGE


def test_weights_that_do_not_sum_to_one_are_reported_near_the_rows(as_user, alice, openai_key):
    rows = [{"key_id": openai_key.public_id, "weight": "0.7"}, {"key_id": openai_key.public_id, "weight": "0.2"}]
    response = as_user(alice).post("/endpoints/new", form_data(rows))
    assert response.status_code == 400
    assert any("sum to 0.9" in error for error in response.context["weight_errors"])
    assert "sum to 0.9" in response.content.decode()
    assert not Endpoint.objects.exists()


def test_an_unknown_model_on_a_provider_key_is_reported_on_its_row(as_user, alice, openai_key):
    rows = [
        {"key_id": openai_key.public_id, "weight": "0.5"},
        {"key_id": openai_key.public_id, "weight": "0.5", "custom": "on", "custom_model_name": "my-llama"},
    ]
    response = as_user(alice).post("/endpoints/new", form_data(rows))
    assert response.status_code == 400
    first, second = response.context["formset"].forms
    assert not first.errors
    message = second.errors["custom_model_name"][0]
    assert message == (
        "'my-llama' is not in the catalog for openai; to serve a model of your own, "
        "use a key that points at its server (the key's API base URL)."
    )
    assert not Endpoint.objects.exists()


def test_a_custom_model_on_a_key_with_its_own_server_is_accepted(as_user, alice, server_key):
    row = {"key_id": server_key.public_id, "custom": "on", "custom_model_name": "my-llama"}
    response = as_user(alice).post("/endpoints/new", form_data([row]))
    assert response.status_code == 302
    model = Endpoint.objects.get().models.get()
    assert (model.model_name, model.key, model.litellm_params) == ("my-llama", server_key, {})


def test_the_form_refuses_a_destination_on_a_model(as_user, alice, openai_key):
    row = {"key_id": openai_key.public_id, "extra_params": '{"api_base": "http://attacker.example/v1"}'}
    response = as_user(alice).post("/endpoints/new", form_data([row]))
    assert response.status_code == 400
    assert response.context["formset"].forms[0].errors["extra_params"] == [
        "'api_base' decides where the key's secret is sent; set it on the key, not on the endpoint's model."
    ]
    assert not Endpoint.objects.exists()


def test_a_key_the_user_cannot_use_is_reported_on_its_row(as_user, alice, bob, openai_key):
    sharing.grant(openai_key, bob, Level.READ)
    response = as_user(bob).post("/endpoints/new", form_data([{"key_id": openai_key.public_id}]))
    assert response.status_code == 400
    assert "You need USE permission" in response.context["formset"].forms[0].errors["key_id"][0]
    assert not Endpoint.objects.exists()


def test_a_bad_name_and_a_bad_row_are_reported_together(as_user, alice, openai_key):
    rows = [{"key_id": openai_key.public_id, "model_name": "not-a-model"}]
    response = as_user(alice).post("/endpoints/new", form_data(rows, name="Not a slug!"))
    assert response.status_code == 400
    assert "name" in response.context["form"].errors
    assert "model_name" in response.context["formset"].forms[0].errors


def test_the_key_picker_offers_only_keys_the_user_may_use(as_user, alice, bob, openai_key):
    usable = key_services.create_key(actor=bob, name="bobs-key", provider="openai", secret="sk-bob-0000CCCC")
    sharing.grant(openai_key, bob, Level.READ)
    page = as_user(bob).get("/endpoints/new").content.decode()
    assert usable.public_id in page
    assert openai_key.public_id not in page


def test_query_parameters_pre_fill_the_form_and_carry_the_hand_off(as_user, alice, openai_key):
    query = "name=scorer-llm&endpoint_type=chat&provider=openai&model=gpt-4o-mini&for=tool:s-42"
    response = as_user(alice).get(f"/endpoints/new?{query}&key={openai_key.public_id}&return_to=/keys/")
    page = response.content.decode()
    assert response.context["form"]["name"].value() == "scorer-llm"
    row = response.context["formset"].forms[0]
    assert (row["model_name"].value(), row["key_id"].value()) == ("gpt-4o-mini", openai_key.public_id)
    assert '<option value="gpt-4o-mini" selected>' in page
    for hidden in ('name="for" value="tool:s-42"', 'name="return_to" value="/keys/"'):
        assert hidden in page
    # A resource type no app registered is named as given.
    assert "This endpoint will be linked to tool <code>s-42</code>, and you will return there" in page


def test_a_key_the_user_may_not_use_is_not_pre_selected(as_user, alice, bob, openai_key):
    sharing.grant(openai_key, bob, Level.READ)
    response = as_user(bob).get(f"/endpoints/new?provider=openai&key={openai_key.public_id}")
    assert not response.context["formset"].forms[0]["key_id"].value()


def test_creating_with_a_hand_off_records_the_binding_and_returns_with_the_endpoint(as_user, alice, openai_key):
    extra = {"for": "tool:s-42", "return_to": "/keys/?tab=mine&endpoint=old"}
    data = form_data([{"key_id": openai_key.public_id}], name="scorer-llm", **extra)
    response = as_user(alice).post("/endpoints/new", data)
    assert response.status_code == 302 and response["Location"] == "/keys/?tab=mine&endpoint=scorer-llm"
    binding = Binding.objects.get()
    assert (binding.endpoint.name, binding.resource_type, binding.resource_id) == ("scorer-llm", "tool", "s-42")


def test_a_malformed_for_is_refused_with_nothing_created(as_user, alice, openai_key):
    data = form_data([{"key_id": openai_key.public_id}], name="scorer-llm", **{"for": "tool"})
    response = as_user(alice).post("/endpoints/new", data)
    assert response.status_code == 400
    assert "Give the resource as &lt;resource_type&gt;:&lt;resource_id&gt;." in response.content.decode()
    assert not Endpoint.objects.exists() and not Binding.objects.exists()


@pytest.mark.parametrize(
    "return_to", ["https://evil.example/steal", "//evil.example/", "javascript:alert(1)", "keys/", "/\\evil.example"]
)
def test_a_return_to_off_this_site_is_ignored(as_user, alice, openai_key, return_to):
    data = form_data([{"key_id": openai_key.public_id}], return_to=return_to)
    response = as_user(alice).post("/endpoints/new", data)
    assert response["Location"] == url(Endpoint.objects.get())
    assert as_user(alice).get("/endpoints/new", {"return_to": return_to}).context["next_url"] is None


def test_editing_changes_the_models_and_adds_a_revision(as_user, alice, openai_key, make_endpoint):
    endpoint = make_endpoint(alice)
    model_id = endpoint.models.get().public_id
    rows = [
        {"id": model_id, "key_id": openai_key.public_id, "weight": "0.5"},
        {"key_id": openai_key.public_id, "model_name": "gpt-4o-mini", "weight": "0.5"},
    ]
    response = as_user(alice).post(url(endpoint, "edit"), form_data(rows, rate_limit_rpm="60"))
    assert response.status_code == 302
    endpoint.refresh_from_db()
    assert endpoint.rate_limit_rpm == 60 and endpoint.models.count() == 2
    assert endpoint.models.filter(pk=model_id).exists()
    assert list(endpoint.revisions.values_list("number", flat=True)) == [2, 1]


def test_a_removed_row_is_dropped(as_user, alice, openai_key, make_endpoint):
    endpoint = make_endpoint(alice)
    rows = [
        {"key_id": openai_key.public_id, "model_name": "gpt-4o-mini"},
        {"key_id": openai_key.public_id, "DELETE": "on"},
    ]
    as_user(alice).post(url(endpoint, "edit"), form_data(rows))
    assert [m.model_name for m in endpoint.models.all()] == ["gpt-4o-mini"]


# -- catalog fragments --------------------------------------------------------------------------


def test_the_catalog_models_fragment_filters_by_provider_and_type(as_user, alice):
    client = as_user(alice)
    embeddings = client.get("/endpoints/catalog/models?provider=openai&endpoint_type=embedding&row=2").content.decode()
    chat = client.get("/endpoints/catalog/models?provider=openai&endpoint_type=chat&row=2").content.decode()
    claude = client.get("/endpoints/catalog/models?provider=anthropic&endpoint_type=chat&row=2").content.decode()
    assert 'value="text-embedding-3-small"' in embeddings and 'value="gpt-4o"' not in embeddings
    assert 'value="gpt-4o"' in chat and 'value="text-embedding-3-small"' not in chat
    assert "claude" in claude and 'value="gpt-4o"' not in claude
    assert 'id="models-2-info"' in chat and "hx-swap-oob" in chat


def test_the_model_info_fragment_shows_context_prices_and_capabilities(as_user, alice):
    page = as_user(alice).get("/endpoints/catalog/model-info?provider=openai&model_name=gpt-4o&row=0").content.decode()
    assert 'id="models-0-info"' in page
    assert "128,000 tokens" in page and "/ 1M" in page
    assert "Vision" in page and "Tools" in page


# -- detail, permissions ------------------------------------------------------------------------


def test_the_owner_sees_every_action(as_user, alice, make_endpoint):
    endpoint = make_endpoint(alice)
    page = html.unescape(as_user(alice).get(url(endpoint)).content.decode())
    for action in ("start", "edit", "delete"):
        assert url(endpoint, action) in page
    assert f'hx-get="/share/endpoint/{endpoint.public_id}/"' in page
    assert "http://testserver/gateway/chat-prod/invocations" in page
    assert 'OpenAI(base_url="http://testserver/v1", api_key="<your gateway token>")' in page


def test_a_reader_sees_no_action_buttons_and_cannot_post_them(as_user, alice, bob, make_endpoint):
    endpoint = make_endpoint(alice)
    sharing.grant(endpoint, bob, Level.READ)
    client = as_user(bob)
    page = client.get(url(endpoint)).content.decode()
    assert "chat-prod" in page
    for action in ("start", "stop", "edit", "delete", "revisions/1/restore"):
        assert url(endpoint, action) not in page
    for action in ("start", "stop", "delete", "revisions/1/restore"):
        assert client.post(url(endpoint, action)).status_code == 403
    assert client.get(url(endpoint, "edit")).status_code == 403


def test_an_editor_may_start_and_edit_but_not_delete(as_user, alice, bob, make_endpoint):
    endpoint = make_endpoint(alice)
    sharing.grant(endpoint, bob, Level.EDIT)
    page = as_user(bob).get(url(endpoint)).content.decode()
    assert url(endpoint, "start") in page and url(endpoint, "edit") in page
    assert url(endpoint, "delete") not in page
    assert as_user(bob).post(url(endpoint, "delete")).status_code == 403


@pytest.mark.parametrize("action", ["", "status-fragment", "activity", "edit"])
def test_an_outsider_gets_404(as_user, alice, charlie, make_endpoint, action):
    endpoint = make_endpoint(alice)
    assert as_user(charlie).get(url(endpoint, action)).status_code == 404


def test_an_outsider_gets_404_on_actions(as_user, alice, charlie, make_endpoint):
    endpoint = make_endpoint(alice)
    client = as_user(charlie)
    for action in ("start", "stop", "delete"):
        assert client.post(url(endpoint, action)).status_code == 404


def test_pages_need_a_login(client, alice, make_endpoint):
    endpoint = make_endpoint(alice)
    for path in ("/endpoints/", "/endpoints/new", url(endpoint)):
        response = client.get(path)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


# -- lifecycle ----------------------------------------------------------------------------------


def test_start_polls_until_running_then_answers_286(as_user, alice, make_endpoint, django_capture_on_commit_callbacks):
    endpoint = make_endpoint(alice)
    client = as_user(alice)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(url(endpoint, "start"), headers={"HX-Request": "true"})
    fragment = response.content.decode()
    assert response.status_code == 200 and "badge-starting" in fragment
    assert 'hx-trigger="load delay:0.5s, every 2s"' in fragment
    assert 'id="messages"' in fragment and 'hx-swap-oob="true"' in fragment  # the flash, out of band
    polling = client.get(url(endpoint, "status-fragment"))
    assert polling.status_code == 200 and "every 2s" in polling.content.decode()

    for callback in callbacks:
        callback()
    final = client.get(url(endpoint, "status-fragment"))
    assert final.status_code == 286
    assert "badge-running" in final.content.decode() and "every 2s" not in final.content.decode()
    assert url(endpoint, "stop") in final.content.decode()


def test_start_without_htmx_redirects_and_runs(as_user, alice, make_endpoint, django_capture_on_commit_callbacks):
    endpoint = make_endpoint(alice)
    with django_capture_on_commit_callbacks(execute=True):
        response = as_user(alice).post(url(endpoint, "start"))
    assert response.status_code == 302 and response["Location"] == url(endpoint)
    endpoint.refresh_from_db()
    assert endpoint.status == Status.RUNNING


def test_a_refused_start_is_a_flash_message_of_every_problem(as_user, alice, make_endpoint):
    endpoint = make_endpoint(alice)
    endpoint.models.update(model_name="no-such-model")

    response = as_user(alice).post(url(endpoint, "start"), follow=True)

    [message] = [str(message) for message in response.context["messages"]]
    assert message.startswith("Cannot start: 'no-such-model' is not in the catalog for openai;")
    endpoint.refresh_from_db()
    assert endpoint.status == Status.STOPPED


def test_stop_returns_the_stopped_fragment(as_user, alice, make_endpoint):
    endpoint = make_endpoint(alice)
    Endpoint.objects.filter(pk=endpoint.pk).update(status=Status.RUNNING)
    response = as_user(alice).post(url(endpoint, "stop"), headers={"HX-Request": "true"})
    assert "badge-stopped" in response.content.decode()
    endpoint.refresh_from_db()
    assert endpoint.status == Status.STOPPED


def test_deleting_a_bound_endpoint_shows_the_conflict_and_offers_force(as_user, alice, make_endpoint):
    endpoint = make_endpoint(alice)
    services.add_binding(endpoint, actor=alice, resource_type="scorer", resource_id="s-42")
    client = as_user(alice)
    response = client.post(url(endpoint, "delete"))
    page = response.content.decode()
    assert response.status_code == 409 and "s-42" in page and 'name="force"' in page
    assert Endpoint.objects.filter(pk=endpoint.pk).exists()
    response = client.post(url(endpoint, "delete"), {"force": "1"})
    assert response.status_code == 302 and response["Location"] == "/endpoints/"
    assert not Endpoint.objects.filter(pk=endpoint.pk).exists()


def test_restoring_a_revision_makes_a_new_one(as_user, alice, openai_key, make_endpoint):
    endpoint = make_endpoint(alice)
    spec = ModelSpec(provider="openai", model_name="gpt-4o-mini", key_id=openai_key.public_id)
    services.update_endpoint(endpoint, actor=alice, models=[spec])
    response = as_user(alice).post(url(endpoint, "revisions/1/restore"))
    assert response.status_code == 302
    assert endpoint.revisions.first().number == 3
    assert [m.model_name for m in endpoint.models.all()] == ["gpt-4o"]


# -- charts and secrets -------------------------------------------------------------------------


def test_chart_buckets_count_requests_errors_tokens_cost_and_latency(alice, make_endpoint):
    endpoint = make_endpoint(alice)
    now = datetime(2025, 1, 1, 12, 0, 30, tzinfo=UTC)

    def log(seconds_ago, status=200, latency=100.0, tokens=(10, 5), cost="0.001"):
        RequestLog.objects.create(
            endpoint=endpoint,
            status_code=status,
            latency_ms=latency,
            prompt_tokens=tokens[0],
            completion_tokens=tokens[1],
            cost_usd=Decimal(cost),
            created_at=now - timedelta(seconds=seconds_ago),
        )

    log(5, latency=200)  # 12:00:25 -> current minute
    log(10, latency=100)  # 12:00:20 -> current minute
    log(20, status=500, latency=300)  # 12:00:10 -> current minute
    log(90, latency=50)  # 11:59:00 -> previous minute
    log(3 * 3600)  # outside the hour
    series = bucket_series(endpoint, span=timedelta(hours=1), bucket=timedelta(minutes=1), now=now)
    assert len(series["labels"]) == 60
    assert series["labels"][-1] == "2025-01-01T12:00:00+00:00"
    assert series["requests"][-2:] == [1, 3]
    assert series["errors"][-2:] == [0, 1]
    assert series["prompt_tokens"][-1] == 30 and series["completion_tokens"][-1] == 15
    assert series["cost_usd"][-1] == pytest.approx(0.003)
    assert series["latency_p50"][-1] == 200 and series["latency_p95"][-1] == 300
    assert series["latency_p50"][-2] == 50 and series["latency_p50"][0] is None
    assert sum(series["requests"]) == 4

    day = bucket_series(endpoint, span=timedelta(days=1), bucket=timedelta(minutes=30), now=now)
    assert len(day["labels"]) == 48 and sum(day["requests"]) == 5
    assert day["requests"][-1] == 3 and day["requests"][-2] == 1


def test_the_detail_page_embeds_chart_data_and_recent_requests(as_user, alice, make_endpoint):
    from django.utils import timezone

    endpoint = make_endpoint(alice)
    RequestLog.objects.create(
        endpoint=endpoint, status_code=200, latency_ms=42, model_served="openai/gpt-4o", created_at=timezone.now()
    )
    client = as_user(alice)
    page = client.get(url(endpoint)).content.decode()
    assert 'id="chart-data"' in page and "openai/gpt-4o" in page
    fragment = client.get(url(endpoint, "activity")).content.decode()
    assert 'id="activity-summary"' in fragment and 'id="recent-requests"' in fragment
    assert 'hx-swap-oob="true"' in fragment.split('id="recent-requests"')[1].split(">")[0]


def test_no_page_shows_the_key_secret(as_user, alice, make_endpoint, openai_key):
    endpoint = make_endpoint(alice)
    client = as_user(alice)
    for path in ("/endpoints/", "/endpoints/new", url(endpoint), url(endpoint, "edit"), url(endpoint, "activity")):
        response = client.get(path)
        assert response.status_code == 200, path
        assert SECRET not in response.content.decode(), path


def _failed_request(endpoint) -> RequestLog:
    return RequestLog.objects.create(
        endpoint=endpoint,
        model_served="openai/gpt-4o-mini",
        status_code=200,
        latency_ms=40,
        attempts=2,
        failed_attempts=[{"model": "openai/gpt-4o", "status": 500, "message": "The provider failed: <overloaded>"}],
        created_at=datetime.now(UTC),
    )


def test_editors_see_why_attempts_failed_in_recent_requests(as_user, alice, bob, make_endpoint):
    endpoint = make_endpoint(alice)
    _failed_request(endpoint)
    RequestLog.objects.create(
        endpoint=endpoint,
        status_code=502,
        latency_ms=12,
        error_type="provider_error",
        error_message="The provider failed: upstream said no",
        created_at=datetime.now(UTC),
    )
    sharing.grant(endpoint, bob, Level.EDIT)
    for user in (alice, bob):
        page = as_user(user).get(url(endpoint)).content.decode()
        # Escaped, and on the page the activity refresh swaps in as well.
        assert "openai/gpt-4o → 500: The provider failed: &lt;overloaded&gt;" in page
        assert "The provider failed: upstream said no" in page
        fragment = as_user(user).get(url(endpoint, "activity")).content.decode()
        assert "The provider failed: &lt;overloaded&gt;" in fragment


@pytest.mark.parametrize("level", [Level.READ, Level.USE])
def test_readers_and_callers_see_the_status_but_not_the_providers_words(as_user, alice, bob, make_endpoint, level):
    """Provider messages can quote other callers' requests; only those who configure the endpoint read them."""
    endpoint = make_endpoint(alice)
    _failed_request(endpoint)
    sharing.grant(endpoint, bob, level)
    for path in (url(endpoint), url(endpoint, "activity")):
        page = as_user(bob).get(path).content.decode()
        assert "openai/gpt-4o-mini" in page and "×2" in page
        assert "overloaded" not in page, path


@pytest.mark.parametrize(
    "level, callable_",
    [(Level.READ, False), (Level.USE, True), (Level.EDIT, True), (Level.MANAGE, True)],
)
def test_the_call_snippet_says_whether_this_user_may_call(as_user, alice, bob, make_endpoint, level, callable_):
    endpoint = make_endpoint(alice)
    sharing.grant(endpoint, bob, level)
    page = as_user(bob).get(url(endpoint)).content.decode()
    assert "http://testserver/gateway/chat-prod/invocations" in page  # the snippet is there either way
    assert ("calling needs <strong>USE</strong>" in page) is not callable_
    assert ("Authenticate with one of your gateway tokens" in page) is callable_


def test_durations_under_a_minute_read_as_words(as_user, alice, make_endpoint):
    endpoint = make_endpoint(alice)
    Endpoint.objects.filter(pk=endpoint.pk).update(status=Status.RUNNING, started_at=datetime.now(UTC))
    page = as_user(alice).get(url(endpoint)).content.decode()
    assert "for <time" in page and "less than a minute</time>" in page
    assert not re.search(r"(?<!\d)0 minutes", page) and "since <time" not in page
    assert "just now" in page  # "Updated", via partials/ago.html
    dashboard = as_user(alice).get("/").content.decode()
    assert "up less than a minute" in dashboard
    assert not re.search(r"(?<!\d)0 minutes", dashboard)


def test_the_endpoint_forms_summary_names_the_model_row_of_each_problem(as_user, alice, openai_key):
    rows = [
        {"key_id": openai_key.public_id, "weight": "0.5"},
        {"key_id": openai_key.public_id, "model_name": "", "weight": "0.2"},
    ]
    response = as_user(alice).post("/endpoints/new", form_data(rows, name=""))
    assert response.status_code == 400
    content = html.unescape(response.content.decode())
    start = content.index("data-error-summary")
    summary = content[start : content.index("</div>", start)]
    assert '<a href="#id_name">Name: This field is required.</a>' in summary
    assert '<a href="#id_models-1-model_name">Model 2, model' in summary
    assert "add up to 1" in summary or "sum" in summary  # the weights' problem is listed too


# -- Gemini's own API ------------------------------------------------------------------------------


@pytest.fixture
def gemini_key(alice):
    return key_services.create_key(actor=alice, name="gemini", provider="gemini", secret="AIza-gemini-0000")


def _gemini_endpoint(alice, gemini_key, endpoint_type="chat", model_name="gemini-2.5-flash", **params):
    spec = ModelSpec(provider="gemini", model_name=model_name, key_id=gemini_key.public_id, litellm_params=params)
    return services.create_endpoint(actor=alice, name="ask", endpoint_type=endpoint_type, models=[spec])


GEMINI_CHAT_SNIPPET = """from google import genai
from google.genai import types

client = genai.Client(
    api_key="<your gateway token>",
    http_options=types.HttpOptions(base_url="http://testserver/gemini", api_version="v1beta"),
)

response = client.models.generate_content(model="ask", contents="Hello!")
print(response.text)"""


def test_an_endpoint_of_gemini_models_shows_how_to_call_it_with_googles_sdk(as_user, alice, gemini_key):
    page = as_user(alice).get(url(_gemini_endpoint(alice, gemini_key))).content.decode()

    assert 'id="tab-gemini"' in page and "Python (Gemini SDK)" in page
    assert f"<pre><code>{GEMINI_CHAT_SNIPPET}</code></pre>" in html.unescape(page)


def test_the_gemini_example_of_an_embedding_endpoint_embeds(as_user, alice, gemini_key):
    endpoint = _gemini_endpoint(alice, gemini_key, endpoint_type="embedding", model_name="gemini-embedding-001")
    page = html.unescape(as_user(alice).get(url(endpoint)).content.decode())

    assert 'result = client.models.embed_content(model="ask", contents=["The quick brown fox"])' in page


@pytest.mark.parametrize("why", ["another provider", "a router-counted limit"])
def test_no_gemini_example_where_the_gemini_api_would_be_refused(as_user, alice, gemini_key, openai_key, why):
    if why == "another provider":
        models = [
            ModelSpec(provider="gemini", model_name="gemini-2.5-flash", key_id=gemini_key.public_id),
            ModelSpec(provider="openai", model_name="gpt-4o", key_id=openai_key.public_id, priority=2),
        ]
        endpoint = services.create_endpoint(actor=alice, name="ask", endpoint_type="chat", models=models)
    else:
        endpoint = _gemini_endpoint(alice, gemini_key, rpm=10)
    page = as_user(alice).get(url(endpoint)).content.decode()

    assert "Python (Gemini SDK)" not in page and "genai" not in page
    assert "Python (OpenAI SDK)" in page


VERTEX_SNIPPET = """from google import genai
from google.genai import types
from google.oauth2.credentials import Credentials

client = genai.Client(
    vertexai=True,
    project="gateway",
    location="global",
    credentials=Credentials(token="<your gateway token>"),
    http_options=types.HttpOptions(base_url="http://testserver/vertex_ai", api_version="v1"),
)

response = client.models.generate_content(model="ask", contents="Hello!")
print(response.text)"""


def test_an_endpoint_of_vertex_ai_models_shows_how_to_call_it_with_the_vertex_ai_sdk(as_user, alice):
    key = key_services.create_key(
        actor=alice, name="vertex", provider="vertex_ai", secret="AQ.vertex-key", region="us-central1", project="p"
    )
    spec = ModelSpec(provider="vertex_ai", model_name="gemini-2.5-flash", key_id=key.public_id)
    endpoint = services.create_endpoint(actor=alice, name="ask", endpoint_type="chat", models=[spec])

    page = as_user(alice).get(url(endpoint)).content.decode()

    assert 'id="tab-vertex"' in page and "Python (Vertex AI SDK)" in page and "Python (Gemini SDK)" not in page
    assert f"<pre><code>{VERTEX_SNIPPET}</code></pre>" in html.unescape(page)


BEDROCK_SNIPPET = """import boto3

client = boto3.client(
    "bedrock-runtime",
    endpoint_url="http://testserver/bedrock",
    region_name="us-east-1",
    aws_access_key_id="<your gateway token>",
    aws_secret_access_key="unused",
)

response = client.converse(
    modelId="ask",
    messages=[{"role": "user", "content": [{"text": "Hello!"}]}],
)
print(response["output"]["message"]["content"][0]["text"])"""


def test_an_endpoint_of_bedrock_models_shows_how_to_call_it_with_boto3(as_user, alice):
    key = key_services.create_key(
        actor=alice,
        name="bedrock",
        provider="bedrock",
        secret="",
        aws_access_key_id="AKIAUIPAGETEST000001",
        aws_secret_access_key="ui-page-secret-access-key",
        region="eu-west-1",
    )
    spec = ModelSpec(provider="bedrock", model_name="anthropic.claude-3-5-haiku-20241022-v1:0", key_id=key.public_id)
    endpoint = services.create_endpoint(actor=alice, name="ask", endpoint_type="chat", models=[spec])

    page = as_user(alice).get(url(endpoint)).content.decode()

    assert 'id="tab-bedrock"' in page and "Python (boto3, Bedrock)" in page and "Python (Gemini SDK)" not in page
    assert f"<pre><code>{BEDROCK_SNIPPET}</code></pre>" in html.unescape(page)
    assert "ui-page-secret-access-key" not in page


def test_the_vertex_ai_example_of_an_embedding_endpoint_embeds(as_user, alice):
    key = key_services.create_key(
        actor=alice, name="vertex", provider="vertex_ai", secret="AQ.vertex-key", region="us-central1", project="p"
    )
    spec = ModelSpec(provider="vertex_ai", model_name="text-embedding-005", key_id=key.public_id)
    endpoint = services.create_endpoint(actor=alice, name="ask", endpoint_type="embedding", models=[spec])

    page = html.unescape(as_user(alice).get(url(endpoint)).content.decode())

    assert "Python (Vertex AI SDK)" in page
    assert 'result = client.models.embed_content(model="ask", contents=["The quick brown fox"])' in page
    assert "generate_content" not in page


def test_the_boto3_example_of_a_bedrock_embedding_endpoint_invokes_the_model(as_user, alice):
    key = key_services.create_key(actor=alice, name="bedrock", provider="bedrock", secret="ABSK-bedrock-api-key-01")
    spec = ModelSpec(provider="bedrock", model_name="amazon.titan-embed-text-v2:0", key_id=key.public_id)
    endpoint = services.create_endpoint(actor=alice, name="ask", endpoint_type="embedding", models=[spec])

    page = html.unescape(as_user(alice).get(url(endpoint)).content.decode())

    assert "import json\n\nimport boto3" in page
    assert 'client.invoke_model(\n    modelId="ask", body=json.dumps({"inputText": "The quick brown fox"})\n)' in page
    assert "converse" not in page
