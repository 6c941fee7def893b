"""Fuzz every API operation against the OpenAPI schema the app itself serves.

Schemathesis reads ``/api/schema/`` from the in-process WSGI app and, for
each operation, generates requests (valid and invalid) from the declared
parameters and bodies. Every response must not be a 5xx, must use a
documented status code and content type, and must match the documented body:
bad input gets a 400 with field errors, never a 500.

The caller is a real user authenticated with a real gateway token. Each
Hypothesis example runs in a savepoint that is rolled back, so a DELETE or a
permission change in one example never starves the next: every example
starts from the same seeded rows (the user, their token, a key they manage and
its audit event, a team, and an endpoint on a second key with its model, a
binding and a logged request). Detail routes get a seeded object's id about half the
time and bodies and query strings get values the server knows (a catalog
provider, an existing user, the seeded key's id, inside an endpoint's models
too) mixed in, so the fuzzer gets past lookups and validation into the view
code.

Nothing leaves the process: names in an ``api_base`` resolve through a stub
(``gatewaylib.netguard.resolve``) to a public address, the seeded key points
at the fake upstream (``keys/{id}/test/`` connects there), and starting an
endpoint probes nothing (``GATEWAY_START_PROBES=off``; its task would only run
on a commit, which a rolled-back example never reaches).

Reproducible: ``derandomize=True`` gives the same cases on every run and in CI.
"""

from __future__ import annotations

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    allow_header_conformance,
    content_type_conformance,
    ignored_auth,
    missing_required_header,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)

from audit.models import AuditEvent
from endpoints import services as endpoint_services
from endpoints.models import RequestLog
from endpoints.validation import ModelSpec
from gateway_site.parsers import MAX_JSON_DEPTH
from gateway_site.wsgi import application
from gatewaylib import netguard
from keys import services as key_services
from keys.models import Key
from teams import services as team_services
from tests.factories import make_group, make_user
from tokens import services as token_services

API = "/api/3.0/mlflow/gateway/"

# Routes left out of the fuzz (none today). Each one named here must say why.
FUZZ_EXCLUDED_PATH_PREFIXES: tuple[str, ...] = ()

FUZZ_SETTINGS = settings(
    max_examples=30,  # per operation, for the fuzzing phase (the examples and coverage phases add their own cases)
    deadline=None,
    derandomize=True,
    database=None,
    # The seeded rows come from a function-scoped fixture on purpose: every
    # example rolls its own writes back (see the test body), so the examples
    # share the fixture safely.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)

# Not checked, because they are noisy for legitimate reasons:
# * positive_data_acceptance: a schema-valid request may still be refused for
#   facts the schema cannot state: a provider the catalog lacks, a user that
#   does not exist, an ``expires_at`` in the past, "exactly one of user/group".
# * negative_data_rejection: lenient inputs are answered, not refused, on
#   purpose: a malformed ``limit``/``offset`` falls back to the default page
#   (DRF pagination) and an empty filter (``?since=``) means "no filter".
# use_after_free / ensure_resource_availability need the stateful runner, which
# this per-operation test does not use.
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
    allow_header_conformance,
    unsupported_method,
    missing_required_header,
    ignored_auth,
]

# Values the server accepts for fields whose valid set the schema cannot state.
KNOWN_GOOD_VALUES: dict[str, list[str]] = {
    "provider": ["openai", "anthropic"],
    "mode": ["chat", "embedding"],
    "endpoint_type": ["chat", "embedding"],
    "model_name": ["gpt-4o", "text-embedding-3-small"],
    "resource_type": ["scorer"],
    "user": ["teammate"],
    "group": ["fuzzers"],
}
# Known-good values that only exist once the rows are seeded (the key's id).
_seeded_values: dict[str, list[str]] = {}

# Path prefix -> id of the seeded object detail routes under it can aim at
# (the longest matching prefix wins). Filled by the ``fuzz_caller`` fixture;
# read by the path-parameter hook while the test runs.
_seeded_ids: dict[str, str] = {}
# Path parameters other than ``id``: the seeded value each one can take.
_seeded_path_values: dict[str, str] = {}

# Fewer examples for the endpoint routes, which are many: the fuzz must stay
# quick (the examples and coverage phases still send their own cases).
ENDPOINT_MAX_EXAMPLES = 10


def _excluded(ctx) -> bool:
    return ctx.operation.path.startswith(FUZZ_EXCLUDED_PATH_PREFIXES)


schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application).exclude(_excluded)


def _seeded_id(path: str) -> str | None:
    matches = [prefix for prefix in _seeded_ids if path.startswith(prefix)]
    return _seeded_ids[max(matches, key=len)] if matches else None


@schema.hook
def flatmap_path_parameters(context, path_parameters):
    """Half the time, aim a detail route at an object that exists (and that the caller manages)."""
    if not isinstance(path_parameters, dict):
        return st.just(path_parameters)
    seeded = {name: value for name, value in _seeded_path_values.items() if name in path_parameters}
    if "id" in path_parameters and (object_id := _seeded_id(context.operation.path)) is not None:
        seeded["id"] = object_id
    if not seeded:
        return st.just(path_parameters)
    return st.sampled_from([path_parameters, {**path_parameters, **seeded}])


def _mix_in_known_good(values):
    """Sometimes swap in a value the server knows, in the object and in the objects of its lists."""
    if not isinstance(values, dict):
        return st.just(values)
    known = {**KNOWN_GOOD_VALUES, **_seeded_values}
    choices = {name: st.sampled_from([value, *known[name]]) for name, value in values.items() if name in known}
    for name, value in values.items():
        if isinstance(value, list) and value and all(isinstance(item, dict) for item in value):
            choices[name] = st.tuples(*(_mix_in_known_good(item) for item in value)).map(list)
    if not choices:
        return st.just(values)
    return st.fixed_dictionaries(choices).map(lambda picked: {**values, **picked})


@schema.hook
def flatmap_body(context, body):
    return _mix_in_known_good(body)


@schema.hook
def flatmap_query(context, query):
    return _mix_in_known_good(query)


PUBLIC_ADDRESS = "93.184.216.34"


@pytest.fixture
def _no_dns(monkeypatch):
    """Every name an ``api_base`` holds resolves to a public address, without asking a real resolver."""
    monkeypatch.setattr(netguard, "resolve", lambda host, port: [PUBLIC_ADDRESS])


@pytest.fixture
def fuzz_caller(db, upstream, _no_dns):
    """Headers authenticating as a user with a gateway token, a managed key, a teammate, a group, a team
    and an endpoint (one model on the key, a binding, a logged request).

    The key points at the fake upstream: ``keys/{id}/test/`` connects to it, never to a real provider.
    """
    user = make_user("fuzzer")
    make_user("teammate")
    make_group("fuzzers")
    token, plaintext = token_services.create_token(user, "fuzz")
    key = key_services.create_key(
        actor=user, name="fuzz-key", provider="openai", secret="sk-fuzz-0123456789abcdef", api_base=upstream.base_url
    )
    team = team_services.create_team(actor=user, name="fuzz-team")
    # On a key of its own: the seeded key stays deletable (a key in use answers 409, see below).
    endpoint_key = key_services.create_key(
        actor=user,
        name="fuzz-endpoint-key",
        provider="openai",
        secret="sk-fuzz-0123456789ENDP",
        api_base=upstream.base_url,
    )
    endpoint = endpoint_services.create_endpoint(
        actor=user,
        name="fuzz-endpoint",
        endpoint_type="chat",
        models=[ModelSpec(provider="openai", model_name="gpt-4o", key_id=endpoint_key.public_id)],
    )
    endpoint_services.add_binding(endpoint, actor=user, resource_type="scorer", resource_id="fuzz-1")
    log = RequestLog.objects.create(
        endpoint=endpoint,
        model_served="openai/gpt-4o",
        status_code=200,
        latency_ms=10.0,
        created_at=endpoint.created_at,
    )
    _seeded_ids.clear()
    _seeded_ids[f"{API}keys/"] = key.public_id
    _seeded_ids[f"{API}teams/"] = team.public_id
    _seeded_ids[f"{API}tokens/"] = token.id.hex
    _seeded_ids[f"{API}audit/"] = AuditEvent.objects.get(object_id=key.pk, action="create").id.hex
    _seeded_ids[f"{API}endpoints/"] = endpoint.public_id
    _seeded_ids[f"{API}endpoints/{{endpoint_pk}}/models/"] = endpoint.models.get().public_id
    _seeded_ids[f"{API}endpoints/{{endpoint_pk}}/requests/"] = str(log.pk)
    _seeded_path_values.update(endpoint_pk=endpoint.public_id, number="1", username="fuzzer")
    _seeded_values["key_id"] = [key.public_id]
    yield {"Authorization": f"Bearer {plaintext}"}
    _seeded_ids.clear()
    _seeded_path_values.clear()
    _seeded_values.clear()


