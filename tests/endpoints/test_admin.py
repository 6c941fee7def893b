"""The admin edits endpoints under the API's rules and records changes the way the services do."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from endpoints import services
from endpoints.models import Endpoint, EndpointModel, RequestLog, Revision, Status
from sharing import services as sharing
from sharing.levels import Level

SECRET = "sk-openai-secret-0000AAAA"  # the openai_key fixture's secret
ADMIN = "/admin/endpoints/endpoint/"
API = "/api/3.0/mlflow/gateway/endpoints/"


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture
def eager_tasks():
    """Run the start task in-process even in production mode (REDIS_URL set), where it would be queued."""
    from gateway_site.celery import app

    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before


def row(key, **overrides: Any) -> dict[str, Any]:
    return {
        "provider": "openai",
        "model_name": "gpt-4o",
        "key": key.pk,
        "weight": "1.0",
        "priority": "1",
        "litellm_params": "{}",
        **overrides,
    }


def existing_rows(endpoint: Endpoint) -> list[dict[str, Any]]:
    return [
        row(
            model.key,
            id=model.pk,
            provider=model.provider,
            model_name=model.model_name,
            weight=str(model.weight),
            priority=str(model.priority),
        )
        for model in endpoint.models.all()
    ]


def endpoint_form(
    *, models: list[dict[str, Any]], initial_models: int = 0, bindings: int = 0, **fields: Any
) -> dict[str, Any]:
    """POST data for the endpoint add/change page: the endpoint's fields and both inlines' management forms."""
    data = {
        "name": "chat-admin",
        "endpoint_type": "chat",
        "description": "",
        "rate_limit_rpm": "",
        "rate_limit_tpm": "",
        "models-TOTAL_FORMS": str(len(models)),
        "models-INITIAL_FORMS": str(initial_models),
        "models-MIN_NUM_FORMS": "0",
        "models-MAX_NUM_FORMS": "1000",
        "bindings-TOTAL_FORMS": str(bindings),
        "bindings-INITIAL_FORMS": str(bindings),
        "bindings-MIN_NUM_FORMS": "0",
        "bindings-MAX_NUM_FORMS": "0",
        **fields,
    }
    for index, model in enumerate(models):
        data.update({f"models-{index}-{name}": value for name, value in model.items()})
    return data


def action(client, name: str, *endpoints: Endpoint):
    """Run an admin action and follow the redirect back to the list, which shows its messages."""
    return client.post(
        ADMIN, {"action": name, "_selected_action": [endpoint.pk for endpoint in endpoints]}, follow=True
    )


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


@pytest.mark.django_db
def test_adding_an_endpoint_with_models_records_it_like_the_api(admin_client, admin_user, openai_key):
    response = admin_client.post(f"{ADMIN}add/", endpoint_form(models=[row(openai_key)], description="from admin"))

    assert response.status_code == 302, response.content.decode()[:3000]
    endpoint = Endpoint.objects.get(name="chat-admin")
    assert endpoint.created_by == admin_user and endpoint.status == Status.STOPPED
    assert [(m.provider, m.model_name, m.key, m.weight) for m in endpoint.models.all()] == [
        ("openai", "gpt-4o", openai_key, 1.0)
    ]
    revision = endpoint.revisions.get()
    assert revision.number == 1 and revision.created_by == admin_user
    assert revision.config == services.snapshot(endpoint)
    event = AuditEvent.objects.get(object_id=endpoint.pk)
    assert event.action == "create" and event.actor == admin_user
    assert sharing.get_level(admin_user, endpoint) == Level.MANAGE
    assert sharing.list_grants(endpoint)[0].user == admin_user.username


@pytest.mark.django_db
def test_weights_that_do_not_sum_to_one_are_refused_and_nothing_is_stored(admin_client, openai_key):
    models = [row(openai_key, weight="0.5"), row(openai_key, model_name="gpt-4o-mini", weight="0.6")]

    response = admin_client.post(f"{ADMIN}add/", endpoint_form(models=models))

    assert response.status_code == 200
    assert "The weights of priority 1 sum to 1.1; they must sum to 1.0." in response.content.decode()
    assert not Endpoint.objects.exists() and not EndpointModel.objects.exists() and not Revision.objects.exists()
    assert not AuditEvent.objects.filter(object_type="endpoint").exists()


@pytest.mark.django_db
def test_a_model_problem_is_shown_on_its_row(admin_client, openai_key, anthropic_key):
    models = [
        row(openai_key, model_name="no-such-model", weight="0.5"),
        row(anthropic_key, weight="0.5"),
    ]

    response = admin_client.post(f"{ADMIN}add/", endpoint_form(models=models))

    assert response.status_code == 200
    body = response.content.decode()
    assert "is not in the catalog for openai" in body
    assert "Key &#x27;anthropic&#x27; is for anthropic, not openai." in body
    formset = next(f for f in response.context["inline_admin_formsets"] if f.formset.prefix == "models").formset
    assert "model_name" in formset.forms[0].errors and "key" in formset.forms[1].errors
    assert not Endpoint.objects.exists()


@pytest.mark.django_db
def test_an_endpoint_needs_at_least_one_model(admin_client):
    response = admin_client.post(f"{ADMIN}add/", endpoint_form(models=[]))

    assert response.status_code == 200
    assert "An endpoint needs at least one model." in response.content.decode()
    assert not Endpoint.objects.exists()


@pytest.mark.django_db
def test_a_model_type_that_cannot_serve_the_endpoint_is_refused(admin_client, openai_key):
    form = endpoint_form(models=[row(openai_key, model_name="text-embedding-3-small")])

    response = admin_client.post(f"{ADMIN}add/", form)

    assert response.status_code == 200
    assert "it cannot serve a chat endpoint" in response.content.decode()
    assert not Endpoint.objects.exists()


@pytest.mark.django_db
def test_changing_an_endpoint_bumps_its_version_and_records_a_revision_and_an_audit_event(
    admin_client, admin_user, alice, openai_key, make_endpoint
):
    endpoint = make_endpoint(alice)
    original = endpoint.models.get()
    models = [
        {**existing_rows(endpoint)[0], "weight": "0.5"},
        row(openai_key, model_name="gpt-4o-mini", weight="0.5"),
    ]

    response = admin_client.post(
        f"{ADMIN}{endpoint.pk}/change/",
        endpoint_form(models=models, initial_models=1, name="chat-prod", rate_limit_rpm="60"),
    )

    assert response.status_code == 302, response.content.decode()[:3000]
    endpoint.refresh_from_db()
    assert endpoint.config_version == 2 and endpoint.rate_limit_rpm == 60
    assert sorted((m.model_name, m.weight) for m in endpoint.models.all()) == [("gpt-4o", 0.5), ("gpt-4o-mini", 0.5)]
    assert endpoint.models.filter(pk=original.pk).exists(), "an edited row keeps its id"
    latest = endpoint.revisions.first()
    assert latest.number == 2 and latest.created_by == admin_user
    assert latest.config == services.snapshot(endpoint)
    event = AuditEvent.objects.filter(object_id=endpoint.pk, action="update").get()
    assert event.actor == admin_user and set(event.changes) == {"models", "rate_limit_rpm"}
    assert event.changes["rate_limit_rpm"] == {"before": None, "after": 60}


@pytest.mark.django_db
def test_removing_a_model_in_the_admin_is_checked_against_the_remaining_set(admin_client, alice, make_endpoint):
    endpoint = make_endpoint(alice)
    rows = [{**existing_rows(endpoint)[0], "DELETE": "on"}]

    response = admin_client.post(f"{ADMIN}{endpoint.pk}/change/", endpoint_form(models=rows, initial_models=1))

    assert response.status_code == 200
    assert "An endpoint needs at least one model." in response.content.decode()
    assert endpoint.models.count() == 1 and endpoint.revisions.count() == 1


@pytest.mark.django_db
def test_saving_without_changes_records_nothing(admin_client, alice, make_endpoint):
    endpoint = make_endpoint(alice)
    form = endpoint_form(models=existing_rows(endpoint), initial_models=1, name="chat-prod")

    response = admin_client.post(f"{ADMIN}{endpoint.pk}/change/", form)

    assert response.status_code == 302
    endpoint.refresh_from_db()
    assert endpoint.config_version == 1 and endpoint.revisions.count() == 1
    assert not AuditEvent.objects.filter(object_id=endpoint.pk, action="update").exists()


@pytest.mark.django_db
def test_start_and_stop_actions_change_status(
    admin_client, admin_user, alice, make_endpoint, eager_tasks, django_capture_on_commit_callbacks
):
    endpoint = make_endpoint(alice)

    with django_capture_on_commit_callbacks(execute=True):  # start hands off to the task on commit
        response = action(admin_client, "start_endpoints", endpoint)

    assert response.redirect_chain == [(ADMIN, 302)]
    assert messages_of(response) == ["Started: chat-prod (starting)."]
    endpoint.refresh_from_db()
    assert endpoint.status == Status.RUNNING and endpoint.started_at is not None

    response = action(admin_client, "stop_endpoints", endpoint)

    assert messages_of(response) == ["Stopped: chat-prod (stopped)."]
    endpoint.refresh_from_db()
    assert endpoint.status == Status.STOPPED and endpoint.stopped_at is not None
    actions = list(AuditEvent.objects.filter(object_id=endpoint.pk, actor=admin_user).values_list("action", flat=True))
    assert sorted(actions) == ["start", "stop"]


@pytest.mark.django_db
def test_a_start_that_fails_validation_becomes_an_admin_message(admin_client, alice, make_endpoint):
    broken = make_endpoint(alice, name="broken")
    EndpointModel.objects.filter(endpoint=broken).update(model_name="no-such-model")

    response = action(admin_client, "start_endpoints", broken)

    assert response.status_code == 200
    [message] = messages_of(response)
    assert message.startswith(
        "Could not start broken: models[1].model_name: 'no-such-model' is not in the catalog for openai"
    )
    broken.refresh_from_db()
    assert broken.status == Status.STOPPED


@pytest.mark.django_db
def test_deleting_goes_through_the_service_even_when_bound(admin_client, admin_user, alice, make_endpoint):
    endpoint = make_endpoint(alice)
    services.add_binding(endpoint, actor=alice, resource_type="scorer", resource_id="judge-1")

    confirmation = admin_client.get(f"{ADMIN}{endpoint.pk}/delete/")
    assert confirmation.status_code == 200 and "scorer:judge-1" in confirmation.content.decode()

    response = admin_client.post(f"{ADMIN}{endpoint.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert not Endpoint.objects.filter(pk=endpoint.pk).exists()
    event = AuditEvent.objects.get(object_id=endpoint.pk, action="delete")
    assert event.actor == admin_user and event.changes["before"]["name"] == "chat-prod"


@pytest.mark.django_db
def test_the_delete_action_stops_running_endpoints_first(
    admin_client, alice, make_endpoint, eager_tasks, django_capture_on_commit_callbacks
):
    first, second = make_endpoint(alice, name="one"), make_endpoint(alice, name="two")
    with django_capture_on_commit_callbacks(execute=True):
        action(admin_client, "start_endpoints", first)

    response = admin_client.post(
        ADMIN, {"action": "delete_selected", "_selected_action": [first.pk, second.pk], "post": "yes"}
    )

    assert response.status_code == 302
    assert not Endpoint.objects.exists()
    by_action = {(e.object_name, e.action) for e in AuditEvent.objects.filter(object_type="endpoint")}
    assert {("one", "stop"), ("one", "delete"), ("two", "delete")} <= by_action
    assert ("two", "stop") not in by_action


@pytest.mark.django_db
def test_admin_pages_render_and_never_show_the_key_secret(admin_client, alice, openai_key, make_endpoint):
    endpoint = make_endpoint(alice)
    services.add_binding(endpoint, actor=alice, resource_type="scorer", resource_id="judge-1")
    services.update_endpoint(endpoint, actor=alice, description="second revision")
    revision = endpoint.revisions.first()
    log = RequestLog.objects.create(
        endpoint=endpoint, model_served="gpt-4o", status_code=200, latency_ms=12.5, created_at=timezone.now()
    )
    pages = [
        ADMIN,
        f"{ADMIN}?status=stopped&endpoint_type=chat&q=chat",
        f"{ADMIN}add/",
        f"{ADMIN}{endpoint.pk}/change/",
        f"{ADMIN}{endpoint.pk}/delete/",
        f"{ADMIN}{endpoint.pk}/history/",
        f"{ADMIN}{endpoint.pk}/permissions/",
        "/admin/endpoints/revision/",
        f"/admin/endpoints/revision/?endpoint={endpoint.pk}",
        f"/admin/endpoints/revision/{revision.pk}/change/",
        "/admin/endpoints/requestlog/",
        f"/admin/endpoints/requestlog/?endpoint={endpoint.pk}&outcome=ok",
        f"/admin/endpoints/requestlog/{log.pk}/change/",
        "/admin/audit/auditevent/",
    ]
    for url in pages:
        response = admin_client.get(url)
        assert response.status_code == 200, url
        body = response.content.decode()
        assert SECRET not in body and openai_key.secret_ciphertext not in body, url

    change_page = admin_client.get(f"{ADMIN}{endpoint.pk}/change/").content.decode()
    assert "scorer" in change_page and "judge-1" in change_page
    assert ">openai</option>" in change_page  # the key is listed by name
    revisions = admin_client.get(f"/admin/endpoints/revision/?endpoint={endpoint.pk}")
    assert revisions.context["cl"].result_count == 2


@pytest.mark.django_db
def test_revisions_and_request_logs_are_read_only(admin_client, alice, make_endpoint):
    endpoint = make_endpoint(alice)
    revision = endpoint.revisions.get()

    assert admin_client.get("/admin/endpoints/revision/add/").status_code == 403
    assert admin_client.get("/admin/endpoints/requestlog/add/").status_code == 403
    assert admin_client.post(f"/admin/endpoints/revision/{revision.pk}/delete/", {"post": "yes"}).status_code == 403
    response = admin_client.post(f"/admin/endpoints/revision/{revision.pk}/change/", {"note": "edited"})
    assert response.status_code == 403
    revision.refresh_from_db()
    assert revision.note == "created"


@pytest.mark.django_db
def test_status_fields_cannot_be_set_through_the_form(admin_client, alice, make_endpoint):
    endpoint = make_endpoint(alice)
    form = endpoint_form(
        models=existing_rows(endpoint), initial_models=1, name="chat-prod", status="running", config_version="99"
    )

    response = admin_client.post(f"{ADMIN}{endpoint.pk}/change/", form)

    assert response.status_code == 302
    endpoint.refresh_from_db()
    assert endpoint.status == Status.STOPPED and endpoint.config_version == 1


@pytest.mark.django_db
def test_the_admin_names_the_product_and_formats_figures_for_people(admin_client, alice, make_endpoint):
    endpoint = make_endpoint(alice)
    log = RequestLog.objects.create(
        endpoint=endpoint,
        model_served="openai/gpt-4o",
        status_code=200,
        latency_ms=8525.80983200005,
        ttft_ms=312.4,
        prompt_tokens=12345,
        completion_tokens=678,
        cost_usd="0.00012300",
        created_at=timezone.now(),
    )
    index = admin_client.get("/admin/").content.decode()
    assert "<title>Keys, endpoints, tokens and who may use them | AI Gateway admin</title>" in index
    assert "AI Gateway administration" in index and "Django administration" not in index

    for url in ("/admin/endpoints/requestlog/", f"/admin/endpoints/requestlog/{log.pk}/change/"):
        page = admin_client.get(url).content.decode()
        assert "8.53 s" in page, url
        assert "12,345" in page and "$0.000123" in page, url
        assert "8525.8" not in page and "0.00012300" not in page, url
    detail = admin_client.get(f"/admin/endpoints/requestlog/{log.pk}/change/").content.decode()
    assert "312 ms" in detail


@pytest.mark.parametrize(
    "value, text",
    [(None, "—"), (0.4, "0 ms"), (532.6, "533 ms"), (999.4, "999 ms"), (1000, "1.00 s"), (61234.5, "61.23 s")],
)
def test_durations_read_in_milliseconds_then_seconds(value, text):
    from gatewaylib.humanize import duration_ms

    assert duration_ms(value) == text


@pytest.mark.parametrize("value, text", [(0, "$0"), ("0.00012300", "$0.000123"), ("1234.5", "$1,234.50")])
def test_costs_read_as_dollars(value, text):
    from decimal import Decimal

    from gatewaylib.humanize import usd

    assert usd(Decimal(value)) == text


@pytest.mark.django_db
def test_a_request_logs_detail_says_why_it_failed(admin_client, alice, make_endpoint):
    endpoint = make_endpoint(alice)
    log = RequestLog.objects.create(
        endpoint=endpoint,
        status_code=502,
        latency_ms=30,
        attempts=2,
        error_type="provider_error",
        error_message="The provider failed: <b>down</b>",
        failed_attempts=[
            {"model": "openai/gpt-4o", "status": 500, "message": "The provider failed: <b>down</b>"},
            {"model": "openai/gpt-4o-mini", "status": 503, "message": "The provider is unavailable."},
        ],
        created_at=timezone.now(),
    )
    page = admin_client.get(f"/admin/endpoints/requestlog/{log.pk}/change/").content.decode()
    assert "openai/gpt-4o → 500: The provider failed: &lt;b&gt;down&lt;/b&gt;<br>" in page
    assert "openai/gpt-4o-mini → 503: The provider is unavailable." in page
    assert "<b>down</b>" not in page


def api_models(key, *names: str, weight: float = 1.0) -> list[dict[str, Any]]:
    return [{"provider": "openai", "model_name": name, "key_id": key.public_id, "weight": weight} for name in names]


def recorded(endpoint: Endpoint, action: str) -> tuple:
    """How a save of ``endpoint`` was recorded, without what differs by endpoint (name, model ids)."""
    endpoint.refresh_from_db()
    revision = endpoint.revisions.first()
    (event,) = AuditEvent.objects.filter(object_id=endpoint.pk, action=action)
    config = {**revision.config, "name": None, "models": [{**m, "id": None} for m in revision.config["models"]]}
    changes = event.changes
    if action == "create":
        assert changes == {"after": revision.config}  # the whole configuration, as revision 1 holds it
        changes = {"after": config}
    return endpoint.config_version, endpoint.revisions.count(), revision.created_by, config, event.actor, changes


@pytest.mark.django_db
def test_an_admin_change_is_recorded_once_by_the_services_public_function_as_an_api_change_is(
    admin_client, admin_user, api, alice, openai_key, make_endpoint, monkeypatch
):
    by_admin, by_api = make_endpoint(alice, name="by-admin"), make_endpoint(alice, name="by-api")
    calls = []
    record_change = services.record_change
    monkeypatch.setattr(services, "record_change", lambda *a, **kw: calls.append(kw) or record_change(*a, **kw))

    models = [{**existing_rows(by_admin)[0], "weight": "0.5"}, row(openai_key, model_name="gpt-4o-mini", weight="0.5")]
    form = endpoint_form(models=models, initial_models=1, name="by-admin", rate_limit_rpm="60")
    assert admin_client.post(f"{ADMIN}{by_admin.pk}/change/", form).status_code == 302
    assert [(call["action"], call["note"]) for call in calls] == [("update", "changed in the admin")]
    body = {"rate_limit_rpm": 60, "models": api_models(openai_key, "gpt-4o", "gpt-4o-mini", weight=0.5)}
    assert api(admin_user).patch(f"{API}{by_api.public_id}/", body, format="json").status_code == 200

    assert recorded(by_admin, "update") == recorded(by_api, "update")
    assert recorded(by_admin, "update")[:2] == (2, 2)  # one bump, one new revision


@pytest.mark.django_db
def test_an_endpoint_added_in_the_admin_is_recorded_as_one_created_through_the_api(
    admin_client, admin_user, api, openai_key
):
    added = admin_client.post(f"{ADMIN}add/", endpoint_form(models=[row(openai_key)], name="by-admin"))
    assert added.status_code == 302
    body = {"name": "by-api", "endpoint_type": "chat", "models": api_models(openai_key, "gpt-4o")}
    assert api(admin_user).post(API, body, format="json").status_code == 201
    by_admin, by_api = Endpoint.objects.get(name="by-admin"), Endpoint.objects.get(name="by-api")

    assert recorded(by_admin, "create") == recorded(by_api, "create")
    assert recorded(by_admin, "create")[:3] == (1, 1, admin_user)
    assert sharing.get_level(admin_user, by_admin) == sharing.get_level(admin_user, by_api) == Level.MANAGE
    assert sharing.list_grants(by_admin)[0].user == sharing.list_grants(by_api)[0].user == admin_user.username
