"""The proxy's URLs for Django (the test client, WSGI); ``proxy.asgi`` serves the same table under ASGI."""

from __future__ import annotations

from django.urls import path, re_path

from gatewaylib.endpoint_types import ROUTES
from proxy import views
from proxy.routes import NATIVE_PATHS, ROUTE_PATHS

app_name = "proxy"

urlpatterns = [
    *(
        path(route_path.lstrip("/"), views.route_view(route), name=route)
        for route, route_path in ROUTE_PATHS.items()
        if not ROUTES[route].names_endpoint_in_path
    ),
    *(
        re_path(pattern.pattern.replace("^/", "^", 1), views.native_api, {"wire": wire}, name=wire)
        for wire, pattern in NATIVE_PATHS.items()
    ),
    path("v1/models", views.list_models, name="models"),
    path("gateway/<slug:endpoint_name>/invocations", views.invocations, name="invocations"),
    path("v1/<path:rest>", views.unknown_route, name="unknown"),
]
