"""The last manager stays: every shared object keeps an active user who can manage it, whatever the entry point.

A manager is an active user holding MANAGE directly, or an active member of
a group holding MANAGE. The personas: alice creates (and so manages) the key
and the endpoint, bob is another user, dave is the only member of ``team``.
"""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from endpoints import services as endpoint_services
from endpoints.models import Endpoint
from endpoints.validation import ModelSpec
from keys import services as key_services
from keys.models import Key
from scorers import services as scorer_services
from scorers.models import Scorer
from sharing import services as sharing
from sharing.levels import Level
from tests.factories import make_group

pytestmark = pytest.mark.django_db

API = "/api/3.0/mlflow/gateway"
ADVICE = "grant MANAGE to another active user, or to a group with active members, first."


def refused(what: str, *objects: str) -> str:
    return f"{what} would leave nobody able to manage {', '.join(objects)}; {ADVICE}"


@pytest.fixture
def key(alice):
    return key_services.create_key(actor=alice, name="openai-prod", provider="openai", secret="sk-test-0000LASTMGR")


@pytest.fixture
def endpoint(alice, key):
    spec = ModelSpec(provider="openai", model_name="gpt-4o", key_id=key.public_id)
    return endpoint_services.create_endpoint(actor=alice, name="chat-prod", endpoint_type="chat", models=[spec])


@pytest.fixture
def scorer(alice):
    return scorer_services.create_scorer(actor=alice, name="correctness", instructions="Is {{ outputs }} right?")


@pytest.fixture(params=["key", "endpoint", "scorer"])
def shared(request):
    """``(kind, object)`` for each shareable type: the same rule must hold for all."""
    return request.param, request.getfixturevalue(request.param)


@pytest.fixture
def managed_by_team(alice, dave, team, key):
    """The key's only manager is dave, through ``team``: alice handed it over and stepped down."""
    sharing.grant(key, team, Level.MANAGE)
    sharing.revoke(key, alice)
    return key


def label(kind: str, obj) -> str:
    return f"{kind} “{obj}”"


def perms_url(kind: str, obj) -> str:
    return f"{API}/{kind}s/{obj.public_id}/permissions"


# The rule, through the sharing API (keys and endpoints alike).


def test_the_empty_group_trick_is_refused_on_the_api(api, alice, shared):
    kind, obj = shared
    make_group("empty")
    client = api(alice)
    assert client.post(perms_url(kind, obj), {"group": "empty", "level": "MANAGE"}, format="json").status_code == 200

    response = client.delete(perms_url(kind, obj) + "?user=alice")

    assert response.status_code == 400
    assert response.json() == {"user": [refused("This", label(kind, obj))]}
    assert sharing.get_level(alice, obj) == Level.MANAGE


def test_the_empty_group_trick_cannot_downgrade_either(api, alice, shared):
    kind, obj = shared
    sharing.grant(obj, make_group("empty"), Level.MANAGE)

    response = api(alice).post(perms_url(kind, obj), {"user": "alice", "level": "EDIT"}, format="json")

    assert response.status_code == 400
    assert response.json() == {"level": [refused("This", label(kind, obj))]}
    assert sharing.get_level(alice, obj) == Level.MANAGE


def test_a_group_of_inactive_users_and_an_inactive_manager_do_not_count(api, alice, bob, dave, team, key):
    dave.is_active = False
    dave.save()
    sharing.grant(key, team, Level.MANAGE)
    sharing.grant(key, bob, Level.MANAGE)
    bob.is_active = False
    bob.save()

    response = api(alice).delete(perms_url("key", key) + "?user=alice")

    assert response.status_code == 400
    assert response.json() == {"user": [refused("This", label("key", key))]}


def test_a_superuser_without_a_grant_does_not_count(api, alice, admin_user, key):
    response = api(admin_user).delete(perms_url("key", key) + "?user=alice")

    assert response.status_code == 400
    assert response.json() == {"user": [refused("This", label("key", key))]}


def test_the_last_manager_group_cannot_be_revoked(api, alice, dave, managed_by_team):
    response = api(dave).delete(perms_url("key", managed_by_team) + "?group=team")

    assert response.status_code == 400
    assert response.json() == {"group": [refused("This", label("key", managed_by_team))]}
    assert sharing.get_level(dave, managed_by_team) == Level.MANAGE


def test_a_manager_can_step_down_when_another_user_manages(api, alice, bob, shared):
    kind, obj = shared
    sharing.grant(obj, bob, Level.MANAGE)

    assert api(alice).delete(perms_url(kind, obj) + "?user=alice").status_code == 204
    assert sharing.get_level(alice, obj) is None
    assert sharing.get_level(bob, obj) == Level.MANAGE


