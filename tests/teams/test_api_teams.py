"""The teams API: the same rules as the Teams page (``teams.services``), as JSON with DRF errors.

alice manages ``platform``, bob is a plain member, charlie an outsider, root a superuser.
"""

from __future__ import annotations

import pytest

from audit.models import AuditEvent
from sharing import services as sharing
from sharing.levels import Level
from teams.models import Team

pytestmark = pytest.mark.django_db

API = "/api/3.0/mlflow/gateway"
URL = f"{API}/teams/"


def team_url(team, suffix: str = "") -> str:
    return f"{URL}{team.public_id}/{suffix}"


def test_creating_a_team_makes_the_caller_its_manager(api, alice):
    response = api(alice).post(URL, {"name": "platform"}, format="json")

    assert response.status_code == 201
    body = response.json()
    team = Team.objects.get()
    assert body == {
        "id": team.public_id,
        "name": "platform",
        "role": "manager",
        "member_count": 1,
        "created_by": "alice",
        "created_at": body["created_at"],
        "members": [{"user": "alice", "role": "manager"}],
        "shared": [],
    }


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({}, {"name": ["This field is required."]}),
        ({"name": ""}, {"name": ["This field may not be blank."]}),
        ({"name": "x" * 151}, {"name": ["Ensure this field has no more than 150 characters."]}),
        ({"name": "tab\tname"}, {"name": ["Remove the control characters from this text."]}),
        ({"name": "PLATFORM"}, {"name": ["A team named “PLATFORM” already exists; choose another name."]}),
    ],
)
def test_a_bad_name_is_a_400_with_the_field_error(api, alice, platform, body, errors):
    response = api(alice).post(URL, body, format="json")
    assert response.status_code == 400
    assert response.json() == errors


def test_the_list_holds_the_callers_teams_with_their_role(api, alice, bob, charlie, admin_user, platform):
    api(charlie).post(URL, {"name": "charlies"}, format="json")

    def listed(user):
        return [(team["name"], team["role"], team["member_count"]) for team in api(user).get(URL).json()["results"]]

    assert listed(alice) == [("platform", "manager", 2)]
    assert listed(bob) == [("platform", "member", 2)]
    assert listed(charlie) == [("charlies", "manager", 1)]
    assert listed(admin_user) == [("charlies", None, 1), ("platform", None, 2)]
    assert api(None).get(URL).status_code == 401


def test_a_member_reads_the_team_its_members_and_what_is_shared_with_it(api, bob, platform, bobs_key):
    sharing.grant(bobs_key, platform.group, Level.USE, actor=bob)

    body = api(bob).get(team_url(platform)).json()

    assert body["role"] == "member"
    assert body["members"] == [{"user": "alice", "role": "manager"}, {"user": "bob", "role": "member"}]
    assert body["shared"] == [{"type": "key", "id": bobs_key.public_id, "name": "bob-openai", "level": "USE"}]
    assert api(bob).get(team_url(platform, "members")).json() == body["members"]


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [
        ("get", "", None),
        ("patch", "", {"name": "mine"}),
        ("put", "", {"name": "mine"}),
        ("delete", "", None),
        ("get", "members", None),
        ("post", "members", {"user": "charlie"}),
        ("patch", "members/bob", {"role": "manager"}),
        ("delete", "members/bob", None),
    ],
)
def test_an_outsider_gets_404_for_everything(api, charlie, platform, method, suffix, body):
    client = api(charlie)
    response = getattr(client, method)(team_url(platform, suffix), body, format="json")
    assert response.status_code == 404
    assert response.json() == {"detail": "No team matches the given query."}


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [
        ("patch", "", {"name": "mine"}),
        ("patch", "", {}),
        ("put", "", {"name": "mine"}),
        ("delete", "", None),
        ("post", "members", {"user": "charlie"}),
        ("patch", "members/bob", {"role": "manager"}),
        ("delete", "members/alice", None),
    ],
)
def test_a_plain_member_gets_403_for_every_change(api, bob, platform, method, suffix, body):
    response = getattr(api(bob), method)(team_url(platform, suffix), body, format="json")
    assert response.status_code == 403
    assert response.json() == {"detail": "Only the team's managers can do that."}
    assert Team.objects.get().name == "platform"


def test_a_manager_renames_adds_promotes_and_removes(api, alice, charlie, platform):
    client = api(alice)

    assert client.patch(team_url(platform), {"name": "infra"}, format="json").json()["name"] == "infra"
    response = client.post(team_url(platform, "members"), {"user": "charlie", "role": "manager"}, format="json")
    assert (response.status_code, response.json()) == (201, {"user": "charlie", "role": "manager"})
    response = client.patch(team_url(platform, "members/bob"), {"role": "manager"}, format="json")
    assert (response.status_code, response.json()) == (200, {"user": "bob", "role": "manager"})
    assert client.delete(team_url(platform, "members/charlie")).status_code == 204

    assert client.get(team_url(platform, "members")).json() == [
        {"user": "alice", "role": "manager"},
        {"user": "bob", "role": "manager"},
    ]
    actions = list(
        AuditEvent.objects.filter(object_id=platform.pk).order_by("created_at").values_list("action", flat=True)
    )
    assert actions == ["create", "add_member", "update", "add_member", "change_role", "remove_member"]


