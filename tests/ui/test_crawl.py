"""Crawl every UI and admin page as every kind of user.

No page may fail (a 500, or any status outside 200/286/302/403/404/405), the
status must match the level the user holds (404 without READ, 403 below the
level a page needs), and no response may contain a provider secret, its
ciphertext or a gateway token's plaintext.
"""

from __future__ import annotations

import dataclasses
import json
import re
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from endpoints import services as endpoint_services
from endpoints.models import Endpoint, RequestLog, Revision, Status
from endpoints.validation import ModelSpec
from keys import services as key_services
from keys.models import Key
from scorers import services as scorer_services
from scorers.models import Scorer
from sharing import services as sharing
from sharing.levels import Level
from teams.models import Team
from tokens import services as token_services
from tokens.models import GatewayToken

pytestmark = pytest.mark.django_db

SECRET = "sk-crawl-SECRET-provider-0f1e2d3c4b5a6978"
OTHER_SECRET = "sk-crawl-OTHER-secret-a1b2c3d4e5f60718"
SERVER_SECRET = "sk-crawl-SERVER-secret-9a8b7c6d5e4f3021"
# 286 is htmx's "stop polling": the status fragment answers it once the status is final.
ALLOWED = {200, 286, 302, 403, 404, 405}
HTMX = {"HX-Request": "true"}


@dataclass
class World:
    key: Key
    other_key: Key
    endpoint: Endpoint
    failing: Endpoint
    token_plaintexts: list[str]
    scorer: Scorer

    @property
    def secrets(self) -> list[str]:
        """Everything no page may ever show."""
        values = [SECRET, OTHER_SECRET, SERVER_SECRET, *self.token_plaintexts]
        values += [key.secret_ciphertext for key in Key.objects.all()]
        return values


@pytest.fixture
def world(alice, bob, charlie, dave, team, admin_user) -> World:
    key = key_services.create_key(
        actor=alice, name="crawl-key", provider="openai", secret=SECRET, description="The production key."
    )
    other_key = key_services.create_key(actor=alice, name="crawl-other", provider="anthropic", secret=OTHER_SECRET)
    server_key = key_services.create_key(
        actor=alice, name="crawl-server", provider="openai", secret=SERVER_SECRET, api_base="http://10.0.0.5:8000/v1"
    )
    spec = ModelSpec(provider="openai", model_name="gpt-4o", key_id=key.public_id)
    custom = ModelSpec(provider="openai", model_name="self-hosted-llama", key_id=server_key.public_id, weight=0.5)
    endpoint = endpoint_services.create_endpoint(
        actor=alice, name="crawl-chat", endpoint_type="chat", models=[spec], description="Support bot"
    )
    with transaction.atomic():
        endpoint_services.update_endpoint(endpoint, actor=alice, models=[dataclasses.replace(spec, weight=0.5), custom])
    endpoint_services.add_binding(endpoint, actor=alice, resource_type="scorer", resource_id="scorer-42")
    Endpoint.objects.filter(pk=endpoint.pk).update(status=Status.RUNNING, started_at=timezone.now())
    failing = endpoint_services.create_endpoint(
        actor=alice,
        name="crawl-embed",
        endpoint_type="embedding",
        models=[ModelSpec(provider="openai", model_name="text-embedding-3-small", key_id=key.public_id)],
    )
    Endpoint.objects.filter(pk=failing.pk).update(status=Status.ERROR, last_error="LiteLLM rejected it.")
    now = timezone.now()
    RequestLog.objects.bulk_create(
        RequestLog(
            endpoint=endpoint,
            model_served="openai/gpt-4o",
            status_code=200 if number % 4 else 502,
            error_type="" if number % 4 else "APIConnectionError",
            latency_ms=100 + number,
            prompt_tokens=10,
            completion_tokens=5,
            cost_usd=Decimal("0.0001"),
            created_at=now - timedelta(minutes=number * 7),
        )
        for number in range(12)
    )
    plaintexts = [token_services.create_token(user, f"{user.username}-token")[1] for user in (alice, bob, admin_user)]
    scorer = scorer_services.create_scorer(
        actor=alice, name="crawl-judge", instructions="Is {{ outputs }} right?", endpoint=endpoint
    )
    return World(key, other_key, Endpoint.objects.get(pk=endpoint.pk), failing, plaintexts, scorer)


def _grant_for(role: str, world: World, users: dict) -> None:
    for obj in (world.key, world.endpoint, world.failing, world.scorer):
        if role == "bob-read":
            sharing.grant(obj, users["bob"], Level.READ)
        elif role == "bob-edit":
            sharing.grant(obj, users["bob"], Level.EDIT)
        elif role == "dave-group":
            sharing.grant(obj, users["team"], Level.USE)


