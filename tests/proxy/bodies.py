"""Request bodies for every proxy route, derived from the schema tables in ``proxy/allowlist.py``.

Shared by the bad-input tests and the proxy fuzzer: where each route lives,
an endpoint that can serve it, and a valid example or a wrongly typed value
for any validator.
"""

from __future__ import annotations

from typing import Any

import httpx

from gatewaylib.endpoint_types import BEDROCK, GEMINI, VERTEX
from gatewaylib.endpoint_types import ROUTES as REGISTRY
from proxy.allowlist import REQUIRED_FIELDS, SCHEMAS
from proxy.routes import ROUTE_TYPES
from proxy.validators import AnyOf, Anything, Arr, Bool, Int, Message, Num, Obj, Str, Upload, Validator
from tests.proxy.google_accounts import service_account_json

ROUTES = tuple(SCHEMAS)
CLAUDE_ON_BEDROCK = "anthropic.claude-3-5-haiku-20241022-v1:0"
ENDPOINT = "target"
AUDIO = ("hello.wav", b"RIFF" + b"0" * 100, "audio/wav")


def path(route: str) -> str:
    """Where ``route`` is called for the endpoint ``target`` (Gemini's URLs name it)."""
    return REGISTRY[route].url_for(ENDPOINT)


def names_model_in_body(route: str) -> bool:
    return not REGISTRY[route].names_endpoint_in_path


def endpoint_for(world, route: str):
    """A running endpoint named ``target`` that serves ``route`` through the fake upstream."""
    endpoint_type = ROUTE_TYPES[route]
    if REGISTRY[route].wire == GEMINI:  # Gemini's API passes through to Gemini models only
        key = world.make_key("gemini", name="gemini", secret="AIza-gemini-secret-000111", api_base=world.upstream.url)
        model = world.model(f"{endpoint_type}-model", key=key, provider="gemini")
    elif REGISTRY[route].wire == VERTEX:  # a service account's key, its token minted at the fake
        secret = service_account_json(world.upstream.url + "/token")
        fields = {"api_base": world.upstream.url, "region": "us-central1", "project": "key-project"}
        key = world.make_key("vertex_ai", name="vertex", secret=secret, **fields)
        model = world.model(f"{endpoint_type}-model", key=key, provider="vertex_ai")
    elif REGISTRY[route].wire == BEDROCK:  # an AWS access key, signing for its region
        fields = {"aws_access_key_id": "AKIABODIESTEST000001", "aws_secret_access_key": "bodies-secret-key-0001"}
        key = world.make_key(
            "bedrock", name="bedrock", secret="", region="us-west-2", api_base=world.upstream.url, **fields
        )
        name = "amazon.titan-embed-text-v2:0" if endpoint_type == "embedding" else CLAUDE_ON_BEDROCK
        model = world.model(name, key=key, provider="bedrock")
    elif endpoint_type == "search":  # Tavily's API, which LiteLLM's search API calls
        key = world.make_key("tavily", name="tavily", secret="tvly-bodies-secret-0001", api_base=world.upstream.url)
        model = world.model("search", key=key, provider="tavily")
    elif endpoint_type == "rerank":  # LiteLLM reranks through self-hosted providers, not openai
        key = world.make_key("hosted_vllm", name="vllm", secret="sk-vllm-secret-000111")
        model = world.model("reranker", key=key, provider="hosted_vllm")
    else:
        model = world.model(f"{endpoint_type}-model")
    return world.endpoint(name=ENDPOINT, endpoint_type=endpoint_type, models=[model])


def post(gateway, world, route: str, body: dict[str, Any] | None = None, **kwargs) -> httpx.Response:
    """POST ``body`` (JSON, or multipart for transcriptions) to the route's literal URL as alice."""
    headers = {"Authorization": f"Bearer {world.token(world.alice)}", **kwargs.pop("headers", {})}
    if body is not None and route == "audio_transcription":
        fields = {k: v for k, v in body.items() if k != "file"}
        kwargs["data"], kwargs["files"] = {"model": ENDPOINT, **fields}, {"file": body.get("file", AUDIO)}
    elif body is not None:
        kwargs["json"] = {"model": ENDPOINT, **body} if names_model_in_body(route) else body
    return httpx.post(f"{gateway.url}{path(route)}", headers=headers, timeout=60, **kwargs)


def example(validator: Validator) -> Any:
    """A small value ``validator`` accepts."""
    if isinstance(validator, Str):
        return sorted(validator.choices)[0] if validator.choices else "x" * max(validator.min_length, 1)
    if isinstance(validator, Bool):
        return False
    if isinstance(validator, Num):
        return validator.minimum if isinstance(validator, Int) else (validator.minimum + validator.maximum) / 2
    if isinstance(validator, Arr):
        return [] if validator.items is None else [example(validator.items)]
    if isinstance(validator, AnyOf):
        return example(validator.options[0])
    if isinstance(validator, Message):
        role, rule = next(iter(validator.roles.items()))
        return {"role": role, "content": example(rule.content)}
    if isinstance(validator, Obj):
        return {name: example(validator.fields[name]) for name in validator.required}
    if isinstance(validator, Upload):
        return AUDIO
    if isinstance(validator, Anything):
        return "x"
    raise TypeError(validator)


def minimal_body(route: str) -> dict[str, Any]:
    """The route's required fields with valid values (``user`` messages for chat, so they carry content)."""
    fields = SCHEMAS[route]
    return {name: example(fields[name]) for name in REQUIRED_FIELDS[route]}


WRONG_TYPES = (True, 7, 2.5, "text", [1], {"a": 1})


def wrong_type(validator: Validator) -> Any:
    """A JSON value of a type ``validator`` never accepts."""
    return next(v for v in WRONG_TYPES if type(v) not in validator.types and not _number_for(validator, v))


def _number_for(validator: Validator, value: Any) -> bool:
    # An integer is a fine number: 7 is not a wrong type for Num.
    return type(value) is int and float in validator.types
