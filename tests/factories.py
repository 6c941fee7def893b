"""Small factories for test data. Keep them dumb: explicit arguments, sensible defaults."""

from __future__ import annotations

import itertools
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

_counter = itertools.count(1)

PASSWORD = "correct-horse-battery-staple"


def make_user(username: str | None = None, *, groups: list[Group] | None = None, **extra: Any):
    username = username or f"user{next(_counter)}"
    user = get_user_model().objects.create_user(
        username=username, email=f"{username}@example.com", password=PASSWORD, **extra
    )
    for group in groups or []:
        user.groups.add(group)
    return user


def make_group(name: str | None = None) -> Group:
    return Group.objects.create(name=name or f"team{next(_counter)}")
