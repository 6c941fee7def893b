"""Template filters shared by every page: ``{% load gateway %}``."""

from __future__ import annotations

from datetime import datetime

from django import template
from django.utils import timezone
from django.utils.timesince import timesince

register = template.Library()


@register.filter
def elapsed(value: datetime | None) -> str:
    """How long ago ``value`` was, in words: ``less than a minute`` rather than Django's ``0 minutes``."""
    if not value:
        return ""
    if (timezone.now() - value).total_seconds() < 60:
        return "less than a minute"
    return timesince(value)


@register.filter
def changed_fields(changes: dict | None) -> str:
    """``changed: models, rate_limit_rpm`` for a feed line, or ``no change`` (``revision`` names the restored one)."""
    fields = [name for name in (changes or {}) if name != "revision"]
    return f"changed: {', '.join(fields)}" if fields else "no change"
