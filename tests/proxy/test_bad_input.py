"""Bad input is a 4xx in the route's own error format, and the provider never hears of it.

The first tests replay inputs that answered 500, 502 (after the Router's
retries) or went upstream unchecked before the proxy typed its fields; the
matrix tests then walk every field of every route's schema table.
"""

from __future__ import annotations

import json
import re

import httpx
import pytest

from gateway_site.parsers import MAX_JSON_DEPTH
from proxy.allowlist import REQUIRED_FIELDS, SCHEMAS
from proxy.validators import Int, Num
from tests.proxy.bodies import ENDPOINT, ROUTES, endpoint_for, example, minimal_body, path, post, wrong_type

MESSAGES = [{"role": "user", "content": "hi"}]


def send_raw(gateway, world, route: str, raw: bytes | str, content_type: str = "application/json", **kwargs):
    headers = {"Authorization": f"Bearer {world.token(world.alice)}", "content-type": content_type}
    return httpx.post(f"{gateway.url}{path(route)}", headers=headers, content=raw, timeout=60, **kwargs)


def openai_error(response, status: int) -> dict:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["type"] == "invalid_request_error"
    return error


def anthropic_error(response, status: int) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["type"] == "error" and set(body["error"]) == {"type", "message"}
    return body["error"]


# -- the measured cases ------------------------------------------------------------
def test_a_chunked_body_over_the_limit_is_413(gateway, world):
    endpoint_for(world, "chat")
    chunk = b" " * (1024 * 1024)

    def thirty_megabytes():  # a generator body: chunked, no Content-Length
        yield b'{"model": "target", "messages": [{"role": "user", "content": "hi"}]'
        for _ in range(30):
            yield chunk
        yield b"}"

    response = send_raw(gateway, world, "chat", thirty_megabytes())
    error = openai_error(response, 413)
    assert error["code"] == "too_large" and error["param"] is None
    assert world.upstream.stats()["total"] == 0


def test_a_chunked_body_within_the_limit_is_served(gateway, world):
    endpoint_for(world, "chat")
    body = json.dumps({"model": ENDPOINT, "messages": MESSAGES}).encode()
    response = send_raw(gateway, world, "chat", iter([body[:10], body[10:]]))
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("route", ["chat", "anthropic_messages"])
def test_json_nested_100000_levels_deep_is_400(gateway, world, route):
    endpoint_for(world, route)
    raw = '{"model": "target", "max_tokens": 5, "messages": ' + "[" * 100_000 + "]" * 100_000 + "}"
    response = send_raw(gateway, world, route, raw)
    if route == "chat":
        error = openai_error(response, 400)
        assert error["code"] == "invalid_json" and error["param"] is None
    else:
        error = anthropic_error(response, 400)
        assert error["type"] == "invalid_request_error"
    assert f"more than {MAX_JSON_DEPTH} levels" in error["message"]
    assert world.upstream.stats()["total"] == 0


def test_json_one_level_past_the_cap_is_400_and_at_the_cap_is_parsed(gateway, world):
    endpoint_for(world, "chat")

    def body(depth: int) -> str:  # the body object is level 1
        nested = "[" * (depth - 1) + "]" * (depth - 1)
        return '{"model": "target", "messages": [], "response_format": ' + nested + "}"

    error = openai_error(send_raw(gateway, world, "chat", body(MAX_JSON_DEPTH + 1)), 400)
    assert error["code"] == "invalid_json"
    # At the cap the body parses, and the schema has the next word.
    error = openai_error(send_raw(gateway, world, "chat", body(MAX_JSON_DEPTH)), 400)
    assert (error["param"], error["code"]) == ("response_format", "invalid_type")


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e400", "-1e400"])
def test_non_finite_numbers_are_refused_when_parsing(gateway, world, number):
    endpoint_for(world, "chat")
    raw = json.dumps({"model": ENDPOINT, "messages": MESSAGES, "temperature": 0.5}).replace("0.5", number)
    error = openai_error(send_raw(gateway, world, "chat", raw), 400)
    assert error["code"] == "invalid_json" and error["param"] is None
    assert world.upstream.stats()["total"] == 0


