"""Write endpoints, their models, limits and descriptions as YAML, without any secret (keys by name)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from endpoints.transfer import export_endpoints


class Command(BaseCommand):
    help = (
        "Export endpoints as YAML (the gateway's own format: no secrets, each model names its key), for "
        "import_endpoints elsewhere. Every endpoint, or only those --user can read."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--output", metavar="FILE", help="Write here instead of to stdout.")
        parser.add_argument("--user", metavar="USERNAME", help="Only the endpoints this user can READ.")

    def handle(self, *args: Any, **options: Any) -> None:
        user = None
        if options["user"]:
            users = get_user_model()
            try:
                user = users._default_manager.get_by_natural_key(options["user"])
            except users.DoesNotExist:
                raise CommandError(f"No user named {options['user']!r}.") from None
        text = export_endpoints(user)
        if not options["output"]:
            self.stdout.write(text, ending="")
            return
        try:
            with open(options["output"], "w", encoding="utf-8") as handle:
                handle.write(text)
        except OSError as exc:
            raise CommandError(f"Cannot write {options['output']}: {exc.strerror or exc.__class__.__name__}.") from None
        self.stdout.write(f"Wrote {options['output']}.")
