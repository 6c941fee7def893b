"""The admin shows keys masked and writes secrets through the same service as the API."""

from __future__ import annotations

import pytest

from keys.models import Key
from sharing import services as sharing
from sharing.levels import Level

SECRET = "sk-admin-secret-abcdefgh5678"


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.mark.django_db
def test_adding_a_key_in_the_admin_encrypts_it_and_makes_the_admin_manager(admin_client, admin_user):
    response = admin_client.post(
        "/admin/keys/key/add/",
        {"name": "from-admin", "provider": "openai", "description": "", "secret": SECRET},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    key = Key.objects.get(name="from-admin")
    assert key.secret() == SECRET
    assert sharing.list_grants(key)[0].user == admin_user.username
    assert sharing.list_grants(key)[0].level == Level.MANAGE


@pytest.mark.django_db
def test_admin_pages_never_show_the_secret(admin_client, alice, make_key):
    key = make_key(alice, secret=SECRET)
    for url in (
        "/admin/keys/key/",
        f"/admin/keys/key/{key.pk}/change/",
        f"/admin/keys/key/{key.pk}/delete/",
        f"/admin/keys/key/{key.pk}/permissions/",
    ):
        response = admin_client.get(url)
        assert response.status_code == 200, url
        body = response.content.decode()
        assert SECRET not in body and key.secret_ciphertext not in body, url
        assert key.masked_secret in body or url.endswith(("delete/", "permissions/"))


@pytest.mark.django_db
def test_an_admin_form_error_does_not_render_the_secret_back(admin_client):
    response = admin_client.post(
        "/admin/keys/key/add/", {"name": "bad", "provider": "not-a-provider", "description": "", "secret": SECRET}
    )
    assert response.status_code == 200
    assert SECRET not in response.content.decode()
    assert not Key.objects.exists()


@pytest.mark.django_db
def test_changing_without_a_secret_keeps_the_stored_one(admin_client, alice, make_key):
    key = make_key(alice, secret=SECRET)
    response = admin_client.post(
        f"/admin/keys/key/{key.pk}/change/", {"name": "renamed", "provider": "openai", "description": "", "secret": ""}
    )
    assert response.status_code == 302
    key.refresh_from_db()
    assert key.name == "renamed" and key.secret() == SECRET


@pytest.mark.django_db
def test_the_admin_refuses_a_provider_change_while_endpoints_use_the_key(admin_client, alice, make_key):
    from endpoints import services as endpoint_services
    from endpoints.validation import ModelSpec

    key = make_key(alice, secret=SECRET)
    spec = ModelSpec(provider="openai", model_name="gpt-4o", key_id=key.public_id)
    endpoint_services.create_endpoint(actor=alice, name="in-use", endpoint_type="chat", models=[spec])
    response = admin_client.post(
        f"/admin/keys/key/{key.pk}/change/", {"name": key.name, "provider": "groq", "description": "", "secret": SECRET}
    )
    assert response.status_code == 200  # the form again, with the error
    assert "This key is used by endpoint “in-use”" in response.content.decode()
    assert Key.objects.get(pk=key.pk).provider == "openai"
