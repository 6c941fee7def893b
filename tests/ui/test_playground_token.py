"""The playground's token: minted for the signed-in user only with USE on the endpoint, short-lived, never cached."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from sharing import services as sharing
from sharing.levels import Level
from tokens import services as tokens
from tokens.models import GatewayToken

pytestmark = pytest.mark.django_db


@pytest.fixture
def endpoint(make_endpoint, key):
    return make_endpoint(key)


def url(endpoint):
    return f"/endpoints/{endpoint.public_id}/playground/token"


def test_a_use_holder_gets_a_token_of_their_own_that_the_proxy_accepts(client, bob, endpoint):
    sharing.grant(endpoint, bob, Level.USE)
    client.force_login(bob)
    response = client.post(url(endpoint))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    body = response.json()
    token = tokens.authenticate_token(body["token"])
    assert (token.user, token.name) == (bob, "Playground (browser)")
    lifetime = token.expires_at - timezone.now()
    assert timedelta(minutes=59) < lifetime <= timedelta(hours=1)
    assert body["expires_at"] == token.expires_at.isoformat()


def test_read_is_refused_strangers_see_nothing_and_get_is_not_allowed(client, alice, bob, charlie, endpoint):
    sharing.grant(endpoint, bob, Level.READ)
    client.force_login(bob)
    assert client.post(url(endpoint)).status_code == 403
    client.force_login(charlie)
    assert client.post(url(endpoint)).status_code == 404
    client.force_login(alice)
    assert client.get(url(endpoint)).status_code == 405
    assert not GatewayToken.objects.filter(name=tokens.PLAYGROUND_TOKEN_NAME).exists()


def test_expired_playground_tokens_are_removed_and_live_ones_kept(client, alice, endpoint):
    expired, _ = tokens.create_token(alice, tokens.PLAYGROUND_TOKEN_NAME, expires_at=timezone.now() - timedelta(1))
    live, _ = tokens.create_playground_token(alice)
    other, _ = tokens.create_token(alice, "ci", expires_at=timezone.now() - timedelta(1))
    client.force_login(alice)
    client.post(url(endpoint))
    left = set(GatewayToken.objects.filter(user=alice).values_list("pk", flat=True))
    assert expired.pk not in left
    assert {live.pk, other.pk} <= left
    assert len(left) == 3
