"""The rules of teams (``teams.services``), with a manager (alice), a plain member (bob), an outsider
(charlie) and a superuser who is not a member (root)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from audit.models import AuditEvent
from keys.models import Key
from sharing import services as sharing
from sharing.levels import Level
from teams import services as teams
from teams.models import Role, Team
from tests.factories import make_group, make_user

pytestmark = pytest.mark.django_db

ADVICE = "grant MANAGE to another active user, or to a group with active members, first."


def roles(team) -> dict[str, str]:
    return {member.user.username: member.role.value for member in teams.members(team)}


def events(team) -> list[tuple[str, str, dict]]:
    rows = AuditEvent.objects.filter(object_type="team", object_id=team.pk).order_by("created_at")
    return [(event.actor_name, event.action, event.changes) for event in rows]


# -- creating and naming ------------------------------------------------------------------------------


def test_the_creator_is_the_first_member_and_manager(alice):
    team = teams.create_team(actor=alice, name="  platform  ")

    assert team.name == "platform"
    assert Group.objects.get(name="platform").team == team
    assert roles(team) == {"alice": "manager"}
    assert team.created_by == alice
    assert events(team) == [("alice", "create", {"after": {"name": "platform"}})]


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "Give the team a name."),
        ("   ", "Give the team a name."),
        ("x" * 151, "Use at most 150 characters."),
        ("bad\x00name", "Remove the control characters from this text."),
        ("Platform", "A team named “Platform” already exists; choose another name."),
    ],
)
def test_a_bad_or_taken_name_is_refused(alice, platform, name, message):
    with pytest.raises(ValidationError) as refused:
        teams.create_team(actor=alice, name=name)
    assert refused.value.message_dict == {"name": [message]}
    assert Team.objects.count() == 1


def test_a_manager_renames_the_team(alice, platform):
    teams.rename_team(platform, actor=alice, name="infra")
    platform.refresh_from_db()

    assert platform.name == "infra"
    assert events(platform)[-1] == ("alice", "update", {"name": {"before": "platform", "after": "infra"}})
    teams.rename_team(platform, actor=alice, name="INFRA")  # its own name, in another case, is not "taken"
    assert Team.objects.get().name == "INFRA"


def test_renaming_to_another_teams_name_is_refused(alice, platform):
    make_group("ops")
    with pytest.raises(ValidationError) as refused:
        teams.rename_team(platform, actor=alice, name="OPS")
    assert refused.value.message_dict == {"name": ["A team named “OPS” already exists; choose another name."]}


# -- who sees a team -----------------------------------------------------------------------------------


def test_members_and_superusers_see_the_team_and_nobody_else(alice, bob, charlie, admin_user, platform):
    for user in (alice, bob, admin_user):
        assert teams.get_team_for_user(user, platform.pk) == platform
    for team_id in (platform.pk, platform.public_id, "0" * 32, "not-an-id"):
        with pytest.raises(Http404):
            teams.get_team_for_user(charlie, team_id)
    assert list(Team.objects.visible_to(charlie)) == []
    assert list(Team.objects.visible_to(bob)) == [platform]
    assert list(Team.objects.visible_to(bob, Level.MANAGE)) == []
    assert list(Team.objects.visible_to(alice, Level.MANAGE)) == [platform]


def test_the_counts_count_every_member_not_only_the_viewer(alice, bob, platform):
    listed = Team.objects.visible_to(bob).with_counts(bob).get()
    assert (listed.member_count, listed.is_member, listed.is_manager) == (2, True, False)
    listed = Team.objects.visible_to(alice).with_counts(alice).get()
    assert (listed.member_count, listed.is_member, listed.is_manager) == (2, True, True)


# -- who changes a team --------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["bob", "charlie"])
def test_only_managers_and_superusers_change_a_team(who, alice, bob, charlie, admin_user, platform):
    actor = {"bob": bob, "charlie": charlie}[who]
    dave = make_user("dave")
    changes = [
        lambda: teams.rename_team(platform, actor=actor, name="mine"),
        lambda: teams.add_member(platform, dave, actor=actor),
        lambda: teams.remove_member(platform, alice, actor=actor),
        lambda: teams.set_role(platform, actor if who == "bob" else bob, Role.MANAGER, actor=actor),
        lambda: teams.delete_team(platform, actor=actor),
    ]
    for change in changes:
        with pytest.raises(PermissionDenied, match="Only the team's managers can do that."):
            change()
    assert roles(platform) == {"alice": "manager", "bob": "member"}

    teams.add_member(platform, dave, actor=admin_user)  # a superuser needs no role
    teams.rename_team(platform, actor=admin_user, name="renamed")
    assert roles(Team.objects.get()) == {"alice": "manager", "bob": "member", "dave": "member"}
    assert admin_user not in Team.objects.get().group.user_set.all()


def test_a_plain_member_may_leave(bob, platform):
    left = teams.remove_member(platform, bob, actor=bob)

    assert left.role == Role.MEMBER
    assert roles(platform) == {"alice": "manager"}
    assert events(platform)[-1] == ("bob", "remove_member", {"user": "bob"})
    with pytest.raises(Http404):
        teams.get_team_for_user(bob, platform.pk)


# -- members and roles ---------------------------------------------------------------------------------


def test_adding_members_and_managers(alice, charlie, platform):
    added = teams.add_member(platform, charlie, actor=alice, role=Role.MANAGER)

    assert added.as_dict() == {"user": "charlie", "role": "manager"}
    assert roles(platform) == {"alice": "manager", "bob": "member", "charlie": "manager"}
    assert events(platform)[-1] == ("alice", "add_member", {"user": "charlie", "role": "manager"})


def test_adding_a_member_twice_or_an_inactive_user_is_refused(alice, bob, platform):
    with pytest.raises(ValidationError) as refused:
        teams.add_member(platform, bob, actor=alice)
    assert refused.value.message_dict == {"user": ["bob is already a member of “platform”."]}
    gone = make_user("gone", is_active=False)
    with pytest.raises(ValidationError) as refused:
        teams.add_member(platform, gone, actor=alice)
    assert refused.value.message_dict == {"user": ["gone is not an active user."]}


def test_promoting_and_demoting(alice, bob, platform):
    teams.set_role(platform, bob, Role.MANAGER, actor=alice)
    teams.set_role(platform, bob, Role.MANAGER, actor=alice)  # already one: nothing changes, nothing recorded
    assert roles(platform) == {"alice": "manager", "bob": "manager"}

    teams.set_role(platform, alice, Role.MEMBER, actor=bob)

    assert roles(platform) == {"alice": "member", "bob": "manager"}
    assert [event[1:] for event in events(platform)[-2:]] == [
        ("change_role", {"user": "bob", "role": "manager"}),
        ("change_role", {"user": "alice", "role": "member"}),
    ]


def test_a_role_is_only_for_members(alice, charlie, platform):
    with pytest.raises(ValidationError) as refused:
        teams.set_role(platform, charlie, Role.MANAGER, actor=alice)
    assert refused.value.message_dict == {"user": ["charlie is not a member of “platform”."]}
    with pytest.raises(ValidationError):
        teams.remove_member(platform, charlie, actor=alice)


# -- the last manager stays ----------------------------------------------------------------------------

LAST = "alice is the last manager of team “platform”; make another member a manager first"


def test_the_last_manager_can_be_neither_demoted_nor_removed(alice, admin_user, platform):
    with pytest.raises(ValidationError) as refused:
        teams.set_role(platform, alice, Role.MEMBER, actor=alice)
    assert refused.value.message_dict == {"user": [LAST + "."]}
    for actor in (alice, admin_user):
        with pytest.raises(ValidationError) as refused:
            teams.remove_member(platform, alice, actor=actor)
        assert refused.value.message_dict == {"user": [LAST + ", or delete the team."]}
    assert roles(platform) == {"alice": "manager", "bob": "member"}


def test_an_inactive_manager_does_not_count(alice, bob, platform):
    teams.set_role(platform, bob, Role.MANAGER, actor=alice)
    bob.is_active = False
    bob.save()

    with pytest.raises(ValidationError) as refused:
        teams.set_role(platform, alice, Role.MEMBER, actor=alice)
    assert refused.value.messages == [LAST + "."]
    teams.remove_member(platform, bob, actor=alice)  # an inactive manager may go
    assert roles(platform) == {"alice": "manager"}


def test_a_manager_may_leave_once_another_manages(alice, bob, platform):
    teams.set_role(platform, bob, Role.MANAGER, actor=alice)
    left = teams.remove_member(platform, alice, actor=alice)
    assert left.role == Role.MANAGER
    assert roles(platform) == {"bob": "manager"}
    assert not platform.managers.filter(pk=alice.pk).exists()


# -- no shared object loses its last manager -----------------------------------------------------------


@pytest.fixture
def managed_only_by_platform(alice, bob, platform, bobs_key):
    """bob's key, handed to the team: its only manager route is ``platform``."""
    sharing.grant(bobs_key, platform.group, Level.MANAGE, actor=bob)
    sharing.revoke(bobs_key, bob, actor=bob)
    return bobs_key


