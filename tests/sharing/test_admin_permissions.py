"""The admin's object-permission pages write through the sharing rules: one level, the last manager, the audit."""

from __future__ import annotations

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from keys import services as key_services
from sharing import services as sharing
from sharing.levels import Level

pytestmark = pytest.mark.django_db


@pytest.fixture
def key(alice):
    return key_services.create_key(actor=alice, name="k", provider="openai", secret="sk-admin-perms-0123456789")


@pytest.fixture
def operator(client, admin_user):
    client.force_login(admin_user)
    return client


def user_page(key, user) -> str:
    return reverse("admin:keys_key_permissions_manage_user", args=[key.pk, user.pk])


def test_ticking_permissions_grants_the_highest_as_the_one_level(operator, key, bob):
    response = operator.post(user_page(key, bob), {"permissions": ["read_key", "edit_key"]})
    assert response.status_code == 302
    assert [(g.user, g.level) for g in sharing.list_grants(key) if g.user == "bob"] == [("bob", Level.EDIT)]
    assert AuditEvent.objects.filter(object_id=key.pk, action="share", actor_name="root").count() == 1
    # A new choice replaces the old level, as everywhere else.
    operator.post(user_page(key, bob), {"permissions": ["use_key"]})
    assert sharing.get_level(bob, key) == Level.USE


def test_unticking_everything_revokes(operator, key, bob):
    sharing.grant(key, bob, Level.READ)
    # A browser always posts something (the CSRF token); an empty body would leave the form unbound.
    assert operator.post(user_page(key, bob), {"csrfmiddlewaretoken": "x"}).status_code == 302
    assert sharing.get_level(bob, key) is None
    assert AuditEvent.objects.filter(object_id=key.pk, action="unshare").count() == 1


def test_the_last_manager_cannot_be_downgraded_here_either(operator, key, alice):
    response = operator.post(user_page(key, alice), {"permissions": ["read_key"]})
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [
        "This would leave nobody able to manage key “k”; grant MANAGE to another active user, "
        "or to a group with active members, first."
    ]
    assert sharing.get_level(alice, key) == Level.MANAGE


def test_a_group_page_works_the_same_way(operator, key, team, dave):
    url = reverse("admin:keys_key_permissions_manage_group", args=[key.pk, team.pk])
    assert operator.post(url, {"permissions": ["use_key"]}).status_code == 302
    assert sharing.get_level(dave, key) == Level.USE
