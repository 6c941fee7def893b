"""The admin lists and revokes tokens but never shows a digest or mints a token."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.factories import PASSWORD
from tokens.models import GatewayToken
from tokens.services import create_token

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/tokens/gatewaytoken/"


@pytest.fixture
def admin_client(admin_user, settings) -> Client:
    # The manifest storage used outside DEBUG needs collectstatic; the admin pages only need the URLs.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    client = Client()
    assert client.login(username=admin_user.username, password=PASSWORD)
    return client


def test_the_changelist_shows_tokens_without_their_digest(admin_client, alice):
    token, plaintext = create_token(alice, "laptop")

    response = admin_client.get(CHANGELIST)

    assert response.status_code == 200
    content = response.content.decode()
    assert token.prefix in content
    assert token.digest not in content
    assert plaintext not in content


def test_the_change_page_hides_the_digest(admin_client, alice):
    token, _ = create_token(alice, "laptop")

    response = admin_client.get(f"{CHANGELIST}{token.pk}/change/")

    assert response.status_code == 200
    assert token.digest not in response.content.decode()
    assert 'name="digest"' not in response.content.decode()


def test_tokens_cannot_be_added_in_the_admin(admin_client):
    assert admin_client.get(f"{CHANGELIST}add/").status_code == 403


def test_deleting_in_the_admin_revokes(admin_client, alice):
    token, _ = create_token(alice, "laptop")

    response = admin_client.post(f"{CHANGELIST}{token.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert not GatewayToken.objects.exists()
