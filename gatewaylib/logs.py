"""Logging helpers that the settings' LOGGING dictionary names."""

from __future__ import annotations

import json
import logging
import re

from pythonjsonlogger.json import JsonFormatter

from gatewaylib.scrub import WITHHELD, live_secrets

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


# Gemini's REST convention puts the API key in the URL (``?key=``); a gateway
# token sent that way must not reach an access-log line.
KEY_IN_URL = re.compile(r"(?<=[?&]key=)[^&\s\"']+")


class KeyInUrlFilter(logging.Filter):
    """Withhold the value of a ``key=`` query parameter in every line (uvicorn's access log prints URLs)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "key=" in message:
            record.msg, record.args = KEY_IN_URL.sub("[withheld]", message), ()
        return True


class ScrubbedJsonFormatter(JsonFormatter):
    """python-json-logger's one-object-per-line format, with every live secret removed from the whole line.

    ``SecretLogFilter`` scrubs the message and traceback; this also covers
    the extra fields a library may attach to a record, which become JSON keys.
    """

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        scrubber = live_secrets.scrubber
        if not scrubber:
            return line
        scrubbed = scrubber.text(line)
        if scrubbed == WITHHELD:  # a short secret: keep the line JSON, without its content
            return json.dumps({"level": record.levelname, "logger": record.name, "message": WITHHELD})
        return scrubbed
