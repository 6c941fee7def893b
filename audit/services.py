"""Recording and querying the audit trail."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.apps import apps
from django.db.models import Q, QuerySet

from audit.models import AuditEvent
from sharing.levels import Level

if TYPE_CHECKING:
    from collections.abc import Iterable

    from django.db.models import Model


def record(actor: Any, action: str, obj: Model, changes: dict[str, Any] | None = None) -> AuditEvent:
    """Append one event. ``changes`` must already be free of secrets."""
    authenticated = actor is not None and getattr(actor, "is_authenticated", False)
    return AuditEvent.objects.create(
        actor=actor if authenticated else None,
        actor_name=actor.get_username() if authenticated else "system",
        action=action,
        object_type=obj._meta.model_name,
        object_id=obj.pk,
        object_name=str(obj)[:200],
        changes=changes or {},
    )


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """``{"field": {"before": ..., "after": ...}}`` for the fields that changed."""
    return {
        field: {"before": before.get(field), "after": after.get(field)}
        for field in sorted(set(before) | set(after))
        if before.get(field) != after.get(field)
    }


def visible_events(user: Any, models: Iterable[type[Model]] | None = None) -> QuerySet[AuditEvent]:
    """Events on objects ``user`` can READ (superusers see every event, deleted objects included).

    ``models`` narrows the kinds of object (default: :func:`readable_models`).
    The audit page, the audit API, the dashboard and the detail pages all ask
    here, so the rule is written once.
    """
    if user.is_superuser:
        return AuditEvent.objects.all()
    condition = Q(pk__in=[])
    for model in readable_models() if models is None else models:
        visible = model.objects.visible_to(user, Level.READ).values("pk")
        condition |= Q(object_type=model._meta.model_name, object_id__in=visible)
    return AuditEvent.objects.filter(condition)


def readable_models() -> list[type[Model]]:
    """The models whose rows a user may or may not READ: those whose queryset answers ``visible_to(user, level)``.

    Today the shared ``Key`` and ``Endpoint`` (``sharing.models.SharedQuerySet``)
    and ``teams.Team`` (its members READ it). A new kind of object joins the
    trail's visibility rule by answering the same question.
    """
    return [model for model in apps.get_models() if callable(getattr(model._default_manager, "visible_to", None))]


def readable_objects(user: Any, events: Iterable[AuditEvent]) -> dict[tuple[str, Any], Model]:
    """The objects ``events`` speak of that still exist and ``user`` can READ, by ``(object_type, object_id)``.

    One query per kind of object, so a page of events can link to what is left.
    """
    wanted: dict[str, set[Any]] = {}
    for event in events:
        wanted.setdefault(event.object_type, set()).add(event.object_id)
    found: dict[tuple[str, Any], Model] = {}
    for model in readable_models():
        name = model._meta.model_name
        if name in wanted:
            for obj in model.objects.visible_to(user, Level.READ).filter(pk__in=wanted[name]):
                found[(name, obj.pk)] = obj
    return found
