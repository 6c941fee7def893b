from __future__ import annotations

import django_filters

from audit.models import AuditEvent


class AuditEventFilterSet(django_filters.FilterSet):
    """Filter the trail by object, actor (username) and action."""

    object_id = django_filters.UUIDFilter()
    object_type = django_filters.ChoiceFilter(choices=[("key", "key"), ("endpoint", "endpoint")])
    actor = django_filters.CharFilter(field_name="actor_name")
    action = django_filters.ChoiceFilter(choices=AuditEvent.Action.choices)
    since = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")

    class Meta:
        model = AuditEvent
        fields = ["object_id", "object_type", "actor", "action", "since"]
