"""Run the fake upstream in-process, in a background thread with its own event loop.

::

    with FakeUpstream() as upstream:
        client = OpenAI(base_url=upstream.base_url, api_key="sk-test")
        upstream.configure("gpt-x", rate_limit=True, retry_after=2, fail_times=1)
        ...

The control helpers share the server's :class:`~fakeupstream.server.State`
directly (it is lock-protected), so they work before ``start()`` and after
``stop()`` too, and survive a restart.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from typing import Any

from fakeupstream.server import ModelConfig, State, create_app, start_site, url_for

__all__ = ["FakeUpstream"]


class FakeUpstream:
    """A fake OpenAI-compatible provider listening on ``host:port`` (0 = free port).

    Attributes once started: ``url`` ("http://127.0.0.1:54321"), ``base_url``
    (``url + "/v1"``), ``port``, ``host``.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, max_requests: int = 1000) -> None:
        self.host = host
        self.requested_port = port
        self.port: int | None = None
        self.url: str | None = None
        self.state = State(max_requests=max_requests)
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    # -- lifecycle -----------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """``url + "/v1"``: what an OpenAI client or a provider ``api_base`` wants."""
        if self.url is None:
            raise RuntimeError("FakeUpstream is not started")
        return self.url + "/v1"

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self, timeout: float = 10.0) -> FakeUpstream:
        if self.running:
            return self
        ready = threading.Event()
        outcome: dict[str, Any] = {}

        def run() -> None:
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            try:
                runner, port = loop.run_until_complete(
                    start_site(create_app(state=self.state), self.host, self.requested_port)
                )
            except BaseException as exc:  # reported to start()
                outcome["error"] = exc
                loop.close()
                ready.set()
                return
            outcome["port"] = port
            self._loop = loop
            ready.set()
            try:
                loop.run_forever()
            finally:
                loop.run_until_complete(runner.cleanup())
                loop.run_until_complete(loop.shutdown_asyncgens())
                loop.close()

        thread = threading.Thread(target=run, name="fakeupstream", daemon=True)
        thread.start()
        if not ready.wait(timeout):
            raise RuntimeError("FakeUpstream did not start in time")
        if "error" in outcome:
            thread.join(timeout)
            raise outcome["error"]
        self._thread = thread
        self.port = outcome["port"]
        self.url = url_for(self.host, self.port)
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop serving and close the listening socket (the port is free afterwards)."""
        thread, loop = self._thread, self._loop
        if thread is None or loop is None:
            return
        if thread.is_alive():
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout)
        self._thread = None
        self._loop = None

    def __enter__(self) -> FakeUpstream:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- control -----------------------------------------------------------------

    def configure(
        self,
        model: str,
        *,
        fail_status: int | None = None,
        fail_times: int | None = None,
        delay: float = 0.0,
        rate_limit: bool = False,
        retry_after: float = 1,
        stream_chunk_delay: float = 0.0,
        chunks: list[str] | None = None,
    ) -> None:
        """Set (replace) the behaviour for ``model``; ``"*"`` applies to models without their own config."""
        config = ModelConfig(
            fail_status=fail_status,
            fail_times=fail_times,
            delay=delay,
            rate_limit=rate_limit,
            retry_after=retry_after,
            stream_chunk_delay=stream_chunk_delay,
            chunks=list(chunks) if chunks is not None else None,
        )
        config.validate()
        self.state.configure(model, config)

    def reset(self) -> None:
        """Forget every config, counter and recorded request."""
        self.state.reset()

    def stats(self) -> dict[str, Any]:
        """``{"hits": {model: n}, "paths": {path: n}, "total": n, "stream_aborted": n,
        "failures": n, "rate_limited": n}``."""
        return self.state.stats()

    def requests(self, model: str | None = None) -> list[dict[str, Any]]:
        """Recorded requests, oldest first (at most the last ``max_requests``)."""
        return self.state.requests(model)

    def wait_until(self, predicate: Callable[[dict[str, Any]], bool], timeout: float = 5.0) -> dict[str, Any]:
        """Poll ``stats()`` until ``predicate(stats)`` holds; return those stats or raise TimeoutError."""
        deadline = time.monotonic() + timeout
        while True:
            current = self.stats()
            if predicate(current):
                return current
            if time.monotonic() > deadline:
                raise TimeoutError(f"condition not met; stats={current}")
            time.sleep(0.01)

    def __repr__(self) -> str:
        return f"<FakeUpstream {self.url or 'not started'}>"
