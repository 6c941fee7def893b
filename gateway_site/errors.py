"""Error pages: an API path that matches no route answers like the API does (JSON), not with HTML."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults

API_PATH_PREFIX = "/api/"


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """``handler404``: DRF's ``{"detail": ...}`` body under ``/api/``, Django's page elsewhere.

    A malformed id (``keys/not-a-hex-id/``) fails URL resolution before any
    API view runs, so without this the API would answer it with an HTML page.
    """
    if request.path.startswith(API_PATH_PREFIX):
        return JsonResponse({"detail": "Not found."}, status=404)
    return defaults.page_not_found(request, exception)
