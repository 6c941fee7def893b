"""Revisions, bindings and the audit trail of endpoints."""

from __future__ import annotations

import re

import pytest

from sharing import services as sharing
from sharing.levels import Level
from tests.endpoints.conftest import URL, model_body

pytestmark = pytest.mark.django_db


def test_every_change_stores_a_numbered_revision_without_secrets(api, alice, make_endpoint):
    endpoint = make_endpoint(alice)
    client = api(alice)
    client.patch(f"{URL}{endpoint.public_id}/", {"rate_limit_rpm": 100}, format="json")
    client.patch(f"{URL}{endpoint.public_id}/", {"rate_limit_rpm": 200}, format="json")
    response = client.get(f"{URL}{endpoint.public_id}/revisions")
    revisions = response.json()
    assert [r["number"] for r in revisions] == [3, 2, 1]
    assert revisions[0]["config"]["rate_limit_rpm"] == 200
    assert revisions[0]["created_by"] == "alice"
    assert revisions[2]["config"]["models"][0]["model_name"] == "gpt-4o"
    assert "sk-openai" not in response.content.decode()


def test_restoring_brings_an_old_configuration_back_as_a_new_revision(api, alice, make_endpoint, openai_key):
    endpoint = make_endpoint(alice, rate_limit_rpm=50)
    client = api(alice)
    client.patch(
        f"{URL}{endpoint.public_id}/",
        {"rate_limit_rpm": 999, "models": [model_body(openai_key, model_name="gpt-4o-mini")]},
        format="json",
    )
    response = client.post(f"{URL}{endpoint.public_id}/revisions/1/restore")
    assert response.status_code == 200, response.json()
    assert response.json()["rate_limit_rpm"] == 50
    assert [m["model_name"] for m in response.json()["models"]] == ["gpt-4o"]
    assert response.json()["config_version"] == 3
    assert [r["number"] for r in client.get(f"{URL}{endpoint.public_id}/revisions").json()] == [3, 2, 1]


def test_a_restore_is_one_audit_entry_saying_which_revision_and_what_changed(api, client, alice, make_endpoint):
    from audit.models import AuditEvent

    endpoint = make_endpoint(alice, rate_limit_rpm=50)
    api(alice).patch(f"{URL}{endpoint.public_id}/", {"rate_limit_rpm": 999}, format="json")
    seen = set(AuditEvent.objects.values_list("pk", flat=True))
    assert api(alice).post(f"{URL}{endpoint.public_id}/revisions/1/restore").status_code == 200
    (event,) = AuditEvent.objects.exclude(pk__in=seen)
    assert event.action == "restore" and event.actor_name == "alice"
    assert event.changes == {"revision": 1, "rate_limit_rpm": {"before": 999, "after": 50}}

    # Restoring what is already current changes nothing, and still says so once.
    seen.add(event.pk)
    assert api(alice).post(f"{URL}{endpoint.public_id}/revisions/1/restore").status_code == 200
    (again,) = AuditEvent.objects.exclude(pk__in=seen)
    assert (again.action, again.changes) == ("restore", {"revision": 1})

    client.force_login(alice)
    page = client.get(f"/endpoints/{endpoint.public_id}/").content.decode()
    # On the endpoint's own page the object goes without saying: no dangling "of".
    assert re.search(r"restored revision 1\s+(?!of\b)", page) and "restored revision 1 of" not in page
    dashboard = client.get("/").content.decode()
    assert re.search(r"restored revision 1 of\s+endpoint <strong>chat-prod</strong>", dashboard)
    assert "(changed: rate_limit_rpm)" in page and "(no change)" in page
    assert "restored a revision of" not in page


def test_restoring_an_unknown_revision_is_404(api, alice, make_endpoint):
    endpoint = make_endpoint(alice)
    assert api(alice).post(f"{URL}{endpoint.public_id}/revisions/42/restore").status_code == 404


