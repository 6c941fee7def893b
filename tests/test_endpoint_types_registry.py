"""The endpoint-type registry and every table derived from it or kept beside it agree.

``gatewaylib.endpoint_types`` is the one place a type or a route is added.
These tests fail when a table anywhere else names a route or a type the
registry lacks, lacks one it has, or says something else about it.
"""

from __future__ import annotations

import inspect

import pytest
from django.urls import resolve, reverse
from litellm import Router

from catalog import model_map
from catalog import services as catalog
from endpoints import probes
from endpoints.models import EndpointType
from endpoints.validation import ENDPOINT_MODES
from endpoints.views.snippets import EXAMPLES
from fakeupstream.server import create_app
from gatewaylib.endpoint_types import (
    ANTHROPIC,
    BEDROCK,
    ENDPOINT_TYPES,
    GEMINI,
    GOOGLE_WIRES,
    NATIVE_METHODS,
    NATIVE_WIRES,
    OPENAI,
    ROUTES,
    TYPES,
    VERTEX,
    per_route,
)
from proxy import allowlist, asgi, observe, upstreams
from proxy import routes as proxy_routes

ROUTE_NAMES = [route.name for entry in ENDPOINT_TYPES for route in entry.routes]


# -- the registry itself ---------------------------------------------------------------------------


def test_types_and_routes_are_unique():
    assert len(TYPES) == len(ENDPOINT_TYPES)
    assert list(ROUTES) == ROUTE_NAMES  # no route name used twice
    paths = [route.path for route in ROUTES.values()]
    # One URL, one route, but for a native method that serves several types (Bedrock's invoke).
    typed = [(route.path, proxy_routes.ROUTE_TYPES[name]) for name, route in ROUTES.items()]
    assert len(set(typed)) == len(typed)
    assert sorted(path for path in paths if paths.count(path) > 1) == ["/bedrock/model/{endpoint}/invoke"] * 2
    gemini = [route.path for route in ROUTES.values() if route.wire == GEMINI]
    vertex = [route.path for route in ROUTES.values() if route.wire == VERTEX]
    assert all(path.startswith("/gemini/v1beta/models/{endpoint}:") for path in gemini)
    assert all(path.startswith("/vertex_ai/v1/publishers/google/models/{endpoint}:") for path in vertex)
    bedrock = [route.path for route in ROUTES.values() if route.wire == BEDROCK]
    assert all(path.startswith("/bedrock/model/{endpoint}/") for path in bedrock)
    assert all(path.startswith("/v1/") for path in set(paths) - set(gemini) - set(vertex) - set(bedrock))
    for wire in NATIVE_WIRES:
        served = [name for by_type in NATIVE_METHODS[wire].values() for name in by_type.values()]
        assert sorted(served) == sorted(name for name, route in ROUTES.items() if route.wire == wire)
    assert dict(NATIVE_METHODS[BEDROCK]["invoke"]) == {
        "chat": "bedrock_invoke",
        "embedding": "bedrock_invoke_embeddings",
    }


@pytest.mark.parametrize("entry", ENDPOINT_TYPES, ids=lambda entry: entry.value)
def test_each_type_has_a_route_named_after_it_first(entry):
    # The invocations URL and the wrong-type error both take the type's value as its route.
    assert entry.routes and entry.routes[0].name == entry.value


@pytest.mark.parametrize("entry", ENDPOINT_TYPES, ids=lambda entry: entry.value)
def test_each_type_is_served_by_its_own_mode_and_only_modes_the_catalog_knows(entry):
    assert entry.value in entry.modes
    assert entry.modes <= set(catalog.known_modes())


@pytest.mark.parametrize("route", ROUTES.values(), ids=lambda route: route.name)
def test_each_route_names_a_router_coroutine_a_wire_format_and_required_fields(route):
    assert route.wire in (OPENAI, ANTHROPIC, GEMINI, VERTEX, BEDROCK)
    if route.wire in GOOGLE_WIRES:
        # The Router has no call for Gemini's API: it is passed through, to Gemini models only.
        assert (route.router_method, route.passthrough, route.native_method) == ("", True, route.path.split(":")[-1])
    elif route.wire == BEDROCK:
        assert (route.router_method, route.passthrough, route.native_method) == ("", True, route.path.split("/")[-1])
    elif route.name == "search":
        # LiteLLM's search API makes the call (proxy.search); the Router only chooses.
        assert (route.router_method, route.passthrough) == ("", False)
    else:
        assert inspect.iscoroutinefunction(getattr(Router, route.router_method))
    assert isinstance(route.required, tuple) and route.operation
    # countTokens takes contents or a whole request; InvokeModel the model's own format.
    assert route.required or route.name.endswith("_count_tokens") or route.name.startswith("bedrock_invoke")


