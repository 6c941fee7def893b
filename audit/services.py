"""Recording and querying the audit trail."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db.models import Q, QuerySet

from audit.models import AuditEvent
from sharing.levels import Level

if TYPE_CHECKING:
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


def visible_events(user: Any, shared_models: list[type[Model]]) -> QuerySet[AuditEvent]:
    """Events on objects ``user`` can READ (superusers see every event, deleted objects included)."""
    if user.is_superuser:
        return AuditEvent.objects.all()
    condition = Q(pk__in=[])
    for model in shared_models:
        visible = model.objects.visible_to(user, Level.READ).values("pk")
        condition |= Q(object_type=model._meta.model_name, object_id__in=visible)
    return AuditEvent.objects.filter(condition)
