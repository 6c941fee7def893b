"""Numbers as people read them, for the admin (the UI's templates use the same filters)."""

from __future__ import annotations

from decimal import Decimal

from django.template.defaultfilters import floatformat


def duration_ms(value: float | None) -> str:
    """``532 ms`` below a second, ``8.53 s`` from there, ``—`` for no value."""
    if value is None:
        return "—"
    if value < 1000:
        return f"{floatformat(value, '0g')} ms"
    return f"{floatformat(value / 1000, '2g')} s"


def count(value: int | None) -> str:
    """``12,345``."""
    return "—" if value is None else floatformat(value, "0g")


def usd(value: Decimal | float | None) -> str:
    """``$0.000123`` for fractions of a cent (no trailing zeros), ``$1,234.50`` from a dollar."""
    if value is None:
        return "—"
    if abs(value) < 1:
        return f"${floatformat(value, '-6')}"
    return f"${floatformat(value, '2g')}"
