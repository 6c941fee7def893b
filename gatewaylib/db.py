"""Database work done off the request thread (the proxy's cache loaders, background writers).

Django checks and recycles connections around each *request* (the
``request_started``/``request_finished`` signals call
``close_old_connections``). Worker threads used through
``sync_to_async(thread_sensitive=False)`` never see those signals, so a
connection that died with a PostgreSQL restart would be reused there
forever. ``run_in_thread`` gives every unit of work the same treatment a
request gets: health-check (``CONN_HEALTH_CHECKS``) or recycle the thread's
connection before, release it after, and turn "the database is away" into
one exception the proxy answers with 503.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from asgiref.sync import sync_to_async
from django.db import InterfaceError, OperationalError, close_old_connections, connection

P = ParamSpec("P")
BACKGROUND_NICENESS = 19
T = TypeVar("T")


class DatabaseUnavailable(Exception):
    """The database cannot be reached right now; retrying later may succeed."""


def with_fresh_connection(func: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Call ``func`` with a checked connection, released afterwards."""
    close_old_connections()
    try:
        return func(*args, **kwargs)
    except (OperationalError, InterfaceError) as exc:
        # Connection-level failures only; a query bug (ProgrammingError,
        # IntegrityError) is not an outage and propagates as it is.
        raise DatabaseUnavailable(f"The database is unavailable ({exc.__class__.__name__}).") from None
    finally:
        close_old_connections()


def with_kept_connection(func: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Call ``func`` on this thread's open connection; drop it only when it failed.

    For the background threads that query many times a second (the usage
    writer, the change poller): opening a connection per call (SQLite with
    ``CONN_MAX_AGE=0``) cost milliseconds of CPU each time, while holding the
    GIL the event loop needs. A connection that failed is closed, so the next
    call opens a fresh one (a restarted PostgreSQL is picked up at once).
    """
    try:
        return func(*args, **kwargs)
    except (OperationalError, InterfaceError) as exc:
        connection.close()
        raise DatabaseUnavailable(f"The database is unavailable ({exc.__class__.__name__}).") from None


def run_in_background() -> None:
    """Lower the calling thread's scheduling priority (a background writer or poller).

    On a busy core, a runnable background thread takes turns with the event
    loop in slices of milliseconds; at a lower priority the kernel lets the
    loop run first, so the writer's work stops showing up as latency spikes.
    """
    with contextlib.suppress(OSError, AttributeError):  # not Linux, or not allowed: run as is
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), BACKGROUND_NICENESS)


async def run_in_thread(func: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Run ORM code in a worker thread, off the event loop, with ``with_fresh_connection``."""
    return await sync_to_async(with_fresh_connection, thread_sensitive=False)(func, *args, **kwargs)
