"""Small helpers shared by the server-rendered UI views (keys, tokens, sharing, dashboard, endpoints).

Views stay thin: they fetch through ``sharing.services``, compute the caller's
level once with :func:`access_for`, and render either the full page or, for
an htmx request, a fragment with :func:`render_htmx`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.shortcuts import render

from sharing import services as sharing
from sharing.levels import Level

if TYPE_CHECKING:
    from django.core.exceptions import ValidationError
    from django.db.models import Model
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
    """Compute the caller's level once per page; templates only read the flags."""
    return Access(sharing.get_level(user, obj))


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


def add_service_errors(form: BaseForm, exc: ValidationError) -> None:
    """Attach a service's ValidationError to a form: known fields inline, the rest at the top."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    for field, errors in exc.message_dict.items():
        form.add_error(field if field in form.fields else None, errors)
