"""Every key action through every role: owner, outsider, bob at each level, a group member at each level."""

from __future__ import annotations

import pytest

from keys.models import Key
from sharing.levels import Level
from tests.sharing.contract import PRINCIPAL_LEVELS, Action, assert_outcome, call, expected_outcome, grant_level

KEY_ACTIONS = [
    Action("retrieve", "get", "", Level.READ),
    Action("update", "patch", "", Level.EDIT, body={"description": "changed"}),
    Action("replace secret", "patch", "", Level.EDIT, body={"secret": "sk-replaced-0000000000000000"}),
    Action("list grants", "get", "permissions", Level.MANAGE),
    Action("share", "post", "permissions", Level.MANAGE, body={"user": "charlie", "level": "READ"}),
    Action("unshare", "delete", "permissions", Level.MANAGE, query="user=alice"),
    Action("delete", "delete", "", Level.MANAGE),
]


def key_url(key: Key) -> str:
    return f"/api/3.0/mlflow/gateway/keys/{key.id.hex}/"


@pytest.mark.django_db
@pytest.mark.parametrize("action", KEY_ACTIONS, ids=lambda a: a.name)
@pytest.mark.parametrize("level", PRINCIPAL_LEVELS, ids=lambda lvl: lvl.name if lvl else "none")
def test_bob_gets_what_his_level_allows(api, alice, bob, charlie, make_key, action, level):
    key = make_key(alice)
    grant_level(key, bob, level)
    if action.name == "unshare":
        # Leave a manager behind so removing alice is allowed when bob may manage.
        grant_level(key, charlie, Level.MANAGE)
    response = call(api(bob), key_url(key), action)
    assert_outcome(response, action, expected_outcome(level, action.level))


@pytest.mark.django_db
@pytest.mark.parametrize("action", KEY_ACTIONS, ids=lambda a: a.name)
@pytest.mark.parametrize("level", PRINCIPAL_LEVELS, ids=lambda lvl: lvl.name if lvl else "none")
def test_a_group_member_gets_what_the_group_level_allows(api, alice, charlie, dave, team, make_key, action, level):
    key = make_key(alice)
    grant_level(key, team, level)
    if action.name == "unshare":
        grant_level(key, charlie, Level.MANAGE)
    response = call(api(dave), key_url(key), action)
    assert_outcome(response, action, expected_outcome(level, action.level))


@pytest.mark.django_db
@pytest.mark.parametrize("action", KEY_ACTIONS, ids=lambda a: a.name)
def test_the_owner_may_do_everything(api, alice, charlie, make_key, action):
    key = make_key(alice)
    if action.name == "unshare":
        grant_level(key, charlie, Level.MANAGE)
    assert_outcome(call(api(alice), key_url(key), action), action, "ok")


@pytest.mark.django_db
@pytest.mark.parametrize("action", KEY_ACTIONS, ids=lambda a: a.name)
def test_an_outsider_gets_404_for_everything(api, alice, charlie, make_key, action):
    key = make_key(alice)
    assert_outcome(call(api(charlie), key_url(key), action), action, "404")


@pytest.mark.django_db
@pytest.mark.parametrize("action", KEY_ACTIONS, ids=lambda a: a.name)
def test_a_superuser_may_do_everything(api, alice, charlie, admin_user, make_key, action):
    key = make_key(alice)
    if action.name == "unshare":
        grant_level(key, charlie, Level.MANAGE)
    assert_outcome(call(api(admin_user), key_url(key), action), action, "ok")


@pytest.mark.django_db
def test_anonymous_callers_get_401(api, alice, make_key):
    key = make_key(alice)
    assert api(None).get(key_url(key)).status_code == 401
    assert api(None).get("/api/3.0/mlflow/gateway/keys/").status_code == 401


@pytest.mark.django_db
def test_lists_show_only_what_the_caller_can_read(api, alice, bob, charlie, dave, team, make_key):
    mine = make_key(alice, name="alice-key")
    shared_with_bob = make_key(alice, name="bob-can-read")
    shared_with_team = make_key(alice, name="team-can-read")
    grant_level(shared_with_bob, bob, Level.READ)
    grant_level(shared_with_team, team, Level.USE)

    def names(user):
        return sorted(item["name"] for item in api(user).get("/api/3.0/mlflow/gateway/keys/").data["results"])

    assert names(alice) == sorted([mine.name, shared_with_bob.name, shared_with_team.name])
    assert names(bob) == ["bob-can-read"]
    assert names(dave) == ["team-can-read"]
    assert names(charlie) == []
