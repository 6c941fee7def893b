"""Token pages: the plaintext is shown once, in the create response only; revocation is personal."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tokens import services
from tokens.models import GatewayToken

pytestmark = pytest.mark.django_db


def test_the_page_lists_nothing_at_first(client_for, alice):
    response = client_for(alice).get("/tokens/")
    assert response.status_code == 200
    assert b"No tokens yet" in response.content


def test_the_plaintext_is_shown_once_with_a_copy_button_and_a_warning(client_for, alice):
    client = client_for(alice)
    response = client.post("/tokens/", {"name": "ci"})
    content = response.content.decode()
    token = GatewayToken.objects.get(user=alice)
    plaintext = content.split('id="new-token" value="', 1)[1].split('"', 1)[0]
    assert response.status_code == 200
    assert services.find_token(plaintext) == token
    assert "won’t be shown again" in content
    assert 'data-copy-target="new-token"' in content and "js/copy.js" in content
    assert "no-store" in response["Cache-Control"]
    assert plaintext not in response.get("Location", "")

    later = client.get("/tokens/").content.decode()
    assert plaintext not in later
    assert token.prefix in later and "ci" in later
    assert plaintext not in str(dict(client.session))


def test_an_htmx_create_answers_the_panel_fragment(client_for, alice):
    response = client_for(alice, htmx=True).post("/tokens/", {"name": "ci"})
    content = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in content
    assert 'id="new-token"' in content


def test_a_name_is_required(client_for, alice):
    response = client_for(alice).post("/tokens/", {"name": ""})
    assert response.status_code == 422
    assert b"errorlist" in response.content
    assert not GatewayToken.objects.exists()


def test_an_expiry_in_the_past_is_refused(client_for, alice):
    yesterday = timezone.localdate() - timedelta(days=1)
    response = client_for(alice).post("/tokens/", {"name": "old", "expires_on": yesterday.isoformat()})
    assert response.status_code == 422
    assert b"Pick today or a later day" in response.content


def test_an_expiry_date_lasts_until_the_end_of_that_day(client_for, alice):
    day = timezone.localdate() + timedelta(days=30)
    client_for(alice).post("/tokens/", {"name": "month", "expires_on": day.isoformat()})
    token = GatewayToken.objects.get(name="month")
    assert timezone.localtime(token.expires_at).date() == day + timedelta(days=1)
    assert timezone.localtime(token.expires_at).hour == 0


def test_users_only_see_their_own_tokens(client_for, alice, bob):
    services.create_token(bob, "bobs-token")
    assert b"bobs-token" not in client_for(alice).get("/tokens/").content


def test_revoking_deletes_the_token_after_confirmation(client_for, alice):
    token, plaintext = services.create_token(alice, "ci")
    client = client_for(alice)
    page = client.get("/tokens/").content.decode()
    assert f'action="/tokens/{token.id.hex}/revoke"' in page and "data-confirm=" in page
    response = client.post(f"/tokens/{token.id.hex}/revoke")
    assert response.status_code == 302 and response["Location"] == "/tokens/"
    assert not GatewayToken.objects.filter(pk=token.pk).exists()
    assert services.find_token(plaintext) is None
    assert "revoked" in client.get("/tokens/").content.decode()


def test_someone_elses_token_cannot_be_revoked(client_for, alice, bob):
    token, _ = services.create_token(bob, "bobs-token")
    assert client_for(alice).post(f"/tokens/{token.id.hex}/revoke").status_code == 404
    assert GatewayToken.objects.filter(pk=token.pk).exists()


def test_revoke_is_post_only(client_for, alice):
    token, _ = services.create_token(alice, "ci")
    assert client_for(alice).get(f"/tokens/{token.id.hex}/revoke").status_code == 405