# (role, the user it signs in as, the level it then holds on the shared objects)
ROLES = {
    "alice-owner": ("alice", Level.MANAGE),
    "bob-read": ("bob", Level.READ),
    "bob-edit": ("bob", Level.EDIT),
    "charlie-outsider": ("charlie", None),
    "dave-group": ("dave", Level.USE),
    "admin": ("root", Level.MANAGE),
    "anonymous": (None, None),
}


def _ui_pages(world: World) -> list[tuple[str, dict, Level | None, set[int] | None]]:
    """(url, headers, level the page needs on its object or None, statuses it may answer when allowed)."""
    key, endpoint = world.key.public_id, world.endpoint.public_id
    failing = world.failing.public_id
    ok, polled = {200}, {200, 286}
    pages = [
        ("/", {}, None, ok),
        ("/endpoints/import", {}, None, ok),
        ("/endpoints/export", {}, None, ok),
        ("/keys/", {}, None, ok),
        ("/keys/new", {}, None, ok),
        (f"/keys/{key}/", {}, Level.READ, ok),
        (f"/keys/{key}/edit", {}, Level.EDIT, ok),
        (f"/keys/{key}/secret", {}, Level.EDIT, ok),
        (f"/keys/{key}/delete", {}, Level.MANAGE, ok),
        (f"/keys/{world.other_key.public_id}/", {}, "alice-only", ok),
        ("/tokens/", {}, None, ok),
        ("/tokens/", HTMX, None, ok),
        ("/endpoints/", {}, None, ok),
        ("/endpoints/?q=crawl&endpoint_type=chat&status=running", HTMX, None, ok),
        ("/endpoints/?page=2", {}, None, ok),
        ("/endpoints/new", {}, None, ok),
        (
            "/endpoints/new?name=from-link&provider=openai&model=gpt-4o&for=tool:s-1&return_to=/",
            {},
            None,
            ok,
        ),
        ("/endpoints/catalog/models?provider=openai&endpoint_type=chat&row=0&selected=gpt-4o", HTMX, None, ok),
        ("/endpoints/catalog/models?provider=no-such&endpoint_type=chat&row=0", HTMX, None, ok),
        (
            "/endpoints/catalog/models?provider=openai&endpoint_type=chat&row=0&q=4o%20mini&selected=gpt-4o",
            HTMX,
            None,
            ok,
        ),
        ("/endpoints/catalog/models?provider=openai&endpoint_type=nope&row=0&q=%00&selected=gpt-4o", HTMX, None, ok),
        ("/endpoints/catalog/providers?endpoint_type=rerank", HTMX, None, ok),
        ("/endpoints/catalog/providers?endpoint_type=no-such", HTMX, None, ok),
        ("/endpoints/catalog/model-info?provider=openai&model_name=gpt-4o&endpoint_type=chat&row=0", HTMX, None, ok),
        ("/endpoints/catalog/model-info?provider=openai&model_name=nope&endpoint_type=chat&row=x", HTMX, None, ok),
        ("/audit/", {}, None, ok),
        (
            "/audit/?object_type=key&action=share&actor=alice&name=crawl&since=2024-01-01&tz=America/New_York",
            HTMX,
            None,
            ok,
        ),
        (f"/audit/?object={key}&page=2", {}, None, ok),
        ("/audit/?action=bogus&since=nope&object=zz&tz=../etc", {}, None, ok),
        ("/share/key/0123456789abcdef0123456789abcdef/", HTMX, "missing", ok),
        ("/share/widget/0123456789abcdef0123456789abcdef/", HTMX, "unrouted", ok),
        ("/endpoints/0123456789abcdef0123456789abcdef/", {}, "missing", ok),
    ]
    for target in (endpoint, failing):
        pages += [
            (f"/endpoints/{target}/", {}, Level.READ, ok),
            (f"/endpoints/{target}/edit", {}, Level.EDIT, ok),
            (f"/endpoints/{target}/delete", {}, Level.MANAGE, ok),
            (f"/endpoints/{target}/status-fragment", HTMX, Level.READ, polled),
            (f"/endpoints/{target}/activity", HTMX, Level.READ, ok),
            (f"/endpoints/{target}/requests", {}, Level.READ, ok),
            (f"/endpoints/{target}/requests?status=5xx&model=openai/gpt-4o&caller=alice", HTMX, Level.READ, ok),
            (f"/endpoints/{target}/requests?status=teapot&request_id=x&since=nope&caller=%00", {}, Level.READ, ok),
            (f"/endpoints/{target}/start", {}, "post-only", ok),
            (f"/endpoints/{target}/stop", {}, "post-only", ok),
            (f"/endpoints/{target}/revisions/1/restore", {}, "post-only", ok),
            (f"/share/endpoint/{target}/", HTMX, Level.READ, ok),
            (f"/share/endpoint/{target}/", {}, Level.READ, ok),
        ]
    # Team pages: the group ``team`` has dave as its one (plain) member; only superusers manage it.
    team = Team.objects.get(group__name="team").public_id
    pages += [
        ("/teams/", {}, None, ok),
        (f"/teams/{team}/", {}, "team-member", ok),
        (f"/teams/{team}/delete", {}, "team-manager", ok),
        (f"/teams/{team}/rename", {}, "post-only", ok),
        (f"/teams/{team}/members/add", {}, "post-only", ok),
        (f"/teams/{'0' * 32}/", {}, "missing", ok),
    ]
    pages += [
        (f"/share/key/{key}/", HTMX, Level.READ, ok),
        (f"/share/key/{key}/", {}, Level.READ, ok),
        (f"/share/key/{key}/grant", {}, "post-only", ok),
        (f"/tokens/{GatewayToken.objects.first().pk.hex}/revoke", {}, "post-only", ok),
    ]
    scorer = world.scorer.public_id
    pages += [
        ("/scorers/", {}, None, ok),
        ("/scorers/new", {}, None, ok),
        ("/scorers/new?name=from-link&endpoint=crawl-chat", {}, None, ok),
        (f"/scorers/{scorer}/", {}, Level.READ, ok),
        (f"/scorers/{scorer}/edit", {}, Level.EDIT, ok),
        (f"/scorers/{scorer}/edit?endpoint=crawl-embed", {}, Level.EDIT, ok),
        (f"/scorers/{scorer}/delete", {}, Level.MANAGE, ok),
        (f"/scorers/{scorer}/run", {}, "post-only", ok),
        (f"/share/scorer/{scorer}/", HTMX, Level.READ, ok),
        (f"/scorers/{'0' * 32}/", {}, "missing", ok),
    ]
    return pages


