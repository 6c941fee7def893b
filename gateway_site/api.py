"""API-wide DRF hooks."""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import status
from rest_framework.exceptions import APIException
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter
from rest_framework.views import exception_handler as drf_exception_handler

logger = logging.getLogger(__name__)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler, plus the few Django exceptions that must not become a 500."""
    if isinstance(exc, RequestDataTooBig):
        return Response({"detail": "Request body is too large."}, status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    if isinstance(exc, Conflict):
        return Response(exc.payload, status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        return Response(detail, status=status.HTTP_400_BAD_REQUEST)
    return drf_exception_handler(exc, context)


class OptionalSlashRouter(SimpleRouter):
    """A router whose routes answer with or without the trailing slash.

    Clients (and the issue's own examples) use both ``providers/list`` and
    ``keys/``; a redirect would turn a POST into a GET in many clients.
    """

    def __init__(self) -> None:
        super().__init__()
        self.trailing_slash = "/?"


class Conflict(APIException):
    """409: the request is valid but clashes with the current state (a key in use, a bound endpoint).

    ``payload`` is returned as given (DRF would turn numbers into strings).
    """

    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state."
    default_code = "conflict"

    def __init__(self, payload: dict[str, Any]) -> None:
        super().__init__(payload.get("detail"))
        self.payload = payload
