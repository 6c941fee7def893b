"""A fast fake OpenAI-compatible upstream for the benchmark (uvloop + httptools, answers precomputed).

    python bench/upstream.py --port 18001 [--delay-ms 100] [--chunks 8]

Serves ``POST /v1/chat/completions`` as JSON, or as SSE when the body asks
for ``"stream": true`` (a role chunk, ``--chunks`` content chunks, a finish
chunk, a usage chunk when ``stream_options.include_usage`` is set, then
``data: [DONE]``), ``GET /v1/models`` (the start probe's listing) and ``GET /health``. It must be much faster than any
gateway measured through it (the project's own ``fakeupstream`` is built
for features, not speed), so it does nothing per request but parse and
write bytes it prepared at start.
"""

from __future__ import annotations

import argparse
import asyncio
import json

import httptools
import uvloop

USAGE = {"prompt_tokens": 12, "completion_tokens": 9, "total_tokens": 21}


def _chat(model: bytes) -> bytes:
    body = json.dumps(
        {
            "id": "chatcmpl-bench",
            "object": "chat.completion",
            "created": 1700000000,
            "model": model.decode(),
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": "Hello from the benchmark upstream."},
                    "finish_reason": "stop",
                }
            ],
            "usage": USAGE,
        }
    ).encode()
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body)
    return head + body


def _chunk(delta: dict, finish: str | None = None, usage: dict | None = None) -> bytes:
    data = {
        "id": "chatcmpl-bench",
        "object": "chat.completion.chunk",
        "created": 1700000000,
        "model": "bench-model",
        "choices": [] if usage else [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    if usage:
        data["usage"] = usage
    event = b"data: " + json.dumps(data).encode() + b"\n\n"
    return b"%x\r\n%s\r\n" % (len(event), event)


def _stream(chunks: int, with_usage: bool) -> bytes:
    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
    parts = [_chunk({"role": "assistant", "content": ""})]
    parts += [_chunk({"content": f"word{n} "}) for n in range(chunks)]
    parts.append(_chunk({}, finish="stop"))
    if with_usage:
        parts.append(_chunk({}, usage=USAGE))
    done = b"data: [DONE]\n\n"
    parts.append(b"%x\r\n%s\r\n0\r\n\r\n" % (len(done), done))
    return head + b"".join(parts)


HEALTH = b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 15\r\n\r\n{"status":"ok"}'
NOT_FOUND = b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"


def _models(model: bytes) -> bytes:
    """The model listing the gateway's start probe reads (``GATEWAY_START_PROBES``)."""
    body = json.dumps({"object": "list", "data": [{"id": model.decode(), "object": "model", "owned_by": "bench"}]})
    return b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (
        len(body),
        body.encode(),
    )


class Upstream(asyncio.Protocol):
    def __init__(self, answers: dict[str, bytes], delay: float) -> None:
        self.answers, self.delay = answers, delay
        self.parser = httptools.HttpRequestParser(self)
        self.url, self.body = b"", []

    def connection_made(self, transport: asyncio.Transport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            self.transport.close()

    def on_url(self, url: bytes) -> None:
        self.url = url

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        body, self.body = b"".join(self.body), []
        if self.url.startswith(b"/health"):
            answer = HEALTH
        elif self.url.endswith(b"/models"):
            answer = self.answers["models"]
        elif self.url.endswith(b"/chat/completions"):
            compact = body.replace(b" ", b"")
            stream = b'"stream":true' in compact
            usage = b'"include_usage":true' in compact
            answer = self.answers["stream+usage" if usage else "stream"] if stream else self.answers["chat"]
        else:
            answer = NOT_FOUND
        if self.delay:
            asyncio.get_running_loop().call_later(self.delay, self._write, answer)
        else:
            self._write(answer)

    def _write(self, answer: bytes) -> None:
        if not self.transport.is_closing():
            self.transport.write(answer)


async def serve(port: int, delay_ms: float, chunks: int) -> None:
    answers = {
        "chat": _chat(b"bench-model"),
        "stream": _stream(chunks, False),
        "stream+usage": _stream(chunks, True),
        "models": _models(b"bench-model"),
    }
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: Upstream(answers, delay_ms / 1000), "127.0.0.1", port, backlog=4096)
    print(f"LISTENING http://127.0.0.1:{port}", flush=True)
    await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--delay-ms", type=float, default=0.0)
    parser.add_argument("--chunks", type=int, default=8)
    args = parser.parse_args()
    uvloop.run(serve(args.port, args.delay_ms, args.chunks))


if __name__ == "__main__":
    main()
