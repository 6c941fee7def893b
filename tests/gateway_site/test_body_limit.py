"""The ASGI body limit refuses an oversized body while it arrives, before Django has spooled it."""

from __future__ import annotations

import asyncio
import json

import pytest

from gateway_site.body_limit import BodyLimit

LIMIT = 1000


def run(path: str, chunks: list[bytes], headers: list[tuple[bytes, bytes]] | None = None):
    consumed, sent, app_reached = [], [], []

    async def app(scope, receive, send):  # reads the whole body first, as Django's ASGI handler does
        app_reached.append(True)
        while (await receive())["more_body"]:
            pass
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    async def receive():
        chunk = chunks[len(consumed)]
        consumed.append(chunk)
        return {"type": "http.request", "body": chunk, "more_body": len(consumed) < len(chunks)}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "path": path, "headers": headers or []}
    asyncio.run(BodyLimit(app, LIMIT)(scope, receive, send))
    return consumed, sent, app_reached


def test_a_chunked_body_is_cut_off_as_soon_as_it_passes_the_limit():
    consumed, sent, _ = run("/v1/chat/completions", [b"x" * 400] * 100)
    assert len(consumed) == 3  # 1200 bytes: not one chunk more than needed to see it
    assert sent[0]["status"] == 413
    assert json.loads(sent[1]["body"])["error"]["code"] == "too_large"


@pytest.mark.parametrize(
    ("path", "shape"),
    [("/v1/messages", {"type", "error"}), ("/api/3.0/mlflow/gateway/keys/", {"detail"}), ("/keys/new", {"detail"})],
)
def test_each_route_gets_its_own_error_shape(path, shape):
    _, sent, _ = run(path, [b"x" * 600] * 3)
    assert sent[0]["status"] == 413 and set(json.loads(sent[1]["body"])) == shape


def test_a_declared_length_over_the_limit_is_refused_before_reading():
    consumed, sent, app_reached = run("/v1/embeddings", [b"x"], headers=[(b"content-length", b"5000")])
    assert (consumed, app_reached, sent[0]["status"]) == ([], [], 413)


def test_a_body_within_the_limit_passes_through():
    consumed, sent, _ = run("/v1/chat/completions", [b"x" * 300] * 3)
    assert len(consumed) == 3 and sent[0]["status"] == 200