@pytest.fixture
def _keep_test_connection():
    """Keep Django from closing the test's connection around each WSGI request.

    The requests go through the real WSGI handler, whose request signals run
    ``close_old_connections``: that would close the connection the test
    transaction lives on. Django's own test client disconnects it the same way.
    """
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def _is_endpoint_route(ctx) -> bool:
    return ctx.operation.path.startswith(f"{API}endpoints")


def _call_and_validate(case, headers) -> None:
    with transaction.atomic():  # a savepoint: each example starts from the seeded rows
        case.call_and_validate(headers=headers, checks=CHECKS)
        transaction.set_rollback(True)


@pytest.mark.django_db
@pytest.mark.usefixtures("_keep_test_connection")
@schema.exclude(_is_endpoint_route).parametrize()
@FUZZ_SETTINGS
def test_api_conforms_to_its_schema(case, fuzz_caller):
    _call_and_validate(case, fuzz_caller)


@pytest.mark.django_db
@pytest.mark.usefixtures("_keep_test_connection")
@schema.include(_is_endpoint_route).parametrize()
@settings(FUZZ_SETTINGS, max_examples=ENDPOINT_MAX_EXAMPLES)
def test_the_endpoint_api_conforms_to_its_schema(case, fuzz_caller):
    _call_and_validate(case, fuzz_caller)


def test_the_fuzz_covers_every_operation_outside_the_exclusions():
    """Guards the filter: the excluded prefixes drop only what they name."""
    fuzzed = {operation.ok().path for operation in schema.get_all_operations()}
    assert fuzzed, "the schema exposes no operation to fuzz"
    assert not any(path.startswith(FUZZ_EXCLUDED_PATH_PREFIXES) for path in fuzzed)
    for prefix in ("keys/", "tokens/", "teams/", "audit/", "providers/list", "models/list", "endpoints/"):
        assert any(path.startswith(f"{API}{prefix}") for path in fuzzed), prefix
    # Every endpoint route: the resource, its actions and the nested models and request log.
    endpoint_paths = {path.removeprefix(API) for path in fuzzed if path.startswith(f"{API}endpoints")}
    assert endpoint_paths == {
        "endpoints/",
        "endpoints/export/",
        "endpoints/import/",
        "endpoints/{id}/",
        "endpoints/{id}/bindings/",
        "endpoints/{id}/permissions/",
        "endpoints/{id}/revisions/",
        "endpoints/{id}/revisions/{number}/restore/",
        "endpoints/{id}/start/",
        "endpoints/{id}/status/",
        "endpoints/{id}/stop/",
        "endpoints/{endpoint_pk}/models/",
        "endpoints/{endpoint_pk}/models/{id}/",
        "endpoints/{endpoint_pk}/requests/",
        "endpoints/{endpoint_pk}/requests/{id}/",
    }


# -- answers the fuzz found undocumented once, pinned exactly ----------------------------------------


def _documented(client, method: str, path: str) -> dict:
    operation = client.get("/api/schema/?format=json").json()["paths"][path][method.lower()]
    return operation["responses"]


@pytest.fixture
def seeded(fuzz_caller):
    """The seeded ids, and a client authenticated like the fuzz."""
    values = {name: values[0] for name, values in _seeded_values.items()}
    return {**_seeded_ids, **_seeded_path_values, **values}, fuzz_caller


@pytest.mark.django_db
def test_an_endpoint_models_field_error_points_at_the_model(client, seeded):
    ids, headers = seeded
    body = {"name": "x", "endpoint_type": "chat", "models": [{"model_name": "gpt-4o", "key_id": ids["key_id"]}]}
    response = client.post(f"{API}endpoints/", body, content_type="application/json", headers=headers)
    assert response.status_code == 400
    assert response.json() == {"models": {"0": {"provider": ["This field is required."]}}}


@pytest.mark.django_db
def test_an_added_models_field_error_is_about_that_model(client, seeded):
    ids, headers = seeded
    body = {"provider": "openai", "model_name": "gpt-4o", "key_id": ids["key_id"], "weight": 3600}
    response = client.post(
        f"{API}endpoints/{ids['endpoint_pk']}/models/", body, content_type="application/json", headers=headers
    )
    assert response.status_code == 400
    assert response.json() == {"weight": ["The weight must be at most 1."]}


