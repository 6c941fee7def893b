"""Fuzz every proxy route from its schema table: the gateway itself never answers 5xx.

Bodies are generated from ``proxy/allowlist.py``: each route's
required fields (usually valid), any subset of its other fields with valid
values, invalid ones (wrong types, out-of-range and huge numbers, unknown
choices, broken messages) or arbitrary JSON (deep nesting, NaN, unicode,
NUL, lone surrogates), and now and then a field outside the allowlist. They
go over real HTTP to the in-thread gateway and on to the fake upstream,
which accepts everything, so every answer must be below 500 (but for routes
the fake lacks, see ``FAKE_UPSTREAM_GAPS``). A 4xx of the gateway's own (not
a provider's) must also leave the upstream untouched.

Reproducible: ``derandomize=True`` gives the same cases on every run.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway_site.parsers import MAX_JSON_DEPTH
from proxy.allowlist import REQUIRED_FIELDS, SCHEMAS
from proxy.validators import AnyOf, Arr, Bool, Int, Message, Num, Obj, Part, Str, Upload, Validator
from tests.proxy.bodies import AUDIO, ENDPOINT, ROUTES, endpoint_for, names_model_in_body, path

FUZZ_SETTINGS = settings(
    max_examples=30,  # per route: nine routes in about half a minute on a busy two-core machine
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)

TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)  # any unicode, NUL included
# Lone surrogates too (sent as \ud800 escapes), often enough to matter.
WILD_TEXT = st.text(st.characters(), max_size=12) | st.sampled_from(["\ud800", "a\udfffb", "\x00"])
HUGE = st.integers(min_value=10**18, max_value=10**300) | st.integers(max_value=-(10**18), min_value=-(10**300))
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | HUGE
    | st.floats(allow_nan=True, allow_infinity=True)
    | WILD_TEXT
)
WILD = st.recursive(
    SCALARS, lambda kids: st.lists(kids, max_size=3) | st.dictionaries(TEXT, kids, max_size=3), max_leaves=8
)


# Well-formed JSON of any shape: what a valid value of an open object or array may hold.
JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.floats(allow_nan=False, allow_infinity=False) | TEXT,
    lambda kids: st.lists(kids, max_size=3) | st.dictionaries(TEXT, kids, max_size=3),
    max_leaves=8,
)


def nested(depth: int) -> Any:
    value: Any = "bottom"
    for level in range(depth):
        value = [value] if level % 2 else {"k": value}
    return value


BY_TYPE: dict[type, st.SearchStrategy] = {
    bool: st.booleans(),
    int: st.integers(-(2**70), 2**70) | HUGE,
    float: st.floats(allow_nan=True, allow_infinity=True),
    str: WILD_TEXT,
    list: st.lists(WILD, max_size=2),
    dict: st.dictionaries(TEXT, WILD, max_size=2),
}
DEEP = st.integers(MAX_JSON_DEPTH - 5, MAX_JSON_DEPTH + 30).map(nested)
ANYTHING = WILD | DEEP


# -- strategies from the validators -------------------------------------------------
def valid(v: Validator) -> st.SearchStrategy:
    if isinstance(v, Str):
        if v.choices:
            return st.sampled_from(sorted(v.choices))
        return st.text(st.characters(exclude_categories=("Cs",)), min_size=max(v.min_length, 0), max_size=12)
    if isinstance(v, Bool):
        return st.booleans()
    if isinstance(v, Int):
        return st.integers(int(v.minimum), int(v.maximum))
    if isinstance(v, Num):
        return st.floats(v.minimum, v.maximum) | st.integers(math.ceil(v.minimum), math.floor(v.maximum))
    if isinstance(v, Arr):
        return st.lists(valid(v.items) if v.items else JSON, max_size=3)
    if isinstance(v, AnyOf):
        return st.one_of([valid(option) for option in v.options])
    if isinstance(v, Message):
        return st.sampled_from(sorted(v.roles)).flatmap(lambda role: _message(v, role))
    if isinstance(v, Part):
        kind = v.fields["type"]
        payloads = st.sampled_from(sorted(set(v.fields) - {"type"}))
        kinds = valid(kind) if kind.choices else payloads | valid(kind)
        return kinds.flatmap(lambda name: _part(v, name))
    if isinstance(v, Obj):
        if v.values is not None:
            return st.dictionaries(TEXT, valid(v.values), max_size=3)
        if not v.fields:
            return st.dictionaries(TEXT, JSON, max_size=3)
        required = {name: valid(v.fields[name]) for name in v.required}
        optional = {name: valid(f) for name, f in v.fields.items() if name not in v.required}
        return st.fixed_dictionaries(required, optional=optional)
    if isinstance(v, Upload):
        return st.just(AUDIO)
    raise TypeError(v)


def _message(v: Message, role: str) -> st.SearchStrategy:
    rule = v.roles[role]
    content = valid(rule.content)
    fields = {"role": st.just(role), "content": content} if rule.required else {"role": st.just(role)}
    optional = {name: valid(f) for name, f in v.fields.items()}
    if not rule.required:
        optional["content"] = content | st.none()
    return st.fixed_dictionaries(fields, optional=optional)


def _part(v: Part, kind: str) -> st.SearchStrategy:
    required = {"type": st.just(kind)}
    if kind in v.fields and kind != "type":
        required[kind] = valid(v.fields[kind])
    return st.fixed_dictionaries(required, optional={n: valid(f) for n, f in v.fields.items() if n not in required})


def invalid(v: Validator) -> st.SearchStrategy:
    """Values ``v`` should refuse (some may slip through an ``AnyOf``; the test only needs no 5xx)."""
    wrong_type = st.one_of([strategy for kind, strategy in BY_TYPE.items() if kind not in v.types])
    if isinstance(v, Str) and v.choices:
        return wrong_type | TEXT.filter(lambda x: x not in v.choices)
    if isinstance(v, Num):
        below, above = float(v.minimum) - 1, float(v.maximum) + 1
        out = st.floats(max_value=below) | st.floats(min_value=above) | HUGE
        return wrong_type | out | st.sampled_from([math.nan, math.inf, -math.inf, True])
    if isinstance(v, Arr):
        inner = invalid(v.items) if v.items else WILD
        return wrong_type | st.lists(inner, min_size=1, max_size=3)
    if isinstance(v, AnyOf):
        return st.one_of([invalid(option) for option in v.options])
    if isinstance(v, Message):
        roles = st.sampled_from(sorted(v.roles))
        return (
            wrong_type
            | st.fixed_dictionaries({"role": TEXT | WILD, "content": WILD})
            | st.fixed_dictionaries({"role": roles, "content": WILD})
            | st.fixed_dictionaries({"content": TEXT})
        )
    if isinstance(v, Obj) and v.fields:
        known = st.sampled_from(sorted(v.fields))
        broken_key = known.flatmap(lambda k: st.fixed_dictionaries({k: invalid(v.fields[k])}))
        return wrong_type | broken_key
    return wrong_type


def field_value(v: Validator) -> st.SearchStrategy:
    return st.one_of(valid(v), valid(v), invalid(v), ANYTHING)


# Fields left out of the fuzz because the fuzz endpoint's provider refuses them
# (a 400, tested in test_bad_input.py): with them, nearly every valid body would
# be refused and the fuzz would stop reaching the upstream.
UNSUPPORTED_BY_FUZZ_PROVIDER = {"rerank": {"max_chunks_per_doc"}}  # hosted_vllm


# Routes the fake upstream does not serve. LiteLLM sends /v1/messages with
# ``thinking`` enabled to OpenAI's Responses API; the fake answers 404 there,
# so that 502 is the fake's, and the upstream really was called.
FAKE_UPSTREAM_GAPS = {"/v1/responses"}


def bodies(route: str) -> st.SearchStrategy:
    """A third each: valid bodies, valid but for one field, and anything-goes bodies."""
    table, required = SCHEMAS[route], REQUIRED_FIELDS[route]
    fields = {name: v for name, v in table.items() if name not in UNSUPPORTED_BY_FUZZ_PROVIDER.get(route, ())}
    optional = [name for name in fields if name not in required]
    good = st.fixed_dictionaries(
        {name: valid(table[name]) for name in required}, optional={name: valid(fields[name]) for name in optional}
    )
    names = st.sampled_from([*sorted(fields), "not_a_field"])
    one_bad = st.tuples(good, names).flatmap(
        lambda pair: _broken(fields.get(pair[1])).map(lambda bad: {**pair[0], pair[1]: bad})
    )
    chaos = st.fixed_dictionaries(
        {}, optional={name: field_value(v) for name, v in fields.items()} | {"not_a_field": ANYTHING}
    )
    return st.one_of(good, one_bad, chaos)


def _broken(v: Validator | None) -> st.SearchStrategy:
    return ANYTHING if v is None else invalid(v) | ANYTHING


# -- sending ----------------------------------------------------------------------
def send(gateway, token: str, route: str, body: dict[str, Any]) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"}
    url = f"{gateway.url}{path(route)}"
    if route == "audio_transcription":
        data, files = _form(body)
        return httpx.post(url, headers=headers, data=data, files=files, timeout=60)
    # allow_nan: NaN/Infinity go out as the tokens Python would accept; ensure_ascii escapes surrogates.
    raw = json.dumps({"model": ENDPOINT, **body} if names_model_in_body(route) else body, allow_nan=True)
    return httpx.post(url, headers={**headers, "content-type": "application/json"}, content=raw, timeout=60)


def _form(body: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Multipart the way the SDKs send it: text fields, arrays as ``name[]``, the file as a part."""
    data: dict[str, Any] = {"model": ENDPOINT}
    for name, value in body.items():
        if name == "file":
            continue
        if isinstance(value, list):
            data[f"{name}[]"] = [_text(item) for item in value]
        else:
            data[name] = _text(value)
    file = body.get("file")
    files = {"file": file if isinstance(file, tuple) else AUDIO} if "file" in body else {}
    return data, files


