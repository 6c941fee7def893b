"""Small HTTP servers on 127.0.0.1 that stand in for the parties a stolen key would reach.

- ``Attacker``: records every request it receives (path and headers), so a
  test can assert a provider secret never arrived there.
- ``Redirector``: answers every request with a 307 to another URL.
- ``Echoer``: an OpenAI-compatible upstream that echoes the request's
  ``Authorization`` header back inside its errors (a 400 body, or an error
  in the middle of a stream), as some providers and proxies do.

Each runs an aiohttp application in a thread with its own event loop.
"""

from __future__ import annotations

import asyncio
import json
import threading

from aiohttp import web


class _Server:
    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.url = ""
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    def app(self) -> web.Application:
        raise NotImplementedError

    def start(self) -> _Server:
        ready = threading.Event()

        def run() -> None:
            loop = self._loop = asyncio.new_event_loop()
            runner = web.AppRunner(self.app(), access_log=None)
            loop.run_until_complete(runner.setup())
            site = web.TCPSite(runner, "127.0.0.1", 0)
            loop.run_until_complete(site.start())
            self.url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"
            ready.set()
            loop.run_forever()
            loop.run_until_complete(runner.cleanup())
            loop.close()

        self._thread = threading.Thread(target=run, daemon=True, name=type(self).__name__)
        self._thread.start()
        assert ready.wait(10), "the listener did not start"
        return self

    def stop(self) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def received(self, secret: str) -> bool:
        """Whether ``secret`` arrived in any request line, header or body."""
        return any(secret in json.dumps(request) for request in self.requests)


class Attacker(_Server):
    def app(self) -> web.Application:
        async def record(request: web.Request) -> web.Response:
            body = await request.text()
            self.requests.append({"path": request.path_qs, "headers": dict(request.headers), "body": body})
            return web.json_response({"error": {"message": "thanks", "type": "server_error"}}, status=500)

        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", record)
        return app


class Redirector(_Server):
    def __init__(self, target: str) -> None:
        super().__init__()
        self.target = target

    def app(self) -> web.Application:
        async def redirect(request: web.Request) -> web.Response:
            self.requests.append({"path": request.path_qs})
            raise web.HTTPTemporaryRedirect(self.target + request.path_qs)

        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", redirect)
        return app


class Echoer(_Server):
    """Echoes ``Authorization`` in a 400 error, or in an error event after one chunk when streaming."""

    def app(self) -> web.Application:
        async def chat(request: web.Request) -> web.StreamResponse:
            body = await request.json()
            echoed = request.headers.get("Authorization", "")
            self.requests.append({"path": request.path_qs})
            message = f"invalid request; you sent Authorization: {echoed} and api_key={echoed.removeprefix('Bearer ')}"
            if not body.get("stream"):
                return web.json_response({"error": {"message": message, "type": "invalid_request_error"}}, status=400)
            response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
            await response.prepare(request)
            first = {
                "id": "c1",
                "object": "chat.completion.chunk",
                "created": 1,
                "model": body.get("model", "m"),
                "choices": [{"index": 0, "delta": {"role": "assistant", "content": "Hi"}, "finish_reason": None}],
            }
            await response.write(b"data: " + json.dumps(first).encode() + b"\n\n")
            error = {"error": {"message": message, "type": "server_error", "code": "boom"}}
            await response.write(b"data: " + json.dumps(error).encode() + b"\n\n")
            await response.write_eof()
            return response

        app = web.Application()
        app.router.add_post("/v1/chat/completions", chat)
        return app
