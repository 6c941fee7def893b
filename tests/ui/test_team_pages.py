"""The Teams pages: your teams and a new-team form, one team's members (htmx), rename, delete.

alice manages ``platform``, bob is a plain member, charlie an outsider, root a superuser.
"""

from __future__ import annotations

import pytest

from audit.models import AuditEvent
from sharing import services as sharing
from sharing.levels import Level
from teams import services as teams
from teams.models import Role, Team

pytestmark = pytest.mark.django_db


def page(team, suffix: str = "") -> str:
    return f"/teams/{team.public_id}/{suffix}"


def roles(team) -> dict[str, str]:
    return {member.user.username: member.role.value for member in teams.members(team)}


# -- the list and the new-team form --------------------------------------------------------------------


def test_the_list_shows_my_teams_with_member_counts_and_my_role(client_for, alice, bob, charlie, platform):
    teams.create_team(actor=charlie, name="charlies")

    content = client_for(bob).get("/teams/").content.decode()

    assert f'href="/teams/{platform.public_id}/"' in content
    assert "2 members" in content and "Member</span>" in content
    assert "charlies" not in content
    assert 'href="/teams/" aria-current="page">Teams</a>' in content  # the main nav


def test_creating_a_team_leads_to_its_page(client_for, alice):
    client = client_for(alice)
    response = client.post("/teams/", {"name": "research"})

    team = Team.objects.get()
    assert response.status_code == 302 and response["Location"] == page(team)
    assert roles(team) == {"alice": "manager"}
    content = client.get(page(team)).content.decode()
    assert "Team “research” created" in content


@pytest.mark.parametrize(
    ("name", "error"),
    [("", "This field is required."), ("PLATFORM", "A team named “PLATFORM” already exists; choose another name.")],
)
def test_a_refused_name_is_shown_on_the_form(client_for, alice, platform, name, error):
    response = client_for(alice).post("/teams/", {"name": name})

    assert response.status_code == 422
    content = response.content.decode()
    assert "data-error-summary" in content
    assert f'<a href="#id_name">Team name: {error}</a>' in content
    assert Team.objects.count() == 1


# -- one team's page -----------------------------------------------------------------------------------


def test_a_manager_sees_the_controls(client_for, alice, platform):
    content = client_for(alice).get(page(platform)).content.decode()

    assert 'class="card team-members"' in content
    assert 'aria-label="Make bob a manager"' in content
    assert 'aria-label="Remove bob"' in content
    assert 'aria-label="Leave platform"' in content
    assert 'id="add-user"' in content and "Rename team" in content and "Delete team" in content


def test_a_member_sees_members_roles_and_what_is_shared_but_no_controls(client_for, alice, bob, platform, bobs_key):
    sharing.grant(bobs_key, platform.group, Level.USE, actor=bob)

    content = client_for(bob).get(page(platform)).content.decode()

    assert 'data-member="alice"' in content and 'data-member="bob"' in content
    assert 'member-role badge-level-manage">Manager' in content
    assert f'href="/keys/{bobs_key.public_id}/">bob-openai</a>' in content
    assert '<span class="badge badge-level-use">Use</span>' in content
    assert 'aria-label="Leave platform"' in content  # a member may leave
    for control in ("Make alice", "Remove alice", 'id="add-user"', "Rename team", "Delete team"):
        assert control not in content
    assert "added bob" in content  # the history


def test_a_superuser_who_is_not_a_member_manages_it(client_for, admin_user, platform):
    content = client_for(admin_user).get(page(platform)).content.decode()
    assert "You are not a member" in content and 'aria-label="Remove bob"' in content


def test_outsiders_get_404_on_every_team_page(client_for, charlie, platform):
    client = client_for(charlie)
    for suffix in ("", "delete"):
        assert client.get(page(platform, suffix)).status_code == 404
    for suffix, data in [
        ("rename", {"name": "mine"}),
        ("delete", {}),
        ("members/add", {"user": "charlie"}),
        ("members/remove", {"user": "bob"}),
        ("members/role", {"user": "charlie", "role": "manager"}),
    ]:
        assert client.post(page(platform, suffix), data).status_code == 404
    assert client.get(f"/teams/{'0' * 32}/").status_code == 404


def test_a_plain_member_gets_403_for_changes(client_for, bob, charlie, platform):
    client = client_for(bob, htmx=True)
    assert client.get(page(platform, "delete")).status_code == 403
    for suffix, data in [
        ("rename", {"name": "mine"}),
        ("delete", {}),
        ("members/add", {"user": "charlie"}),
        ("members/remove", {"user": "alice"}),
        ("members/role", {"user": "bob", "role": "manager"}),
    ]:
        assert client.post(page(platform, suffix), data).status_code == 403, suffix
    assert roles(platform) == {"alice": "manager", "bob": "member"}


# -- the members card (htmx) ---------------------------------------------------------------------------


def test_adding_a_member_swaps_the_card_with_a_flash(client_for, alice, charlie, platform):
    response = client_for(alice, htmx=True).post(page(platform, "members/add"), {"user": "charlie", "role": "member"})

    content = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in content and 'class="card team-members"' in content
    assert 'data-member="charlie"' in content
    assert 'hx-swap-oob="true"' in content and "Added charlie to “platform”." in content
    assert roles(platform)["charlie"] == "member"


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"user": "nobody", "role": "member"}, "No active user named &#x27;nobody&#x27;."),
        ({"user": "bob", "role": "member"}, "bob is already a member of “platform”."),
        ({"user": "", "role": "member"}, "Enter the username of the person to add."),
    ],
)
def test_a_refused_addition_is_an_inline_error(client_for, alice, platform, data, error):
    response = client_for(alice, htmx=True).post(page(platform, "members/add"), data)
    assert response.status_code == 422
    content = response.content.decode()
    assert 'class="card team-members"' in content and error in content


