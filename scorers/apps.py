from django.apps import AppConfig


class ScorersConfig(AppConfig):
    """LLM judges that rate an answer, each calling an endpoint of the gateway through the proxy."""

    name = "scorers"

    def ready(self) -> None:
        from endpoints import bindings
        from scorers import services

        bindings.register(services.RESOURCE_TYPE, services.BINDING_TYPE)
