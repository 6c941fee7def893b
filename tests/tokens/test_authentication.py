"""Bearer gateway tokens authenticate API calls; everything else answers 401."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient, APIRequestFactory

from tokens import crypto
from tokens.authentication import GatewayTokenAuthentication
from tokens.models import GatewayToken
from tokens.services import authenticate_token, create_token, revoke_token

URL = "/api/3.0/mlflow/gateway/tokens/"
OLD_PEPPER = "old-pepper-" + "o" * 40
NEW_PEPPER = "new-pepper-" + "n" * 40

pytestmark = pytest.mark.django_db


def bearer(value: str, scheme: str = "Bearer") -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"{scheme} {value}")
    return client


@pytest.fixture
def alice_token(alice):
    return create_token(alice, "laptop")


def test_a_bearer_token_authenticates_its_user(alice, bob, alice_token):
    create_token(bob, "bob's")
    _, plaintext = alice_token

    response = bearer(plaintext).get(URL)

    assert response.status_code == 200
    assert [row["name"] for row in response.json()["results"]] == ["laptop"]


@pytest.mark.parametrize("scheme", ["bearer", "BEARER", "BeArEr"])
def test_the_scheme_is_case_insensitive(alice_token, scheme):
    assert bearer(alice_token[1], scheme=scheme).get(URL).status_code == 200


def test_the_authenticator_returns_the_user_and_the_token(alice, alice_token):
    token, plaintext = alice_token
    request = APIRequestFactory().get(URL, HTTP_AUTHORIZATION=f"Bearer {plaintext}")

    assert GatewayTokenAuthentication().authenticate(request) == (alice, token)


def test_a_request_without_the_header_is_left_to_other_authenticators():
    request = APIRequestFactory().get(URL)

    assert GatewayTokenAuthentication().authenticate(request) is None


def test_a_missing_header_answers_401_with_a_bearer_challenge():
    response = APIClient().get(URL)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_a_wrong_secret_with_a_valid_lookup_id_is_rejected(alice_token):
    token, plaintext = alice_token
    forged = crypto.format_token(token.lookup_id, crypto.new_secret())

    response = bearer(forged).get(URL)

    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid or expired token."}
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


@pytest.mark.parametrize(
    "header",
    [
        "Bearer garbage",
        "Bearer gw_short_secret",
        "Bearer",
        "Bearer gw_AAAAAAAAAAAA_" + "a" * 43 + " extra",
        "Bearer gw_AAAAAAAAAAAA_" + "a" * 500,
        "Bearer gw_AAAA_AAAAAAA_" + "a" * 43,
        "Bearer sk-" + "a" * 48,
        "Bearer gw_AAAAAAAAAAAA_" + "é" * 43,
    ],
)
def test_a_malformed_token_is_rejected(header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)

    response = client.get(URL)

    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid or expired token."}


def test_a_trailing_newline_does_not_pass_as_a_valid_token(alice_token):
    assert crypto.parse_token(alice_token[1]) is not None
    assert crypto.parse_token(alice_token[1] + "\n") is None


def test_a_lookup_id_clash_draws_a_new_one(alice, alice_token, monkeypatch):
    taken = alice_token[0].lookup_id
    fresh = iter([taken, "B" * crypto.LOOKUP_ID_LENGTH])
    monkeypatch.setattr(crypto, "new_lookup_id", lambda: next(fresh))

    token, plaintext = create_token(alice, "second")

    assert token.lookup_id == "B" * crypto.LOOKUP_ID_LENGTH
    assert authenticate_token(plaintext) == token


def test_an_unknown_token_is_rejected():
    plaintext = crypto.format_token(crypto.new_lookup_id(), crypto.new_secret())

    assert bearer(plaintext).get(URL).status_code == 401


def test_an_expired_token_is_rejected(alice):
    _, plaintext = create_token(alice, "old", expires_at=timezone.now() - timedelta(seconds=1))

    assert bearer(plaintext).get(URL).status_code == 401


def test_a_token_that_has_not_expired_yet_works(alice):
    _, plaintext = create_token(alice, "ci", expires_at=timezone.now() + timedelta(hours=1))

    assert bearer(plaintext).get(URL).status_code == 200


def test_an_inactive_users_token_is_rejected(alice, alice_token):
    alice.is_active = False
    alice.save()

    assert bearer(alice_token[1]).get(URL).status_code == 401


def test_a_revoked_token_is_rejected(alice_token):
    token, plaintext = alice_token
    revoke_token(token)

    assert bearer(plaintext).get(URL).status_code == 401


def test_token_requests_need_no_csrf_token(alice_token):
    client = APIClient(enforce_csrf_checks=True)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {alice_token[1]}")

    assert client.post(URL, {"name": "from ci"}, format="json").status_code == 201


def test_a_token_can_revoke_itself(alice_token):
    token, plaintext = alice_token
    client = bearer(plaintext)

    assert client.delete(f"{URL}{token.id.hex}/").status_code == 204
    assert client.get(URL).status_code == 401


def test_last_used_at_is_recorded_at_most_once_a_minute(alice_token, django_assert_num_queries):
    token, plaintext = alice_token
    assert token.last_used_at is None

    authenticate_token(plaintext)
    first_use = GatewayToken.objects.get(pk=token.pk).last_used_at
    assert first_use is not None

    # Within the minute: the lookup only, no UPDATE.
    with django_assert_num_queries(1):
        authenticate_token(plaintext)
    assert GatewayToken.objects.get(pk=token.pk).last_used_at == first_use

    GatewayToken.objects.filter(pk=token.pk).update(last_used_at=first_use - timedelta(minutes=2))
    authenticate_token(plaintext)
    assert GatewayToken.objects.get(pk=token.pk).last_used_at > first_use


def test_the_digest_depends_on_the_pepper(alice):
    token, plaintext = create_token(alice, "laptop")

    with override_settings(GATEWAY_TOKEN_PEPPERS={1: NEW_PEPPER}):
        assert authenticate_token(plaintext) is None


def test_new_tokens_use_the_highest_configured_pepper(alice):
    with override_settings(GATEWAY_TOKEN_PEPPERS={"1": OLD_PEPPER, "2": NEW_PEPPER}):
        token, plaintext = create_token(alice, "laptop")
        assert token.pepper_version == 2
        assert authenticate_token(plaintext) == token


def test_a_token_moves_to_the_new_pepper_when_it_is_next_used(alice):
    with override_settings(GATEWAY_TOKEN_PEPPERS={1: OLD_PEPPER}):
        token, plaintext = create_token(alice, "laptop")

    with override_settings(GATEWAY_TOKEN_PEPPERS={1: OLD_PEPPER, 2: NEW_PEPPER}):
        assert authenticate_token(plaintext) == token
        token.refresh_from_db()
        assert token.pepper_version == 2

    # The old pepper can now be retired without breaking the token.
    with override_settings(GATEWAY_TOKEN_PEPPERS={2: NEW_PEPPER}):
        assert authenticate_token(plaintext) == token


def test_retiring_a_pepper_invalidates_the_tokens_still_hashed_with_it(alice):
    with override_settings(GATEWAY_TOKEN_PEPPERS={1: OLD_PEPPER}):
        _, plaintext = create_token(alice, "laptop")

    with override_settings(GATEWAY_TOKEN_PEPPERS={2: NEW_PEPPER}):
        assert authenticate_token(plaintext) is None


@pytest.mark.parametrize(
    "peppers",
    [{}, ["x" * 40], {1: "too short"}, {"one": "x" * 40}, {-1: "x" * 40}, {1: None}],
)
def test_a_misconfigured_pepper_setting_fails_loudly(peppers):
    with override_settings(GATEWAY_TOKEN_PEPPERS=peppers), pytest.raises(ImproperlyConfigured):
        crypto.peppers()
