"""The audit API's query string: bad values are field errors, never server errors."""

from __future__ import annotations

import pytest

from keys import services as keys

URL = "/api/3.0/mlflow/gateway/audit/"


@pytest.fixture
def key(alice):
    return keys.create_key(actor=alice, name="openai-prod", provider="openai", secret="sk-test-1234567890abcdefWXYZ")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "since",
    [
        "9999-12-31T23:59:59-01:00",  # after the last representable UTC instant
        "0001-01-01T00:00:00%2B01:00",  # before the first one
    ],
)
def test_a_since_outside_the_utc_calendar_is_a_field_error(api, alice, key, since):
    # Regression: the database adapter's conversion to UTC raised OverflowError (500).
    response = api(alice).get(f"{URL}?since={since}")
    assert response.status_code == 400
    assert "since" in response.json()


@pytest.mark.django_db
def test_since_still_filters_with_any_offset(api, alice, key):
    client = api(alice)
    assert client.get(f"{URL}?since=2000-01-01T00:00:00%2B05:00").json()["count"] == 1
    assert client.get(f"{URL}?since=9999-12-31T00:00:00-01:00").json()["count"] == 0
    assert client.get(f"{URL}?since=yesterday").status_code == 400


@pytest.mark.django_db
def test_a_limit_beyond_64_bits_is_clamped_not_a_server_error(api, alice, key):
    # Regression: an unbounded ?limit= overflowed the database driver (500).
    response = api(alice).get(f"{URL}?limit=99999999999999999999")
    assert response.status_code == 200
    assert response.json()["count"] == 1


@pytest.mark.django_db
@pytest.mark.parametrize("bad_id", ["0" * 31, "0" * 32 + "zz", "zz" + "-" * 36, "not-an-id"])
def test_a_malformed_event_id_is_a_json_404(api, alice, bad_id):
    response = api(alice).get(f"{URL}{bad_id}/")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}
