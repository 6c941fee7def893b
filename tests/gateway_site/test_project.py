"""Project-wide guards: migrations are complete and the schema documents every route."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_no_model_change_is_missing_a_migration():
    out = StringIO()
    try:
        call_command("makemigrations", "--check", "--dry-run", stdout=out, stderr=StringIO())
    except SystemExit as exc:  # makemigrations --check exits 1 when something is missing
        pytest.fail(f"Missing migrations:\n{out.getvalue()}" if exc.code else "")


API_PREFIX = "api/3.0/mlflow/gateway/"


def _routes(patterns, prefix: str = ""):
    """Every URL pattern under ``patterns``, as full route strings (includes followed)."""
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if hasattr(pattern, "url_patterns"):
            yield from _routes(pattern.url_patterns, route)
        else:
            yield route


def _as_schema_path(route: str) -> str:
    """``endpoints/(?P<pk>[^/.]+)/start/$`` or ``<str:pk>`` -> ``/endpoints/{}/start``.

    Parameters become ``{}``: the schema names them its own way (``pk`` is ``id`` there).
    """
    route = route.replace("^", "").replace("$", "").replace("/?", "/")
    route = re.sub(r"\(\?P<\w+>(?:[^()]|\([^()]*\))*\)", "{}", route)  # one level of nested groups
    route = re.sub(r"<(?:\w+:)?\w+>", "{}", route)
    return "/" + route.rstrip("/")


@pytest.mark.django_db
def test_the_openapi_schema_documents_every_api_route(client):
    from django.urls import get_resolver

    response = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    documented = {re.sub(r"\{\w+\}", "{}", path).rstrip("/") for path in response.json()["paths"]}
    api_routes = {
        _as_schema_path(route)
        for route in _routes(get_resolver().url_patterns)
        if route.startswith(API_PREFIX) and "format" not in route
    }
    assert "/" + API_PREFIX + "endpoints/{}/revisions/{}/restore" in api_routes  # the conversion above works
    # Both ways: a route the schema lacks, or a documented path no route serves, fails.
    assert sorted(api_routes) == sorted(documented)


@pytest.mark.parametrize(
    ("route", "schema_path"),
    [
        # A DRF router's regex: the whole path is kept, parameters become {} (nested groups included).
        (
            API_PREFIX + "^endpoints/(?P<pk>(?:[0-9a-fA-F]{32}|[0-9a-fA-F-]{36}))/start/?$",
            f"/{API_PREFIX}endpoints/{{}}/start",
        ),
        (
            API_PREFIX
            + "^endpoints/(?P<endpoint_pk>(?:[0-9a-fA-F]{32}|[0-9a-fA-F-]{36}))/requests/(?P<pk>[0-9]{1,18})/?$",
            f"/{API_PREFIX}endpoints/{{}}/requests/{{}}",
        ),
        (API_PREFIX + "^keys/?$", f"/{API_PREFIX}keys"),
        # A path() route with converters.
        (API_PREFIX + "teams/<str:pk>/members/<username>/", f"/{API_PREFIX}teams/{{}}/members/{{}}"),
        (API_PREFIX + "providers/list", f"/{API_PREFIX}providers/list"),
    ],
)
def test_routes_become_full_schema_paths(route, schema_path):
    assert _as_schema_path(route) == schema_path


@pytest.mark.django_db
def test_swagger_ui_is_served(client):
    assert client.get("/api/docs/").status_code == 200
