"""A real gateway process (``manage.py serve``) told to stop while a stream is in flight.

The guarantee: on SIGTERM the process is not ready at once, refuses new proxy
requests with 503 + Retry-After (in each route's error shape), lets the
stream finish through ``data: [DONE]``, writes its usage row, and exits by
itself. A second signal exits at once; the drain time bounds it too.
"""

from __future__ import annotations

import signal
import time

import httpx
import pytest

from endpoints.models import RequestLog
from tests.servers import GatewayProcess

MESSAGES = [{"role": "user", "content": "hi"}]
CHUNKS = 15
CHUNK_DELAY = 0.2  # a 3 s stream: enough to observe the drain while it runs


def open_stream(gateway: GatewayProcess, token: str):
    return httpx.stream(
        "POST",
        f"{gateway.url}/v1/chat/completions",
        headers={"Authorization": f"Bearer {token}"},
        json={"model": "chat", "messages": MESSAGES, "stream": True},
        timeout=30,
    )


def data_lines(response) -> list[str]:
    return [line for line in response.iter_lines() if line.startswith("data: ")]


@pytest.fixture
def slow_stream(world):
    world.endpoint()
    world.upstream.configure("upstream-a", stream_chunk_delay=CHUNK_DELAY, chunks=["word "] * CHUNKS)
    return world.token(world.alice)


def test_sigterm_lets_the_stream_finish_and_records_it(slow_stream, report):
    token = slow_stream
    with GatewayProcess(name="drain") as gateway, httpx.Client(base_url=gateway.url, timeout=2) as probe:
        assert probe.get("/health/ready").status_code == 200
        with open_stream(gateway, token) as response:
            assert response.status_code == 200
            lines = response.iter_lines()
            before = [next(line for line in lines if line.startswith("data: "))]
            gateway.signal(signal.SIGTERM)
            signalled = time.monotonic()
            first_probe = probe.get("/health/ready")
            probed_after = time.monotonic() - signalled
            refused = post(gateway, "/v1/chat/completions", token, {"model": "chat", "messages": MESSAGES})
            refused_messages = post(
                gateway, "/v1/messages", token, {"model": "chat", "max_tokens": 5, "messages": MESSAGES}
            )
            after = [line for line in lines if line.startswith("data: ")]
        stream_done = time.monotonic()
        exit_code = gateway.wait(timeout=20)
        exited = time.monotonic()
        context = gateway.describe()

    rows = list(RequestLog.objects.values_list("status_code", "stream"))
    words = sum("word" in line for line in before + after)
    report(
        events_before_sigterm=len(before),
        events_after_sigterm=len(after),
        content_chunks=f"{words}/{CHUNKS}",
        first_readiness_after_sigterm=first_probe.status_code,
        first_probe_answered_after_s=round(probed_after, 3),
        refused_status=refused.status_code,
        stream_ended_after_sigterm_s=round(stream_done - signalled, 2),
        exited_after_stream_s=round(exited - stream_done, 2),
        exit_code=exit_code,
        usage_rows=rows,
    )
    assert first_probe.status_code == 503, f"readiness was {first_probe.status_code} right after SIGTERM\n{context}"
    assert first_probe.json()["status"] == "draining", first_probe.text
    assert refused.status_code == 503 and refused.headers.get("retry-after"), refused.text
    assert refused.json()["error"]["code"] == "server_shutting_down", refused.text
    assert refused_messages.status_code == 503 and refused_messages.headers.get("retry-after")
    assert refused_messages.json()["type"] == "error", refused_messages.text  # Anthropic's shape
    assert after and after[-1] == "data: [DONE]", f"the stream was cut: {after[-3:]}\n{context}"
    assert words == CHUNKS, f"{words} of {CHUNKS} content chunks arrived\n{context}"
    assert exit_code == 0, f"exit code {exit_code} (None: still running 20 s after the stream)\n{context}"
    assert rows == [(200, True)], f"usage rows {rows}: the stream's row must be written before exit\n{context}"


def test_a_second_signal_exits_at_once(slow_stream, report):
    with GatewayProcess(name="drain-twice") as gateway:
        with open_stream(gateway, slow_stream) as response:
            lines = response.iter_lines()
            next(line for line in lines if line.startswith("data: "))
            gateway.signal(signal.SIGTERM)
            time.sleep(0.3)
            gateway.signal(signal.SIGINT)
            signalled = time.monotonic()
            exit_code = gateway.wait(timeout=10)
            exited_after = time.monotonic() - signalled
            with pytest.raises(httpx.HTTPError):
                list(lines)  # the stream was cut, not finished
        context = gateway.describe()
    rows = list(RequestLog.objects.values_list("status_code", flat=True))
    report(exited_after_second_signal_s=round(exited_after, 2), exit_code=exit_code, usage_rows=rows)
    assert exit_code == 0 and exited_after < 5, f"exit {exit_code} after {exited_after:.1f} s\n{context}"
    assert rows == [499], f"the cut stream is still recorded (as 499): {rows}\n{context}"


def test_the_drain_time_bounds_the_wait(slow_stream, report):
    with GatewayProcess(env={"GATEWAY_DRAIN_SECONDS": "1"}, name="drain-bounded") as gateway:
        with open_stream(gateway, slow_stream) as response:
            lines = response.iter_lines()
            next(line for line in lines if line.startswith("data: "))
            gateway.signal(signal.SIGTERM)
            signalled = time.monotonic()
            exit_code = gateway.wait(timeout=15)
            exited_after = time.monotonic() - signalled
        context = gateway.describe()
    report(drain_seconds=1, stream_seconds=CHUNKS * CHUNK_DELAY, exited_after_s=round(exited_after, 2))
    assert exit_code == 0, f"exit code {exit_code}\n{context}"
    # 1 s of drain, up to 1 s more for uvicorn to cut what is left, then the interpreter's exit.
    assert exited_after < CHUNKS * CHUNK_DELAY, f"waited for the stream ({exited_after:.1f} s)\n{context}"


def post(gateway: GatewayProcess, path: str, token: str, body: dict) -> httpx.Response:
    return httpx.post(f"{gateway.url}{path}", headers={"Authorization": f"Bearer {token}"}, json=body, timeout=10)


def test_a_stream_closed_before_its_first_event_leaves_the_drain_count():
    # A client that goes away before the stream starts never runs the
    # generator's ``finally``; closing the response still ends its place.
    from gatewaylib.drain import drain
    from proxy.http import Request, Response
    from proxy.pipeline import Call

    async def never_started():
        yield b"data: {}\n\n"

    call = Call(Request("POST", "/v1/chat/completions", {}), "chat")
    before = drain.in_flight()
    call.in_flight = drain.enter()
    response = Response(stream=never_started(), on_close=call.end_of_stream)
    assert drain.in_flight() == before + 1
    response.close()
    response.close()  # closing twice counts once
    assert drain.in_flight() == before
