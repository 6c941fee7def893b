"""``manage.py demo``: the gateway with fake providers, a team's setup and live traffic (``make demo``).

On an empty database: starts three fake providers on 127.0.0.1, creates the
demo's users, team, keys, endpoints and scorers (``gateway_site.demo``),
serves the gateway with ``manage.py serve`` in a process of its own, and
drives traffic at it for ``--duration`` seconds. Ctrl+C (or SIGTERM) stops
the traffic, drains and stops the server, and stops the fake providers.
``bin/demo`` runs it on a fresh embedded database under ``var/demo/``.
"""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from gateway_site import demo

READY_TIMEOUT = 60


class Command(BaseCommand):
    help = "Run the demo: fake providers, demo users and endpoints, the gateway, and a few minutes of traffic."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--duration", type=float, default=240.0, help="Seconds of traffic (0: none).")
        parser.add_argument("--rate", type=float, default=4.0, help="Requests per second, about.")

    def handle(self, *args, host: str, port: int, duration: float, rate: float, **options) -> None:
        if get_user_model().objects.exists():
            raise CommandError(
                "The demo needs an empty database (it creates its own users); "
                "`make demo` starts one afresh under var/demo/."
            )
        # One line per HTTP call of the traffic's clients would bury the banner.
        for name in ("httpx", "httpx2", "openai"):
            logging.getLogger(name).setLevel(logging.WARNING)
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        providers = demo.FakeProviders().start()
        server = None
        try:
            self.stdout.write("Setting up the demo's team, keys, endpoints and scorers…")
            try:
                seeded = demo.seed(providers)
            except demo.DemoError as exc:
                raise CommandError(str(exc)) from None
            # Its own session: the terminal's Ctrl+C reaches this process only, which
            # then drains the server once (a second signal would stop it at once).
            command = [sys.executable, sys.argv[0], "serve", "--host", host, "--port", str(port)]
            server = subprocess.Popen(command, start_new_session=True)  # noqa: S603 - our own command line
            base_url = f"http://{host}:{port}"
            self._wait_ready(base_url, server, stop)
            self._banner(base_url, providers, duration)
            traffic = demo.Traffic(base_url, seeded, providers, duration=duration, rate=rate, stop=stop)
            driver = threading.Thread(target=traffic.run, name="demo-traffic", daemon=True)
            driver.start()
            reported = False
            while not stop.is_set() and server.poll() is None:
                if not reported and not driver.is_alive():
                    reported = True
                    self.stdout.write(
                        f"Traffic done: {sum(traffic.sent.values())} requests ({dict(traffic.sent)}; "
                        f"by status {dict(sorted(traffic.statuses.items()))}). "
                        "The gateway keeps running; Ctrl+C stops it."
                    )
                stop.wait(0.5)
            stop.set()
            driver.join(timeout=35)
        finally:
            self._stop(server)
            providers.stop()
        self.stdout.write("Demo stopped.")

    def _wait_ready(self, base_url: str, server: subprocess.Popen, stop: threading.Event) -> None:
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline and not stop.is_set():
            if server.poll() is not None:
                raise CommandError(f"The gateway exited with status {server.returncode}.")
            try:
                with urllib.request.urlopen(f"{base_url}/health/ready", timeout=2) as response:  # noqa: S310 - ours
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.3)
        raise CommandError(f"The gateway did not become ready at {base_url} within {READY_TIMEOUT} s.")

    @staticmethod
    def _stop(server: subprocess.Popen | None) -> None:
        if server is None or server.poll() is not None:
            return
        server.send_signal(signal.SIGINT)  # a drain: requests in flight finish
        try:
            server.wait(timeout=settings.GATEWAY_DRAIN_SECONDS + 10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()

    def _banner(self, base_url: str, providers: demo.FakeProviders, duration: float) -> None:
        lines = [
            "",
            f"The AI Gateway demo is running at {base_url}/",
            "",
            "Sign in as:",
            *(f"  {name:<6} password {spec['password']:<11} {spec['about']}" for name, spec in demo.USERS.items()),
            "",
            "Fake providers on this machine:",
            *(f"  {provider.name:<10} {providers[provider.name].url}  {provider.about}" for provider in demo.PROVIDERS),
            "",
            f"Traffic for {duration:.0f} s, with a burst of failures on {demo.FAILING}/{demo.FAILING_MODEL} "
            "in the middle (failover and cooldown show on support-chat's charts).",
            f"Fail it by hand: curl -s {providers[demo.FAILING].url}/_control "
            f'-d \'{{"model": "{demo.FAILING_MODEL}", "fail_status": 503}}\'  '
            f'(recover: -d \'{{"model": "{demo.FAILING_MODEL}", "delay": {demo.delay_of(demo.FAILING)}}}\')',
            "",
            "The click-by-click script: docs/demo.md. Ctrl+C stops everything the demo started.",
            "",
        ]
        self.stdout.write("\n".join(lines))
