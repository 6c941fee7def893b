"""Catalog API routes, mounted under ``api/3.0/mlflow/gateway/``.

Each route also answers with a trailing slash; that alias is left out of the
OpenAPI schema so every operation is documented once.
"""

from __future__ import annotations

from django.urls import URLPattern, path
from rest_framework.views import APIView

from catalog.api.views import ModelListView, ProviderListView

app_name = "catalog-api"


def _with_optional_slash(route: str, view: type[APIView], name: str) -> list[URLPattern]:
    # DRF's endpoint enumerator skips views whose class has ``schema = None``.
    alias = type(f"{view.__name__}WithSlash", (view,), {"schema": None})
    return [path(route, view.as_view(), name=name), path(f"{route}/", alias.as_view())]


urlpatterns: list[URLPattern] = [
    *_with_optional_slash("providers/list", ProviderListView, "provider-list"),
    *_with_optional_slash("models/list", ModelListView, "model-list"),
]