def test_a_manager_can_step_down_when_a_group_with_an_active_member_manages(api, alice, dave, team, shared):
    kind, obj = shared
    sharing.grant(obj, team, Level.MANAGE)

    assert api(alice).post(perms_url(kind, obj), {"user": "alice", "level": "READ"}, format="json").status_code == 200
    assert api(dave).delete(perms_url(kind, obj) + "?user=alice").status_code == 204
    assert sharing.list_grants(obj) == [sharing.Grant(level=Level.MANAGE, group="team")]


# The sharing panel.


@pytest.mark.parametrize(("action", "body"), [("revoke", {}), ("grant", {"level": "USE"})])
def test_the_panel_refuses_the_empty_group_trick_inline(client, alice, shared, action, body):
    kind, obj = shared
    sharing.grant(obj, make_group("empty"), Level.MANAGE)
    client.force_login(alice)

    response = client.post(
        f"/share/{kind}/{obj.public_id}/{action}", {"principal": "user:alice", **body}, headers={"HX-Request": "true"}
    )

    assert response.status_code == 422
    assert refused("This", label(kind, obj)) in response.content.decode()
    assert sharing.get_level(alice, obj) == Level.MANAGE


# The admin: the user form, deleting users and groups.


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def change_form(user, **changes) -> dict:
    """The admin's user change form as the browser posts it, with ``changes`` applied."""
    joined = timezone.localtime(user.date_joined)
    data = {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "is_active": user.is_active,
        "groups": [group.pk for group in user.groups.all()],
        "date_joined_0": joined.strftime("%Y-%m-%d"),
        "date_joined_1": joined.strftime("%H:%M:%S"),
        **changes,
    }
    if not data.pop("is_active"):
        return data  # an unticked checkbox is absent
    return {**data, "is_active": "on"}


def change_url(user) -> str:
    return f"/admin/auth/user/{user.pk}/change/"


