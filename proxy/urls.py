"""The proxy's URLs for Django (the test client, WSGI); ``proxy.asgi`` serves the same table under ASGI."""

from __future__ import annotations

from django.urls import path

from proxy import views
from proxy.routes import ROUTE_PATHS

app_name = "proxy"

urlpatterns = [
    *(path(route_path.lstrip("/"), views.route_view(route), name=route) for route, route_path in ROUTE_PATHS.items()),
    path("v1/models", views.list_models, name="models"),
    path("gateway/<slug:endpoint_name>/invocations", views.invocations, name="invocations"),
    path("v1/<path:rest>", views.unknown_route, name="unknown"),
]