def test_restoring_needs_use_on_keys_that_are_no_longer_attached(
    api, alice, bob, make_endpoint, openai_key, anthropic_key
):
    endpoint = make_endpoint(alice)
    client = api(alice)
    anthropic_model = {
        "provider": "anthropic",
        "model_name": "claude-haiku-4-5",
        "key_id": anthropic_key.public_id,
    }
    assert client.patch(f"{URL}{endpoint.public_id}/", {"models": [anthropic_model]}, format="json").status_code == 200
    sharing.grant(endpoint, bob, Level.EDIT)
    # Revision 1 used the openai key, which bob cannot see.
    response = api(bob).post(f"{URL}{endpoint.public_id}/revisions/1/restore")
    assert response.status_code == 400


class TestBindings:
    def test_record_list_and_remove(self, api, alice, make_endpoint):
        endpoint = make_endpoint(alice)
        client = api(alice)
        url = f"{URL}{endpoint.public_id}/bindings"
        created = client.post(url, {"resource_type": "scorer", "resource_id": "relevance-v2"}, format="json")
        assert created.status_code == 201
        assert created.json()["created_by"] == "alice"
        again = client.post(url, {"resource_type": "scorer", "resource_id": "relevance-v2"}, format="json")
        assert again.status_code == 201  # idempotent
        assert [b["resource_id"] for b in client.get(url).json()] == ["relevance-v2"]
        assert client.delete(url + "?resource_type=scorer&resource_id=relevance-v2").status_code == 204
        assert client.get(url).json() == []
        assert client.delete(url + "?resource_type=scorer&resource_id=relevance-v2").status_code == 404

    def test_bad_bindings_are_400(self, api, alice, make_endpoint):
        endpoint = make_endpoint(alice)
        url = f"{URL}{endpoint.public_id}/bindings"
        assert api(alice).post(url, {"resource_type": "has space"}, format="json").status_code == 400
        assert api(alice).delete(url).status_code == 400


class TestAudit:
    AUDIT = "/api/3.0/mlflow/gateway/audit/"

    def test_it_shows_only_events_of_objects_the_caller_can_read(self, api, alice, bob, make_endpoint, openai_key):
        endpoint = make_endpoint(alice)
        assert api(bob).get(self.AUDIT).json()["count"] == 0
        sharing.grant(endpoint, bob, Level.READ, actor=alice)
        events = api(bob).get(self.AUDIT).json()["results"]
        assert {e["object_type"] for e in events} == {"endpoint"}
        assert {e["action"] for e in events} == {"create", "share"}

    def test_filters(self, api, alice, make_endpoint, openai_key):
        endpoint = make_endpoint(alice)
        client = api(alice)
        client.patch(f"{URL}{endpoint.public_id}/", {"rate_limit_rpm": 7}, format="json")
        by_object = client.get(f"{self.AUDIT}?object_id={endpoint.public_id}").json()["results"]
        assert [e["action"] for e in by_object] == ["update", "create"]
        assert by_object[0]["changes"]["rate_limit_rpm"] == {"before": None, "after": 7}
        assert client.get(f"{self.AUDIT}?action=update").json()["count"] == 1
        assert client.get(f"{self.AUDIT}?actor=bob").json()["count"] == 0
        assert client.get(f"{self.AUDIT}?object_type=key").json()["count"] == 1
        assert client.get(f"{self.AUDIT}?action=explode").status_code == 400

    def test_key_actions_are_audited_without_secrets(self, api, alice, bob, openai_key):
        client = api(alice)
        client.patch(
            f"/api/3.0/mlflow/gateway/keys/{openai_key.public_id}/",
            {"secret": "sk-rotated-0000000011112222"},
            format="json",
        )
        client.post(
            f"/api/3.0/mlflow/gateway/keys/{openai_key.public_id}/permissions",
            {"user": "bob", "level": "USE"},
            format="json",
        )
        client.delete(f"/api/3.0/mlflow/gateway/keys/{openai_key.public_id}/permissions?user=bob")
        response = client.get(f"{self.AUDIT}?object_type=key")
        assert [e["action"] for e in response.json()["results"]] == ["unshare", "share", "update", "create"]
        body = response.content.decode()
        assert "sk-rotated-0000000011112222" not in body and "sk-openai-secret-0000AAAA" not in body
        assert response.json()["results"][2]["changes"]["secret"] == "replaced"
