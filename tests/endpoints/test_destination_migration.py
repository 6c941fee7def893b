"""Migration 0003 moves per-model destinations onto keys without changing what any endpoint calls."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("endpoints", "0002_state_version"), ("keys", "0001_initial")]
AFTER = [("endpoints", "0003_destinations_to_keys")]
X, Y, Z, W = (f"http://10.0.0.{n}:8000/v1" for n in (1, 2, 3, 4))


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.fixture
def old_world(transactional_db):
    """Rows as the gateway stored them before keys carried their destination."""
    apps = _migrate(BEFORE)
    yield apps
    _migrate(executor_leaf_nodes())


def executor_leaf_nodes():
    executor = MigrationExecutor(connection)
    return executor.loader.graph.leaf_nodes()


def _make(apps):
    User = apps.get_model("auth", "User")
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    Key = apps.get_model("keys", "Key")
    UserPerm = apps.get_model("keys", "KeyUserObjectPermission")
    GroupPerm = apps.get_model("keys", "KeyGroupObjectPermission")
    Endpoint = apps.get_model("endpoints", "Endpoint")
    EndpointModel = apps.get_model("endpoints", "EndpointModel")
    Revision = apps.get_model("endpoints", "Revision")

    alice, bob = User.objects.create(username="alice"), User.objects.create(username="bob")
    team = Group.objects.create(name="team")

    def key(name):
        return Key.objects.create(
            id=uuid.uuid4(),
            name=name,
            provider="openai",
            secret_ciphertext=f"cipher-{name}",
            masked_secret="sk-...0000",
            created_by=alice,
        )

    a, b, c = key("a"), key("b"), key("c")
    manage = Permission.objects.get(codename="manage_key")
    UserPerm.objects.create(content_object=b, user=alice, permission=manage)
    UserPerm.objects.create(content_object=b, user=bob, permission=Permission.objects.get(codename="use_key"))
    GroupPerm.objects.create(content_object=b, group=team, permission=Permission.objects.get(codename="read_key"))

    e1 = Endpoint.objects.create(id=uuid.uuid4(), name="e1", endpoint_type="chat", status="running", created_by=alice)
    e2 = Endpoint.objects.create(id=uuid.uuid4(), name="e2", endpoint_type="chat", created_by=alice)

    def model(endpoint, key, name, **params):
        return EndpointModel.objects.create(
            id=uuid.uuid4(), endpoint=endpoint, provider="openai", model_name=name, key=key, litellm_params=params
        )

    model(e1, a, "m1", api_base=X, timeout=30)
    model(e2, a, "m2", api_base=X)
    model(e1, b, "m3", api_base=Y)
    model(e2, b, "m4", api_base=Y)
    model(e2, b, "m5", api_base=Z, api_version="2024-10-21")
    model(e1, c, "gpt-4o", timeout=10)
    old = {"models": [{"key_id": b.pk.hex, "litellm_params": {"api_base": Z, "api_version": "2024-10-21"}}]}
    Revision.objects.create(id=uuid.uuid4(), endpoint=e2, number=1, config=old)
    gone = {"models": [{"key_id": a.pk.hex, "litellm_params": {"api_base": W, "timeout": 5}}]}
    Revision.objects.create(id=uuid.uuid4(), endpoint=e1, number=1, config=gone)
    return {"a": a.pk, "b": b.pk, "c": c.pk, "e1": e1.pk, "e2": e2.pk, "bob": bob.pk, "team": team.pk}


def test_destinations_move_onto_keys_and_a_second_destination_gets_its_own_key(old_world, capsys):
    ids = _make(old_world)
    apps = _migrate(AFTER)
    Key = apps.get_model("keys", "Key")
    EndpointModel = apps.get_model("endpoints", "EndpointModel")
    Endpoint = apps.get_model("endpoints", "Endpoint")
    Revision = apps.get_model("endpoints", "Revision")
    AuditEvent = apps.get_model("audit", "AuditEvent")

    # One shared destination: it moves onto the key, the models keep only their tuning.
    a = Key.objects.get(pk=ids["a"])
    assert a.api_base == X
    assert {m.model_name: m.litellm_params for m in EndpointModel.objects.filter(key=a)} == {
        "m1": {"timeout": 30},
        "m2": {},
    }
    # Two destinations: the most used stays on the key, the other gets a copy with the same secret.
    b = Key.objects.get(pk=ids["b"])
    assert b.api_base == Y
    assert sorted(EndpointModel.objects.filter(key=b).values_list("model_name", flat=True)) == ["m3", "m4"]
    copy = Key.objects.exclude(pk__in=[ids["a"], ids["b"], ids["c"]]).get()
    assert (copy.name, copy.api_base, copy.api_version) == ("b (10.0.0.3:8000)", Z, "2024-10-21")
    assert (copy.secret_ciphertext, copy.provider) == ("cipher-b", "openai")
    m5 = EndpointModel.objects.get(model_name="m5")
    assert (m5.key_id, m5.litellm_params) == (copy.pk, {})
    # The copy is shared exactly like the original.
    grants = {(p.user_id, p.permission.codename) for p in copy.keyuserobjectpermission_set.all()}
    assert grants == {(b.created_by_id, "manage_key"), (ids["bob"], "use_key")}
    assert [(p.group_id, p.permission.codename) for p in copy.keygroupobjectpermission_set.all()] == [
        (ids["team"], "read_key")
    ]
    # No destination: nothing changes.
    c = Key.objects.get(pk=ids["c"])
    assert (c.api_base, EndpointModel.objects.get(key=c).litellm_params) == ("", {"timeout": 10})

    # Revisions follow, so restoring one calls what it called, and never brings a destination back.
    assert Revision.objects.get(endpoint_id=ids["e2"]).config["models"] == [
        {"key_id": copy.pk.hex, "litellm_params": {}}
    ]
    assert Revision.objects.get(endpoint_id=ids["e1"]).config["models"] == [
        {"key_id": ids["a"].hex, "litellm_params": {"timeout": 5}}
    ]
    # Running endpoints rebuild their Routers; every step is audited and printed.
    assert set(Endpoint.objects.values_list("config_version", flat=True)) == {2}
    events = {(e.action, e.object_id, e.actor_name) for e in AuditEvent.objects.all()}
    assert events == {("update", ids["a"], "system"), ("update", ids["b"], "system"), ("create", copy.pk, "system")}
    printed = capsys.readouterr().out
    assert "key 'b': new key 'b (10.0.0.3:8000)'" in printed
    assert "dropped destination 10.0.0.4:8000 (no current model uses it)" in printed
