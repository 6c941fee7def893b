"""The project's drf-spectacular schema class: it documents the error answers too.

drf-spectacular only documents the success response of an operation, but
clients (and the schema fuzz test) meet the errors every view can give as
well. ``GatewayAutoSchema`` adds, to each operation that does not declare
them itself:

* 400 with field errors, when the operation takes a body or validated query
  parameters (pagination parameters are clamped, never rejected), or when
  its view lists the action in ``refusable_actions`` (a rule may refuse it
  without any input to blame, e.g. removing a team's last manager);
* 401 and 403, when the operation needs an authenticated caller;
* 404, when the path names an object;
* 409, when its view lists the action in ``conflict_actions`` (deleting what
  something else still uses).
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ResolvedComponent

# Query parameters the paginator reads: a bad value falls back to the default, never a 400.
PAGINATION_PARAMETERS = frozenset({"limit", "offset"})

_ERROR_DETAIL_SCHEMA = {
    "type": "object",
    "description": "An error that is not about one field.",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
}
_MESSAGES = {"type": "array", "items": {"type": "string"}}
_VALIDATION_ERROR_SCHEMA = {
    "type": "object",
    "description": (
        "Field name -> list of messages (`non_field_errors` for the request as a whole), "
        "or `detail` when the body cannot be parsed at all. Errors about the items of a list "
        "(`models`) are one object of field errors per item, in order, or item position -> its errors."
    ),
    "additionalProperties": {
        "anyOf": [
            _MESSAGES,
            {"type": "string"},
            {"type": "array", "items": {"type": "object", "additionalProperties": _MESSAGES}},
            # Item position -> that item's field errors, or its messages when the item itself is wrong.
            {
                "type": "object",
                "additionalProperties": {"anyOf": [_MESSAGES, {"type": "object", "additionalProperties": _MESSAGES}]},
            },
        ]
    },
}
_CONFLICT_SCHEMA = {
    "type": "object",
    "description": "The change was refused because of what depends on this object (listed beside `detail`).",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
    "additionalProperties": True,
}


class GatewayAutoSchema(AutoSchema):
    def get_operation(self, path, path_regex, path_prefix, method, registry) -> dict[str, Any] | None:
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        responses = operation.setdefault("responses", {})
        for code, description, component in self._error_responses(operation):
            responses.setdefault(
                code, {"description": description, "content": {"application/json": {"schema": component.ref}}}
            )
        return operation

    def _error_responses(self, operation: dict[str, Any]) -> list[tuple[str, str, ResolvedComponent]]:
        detail = self._component("ErrorDetail", _ERROR_DETAIL_SCHEMA)
        errors = []
        query = {param["name"] for param in operation.get("parameters", []) if param["in"] == "query"}
        refusable = getattr(self.view, "action", None) in getattr(self.view, "refusable_actions", ())
        if "requestBody" in operation or query - PAGINATION_PARAMETERS or refusable:
            errors.append(("400", "Invalid input.", self._component("ValidationError", _VALIDATION_ERROR_SCHEMA)))
        security = operation.get("security", [])
        if security and {} not in security:  # an empty requirement means anonymous callers are allowed
            errors.append(("401", "No valid credentials.", detail))
            errors.append(("403", "Not allowed to do this.", detail))
        if "{" in self.path:
            errors.append(("404", "No such object, or you cannot see it.", detail))
        if getattr(self.view, "action", None) in getattr(self.view, "conflict_actions", ()):
            errors.append(("409", "Refused: something depends on it.", self._component("Conflict", _CONFLICT_SCHEMA)))
        return errors

    def _component(self, name: str, schema: dict[str, Any]) -> ResolvedComponent:
        component = ResolvedComponent(name=name, type=ResolvedComponent.SCHEMA, schema=schema, object=name)
        self.registry.register_on_missing(component)
        return component
