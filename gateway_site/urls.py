from __future__ import annotations

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from gateway_site import views

admin.site.site_header = "AI Gateway administration"
admin.site.site_title = "AI Gateway admin"
admin.site.index_title = "Keys, endpoints, tokens and who may use them"

API_PREFIX = "api/3.0/mlflow/gateway/"

handler404 = "gateway_site.errors.not_found"

urlpatterns = [
    path("health/live", views.live, name="health-live"),
    path("health/ready", views.ready, name="health-ready"),
    path("metrics", views.metrics, name="metrics"),
    path("", include("proxy.urls", namespace="proxy")),
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("", include("gateway_site.ui_urls")),
    path("keys/", include("keys.urls")),
    path("tokens/", include("tokens.urls")),
    path("endpoints/", include("endpoints.urls")),
    path("scorers/", include("scorers.urls")),
    path("share/", include("sharing.urls")),
    path("teams/", include("teams.urls")),
    path("audit/", include("audit.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
    path(API_PREFIX, include("catalog.api.urls")),
    path(API_PREFIX, include("keys.api.urls")),
    path(API_PREFIX, include("tokens.api.urls")),
    path(API_PREFIX, include("teams.api.urls")),
    path(API_PREFIX, include("audit.api.urls")),
    path(API_PREFIX, include("endpoints.api.urls")),
    path(API_PREFIX, include("scorers.api.urls")),
]
