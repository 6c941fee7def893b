from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from tokens.services import create_token


class Command(BaseCommand):
    help = "Create a personal gateway token for a user. The token is printed on the last line, once."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--name", default="cli", help="A label to recognise the token by (default: cli).")

    def handle(self, *args: Any, username: str, name: str, **options: Any) -> None:
        user = _get_user(username)
        token, plaintext = create_token(user, name=name)
        self.stdout.write(f"Created token {token.name!r} ({token.prefix}) for {username}. It is not shown again:")
        # Last line on its own so scripts can take it with `| tail -n 1`.
        self.stdout.write(plaintext)


def _get_user(username: str) -> Any:
    user_model = get_user_model()
    try:
        return user_model._default_manager.get_by_natural_key(username)
    except user_model.DoesNotExist:
        raise CommandError(f"User {username!r} does not exist.") from None
