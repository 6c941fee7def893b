"""Strict JSON for request bodies, shared by the API (a DRF parser) and the proxy.

Python's ``json`` accepts ``NaN``/``Infinity`` (not JSON), turns ``1e400``
into ``inf``, lets ``"\ud800"`` through as a lone surrogate (not Unicode: it
fails later, when the string is encoded for a provider, a log or the
database), and raises ``RecursionError`` (not ``ValueError``) on deeply
nested input. Each of these ended as a 500 or a 502. ``strict_loads`` makes
them all a ``ValueError`` and also caps nesting well below the recursion
limit, so nothing downstream (serializers, LiteLLM's copies, ``json.dumps``)
recurses that far either.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser, get_encoding

MAX_JSON_DEPTH = 64
_CONTAINERS = (dict, list)
# A \uD800-\uDFFF escape; only then can the parsed strings hold a surrogate.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


class JSONTooDeep(ValueError):
    """The document nests objects/arrays more than ``MAX_JSON_DEPTH`` levels."""


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {text[:40]} is out of range")
    return value


# Built once: ``json.loads(..., parse_constant=...)`` would build a decoder per call.
_decoder = json.JSONDecoder(parse_constant=_no_constant, parse_float=_finite_float)


def strict_loads(data: bytes | str, *, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """``json.loads`` raising ``ValueError`` for NaN/Infinity, overflowing numbers, lone surrogates, deep nesting."""
    # Strict decoding (json.loads passes surrogates through), so only a
    # \uXXXX escape can still produce one.
    text = data if isinstance(data, str) else data.decode(json.detect_encoding(data))
    try:
        value = _decoder.decode(text)
    except RecursionError:
        raise JSONTooDeep(f"nested more than {max_depth} levels deep") from None
    # Nesting cannot exceed the number of brackets: counting them (C speed)
    # spares the walk for almost every body.
    if len(text) > 2 * max_depth and _brackets(text) > max_depth and _too_deep(value, max_depth):
        raise JSONTooDeep(f"nested more than {max_depth} levels deep")
    if _SURROGATE_ESCAPE.search(text) and _has_lone_surrogate(value):
        # Escaped pairs (emoji) are fine; a lone one is not Unicode and fails
        # later when encoded (upstream calls, logs, PostgreSQL).
        raise ValueError("a string holds a lone UTF-16 surrogate escape, which is not Unicode")
    return value


def _has_lone_surrogate(value: Any) -> bool:
    try:
        json.dumps(value, ensure_ascii=False).encode()
    except UnicodeEncodeError:
        return True
    return False


def _brackets(text: str) -> int:
    return text.count("[") + text.count("{")


def _too_deep(value: Any, limit: int) -> bool:
    return type(value) in _CONTAINERS and not _within(value, limit)


def _within(node: dict | list, budget: int) -> bool:
    # Recursion is bounded by ``budget`` (the cap), never by the input.
    if budget == 0:
        return False
    for child in node.values() if type(node) is dict else node:
        if type(child) in _CONTAINERS and not _within(child, budget - 1):
            return False
    return True


class StrictJSONParser(JSONParser):
    """DRF's JSON parser with ``strict_loads``: bad numbers and deep nesting are a 400, not a 500."""

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = get_encoding(parser_context or {})
        try:
            return strict_loads(stream.read().decode(encoding))
        except ValueError as exc:  # UnicodeDecodeError and JSONDecodeError included
            raise ParseError(f"JSON parse error - {exc}") from None
