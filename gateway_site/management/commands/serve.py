"""``manage.py serve``: the gateway under uvicorn, with a graceful drain on SIGTERM.

Run one per core (or per container) behind a load balancer. On the first
SIGTERM or SIGINT the process drains (``gatewaylib.drain``): ``/health/ready``
answers 503 at once, new proxy requests get 503 + Retry-After, requests and
streams in flight finish for up to ``GATEWAY_DRAIN_SECONDS``, their usage is
written, and the process exits 0. A second signal exits at once.
"""

from __future__ import annotations

import logging
import os
import sys
from types import FrameType

import uvicorn
from django.conf import settings
from django.core.management.base import BaseCommand

from gatewaylib.drain import drain

logger = logging.getLogger("gateway.serve")


class DrainingServer(uvicorn.Server):
    """uvicorn, except that a signal starts a drain instead of closing the listener.

    uvicorn's own handler stops accepting connections at once (so readiness
    can no longer be observed) and, after shutting down, re-raises the signal
    with the default handler, which kills the process before ``atexit`` hooks
    run: that is where queued usage rows were lost.
    """

    def __init__(self, config: uvicorn.Config, drain_seconds: int) -> None:
        super().__init__(config)
        self.drain_seconds = drain_seconds
        self._announced = False

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        # A signal handler: only set flags here (logging could deadlock).
        if drain.draining:
            self.should_exit = self.force_exit = True
        else:
            drain.begin()

    async def startup(self, sockets=None) -> None:
        await super().startup(sockets)
        from gatewaylib.invalidation import watcher

        # Listen for other processes' changes from the start, not from the first proxy request.
        watcher.ensure_started()

    async def on_tick(self, counter: int) -> bool:
        if drain.draining and not self.should_exit:
            self._drain_step()
        return await super().on_tick(counter)

    def _drain_step(self) -> None:
        if not self._announced:
            self._announced = True
            logger.info(
                "draining: not ready, %d request(s) in flight, up to %d s", drain.in_flight(), self.drain_seconds
            )
        left = self.drain_seconds - drain.seconds()
        if drain.in_flight() == 0 or left <= 0:
            if drain.in_flight():
                logger.warning("drain time is up: cutting %d request(s) in flight", drain.in_flight())
            else:
                logger.info("drained in %.1f s", drain.seconds())
            # uvicorn then closes the listener and waits, for what is left of
            # the budget, for responses it is still writing (pages, API calls).
            self.config.timeout_graceful_shutdown = max(1, int(left))
            self.should_exit = True


class Command(BaseCommand):
    help = "Serve the gateway (HTTP, uvicorn) with a graceful drain on SIGTERM."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
        parser.add_argument("--port", type=int, default=8000, help="port to listen on (default 8000)")
        parser.add_argument(
            "--log-level", choices=["debug", "info", "warning", "error"], help="default: GATEWAY_LOG_LEVEL"
        )
        # Off by default: a log line per request costs more CPU than a proxied
        # call on the direct path; the request log and /metrics record every request.
        parser.add_argument("--access-log", action="store_true", help="log each request")

    def handle(self, *args, host: str, port: int, log_level: str | None, access_log: bool, **options) -> None:
        from gateway_site.asgi import application
        from proxy.usage import recorder

        config = uvicorn.Config(
            application,
            host=host,
            port=port,
            lifespan="off",  # Django's ASGI handler speaks HTTP only
            log_config=None,  # Django's LOGGING already formats (and scrubs) every line
            log_level=log_level or settings.LOG_LEVEL.lower(),
            access_log=access_log,
        )
        server = DrainingServer(config, settings.GATEWAY_DRAIN_SECONDS)
        server.run()
        if server.force_exit:
            logger.warning("stopped at once by a second signal; requests in flight were cut")
        # The requests that just finished queued their usage; write it before exiting.
        logger.info("stopped; wrote %d queued usage row(s)", recorder.flush())
        # Nothing is left to do, and with LiteLLM loaded the interpreter's own
        # teardown takes seconds (measured: 2 s idle, 3-4 s after traffic),
        # which a rolling restart would wait for. Flush the logs and leave.
        logging.shutdown()
        sys.stdout.flush()
        os._exit(0)
