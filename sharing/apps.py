from django.apps import AppConfig


class SharingConfig(AppConfig):
    """Per-object permission levels shared by keys and endpoints (no models of its own)."""

    name = "sharing"

    def ready(self) -> None:
        from sharing import signals

        signals.connect()
