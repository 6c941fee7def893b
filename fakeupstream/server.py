"""The fake upstream: an aiohttp application answering OpenAI-compatible routes (and Anthropic's and Gemini's).

Everything is deterministic and local.  Per-model behaviour (failures, rate
limits, delays, slow streams, custom reply chunks) lives in a :class:`State`
shared by the handlers; it is guarded by a ``threading.Lock`` so the
in-process fixture (:mod:`fakeupstream.fixture`) may read and change it from
another thread.  The same state is reachable over HTTP through the control
routes ``POST /_control``, ``POST /_reset``, ``GET /_stats`` and
``GET /_requests``.

CLI::

    python -m fakeupstream --host 127.0.0.1 --port 0

prints ``LISTENING http://127.0.0.1:<port>`` as its first stdout line.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import hashlib
import itertools
import json
import signal
import struct
import sys
import threading
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import asdict, dataclass, fields
from functools import lru_cache
from typing import Any

from aiohttp import web

from gatewaylib import eventstream

try:  # fast JSON when available; stdlib otherwise
    import orjson  # type: ignore[import-not-found]

    def dumps(obj: Any) -> str:
        return orjson.dumps(obj).decode()

    loads = orjson.loads
except ImportError:  # pragma: no cover - depends on the environment
    try:
        import ujson  # type: ignore[import-untyped]

        def dumps(obj: Any) -> str:
            return ujson.dumps(obj, ensure_ascii=False, escape_forward_slashes=False)

        loads = ujson.loads
    except ImportError:
        dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
        loads = json.loads

__all__ = [
    "STATE_KEY",
    "ModelConfig",
    "State",
    "create_app",
    "main",
    "start_site",
]

DEFAULT_EMBEDDING_DIMENSIONS = 8
FAKE_IMAGE_URL = "http://127.0.0.1/fake.png"
# A valid 1x1 transparent PNG.
FAKE_PNG_B64 = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
MODERATION_CATEGORIES = (
    "harassment",
    "harassment/threatening",
    "hate",
    "hate/threatening",
    "illicit",
    "illicit/violent",
    "self-harm",
    "self-harm/instructions",
    "self-harm/intent",
    "sexual",
    "sexual/minors",
    "violence",
    "violence/graphic",
)
#: Moderation inputs containing this marker come back flagged (category "violence").
MODERATION_FLAG_MARKER = "fake-flag"
SPEECH_CONTENT_TYPES = {
    "mp3": "audio/mpeg",
    "opus": "audio/ogg",
    "aac": "audio/aac",
    "flac": "audio/flac",
    "wav": "audio/wav",
    "pcm": "audio/pcm",
}
FAKE_FAILURE = {"error": {"message": "fake failure", "type": "server_error", "param": None, "code": None}}


# --------------------------------------------------------------------------- state


@dataclass
class ModelConfig:
    """Behaviour of the fake for one model name (or ``"*"`` for every model).

    fail_status: answer with this HTTP status and an OpenAI error body.
    fail_times: only the next N requests fail (or are rate limited); None = always.
    delay: seconds to wait before answering (success or failure).
    rate_limit: answer 429 with ``Retry-After: <retry_after>``.
    stream_chunk_delay: seconds between streamed SSE events.
    chunks: reply content pieces, replacing ``["Hello", " from", " <model>"]``.
    """

    fail_status: int | None = None
    fail_times: int | None = None
    delay: float = 0.0
    rate_limit: bool = False
    retry_after: float = 1
    stream_chunk_delay: float = 0.0
    chunks: list[str] | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelConfig:
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown config fields: {sorted(unknown)}")
        cfg = cls(**data)
        cfg.validate()
        return cfg

    def validate(self) -> None:
        if self.fail_status is not None:
            self.fail_status = int(self.fail_status)
            if not 100 <= self.fail_status <= 599:
                raise ValueError("fail_status must be an HTTP status code")
        if self.fail_times is not None:
            self.fail_times = int(self.fail_times)
            if self.fail_times < 0:
                raise ValueError("fail_times must be >= 0")
        self.delay = float(self.delay or 0.0)
        self.stream_chunk_delay = float(self.stream_chunk_delay or 0.0)
        self.rate_limit = bool(self.rate_limit)
        self.retry_after = self.retry_after if self.retry_after is not None else 1
        if self.chunks is not None:
            if isinstance(self.chunks, str) or not all(isinstance(c, str) for c in self.chunks):
                raise ValueError("chunks must be a list of strings")
            self.chunks = list(self.chunks)
            if not self.chunks:
                raise ValueError("chunks must not be empty")


_DEFAULT_CONFIG = ModelConfig()


@dataclass(frozen=True)
class Plan:
    """What one request should do, decided atomically when it arrives."""

    seq: int
    delay: float
    stream_chunk_delay: float
    chunks: list[str] | None
    fail_status: int | None  # 429 for rate limiting
    retry_after: float | None  # set when rate limited


class State:
    """Configs, counters and the recorded requests. Thread-safe."""

    def __init__(self, max_requests: int = 1000) -> None:
        self.lock = threading.Lock()
        self.max_requests = max_requests
        self._seq = itertools.count(1)
        self._clear()

    def _clear(self) -> None:
        self.configs: dict[str, ModelConfig] = {}
        self.hits: Counter[str] = Counter()
        self.paths: Counter[str] = Counter()
        self.total = 0
        self.stream_aborted = 0
        self.failures = 0
        self.rate_limited = 0
        self.recorded: deque[dict[str, Any]] = deque(maxlen=self.max_requests)

    # -- control ----------------------------------------------------------------

    def configure(self, model: str, config: ModelConfig) -> None:
        with self.lock:
            self.configs[model] = config

    def reset(self) -> None:
        with self.lock:
            self._clear()

    def stats(self) -> dict[str, Any]:
        with self.lock:
            return {
                "hits": dict(self.hits),
                "paths": dict(self.paths),
                "total": self.total,
                "stream_aborted": self.stream_aborted,
                "failures": self.failures,
                "rate_limited": self.rate_limited,
            }

    def requests(self, model: str | None = None) -> list[dict[str, Any]]:
        with self.lock:
            items = list(self.recorded)
        if model is not None:
            items = [r for r in items if r["model"] == model]
        return items

    def configs_snapshot(self) -> dict[str, dict[str, Any]]:
        with self.lock:
            return {name: asdict(cfg) for name, cfg in self.configs.items()}

    def count_abort(self) -> None:
        with self.lock:
            self.stream_aborted += 1

    # -- per request ------------------------------------------------------------

    def begin(self, record: dict[str, Any]) -> Plan:
        """Record an incoming request and decide how to answer it."""
        model = record["model"]
        with self.lock:
            seq = next(self._seq)
            record["seq"] = seq
            self.recorded.append(record)
            self.total += 1
            self.paths[record["path"]] += 1
            if model is not None:
                self.hits[model] += 1
            cfg = (self.configs.get(model) if model is not None else None) or self.configs.get("*") or _DEFAULT_CONFIG
            fail_status = None
            retry_after = None
            if cfg.rate_limit or cfg.fail_status is not None:
                if cfg.fail_times is None:
                    failing = True
                elif cfg.fail_times > 0:
                    cfg.fail_times -= 1
                    failing = True
                else:
                    failing = False
                if failing:
                    if cfg.rate_limit:
                        fail_status = 429
                        retry_after = cfg.retry_after
                        self.rate_limited += 1
                    else:
                        fail_status = cfg.fail_status
                        self.failures += 1
            return Plan(seq, cfg.delay, cfg.stream_chunk_delay, cfg.chunks, fail_status, retry_after)


STATE_KEY: web.AppKey[State] = web.AppKey("fakeupstream_state", State)


# --------------------------------------------------------------------------- helpers


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response(data, status=status, headers=headers, dumps=dumps)


def _error(status: int, message: str, type_: str = "invalid_request_error", code: str | None = None) -> web.Response:
    return _json({"error": {"message": message, "type": type_, "param": None, "code": code}}, status=status)


def _format_seconds(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _words(text: Any) -> int:
    return len(text.split()) if isinstance(text, str) else 0


def _content_words(content: Any) -> int:
    if isinstance(content, str):
        return _words(content)
    if isinstance(content, list):
        total = 0
        for part in content:
            if isinstance(part, str):
                total += _words(part)
            elif isinstance(part, dict):
                total += _words(part.get("text"))
        return total
    return 0


def _messages_tokens(messages: Any, system: Any = None) -> int:
    total = _content_words(system)
    if isinstance(messages, list):
        for message in messages:
            if isinstance(message, dict):
                total += _content_words(message.get("content"))
    return max(1, total)


def _prompt_tokens(prompt: Any) -> int:
    if isinstance(prompt, str):
        return max(1, _words(prompt))
    if isinstance(prompt, list):
        total = 0
        for item in prompt:
            if isinstance(item, str):
                total += _words(item)
            elif isinstance(item, int):
                total += 1
            elif isinstance(item, list):
                total += len(item)
        return max(1, total)
    return 1


@lru_cache(maxsize=1024)
def default_chunks(model: str) -> tuple[str, ...]:
    return ("Hello", " from", f" {model}")


def _reply_chunks(model: str, plan: Plan) -> list[str] | tuple[str, ...]:
    return plan.chunks if plan.chunks is not None else default_chunks(model)


def _usage(prompt_tokens: int, completion_tokens: int) -> dict[str, int]:
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }


def _sse(obj: Any) -> bytes:
    return b"data: " + dumps(obj).encode() + b"\n\n"


def _event(kind: str, obj: Any) -> bytes:
    return b"event: " + kind.encode() + b"\ndata: " + dumps(obj).encode() + b"\n\n"


SSE_DONE = b"data: [DONE]\n\n"
SSE_HEADERS = {"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}


async def _stream(
    request: web.Request, events: Iterable[bytes], chunk_delay: float, content_type: str = "text/event-stream"
) -> web.StreamResponse:
    """Write SSE events (or event-stream messages) one at a time, counting client disconnects."""
    state = request.app[STATE_KEY]
    resp = web.StreamResponse(status=200, headers={**SSE_HEADERS, "Content-Type": content_type})
    try:
        await resp.prepare(request)
        for i, event in enumerate(events):
            if i and chunk_delay:
                await asyncio.sleep(chunk_delay)
            await resp.write(event)
        await resp.write_eof()
    except ConnectionError:  # ConnectionResetError / aiohttp's ClientConnectionResetError
        state.count_abort()
    except asyncio.CancelledError:
        state.count_abort()
        raise
    return resp


def _clean_model(value: Any) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else str(value)


async def _read_request(request: web.Request) -> tuple[dict[str, Any] | None, Any, dict[str, Any] | None]:
    """Return (json body, raw multipart/form MultiDict, recordable form summary)."""
    ctype = request.content_type
    if ctype.startswith("multipart/") or ctype == "application/x-www-form-urlencoded":
        post = await request.post()
        summary: dict[str, Any] = {}
        for key, value in post.items():
            if isinstance(value, web.FileField):
                data = value.file.read()
                value.file.seek(0)
                summary[key] = {"filename": value.filename, "content_type": value.content_type, "size": len(data)}
            else:
                summary[key] = value
        return None, post, summary
    raw = await request.read()
    if not raw:
        return None, None, None
    body = loads(raw)
    return body, None, None


Handler = Callable[[web.Request, dict[str, Any], Any, str, Plan], Awaitable[web.StreamResponse]]


def endpoint(func: Handler) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """Wrap a route: parse, record, apply the model's config, then call ``func``.

    ``func(request, body, post, model, plan)`` gets the JSON body (or the form
    summary for multipart), the raw form (or None) and the requested model.
    """

    async def handler(request: web.Request) -> web.StreamResponse:
        state = request.app[STATE_KEY]
        try:
            body, post, form = await _read_request(request)
        except ValueError:
            body, post, form = None, None, None
            invalid = True
        else:
            invalid = False
        if body is not None and not isinstance(body, dict):
            body, invalid = None, True
        source = body if body is not None else form
        model = _clean_model(source.get("model")) if source else None
        gemini = "method" in request.match_info  # Gemini names the model in the URL, and errs in Google's shape
        bedrock = "operation" in request.match_info  # so does Bedrock, which errs in AWS's shape
        if gemini or bedrock:
            model = request.match_info["model"]
        elif "tenant" in request.match_info:  # a search provider's base URL names the "model" for the fake
            model = request.match_info["tenant"]
        record = {
            "seq": 0,
            "time": time.time(),
            "method": request.method,
            "path": request.path,
            "query": dict(request.query),
            "model": model,
            "headers": {k.lower(): v for k, v in request.headers.items()},
            "json": body,
            "form": form,
        }
        if bedrock:  # the bytes a SigV4 signature covers, for tests that check it
            record["raw"] = (await request.read()).decode(errors="replace")
            record["raw_path"] = request.raw_path
        plan = state.begin(record)
        if plan.delay:
            await asyncio.sleep(plan.delay)
        if gemini and plan.fail_status is not None:
            return _google_error(plan.fail_status, plan.retry_after, model)
        if bedrock and plan.fail_status is not None:
            return _bedrock_error(plan.fail_status, plan.retry_after, model)
        if plan.fail_status == 429 and plan.retry_after is not None:
            return _json(
                {
                    "error": {
                        "message": f"Rate limit reached for {model} (fake upstream). Please try again later.",
                        "type": "requests",
                        "param": None,
                        "code": "rate_limit_exceeded",
                    }
                },
                status=429,
                headers={"Retry-After": _format_seconds(plan.retry_after)},
            )
        if plan.fail_status is not None:
            return _json(FAKE_FAILURE, status=plan.fail_status)
        if invalid:
            return _error(400, "request body is not a JSON object")
        return await func(request, source or {}, post, model or "fake-model", plan)

    handler.__name__ = func.__name__
    handler.__doc__ = func.__doc__
    return handler


# --------------------------------------------------------------------------- routes


@endpoint
async def chat_completions(request: web.Request, body: dict, post: Any, model: str, plan: Plan) -> web.StreamResponse:
    prompt_tokens = _messages_tokens(body.get("messages"))
    chunks = _reply_chunks(model, plan)
    usage = _usage(prompt_tokens, len(chunks))
    cid = f"chatcmpl-fake{plan.seq}"
    created = int(time.time())
    if not body.get("stream"):
        return _json(
            {
                "id": cid,
                "object": "chat.completion",
                "created": created,
                "model": model,
                "system_fingerprint": "fp_fake",
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": "".join(chunks), "refusal": None},
                        "logprobs": None,
                        "finish_reason": "stop",
                    }
                ],
                "usage": usage,
            }
        )
    include_usage = bool((body.get("stream_options") or {}).get("include_usage"))

    def chunk(delta: dict, finish: str | None = None) -> bytes:
        return _sse(
            {
                "id": cid,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "system_fingerprint": "fp_fake",
                "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
            }
        )

    events = [chunk({"role": "assistant", "content": ""})]
    events += [chunk({"content": piece}) for piece in chunks]
    events.append(chunk({}, "stop"))
    if include_usage:
        events.append(
            _sse(
                {
                    "id": cid,
                    "object": "chat.completion.chunk",
                    "created": created,
                    "model": model,
                    "system_fingerprint": "fp_fake",
                    "choices": [],
                    "usage": usage,
                }
            )
        )
    events.append(SSE_DONE)
    return await _stream(request, events, plan.stream_chunk_delay)


@endpoint
async def completions(request: web.Request, body: dict, post: Any, model: str, plan: Plan) -> web.StreamResponse:
    chunks = _reply_chunks(model, plan)
    usage = _usage(_prompt_tokens(body.get("prompt")), len(chunks))
    cid = f"cmpl-fake{plan.seq}"
    created = int(time.time())

    def payload(text: str, finish: str | None) -> dict:
        return {
            "id": cid,
            "object": "text_completion",
            "created": created,
            "model": model,
            "choices": [{"text": text, "index": 0, "logprobs": None, "finish_reason": finish}],
        }

    if not body.get("stream"):
        return _json({**payload("".join(chunks), "stop"), "usage": usage})
    events = [_sse(payload(piece, None)) for piece in chunks]
    events.append(_sse(payload("", "stop")))
    if (body.get("stream_options") or {}).get("include_usage"):
        events.append(_sse({**payload("", None), "choices": [], "usage": usage}))
    events.append(SSE_DONE)
    return await _stream(request, events, plan.stream_chunk_delay)


@lru_cache(maxsize=4096)
def fake_vector(text: str, dimensions: int) -> tuple[float, ...]:
    """Deterministic unit-ish vector in [-1, 1] for ``text``."""
    raw = hashlib.shake_256(text.encode()).digest(2 * dimensions)
    return tuple(round(v / 32767.5 - 1.0, 6) for v in struct.unpack(f"<{dimensions}H", raw))


@endpoint
async def embeddings(request: web.Request, body: dict, post: Any, model: str, plan: Plan) -> web.StreamResponse:
    inputs = body.get("input")
    if inputs is None:
        return _error(400, "'input' is required")
    if isinstance(inputs, str) or (isinstance(inputs, list) and inputs and isinstance(inputs[0], int)):
        inputs = [inputs]
    if not isinstance(inputs, list):
        inputs = [inputs]
    try:
        dims = int(body.get("dimensions") or DEFAULT_EMBEDDING_DIMENSIONS)
    except (TypeError, ValueError):
        return _error(400, "'dimensions' must be an integer")
    if not 1 <= dims <= 8192:
        return _error(400, "'dimensions' must be between 1 and 8192")
    as_base64 = body.get("encoding_format") == "base64"
    data = []
    tokens = 0
    for i, item in enumerate(inputs):
        text = item if isinstance(item, str) else json.dumps(item)
        tokens += _words(item) if isinstance(item, str) else (len(item) if isinstance(item, list) else 1)
        vec = fake_vector(text, dims)
        emb: Any = base64.b64encode(struct.pack(f"<{dims}f", *vec)).decode() if as_base64 else list(vec)
        data.append({"object": "embedding", "index": i, "embedding": emb})
    tokens = max(1, tokens)
    return _json(
        {
            "object": "list",
            "data": data,
            "model": model,
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        }
    )


@endpoint
async def image_generations(request: web.Request, body: dict, post: Any, model: str, plan: Plan) -> web.StreamResponse:
    try:
        n = max(1, int(body.get("n") or 1))
    except (TypeError, ValueError):
        return _error(400, "'n' must be an integer")
    as_b64 = body.get("response_format") == "b64_json"
    item = {"b64_json": FAKE_PNG_B64} if as_b64 else {"url": FAKE_IMAGE_URL}
    return _json({"created": int(time.time()), "data": [dict(item) for _ in range(n)]})


async def _audio_text(post: Any, verb: str) -> web.Response:
    if post is None or not isinstance(post.get("file"), web.FileField):
        return _error(400, "multipart field 'file' is required")
    field = post["file"]
    size = len(field.file.read())
    text = f"fake {verb} of {field.filename} ({size} bytes)"
    fmt = post.get("response_format") or "json"
    if fmt in ("text", "srt", "vtt"):
        return web.Response(text=text, content_type="text/plain")
    payload: dict[str, Any] = {"text": text}
    if fmt == "verbose_json":
        payload.update({"task": verb, "language": "english", "duration": 1.0, "segments": []})
    return _json(payload)


@endpoint
async def audio_transcriptions(
    request: web.Request, body: dict, post: Any, model: str, plan: Plan
) -> web.StreamResponse:
    return await _audio_text(post, "transcription")


@endpoint
async def audio_translations(request: web.Request, body: dict, post: Any, model: str, plan: Plan) -> web.StreamResponse:
    return await _audio_text(post, "translation")


def fake_speech(text: str) -> bytes:
    """Fake audio: ``b"ID3"`` followed by 16 bytes per UTF-8 byte of ``text``."""
    return b"ID3" + bytes(16 * len(text.encode()))


@endpoint
async def audio_speech(request: web.Request, body: dict, post: Any, model: str, plan: Plan) -> web.StreamResponse:
    text = body.get("input")
    if not isinstance(text, str):
        return _error(400, "'input' must be a string")
    ctype = SPEECH_CONTENT_TYPES.get(body.get("response_format") or "mp3", "audio/mpeg")
    return web.Response(body=fake_speech(text), content_type=ctype)


def _moderation_result(text: str) -> dict[str, Any]:
    flagged = MODERATION_FLAG_MARKER in text
    categories = dict.fromkeys(MODERATION_CATEGORIES, False)
    scores = dict.fromkeys(MODERATION_CATEGORIES, 0.0001)
    if flagged:
        categories["violence"] = True
        scores["violence"] = 0.99
    return {
        "flagged": flagged,
        "categories": categories,
        "category_scores": scores,
        "category_applied_input_types": {c: ["text"] for c in MODERATION_CATEGORIES},
    }


@endpoint
async def moderations(request: web.Request, body: dict, post: Any, model: str, plan: Plan) -> web.StreamResponse:
    inputs = body.get("input")
    if inputs is None:
        return _error(400, "'input' is required")
    if isinstance(inputs, str):
        texts = [inputs]
    elif isinstance(inputs, list) and inputs and all(isinstance(i, dict) for i in inputs):
        # multimodal input: one result for the whole list
        texts = [" ".join(str(i.get("text", "")) for i in inputs)]
    elif isinstance(inputs, list):
        texts = [str(i) for i in inputs]
    else:
        texts = [str(inputs)]
    model_name = _clean_model(body.get("model")) or "omni-moderation-latest"
    return _json(
        {
            "id": f"modr-fake{plan.seq}",
            "model": model_name,
            "results": [_moderation_result(t) for t in texts],
        }
    )


def rerank_score(query: str, document: str) -> float:
    """Deterministic relevance in [0, 1): query-word overlap plus a small hash tiebreaker."""
    q = {w.lower() for w in query.split()}
    d = {w.lower() for w in document.split()}
    overlap = len(q & d) / len(q) if q else 0.0
    h = int.from_bytes(hashlib.sha256(f"{query}\x00{document}".encode()).digest()[:4], "big") / 2**32
    return round(0.9 * overlap + 0.1 * h, 6)


@endpoint
async def rerank(request: web.Request, body: dict, post: Any, model: str, plan: Plan) -> web.StreamResponse:
    query = body.get("query")
    documents = body.get("documents")
    if not isinstance(query, str) or not isinstance(documents, list):
        return _error(400, "'query' (string) and 'documents' (list) are required")
    texts = [d.get("text", "") if isinstance(d, dict) else str(d) for d in documents]
    scored = sorted(
        ((i, rerank_score(query, t)) for i, t in enumerate(texts)),
        key=lambda pair: (-pair[1], pair[0]),
    )
    top_n = body.get("top_n")
    if isinstance(top_n, int) and top_n >= 0:
        scored = scored[:top_n]
    return_documents = body.get("return_documents", True)
    results = []
    for i, score in scored:
        item: dict[str, Any] = {"index": i, "relevance_score": score}
        if return_documents:
            item["document"] = {"text": texts[i]}
        results.append(item)
    tokens = max(1, _words(query) + sum(_words(t) for t in texts))
    return _json(
        {
            "id": f"rerank-fake{plan.seq}",
            "model": model,
            "results": results,
            "meta": {
                "api_version": {"version": "2"},
                "billed_units": {"search_units": 1},
                "tokens": {"input_tokens": tokens, "output_tokens": 0},
            },
            "usage": {"total_tokens": tokens},
        }
    )


@endpoint
async def anthropic_messages(request: web.Request, body: dict, post: Any, model: str, plan: Plan) -> web.StreamResponse:
    input_tokens = _messages_tokens(body.get("messages"), body.get("system"))
    chunks = _reply_chunks(model, plan)
    mid = f"msg_fake{plan.seq}"
    if not body.get("stream"):
        return _json(
            {
                "id": mid,
                "type": "message",
                "role": "assistant",
                "model": model,
                "content": [{"type": "text", "text": "".join(chunks)}],
                "stop_reason": "end_turn",
                "stop_sequence": None,
                "usage": {"input_tokens": input_tokens, "output_tokens": len(chunks)},
            }
        )
    events = [
        _event(
            "message_start",
            {
                "type": "message_start",
                "message": {
                    "id": mid,
                    "type": "message",
                    "role": "assistant",
                    "model": model,
                    "content": [],
                    "stop_reason": None,
                    "stop_sequence": None,
                    "usage": {"input_tokens": input_tokens, "output_tokens": 1},
                },
            },
        ),
        _event(
            "content_block_start",
            {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        ),
    ]
    events += [
        _event(
            "content_block_delta",
            {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": piece}},
        )
        for piece in chunks
    ]
    events += [
        _event("content_block_stop", {"type": "content_block_stop", "index": 0}),
        _event(
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                "usage": {"output_tokens": len(chunks)},
            },
        ),
        _event("message_stop", {"type": "message_stop"}),
    ]
    return await _stream(request, events, plan.stream_chunk_delay)


GOOGLE_STATUS = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND"}
GOOGLE_STATUS |= {429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE", 504: "DEADLINE_EXCEEDED"}


def _google_error(status: int, retry_after: float | None, model: str, message: str = "fake failure") -> web.Response:
    if status == 429:
        message = f"Resource has been exhausted for {model} (fake upstream)."
    headers = {"Retry-After": _format_seconds(retry_after)} if retry_after is not None else None
    body = {"error": {"code": status, "message": message, "status": GOOGLE_STATUS.get(status, "UNKNOWN")}}
    return _json(body, status=status, headers=headers)


def _gemini_text(contents: Any) -> int:
    """Words in Gemini ``contents`` (a list of ``{"role", "parts": [{"text"}]}``)."""
    total = 0
    for content in contents if isinstance(contents, list) else [contents]:
        if isinstance(content, dict):
            total += sum(_words(part.get("text")) for part in content.get("parts") or [] if isinstance(part, dict))
    return max(1, total)


def _gemini_usage(prompt: int, candidates: int) -> dict[str, int]:
    return {"promptTokenCount": prompt, "candidatesTokenCount": candidates, "totalTokenCount": prompt + candidates}


def _gemini_chunk(text: str, model: str, usage: dict[str, int], finish: str | None = None) -> dict[str, Any]:
    candidate: dict[str, Any] = {"content": {"role": "model", "parts": [{"text": text}]}, "index": 0}
    if finish:
        candidate["finishReason"] = finish
    return {"candidates": [candidate], "usageMetadata": usage, "modelVersion": model, "responseId": "fake"}


@endpoint
async def gemini(request: web.Request, body: dict, post: Any, model: str, plan: Plan) -> web.StreamResponse:
    """Google AI Studio's ``models/{model}:{method}`` calls, in its shapes."""
    method = request.match_info["method"]
    if method in {"generateContent", "streamGenerateContent"}:
        prompt = _gemini_text(body.get("contents"))
        if isinstance(system := body.get("systemInstruction") or body.get("system_instruction"), dict):
            prompt += _gemini_text([system])
        chunks = _reply_chunks(model, plan)
        if method == "generateContent":
            return _json(_gemini_chunk("".join(chunks), model, _gemini_usage(prompt, len(chunks)), "STOP"))
        if request.query.get("alt") != "sse":
            return _google_error(400, None, model, "the fake streams only with alt=sse")
        events = [
            b"data: "
            + dumps(_gemini_chunk(piece, model, _gemini_usage(prompt, i), "STOP" if last else None)).encode()
            + b"\r\n\r\n"
            for i, piece in enumerate(chunks, start=1)
            for last in [i == len(chunks)]
        ]
        return await _stream(request, events, plan.stream_chunk_delay)
    if method == "countTokens":
        contents = body.get("contents") or (body.get("generateContentRequest") or {}).get("contents")
        return _json({"totalTokens": _gemini_text(contents)})
    if method == "embedContent":
        text = " ".join(str(part.get("text", "")) for part in (body.get("content") or {}).get("parts") or [])
        config = body.get("embedContentConfig") or body  # Vertex AI's SDK nests the options
        dimensions = int(config.get("outputDimensionality") or config.get("output_dimensionality") or 8)
        embedded = {"embedding": {"values": list(fake_vector(text, dimensions))}}
        if not request.path.startswith("/v1beta/"):  # Vertex AI counts the tokens
            embedded["usageMetadata"] = {"promptTokenCount": _words(text), "totalTokenCount": _words(text)}
        return _json(embedded)
    if method == "predict":  # Vertex AI's text embeddings
        dimensions = int((body.get("parameters") or {}).get("outputDimensionality") or 8)
        predictions = [
            {
                "embeddings": {
                    "values": list(fake_vector(str(item.get("content", "")), dimensions)),
                    "statistics": {"token_count": _words(item.get("content")), "truncated": False},
                }
            }
            for item in body.get("instances") or []
            if isinstance(item, dict)
        ]
        return _json({"predictions": predictions, "metadata": {"billableCharacterCount": 1}})
    if method == "batchEmbedContents":
        embeddings = []
        for item in body.get("requests") or []:
            text = " ".join(str(part.get("text", "")) for part in (item.get("content") or {}).get("parts") or [])
            embeddings.append({"values": list(fake_vector(text, int(item.get("outputDimensionality") or 8)))})
        return _json({"embeddings": embeddings})
    return _google_error(404, None, model, f"fake upstream has no Gemini method {method}")


