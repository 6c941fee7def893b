"""Logging a dependency's failure once per episode, not once per attempt.

A background loop that retries twice a second (or a limiter asked on every
request) would otherwise write thousands of identical lines while Redis or
the database is away, burying the two lines an operator needs: when it
started failing, and when it came back.
"""

from __future__ import annotations

import logging
import threading
import time


class Outage:
    def __init__(self, logger: logging.Logger, what: str) -> None:
        self.logger, self.what = logger, what
        self._since: float | None = None
        self._lock = threading.Lock()

    @property
    def ongoing(self) -> bool:
        return self._since is not None

    def failed(self, exc: BaseException) -> None:
        """Note a failure; only the first of an episode is logged."""
        with self._lock:
            if self._since is not None:
                return
            self._since = time.monotonic()
        # The class name only: driver messages can carry hosts or credentials.
        self.logger.warning("%s is failing (%s); will keep retrying", self.what, exc.__class__.__name__)

    def ok(self) -> None:
        """Note a success; logs the recovery when it ends an episode."""
        if self._since is None:  # the common case, without the lock
            return
        with self._lock:
            since, self._since = self._since, None
        if since is not None:
            self.logger.warning("%s recovered after %.1f s", self.what, time.monotonic() - since)