def test_removing_promoting_and_demoting_in_place(client_for, alice, bob, platform):
    client = client_for(alice, htmx=True)

    response = client.post(page(platform, "members/role"), {"user": "bob", "role": "manager"})
    assert response.status_code == 200 and "bob is now a manager of “platform”." in response.content.decode()
    assert 'aria-label="Make bob a member"' in response.content.decode()

    response = client.post(page(platform, "members/remove"), {"user": "bob"})
    assert response.status_code == 200
    assert 'data-member="bob"' not in response.content.decode()
    assert roles(platform) == {"alice": "manager"}


def test_the_last_manager_is_refused_inline(client_for, alice, platform):
    client = client_for(alice, htmx=True)
    for suffix, data in [("members/role", {"user": "alice", "role": "member"}), ("members/remove", {"user": "alice"})]:
        response = client.post(page(platform, suffix), data)
        assert response.status_code == 422
        assert "alice is the last manager of team “platform”" in response.content.decode()
    assert roles(platform) == {"alice": "manager", "bob": "member"}


def test_an_object_that_would_lose_its_manager_is_named(client_for, alice, bob, admin_user, platform, bobs_key):
    sharing.grant(bobs_key, platform.group, Level.MANAGE, actor=bob)
    sharing.revoke(bobs_key, bob, actor=bob)
    alice.is_active = False
    alice.save()

    response = client_for(admin_user, htmx=True).post(page(platform, "members/remove"), {"user": "bob"})

    assert response.status_code == 422
    assert "Removing bob from team “platform” would leave nobody able to manage key “bob-openai”" in (
        response.content.decode()
    )


def test_leaving_sends_the_browser_to_the_team_list(client_for, bob, platform):
    response = client_for(bob, htmx=True).post(page(platform, "members/remove"), {"user": "bob"})
    assert response.status_code == 200 and response["HX-Redirect"] == "/teams/"
    assert "bob" not in roles(platform)


def test_a_manager_who_steps_down_gets_the_page_again(client_for, alice, bob, platform):
    teams.set_role(platform, bob, Role.MANAGER, actor=alice)
    response = client_for(alice, htmx=True).post(page(platform, "members/role"), {"user": "alice", "role": "member"})
    assert response["HX-Redirect"] == page(platform)
    assert 'aria-label="Make bob a member"' not in client_for(alice).get(page(platform)).content.decode()


def test_without_htmx_the_forms_redirect_or_show_the_page_with_the_error(client_for, alice, charlie, platform):
    client = client_for(alice)
    response = client.post(page(platform, "members/add"), {"user": "charlie", "role": "manager"})
    assert response.status_code == 302 and response["Location"] == page(platform)
    assert roles(platform)["charlie"] == "manager"

    response = client.post(page(platform, "members/remove"), {"user": "nobody"})
    assert response.status_code == 422
    content = response.content.decode()
    assert "<html" in content and "nobody is not a member of “platform”." in content


# -- rename and delete ---------------------------------------------------------------------------------


def test_renaming(client_for, alice, platform):
    client = client_for(alice)
    response = client.post(page(platform, "rename"), {"name": "infra"})
    assert response.status_code == 302
    assert Team.objects.get().name == "infra"

    teams.create_team(actor=alice, name="ops")
    response = client.post(page(platform, "rename"), {"name": "Ops"})
    assert response.status_code == 422
    assert "A team named “Ops” already exists" in response.content.decode()


def test_deleting_asks_first_then_deletes(client_for, alice, platform):
    client = client_for(alice)
    content = client.get(page(platform, "delete")).content.decode()
    assert "Delete team “platform”?" in content and "disabled" not in content

    response = client.post(page(platform, "delete"))

    assert response.status_code == 302 and response["Location"] == "/teams/"
    assert not Team.objects.exists()
    assert AuditEvent.objects.filter(object_type="team", action="delete").count() == 1


def test_a_delete_that_would_orphan_an_object_is_refused_on_the_page(client_for, alice, bob, platform, bobs_key):
    sharing.grant(bobs_key, platform.group, Level.MANAGE, actor=bob)
    sharing.revoke(bobs_key, bob, actor=bob)
    client = client_for(alice)

    content = client.get(page(platform, "delete")).content.decode()
    assert "This team can’t be deleted." in content and "key “bob-openai”" in content and " disabled" in content
    response = client.post(page(platform, "delete"))
    assert response.status_code == 422
    assert Team.objects.exists()


# -- what members see elsewhere ------------------------------------------------------------------------


def test_a_key_shared_with_the_team_is_in_a_members_keys_until_they_are_removed(
    client_for, alice, bob, charlie, platform, bobs_key
):
    sharing.grant(bobs_key, platform.group, Level.USE, actor=bob)
    teams.add_member(platform, charlie, actor=alice)
    client = client_for(charlie)
    assert f'href="/keys/{bobs_key.public_id}/"' in client.get("/keys/").content.decode()
    assert client.get(f"/keys/{bobs_key.public_id}/").status_code == 200

    client_for(alice, htmx=True).post(page(platform, "members/remove"), {"user": "charlie"})

    assert "bob-openai" not in client.get("/keys/").content.decode()
    assert client.get(f"/keys/{bobs_key.public_id}/").status_code == 404


def test_the_sharing_panel_offers_my_teams_by_name(client_for, bob, platform, bobs_key):
    teams.create_team(actor=bob, name="bobs-other-team")
    content = client_for(bob, htmx=True).get(f"/share/key/{bobs_key.public_id}/").content.decode()
    assert '<optgroup label="Your teams">' in content
    assert '<option value="group:platform">platform</option>' in content
    assert '<option value="group:bobs-other-team">bobs-other-team</option>' in content
