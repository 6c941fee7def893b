"""The page shell: sign in and out, the login wall, navigation, flash messages, error pages."""

from __future__ import annotations

import pytest

from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

PAGES = ["/", "/keys/", "/keys/new", "/tokens/", f"/keys/{'0' * 32}/", f"/share/key/{'0' * 32}/"]


@pytest.mark.parametrize("url", PAGES)
def test_it_sends_anonymous_visitors_to_the_login_page(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


def test_the_login_page_is_a_styled_form_without_the_app_nav(client):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    assert b'name="username"' in response.content and b'name="password"' in response.content
    assert b'class="mainnav"' not in response.content
    assert b"css/app.css" in response.content


def test_it_signs_in_and_lands_on_the_dashboard(client, alice):
    response = client.post("/accounts/login/", {"username": "alice", "password": PASSWORD}, follow=True)
    assert response.redirect_chain[-1][0] == "/"
    assert b"Dashboard" in response.content and b"alice" in response.content


def test_a_wrong_password_is_shown_on_the_form(client, alice):
    response = client.post("/accounts/login/", {"username": "alice", "password": "nope"})
    assert response.status_code == 200
    assert b"form-errors" in response.content
    assert b"nope" not in response.content


def test_sign_out_is_a_post_and_shows_a_signed_out_page(client_for, alice):
    client = client_for(alice)
    page = client.get("/")
    assert b'action="/accounts/logout/"' in page.content and b'method="post"' in page.content
    response = client.post("/accounts/logout/")
    assert response.status_code == 200
    assert b"signed out" in response.content
    assert client.get("/").status_code == 302


@pytest.mark.parametrize(("url", "label"), [("/", "Dashboard"), ("/keys/", "Keys"), ("/tokens/", "Tokens")])
def test_the_current_section_is_highlighted_in_the_nav(client_for, alice, url, label):
    content = client_for(alice).get(url).content.decode()
    assert f'aria-current="page">{label}</a>' in content
    assert content.count('aria-current="page"') == 1


def test_the_admin_link_is_for_staff_only(client_for, alice, admin_user):
    assert b'href="/admin/"' not in client_for(alice).get("/").content
    assert b'href="/admin/"' in client_for(admin_user).get("/").content


def test_every_page_loads_htmx_and_the_app_script_from_static(client_for, alice):
    content = client_for(alice).get("/keys/").content
    assert b"vendor/htmx-2.0.11.min.js" in content and b"js/app.js" in content
    assert b"https://" not in content  # no CDN


def test_flash_messages_render_in_the_messages_area(client_for, alice, key):
    client = client_for(alice)
    client.post(f"/keys/{key.public_id}/delete")
    content = client.get("/keys/").content.decode()
    assert 'id="messages"' in content
    assert "flash flash-success" in content and "openai-prod" in content


def test_an_unknown_page_is_a_friendly_404(client_for, alice):
    response = client_for(alice).get(f"/keys/{'f' * 32}/")
    assert response.status_code == 404
    assert b"hasn\xe2\x80\x99t been shared with you" in response.content


def test_an_insufficient_level_is_a_friendly_403(client_for, bob, key, share):
    share(key, bob, "READ")
    response = client_for(bob).get(f"/keys/{key.public_id}/edit")
    assert response.status_code == 403
    assert b"You need EDIT permission" in response.content