def _admin_pages(world: World) -> list[str]:
    pages = [reverse("admin:index")]
    objects = {
        Key: world.key.pk,
        Endpoint: world.endpoint.pk,
        GatewayToken: GatewayToken.objects.first().pk,
        AuditEvent: AuditEvent.objects.first().pk,
        Revision: Revision.objects.filter(endpoint=world.endpoint).first().pk,
        RequestLog: RequestLog.objects.first().pk,
        Scorer: world.scorer.pk,
    }
    for model, pk in objects.items():
        name = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        pages += [
            reverse(f"{name}_changelist"),
            reverse(f"{name}_change", args=[pk]),
            reverse(f"{name}_history", args=[pk]),
        ]
    pages += [
        reverse("admin:keys_key_changelist") + "?q=crawl",
        reverse("admin:keys_key_add"),
        reverse("admin:endpoints_endpoint_add"),
        reverse("admin:keys_key_delete", args=[world.key.pk]),
        reverse("admin:endpoints_endpoint_delete", args=[world.endpoint.pk]),
        reverse("admin:keys_key_permissions", args=[world.key.pk]),
        reverse("admin:endpoints_endpoint_permissions", args=[world.endpoint.pk]),
        reverse("admin:scorers_scorer_add"),
        reverse("admin:scorers_scorer_permissions", args=[world.scorer.pk]),
    ]
    return pages


def _expected(role: str, held: Level | None, needed, allowed: set[int]) -> set[int]:
    if needed == "unrouted":
        return {404}
    if role == "anonymous":
        return {302}
    if needed == "post-only":
        return {405}
    if needed == "missing":
        return {404}
    if needed in ("team-member", "team-manager"):  # the group ``team``: dave is in it, a superuser manages it
        if role == "admin" or (role == "dave-group" and needed == "team-member"):
            return allowed
        return {403} if role == "dave-group" else {404}
    if needed == "alice-only":  # a key nobody was given
        return allowed if role in ("alice-owner", "admin") else {404}
    if needed is None:
        return allowed
    if held is None:
        return {404}
    return allowed if held >= needed else {403}


def _client(user) -> Client:
    client = Client(raise_request_exception=False)
    if user is not None:
        client.force_login(user)
    return client


