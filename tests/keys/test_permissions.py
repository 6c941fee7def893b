"""Who sees which keys, and anonymous callers. Each action at each level is in ``tests/sharing/test_ladder.py``."""

from __future__ import annotations

import pytest

from keys.models import Key
from sharing import services as sharing
from sharing.levels import Level


def key_url(key: Key) -> str:
    return f"/api/3.0/mlflow/gateway/keys/{key.id.hex}/"


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
    sharing.grant(shared_with_bob, bob, Level.READ)
    sharing.grant(shared_with_team, team, Level.USE)

    def names(user):
        return sorted(item["name"] for item in api(user).get("/api/3.0/mlflow/gateway/keys/").data["results"])

    assert names(alice) == sorted([mine.name, shared_with_bob.name, shared_with_team.name])
    assert names(bob) == ["bob-can-read"]
    assert names(dave) == ["team-can-read"]
    assert names(charlie) == []