@pytest.mark.parametrize(
    "raw",
    [
        '{"model": "target", "messages": [{"role": "user", "content": "\\ud800"}]}',  # was a 502
        '{"model": "target\\ud800", "messages": [{"role": "user", "content": "hi"}]}',  # was a 500
    ],
)
def test_a_lone_surrogate_is_refused_when_parsing(gateway, world, raw):
    endpoint_for(world, "chat")
    error = openai_error(send_raw(gateway, world, "chat", raw), 400)
    assert error["code"] == "invalid_json" and "surrogate" in error["message"]
    assert world.upstream.stats()["total"] == 0


def test_an_escaped_emoji_is_served(gateway, world):
    endpoint_for(world, "chat")
    raw = '{"model": "target", "messages": [{"role": "user", "content": "\\ud83d\\ude00"}]}'
    assert send_raw(gateway, world, "chat", raw).status_code == 200
    assert world.upstream.requests()[-1]["json"]["messages"][0]["content"] == "\N{GRINNING FACE}"


def test_multipart_without_a_boundary_is_400(gateway, world):
    endpoint_for(world, "audio_transcription")
    response = send_raw(gateway, world, "audio_transcription", b"--x\r\n\r\n", content_type="multipart/form-data")
    error = openai_error(response, 400)
    assert error["code"] == "invalid_multipart" and error["param"] is None
    assert world.upstream.stats()["total"] == 0


# Each of these answered 502 after the Router's retries (LiteLLM crashed on
# them), or reached the provider unchecked.
MEASURED = [
    ("chat", {"messages": [None]}, "messages[0]", "invalid_type"),
    ("chat", {"messages": ["hi"]}, "messages[0]", "invalid_type"),
    ("chat", {"messages": [{"role": "user", "content": 5}]}, "messages[0].content", "invalid_type"),
    ("chat", {"messages": [{"role": "user", "content": [None]}]}, "messages[0].content[0]", "invalid_type"),
    (
        "chat",
        {"messages": [{"role": "user", "content": [{"type": "image", "source": {}}]}]},
        "messages[0].content[0].type",
        "invalid_value",
    ),
    (
        "chat",
        {"messages": [{"role": "user", "content": [{"type": "image_url"}]}]},
        "messages[0].content[0].image_url",
        "missing_required_parameter",
    ),
    ("chat", {"messages": [{"role": "bot", "content": "hi"}]}, "messages[0].role", "invalid_value"),
    ("chat", {"messages": [{"role": "user"}]}, "messages[0].content", "missing_required_parameter"),
    ("chat", {"messages": MESSAGES, "response_format": "json"}, "response_format", "invalid_type"),
    ("chat", {"messages": MESSAGES, "stream": "yes"}, "stream", "invalid_type"),
    ("chat", {"messages": MESSAGES, "tools": [None]}, "tools[0]", "invalid_type"),
    ("chat", {"messages": MESSAGES, "temperature": 1e300}, "temperature", "decimal_above_max_value"),
    ("chat", {"messages": MESSAGES, "n": 0}, "n", "integer_below_min_value"),
    ("chat", {"messages": MESSAGES, "max_tokens": -1}, "max_tokens", "integer_below_min_value"),
    (
        "chat",
        {"messages": MESSAGES, "max_completion_tokens": 10**30},
        "max_completion_tokens",
        "integer_above_max_value",
    ),
    ("completion", {"prompt": [None]}, "prompt[0]", "invalid_type"),
    ("completion", {"prompt": {"a": 1}}, "prompt", "invalid_type"),
    ("embedding", {"input": [[1, 2], [3, "x"]]}, "input[1][1]", "invalid_type"),
    ("embedding", {"input": "x", "dimensions": 10**9}, "dimensions", "integer_above_max_value"),
    ("image_generation", {"prompt": "a cat", "n": 1000}, "n", "integer_above_max_value"),
    ("image_generation", {"prompt": "a cat", "n": 11}, "n", "integer_above_max_value"),
    ("audio_speech", {"input": "hello", "voice": "alloy", "speed": 10}, "speed", "decimal_above_max_value"),
    ("moderation", {"input": [None]}, "input[0]", "invalid_type"),
    ("rerank", {"query": 5, "documents": ["a"]}, "query", "invalid_type"),
    ("rerank", {"query": "q", "documents": "a"}, "documents", "invalid_type"),
    ("rerank", {"query": "q", "documents": [None]}, "documents[0]", "invalid_type"),
    ("rerank", {"query": "q", "documents": ["a"], "top_n": "x"}, "top_n", "invalid_type"),
]


