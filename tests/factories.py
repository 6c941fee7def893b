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


def make_fake_endpoint(owner, upstream, *models: str, secret: str, name: str = "ep", endpoint_type: str = "chat"):
    """An endpoint of ``owner`` whose models (priority 1, 2, ... in order) are served by the fake upstream.

    Returns the endpoint and its key (an OpenAI-compatible key pointing at ``upstream``).
    """
    from endpoints import services as endpoint_services
    from endpoints.validation import ModelSpec
    from keys import services as key_services

    key = key_services.create_key(
        actor=owner, name="fake", provider="openai", secret=secret, api_base=upstream.url + "/v1"
    )
    specs = [
        ModelSpec(provider="openai", model_name=model, key_id=key.public_id, priority=priority)
        for priority, model in enumerate(models, start=1)
    ]
    endpoint = endpoint_services.create_endpoint(actor=owner, name=name, endpoint_type=endpoint_type, models=specs)
    return endpoint, key