# -- Amazon Bedrock Runtime -------------------------------------------------------------------------
BEDROCK_ERRORS = {400: "ValidationException", 403: "AccessDeniedException", 404: "ResourceNotFoundException"}
BEDROCK_ERRORS |= {429: "ThrottlingException", 500: "InternalServerException", 503: "ServiceUnavailableException"}
EVENT_STREAM = "application/vnd.amazon.eventstream"


def _bedrock_error(status: int, retry_after: float | None, model: str, message: str = "fake failure") -> web.Response:
    if status == 429:
        message = f"Too many requests for {model} (fake upstream), please wait before trying again."
    headers = {"x-amzn-ErrorType": BEDROCK_ERRORS.get(status, "InternalServerException")}
    if retry_after is not None:
        headers["Retry-After"] = _format_seconds(retry_after)
    return _json({"message": message}, status=status, headers=headers)


def _converse_words(messages: Any, system: Any = None) -> int:
    """Words in Converse ``messages`` (``{"role", "content": [{"text"}]}``) and ``system`` blocks."""
    blocks = [
        block for message in messages or [] if isinstance(message, dict) for block in message.get("content") or []
    ]
    blocks += system if isinstance(system, list) else []
    return max(1, sum(_words(block.get("text")) for block in blocks if isinstance(block, dict)))