@pytest.mark.parametrize("route, body, param, code", MEASURED)
def test_malformed_bodies_are_400_naming_the_field(gateway, world, route, body, param, code):
    endpoint_for(world, route)
    error = openai_error(post(gateway, world, route, body), 400)
    assert (error["param"], error["code"]) == (param, code), error["message"]
    assert f"'{param}'" in error["message"]
    assert world.upstream.stats()["total"] == 0


ANTHROPIC_MEASURED = [
    ({"messages": [None]}, "Invalid type for 'messages[0]': expected an object, but got null instead."),
    ({"messages": ["hi"]}, "Invalid type for 'messages[0]': expected an object, but got a string instead."),
    (
        {"messages": [{"role": "user", "content": [None]}]},
        "Invalid type for 'messages[0].content[0]': expected an object, but got null instead.",
    ),
    (
        {"messages": [{"role": "system", "content": "hi"}]},
        "Invalid value for 'messages[0].role': 'system'. Supported values are: 'user', 'assistant'.",
    ),
    (
        {"messages": MESSAGES, "system": 5},
        "Invalid type for 'system': expected a string or an array, but got an integer instead.",
    ),
    ({"messages": MESSAGES, "tools": "x"}, "Invalid type for 'tools': expected an array, but got a string instead."),
    (
        {"messages": MESSAGES, "thinking": "x"},
        "Invalid type for 'thinking': expected an object, but got a string instead.",
    ),
    (
        {"messages": MESSAGES, "stream": "yes"},
        "Invalid type for 'stream': expected a boolean, but got a string instead.",
    ),
    (
        {"messages": MESSAGES, "max_tokens": "x"},
        "Invalid type for 'max_tokens': expected an integer, but got a string instead.",
    ),
    (
        {"messages": MESSAGES, "temperature": 1.5},
        "Invalid 'temperature': decimal above maximum value. Expected a value <= 1, but got 1.5 instead.",
    ),
    (
        {"messages": MESSAGES, "metadata": {"callbacks": ["x"]}},
        "Unrecognized request argument supplied: metadata.callbacks",
    ),
]


@pytest.mark.parametrize("body, message", ANTHROPIC_MEASURED)
def test_malformed_anthropic_bodies_are_400_in_anthropic_shape(gateway, world, body, message):
    endpoint_for(world, "anthropic_messages")
    error = anthropic_error(post(gateway, world, "anthropic_messages", {"max_tokens": 5, **body}), 400)
    assert error == {"type": "invalid_request_error", "message": message}
    assert world.upstream.stats()["total"] == 0


def test_image_n_is_forwarded_up_to_ten(gateway, world):
    endpoint_for(world, "image_generation")
    response = post(gateway, world, "image_generation", {"prompt": "a cat", "n": 10})
    assert response.status_code == 200, response.text
    assert world.upstream.requests()[-1]["json"]["n"] == 10


