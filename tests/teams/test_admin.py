"""The admin changes teams through ``teams.services``: the user form's groups, renaming and deleting a group.

root is a superuser operator; alice manages ``platform``, bob is a plain member; ``ops`` is a staff
member allowed to change users and groups (Django's model permissions) who manages no team.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission
from django.test import Client

from audit.models import AuditEvent
from teams import services as teams
from teams.models import Team
from tests.factories import make_user
from tests.sharing.test_last_manager import change_form, change_url, flashed

pytestmark = pytest.mark.django_db


def team_events(team) -> list[tuple[str, str, dict]]:
    rows = AuditEvent.objects.filter(object_type="team", object_id=team.pk).order_by("created_at")
    return [(event.actor_name, event.action, event.changes) for event in rows]


@pytest.fixture
def ops_client(db):
    """A staff member with Django's permissions on users and groups, but no team's manager."""
    ops = make_user("ops", is_staff=True)
    ops.user_permissions.set(
        Permission.objects.filter(content_type__app_label="auth", codename__in=["change_user", "view_user"])
        | Permission.objects.filter(content_type__app_label="auth", codename__in=["change_group", "delete_group"])
    )
    client = Client()
    client.force_login(ops)
    return client


def test_the_user_form_adds_and_removes_team_members_through_the_services(admin_client, alice, charlie, platform):
    ops = teams.create_team(actor=alice, name="ops")

    response = admin_client.post(change_url(charlie), change_form(charlie, groups=[platform.group.pk, ops.group.pk]))
    assert response.status_code == 302
    response = admin_client.post(change_url(charlie), change_form(charlie, groups=[ops.group.pk]))
    assert response.status_code == 302

    assert list(charlie.groups.values_list("name", flat=True)) == ["ops"]
    assert team_events(platform)[-2:] == [
        ("root", "add_member", {"user": "charlie", "role": "member"}),
        ("root", "remove_member", {"user": "charlie"}),
    ]


def test_the_user_form_keeps_a_team_manager(admin_client, alice, platform):
    response = admin_client.post(change_url(alice), change_form(alice, groups=[], first_name="Alice"), follow=True)

    assert flashed(response) == [
        "alice is the last manager of team “platform”; make another member a manager first, or delete the team."
    ]
    alice.refresh_from_db()
    assert alice.first_name == "" and list(alice.groups.all()) == [platform.group]  # nothing was saved


def test_a_staff_member_who_manages_no_team_cannot_change_its_members(ops_client, bob, platform):
    response = ops_client.post(change_url(bob), change_form(bob, groups=[]), follow=True)

    assert flashed(response) == ["Only the team's managers can do that."]
    assert list(bob.groups.all()) == [platform.group]
    # The rest of the user form is theirs to change, as before.
    assert ops_client.post(change_url(bob), change_form(bob, first_name="Bob")).status_code == 302


def test_renaming_and_deleting_a_group_go_through_the_services(admin_client, platform):
    url = f"/admin/auth/group/{platform.group.pk}/"
    assert admin_client.post(url + "change/", {"name": "infra", "permissions": []}).status_code == 302
    assert Team.objects.get().name == "infra"

    assert admin_client.post(url + "delete/", {"post": "yes"}).status_code == 302

    assert not Group.objects.exists()
    assert [event[1] for event in team_events(platform)] == ["create", "add_member", "update", "delete"]


def test_a_group_made_in_the_admin_is_a_team_without_managers(admin_client):
    assert admin_client.post("/admin/auth/group/add/", {"name": "made-here", "permissions": []}).status_code == 302
    team = Team.objects.get(group__name="made-here")
    assert list(team.managers.all()) == []


def test_a_staff_member_who_manages_no_team_cannot_rename_or_delete_it(ops_client, platform):
    url = f"/admin/auth/group/{platform.group.pk}/"
    response = ops_client.post(url + "change/", {"name": "mine", "permissions": []}, follow=True)
    assert flashed(response) == ["Only the team's managers can do that."]
    response = ops_client.post(url + "delete/", {"post": "yes"}, follow=True)
    assert flashed(response) == ["Only the team's managers can do that."]
    assert Team.objects.get().name == "platform"


def test_the_group_page_lists_the_members_and_managers(admin_client, platform):
    content = admin_client.get(f"/admin/auth/group/{platform.group.pk}/change/").content.decode()
    assert "alice (manager), bob" in content
    assert admin_client.get("/admin/auth/group/add/").status_code == 200
