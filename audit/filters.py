"""Filtering the audit trail: the API's query string and the audit page's form, one filter set extending the other."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django_filters.fields import IsoDateTimeField

from audit.models import OBJECT_TYPES, AuditEvent

if TYPE_CHECKING:
    from django.db.models import QuerySet


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
    object_type = django_filters.ChoiceFilter(
        choices=[(name, label.capitalize()) for name, label in OBJECT_TYPES.items()], empty_label="Any kind"
    )
    actor = django_filters.CharFilter(field_name="actor_name")
    action = django_filters.ChoiceFilter(choices=AuditEvent.Action.choices, empty_label="Any action")
    since = UtcIsoDateTimeFilter(field_name="created_at", lookup_expr="gte")

    class Meta:
        model = AuditEvent
        fields = ["object_id", "object_type", "actor", "action", "since"]


# An IANA zone name as browsers report it (``America/New_York``, ``UTC``, ``Etc/GMT+5``).
ZONE_NAME = re.compile(r"[A-Za-z0-9_+\-]+(/[A-Za-z0-9_+\-]+)*")


class AuditPageForm(forms.Form):
    """The page's form: checks the viewer's time zone and that "to" is not before "from"."""

    def clean_tz(self) -> ZoneInfo:
        name = self.cleaned_data["tz"]
        if not name:
            return ZoneInfo("UTC")
        try:
            if not ZONE_NAME.fullmatch(name):
                raise ValueError(name)
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            raise ValidationError("Unknown time zone.", code="invalid") from None

    def clean(self):
        cleaned = super().clean()
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and until < since:
            self.add_error("until", "“To” is before “From”.")
        return cleaned


def _midnight(day: date, zone: ZoneInfo) -> datetime | None:
    """The instant ``day`` begins in ``zone``; None when it falls outside the calendar in UTC."""
    try:
        return datetime.combine(day, time.min, tzinfo=zone).astimezone(UTC)
    except OverflowError:
        return None


class AuditEventPageFilterSet(AuditEventFilterSet):
    """The audit page's filters: the API's, with whole days in the viewer's zone and a name search.

    ``?object=<32-hex id>`` narrows to one key, endpoint or team (the detail pages' "See all activity" link).
    """

    object_id = None
    object = django_filters.UUIDFilter(field_name="object_id", widget=forms.HiddenInput)
    actor = django_filters.CharFilter(
        field_name="actor_name",
        label="Who",
        widget=forms.SearchInput({"placeholder": "username", "autocomplete": "off"}),
    )
    name = django_filters.CharFilter(
        field_name="object_name",
        lookup_expr="icontains",
        label="Name contains",
        widget=forms.SearchInput({"placeholder": "key, endpoint or team", "autocomplete": "off"}),
    )
    since = django_filters.DateFilter(method="filter_since", label="From", widget=forms.DateInput({"type": "date"}))
    until = django_filters.DateFilter(method="filter_until", label="To", widget=forms.DateInput({"type": "date"}))
    # The viewer's time zone (``static/js/audit.js`` fills it in): "from" and "to" are the viewer's
    # own days, as the times listed are. It narrows nothing by itself.
    tz = django_filters.CharFilter(method="in_zone", max_length=64, widget=forms.HiddenInput)

    class Meta:
        model = AuditEvent
        fields = ["object", "object_type", "action", "actor", "name", "since", "until", "tz"]
        form = AuditPageForm

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        kind = self.filters["object_type"]
        kind.label = "Kind"  # the page's word; the API keeps the field's name
        # A form field built earlier (the filter objects are copies of the class's) keeps the old label.
        kind.__dict__.pop("_field", None)

    def in_zone(self, queryset: QuerySet, name: str, value: ZoneInfo) -> QuerySet:
        return queryset

    def _zone(self) -> ZoneInfo:
        return self.form.cleaned_data.get("tz") or ZoneInfo("UTC")

    def filter_since(self, queryset: QuerySet, name: str, value: date) -> QuerySet:
        start = _midnight(value, self._zone())
        # Only the first day of the calendar, east of UTC, begins before UTC can say: no lower bound.
        return queryset if start is None else queryset.filter(created_at__gte=start)

    def filter_until(self, queryset: QuerySet, name: str, value: date) -> QuerySet:
        try:
            end = _midnight(value + timedelta(days=1), self._zone())
        except OverflowError:  # "to" the last day of the calendar: no upper bound
            return queryset
        return queryset if end is None else queryset.filter(created_at__lt=end)