@endpoint
async def bedrock(request: web.Request, body: dict, post: Any, model: str, plan: Plan) -> web.StreamResponse:
    """Bedrock Runtime's ``/model/{modelId}/{operation}``: Converse in its own shape, InvokeModel as Claude's."""
    operation, chunks = request.match_info["operation"], _reply_chunks(model, plan)
    if operation in {"converse", "converse-stream"}:
        prompt = _converse_words(body.get("messages"), body.get("system"))
        usage = {"inputTokens": prompt, "outputTokens": len(chunks), "totalTokens": prompt + len(chunks)}
        if operation == "converse":
            message = {"role": "assistant", "content": [{"text": "".join(chunks)}]}
            return _json(
                {"output": {"message": message}, "stopReason": "end_turn", "usage": usage, "metrics": {"latencyMs": 1}}
            )
        events = [eventstream.event("messageStart", dumps({"role": "assistant"}).encode())]
        events += [
            eventstream.event("contentBlockDelta", dumps({"contentBlockIndex": 0, "delta": {"text": piece}}).encode())
            for piece in chunks
        ]
        events += [
            eventstream.event("contentBlockStop", dumps({"contentBlockIndex": 0}).encode()),
            eventstream.event("messageStop", dumps({"stopReason": "end_turn"}).encode()),
            eventstream.event("metadata", dumps({"usage": usage, "metrics": {"latencyMs": 1}}).encode()),
        ]
        return await _stream(request, events, plan.stream_chunk_delay, content_type=EVENT_STREAM)
    if operation == "invoke" and "inputText" in body and "messages" not in body:  # Titan's text embeddings
        tokens = max(1, _words(body.get("inputText")))
        vector = list(fake_vector(str(body.get("inputText")), int(body.get("dimensions") or 8)))
        headers = {"X-Amzn-Bedrock-Input-Token-Count": str(tokens), "X-Amzn-Bedrock-Output-Token-Count": "0"}
        return _json({"embedding": vector, "inputTextTokenCount": tokens}, headers=headers)
    if operation in {"invoke", "invoke-with-response-stream"}:
        # Claude's Messages format, as Bedrock's Anthropic models take it.
        prompt = _messages_tokens(body.get("messages"), body.get("system"))
        usage_headers = {
            "X-Amzn-Bedrock-Input-Token-Count": str(prompt),
            "X-Amzn-Bedrock-Output-Token-Count": str(len(chunks)),
        }
        reply = {"id": f"msg_bdrk_fake{plan.seq}", "type": "message", "role": "assistant", "model": model}
        if operation == "invoke":
            content = [{"type": "text", "text": "".join(chunks)}]
            usage = {"input_tokens": prompt, "output_tokens": len(chunks)}
            return _json(
                {**reply, "content": content, "stop_reason": "end_turn", "usage": usage}, headers=usage_headers
            )
        pieces = [{"type": "message_start", "message": {**reply, "content": [], "usage": {"input_tokens": prompt}}}]
        pieces += [
            {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": p}} for p in chunks
        ]
        metrics = {"inputTokenCount": prompt, "outputTokenCount": len(chunks), "invocationLatency": 1}
        pieces += [
            {"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": len(chunks)}},
            {"type": "message_stop", "amazon-bedrock-invocationMetrics": metrics},
        ]
        events = [
            eventstream.event("chunk", dumps({"bytes": base64.b64encode(dumps(piece).encode()).decode()}).encode())
            for piece in pieces
        ]
        return await _stream(request, events, plan.stream_chunk_delay, content_type=EVENT_STREAM)
    return _bedrock_error(404, None, model, f"fake upstream has no Bedrock operation {operation}")


