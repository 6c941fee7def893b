"""API-wide DRF pieces every app's API uses: the exception handler and the router."""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import RequestDataTooBig, ValidationError
from rest_framework import status
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from gatewaylib import errors
from gatewaylib.errors import Conflict

logger = logging.getLogger(__name__)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler, plus the services' refusals (``gatewaylib.errors``) and Django's exceptions that are not a 500."""
    if isinstance(exc, RequestDataTooBig):
        return Response({"detail": "Request body is too large."}, status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    if isinstance(exc, Conflict):
        set_rollback()
        return Response(exc.payload, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, ValidationError):
        set_rollback()
        return Response(errors.detail(exc), status=status.HTTP_400_BAD_REQUEST)
    return drf_exception_handler(exc, context)


class OptionalSlashRouter(SimpleRouter):
    """A router whose routes answer with or without the trailing slash.

    Clients (and the issue's own examples) use both ``providers/list`` and
    ``keys/``; a redirect would turn a POST into a GET in many clients.
    """

    def __init__(self) -> None:
        super().__init__()
        self.trailing_slash = "/?"
