"""Keeping provider secrets out of everything the gateway says: errors, streams and log lines.

One ``Scrubber`` per set of secrets (an endpoint's keys) removes each secret
in every form a message can carry it: as it is, URL-encoded (a query string
or a form body echoed back), and JSON-escaped (an error body that quotes the
request, a ``\\/``-escaping encoder). A secret shorter than
``MIN_RECOGNISABLE`` characters cannot be cut out of text without cutting
everything else that happens to contain it, so text that contains one is
withheld as a whole instead: the secret still never leaves.

``SecretLogFilter`` applies the same rule to every log record, with the
secrets of every Router this process holds (``live_secrets``), so LiteLLM's
own log lines (which redact only part of a key) are scrubbed before they are
written.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections import Counter
from collections.abc import Iterable
from urllib.parse import quote, quote_plus

MASK = "***"
MIN_RECOGNISABLE = 8
WITHHELD = "[details withheld: they contained a credential]"


def _forms(secret: str) -> set[str]:
    escaped = json.dumps(secret)[1:-1]
    return {
        secret,
        quote(secret, safe=""),
        quote(secret),
        quote_plus(secret),
        escaped,
        json.dumps(secret, ensure_ascii=False)[1:-1],
        escaped.replace("/", "\\/"),
    }


class Scrubber:
    """Removes a fixed set of secrets from text or bytes."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        secrets = {secret for secret in secrets if secret}
        self.short = tuple(sorted(secret for secret in secrets if len(secret) < MIN_RECOGNISABLE))
        forms = {form for secret in secrets if len(secret) >= MIN_RECOGNISABLE for form in _forms(secret)}
        # Longest first, so a secret that contains another is removed whole.
        alternatives = "|".join(re.escape(form) for form in sorted(forms, key=len, reverse=True))
        self._text = re.compile(alternatives) if alternatives else None
        self._bytes = re.compile(alternatives.encode()) if alternatives else None
        self._short_bytes = tuple(secret.encode() for secret in self.short)

    def __bool__(self) -> bool:
        return self._text is not None or bool(self.short)

    def text(self, message: str) -> str:
        """``message`` with every secret removed (or withheld whole when a short one is in it)."""
        if any(secret in message for secret in self.short):
            return WITHHELD
        return self._text.sub(MASK, message) if self._text is not None else message

    def data(self, chunk: bytes) -> bytes | None:
        """``chunk`` with every secret removed, or None when it holds a secret too short to cut out."""
        if any(secret in chunk for secret in self._short_bytes):
            return None
        return self._bytes.sub(MASK.encode(), chunk) if self._bytes is not None else chunk


class _LiveSecrets:
    """The secrets of every Router this process holds, for the log filter (counted: keys are shared)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()
        self.scrubber = Scrubber()

    def add(self, secrets: Iterable[str]) -> None:
        with self._lock:
            self._counts.update(secret for secret in secrets if secret)
            self.scrubber = Scrubber(self._counts)

    def discard(self, secrets: Iterable[str]) -> None:
        with self._lock:
            self._counts.subtract(secret for secret in secrets if secret)
            self._counts = +self._counts  # forget secrets no Router holds any more
            self.scrubber = Scrubber(self._counts)

    def __contains__(self, secret: str) -> bool:
        return self._counts[secret] > 0


live_secrets = _LiveSecrets()


class SecretLogFilter(logging.Filter):
    """Scrub every live secret from a record's message, traceback and stack before it is written."""

    def filter(self, record: logging.LogRecord) -> bool:
        scrubber = live_secrets.scrubber
        if not scrubber:
            return True
        record.msg, record.args = scrubber.text(record.getMessage()), ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = scrubber.text(record.exc_text)
        # Only the scrubbed text stays: a formatter that renders the exception
        # itself (the JSON one does) must not see the original.
        record.exc_info = None
        if record.stack_info:
            record.stack_info = scrubber.text(record.stack_info)
        return True


def install_log_filter(*logger_names: str) -> None:
    """Put ``SecretLogFilter`` on these loggers and on their own handlers (LiteLLM adds its own)."""
    for name in logger_names:
        target = logging.getLogger(name)
        for owner in (target, *target.handlers):
            if not any(isinstance(existing, SecretLogFilter) for existing in owner.filters):
                owner.addFilter(SecretLogFilter())