@endpoint
async def tavily_search(request: web.Request, body: dict, post: Any, model: str, plan: Plan) -> web.StreamResponse:
    """Tavily's ``POST /search``: ``max_results`` results for the query, each naming the fake "model" that answered."""
    if not request.headers.get("Authorization", "").startswith("Bearer "):
        return _json({"detail": {"error": "Unauthorized: missing or invalid API key."}}, status=401)
    query = str(body.get("query", ""))
    domains = body.get("include_domains") or ["example.com"]
    results = [
        {
            "title": f"Result {number} for {query} from {model}",
            "url": f"https://{domains[(number - 1) % len(domains)]}/{number}",
            "content": f"A snippet about {query}.",
            "score": round(1 - number / 100, 2),
        }
        for number in range(1, int(body.get("max_results") or 5) + 1)
    ]
    return _json({"query": query, "results": results, "response_time": 0.01, "request_id": f"fake-{plan.seq}"})


@endpoint
async def searxng_search(request: web.Request, body: dict, post: Any, model: str, plan: Plan) -> web.StreamResponse:
    """SearXNG's ``GET /search?q=...&format=json``: twenty results, whatever was asked (as SearXNG pages)."""
    if request.query.get("format") != "json":
        return web.Response(text="<html>results</html>", content_type="text/html")
    query = request.query.get("q", "")
    results = [
        {
            "title": f"Result {number} for {query} from {model}",
            "url": f"https://searx.example/{number}",
            "content": f"A snippet about {query}.",
            "publishedDate": "2026-11-30T00:00:00",
        }
        for number in range(1, 21)
    ]
    return _json({"query": query, "number_of_results": len(results), "results": results})


