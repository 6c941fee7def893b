"""The permissions sub-resource: grants, replacement, revocation and bad input."""

from __future__ import annotations

import pytest

from sharing import services
from sharing.levels import Level


@pytest.fixture
def key(alice, make_key):
    return make_key(alice)


def perms_url(key) -> str:
    return f"/api/3.0/mlflow/gateway/keys/{key.id.hex}/permissions"


@pytest.mark.django_db
def test_the_creator_is_listed_as_manager(api, alice, key):
    assert api(alice).get(perms_url(key)).json() == [{"user": "alice", "level": "MANAGE"}]


@pytest.mark.django_db
def test_a_grant_replaces_the_previous_level(api, alice, bob, key):
    client = api(alice)
    assert client.post(perms_url(key), {"user": "bob", "level": "EDIT"}, format="json").status_code == 200
    assert client.post(perms_url(key), {"user": "bob", "level": "read"}, format="json").json() == {
        "user": "bob",
        "level": "READ",
    }
    assert services.get_level(bob, key) == Level.READ
    assert {"user": "bob", "level": "READ"} in client.get(perms_url(key)).json()


@pytest.mark.django_db
def test_groups_can_be_granted_and_revoked(api, alice, dave, team, key):
    client = api(alice)
    assert client.post(perms_url(key), {"group": "team", "level": "EDIT"}, format="json").status_code == 200
    assert services.get_level(dave, key) == Level.EDIT
    assert client.delete(perms_url(key) + "?group=team").status_code == 204
    assert services.get_level(dave, key) is None


@pytest.mark.django_db
def test_revoking_a_user_removes_access(api, alice, bob, key):
    services.grant(key, bob, Level.EDIT)
    assert api(alice).delete(perms_url(key) + "?user=bob").status_code == 204
    assert api(bob).get(f"/api/3.0/mlflow/gateway/keys/{key.id.hex}/").status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body, field",
    [
        ({"user": "nobody", "level": "READ"}, "user"),
        ({"group": "no-such-team", "level": "READ"}, "group"),
        ({"user": "bob", "level": "OWNER"}, "level"),
        ({"user": "bob"}, "level"),
        ({"level": "READ"}, "non_field_errors"),
        ({"user": "bob", "group": "team", "level": "READ"}, "non_field_errors"),
    ],
)
def test_bad_grants_get_field_errors(api, alice, bob, team, key, body, field):
    response = api(alice).post(perms_url(key), body, format="json")
    assert response.status_code == 400
    assert field in response.json()


@pytest.mark.django_db
def test_revoking_without_a_principal_is_a_400(api, alice, key):
    assert api(alice).delete(perms_url(key)).status_code == 400
    assert api(alice).delete(perms_url(key) + "?user=bob").status_code == 400


@pytest.mark.django_db
def test_the_last_manager_cannot_be_removed_or_demoted(api, alice, key):
    client = api(alice)
    assert client.delete(perms_url(key) + "?user=alice").status_code == 400
    assert client.post(perms_url(key), {"user": "alice", "level": "READ"}, format="json").status_code == 400
    assert services.get_level(alice, key) == Level.MANAGE


@pytest.mark.django_db
def test_a_manager_can_hand_over_and_step_down(api, alice, bob, key):
    client = api(alice)
    client.post(perms_url(key), {"user": "bob", "level": "MANAGE"}, format="json")
    assert client.post(perms_url(key), {"user": "alice", "level": "READ"}, format="json").status_code == 200
    assert services.get_level(alice, key) == Level.READ
    assert services.get_level(bob, key) == Level.MANAGE


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query, field",
    [
        ("?user=%00", "user"),  # a NUL byte is a DataError (500) on PostgreSQL if it reaches the query
        ("?group=" + "g" * 151, "group"),
        ("?user=", "non_field_errors"),  # a blank value counts as absent
        ("?user=bob&group=team", "non_field_errors"),
    ],
)
def test_the_revoke_query_string_is_validated_like_a_body(api, alice, key, query, field):
    response = api(alice).delete(perms_url(key) + query)
    assert response.status_code == 400
    assert field in response.json()
    assert services.get_level(alice, key) == Level.MANAGE


@pytest.mark.django_db
def test_the_schema_documents_the_grant_list_as_a_plain_list(client):
    # Regression (schema fuzz): the schema declared a paginated object with
    # limit/offset/provider parameters, but the view returns a bare list.
    operation = client.get("/api/schema/?format=json").json()["paths"][
        "/api/3.0/mlflow/gateway/keys/{id}/permissions/"
    ]["get"]
    assert operation["responses"]["200"]["content"]["application/json"]["schema"] == {
        "type": "array",
        "items": {"$ref": "#/components/schemas/Grant"},
    }
    assert [param["name"] for param in operation["parameters"]] == ["id"]
