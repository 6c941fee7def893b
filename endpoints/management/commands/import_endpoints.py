"""Import a file written by export_endpoints (or, by its top-level keys, a LiteLLM or MLflow config)."""

from __future__ import annotations

from django.core.management.base import CommandParser

from endpoints.transfer import AUTO, FORMATS
from endpoints.transfer.text import ImportCommand


class Command(ImportCommand):
    help = (
        "Import endpoints from a gateway export (gateway_export: 1; its models name existing keys), or from a "
        "LiteLLM or MLflow config, told apart by their top-level keys. Nothing is created when anything cannot "
        "be imported; --dry-run prints the plan only."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "--format", choices=[AUTO, *FORMATS], default=AUTO, help="The file's format (default: detect it)."
        )
