"""Logging helpers that the settings' LOGGING dictionary names."""

from __future__ import annotations

import logging

# Refusals a gateway gives every day: a caller without the permission, an
# object that is not there (or not theirs to see), a change that conflicts.
EXPECTED_REFUSALS = frozenset({403, 404, 405, 409})


class ExpectedRefusalFilter(logging.Filter):
    """One line, without a traceback, for a refusal that is part of normal work.

    Django's request logger attaches the exception (and so a full traceback)
    to every ``PermissionDenied`` it turns into a 403; for an operator that is
    noise that hides real errors. The line itself stays.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "status_code", None) in EXPECTED_REFUSALS:
            record.exc_info = None
            record.exc_text = None
        return True
