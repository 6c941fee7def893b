from django.apps import AppConfig


class EndpointsConfig(AppConfig):
    """Named endpoints backed by provider models, their lifecycle and the proxy."""

    name = "endpoints"
