"""The API's answers outside the happy path match what its OpenAPI schema documents."""

from __future__ import annotations

import re

import pytest

from gateway_site.pagination import GatewayPagination

API = "/api/3.0/mlflow/gateway/"


@pytest.fixture
def schema(client):
    response = client.get("/api/schema/?format=json")
    assert response.status_code == 200
    return response.json()


@pytest.mark.django_db
@pytest.mark.parametrize("path", [f"{API}keys/not-a-hex-id/", f"{API}no-such-route", "/api/nothing"])
def test_an_api_path_matching_no_route_is_a_json_404(api, alice, path):
    # Regression (schema fuzz): URL resolution failed before any API view ran, so the API answered with HTML.
    response = api(alice).get(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Not found."}


@pytest.mark.django_db
def test_other_paths_keep_the_html_404(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


@pytest.mark.django_db
def test_every_hex_id_pattern_anchors_the_whole_id(schema):
    # Regression (schema fuzz): "^[hex]{32}|[hex-]{36}$" anchored each alternative at one end only.
    patterns = {
        param["schema"]["pattern"]
        for path in schema["paths"].values()
        for operation in path.values()
        if isinstance(operation, dict)
        for param in operation.get("parameters", [])
        if param["in"] == "path" and "a-f" in param["schema"].get("pattern", "")
    }
    assert patterns
    for pattern in patterns:
        assert re.search(pattern, "0" * 32)
        assert re.search(pattern, "12345678-1234-1234-1234-123456789abc")
        assert not re.search(pattern, "0" * 32 + "/../zz"), pattern
        assert not re.search(pattern, "zz/" + "0" * 32 + "0000"), pattern


@pytest.mark.django_db
def test_the_error_answers_are_documented(schema):
    # Regression (schema fuzz): only the success status of each operation was documented.
    paths = schema["paths"]
    key_detail = paths[f"{API}keys/{{id}}/"]
    assert {"401", "403", "404"} <= set(key_detail["get"]["responses"])
    assert {"400", "401", "403", "404"} <= set(key_detail["patch"]["responses"])
    assert {"400", "401", "403"} <= set(paths[f"{API}keys/"]["post"]["responses"])
    assert "404" not in paths[f"{API}keys/"]["get"]["responses"]
    # Pagination parameters are clamped, never rejected: no 400 for a list without filters.
    assert "400" not in paths[f"{API}tokens/"]["get"]["responses"]
    assert "400" in paths[f"{API}audit/"]["get"]["responses"]
    not_found = key_detail["get"]["responses"]["404"]["content"]["application/json"]["schema"]
    assert not_found == {"$ref": "#/components/schemas/ErrorDetail"}
    assert set(schema["components"]["schemas"]) >= {"ErrorDetail", "ValidationError"}


@pytest.mark.django_db
def test_the_limit_ceiling_is_documented(schema):
    limit = next(p for p in schema["paths"][f"{API}keys/"]["get"]["parameters"] if p["name"] == "limit")
    assert f"at most {GatewayPagination.max_limit}" in limit["description"]


@pytest.mark.django_db
def test_the_grant_level_is_documented_as_its_four_names(schema):
    level = schema["components"]["schemas"]["Grant"]["properties"]["level"]
    enum_ref = level["allOf"][0]["$ref"].rsplit("/", 1)[-1]
    assert schema["components"]["schemas"][enum_ref]["enum"] == ["READ", "USE", "EDIT", "MANAGE"]
