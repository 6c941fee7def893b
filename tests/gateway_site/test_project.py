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
    assert len(api_routes) > 10, api_routes
    assert "/" + API_PREFIX + "endpoints/{}/revisions/{}/restore" in api_routes  # the conversion above works
    assert sorted(api_routes - documented) == []


@pytest.mark.django_db
def test_swagger_ui_is_served(client):
    assert client.get("/api/docs/").status_code == 200
