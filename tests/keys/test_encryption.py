"""Encryption at rest, loud failure on a wrong key, and key rotation."""

from __future__ import annotations

import logging

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.core.management.base import CommandError

from keys import crypto
from keys.crypto import SecretDecryptionError
from keys.models import Key

SECRETS = ["sk-one-aaaaaaaaaaaaaaaaaaaa", "sk-ant-two-bbbbbbbbbbbbbbbbbb", "gsk_three_cccccccccccccccccccc"]


@pytest.fixture
def old_key():
    return Fernet.generate_key().decode()


@pytest.fixture
def new_key():
    return Fernet.generate_key().decode()


@pytest.mark.django_db
def test_rotation_lets_the_old_key_be_removed(settings, alice, make_key, old_key, new_key):
    settings.GATEWAY_ENCRYPTION_KEYS = [old_key]
    keys = [make_key(alice, name=f"k{i}", secret=secret) for i, secret in enumerate(SECRETS)]

    settings.GATEWAY_ENCRYPTION_KEYS = [new_key, old_key]
    call_command("rotate_encryption_keys")

    settings.GATEWAY_ENCRYPTION_KEYS = [new_key]
    for key, secret in zip(keys, SECRETS, strict=True):
        refreshed = Key.objects.get(pk=key.pk)
        assert refreshed.secret() == secret
        assert refreshed.last_rotated_at is not None


@pytest.mark.django_db
def test_a_wrong_key_fails_loudly_and_never_returns_ciphertext(settings, alice, make_key, old_key, new_key):
    settings.GATEWAY_ENCRYPTION_KEYS = [old_key]
    key = make_key(alice, secret=SECRETS[0])
    settings.GATEWAY_ENCRYPTION_KEYS = [new_key]
    with pytest.raises(SecretDecryptionError) as excinfo:
        Key.objects.get(pk=key.pk).secret()
    assert key.secret_ciphertext not in str(excinfo.value)
    assert SECRETS[0] not in str(excinfo.value)


@pytest.mark.django_db
def test_rotation_stops_with_a_clear_error_on_an_undecryptable_row(settings, alice, make_key, old_key, new_key):
    settings.GATEWAY_ENCRYPTION_KEYS = [old_key]
    key = make_key(alice, secret=SECRETS[0])
    settings.GATEWAY_ENCRYPTION_KEYS = [new_key]
    with pytest.raises(CommandError, match=key.id.hex):
        call_command("rotate_encryption_keys")


def test_each_encryption_uses_a_fresh_token():
    assert crypto.encrypt("sk-same") != crypto.encrypt("sk-same")


@pytest.mark.parametrize(
    "secret, hint",
    [("sk-proj-abcdefghijklmnop", "sk-...mnop"), ("shortsecret", "...et"), ("tiny", "...")],
)
def test_masking_reveals_little(secret, hint):
    assert crypto.mask(secret) == hint


def test_a_malformed_encryption_key_is_refused(settings):
    from django.core.exceptions import ImproperlyConfigured

    settings.GATEWAY_ENCRYPTION_KEYS = ["not-a-fernet-key"]
    with pytest.raises(ImproperlyConfigured, match="#1"):
        crypto.encrypt("x")


@pytest.mark.django_db
def test_repr_and_str_never_show_the_secret(alice, make_key):
    key = make_key(alice, secret=SECRETS[0])
    assert SECRETS[0] not in repr(key) and SECRETS[0] not in str(key)
    assert key.secret_ciphertext not in repr(key)


@pytest.mark.django_db
def test_no_log_line_contains_the_secret(api, alice, caplog):
    caplog.set_level(logging.DEBUG)
    client = api(alice)
    key_id = client.post(
        "/api/3.0/mlflow/gateway/keys/", {"name": "k", "provider": "openai", "secret": SECRETS[0]}, format="json"
    ).json()["id"]
    client.patch(f"/api/3.0/mlflow/gateway/keys/{key_id}/", {"secret": SECRETS[1]}, format="json")
    call_command("rotate_encryption_keys")
    assert SECRETS[0] not in caplog.text and SECRETS[1] not in caplog.text
