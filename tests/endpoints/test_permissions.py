"""Which endpoints a caller's list shows. The 404/403/2xx ladder of every endpoint action (API and
pages, each level, directly and through a group) is ``tests/sharing/test_ladder.py``."""

from __future__ import annotations

import pytest

from sharing import services as sharing
from sharing.levels import Level


@pytest.mark.django_db
def test_lists_show_only_what_the_caller_can_read(api, alice, bob, charlie, dave, team, make_endpoint):
    make_endpoint(alice, name="private")
    sharing.grant(make_endpoint(alice, name="for-bob"), bob, Level.READ)
    sharing.grant(make_endpoint(alice, name="for-team"), team, Level.USE)

    def names(user):
        return [e["name"] for e in api(user).get("/api/3.0/mlflow/gateway/endpoints/").json()["results"]]

    assert names(alice) == ["for-bob", "for-team", "private"]
    assert names(bob) == ["for-bob"]
    assert names(dave) == ["for-team"]
    assert names(charlie) == []