# -- the matrix over every route's table -------------------------------------------
JSON_ROUTES = [route for route in ROUTES if route != "audio_transcription"]
GEMINI_UNNUMBERED = (
    "gemini_generate_content",
    "gemini_stream_generate_content",
    "gemini_count_tokens",
    "gemini_batch_embed_contents",
    "vertex_generate_content",
    "vertex_stream_generate_content",
    "vertex_count_tokens",
    "vertex_predict",  # its numbers sit inside parameters
    "vertex_embed_content",
    # Bedrock's numbers sit inside inferenceConfig; InvokeModel's body is the model's own.
    "bedrock_converse",
    "bedrock_converse_stream",
    "bedrock_invoke",
    "bedrock_invoke_with_response_stream",
    "bedrock_invoke_embeddings",
)


@pytest.mark.parametrize("route", JSON_ROUTES)
def test_every_field_refuses_a_wrong_type(gateway, world, route):
    endpoint_for(world, route)
    problems = []
    for field, validator in SCHEMAS[route].items():
        value = wrong_type(validator)
        response = post(gateway, world, route, {**minimal_body(route), field: value})
        found = _param_and_code(route, response)
        if found != (field, "invalid_type"):
            problems.append((field, value, response.status_code, response.text[:200]))
    assert not problems
    assert world.upstream.stats()["total"] == 0


@pytest.mark.parametrize("route", JSON_ROUTES)
def test_every_number_is_bounded(gateway, world, route):
    endpoint_for(world, route)
    problems = []
    numbers = {f: v for f, v in SCHEMAS[route].items() if isinstance(v, Num)}
    # Gemini's numbers sit inside generationConfig and requests, which the provider checks.
    assert numbers or route in ("moderation", *GEMINI_UNNUMBERED), "every other route has numeric fields"
    for field, validator in numbers.items():
        word = "integer" if isinstance(validator, Int) else "decimal"
        step = 1 if isinstance(validator, Int) else 0.5
        for value, code in ((validator.maximum + step, "above_max"), (validator.minimum - step, "below_min")):
            response = post(gateway, world, route, {**minimal_body(route), field: value})
            if _param_and_code(route, response) != (field, f"{word}_{code}_value"):
                problems.append((field, value, response.status_code, response.text[:200]))
    assert not problems
    assert world.upstream.stats()["total"] == 0


@pytest.mark.parametrize("route", ROUTES)
def test_unknown_fields_are_refused_on_every_route(gateway, world, route):
    endpoint_for(world, route)
    for field in ("api_base", "api_key", "extra_headers", "mock_response", "fallbacks", "_target_order", "num_retries"):
        response = post(gateway, world, route, {**minimal_body(route), field: "x"})
        assert _param_and_code(route, response) == (field, "unknown_parameter"), (field, response.text)
    assert world.upstream.stats()["total"] == 0


@pytest.mark.parametrize("route", JSON_ROUTES)
def test_required_fields_are_required_on_every_route(gateway, world, route):
    endpoint_for(world, route)
    for field in REQUIRED_FIELDS[route]:
        body = {k: v for k, v in minimal_body(route).items() if k != field}
        response = post(gateway, world, route, body)
        assert _param_and_code(route, response) == (field, "missing_required_parameter"), (field, response.text)
    assert world.upstream.stats()["total"] == 0


@pytest.mark.parametrize("route", JSON_ROUTES)
def test_every_field_with_a_valid_value_reaches_the_provider(gateway, world, route):
    """The tables are not stricter than the APIs: a body using every field is served."""
    endpoint_for(world, route)
    body = {field: example(validator) for field, validator in SCHEMAS[route].items()}
    body.pop("stream", None), body.pop("stream_options", None)  # streaming has its own tests
    if route == "rerank":
        body.pop("max_chunks_per_doc")  # see the xfail below
    response = post(gateway, world, route, body)
    assert response.status_code == 200, response.text
    assert world.upstream.stats()["total"] >= 1


