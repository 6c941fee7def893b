"""Model-level guarantees: migrations are current and nothing secret leaks through str/repr."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from tokens.services import create_token

pytestmark = pytest.mark.django_db


def test_the_tokens_migrations_are_current():
    call_command("makemigrations", "tokens", check=True, dry_run=True, stdout=StringIO())


def test_str_and_repr_show_only_the_name_and_prefix(alice):
    token, plaintext = create_token(alice, "laptop")

    for text in (str(token), repr(token)):
        assert plaintext not in text
        assert token.digest not in text
    assert str(token) == f"laptop ({token.prefix})"