def test_removing_the_last_active_member_of_a_managing_team_is_refused(alice, bob, admin_user, platform, bobs_key):
    sharing.grant(bobs_key, platform.group, Level.MANAGE, actor=bob)
    sharing.revoke(bobs_key, bob, actor=bob)
    alice.is_active = False  # bob, a plain member, is now the team's only active member
    alice.save()
    expected = f"Removing bob from team “platform” would leave nobody able to manage key “bob-openai”; {ADVICE}"

    for actor in (bob, admin_user):  # leaving, or being removed
        with pytest.raises(ValidationError) as refused:
            teams.remove_member(platform, bob, actor=actor)
        assert refused.value.message_dict == {"user": [expected]}
    assert roles(platform) == {"alice": "manager", "bob": "member"}
    assert sharing.get_level(bob, bobs_key) == Level.MANAGE


def test_deleting_a_team_that_alone_manages_an_object_is_refused(alice, managed_only_by_platform, platform):
    expected = f"Deleting team “platform” would leave nobody able to manage key “bob-openai”; {ADVICE}"
    assert teams.deletion_refusal(platform) == expected

    with pytest.raises(ValidationError) as refused:
        teams.delete_team(platform, actor=alice)

    assert refused.value.messages == [expected]
    assert Team.objects.filter(pk=platform.pk).exists()