def test_a_field_the_provider_cannot_take_is_a_4xx(gateway, world):
    # LiteLLM's hosted_vllm rerank raises a bare ValueError for this Cohere-only field, before any call.
    endpoint_for(world, "rerank")
    response = post(gateway, world, "rerank", {"query": "q", "documents": ["a"], "max_chunks_per_doc": 2})
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "unsupported_by_provider"
    assert "Hosted VLLM does not support max_chunks_per_doc" in error["message"]
    assert world.upstream.stats()["total"] == 0


def _param_and_code(route: str, response: httpx.Response) -> tuple[str | None, str | None]:
    """(param, code) of a 400; Anthropic's shape has neither, so they are read back from its message."""
    if response.status_code != 400:
        return None, None
    if route.startswith("bedrock_"):  # AWS's shape, with the gateway's code and field beside its message
        return response.json().get("param"), response.json()["reason"]
    if route.startswith(
        ("gemini_", "vertex_")
    ):  # google.rpc.ErrorInfo: the code as its reason, the field in its metadata
        [info] = response.json()["error"]["details"]
        return info.get("metadata", {}).get("param"), info["reason"]
    if route != "anthropic_messages":
        error = response.json()["error"]
        return error["param"], error["code"]
    message = response.json()["error"]["message"]
    match = re.search(r"'([^']*)'|supplied: (\S+)$", message)
    param = (match.group(1) or match.group(2)) if match else None
    for start, code in ANTHROPIC_CODES:
        if message.startswith(start) or start in message:
            return param, code
    return param, message


# The OpenAI code each message of the shared vocabulary stands for.
ANTHROPIC_CODES = [
    ("Invalid type", "invalid_type"),
    ("Missing required", "missing_required_parameter"),
    ("Unrecognized", "unknown_parameter"),
    ("integer above maximum", "integer_above_max_value"),
    ("integer below minimum", "integer_below_min_value"),
    ("decimal above maximum", "decimal_above_max_value"),
    ("decimal below minimum", "decimal_below_min_value"),
]


# -- multipart (transcriptions): every field arrives as text --------------------------
@pytest.mark.parametrize(
    "fields, param, code",
    [
        ({"temperature": "hot"}, "temperature", "invalid_type"),
        ({"temperature": "nan"}, "temperature", "invalid_value"),
        ({"temperature": "2"}, "temperature", "decimal_above_max_value"),
        ({"response_format": "xml"}, "response_format", "invalid_value"),
        ({"timestamp_granularities[]": ["word", "minute"]}, "timestamp_granularities[1]", "invalid_value"),
        ({"api_base": "http://evil.example"}, "api_base", "unknown_parameter"),
    ],
)
def test_transcription_fields_are_typed(gateway, world, fields, param, code):
    endpoint_for(world, "audio_transcription")
    error = openai_error(post(gateway, world, "audio_transcription", fields), 400)
    assert (error["param"], error["code"]) == (param, code), error["message"]
    assert world.upstream.stats()["total"] == 0


def test_transcription_arrays_and_numbers_reach_the_provider(gateway, world):
    endpoint_for(world, "audio_transcription")
    fields = {"temperature": "0.5", "response_format": "verbose_json", "timestamp_granularities[]": ["word"]}
    response = post(gateway, world, "audio_transcription", fields)
    assert response.status_code == 200, response.text
    assert world.upstream.stats()["total"] == 1


def test_a_transcription_without_a_file_is_400(gateway, world):
    endpoint_for(world, "audio_transcription")
    response = httpx.post(
        f"{gateway.url}/v1/audio/transcriptions",
        headers={"Authorization": f"Bearer {world.token(world.alice)}"},
        data={"model": ENDPOINT},
        files={"other": ("a.wav", b"RIFF")},
        timeout=30,
    )
    error = openai_error(response, 400)
    assert (error["param"], error["code"]) == ("file", "missing_file")
