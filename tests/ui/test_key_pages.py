"""Key pages: who sees what, the write-only secret, and delete blocked while in use."""

from __future__ import annotations

import pytest

from audit.models import AuditEvent
from keys.models import Key
from sharing import services as sharing
from sharing.levels import Level
from tests.ui.conftest import SECRET

pytestmark = pytest.mark.django_db

NEW_SECRET = "sk-replacement-SECRET-0a1b2c3d4e"
EDIT_BUTTON = b'/edit">'
DELETE_BUTTON = b'/delete">'


def url(key, suffix: str = "") -> str:
    return f"/keys/{key.public_id}/{suffix}"


# --- list ------------------------------------------------------------------


def test_the_list_shows_name_provider_masked_secret_and_only_you(client_for, alice, key):
    response = client_for(alice).get("/keys/")
    content = response.content.decode()
    assert response.status_code == 200
    assert "openai-prod" in content and "OpenAI" in content
    assert key.masked_secret in content
    assert "Only you" in content
    assert "Not in use" in content
    assert SECRET not in content


def test_the_list_counts_who_can_see_a_shared_key(client_for, alice, bob, team, key, share):
    share(key, bob, "READ")
    share(key, team, "USE")
    content = client_for(bob).get("/keys/").content.decode()
    assert "openai-prod" in content
    assert "2 users, 1 group" in content


def test_the_list_names_visible_endpoints_and_counts_hidden_ones(client_for, alice, bob, key, make_endpoint, share):
    share(key, bob, "USE")
    shown = make_endpoint(key, name="ep-shown")
    make_endpoint(key, name="ep-hidden")
    share(shown, bob, "READ")
    content = client_for(bob).get("/keys/").content.decode()
    assert "ep-shown" in content
    assert "ep-hidden" not in content
    assert "+1 hidden" in content


def test_the_list_hides_keys_from_outsiders(client_for, charlie, key):
    content = client_for(charlie).get("/keys/").content.decode()
    assert "openai-prod" not in content
    assert "No keys yet" in content


# --- create ----------------------------------------------------------------


def test_the_create_form_offers_catalog_providers_by_display_name(client_for, alice):
    content = client_for(alice).get("/keys/new").content.decode()
    assert '<option value="openai">OpenAI</option>' in content
    assert 'type="password"' in content


def test_creating_a_key_redirects_to_it_and_gives_the_creator_manage(client_for, alice):
    client = client_for(alice)
    response = client.post("/keys/new", {"name": "groq", "provider": "groq", "secret": SECRET, "description": "x"})
    key = Key.objects.get(name="groq")
    assert response.status_code == 302 and response["Location"] == url(key)
    assert sharing.get_level(alice, key) == Level.MANAGE
    page = client.get(response["Location"])
    assert SECRET not in page.content.decode()
    assert "added" in page.content.decode()


@pytest.mark.parametrize(
    "body",
    [
        {"name": "", "provider": "openai"},
        {"name": "k", "provider": "not-a-provider"},
        {"name": "x" * 101, "provider": "openai"},
    ],
)
def test_a_form_error_never_renders_the_submitted_secret(client_for, alice, body):
    response = client_for(alice).post("/keys/new", {**body, "secret": SECRET})
    assert response.status_code == 422
    assert SECRET not in response.content.decode()
    assert "errorlist" in response.content.decode()
    assert not Key.objects.exists()


def test_a_missing_secret_is_an_error(client_for, alice):
    response = client_for(alice).post("/keys/new", {"name": "k", "provider": "openai", "secret": ""})
    assert response.status_code == 422
    assert not Key.objects.exists()


# --- detail ----------------------------------------------------------------


def test_the_owner_sees_details_buttons_and_the_sharing_panel_loader(client_for, alice, key):
    content = client_for(alice).get(url(key)).content
    assert key.masked_secret.encode() in content
    assert EDIT_BUTTON in content and DELETE_BUTTON in content and b'/secret">' in content
    assert f'hx-get="/share/key/{key.public_id}/"'.encode() in content
    assert b'hx-trigger="load"' in content
    assert SECRET.encode() not in content


def test_a_read_user_sees_the_key_but_no_edit_or_delete_buttons(client_for, bob, key, share):
    share(key, bob, "READ")
    response = client_for(bob).get(url(key))
    assert response.status_code == 200
    assert EDIT_BUTTON not in response.content
    assert DELETE_BUTTON not in response.content
    assert b'/secret">' not in response.content


def test_an_edit_user_sees_edit_but_not_delete(client_for, bob, key, share):
    share(key, bob, "EDIT")
    content = client_for(bob).get(url(key)).content
    assert EDIT_BUTTON in content
    assert DELETE_BUTTON not in content


def test_a_group_member_sees_the_key(client_for, dave, team, key, share):
    share(key, team, "READ")
    assert client_for(dave).get(url(key)).status_code == 200


def test_the_detail_shows_endpoints_using_the_key_and_its_history(client_for, alice, key, make_endpoint):
    endpoint = make_endpoint(key, name="chat-prod")
    content = client_for(alice).get(url(key)).content.decode()
    assert f'href="/endpoints/{endpoint.public_id}/"' in content
    assert "chat-prod" in content
    assert "created" in content  # the history has the creation event


@pytest.mark.parametrize("suffix", ["", "edit", "secret", "delete"])
def test_outsiders_get_404_on_every_key_page(client_for, charlie, key, suffix):
    client = client_for(charlie)
    assert client.get(url(key, suffix)).status_code == 404
    if suffix:
        assert client.post(url(key, suffix), {"name": "x", "secret": NEW_SECRET}).status_code == 404


def test_a_malformed_id_is_404(client_for, alice):
    assert client_for(alice).get("/keys/not-a-hex/").status_code == 404


