"""Migration 0002 makes every group that existed before teams a team (managed by nobody until a superuser names one)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("teams", "0001_initial")]
AFTER = [("teams", "0002_teams_for_existing_groups")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.fixture
def before_teams(transactional_db):
    apps = _migrate(BEFORE)
    yield apps
    _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())


def test_existing_groups_become_teams_without_managers(before_teams):
    Group = before_teams.get_model("auth", "Group")
    User = before_teams.get_model("auth", "User")
    ops = Group.objects.create(name="ops")  # historical models send no signals: no team yet
    User.objects.create(username="dave").groups.add(ops)

    apps = _migrate(AFTER)

    Team = apps.get_model("teams", "Team")
    team = Team.objects.get(group__name="ops")
    assert list(team.managers.all()) == []
    assert Team.objects.count() == 1
