"""The proxy's URLs for Django (the test client, WSGI); ``proxy.asgi`` serves the same table under ASGI."""

from __future__ import annotations

from django.urls import path, re_path

from gatewaylib.endpoint_types import ROUTES
from proxy import views
from proxy.routes import GEMINI_PATH, ROUTE_PATHS

app_name = "proxy"

urlpatterns = [
    *(
        path(route_path.lstrip("/"), views.route_view(route), name=route)
        for route, route_path in ROUTE_PATHS.items()
        if not ROUTES[route].names_endpoint_in_path
    ),
    re_path(GEMINI_PATH.pattern.replace("^/", "^", 1), views.gemini, name="gemini"),
    path("v1/models", views.list_models, name="models"),
    path("gateway/<slug:endpoint_name>/invocations", views.invocations, name="invocations"),
    path("v1/<path:rest>", views.unknown_route, name="unknown"),
]