def flashed(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def test_the_admin_refuses_to_take_the_last_manager_out_of_the_group(admin_client, dave, team, managed_by_team):
    response = admin_client.post(change_url(dave), change_form(dave, groups=[]))

    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {
        "groups": [refused("Removing dave from group team", label("key", managed_by_team))]
    }
    assert list(dave.groups.all()) == [team]


def test_the_admin_takes_a_member_out_when_another_member_remains(admin_client, bob, dave, team, managed_by_team):
    bob.groups.add(team)

    response = admin_client.post(change_url(dave), change_form(dave, groups=[]))

    assert response.status_code == 302
    assert not dave.groups.exists()
    assert sharing.get_level(bob, managed_by_team) == Level.MANAGE


def test_the_admin_refuses_to_deactivate_the_last_manager(admin_client, alice, key, endpoint):
    response = admin_client.post(change_url(alice), change_form(alice, is_active=False))

    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {
        "is_active": [refused("Deactivating alice", label("key", key), label("endpoint", endpoint))]
    }
    alice.refresh_from_db()
    assert alice.is_active


def test_the_admin_deactivates_a_manager_when_another_one_remains(admin_client, alice, bob, key):
    sharing.grant(key, bob, Level.MANAGE)

    response = admin_client.post(change_url(alice), change_form(alice, is_active=False))

    assert response.status_code == 302
    alice.refresh_from_db()
    assert not alice.is_active


def test_a_change_the_form_missed_meets_the_backstop_as_a_message(admin_client, alice, key, monkeypatch):
    # As if another admin had revoked the other manager between the check and the save.
    monkeypatch.setattr("sharing.admin.UserChangeForm._refuse", lambda *args: None)

    response = admin_client.post(change_url(alice), change_form(alice, is_active=False), follow=True)

    assert response.redirect_chain == [(change_url(alice), 302)]
    assert flashed(response) == [refused("Deactivating alice", label("key", key))]
    alice.refresh_from_db()
    assert alice.is_active


def test_the_admin_refuses_to_delete_the_last_manager(admin_client, alice, key):
    response = admin_client.post(f"/admin/auth/user/{alice.pk}/delete/", {"post": "yes"}, follow=True)

    assert response.redirect_chain == [(change_url(alice), 302)]
    assert flashed(response) == [refused("Deleting alice", label("key", key))]
    assert get_user_model().objects.filter(pk=alice.pk).exists()


def test_the_admin_refuses_to_delete_two_managers_who_cover_for_each_other(admin_client, alice, bob, charlie, key):
    sharing.grant(key, bob, Level.MANAGE)
    users = [alice.pk, bob.pk, charlie.pk]

    response = admin_client.post(
        "/admin/auth/user/", {"action": "delete_selected", "_selected_action": users, "post": "yes"}, follow=True
    )

    assert response.status_code == 200
    assert flashed(response) == [refused("Deleting alice, bob, charlie", label("key", key))]
    assert get_user_model().objects.filter(pk__in=users).count() == 3


def test_the_admin_deletes_a_user_who_manages_nothing(admin_client, alice, bob, key):
    sharing.grant(key, bob, Level.MANAGE)

    response = admin_client.post(f"/admin/auth/user/{bob.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert not get_user_model().objects.filter(pk=bob.pk).exists()
    assert sharing.get_level(alice, key) == Level.MANAGE


def test_the_admin_refuses_to_delete_the_last_managing_group(admin_client, team, managed_by_team):
    response = admin_client.post(f"/admin/auth/group/{team.pk}/delete/", {"post": "yes"}, follow=True)

    assert response.redirect_chain == [(f"/admin/auth/group/{team.pk}/change/", 302)]
    assert flashed(response) == [refused("Deleting group team", label("key", managed_by_team))]
    assert Group.objects.filter(pk=team.pk).exists()


def test_the_admin_deletes_a_managing_group_when_a_user_still_manages(admin_client, alice, team, key):
    sharing.grant(key, team, Level.MANAGE)

    response = admin_client.post(
        "/admin/auth/group/", {"action": "delete_selected", "_selected_action": [team.pk], "post": "yes"}
    )

    assert response.status_code == 302
    assert not Group.objects.filter(pk=team.pk).exists()


# The backstop: the same changes made in code.


@pytest.mark.parametrize(
    "change",
    [
        lambda dave, team: dave.groups.remove(team),
        lambda dave, team: dave.groups.clear(),
        lambda dave, team: dave.groups.set([]),
        lambda dave, team: team.user_set.remove(dave),
        lambda dave, team: team.user_set.clear(),
    ],
    ids=["groups.remove", "groups.clear", "groups.set", "user_set.remove", "user_set.clear"],
)
def test_code_cannot_take_the_last_manager_out_of_the_group(dave, team, managed_by_team, change):
    with pytest.raises(ValidationError) as caught, transaction.atomic():
        change(dave, team)

    assert caught.value.messages == [refused("Removing dave from group team", label("key", managed_by_team))]
    assert list(dave.groups.all()) == [team]


def test_code_cannot_deactivate_or_delete_the_last_manager(alice, key):
    alice.is_active = False
    with pytest.raises(ValidationError) as caught:
        alice.save()
    assert caught.value.messages == [refused("Deactivating alice", label("key", key))]

    alice.refresh_from_db()
    with pytest.raises(ValidationError) as caught, transaction.atomic():
        alice.delete()
    assert caught.value.messages == [refused("Deleting alice", label("key", key))]
    assert get_user_model().objects.get(pk=alice.pk).is_active


def test_code_cannot_delete_managers_together_or_the_last_managing_group(alice, bob, dave, team, key, endpoint):
    sharing.grant(key, bob, Level.MANAGE)
    sharing.grant(endpoint, team, Level.MANAGE)
    sharing.revoke(endpoint, alice)

    with pytest.raises(ValidationError) as caught, transaction.atomic():
        get_user_model().objects.filter(username__in=["alice", "bob"]).delete()
    assert caught.value.messages == [refused("Deleting alice, bob", label("key", key))]

    with pytest.raises(ValidationError) as caught, transaction.atomic():
        Group.objects.filter(name="team").delete()
    assert caught.value.messages == [refused("Deleting group team", label("endpoint", endpoint))]
    assert get_user_model().objects.filter(username__in=["alice", "bob"]).count() == 2
    assert Group.objects.filter(pk=team.pk).exists()


def test_code_may_change_users_and_groups_that_leave_a_manager(alice, bob, charlie, dave, team, managed_by_team):
    bob.groups.add(team)
    dave.groups.remove(team)
    dave.is_active = False
    dave.save()
    charlie.delete()
    alice.delete()  # she stepped down: she manages nothing
    assert sharing.get_level(bob, managed_by_team) == Level.MANAGE


def test_only_saves_that_deactivate_an_active_user_are_checked(alice, dave, key, django_assert_num_queries):
    with django_assert_num_queries(1):
        alice.save()  # stays active: the UPDATE only
    get_user_model().objects.filter(pk=dave.pk).update(is_active=False)
    dave.refresh_from_db()
    with django_assert_num_queries(2):
        dave.save()  # already inactive: one look, no departure


def test_the_rule_covers_every_shareable_model():
    assert set(sharing.shareable_models()) == {Key, Endpoint, Scorer}


def test_code_cannot_deactivate_the_last_manager_of_a_scorer(alice, scorer):
    alice.is_active = False
    with pytest.raises(ValidationError) as caught:
        alice.save()
    assert caught.value.messages == [refused("Deactivating alice", label("scorer", scorer))]