def test_per_route_refuses_a_table_missing_a_route_or_naming_an_unknown_one():
    table = dict.fromkeys(reversed(ROUTE_NAMES), "x")
    assert list(per_route(table, "thing")) == ROUTE_NAMES
    del table["rerank"]
    with pytest.raises(LookupError, match=r"No thing for the route\(s\) rerank"):
        per_route(table, "thing")
    table["rerank"] = "x"
    with pytest.raises(LookupError, match="lacks: video"):
        per_route({**table, "video": "x"}, "thing")


# -- tables derived from it ------------------------------------------------------------------------


def test_the_model_choices_are_the_registry_in_its_order():
    assert EndpointType.choices == [(entry.value, entry.label) for entry in ENDPOINT_TYPES]
    assert EndpointType.CHAT == "chat"


def test_the_catalog_modes_are_the_registry():
    assert tuple(TYPES) == catalog.MODES
    assert dict(catalog.ENDPOINT_TYPE_MODES) == {entry.value: entry.modes for entry in ENDPOINT_TYPES}
    assert ENDPOINT_MODES is catalog.ENDPOINT_TYPE_MODES
    assert {entry.value for entry in ENDPOINT_TYPES if entry.streams} == model_map.STREAMING_MODES
    assert {entry.value for entry in ENDPOINT_TYPES if entry.one_token_probe} == probes.ONE_TOKEN_TYPES


def test_the_proxy_tables_have_every_route_and_no_other():
    for table in (
        proxy_routes.ROUTE_TYPES,
        proxy_routes.ROUTE_PATHS,
        proxy_routes.ROUTER_METHODS,
        allowlist.SCHEMAS,
        allowlist.ALLOWED_FIELDS,
        allowlist.REQUIRED_FIELDS,
        observe.OPERATIONS,
    ):
        assert list(table) == ROUTE_NAMES
    assert {r.name: e.value for e in ENDPOINT_TYPES for r in e.routes} == proxy_routes.ROUTE_TYPES
    assert {name: route.path for name, route in ROUTES.items()} == proxy_routes.ROUTE_PATHS
    assert {name: route.router_method for name, route in ROUTES.items()} == proxy_routes.ROUTER_METHODS
    assert {name: route.operation for name, route in ROUTES.items()} == observe.OPERATIONS


@pytest.mark.parametrize("route", ROUTES.values(), ids=lambda route: route.name)
def test_each_allowlist_schema_holds_its_required_fields_and_stream_only_if_it_streams(route):
    schema = allowlist.SCHEMAS[route.name]
    assert set(route.required) <= set(schema)
    assert allowlist.REQUIRED_FIELDS[route.name] == route.required
    # A stream is asked for with a field, except where the URL asks (streamGenerateContent).
    assert ("stream" in schema) == (route.streams and not route.always_streams)


def test_the_direct_path_forwards_the_passthrough_openai_routes_at_their_public_path():
    passthrough = {name: route for name, route in ROUTES.items() if route.passthrough and route.wire == OPENAI}
    assert {name: route.path.removeprefix("/v1") for name, route in passthrough.items()} == upstreams.OPENAI_PATHS


# -- tables kept elsewhere, keyed by route or type -------------------------------------------------


def test_every_route_is_mounted_under_asgi_and_django_at_its_path():
    fixed = {name: route for name, route in ROUTES.items() if not route.names_endpoint_in_path}
    assert {route.path: name for name, route in fixed.items()} == asgi.ROUTES
    for name, route in fixed.items():
        assert reverse(f"proxy:{name}") == route.path == route.url_for("ignored")
    for name, route in ROUTES.items() - fixed.items():
        url = route.url_for("my-endpoint").split("?")[0]
        match = proxy_routes.NATIVE_PATHS[route.wire].match(url)
        by_type = NATIVE_METHODS[route.wire][match["method"]]
        assert (match["endpoint"], by_type[proxy_routes.ROUTE_TYPES[name]]) == ("my-endpoint", name)
        found = resolve(url)
        expected = {"wire": route.wire, "endpoint": "my-endpoint", "method": match["method"]}
        assert (found.view_name, found.kwargs) == (f"proxy:{route.wire}", expected)


def test_the_fake_upstream_answers_every_route_path():
    # Without its own handler a path falls to the catch-all, and the route's tests cannot pass.
    served = {resource.canonical for resource in create_app().router.resources()}
    # A search goes to the search provider's own API (Tavily's, at the fake), not to /v1/search.
    assert {route.path for route in ROUTES.values() if route.wire not in NATIVE_WIRES} - {"/v1/search"} <= served
    assert "/search" in served
    assert "/model/{model}/{operation}" in served  # every Bedrock operation, by name
    assert "/v1beta/models/{model}:{method}" in served  # every Gemini method, by name
    assert "/v1/projects/{project}/locations/{location}/publishers/google/models/{model}:{method}" in served


def test_every_type_has_a_usage_example_at_its_route():
    assert set(EXAMPLES) == set(TYPES)
    for value, (path, _body, _sdk_call) in EXAMPLES.items():
        assert f"/v1/{path}" == TYPES[value].routes[0].path
