"""The endpoint pages of the web UI, split by what they do (see ``endpoints/urls.py``)."""

from __future__ import annotations

from endpoints.views.actions import endpoint_delete, endpoint_start, endpoint_stop, revision_restore
from endpoints.views.editing import (
    catalog_model_info,
    catalog_model_options,
    catalog_provider_options,
    endpoint_create,
    endpoint_edit,
)
from endpoints.views.pages import activity_fragment, endpoint_detail, endpoint_list, status_fragment
from endpoints.views.playground import playground_token
from endpoints.views.requests import request_detail, request_list
from endpoints.views.transfer import endpoint_export, endpoint_import

__all__ = [
    "activity_fragment",
    "catalog_model_info",
    "catalog_model_options",
    "catalog_provider_options",
    "endpoint_create",
    "endpoint_delete",
    "endpoint_detail",
    "endpoint_edit",
    "endpoint_export",
    "endpoint_import",
    "endpoint_list",
    "endpoint_start",
    "endpoint_stop",
    "playground_token",
    "request_detail",
    "request_list",
    "revision_restore",
    "status_fragment",
]
