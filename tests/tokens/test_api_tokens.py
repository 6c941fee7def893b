"""The tokens API: create once, list and show your own, revoke."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from tokens.models import GatewayToken
from tokens.services import authenticate_token, create_token

URL = "/api/3.0/mlflow/gateway/tokens/"
FIELDS = {"id", "name", "prefix", "created_at", "last_used_at", "expires_at", "rate_limit_rpm"}

pytestmark = pytest.mark.django_db


def test_it_creates_a_token_and_returns_the_plaintext_once(api, alice):
    response = api(alice).post(URL, {"name": "laptop"}, format="json")

    assert response.status_code == 201
    body = response.json()
    assert set(body) == FIELDS | {"token"}
    assert body["name"] == "laptop"
    assert body["token"].startswith(body["prefix"] + "_")
    token = GatewayToken.objects.get()
    assert body["id"] == token.id.hex
    assert token.user == alice
    assert authenticate_token(body["token"]) == token


def test_list_and_detail_never_show_the_plaintext_again(api, alice):
    client = api(alice)
    plaintext = client.post(URL, {"name": "laptop"}, format="json").json()["token"]
    token = GatewayToken.objects.get()

    listed = client.get(URL)
    detail = client.get(f"{URL}{token.id.hex}/")

    assert listed.status_code == 200
    assert detail.status_code == 200
    assert [set(row) for row in listed.json()["results"]] == [FIELDS]
    assert set(detail.json()) == FIELDS
    for response in (listed, detail):
        assert plaintext not in response.content.decode()
        assert token.digest not in response.content.decode()


def test_the_database_row_holds_neither_the_plaintext_nor_its_secret(alice):
    token, plaintext = create_token(alice, "laptop")
    secret = plaintext.split("_", 2)[2]  # gw_<lookup id>_<secret>; the lookup id has no "_"

    values = GatewayToken.objects.filter(pk=token.pk).values().get()
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM tokens_gatewaytoken")
        raw_row = cursor.fetchone()

    for value in [*values.values(), *raw_row]:
        assert plaintext not in str(value)
        assert secret not in str(value)


def test_it_lists_only_the_callers_tokens(api, alice, bob):
    create_token(alice, "alice's")
    create_token(bob, "bob's")

    response = api(bob).get(URL)

    assert [row["name"] for row in response.json()["results"]] == ["bob's"]


def test_it_answers_without_the_trailing_slash(api, alice):
    client = api(alice)
    token, _ = create_token(alice, "laptop")

    assert client.get(URL.rstrip("/")).status_code == 200
    assert client.get(f"{URL}{token.id.hex}").status_code == 200
    assert client.post(URL.rstrip("/"), {"name": "ci"}, format="json").status_code == 201


def test_detail_accepts_the_dashed_uuid_too(api, alice):
    token, _ = create_token(alice, "laptop")

    response = api(alice).get(f"{URL}{token.id}/")

    assert response.status_code == 200
    assert response.json()["id"] == token.id.hex


@pytest.mark.parametrize("bad_id", ["not-a-uuid", "1234", "g" * 32])
def test_an_invalid_id_is_404_not_500(api, alice, bad_id):
    assert api(alice).get(f"{URL}{bad_id}/").status_code == 404
    assert api(alice).delete(f"{URL}{bad_id}/").status_code == 404


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"name": "ok", "expires_at": "yesterday"}, "expires_at"),
    ],
)
def test_it_rejects_invalid_input_with_a_field_error(api, alice, payload, field):
    response = api(alice).post(URL, payload, format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert not GatewayToken.objects.exists()


def test_it_rejects_an_expiry_in_the_past(api, alice):
    past = (timezone.now() - timedelta(minutes=1)).isoformat()

    response = api(alice).post(URL, {"name": "old", "expires_at": past}, format="json")

    assert response.status_code == 400
    assert "expires_at" in response.json()


def test_it_stores_a_future_expiry(api, alice):
    future = timezone.now() + timedelta(days=30)

    response = api(alice).post(URL, {"name": "ci", "expires_at": future.isoformat()}, format="json")

    assert response.status_code == 201
    assert GatewayToken.objects.get().expires_at == future


def test_delete_revokes_the_token(api, alice):
    token, plaintext = create_token(alice, "laptop")

    response = api(alice).delete(f"{URL}{token.id.hex}/")

    assert response.status_code == 204
    assert not GatewayToken.objects.exists()
    assert authenticate_token(plaintext) is None


def test_bob_cannot_see_or_delete_alices_token(api, alice, bob):
    token, _ = create_token(alice, "laptop")
    client = api(bob)

    assert client.get(f"{URL}{token.id.hex}/").status_code == 404
    assert client.delete(f"{URL}{token.id.hex}/").status_code == 404
    assert GatewayToken.objects.filter(pk=token.pk).exists()


def test_anonymous_callers_get_401():
    client = APIClient()

    assert client.get(URL).status_code == 401
    assert client.post(URL, {"name": "x"}, format="json").status_code == 401


def test_the_schema_declares_bearer_auth_and_the_one_time_token():
    from django.urls import include, path
    from drf_spectacular.generators import SchemaGenerator

    # Only the tokens routes, so this test does not depend on other apps' schemas.
    generator = SchemaGenerator(patterns=[path("api/3.0/mlflow/gateway/", include("tokens.api.urls"))])
    schema = generator.get_schema(request=None, public=True)

    schemes = schema["components"]["securitySchemes"]
    assert schemes["gatewayToken"]["type"] == "http"
    assert schemes["gatewayToken"]["scheme"] == "bearer"
    create = schema["paths"]["/api/3.0/mlflow/gateway/tokens/"]["post"]
    created_ref = create["responses"]["201"]["content"]["application/json"]["schema"]["$ref"]
    created = schema["components"]["schemas"][created_ref.rsplit("/", 1)[1]]
    assert "token" in created["properties"]
    listed = schema["components"]["schemas"]["GatewayToken"]["properties"]
    assert set(listed) == FIELDS
