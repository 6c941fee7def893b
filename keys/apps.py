from django.apps import AppConfig


class KeysConfig(AppConfig):
    """Encrypted provider credentials."""

    name = "keys"

    def ready(self) -> None:
        from keys import checks  # noqa: F401 - registers the system check