@endpoint
async def oauth_token(request: web.Request, body: dict, post: Any, model: str, plan: Plan) -> web.StreamResponse:
    """Google's OAuth token endpoint for a service account's JWT-bearer grant (the assertion is not verified)."""
    if post is None or post.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer":
        return _json({"error": "unsupported_grant_type"}, status=400)
    if str(post.get("assertion") or "").count(".") != 2:
        return _json({"error": "invalid_grant", "error_description": "Invalid JWT."}, status=400)
    return _json({"access_token": f"ya29.fake-token-{plan.seq}", "expires_in": 3599, "token_type": "Bearer"})


def _known_models(state: State) -> list[str]:
    with state.lock:
        names = set(state.hits) | set(state.configs)
    names.discard("*")
    return sorted(names | {"fake-model"})


def _model_object(name: str) -> dict[str, Any]:
    return {"id": name, "object": "model", "created": 0, "owned_by": "fakeupstream"}


@endpoint
async def list_models(request: web.Request, body: dict, post: Any, model: str, plan: Plan) -> web.StreamResponse:
    return _json({"object": "list", "data": [_model_object(m) for m in _known_models(request.app[STATE_KEY])]})


@endpoint
async def list_gemini_models(request: web.Request, body: dict, post: Any, model: str, plan: Plan) -> web.StreamResponse:
    """Google AI Studio's listing shape: ``{"models": [{"name": "models/<id>"}]}``."""
    names = _known_models(request.app[STATE_KEY])
    return _json({"models": [{"name": f"models/{name}", "displayName": name} for name in names]})