@pytest.mark.django_db
def test_deleting_a_bound_endpoint_answers_a_documented_409(client, seeded):
    ids, headers = seeded
    response = client.delete(f"{API}endpoints/{ids['endpoint_pk']}/", headers=headers)
    assert response.status_code == 409
    assert response.json()["detail"] == "This endpoint is in use; pass ?force=true to delete it anyway."
    assert "409" in _documented(client, "DELETE", f"{API}endpoints/{{id}}/")


@pytest.mark.django_db
def test_deleting_a_key_in_use_answers_a_documented_status(client, seeded):
    ids, headers = seeded
    in_use = Key.objects.get(name="fuzz-endpoint-key")
    response = client.delete(f"{API}keys/{in_use.public_id}/", headers=headers)
    assert response.status_code == 409
    assert response.json() == {
        "detail": "This key is used by endpoints; remove it from them first.",
        "endpoints": ["fuzz-endpoint"],
        "hidden_endpoints": 0,
    }
    assert "409" in _documented(client, "DELETE", f"{API}keys/{{id}}/")


@pytest.mark.django_db
def test_removing_the_last_model_answers_a_documented_400(client, seeded):
    ids, headers = seeded
    path = f"{API}endpoints/{ids['endpoint_pk']}/models/{_seeded_ids[f'{API}endpoints/{{endpoint_pk}}/models/']}/"
    response = client.delete(path, headers=headers)
    assert response.status_code == 400
    assert response.json() == {"models": ["An endpoint needs at least one model."]}
    assert "400" in _documented(client, "DELETE", f"{API}endpoints/{{endpoint_pk}}/models/{{id}}/")


@pytest.mark.django_db
@pytest.mark.parametrize("action", ["bindings", "revisions"])
def test_an_endpoint_action_list_is_documented_as_a_list(client, seeded, action):
    ids, headers = seeded
    response = client.get(f"{API}endpoints/{ids['endpoint_pk']}/{action}/", headers=headers)
    assert response.status_code == 200
    assert isinstance(response.json(), list)
    documented = _documented(client, "GET", f"{API}endpoints/{{id}}/{action}/")["200"]["content"]["application/json"]
    assert documented["schema"]["type"] == "array"


# Bodies no JSON Schema describes, so the fuzz above never sends them: Python's
# json accepts NaN/Infinity, turns 1e400 into inf, lets a lone surrogate through
# and raised RecursionError (a 500) on deep nesting. The strict parser makes
# each a 400.
MALFORMED_JSON = {
    "nested 100000 deep": '{"name": ' + "[" * 100_000 + "]" * 100_000 + "}",
    "nested one past the cap": '{"name": ' + "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH + "}",
    "NaN": '{"name": NaN}',
    "Infinity": '{"name": -Infinity}',
    "an overflowing number": '{"name": 1e400}',
    "a lone surrogate": '{"name": "\\ud800"}',
}


def _operations_with_a_json_body():
    for result in schema.get_all_operations():
        operation = result.ok()
        if any(body.media_type == "application/json" for body in operation.body):
            yield operation


def _concrete(path: str) -> tuple[str, bool]:
    """The path with seeded ids filled in, and whether it names an object that exists."""
    seeded = _seeded_id(path)
    if "{id}" in path and seeded is not None:
        path = path.replace("{id}", seeded)
    for name, value in _seeded_path_values.items():
        path = path.replace(f"{{{name}}}", value)
    return path, "{" not in path


@pytest.mark.django_db
@pytest.mark.parametrize("label", MALFORMED_JSON)
def test_malformed_json_is_a_400_on_every_operation_with_a_body(client, fuzz_caller, label):
    answered = {}
    for operation in _operations_with_a_json_body():
        path, exists = _concrete(operation.path)
        response = client.generic(
            operation.method.upper(), path, MALFORMED_JSON[label], content_type="application/json", headers=fuzz_caller
        )
        answered[f"{operation.method.upper()} {operation.path}"] = response.status_code
        if exists:
            assert response.status_code == 400, (operation.path, response.content)
            assert response.json()["detail"].startswith("JSON parse error - "), response.content
        else:
            assert response.status_code in (400, 404), (operation.path, response.content)
    assert answered.get(f"POST {API}keys/") == 400, answered
