"""``manage.py serve``: the gateway under uvicorn, with a graceful drain on SIGTERM.

Run one per container, or ``--workers N`` (one per core) sharing the port;
every scrape of /metrics then counts all workers. On the first SIGTERM or
SIGINT the process drains (``gatewaylib.drain``): ``/health/ready``
answers 503 at once, new proxy requests get 503 + Retry-After, requests and
streams in flight finish for up to ``GATEWAY_DRAIN_SECONDS``, their usage is
written, and the process exits 0. A second signal exits at once.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import shutil
import signal
import socket
import sys
import tempfile
import time
from pathlib import Path
from types import FrameType
from typing import NoReturn

import django
import uvicorn
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from gateway_site import housekeeping
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
            "--workers",
            type=int,
            default=settings.GATEWAY_WORKERS,
            help="worker processes sharing the port, one per core (default: GATEWAY_WORKERS, 1)",
        )
        parser.add_argument(
            "--log-level", choices=["debug", "info", "warning", "error"], help="default: GATEWAY_LOG_LEVEL"
        )
        # Off by default: a log line per request costs more CPU than a proxied
        # call on the direct path; the request log and /metrics record every request.
        parser.add_argument("--access-log", action="store_true", help="log each request")

    def handle(
        self, *args, host: str, port: int, workers: int, log_level: str | None, access_log: bool, **options
    ) -> None:
        if workers < 1:
            raise CommandError("--workers must be at least 1")
        uvicorn_options = {"log_level": log_level or settings.LOG_LEVEL.lower(), "access_log": access_log}
        if housekeeping.needed():
            # In this process only: the one worker, or the supervisor of several.
            housekeeping.start()
        if workers == 1:
            serve_one(None, host, port, uvicorn_options)
        supervise(workers, host, port, uvicorn_options)


def serve_one(sock: socket.socket | None, host: str, port: int, uvicorn_options: dict) -> NoReturn:
    """Serve until stopped (on ``sock`` when a supervisor bound it), write what is queued, and exit."""
    from gateway_site.asgi import application
    from proxy import observe
    from proxy.usage import recorder

    config = uvicorn.Config(
        application,
        host=host,
        port=port,
        lifespan="off",  # Django's ASGI handler speaks HTTP only
        log_config=None,  # Django's LOGGING already formats (and scrubs) every line
        **uvicorn_options,
    )
    server = DrainingServer(config, settings.GATEWAY_DRAIN_SECONDS)
    server.run(sockets=[sock] if sock is not None else None)
    if server.force_exit:
        logger.warning("stopped at once by a second signal; requests in flight were cut")
    # The requests that just finished queued their usage; write it before exiting.
    logger.info("stopped; wrote %d queued usage row(s)", recorder.flush())
    observe.flush()  # spans still batched for the OTLP exporter
    # Nothing is left to do, and with LiteLLM loaded the interpreter's own
    # teardown takes seconds (measured: 2 s idle, 3-4 s after traffic),
    # which a rolling restart would wait for. Flush the logs and leave.
    logging.shutdown()
    sys.stdout.flush()
    os._exit(0)


# -- several workers ------------------------------------------------------------------
# By hand rather than uvicorn's own ``--workers``: its supervisor builds plain
# ``uvicorn.Server`` workers, which would lose the drain above. This one only
# binds the port, starts the workers, forwards signals and replaces a worker
# that dies; each worker is a whole gateway (``serve_one``).


def supervise(workers: int, host: str, port: int, uvicorn_options: dict) -> None:
    metrics_dir, own_dir = _metrics_dir()
    # Set before any worker imports prometheus-client: each writes its figures
    # there, and /metrics in any of them answers with the sum of all.
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
    from prometheus_client import multiprocess

    sock = uvicorn.Config("gateway_site.asgi:application", host=host, port=port, log_config=None).bind_socket()
    context = multiprocessing.get_context("spawn")  # fresh interpreters: nothing half-initialised is inherited

    def start() -> multiprocessing.Process:
        process = context.Process(target=_worker, args=(sock, host, port, uvicorn_options), name="gateway-worker")
        process.start()
        return process

    processes = [start() for _ in range(workers)]
    logger.info("serving with %d workers (pids %s)", workers, ", ".join(str(p.pid) for p in processes))
    signals: list[int] = []

    def forward(signum: int, frame: FrameType | None) -> None:
        signals.append(signum)  # the first drains every worker, a second stops them at once
        for process in processes:
            if process.is_alive():
                os.kill(process.pid, signum)

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, forward)
    try:
        while not signals or any(process.is_alive() for process in processes):
            for index, process in enumerate(processes):
                if not signals and not process.is_alive():
                    logger.warning("worker %d exited with %s; starting another", process.pid, process.exitcode)
                    multiprocess.mark_process_dead(process.pid)
                    time.sleep(1)  # a worker that cannot start must not spin
                    processes[index] = start()
            time.sleep(0.2)
    finally:
        sock.close()
        if own_dir:
            shutil.rmtree(metrics_dir, ignore_errors=True)
    logger.info("all %d workers stopped", workers)


def _metrics_dir() -> tuple[Path, bool]:
    """The operator's PROMETHEUS_MULTIPROC_DIR, emptied (figures of an earlier run must not count), or our own."""
    configured = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not configured:
        return Path(tempfile.mkdtemp(prefix="ai-gateway-metrics-")), True
    path = Path(configured)
    path.mkdir(parents=True, exist_ok=True)
    for stale in path.glob("*.db"):
        stale.unlink()
    return path, False


def _worker(sock: socket.socket, host: str, port: int, uvicorn_options: dict) -> None:
    # Its own process group: a Ctrl+C in the terminal reaches the supervisor,
    # which forwards it once, instead of reaching every worker twice.
    os.setpgid(0, 0)
    django.setup()
    serve_one(sock, host, port, uvicorn_options)
