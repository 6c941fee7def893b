from django.apps import AppConfig


class AuditConfig(AppConfig):
    """Who did what to which key or endpoint, and when."""

    name = "audit"
