"""A TCP forwarder on 127.0.0.1 that a test can freeze, cut and restore.

Put between a gateway process and PostgreSQL or Redis, it simulates their
outages without touching the shared servers other test runs use:

- ``freeze()``: connections stay open, bytes stop (a hung server, a
  stalled network); new connections are accepted and stall too.
- ``cut()``: every connection is closed and new ones are refused (a restart).
- ``restore()`` / ``thaw()``: back to forwarding, on the same port.

With no target it is a black hole: it accepts and never answers.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Coroutine
from typing import Any

CALL_TIMEOUT_SECONDS = 10


class Forwarder:
    def __init__(self, target: tuple[str, int] | None = None) -> None:
        self.target = target
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="tcp-forwarder", daemon=True)
        self._server: asyncio.Server | None = None
        self._flowing: asyncio.Event | None = None
        self._connections: set[asyncio.Task] = set()

    # -- control, from the test's thread ---------------------------------------
    def start(self) -> Forwarder:
        self._thread.start()
        self._call(self._listen())
        return self

    def freeze(self) -> None:
        self._call(self._set_flowing(False))

    def thaw(self) -> None:
        self._call(self._set_flowing(True))

    def cut(self) -> None:
        self._call(self._cut())

    def restore(self) -> None:
        self._call(self._listen())

    def stop(self) -> None:
        if self._thread.is_alive():
            with contextlib.suppress(Exception):
                self._call(self._cut())
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(CALL_TIMEOUT_SECONDS)

    @property
    def connections(self) -> int:
        return len(self._connections)

    def __enter__(self) -> Forwarder:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _call(self, coro: Coroutine[Any, Any, Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(CALL_TIMEOUT_SECONDS)

    # -- on the forwarder's loop -----------------------------------------------
    async def _listen(self) -> None:
        if self._flowing is None:
            self._flowing = asyncio.Event()
            self._flowing.set()
        if self._server is None:
            self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port, reuse_address=True)
            self.port = self._server.sockets[0].getsockname()[1]

    async def _set_flowing(self, flowing: bool) -> None:
        if flowing:
            self._flowing.set()
        else:
            self._flowing.clear()

    async def _cut(self) -> None:
        if self._server is not None:
            self._server.close()  # refuse new connections: nothing listens on the port
            self._server = None
        for task in list(self._connections):
            task.cancel()
        await asyncio.gather(*self._connections, return_exceptions=True)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        self._connections.add(task)
        upstream_writer = None
        try:
            if self.target is None:
                while await reader.read(65536):
                    pass  # a black hole: swallow everything, answer nothing
                return
            upstream_reader, upstream_writer = await asyncio.open_connection(*self.target)
            pumps = [
                asyncio.ensure_future(self._pump(reader, upstream_writer)),
                asyncio.ensure_future(self._pump(upstream_reader, writer)),
            ]
            try:
                # Either side closing ends the pair (neither PostgreSQL nor Redis half-closes).
                await asyncio.wait(pumps, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for pump in pumps:
                    pump.cancel()
        except (OSError, asyncio.CancelledError):
            pass
        finally:
            for stream in (writer, upstream_writer):
                if stream is not None:
                    stream.transport.abort()  # an abrupt close, like a dying server
            self._connections.discard(task)

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while data := await reader.read(65536):
            await self._flowing.wait()
            writer.write(data)
            await writer.drain()
