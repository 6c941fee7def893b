"""Small helpers shared by the server-rendered UI views (keys, tokens, sharing, dashboard, endpoints).

Views stay thin: they fetch an object and the caller's level on it at once
with :func:`object_for` (``sharing.services``' rule), hand templates the
level as an :class:`Access` (``access.can_edit``), render either the full
page or, for an htmx request, a fragment with :func:`render_htmx`, and put a
service's refusal on their forms with :func:`add_service_errors`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.shortcuts import render

from gatewaylib import errors
from sharing import services as sharing
from sharing.levels import Level

if TYPE_CHECKING:
    from collections.abc import Callable, Collection, Sequence

    from django.core.exceptions import ValidationError
    from django.db.models import Model, QuerySet
    from django.forms import BaseForm
    from django.http import HttpRequest, HttpResponse

# htmx swaps this status (see the htmx-config meta tag in base.html), so a
# fragment with inline form errors replaces the form while the status still
# says the request was refused.
UNPROCESSABLE = 422


@dataclass(frozen=True)
class Access:
    """The caller's level on one object, with the flags templates test (``access.can_edit``)."""

    level: Level | None

    @property
    def name(self) -> str:
        return self.level.name if self.level is not None else ""

    def allows(self, needed: Level) -> bool:
        return self.level is not None and self.level >= needed

    @property
    def can_use(self) -> bool:
        return self.allows(Level.USE)

    @property
    def can_edit(self) -> bool:
        return self.allows(Level.EDIT)

    @property
    def can_manage(self) -> bool:
        return self.allows(Level.MANAGE)


def access_for(user: Any, obj: Model) -> Access:
    """The caller's Access on ``obj`` now, for a page that changed it (a grant) after looking the object up."""
    return Access(sharing.get_level(user, obj))


def object_for(request: HttpRequest, queryset: QuerySet, level: Level, **lookup: Any) -> tuple[Model, Access]:
    """The object a page shows (404 below READ, 403 below ``level``) and the caller's Access, from one lookup."""
    obj, held = sharing.get_object_and_level_for_user(request.user, queryset, level, **lookup)
    return obj, Access(held)


def render_htmx(
    request: HttpRequest,
    template: str,
    partial: str,
    context: dict[str, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    """Render ``partial`` for an htmx request and the full ``template`` otherwise (STYLE item 9)."""
    name = partial if getattr(request, "htmx", False) else template
    return render(request, name, context or {}, status=status)


def add_service_errors(form: BaseForm, exc: ValidationError, *, keep: Collection[str] = ()) -> dict[str, Any]:
    """Attach a service's ValidationError to a form: known fields inline, the rest at the top.

    The errors of the fields named in ``keep`` are returned instead, in the
    API's shape (``gatewaylib.errors.detail``), for the caller to place: a
    list field's per-item errors belong on the rows the items came from
    (:func:`add_row_errors`).
    """
    kept = {}
    for field, messages in errors.detail(exc).items():
        if field in keep:
            kept[field] = messages
        else:
            form.add_error(field if field in form.fields else None, errors.texts(messages))
    return kept


def add_row_errors(
    rows: Sequence[BaseForm], items: list[Any], field_for: Callable[[BaseForm, str], str | None]
) -> list[str]:
    """Put a list field's per-item errors on the forms its items came from; return its other messages.

    The n-th dict of ``items`` goes on ``rows[n]``, each of its errors on the
    field ``field_for(row, name)`` (None: the row as a whole). A message about
    no single item ("at least one model") is returned, for the caller to show
    with the rows.
    """
    general: list[str] = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            general.append(str(item))
        elif index < len(rows):
            for name, messages in item.items():
                rows[index].add_error(field_for(rows[index], name), errors.texts(messages))
    return general
