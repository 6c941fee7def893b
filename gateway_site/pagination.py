"""The API's pagination: DRF's limit/offset, with a ceiling on ``limit``."""

from __future__ import annotations

from typing import Any

from rest_framework.pagination import LimitOffsetPagination


class GatewayPagination(LimitOffsetPagination):
    """``?limit=&offset=`` pages; a ``limit`` above ``max_limit`` is clamped to it.

    Without a ceiling DRF passes any ``limit`` to the query: one beyond a
    64-bit integer makes the database driver fail (a 500), and a merely huge
    one asks for the whole table in one response.
    """

    max_limit = 1000

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.limit_query_param:
                parameter["description"] = f"Number of results to return per page (at most {self.max_limit})."
        return parameters
