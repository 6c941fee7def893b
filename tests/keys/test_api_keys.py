"""The keys API: the secret goes in once and never comes out."""

from __future__ import annotations

import json

import pytest
from django.db import connection

from keys.models import Key
from sharing import services as sharing
from sharing.levels import Level

URL = "/api/3.0/mlflow/gateway/keys/"
SECRET = "sk-live-abcdefghijklmnop1234"


def create(client, **overrides):
    body = {"name": "openai-prod", "provider": "openai", "secret": SECRET, "description": "team key", **overrides}
    return client.post(URL, body, format="json")


@pytest.mark.django_db
def test_creating_a_key_returns_only_the_masked_secret(api, alice):
    response = create(api(alice))
    assert response.status_code == 201
    body = response.json()
    assert body["masked_secret"] == "sk-...1234"
    assert "secret" not in body
    assert SECRET not in response.content.decode()
    assert len(body["id"]) == 32 and int(body["id"], 16)
    assert body["created_by"] == "alice"
    key = Key.objects.get(pk=body["id"])
    assert sharing.get_level(alice, key) == Level.MANAGE


@pytest.mark.django_db
def test_no_read_path_returns_the_secret(api, alice):
    client = api(alice)
    key_id = create(client).json()["id"]
    for response in (
        client.get(URL),
        client.get(f"{URL}{key_id}/"),
        client.patch(f"{URL}{key_id}/", {"name": "renamed"}, format="json"),
        client.get(f"{URL}{key_id}/permissions"),
        client.options(URL),
    ):
        assert response.status_code == 200, response.content
        assert SECRET not in response.content.decode()


@pytest.mark.django_db
def test_the_plaintext_never_reaches_the_database(api, alice):
    key_id = create(api(alice)).json()["id"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM keys_key")
        rows = cursor.fetchall()
    assert rows
    dumped = json.dumps([[str(value) for value in row] for row in rows])
    assert SECRET not in dumped
    assert SECRET[3:-4] not in dumped
    assert Key.objects.get(pk=key_id).secret() == SECRET


@pytest.mark.django_db
def test_patch_with_a_secret_replaces_it(api, alice):
    client = api(alice)
    key_id = create(client).json()["id"]
    response = client.patch(f"{URL}{key_id}/", {"secret": "sk-new-secret-value-9999"}, format="json")
    assert response.status_code == 200
    assert response.json()["masked_secret"] == "sk-...9999"
    assert response.json()["last_rotated_at"] is not None
    assert Key.objects.get(pk=key_id).secret() == "sk-new-secret-value-9999"


@pytest.mark.django_db
def test_patch_without_a_secret_keeps_it(api, alice):
    client = api(alice)
    key_id = create(client).json()["id"]
    client.patch(f"{URL}{key_id}/", {"description": "new words"}, format="json")
    assert Key.objects.get(pk=key_id).secret() == SECRET


@pytest.mark.django_db
def test_delete_removes_the_key(api, alice):
    client = api(alice)
    key_id = create(client).json()["id"]
    assert client.delete(f"{URL}{key_id}/").status_code == 204
    assert not Key.objects.filter(pk=key_id).exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "overrides, errors",
    [
        (
            {"provider": "not-a-provider"},
            {"provider": ["“not-a-provider” is not a provider this gateway knows; choose one from the list."]},
        ),
        ({"secret": ""}, {"secret": ["The secret may not be empty."]}),
        ({"secret": "   "}, {"secret": ["The secret may not be empty."]}),
        ({"name": ""}, {"name": ["This field may not be blank."]}),
        ({"name": "x" * 101}, {"name": ["Ensure this field has no more than 100 characters."]}),
        ({"secret": "sk-\x00-nul-in-the-middle"}, {"secret": ["Null characters are not allowed."]}),
    ],
    ids=["unknown provider", "empty secret", "blank secret", "empty name", "long name", "NUL in secret"],
)
def test_bad_input_gets_field_errors_and_stores_nothing(api, alice, overrides, errors):
    response = create(api(alice), **overrides)
    assert (response.status_code, response.json()) == (400, errors)
    assert not Key.objects.exists()
    assert SECRET not in response.content.decode()


