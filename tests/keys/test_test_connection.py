"""A key's "test connection": its models listed at its destination, for whoever holds USE on it."""

from __future__ import annotations

import pytest

from keys import services
from sharing import services as sharing
from sharing.levels import Level

pytestmark = pytest.mark.django_db

URL = "/api/3.0/mlflow/gateway/keys/"
SECRET = "sk-tested-secret-0000TTTT"


@pytest.fixture
def key(alice, upstream, settings):
    settings.GATEWAY_PROBE_TIMEOUT = 5
    return services.create_key(actor=alice, name="fake", provider="openai", secret=SECRET, api_base=upstream.base_url)


def post_test(client, key):
    return client.post(f"{URL}{key.public_id}/test/")


def test_the_owner_sees_the_key_work(api, alice, key, upstream):
    response = post_test(api(alice), key)
    assert response.status_code == 200
    body = response.json()
    assert (body["label"], body["outcome"], body["message"]) == (
        "openai",
        "ok",
        "The key works: the provider lists 1 model for it.",
    )
    assert isinstance(body["latency_ms"], int)
    (listing,) = upstream.requests()
    assert (listing["method"], listing["path"], listing["headers"]["authorization"]) == (
        "GET",
        "/v1/models",
        f"Bearer {SECRET}",
    )


def test_use_is_needed_read_is_refused_and_strangers_see_nothing(api, alice, bob, charlie, key, upstream):
    sharing.grant(key, bob, Level.READ)
    assert post_test(api(bob), key).status_code == 403
    assert post_test(api(charlie), key).status_code == 404
    assert upstream.requests() == []
    sharing.grant(key, bob, Level.USE)
    assert post_test(api(bob), key).json()["outcome"] == "ok"


def test_a_refused_key_fails_with_the_reason_and_no_secret(api, alice, key, upstream):
    upstream.configure("*", fail_status=401)
    body = post_test(api(alice), key).json()
    assert (body["outcome"], body["message"]) == (
        "failed",
        "The provider refused the key (HTTP 401): check the secret. It said: fake failure",
    )
    assert SECRET not in str(body)


def test_the_address_rules_apply(api, alice, key, upstream, settings):
    settings.GATEWAY_BLOCK_PRIVATE_API_BASE = True
    body = post_test(api(alice), key).json()
    assert (body["outcome"], body["message"]) == (
        "failed",
        "The gateway refused to connect to 127.0.0.1: "
        "127.0.0.1 is a private or loopback address, which this gateway does not allow.",
    )
    assert upstream.requests() == []


def test_a_provider_without_a_free_listing_is_skipped(api, alice, upstream):
    key = services.create_key(actor=alice, name="co", provider="cohere", secret=SECRET)
    body = post_test(api(alice), key).json()
    assert (body["outcome"], body["message"]) == (
        "skipped",
        "cohere has no free model listing, so this key cannot be tested without a billed call. "
        "Starting an endpoint with GATEWAY_START_PROBES=all checks it with a one-token call.",
    )


def test_the_key_page_tests_the_connection_for_use_holders_only(client, alice, bob, key, upstream):
    page = f"/keys/{key.public_id}/"
    client.force_login(alice)
    assert "Test connection" in client.get(page).content.decode()
    response = client.post(page + "test", headers={"HX-Request": "true"})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="key-test-result"' in html and "<html" not in html
    assert "The key works: the provider lists 1 model for it." in html
    assert SECRET not in html
    sharing.grant(key, bob, Level.READ)
    client.force_login(bob)
    assert "Test connection" not in client.get(page).content.decode()
    assert client.post(page + "test").status_code == 403


def test_without_javascript_the_page_shows_the_result(client, alice, key, upstream):
    client.force_login(alice)
    response = client.post(f"/keys/{key.public_id}/test")
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" in html and "The key works: the provider lists 1 model for it." in html
