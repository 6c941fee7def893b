"""The sharing panel: MANAGE holders add, change and remove grants; everyone else sees their level."""

from __future__ import annotations

import pytest

from sharing import services as sharing
from sharing.levels import Level
from tests.factories import make_group

pytestmark = pytest.mark.django_db


def panel(obj, kind: str = "key") -> str:
    return f"/share/{kind}/{obj.public_id}/"


def test_the_manager_sees_grants_pickers_and_the_add_form(client_for, alice, bob, team, key):
    alice.groups.add(team)  # the picker offers the teams she is in, by name
    make_group("not-hers")
    response = client_for(alice, htmx=True).get(panel(key))
    content = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in content  # a fragment
    assert 'class="card share-panel"' in content
    assert 'value="user:alice"' in content  # alice's own row
    assert '<option value="user:bob">bob</option>' in content
    assert '<option value="group:team">team</option>' in content
    assert "not-hers" not in content  # a team she is not in is not hers to see
    assert '<option value="user:alice">' not in content  # already has a grant
    assert 'hx-target="closest .share-panel"' in content


@pytest.mark.parametrize("level", ["READ", "USE", "EDIT"])
def test_a_user_below_manage_sees_only_their_level(client_for, bob, key, share, level):
    share(key, bob, level)
    content = client_for(bob, htmx=True).get(panel(key)).content.decode()
    assert f"You have {level} access" in content
    assert "<form" not in content
    assert "user:alice" not in content


def test_outsiders_unknown_ids_and_unknown_kinds_are_404(client_for, alice, charlie, key):
    assert client_for(charlie).get(panel(key)).status_code == 404
    assert (
        client_for(charlie).post(panel(key) + "grant", {"principal": "user:charlie", "level": "MANAGE"}).status_code
        == 404
    )
    assert client_for(alice).get(f"/share/key/{'0' * 32}/").status_code == 404
    assert client_for(alice).get(f"/share/token/{key.public_id}/").status_code == 404


@pytest.mark.parametrize("level", ["READ", "EDIT"])
@pytest.mark.parametrize("action", ["grant", "revoke"])
def test_sharing_needs_manage(client_for, bob, charlie, key, share, level, action):
    share(key, bob, level)
    response = client_for(bob, htmx=True).post(panel(key) + action, {"principal": "user:charlie", "level": "READ"})
    assert response.status_code == 403
    assert sharing.get_level(charlie, key) is None


def test_add_change_and_remove_with_two_users_and_a_group(client_for, alice, bob, charlie, dave, team, key):
    client = client_for(alice, htmx=True)

    response = client.post(panel(key) + "grant", {"principal": "user:bob", "level": "READ"})
    assert response.status_code == 200
    assert 'value="user:bob"' in response.content.decode()
    assert sharing.get_level(bob, key) == Level.READ

    client.post(panel(key) + "grant", {"principal": "user:charlie", "level": "USE"})
    client.post(panel(key) + "grant", {"principal": "group:team", "level": "EDIT"})
    assert sharing.get_level(charlie, key) == Level.USE
    assert sharing.get_level(dave, key) == Level.EDIT

    response = client.post(panel(key) + "grant", {"principal": "user:bob", "level": "MANAGE"})
    assert sharing.get_level(bob, key) == Level.MANAGE
    assert "bob now has MANAGE" in response.content.decode()

    response = client.post(panel(key) + "revoke", {"principal": "group:team"})
    assert response.status_code == 200
    assert sharing.get_level(dave, key) is None
    assert 'value="group:team"' not in response.content.decode().split("share-add")[0]

    client.post(panel(key) + "revoke", {"principal": "user:charlie"})
    assert [grant.as_dict() for grant in sharing.list_grants(key)] == [
        {"user": "alice", "level": "MANAGE"},
        {"user": "bob", "level": "MANAGE"},
    ]
    assert client_for(charlie).get(f"/keys/{key.public_id}/").status_code == 404


def test_a_write_swaps_the_flash_message_out_of_band(client_for, alice, bob, key):
    response = client_for(alice, htmx=True).post(panel(key) + "grant", {"principal": "user:bob", "level": "USE"})
    content = response.content.decode()
    assert 'id="messages"' in content and 'hx-swap-oob="true"' in content
    assert "flash-success" in content


def test_an_unknown_user_is_an_inline_error(client_for, alice, key):
    response = client_for(alice, htmx=True).post(panel(key) + "grant", {"principal": "user:nobody", "level": "READ"})
    assert response.status_code == 422
    assert "No active user named &#x27;nobody&#x27;" in response.content.decode()
    assert 'class="card share-panel"' in response.content.decode()


def test_a_malformed_principal_or_level_is_an_inline_error(client_for, alice, key):
    client = client_for(alice, htmx=True)
    assert (
        b"Choose a user or a group" in client.post(panel(key) + "grant", {"principal": "bob", "level": "READ"}).content
    )
    response = client.post(panel(key) + "grant", {"principal": "user:alice", "level": "OWNER"})
    assert response.status_code == 422
    assert sharing.get_level(alice, key) == Level.MANAGE


@pytest.mark.parametrize(("action", "body"), [("grant", {"level": "READ"}), ("revoke", {})])
def test_the_last_manager_cannot_demote_or_remove_themselves(client_for, alice, key, action, body):
    response = client_for(alice, htmx=True).post(panel(key) + action, {"principal": "user:alice", **body})
    assert response.status_code == 422
    assert "nobody able to manage" in response.content.decode()
    assert sharing.get_level(alice, key) == Level.MANAGE


def test_revoking_someone_without_access_is_an_inline_error(client_for, alice, bob, key):
    response = client_for(alice, htmx=True).post(panel(key) + "revoke", {"principal": "user:bob"})
    assert response.status_code == 422
    assert b"no access to remove" in response.content


def test_a_manager_who_demotes_themselves_then_sees_their_new_level(client_for, alice, bob, key, share):
    share(key, bob, "MANAGE")
    response = client_for(alice, htmx=True).post(panel(key) + "grant", {"principal": "user:alice", "level": "READ"})
    assert response.status_code == 200
    assert "You have READ access" in response.content.decode()


def test_the_same_panel_serves_endpoints(client_for, alice, bob, key, make_endpoint):
    endpoint = make_endpoint(key, name="chat-prod")
    client = client_for(alice, htmx=True)
    assert client.get(panel(endpoint, "endpoint")).status_code == 200
    client.post(panel(endpoint, "endpoint") + "grant", {"principal": "user:bob", "level": "USE"})
    assert sharing.get_level(bob, endpoint) == Level.USE


def test_without_htmx_the_panel_is_a_full_page(client_for, alice, bob, key):
    client = client_for(alice)
    page = client.get(panel(key)).content.decode()
    assert "<html" in page and "Share “openai-prod”" in page
    response = client.post(panel(key) + "grant", {"principal": "user:bob", "level": "READ"})
    assert response.status_code == 200 and "<html" in response.content.decode()
    assert sharing.get_level(bob, key) == Level.READ


def test_the_panel_is_get_only_and_writes_are_post_only(client_for, alice, key):
    client = client_for(alice)
    assert client.post(panel(key)).status_code == 405
    assert client.get(panel(key) + "grant").status_code == 405