def test_member_errors(api, alice, platform):
    client = api(alice)
    cases = [
        ("post", "members", {"user": "nobody"}, 400, {"user": ["No active user named 'nobody'."]}),
        ("post", "members", {"user": "bob"}, 400, {"user": ["bob is already a member of “platform”."]}),
        ("post", "members", {"user": "bob", "role": "owner"}, 400, {"role": ['"owner" is not a valid choice.']}),
        ("patch", "members/bob", {"role": "owner"}, 400, {"role": ['"owner" is not a valid choice.']}),
        ("patch", "members/nobody", {"role": "manager"}, 404, {"detail": "No such member of this team."}),
        ("delete", "members/nobody", None, 404, {"detail": "No such member of this team."}),
    ]
    for method, suffix, body, status, errors in cases:
        response = getattr(client, method)(team_url(platform, suffix), body, format="json")
        assert (response.status_code, response.json()) == (status, errors), (method, suffix, body)


def test_the_last_manager_is_refused_with_a_400(api, alice, admin_user, platform):
    last = "alice is the last manager of team “platform”; make another member a manager first"
    response = api(alice).patch(team_url(platform, "members/alice"), {"role": "member"}, format="json")
    assert (response.status_code, response.json()) == (400, {"user": [last + "."]})
    response = api(admin_user).delete(team_url(platform, "members/alice"))
    assert (response.status_code, response.json()) == (400, {"user": [last + ", or delete the team."]})


def test_a_member_leaves_and_no_longer_sees_the_team(api, bob, platform, bobs_key):
    sharing.grant(bobs_key, platform.group, Level.MANAGE, actor=bob)
    sharing.revoke(bobs_key, bob, actor=bob)  # the key is managed through the team now
    client = api(bob)
    assert [key["name"] for key in client.get(f"{API}/keys/").json()["results"]] == ["bob-openai"]

    assert client.delete(team_url(platform, "members/bob")).status_code == 204

    assert client.get(team_url(platform)).status_code == 404
    assert client.get(f"{API}/keys/").json()["results"] == []
    assert client.get(f"{API}/keys/{bobs_key.public_id}/").status_code == 404


def test_removing_the_last_member_who_manages_an_object_is_refused_with_the_objects(
    api, alice, bob, admin_user, platform, bobs_key
):
    sharing.grant(bobs_key, platform.group, Level.MANAGE, actor=bob)
    sharing.revoke(bobs_key, bob, actor=bob)
    alice.is_active = False
    alice.save()

    response = api(admin_user).delete(team_url(platform, "members/bob"))

    assert response.status_code == 400
    assert response.json() == {
        "user": [
            "Removing bob from team “platform” would leave nobody able to manage key “bob-openai”; "
            "grant MANAGE to another active user, or to a group with active members, first."
        ]
    }
    response = api(admin_user).delete(team_url(platform))
    assert response.status_code == 400
    assert response.json()["non_field_errors"][0].startswith("Deleting team “platform” would leave nobody")


def test_a_manager_deletes_the_team(api, alice, platform):
    assert api(alice).delete(team_url(platform)).status_code == 204
    assert not Team.objects.exists()
    assert api(alice).get(URL).json()["results"] == []


def test_a_key_shared_with_the_team_is_used_through_it_until_removal(api, alice, bob, charlie, platform, bobs_key):
    """A key shared with the team at USE: a member sees it in the keys API, and not after removal."""
    api(bob).post(f"{API}/keys/{bobs_key.public_id}/permissions", {"group": "platform", "level": "USE"}, format="json")
    api(alice).post(team_url(platform, "members"), {"user": "charlie"}, format="json")

    keys = api(charlie).get(f"{API}/keys/").json()["results"]
    assert [(key["name"], key["masked_secret"]) for key in keys] == [("bob-openai", "sk-...BKEY")]
    assert sharing.get_level(charlie, bobs_key) == Level.USE

    api(alice).delete(team_url(platform, "members/charlie"))

    assert api(charlie).get(f"{API}/keys/").json()["results"] == []
    assert api(charlie).get(f"{API}/keys/{bobs_key.public_id}/").status_code == 404


def test_the_schema_documents_the_teams_routes_and_their_refusals(client):
    paths = client.get("/api/schema/?format=json").json()["paths"]
    prefix = "/api/3.0/mlflow/gateway/teams/"
    assert set(paths[prefix]) >= {"get", "post"}
    assert set(paths[prefix + "{id}/"]) >= {"get", "put", "patch", "delete"}
    assert set(paths[prefix + "{id}/members/"]) >= {"get", "post"}
    member = paths[prefix + "{id}/members/{username}/"]
    assert set(member) >= {"patch", "delete"}
    # Refusals with no input to blame (the last manager, an orphaned object) are documented 400s.
    assert "400" in member["delete"]["responses"]
    assert "400" in paths[prefix + "{id}/"]["delete"]["responses"]
    assert {"401", "403", "404"} <= set(member["delete"]["responses"])


def test_a_deleted_creator_leaves_the_team_without_a_creator(api, alice, bob, admin_user, platform):
    alice.delete()
    body = api(bob).get(team_url(platform)).json()
    assert body["created_by"] is None
    assert body["members"] == [{"user": "bob", "role": "member"}]
