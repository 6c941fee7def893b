from django.apps import AppConfig


class TeamsConfig(AppConfig):
    """Teams: Django auth groups with a public id and managers, run from the Teams page and the API."""

    name = "teams"

    def ready(self) -> None:
        from teams import signals

        signals.connect()
