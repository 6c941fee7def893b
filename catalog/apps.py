from django.apps import AppConfig


class CatalogConfig(AppConfig):
    """The provider/model catalog, read once from LiteLLM's model map."""

    name = "catalog"
