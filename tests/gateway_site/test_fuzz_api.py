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
its audit event). Detail routes get a seeded object's id about half the time
and bodies and query strings get values the server knows (a catalog provider,
an existing user) mixed in, so the fuzzer gets past lookups and validation
into the view code.

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
from gateway_site.parsers import MAX_JSON_DEPTH
from gateway_site.wsgi import application
from keys import services as key_services
from teams import services as team_services
from tests.factories import make_group, make_user
from tokens import services as token_services

API = "/api/3.0/mlflow/gateway/"

# Routes still being built in another change; they join the fuzz once that
# work lands. Widen the fuzz by removing prefixes from this tuple.
FUZZ_EXCLUDED_PATH_PREFIXES: tuple[str, ...] = (f"{API}endpoints",)

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
    "user": ["teammate"],
    "group": ["fuzzers"],
}

# Path prefix -> id of the seeded object detail routes under it can aim at.
# Filled by the ``fuzz_caller`` fixture; read by the path-parameter hook while
# the test runs.
_seeded_ids: dict[str, str] = {}


def _excluded(ctx) -> bool:
    return ctx.operation.path.startswith(FUZZ_EXCLUDED_PATH_PREFIXES)


schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application).exclude(_excluded)


@schema.hook
def flatmap_path_parameters(context, path_parameters):
    """Half the time, aim a detail route at an object that exists (and that the caller manages)."""
    if not isinstance(path_parameters, dict) or "id" not in path_parameters:
        return st.just(path_parameters)
    path = context.operation.path
    seeded = next((value for prefix, value in _seeded_ids.items() if path.startswith(prefix)), None)
    if seeded is None:
        return st.just(path_parameters)
    return st.sampled_from([path_parameters, {**path_parameters, "id": seeded}])


def _mix_in_known_good(values):
    if not isinstance(values, dict):
        return st.just(values)
    choices = {
        name: st.sampled_from([value, *KNOWN_GOOD_VALUES[name]])
        for name, value in values.items()
        if name in KNOWN_GOOD_VALUES
    }
    if not choices:
        return st.just(values)
    return st.fixed_dictionaries(choices).map(lambda picked: {**values, **picked})


@schema.hook
def flatmap_body(context, body):
    return _mix_in_known_good(body)


@schema.hook
def flatmap_query(context, query):
    return _mix_in_known_good(query)


@pytest.fixture
def fuzz_caller(db, upstream):
    """Headers authenticating as a user with a gateway token, a managed key, a teammate, a group and a team.

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
    _seeded_ids.clear()
    _seeded_ids[f"{API}keys/"] = key.public_id
    _seeded_ids[f"{API}teams/"] = team.public_id
    _seeded_ids[f"{API}tokens/"] = token.id.hex
    _seeded_ids[f"{API}audit/"] = AuditEvent.objects.get(object_id=key.pk, action="create").id.hex
    yield {"Authorization": f"Bearer {plaintext}"}
    _seeded_ids.clear()


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


@pytest.mark.django_db
@pytest.mark.usefixtures("_keep_test_connection")
@schema.parametrize()
@FUZZ_SETTINGS
def test_api_conforms_to_its_schema(case, fuzz_caller):
    with transaction.atomic():  # a savepoint: each example starts from the seeded rows
        case.call_and_validate(headers=fuzz_caller, checks=CHECKS)
        transaction.set_rollback(True)


def test_the_fuzz_covers_every_operation_outside_the_exclusions():
    """Guards the filter: the excluded prefixes drop only what they name."""
    fuzzed = {operation.ok().path for operation in schema.get_all_operations()}
    assert fuzzed, "the schema exposes no operation to fuzz"
    assert not any(path.startswith(FUZZ_EXCLUDED_PATH_PREFIXES) for path in fuzzed)
    for prefix in ("keys/", "tokens/", "teams/", "audit/", "providers/list", "models/list"):
        assert any(path.startswith(f"{API}{prefix}") for path in fuzzed), prefix


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
    """The path with a seeded id filled in, and whether it names an object that exists."""
    seeded = next((value for prefix, value in _seeded_ids.items() if path.startswith(prefix)), None)
    if "{id}" in path and seeded is not None:
        path = path.replace("{id}", seeded)
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
