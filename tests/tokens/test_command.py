"""``manage.py create_token``: a thin wrapper over tokens.services.create_token."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tokens.models import GatewayToken
from tokens.services import authenticate_token

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command("create_token", *args, stdout=out)
    return out.getvalue()


def test_the_last_line_is_a_working_token(alice):
    output = run("alice")

    plaintext = output.strip().splitlines()[-1]
    token = authenticate_token(plaintext)
    assert token is not None
    assert token.user == alice
    assert token.name == "cli"


def test_it_uses_the_given_name(alice):
    run("alice", "--name", "deploy bot")

    assert GatewayToken.objects.get().name == "deploy bot"


def test_an_unknown_user_is_an_error(db):
    with pytest.raises(CommandError, match="User 'nobody' does not exist"):
        run("nobody")

    assert not GatewayToken.objects.exists()
