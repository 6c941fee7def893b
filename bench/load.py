"""The benchmark's load generator: N keep-alive connections, as fast as each answer comes back.

    python bench/load.py --url http://127.0.0.1:8100/v1/chat/completions --token T \\
        --model fake --concurrency 32 --duration 8 [--stream] [--warmup 2]

Prints one JSON line: requests, errors, requests/s, latency p50/p90/p99 (ms)
and, for streams, the time to the first ``data:`` event p50/p99. Raw asyncio
streams over uvloop, so one core drives several thousand requests a second,
well above any gateway measured here; run it pinned to the other core than
the gateway's.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from urllib.parse import urlsplit

import uvloop


def _request(url: str, token: str, model: str, stream: bool) -> bytes:
    parts = urlsplit(url)
    body = json.dumps(
        {"model": model, "messages": [{"role": "user", "content": "Say hello in three words."}], "stream": stream}
    ).encode()
    head = (
        f"POST {parts.path} HTTP/1.1\r\nHost: {parts.hostname}:{parts.port}\r\n"
        f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def _response(reader: asyncio.StreamReader) -> tuple[int, float | None]:
    """Read one response; return its status and when its first ``data:`` event arrived (streams)."""
    status_line = await reader.readline()
    status = int(status_line.split()[1])
    length, chunked = None, False
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    if not chunked:
        await reader.readexactly(length or 0)
        return status, None
    first_event = None
    while True:
        size = int((await reader.readline()).split(b";")[0], 16)
        if size == 0:
            await reader.readline()
            return status, first_event
        data = await reader.readexactly(size + 2)
        if first_event is None and b"data:" in data:
            first_event = time.perf_counter()


async def _connection(host: str, port: int, request: bytes, until: float, measure_from: float, out: dict) -> None:
    while time.perf_counter() < until and out["left"] > 0:
        try:
            reader, writer = await asyncio.open_connection(host, port)
        except OSError:
            out["errors"] += 1
            await asyncio.sleep(0.05)
            continue
        try:
            while (now := time.perf_counter()) < until and out["left"] > 0:
                writer.write(request)
                status, first_event = await _response(reader)
                done = time.perf_counter()
                if now < measure_from:
                    continue  # warm-up
                out["left"] -= 1
                out["latency"].append((done - now) * 1000)
                if first_event is not None:
                    out["ttft"].append((first_event - now) * 1000)
                if status != 200:
                    out["errors"] += 1
        except (OSError, asyncio.IncompleteReadError, ValueError, IndexError):
            out["errors"] += 1  # a broken or malformed answer; reconnect
        finally:
            writer.close()


def _pct(values: list[float], p: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    return round(values[min(len(values) - 1, int(len(values) * p / 100))], 3)


async def run(args: argparse.Namespace) -> dict:
    parts = urlsplit(args.url)
    request = _request(args.url, args.token, args.model, args.stream)
    start = time.perf_counter()
    measure_from, until = start + args.warmup, start + args.warmup + args.duration
    out: dict = {"latency": [], "ttft": [], "errors": 0, "left": args.requests or float("inf")}
    await asyncio.gather(
        *(_connection(parts.hostname, parts.port, request, until, measure_from, out) for _ in range(args.concurrency))
    )
    latency, ttft = out["latency"], out["ttft"]
    elapsed = min(time.perf_counter(), until) - measure_from
    return {
        "requests": len(latency),
        "errors": out["errors"],
        "rps": round(len(latency) / elapsed, 1),
        "p50_ms": _pct(latency, 50),
        "p90_ms": _pct(latency, 90),
        "p99_ms": _pct(latency, 99),
        "ttft_p50_ms": _pct(ttft, 50),
        "ttft_p99_ms": _pct(ttft, 99),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--model", required=True)
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--duration", type=float, default=8)
    parser.add_argument("--warmup", type=float, default=2)
    parser.add_argument("--stream", action="store_true")
    parser.add_argument("--requests", type=int, default=0, help="stop after this many measured requests")
    args = parser.parse_args()
    print(json.dumps(uvloop.run(run(args))), flush=True)


if __name__ == "__main__":
    main()
