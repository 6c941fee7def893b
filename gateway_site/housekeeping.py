"""Periodic upkeep (the request-log purge) for a gateway that runs no Celery beat.

With Redis, ``celery -A gateway_site beat`` schedules the same work
(``CELERY_BEAT_SCHEDULE`` in settings). The embedded default has no broker,
so ``manage.py serve`` runs it itself, in one low-priority thread of one
process.
"""

from __future__ import annotations

import logging
import threading

from django.conf import settings
from django.db import DatabaseError, connection

from gatewaylib.db import run_in_background

logger = logging.getLogger(__name__)

INTERVAL_SECONDS = 3600.0
# Let the server start answering before the first purge.
FIRST_DELAY_SECONDS = 30.0


def needed() -> bool:
    """True when nothing else schedules periodic tasks: Celery runs tasks in-process, so no beat runs."""
    return bool(settings.CELERY_TASK_ALWAYS_EAGER)


def run_once() -> int:
    """One round of upkeep; the number of request logs deleted. A database outage waits for the next round."""
    from endpoints import request_log

    try:
        deleted = request_log.purge_expired()
    except DatabaseError:
        logger.warning("request log purge failed; trying again in an hour", exc_info=True)
        return 0
    if deleted:
        logger.info("purged %d request log(s) past the retention period", deleted)
    return deleted


def start(interval: float = INTERVAL_SECONDS, first_delay: float = FIRST_DELAY_SECONDS) -> threading.Event:
    """Run ``run_once`` every ``interval`` seconds in a daemon thread; set the returned event to stop it."""
    stop = threading.Event()

    def loop() -> None:
        run_in_background()
        delay = first_delay
        while not stop.wait(delay):
            run_once()
            connection.close()  # this thread's own connection; idle for an hour otherwise
            delay = interval

    threading.Thread(target=loop, name="gateway-housekeeping", daemon=True).start()
    return stop
