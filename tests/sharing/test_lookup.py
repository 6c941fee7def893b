"""The one lookup of a shared object: the object and the caller's level, 404 below READ, 403 below the level needed."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from keys import services as key_services
from keys.models import Key
from sharing import services as sharing
from sharing.levels import Level

pytestmark = pytest.mark.django_db


@pytest.fixture
def key(alice):
    return key_services.create_key(actor=alice, name="openai", provider="openai", secret="sk-lookup-0000AAAA")


@pytest.mark.parametrize("granted", list(Level))
def test_it_returns_the_object_with_the_level_held(key, bob, granted):
    sharing.grant(key, bob, granted)

    assert sharing.get_object_and_level_for_user(bob, Key.objects.all(), Level.READ, pk=key.pk) == (key, granted)
    assert sharing.get_object_for_user(bob, Key.objects.all(), Level.READ, pk=key.pk) == key


def test_a_group_grant_counts_and_the_highest_level_wins(key, dave, team):
    sharing.grant(key, team, Level.EDIT)
    sharing.grant(key, dave, Level.USE)

    assert sharing.get_object_and_level_for_user(dave, Key.objects.all(), Level.EDIT, pk=key.pk) == (key, Level.EDIT)


def test_below_the_level_needed_is_403_and_below_read_is_404(key, bob, charlie):
    sharing.grant(key, bob, Level.USE)

    with pytest.raises(PermissionDenied, match="You need EDIT permission on this key"):
        sharing.get_object_and_level_for_user(bob, Key.objects.all(), Level.EDIT, pk=key.pk)
    with pytest.raises(Http404, match="No key matches the given query."):
        sharing.get_object_and_level_for_user(charlie, Key.objects.all(), Level.READ, pk=key.pk)


@pytest.mark.parametrize("pk", ["0" * 32, "not-an-id", "\x00"])
def test_a_missing_or_malformed_id_is_404_for_everyone(alice, key, pk):
    with pytest.raises(Http404, match="No key matches the given query."):
        sharing.get_object_and_level_for_user(alice, Key.objects.all(), Level.READ, pk=pk)
