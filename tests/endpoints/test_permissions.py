"""Every endpoint action through every role, with the same ladder as keys."""

from __future__ import annotations

import pytest

from sharing.levels import Level
from tests.sharing.contract import PRINCIPAL_LEVELS, Action, assert_outcome, call, expected_outcome, grant_level

ENDPOINT_ACTIONS = [
    Action("retrieve", "get", "", Level.READ),
    Action("status", "get", "status", Level.READ),
    Action("revisions", "get", "revisions", Level.READ),
    Action("list models", "get", "models/", Level.READ),
    Action("list bindings", "get", "bindings", Level.READ),
    Action("bind", "post", "bindings", Level.USE, body={"resource_type": "scorer", "resource_id": "s-1"}),
    Action("update", "patch", "", Level.EDIT, body={"description": "changed"}),
    Action("start", "post", "start", Level.EDIT),
    Action("stop", "post", "stop", Level.EDIT),
    Action("restore", "post", "revisions/1/restore", Level.EDIT),
    Action("list grants", "get", "permissions", Level.MANAGE),
    Action("share", "post", "permissions", Level.MANAGE, body={"user": "charlie", "level": "READ"}),
    Action("delete", "delete", "", Level.MANAGE),
]


def endpoint_url(endpoint) -> str:
    return f"/api/3.0/mlflow/gateway/endpoints/{endpoint.public_id}/"


@pytest.mark.django_db
@pytest.mark.parametrize("action", ENDPOINT_ACTIONS, ids=lambda a: a.name)
@pytest.mark.parametrize("level", PRINCIPAL_LEVELS, ids=lambda lvl: lvl.name if lvl else "none")
def test_bob_gets_what_his_level_allows(api, alice, bob, charlie, make_endpoint, action, level):
    endpoint = make_endpoint(alice)
    grant_level(endpoint, bob, level)
    assert_outcome(call(api(bob), endpoint_url(endpoint), action), action, expected_outcome(level, action.level))


@pytest.mark.django_db
@pytest.mark.parametrize("action", ENDPOINT_ACTIONS, ids=lambda a: a.name)
@pytest.mark.parametrize("level", PRINCIPAL_LEVELS, ids=lambda lvl: lvl.name if lvl else "none")
def test_a_group_member_gets_what_the_group_level_allows(api, alice, charlie, dave, team, make_endpoint, action, level):
    endpoint = make_endpoint(alice)
    grant_level(endpoint, team, level)
    assert_outcome(call(api(dave), endpoint_url(endpoint), action), action, expected_outcome(level, action.level))


@pytest.mark.django_db
@pytest.mark.parametrize("action", ENDPOINT_ACTIONS, ids=lambda a: a.name)
def test_the_owner_may_do_everything(api, alice, charlie, make_endpoint, action):
    endpoint = make_endpoint(alice)
    assert_outcome(call(api(alice), endpoint_url(endpoint), action), action, "ok")


@pytest.mark.django_db
@pytest.mark.parametrize("action", ENDPOINT_ACTIONS, ids=lambda a: a.name)
def test_an_outsider_gets_404_for_everything(api, alice, charlie, make_endpoint, action):
    endpoint = make_endpoint(alice)
    assert_outcome(call(api(charlie), endpoint_url(endpoint), action), action, "404")


@pytest.mark.django_db
def test_lists_show_only_what_the_caller_can_read(api, alice, bob, charlie, dave, team, make_endpoint):
    make_endpoint(alice, name="private")
    grant_level(make_endpoint(alice, name="for-bob"), bob, Level.READ)
    grant_level(make_endpoint(alice, name="for-team"), team, Level.USE)

    def names(user):
        return [e["name"] for e in api(user).get("/api/3.0/mlflow/gateway/endpoints/").json()["results"]]

    assert names(alice) == ["for-bob", "for-team", "private"]
    assert names(bob) == ["for-bob"]
    assert names(dave) == ["for-team"]
    assert names(charlie) == []
