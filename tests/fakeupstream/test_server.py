"""The fake upstream answers the OpenAI SDK, rerank and Anthropic clients and obeys its controls."""

from __future__ import annotations

import base64
import json
import socket
import struct
import subprocess
import sys
import time
from pathlib import Path

import httpx
import openai
import pytest
from openai import OpenAI

from fakeupstream import FakeUpstream

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def server():
    with FakeUpstream() as upstream:
        yield upstream


@pytest.fixture
def upstream(server):
    server.reset()
    yield server
    server.reset()


@pytest.fixture(scope="module")
def _sdk(server):
    # verify=False: plain http anyway, and it skips loading the CA bundle (slow on busy machines)
    with OpenAI(
        base_url=server.base_url,
        api_key="sk-test",
        max_retries=0,
        timeout=5,
        http_client=httpx.Client(verify=False, timeout=5),
    ) as c:
        yield c


@pytest.fixture(scope="module")
def _http(server):
    with httpx.Client(base_url=server.url, timeout=5, verify=False) as c:
        yield c


@pytest.fixture
def client(upstream, _sdk):
    return _sdk


@pytest.fixture
def http(upstream, _http):
    return _http


def sse_events(text: str) -> list[tuple[str | None, str]]:
    events = []
    for block in text.split("\n\n"):
        if not block.strip():
            continue
        kind = None
        data = []
        for line in block.split("\n"):
            if line.startswith("event: "):
                kind = line[len("event: ") :]
            elif line.startswith("data: "):
                data.append(line[len("data: ") :])
        events.append((kind, "\n".join(data)))
    return events


# --------------------------------------------------------------------------- OpenAI routes


def test_url_shape(upstream):
    assert upstream.url == f"http://127.0.0.1:{upstream.port}"
    assert upstream.base_url == upstream.url + "/v1"