@endpoint
async def retrieve_model(request: web.Request, body: dict, post: Any, model: str, plan: Plan) -> web.StreamResponse:
    return _json(_model_object(request.match_info["model"]))


@endpoint
async def unknown_route(request: web.Request, body: dict, post: Any, model: str, plan: Plan) -> web.StreamResponse:
    return _error(404, f"fake upstream has no route {request.method} {request.path}", code="unknown_url")


# --------------------------------------------------------------------------- control routes


async def control(request: web.Request) -> web.Response:
    try:
        data = loads(await request.read())
    except ValueError:
        return _error(400, "body must be JSON")
    if not isinstance(data, dict) or not isinstance(data.get("model"), str):
        return _error(400, "body must be an object with a string 'model' ('*' for every model)")
    model = data.pop("model")
    try:
        cfg = ModelConfig.from_dict(data)
    except (TypeError, ValueError) as exc:
        return _error(400, str(exc))
    request.app[STATE_KEY].configure(model, cfg)
    return _json({"ok": True, "model": model, "config": asdict(cfg)})


async def reset(request: web.Request) -> web.Response:
    request.app[STATE_KEY].reset()
    return _json({"ok": True})


async def stats(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    return _json({**state.stats(), "configs": state.configs_snapshot()})


async def recorded_requests(request: web.Request) -> web.Response:
    model = request.query.get("model")
    return _json(request.app[STATE_KEY].requests(model))


# --------------------------------------------------------------------------- app + runner


def create_app(*, state: State | None = None, max_requests: int = 1000) -> web.Application:
    """Build the aiohttp application. Pass ``state`` to share it with a caller."""
    app = web.Application(client_max_size=64 * 1024 * 1024)
    app[STATE_KEY] = state if state is not None else State(max_requests=max_requests)
    app.router.add_post("/v1/chat/completions", chat_completions)
    app.router.add_post("/v1/completions", completions)
    app.router.add_post("/v1/embeddings", embeddings)
    app.router.add_post("/v1/images/generations", image_generations)
    app.router.add_post("/v1/audio/transcriptions", audio_transcriptions)
    app.router.add_post("/v1/audio/translations", audio_translations)
    app.router.add_post("/v1/audio/speech", audio_speech)
    app.router.add_post("/v1/moderations", moderations)
    app.router.add_post("/v1/rerank", rerank)
    app.router.add_post("/v2/rerank", rerank)  # Cohere v2 path
    app.router.add_post("/rerank", rerank)  # vLLM / Jina style path
    app.router.add_post("/v1/messages", anthropic_messages)
    app.router.add_get("/v1/models", list_models)
    app.router.add_get("/v1/models/{model}", retrieve_model)
    app.router.add_get("/v1beta/models", list_gemini_models)
    app.router.add_post(r"/v1beta/models/{model:[^/:]+}:{method:[a-zA-Z]+}", gemini)
    # Vertex AI: the same calls on publisher models, in a project and location or (express mode) not.
    vertex = r"/v1/projects/{project}/locations/{location}/publishers/google/models/{model:[^/:]+}:{method:[a-zA-Z]+}"
    app.router.add_post(vertex, gemini)
    app.router.add_post(r"/v1/publishers/google/models/{model:[^/:]+}:{method:[a-zA-Z]+}", gemini)
    app.router.add_post(
        r"/model/{model}/{operation:converse|converse-stream|invoke|invoke-with-response-stream}", bedrock
    )
    app.router.add_post("/token", oauth_token)
    app.router.add_post("/search", tavily_search)  # Tavily's API at its root, or under a path per fake "model"
    app.router.add_post("/{tenant:[-a-z0-9_]+}/search", tavily_search)
    app.router.add_get("/{tenant:[-a-z0-9_]+}/search", searxng_search)
    app.router.add_post("/_control", control)
    app.router.add_post("/_reset", reset)
    app.router.add_get("/_stats", stats)
    app.router.add_get("/_requests", recorded_requests)
    app.router.add_route("*", "/{tail:.*}", unknown_route)
    return app


async def start_site(
    app: web.Application, host: str = "127.0.0.1", port: int = 0, *, shutdown_timeout: float = 1.0
) -> tuple[web.AppRunner, int]:
    """Start ``app`` on host:port (0 = any free port); return the runner and the bound port."""
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=shutdown_timeout)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    try:
        await site.start()
    except BaseException:
        await runner.cleanup()
        raise
    bound_port = runner.addresses[0][1]
    return runner, bound_port


def url_for(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


async def _serve(host: str, port: int, max_requests: int) -> None:
    runner, bound = await start_site(create_app(max_requests=max_requests), host, port)
    sys.stdout.write(f"LISTENING {url_for(host, bound)}\n")
    sys.stdout.flush()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):  # non-Unix
            loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m fakeupstream", description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--max-requests", type=int, default=1000, help="how many requests to keep for /_requests")
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args.host, args.port, args.max_requests))


if __name__ == "__main__":  # pragma: no cover
    main()
