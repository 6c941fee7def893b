"""The endpoint pages, mounted at ``/endpoints/``. Endpoints are addressed by their 32-hex id."""

from __future__ import annotations

from django.urls import path, re_path

from endpoints import views

app_name = "endpoints"

ENDPOINT = r"^(?P<endpoint_id>[0-9a-f]{32})/"

urlpatterns = [
    path("", views.endpoint_list, name="endpoint-list"),
    path("new", views.endpoint_create, name="endpoint-create"),
    path("import", views.endpoint_import, name="endpoint-import"),
    path("export", views.endpoint_export, name="endpoint-export"),
    path("catalog/providers", views.catalog_provider_options, name="catalog-providers"),
    path("catalog/models", views.catalog_model_options, name="catalog-models"),
    path("catalog/model-info", views.catalog_model_info, name="catalog-model-info"),
    re_path(ENDPOINT + r"$", views.endpoint_detail, name="endpoint-detail"),
    re_path(ENDPOINT + r"edit$", views.endpoint_edit, name="endpoint-edit"),
    re_path(ENDPOINT + r"status-fragment$", views.status_fragment, name="endpoint-status"),
    re_path(ENDPOINT + r"activity$", views.activity_fragment, name="endpoint-activity"),
    re_path(ENDPOINT + r"requests$", views.request_list, name="endpoint-requests"),
    re_path(ENDPOINT + r"requests/(?P<log_id>[0-9]{1,18})$", views.request_detail, name="endpoint-request"),
    re_path(ENDPOINT + r"playground/token$", views.playground_token, name="playground-token"),
    re_path(ENDPOINT + r"start$", views.endpoint_start, name="endpoint-start"),
    re_path(ENDPOINT + r"stop$", views.endpoint_stop, name="endpoint-stop"),
    re_path(ENDPOINT + r"delete$", views.endpoint_delete, name="endpoint-delete"),
    re_path(ENDPOINT + r"revisions/(?P<number>[0-9]+)/restore$", views.revision_restore, name="revision-restore"),
]
