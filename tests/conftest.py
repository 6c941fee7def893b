"""Shared fixtures: the personas every permission test uses.

alice owns things, bob is a teammate who gets granted a level, charlie is an
outsider, and dave is a member of the group ``team``. For the Teams tests,
``platform`` is a team alice created (so manages) with bob as a plain member,
and ``bobs_key`` a key bob manages.
"""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from tests.factories import make_group, make_user

# The fake upstream and the in-thread gateway server, shared by the proxy and browser tests.
pytest_plugins = ["tests.servers"]


@pytest.fixture
def team(db):
    return make_group("team")


@pytest.fixture
def alice(db):
    return make_user("alice")


@pytest.fixture
def bob(db):
    return make_user("bob")


@pytest.fixture
def charlie(db):
    return make_user("charlie")


@pytest.fixture
def dave(db, team):
    return make_user("dave", groups=[team])


@pytest.fixture
def platform(alice, bob):
    from teams import services as teams

    team = teams.create_team(actor=alice, name="platform")
    teams.add_member(team, bob, actor=alice)
    return team


@pytest.fixture
def bobs_key(bob):
    from keys import services as key_services

    return key_services.create_key(actor=bob, name="bob-openai", provider="openai", secret="sk-teams-0000BOBKEY")


@pytest.fixture
def admin_user(db):
    return make_user("root", is_superuser=True, is_staff=True)


@pytest.fixture
def api():
    """Return a function giving an API client logged in as a user (or anonymous with None)."""

    def client_for(user=None) -> APIClient:
        client = APIClient()
        if user is not None:
            client.force_authenticate(user)
        return client

    return client_for


@pytest.fixture(autouse=True)
def _fresh_cache(settings):
    """Each test starts with an empty local cache. Shared Redis is not flushed:
    it also holds the Celery queue that a real-worker test may be using."""
    from django.core.cache import cache

    if not settings.REDIS_URL:
        cache.clear()
    yield


@pytest.fixture(autouse=True)
def _eager_tasks(request):
    """Tasks run in-process, as in the embedded mode, unless a test asks for a real worker."""
    if request.node.get_closest_marker("real_worker"):
        yield
        return
    from gateway_site.celery import app

    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before


@pytest.fixture(autouse=True, scope="session")
def _test_only_settings():
    """PBKDF2 at production strength dominates test time, and the hashed static
    manifest only exists after collectstatic; tests use cheap equivalents."""
    from django.conf import settings

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