def _text(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, allow_nan=True)
    return text.encode("utf-8", "replace").decode()


def _gateway_code(route: str, response: httpx.Response) -> str:
    """The gateway's own error code: OpenAI's ``code``, the reason of Google's ErrorInfo, or AWS's body's."""
    if route.startswith("bedrock_"):
        return response.json()["reason"]
    error = response.json()["error"]
    if route.startswith(("gemini_", "vertex_")):
        return error["details"][0]["reason"]
    return error["code"] or ""


@pytest.mark.parametrize("route", ROUTES)
def test_the_gateway_never_answers_5xx(gateway, world, route):
    endpoint_for(world, route)
    token = world.token(world.alice)
    statuses: Counter[int] = Counter()

    @FUZZ_SETTINGS
    @given(body=bodies(route))
    def check(body):
        before = world.upstream.stats()
        response = send(gateway, token, route, body)
        after = world.upstream.stats()
        statuses[response.status_code] += 1
        if response.status_code >= 500:
            called = {p for p, n in after["paths"].items() if n > before["paths"].get(p, 0)}
            assert called & FAKE_UPSTREAM_GAPS, (response.status_code, response.text[:300], repr(body)[:1500])
        elif response.status_code >= 400 and route != "anthropic_messages":
            # Refused by the gateway (not passed on from the provider): nothing was sent.
            refused_here = not _gateway_code(route, response).startswith("provider_")
            assert not refused_here or after["total"] == before["total"], ("refused but sent upstream", response.text)

    check()
    # The mix shows the fuzz got past validation as well as into it.
    assert statuses[200] and statuses[400], statuses
