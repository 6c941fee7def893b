from django.apps import AppConfig


class EndpointsConfig(AppConfig):
    """Named endpoints backed by provider models, their lifecycle and the proxy."""

    name = "endpoints"

    def ready(self) -> None:
        from endpoints import services, signals
        from endpoints.models import StateVersion
        from gatewaylib import invalidation
        from keys.signals import key_changed

        invalidation.use_version_store(StateVersion)

        key_changed.connect(services.on_key_changed, dispatch_uid="endpoints.on_key_changed")
        signals.connect()