@pytest.mark.django_db
def test_a_missing_secret_is_a_field_error(api, alice):
    response = api(alice).post(URL, {"name": "k", "provider": "openai"}, format="json")
    assert (response.status_code, response.json()) == (400, {"secret": ["This field is required."]})


@pytest.mark.django_db
def test_malformed_json_is_a_400(api, alice):
    response = api(alice).generic("POST", URL, "{not json", content_type="application/json")
    detail = "JSON parse error - Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"
    assert (response.status_code, response.json()) == (400, {"detail": detail})


@pytest.mark.django_db
def test_a_bad_secret_on_update_leaves_the_stored_one_intact(api, alice):
    client = api(alice)
    key_id = create(client).json()["id"]
    blank = client.patch(f"{URL}{key_id}/", {"secret": "  "}, format="json")
    assert (blank.status_code, blank.json()) == (400, {"secret": ["The secret may not be empty."]})
    unknown = client.patch(f"{URL}{key_id}/", {"provider": "nope"}, format="json")
    assert (unknown.status_code, unknown.json()) == (
        400,
        {"provider": ["“nope” is not a provider this gateway knows; choose one from the list."]},
    )
    key = Key.objects.get(pk=key_id)
    assert key.secret() == SECRET and key.provider == "openai"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "bad_id, detail",
    [
        ("not-a-uuid", "Not found."),  # matches no route
        ("0" * 32, "No key matches the given query."),  # an id, of no key
        ("12345", "Not found."),
    ],
)
def test_unknown_or_malformed_ids_are_404(api, alice, bad_id, detail):
    response = api(alice).get(f"{URL}{bad_id}/")
    assert (response.status_code, response.json()) == (404, {"detail": detail})


@pytest.mark.django_db
def test_ids_work_with_and_without_a_trailing_slash(api, alice):
    client = api(alice)
    key_id = create(client).json()["id"]
    assert client.get(f"{URL}{key_id}").status_code == 200
    assert client.get(f"{URL}{key_id}/").status_code == 200


@pytest.mark.django_db
def test_filter_by_provider(api, alice):
    client = api(alice)
    create(client, name="a", provider="openai")
    create(client, name="b", provider="anthropic")
    results = client.get(URL + "?provider=anthropic").json()["results"]
    assert [key["name"] for key in results] == ["b"]


@pytest.mark.django_db
def test_an_oversized_body_is_refused_cleanly(api, alice, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    response = create(api(alice), description="x" * 5000)
    assert (response.status_code, response.json()) == (413, {"detail": "Request body is too large."})
    assert not Key.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("limit", ["99999999999999999999", str(2**63)])
def test_a_limit_beyond_64_bits_is_clamped_not_a_server_error(api, alice, limit):
    # Regression (schema fuzz): DRF passed any ?limit= to the query and the driver overflowed (500).
    create(api(alice))
    response = api(alice).get(f"{URL}?limit={limit}")
    assert response.status_code == 200
    assert response.json()["count"] == 1 and len(response.json()["results"]) == 1


@pytest.mark.django_db
def test_a_key_whose_creator_was_deleted_shows_created_by_null(api, alice, bob, admin_user):
    # Regression: the schema declared created_by a non-null string, but the FK is SET_NULL.
    key_id = create(api(alice)).json()["id"]
    # The last manager cannot be deleted: alice hands the key over first.
    sharing.grant(Key.objects.get(pk=key_id), bob, Level.MANAGE)
    alice.delete()
    response = api(admin_user).get(f"{URL}{key_id}/")
    assert response.status_code == 200
    assert response.json()["created_by"] is None
    schema = api(admin_user).get("/api/schema/?format=json").json()
    assert schema["components"]["schemas"]["Key"]["properties"]["created_by"]["nullable"] is True
