"""Strict JSON: what the API and the proxy refuse while parsing, and the API's 400 for it."""

from __future__ import annotations

import json

import pytest
from rest_framework.exceptions import ParseError

from gateway_site.parsers import MAX_JSON_DEPTH, JSONTooDeep, StrictJSONParser, strict_loads

API = "/api/3.0/mlflow/gateway/"


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize("text", ["NaN", "Infinity", "-Infinity", "[1e400]", '{"a": -1e999}'])
def test_non_finite_numbers_are_not_json(text):
    with pytest.raises(ValueError):
        strict_loads(text)


def test_nesting_is_capped_at_the_limit_exactly():
    assert strict_loads(nested(MAX_JSON_DEPTH)) is not None
    with pytest.raises(JSONTooDeep):
        strict_loads(nested(MAX_JSON_DEPTH + 1))
    with pytest.raises(JSONTooDeep):  # past the interpreter's recursion limit: json's RecursionError
        strict_loads(nested(100_000))


def test_brackets_inside_strings_do_not_count_as_nesting():
    assert strict_loads(json.dumps({"text": "[{" * 1000})) == {"text": "[{" * 1000}
    assert strict_loads(json.dumps([[1, 2]] * 1000)) == [[1, 2]] * 1000  # many brackets, shallow


@pytest.mark.parametrize("raw", [b'"\\ud800"', b'{"\\uDFFF": 1}', b'["a\\udc00b"]', b'"\xed\xa0\x80"'])
def test_lone_surrogates_are_not_json(raw):
    with pytest.raises(ValueError):
        strict_loads(raw)


def test_escaped_surrogate_pairs_and_escaped_backslashes_are_fine():
    assert strict_loads(b'"\\ud83d\\ude00"') == "\N{GRINNING FACE}"
    assert strict_loads(b'"\\\\ud800"') == "\\ud800"  # a backslash, then the text "ud800"


def test_ordinary_json_is_unchanged():
    body = {"a": [1, 2.5, -3e10, True, None, "é\u0000"], "b": {"c": {}}}
    assert strict_loads(json.dumps(body).encode()) == body
    assert strict_loads(json.dumps(body).encode("utf-16")) == body  # json.loads' encodings still work


@pytest.mark.parametrize("raw", [nested(100_000).encode(), b'{"name": NaN}', b"[1e400]", b"\xff"])
def test_the_drf_parser_turns_them_into_a_parse_error(raw):
    import io

    with pytest.raises(ParseError):
        StrictJSONParser().parse(io.BytesIO(raw), "application/json", {})


@pytest.mark.django_db
@pytest.mark.parametrize(
    "raw, detail",
    [
        ('{"name": ' + nested(100_000) + "}", f"JSON parse error - nested more than {MAX_JSON_DEPTH} levels deep"),
        ('{"name": "k", "provider": "openai", "secret": NaN}', "JSON parse error - NaN is not a JSON value"),
        ('{"name": 1e400}', "JSON parse error - the number 1e400 is out of range"),
        (
            '{"name": "\\ud800"}',
            "JSON parse error - a string holds a lone UTF-16 surrogate escape, which is not Unicode",
        ),
    ],
)
def test_the_api_answers_400_for_them(api, alice, raw, detail):
    response = api(alice).post(f"{API}keys/", data=raw, content_type="application/json")
    assert response.status_code == 400, response.content
    assert response.json() == {"detail": detail}