def test_chat_completion(client, upstream):
    resp = client.chat.completions.create(
        model="gpt-a", messages=[{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi there"}]
    )
    assert resp.model == "gpt-a"
    assert resp.choices[0].message.content == "Hello from gpt-a"
    assert resp.choices[0].finish_reason == "stop"
    assert resp.usage.prompt_tokens == 4
    assert resp.usage.completion_tokens == 3
    assert resp.usage.total_tokens == 7


def test_chat_prompt_tokens_at_least_one_and_content_parts(client):
    resp = client.chat.completions.create(model="m", messages=[{"role": "user", "content": ""}])
    assert resp.usage.prompt_tokens == 1
    resp = client.chat.completions.create(
        model="m", messages=[{"role": "user", "content": [{"type": "text", "text": "one two three"}]}]
    )
    assert resp.usage.prompt_tokens == 3


def test_chat_stream_with_usage(client):
    stream = client.chat.completions.create(
        model="gpt-s",
        messages=[{"role": "user", "content": "say hello"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Hello from gpt-s"
    assert all(c.model == "gpt-s" for c in chunks)
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    last = chunks[-1]
    assert last.choices == []
    assert last.usage.prompt_tokens == 2
    assert last.usage.completion_tokens == 3


def test_chat_stream_raw_sse(http):
    resp = http.post("/v1/chat/completions", json={"model": "raw", "stream": True, "messages": []})
    assert resp.headers["content-type"].startswith("text/event-stream")
    events = sse_events(resp.text)
    assert events[-1] == (None, "[DONE]")
    payloads = [json.loads(d) for _, d in events[:-1]]
    assert all("usage" not in p for p in payloads)  # no include_usage
    assert len([p for p in payloads if p["choices"][0]["delta"].get("content")]) == 3


def test_custom_chunks(client, upstream):
    upstream.configure("chunky", chunks=["A", "B", "C", "D", "E"])
    resp = client.chat.completions.create(model="chunky", messages=[{"role": "user", "content": "x"}])
    assert resp.choices[0].message.content == "ABCDE"
    assert resp.usage.completion_tokens == 5
    pieces = [
        c.choices[0].delta.content
        for c in client.chat.completions.create(
            model="chunky", messages=[{"role": "user", "content": "x"}], stream=True
        )
        if c.choices and c.choices[0].delta.content
    ]
    assert pieces == ["A", "B", "C", "D", "E"]


def test_text_completion(client):
    resp = client.completions.create(model="davinci-fake", prompt="once upon a time")
    assert resp.choices[0].text == "Hello from davinci-fake"
    assert resp.usage.prompt_tokens == 4
    assert resp.usage.completion_tokens == 3
    stream = client.completions.create(
        model="davinci-fake", prompt="go", stream=True, stream_options={"include_usage": True}
    )
    chunks = list(stream)
    assert "".join(c.choices[0].text for c in chunks if c.choices) == "Hello from davinci-fake"
    assert chunks[-1].usage.total_tokens == 4


def test_text_completion_stream_ends_with_done(http):
    resp = http.post("/v1/completions", json={"model": "t", "prompt": "x", "stream": True})
    assert resp.text.endswith("data: [DONE]\n\n")


def test_embeddings(client, http):
    single = client.embeddings.create(model="emb", input="hello world")
    assert len(single.data) == 1
    assert len(single.data[0].embedding) == 8
    assert single.usage.prompt_tokens == 2
    batch = client.embeddings.create(model="emb", input=["hello world", "other", "hello world"], dimensions=16)
    assert [d.index for d in batch.data] == [0, 1, 2]
    assert all(len(d.embedding) == 16 for d in batch.data)
    assert batch.data[0].embedding == batch.data[2].embedding  # deterministic
    assert batch.data[0].embedding != batch.data[1].embedding
    assert all(-1.0 <= v <= 1.0 for v in batch.data[1].embedding)
    # base64 encoding, as some clients (and LiteLLM) request
    raw = http.post("/v1/embeddings", json={"model": "emb", "input": "hello world", "encoding_format": "base64"})
    decoded = struct.unpack("<8f", base64.b64decode(raw.json()["data"][0]["embedding"]))
    assert decoded == pytest.approx(single.data[0].embedding, abs=1e-6)


def test_images(client):
    resp = client.images.generate(model="img", prompt="a cat", n=2)
    assert [d.url for d in resp.data] == ["http://127.0.0.1/fake.png"] * 2
    resp = client.images.generate(model="img", prompt="a cat", response_format="b64_json")
    assert base64.b64decode(resp.data[0].b64_json).startswith(b"\x89PNG")


def test_transcription(client, upstream):
    audio = b"RIFF" + b"\x00" * 96
    resp = client.audio.transcriptions.create(model="whisper-x", file=("clip.wav", audio, "audio/wav"))
    assert resp.text == "fake transcription of clip.wav (100 bytes)"
    verbose = client.audio.transcriptions.create(
        model="whisper-x", file=("clip.wav", audio, "audio/wav"), response_format="verbose_json"
    )
    assert verbose.language == "english"
    assert verbose.duration == 1.0
    assert verbose.text == "fake transcription of clip.wav (100 bytes)"
    text = client.audio.transcriptions.create(
        model="whisper-x", file=("clip.wav", audio, "audio/wav"), response_format="text"
    )
    assert text.strip() == "fake transcription of clip.wav (100 bytes)"
    recorded = upstream.requests("whisper-x")[0]
    assert recorded["json"] is None
    assert recorded["form"]["model"] == "whisper-x"
    assert recorded["form"]["file"] == {"filename": "clip.wav", "content_type": "audio/wav", "size": 100}
    assert upstream.stats()["hits"]["whisper-x"] == 3


def test_speech(client):
    resp = client.audio.speech.create(model="tts-x", voice="alloy", input="hello")
    data = resp.read()
    assert data.startswith(b"ID3")
    assert len(data) == 3 + 16 * 5
    assert resp.response.headers["content-type"] == "audio/mpeg"
    longer = client.audio.speech.create(model="tts-x", voice="alloy", input="hello again").read()
    assert len(longer) > len(data)


def test_moderation(client):
    resp = client.moderations.create(model="omni-moderation-latest", input=["nice", "fake-flag this"])
    assert resp.model == "omni-moderation-latest"
    assert [r.flagged for r in resp.results] == [False, True]
    assert resp.results[0].categories.violence is False
    assert resp.results[1].categories.violence is True
    assert resp.results[0].category_scores.hate < 0.01


def test_models_list(client, upstream):
    upstream.configure("configured-model")
    ids = [m.id for m in client.models.list()]
    assert "configured-model" in ids
    assert "fake-model" in ids


# --------------------------------------------------------------------------- rerank + anthropic


def test_rerank(http):
    docs = ["the cat sat", "dogs bark loudly", "a cat and a dog", "nothing here"]
    resp = http.post("/v1/rerank", json={"model": "rr", "query": "cat dog", "documents": docs, "top_n": 2})
    body = resp.json()
    assert resp.status_code == 200
    assert body["id"].startswith("rerank-")
    results = body["results"]
    assert len(results) == 2
    assert results[0]["index"] == 2  # both query words
    assert results[0]["document"] == {"text": docs[2]}
    assert results[0]["relevance_score"] >= results[1]["relevance_score"]
    assert body["meta"]["billed_units"]["search_units"] == 1
    again = http.post("/v1/rerank", json={"model": "rr", "query": "cat dog", "documents": docs, "top_n": 2}).json()
    assert again["results"] == results  # deterministic
    bare = http.post(
        "/v1/rerank",
        json={"model": "rr", "query": "cat", "documents": [{"text": d} for d in docs], "return_documents": False},
    ).json()
    assert len(bare["results"]) == 4
    assert all("document" not in r for r in bare["results"])
    assert sorted(r["index"] for r in bare["results"]) == [0, 1, 2, 3]


def test_anthropic_messages(http):
    payload = {
        "model": "claude-x",
        "max_tokens": 50,
        "system": "be kind",
        "messages": [{"role": "user", "content": "hello claude"}],
    }
    body = http.post("/v1/messages", json=payload).json()
    assert body["type"] == "message"
    assert body["model"] == "claude-x"
    assert body["content"] == [{"type": "text", "text": "Hello from claude-x"}]
    assert body["stop_reason"] == "end_turn"
    assert body["usage"] == {"input_tokens": 4, "output_tokens": 3}

    resp = http.post("/v1/messages", json={**payload, "stream": True})
    events = sse_events(resp.text)
    kinds = [k for k, _ in events]
    assert kinds[0] == "message_start"
    assert kinds[1] == "content_block_start"
    assert kinds[-3:] == ["content_block_stop", "message_delta", "message_stop"]
    datas = [json.loads(d) for _, d in events]
    assert all(d["type"] == k for (k, _), d in zip(events, datas, strict=True))
    text = "".join(d["delta"]["text"] for d in datas if d["type"] == "content_block_delta")
    assert text == "Hello from claude-x"
    delta = next(d for d in datas if d["type"] == "message_delta")
    assert delta["usage"]["output_tokens"] == 3
    assert delta["delta"]["stop_reason"] == "end_turn"


# --------------------------------------------------------------------------- behaviour controls


def test_fail_status_with_fail_times(client, upstream):
    upstream.configure("flaky", fail_status=503, fail_times=2)
    for _ in range(2):
        with pytest.raises(openai.InternalServerError) as excinfo:
            client.chat.completions.create(model="flaky", messages=[{"role": "user", "content": "x"}])
        assert excinfo.value.status_code == 503
        assert excinfo.value.body == {"message": "fake failure", "type": "server_error", "param": None, "code": None}
    ok = client.chat.completions.create(model="flaky", messages=[{"role": "user", "content": "x"}])
    assert ok.choices[0].message.content == "Hello from flaky"
    # other models are unaffected
    assert client.embeddings.create(model="steady", input="x").data
    stats = upstream.stats()
    assert stats["hits"] == {"flaky": 3, "steady": 1}
    assert stats["failures"] == 2


def test_fail_status_forever_and_on_every_route(http, upstream):
    upstream.configure("broken", fail_status=400)
    for path in ("/v1/chat/completions", "/v1/embeddings", "/v1/rerank", "/v1/messages"):
        resp = http.post(path, json={"model": "broken"})
        assert resp.status_code == 400
        assert resp.json()["error"]["message"] == "fake failure"
    resp = http.post("/v1/audio/transcriptions", data={"model": "broken"}, files={"file": ("a.wav", b"xx")})
    assert resp.status_code == 400


def test_rate_limit(client, http, upstream):
    upstream.configure("limited", rate_limit=True, retry_after=7, fail_times=1)
    resp = http.post("/v1/chat/completions", json={"model": "limited", "messages": []})
    assert resp.status_code == 429
    assert resp.headers["retry-after"] == "7"
    assert resp.json()["error"]["code"] == "rate_limit_exceeded"
    assert http.post("/v1/chat/completions", json={"model": "limited", "messages": []}).status_code == 200

    upstream.configure("limited", rate_limit=True)
    with pytest.raises(openai.RateLimitError) as excinfo:
        client.chat.completions.create(model="limited", messages=[{"role": "user", "content": "x"}])
    assert excinfo.value.response.headers["retry-after"] == "1"
    assert upstream.stats()["rate_limited"] == 2


def test_delay(client, upstream):
    upstream.configure("slow", delay=0.3)
    started = time.perf_counter()
    client.chat.completions.create(model="slow", messages=[{"role": "user", "content": "x"}])
    assert time.perf_counter() - started >= 0.3
    started = time.perf_counter()
    client.chat.completions.create(model="fast", messages=[{"role": "user", "content": "x"}])
    assert time.perf_counter() - started < 0.25


def test_wildcard_config(http, upstream):
    upstream.configure("*", fail_status=500)
    upstream.configure("exempt")
    assert http.post("/v1/embeddings", json={"model": "any", "input": "x"}).status_code == 500
    assert http.post("/v1/embeddings", json={"model": "exempt", "input": "x"}).status_code == 200


def test_stream_chunk_delay_and_abort(upstream):
    upstream.configure("trickle", stream_chunk_delay=0.1)
    started = time.perf_counter()
    with httpx.Client(timeout=5, verify=False) as c:
        body = c.post(
            upstream.base_url + "/chat/completions", json={"model": "trickle", "stream": True, "messages": []}
        ).text
    assert time.perf_counter() - started >= 0.5  # 6 gaps between 7 events
    assert body.endswith("data: [DONE]\n\n")
    assert upstream.stats()["stream_aborted"] == 0

    upstream.configure("trickle", stream_chunk_delay=0.2)
    with (
        httpx.Client(timeout=5, verify=False) as c,
        c.stream(
            "POST", upstream.base_url + "/chat/completions", json={"model": "trickle", "stream": True, "messages": []}
        ) as resp,
    ):
        first = next(resp.iter_raw())
        assert first.startswith(b"data: ")
    # leaving the block closed the connection mid-stream
    stats = upstream.wait_until(lambda s: s["stream_aborted"] >= 1, timeout=3)
    assert stats["stream_aborted"] == 1


def test_recorded_requests_and_headers(upstream):
    with OpenAI(
        base_url=upstream.base_url,
        api_key="sk-client",
        max_retries=0,
        default_headers={"X-Custom-Thing": "yes"},
        http_client=httpx.Client(verify=False),
    ) as c:
        c.chat.completions.create(model="rec", messages=[{"role": "user", "content": "record me"}])
    with httpx.Client(verify=False) as h:
        h.post(upstream.base_url + "/embeddings", json={"model": "other", "input": "x"})
    all_requests = upstream.requests()
    assert [r["model"] for r in all_requests] == ["rec", "other"]
    rec = upstream.requests("rec")
    assert len(rec) == 1
    r = rec[0]
    assert r["method"] == "POST"
    assert r["path"] == "/v1/chat/completions"
    assert r["headers"]["authorization"] == "Bearer sk-client"
    assert r["headers"]["x-custom-thing"] == "yes"
    assert all(k == k.lower() for k in r["headers"])
    assert r["json"]["messages"] == [{"role": "user", "content": "record me"}]
    assert "authorization" not in upstream.requests("other")[0]["headers"]


def test_request_log_is_bounded():
    with FakeUpstream(max_requests=3) as up, httpx.Client(verify=False) as h:
        for i in range(5):
            h.post(up.base_url + "/embeddings", json={"model": f"m{i}", "input": "x"})
        assert [r["model"] for r in up.requests()] == ["m2", "m3", "m4"]
        assert up.stats()["total"] == 5


def test_http_control_routes(http, upstream):
    resp = http.post("/_control", json={"model": "ctl", "fail_status": 502, "fail_times": 1})
    assert resp.status_code == 200
    assert resp.json()["config"]["fail_status"] == 502
    assert http.post("/v1/chat/completions", json={"model": "ctl", "messages": []}).status_code == 502
    assert http.post("/v1/chat/completions", json={"model": "ctl", "messages": []}).status_code == 200
    http.get("/v1/models")
    stats = http.get("/_stats").json()
    assert stats["hits"] == {"ctl": 2}
    assert stats["paths"] == {"/v1/chat/completions": 2, "/v1/models": 1}
    assert stats["total"] == 3
    assert stats["stream_aborted"] == 0
    assert stats["configs"]["ctl"]["fail_times"] == 0
    recorded = http.get("/_requests", params={"model": "ctl"}).json()
    assert len(recorded) == 2
    assert recorded[0]["json"] == {"model": "ctl", "messages": []}
    assert http.post("/_control", json={"model": "x", "bogus": 1}).status_code == 400
    assert http.post("/_control", json={"fail_status": 500}).status_code == 400
    assert http.post("/_reset").json() == {"ok": True}
    assert http.get("/_stats").json()["total"] == 0
    assert http.get("/_requests").json() == []
    assert upstream.stats()["hits"] == {}


def test_unknown_route_is_recorded(http, upstream):
    resp = http.post("/openai/v1/chat/completions", json={"model": "lost"})
    assert resp.status_code == 404
    assert "no route" in resp.json()["error"]["message"]
    assert upstream.requests("lost")[0]["path"] == "/openai/v1/chat/completions"


def test_invalid_json_is_400(http):
    resp = http.post("/v1/chat/completions", content=b"{nope", headers={"content-type": "application/json"})
    assert resp.status_code == 400


# --------------------------------------------------------------------------- lifecycle


def test_stop_frees_the_port():
    up = FakeUpstream().start()
    port = up.port
    assert httpx.get(up.base_url + "/models", verify=False).status_code == 200
    up.stop()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{port}/v1/models", timeout=2, verify=False)
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port))
    # a new server can take the same port, and the state survives a restart
    up.configure("kept", fail_status=500)
    with FakeUpstream(port=port) as again:
        assert again.port == port
    up.start()
    try:
        assert (
            httpx.post(up.base_url + "/embeddings", json={"model": "kept", "input": "x"}, verify=False).status_code
            == 500
        )
    finally:
        up.stop()


def test_cli_prints_listening_line():
    proc = subprocess.Popen(
        [sys.executable, "-m", "fakeupstream", "--host", "127.0.0.1", "--port", "0"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline().strip()
        assert line.startswith("LISTENING http://127.0.0.1:")
        url = line.split(" ", 1)[1]
        assert int(url.rsplit(":", 1)[1]) > 0
        resp = httpx.post(url + "/v1/chat/completions", json={"model": "cli", "messages": []}, timeout=5, verify=False)
        assert resp.json()["choices"][0]["message"]["content"] == "Hello from cli"
        assert httpx.get(url + "/_stats", verify=False).json()["hits"] == {"cli": 1}
    finally:
        proc.terminate()
        assert proc.wait(timeout=5) == 0
