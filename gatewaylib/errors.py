"""The services' refusals, and the one reading of them that the API, the forms and the admin share.

Services raise Django's ``ValidationError``: a message, or messages per
field (``{"name": ["..."]}``). A field about a list may hold one dict of
errors per item, in order (``{"models": [{"key_id": ["..."]}, {}]}``), so
a refusal points at the item that caused it; build such an error with
:func:`invalid`, since Django's own constructor flattens the items away.

:func:`detail` reads an error back in that shape. It is the API's 400 body
(``gatewaylib.api.exception_handler``); the forms place it with
``gatewaylib.ui.add_service_errors`` and ``add_row_errors``, and the admin
words it with :func:`lines`. ``ValidationError.messages`` stays the flat
list of sentences, for a flash message.

A request that is valid but clashes with the current state raises
:class:`Conflict` instead (the API's 409).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS as DJANGO_NON_FIELD_ERRORS
from django.core.exceptions import ValidationError

# DRF's name for the messages about the request as a whole.
NON_FIELD_ERRORS = "non_field_errors"
# One sentence about the whole object: a string in the API, as in DRF's own errors.
DETAIL = "detail"
# Names that say "the whole thing", not where in it: an admin message does not repeat them.
_WHOLE = frozenset({DETAIL, NON_FIELD_ERRORS, DJANGO_NON_FIELD_ERRORS})


def invalid(problems: Mapping[str, Any]) -> ValidationError:
    """A ValidationError of ``problems`` per field, keeping the per-item dicts of a list field.

    Each item stays a ValidationError of its own in its field's list (an
    empty one for an item without problems), so ``messages`` and
    ``message_dict`` still read flat, as Django's callers expect, while
    :func:`detail` gives the items back in order.
    """
    error = ValidationError({})
    for field, messages in problems.items():
        if isinstance(messages, list) and any(isinstance(item, Mapping) for item in messages):
            error.error_dict[field] = [
                invalid(item) if isinstance(item, Mapping) else ValidationError(item) for item in messages
            ]
        else:
            error.error_dict[field] = ValidationError(messages).error_list
    return error


def focus(error: ValidationError, field: str, index: int) -> ValidationError:
    """``error`` as it concerns item ``index`` of ``field`` alone, for a request that sent only that item.

    The item's own problems come to the top (``{"weight": [...]}`` rather
    than ``{"models": [{}, {"weight": [...]}]}``); problems of the whole list
    (``weights``) stay as they are. An error without that item's problems is
    returned unchanged.
    """
    items = getattr(error, "error_dict", {}).get(field)
    if not items or index >= len(items) or not hasattr(items[index], "error_dict") or not items[index].error_dict:
        return error
    problems = {name: value for name, value in detail(error).items() if name != field}
    return invalid({**detail(items[index]), **problems})


def detail(error: ValidationError) -> dict[str, Any]:
    """``error`` as the API answers it: ``{"field": ["..."], "models": [{"key_id": ["..."]}, {}]}``.

    A message given without a field is under ``non_field_errors``, and
    ``detail`` is one string, as DRF answers its own errors.
    """
    if not hasattr(error, "error_dict"):
        return {NON_FIELD_ERRORS: error.messages}
    body: dict[str, Any] = {field: _field(field_errors) for field, field_errors in error.error_dict.items()}
    if DETAIL in body:
        body[DETAIL] = " ".join(texts(body[DETAIL]))
    return body


def _field(field_errors: list[ValidationError]) -> list[Any]:
    """One field's messages, with an item's dict in place of each per-item error."""
    read: list[Any] = []
    for item in field_errors:
        if hasattr(item, "error_dict"):
            read.append(detail(item))
        else:
            read.extend(item)  # a message, formatted with its params as Django formats it
    return read


def texts(value: Any) -> list[str]:
    """The sentences in ``value`` (one field's errors, or a whole :func:`detail`), without where they point."""
    return [message for _, message in _walk(value)]


def lines(error: ValidationError) -> list[str]:
    """Every message with where it points (``models[1].key_id: ...``), for an operator reading an admin message."""
    return [f"{where}: {message}" if where else message for where, message in _walk(detail(error))]


def _walk(value: Any, where: str = "") -> Iterator[tuple[str, str]]:
    """(where, message) for each message; items of a list are counted from 1, as people count rows."""
    if isinstance(value, Mapping):
        for name, inner in value.items():
            yield from _walk(inner, where if name in _WHOLE else f"{where}.{name}".lstrip("."))
    elif isinstance(value, list):
        for index, item in enumerate(value, start=1):
            yield from _walk(item, f"{where}[{index}]" if isinstance(item, Mapping) else where)
    else:
        yield where, str(value)


class Conflict(Exception):
    """The request is valid but clashes with the current state (a key in use, a bound endpoint): the API's 409.

    ``payload`` is the whole answer, ``detail`` and what stands in the way,
    returned as given (DRF would turn numbers into strings).
    """

    def __init__(self, payload: dict[str, Any]) -> None:
        super().__init__(payload.get("detail"))
        self.payload = payload
