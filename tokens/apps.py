from __future__ import annotations

from django.apps import AppConfig


class TokensConfig(AppConfig):
    """Personal gateway tokens (hashed) that authenticate the API and the proxy."""

    name = "tokens"

    def ready(self) -> None:
        # Registers the OpenAPI extension; drf-spectacular finds extensions by import.
        from tokens import schema  # noqa: F401
