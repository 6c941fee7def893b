"""Draining: a process told to stop finishes what it started and takes nothing new.

``manage.py serve`` calls ``drain.begin()`` on the first SIGTERM/SIGINT. From
then on ``/health/ready`` answers 503 (the load balancer stops sending
traffic), the proxy refuses new requests with 503 + ``Retry-After`` (the
client retries, and lands on another process), and the server keeps its
listener open until ``in_flight()`` is 0 or ``GATEWAY_DRAIN_SECONDS`` have
passed. The proxy counts a request from ``handle()`` until its response is
complete; a stream counts until its generator ends.
"""

from __future__ import annotations

import threading
import time


class Ticket:
    """One request in flight. ``done()`` may be called more than once; only the first counts."""

    __slots__ = ("_drain", "_open")

    def __init__(self, drain: Drain) -> None:
        self._drain, self._open = drain, True

    def done(self) -> None:
        if self._open:
            self._open = False
            self._drain._leave()


class Drain:
    def __init__(self) -> None:
        # The counter moves on the event loop; readiness reads it from a worker thread.
        self._lock = threading.Lock()
        self._in_flight = 0
        self._since: float | None = None

    @property
    def draining(self) -> bool:
        return self._since is not None

    def begin(self) -> None:
        """Start draining (idempotent: the first call fixes the start time)."""
        with self._lock:
            if self._since is None:
                self._since = time.monotonic()

    def seconds(self) -> float:
        """How long the process has been draining (0 when it is not)."""
        since = self._since
        return 0.0 if since is None else time.monotonic() - since

    def enter(self) -> Ticket:
        with self._lock:
            self._in_flight += 1
        return Ticket(self)

    def _leave(self) -> None:
        with self._lock:
            self._in_flight -= 1

    def in_flight(self) -> int:
        return self._in_flight

    def reset(self) -> None:
        """Back to serving (tests only: a real process never comes back from a drain)."""
        with self._lock:
            self._since = None


drain = Drain()