def _leaks(body: str, secrets: list[str]) -> list[str]:
    return [secret[:12] + "…" for secret in secrets if secret and secret in body]


@pytest.mark.parametrize("role", list(ROLES))
def test_every_page_answers_for_every_role_without_leaking_a_secret(
    role, world, alice, bob, charlie, dave, team, admin_user
):
    users = {"alice": alice, "bob": bob, "charlie": charlie, "dave": dave, "team": team, "root": admin_user}
    username, held = ROLES[role]
    _grant_for(role, world, users)
    client = _client(users.get(username))
    secrets = world.secrets
    problems: list[str] = []

    for url, headers, needed, allowed in _ui_pages(world):
        response = client.get(url, headers=headers)
        status = response.status_code
        expected = _expected(role, held, needed, allowed)
        if status not in ALLOWED:
            problems.append(f"{url}: {status} {getattr(response, 'exc_info', None) or ''}")
        elif status not in expected:
            problems.append(f"{url}{' (htmx)' if headers else ''}: {status}, expected {sorted(expected)}")
        if leaked := _leaks(response.content.decode(errors="replace"), secrets):
            problems.append(f"{url}: shows {leaked}")

    for url in _admin_pages(world):
        response = client.get(url)
        status = response.status_code
        expected = {200} if role == "admin" else {302}
        if status not in ALLOWED:
            problems.append(f"{url}: {status} {getattr(response, 'exc_info', None) or ''}")
        elif status not in expected:
            problems.append(f"{url}: {status}, expected {sorted(expected)}")
        if leaked := _leaks(response.content.decode(errors="replace"), secrets):
            problems.append(f"{url}: shows {leaked}")

    assert problems == []


def test_failed_forms_do_not_echo_the_secret(world, alice):
    """Form pages re-rendered with errors (422) keep the secret out too."""
    client = _client(alice)
    key = world.key.public_id
    attempts = [
        ("/keys/new", {"name": "", "provider": "openai", "secret": SECRET + "-new"}),
        ("/keys/new", {"name": "dup", "provider": "no-such-provider", "secret": SECRET + "-new"}),
        (f"/keys/{key}/secret", {"secret": SECRET + "\u0000bad"}),
        (f"/keys/{key}/edit", {"name": "", "provider": "openai", "secret": SECRET}),
    ]
    for url, data in attempts:
        response = client.post(url, data)
        assert response.status_code in {200, 302, 400, 422}, (url, response.status_code)
        body = response.content.decode()
        for secret in [*world.secrets, SECRET + "-new"]:
            assert secret not in body, (url, secret[:12])


class _Assets(HTMLParser):
    """The URLs a page makes the browser load: <script src>, <link href>, <img src>."""

    ATTRIBUTES = {"script": "src", "link": "href", "img": "src"}

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        if (wanted := self.ATTRIBUTES.get(tag)) is not None:
            self.urls += [value for name, value in attrs if name == wanted and value]


def _assets(body: str) -> list[str]:
    parser = _Assets()
    parser.feed(body)
    return parser.urls


def test_no_page_loads_anything_from_another_host(world, admin_user):
    """Every page a user can reach (UI, admin, API docs, sign-in) loads its assets from this site, and they exist."""
    pages = [url for url, headers, *_ in _ui_pages(world) if not headers]
    pages += _admin_pages(world) + ["/api/docs/", "/api/redoc/", "/accounts/login/"]
    client = _client(admin_user)
    problems, checked = [], set()
    for url in pages:
        response = client.get(url)
        if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
            continue
        for asset in _assets(response.content.decode()):
            parts = urlsplit(asset)
            if parts.scheme == "data":
                continue  # inline, loads nothing
            if parts.scheme or parts.netloc:
                problems.append(f"{url} loads {asset}")
            elif parts.path.startswith(settings.STATIC_URL) and not finders.find(
                parts.path.removeprefix(settings.STATIC_URL)
            ):
                problems.append(f"{url} loads {asset}, which is not a static file here")
            checked.add(parts.path)
    assert problems == []
    # The check saw the pages that used to load from a CDN, and their scripts.
    assert any("swagger-ui-dist" in path for path in checked), checked
    assert any("redoc" in path for path in checked), checked


def test_swagger_ui_shows_no_badge_from_the_online_validator(client):
    body = client.get("/api/docs/").content.decode()
    settings_json = re.search(r"const swaggerSettings = (\{.*?\});", body, re.S)
    assert settings_json is not None, body[:2000]
    assert json.loads(settings_json.group(1))["validatorUrl"] is None
