from __future__ import annotations

from datetime import UTC

import django_filters
from django.core.exceptions import ValidationError
from django_filters.fields import IsoDateTimeField

from audit.models import AuditEvent


class UtcIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 date-time, converted to UTC while the form is cleaned.

    A value near either end of the calendar (``9999-12-31T23:59:59-01:00``)
    does not exist in UTC; the database adapter would raise ``OverflowError``
    converting it, so it is rejected here as a field error.
    """

    def to_python(self, value):
        value = super().to_python(value)
        if value is None:
            return None
        try:
            return value.astimezone(UTC)
        except OverflowError:
            raise ValidationError("Date/time out of range.", code="overflow") from None


class UtcIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcIsoDateTimeField


class AuditEventFilterSet(django_filters.FilterSet):
    """Filter the trail by object, actor (username) and action."""

    object_id = django_filters.UUIDFilter()
    object_type = django_filters.ChoiceFilter(choices=[("key", "key"), ("endpoint", "endpoint")])
    actor = django_filters.CharFilter(field_name="actor_name")
    action = django_filters.ChoiceFilter(choices=AuditEvent.Action.choices)
    since = UtcIsoDateTimeFilter(field_name="created_at", lookup_expr="gte")

    class Meta:
        model = AuditEvent
        fields = ["object_id", "object_type", "actor", "action", "since"]