def test_deleting_a_team_ends_what_was_shared_with_it(alice, bob, platform, bobs_key):
    sharing.grant(bobs_key, platform.group, Level.USE, actor=bob)
    teams.add_member(platform, make_user("dave"), actor=alice)
    assert Key.objects.visible_to(make_user("erin", groups=[platform.group])).count() == 1
    assert teams.deletion_refusal(platform) is None

    teams.delete_team(platform, actor=alice)

    assert not Team.objects.exists() and not Group.objects.filter(name="platform").exists()
    assert sharing.list_grants(bobs_key) == [sharing.Grant(level=Level.MANAGE, user="bob")]
    event = AuditEvent.objects.get(object_type="team", action="delete")
    assert (event.actor_name, event.object_name) == ("alice", "platform")
    assert event.changes == {
        "before": {
            "name": "platform",
            "members": [
                {"user": "alice", "role": "manager"},
                {"user": "bob", "role": "member"},
                {"user": "dave", "role": "member"},
                {"user": "erin", "role": "member"},
            ],
        }
    }


# -- members see what is shared with the team ----------------------------------------------------------


def test_members_see_what_is_shared_with_the_team_until_they_leave(alice, bob, charlie, platform, bobs_key):
    sharing.grant(bobs_key, platform.group, Level.USE, actor=bob)
    teams.add_member(platform, charlie, actor=alice)

    assert sharing.get_level(charlie, bobs_key) == Level.USE
    assert [item.as_dict() for item in teams.shared_with(platform, charlie)] == [
        {"type": "key", "id": bobs_key.public_id, "name": "bob-openai", "level": "USE"}
    ]

    teams.remove_member(platform, charlie, actor=alice)

    assert sharing.get_level(charlie, bobs_key) is None
    assert list(Key.objects.visible_to(charlie)) == []
    assert teams.shared_with(platform, charlie) == []


# -- consistency, whatever changes the group -----------------------------------------------------------


def test_every_group_is_a_team_and_a_manager_who_leaves_the_group_stops_managing(alice, bob, platform):
    assert Team.objects.filter(group=make_group("made-elsewhere")).exists()
    teams.set_role(platform, bob, Role.MANAGER, actor=alice)

    bob.groups.remove(platform.group)  # the admin, the shell: not through the service
    assert roles(platform) == {"alice": "manager"}
    assert not platform.managers.filter(pk=bob.pk).exists()

    teams.add_member(platform, bob, actor=alice, role=Role.MANAGER)
    platform.group.user_set.clear()
    assert platform.managers.count() == 0


def test_set_teams_changes_memberships_through_the_rules(alice, bob, platform):
    ops = teams.create_team(actor=alice, name="ops")

    teams.set_teams(bob, [ops.group], actor=alice)

    assert list(bob.groups.values_list("name", flat=True)) == ["ops"]
    assert [event[1:] for event in events(platform)[-1:]] == [("remove_member", {"user": "bob"})]
    assert [event[1:] for event in events(ops)[-1:]] == [("add_member", {"user": "bob", "role": "member"})]
    with pytest.raises(ValidationError):
        teams.set_teams(alice, [], actor=alice)  # she is the last manager of both