# --- edit and replace secret ------------------------------------------------


@pytest.mark.parametrize("suffix", ["edit", "secret"])
def test_a_read_user_cannot_edit_or_replace_the_secret(client_for, bob, key, share, suffix):
    share(key, bob, "USE")
    client = client_for(bob)
    assert client.get(url(key, suffix)).status_code == 403
    response = client.post(url(key, suffix), {"name": "hacked", "provider": "openai", "secret": NEW_SECRET})
    assert response.status_code == 403
    key.refresh_from_db()
    assert key.name == "openai-prod" and key.secret() == SECRET


def test_an_edit_user_changes_the_key_and_the_audit_keeps_the_old_name(client_for, bob, key, share):
    share(key, bob, "EDIT")
    client = client_for(bob)
    form = client.get(url(key, "edit")).content.decode()
    # The secret field is there for changing the connection, and always empty.
    assert 'name="secret"' in form and SECRET not in form
    response = client.post(url(key, "edit"), {"name": "renamed", "provider": "openai", "description": "d"})
    assert response.status_code == 302
    key.refresh_from_db()
    assert key.name == "renamed" and key.secret() == SECRET
    event = AuditEvent.objects.filter(object_id=key.pk, action="update").get()
    assert event.changes["name"] == {"before": "openai-prod", "after": "renamed"}


def test_an_edit_error_is_shown_inline(client_for, alice, key):
    response = client_for(alice).post(url(key, "edit"), {"name": "", "provider": "openai"})
    assert response.status_code == 422
    assert b"errorlist" in response.content


def test_replacing_the_secret_never_shows_either_secret(client_for, bob, key, share):
    share(key, bob, "EDIT")
    client = client_for(bob)
    response = client.post(url(key, "secret"), {"secret": NEW_SECRET}, follow=True)
    content = response.content.decode()
    key.refresh_from_db()
    assert key.secret() == NEW_SECRET
    assert NEW_SECRET not in content and SECRET not in content
    assert key.masked_secret in content
    assert "replaced" in content


def test_an_empty_replacement_secret_is_refused(client_for, alice, key):
    response = client_for(alice).post(url(key, "secret"), {"secret": "   "})
    assert response.status_code == 422
    key.refresh_from_db()
    assert key.secret() == SECRET


# --- delete ----------------------------------------------------------------


def test_delete_needs_manage(client_for, bob, key, share):
    share(key, bob, "EDIT")
    client = client_for(bob)
    assert client.get(url(key, "delete")).status_code == 403
    assert client.post(url(key, "delete")).status_code == 403
    assert Key.objects.filter(pk=key.pk).exists()


def test_the_owner_confirms_then_deletes(client_for, alice, key):
    client = client_for(alice)
    confirm = client.get(url(key, "delete"))
    assert confirm.status_code == 200 and b"Delete key</button>" in confirm.content
    response = client.post(url(key, "delete"))
    assert response.status_code == 302 and response["Location"] == "/keys/"
    assert not Key.objects.filter(pk=key.pk).exists()


def test_delete_is_blocked_while_endpoints_use_the_key(client_for, alice, key, make_endpoint):
    make_endpoint(key, name="ep")
    client = client_for(alice)
    assert b"Endpoints still use this key" in client.get(url(key, "delete")).content
    response = client.post(url(key, "delete"))
    content = response.content.decode()
    assert response.status_code == 409
    assert "can’t be deleted" in content and "ep" in content
    assert Key.objects.filter(pk=key.pk).exists()


def test_a_blocked_delete_only_names_endpoints_the_user_can_see(client_for, alice, bob, key, make_endpoint, share):
    share(key, bob, "MANAGE")
    make_endpoint(key, name="secret-project")
    response = client_for(bob).post(url(key, "delete"))
    content = response.content.decode()
    assert response.status_code == 409
    assert "secret-project" not in content
    assert "+1 you can’t see" in content


def test_a_provider_change_of_a_key_in_use_is_refused_on_the_form(client_for, alice, bob, key, make_endpoint, share):
    """The provider field shows the service's refusal; each user is told of the other's endpoint, not its name."""
    share(key, bob, "EDIT")
    make_endpoint(key, name="alices-endpoint")
    make_endpoint(key, name="bobs-endpoint", owner=bob)
    body = {"name": key.name, "provider": "groq", "description": "", "secret": SECRET}
    for user, mine, theirs in ((alice, "alices-endpoint", "bobs-endpoint"), (bob, "bobs-endpoint", "alices-endpoint")):
        response = client_for(user).post(url(key, "edit"), body)
        content = response.content.decode()
        assert response.status_code == 422, content[:500]
        assert (
            f'<ul class="errorlist" id="id_provider_error"><li>This key is used by endpoints “{mine}” and 1 you '
            "cannot see; move those models to another key before changing its provider.</li></ul>"
        ) in content
        assert theirs not in content
    assert Key.objects.get(pk=key.pk).provider == "openai"


def test_a_refused_form_lists_each_problem_at_the_top_linking_to_its_field(client_for, alice):
    response = client_for(alice).post("/keys/new", {"name": "", "provider": "", "description": "", "secret": ""})
    assert response.status_code == 422
    content = response.content.decode()
    start = content.index("data-error-summary")
    summary = content[start : content.index("</div>", start)]
    assert start < content.index('id="id_name"')  # above the fields
    assert '<a href="#id_name">Name: This field is required.</a>' in summary
    assert '<a href="#id_provider">Provider: This field is required.</a>' in summary


def test_a_form_without_errors_has_no_summary(client_for, alice):
    assert "data-error-summary" not in client_for(alice).get("/keys/new").content.decode()
