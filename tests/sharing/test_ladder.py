"""The one 404/403/2xx ladder, for every shareable type, through the API and the pages.

The rule (``sharing.services.check_level``): without READ an object does not
exist for you (404); with READ but below the level an action needs, 403 naming
both levels; at or above it, the action's own success. For each shareable type
(``sharing.services.shareable_models()``: a type added there fails
``test_every_shareable_type_has_a_ladder`` until it has one here) and each of
its actions, API and UI, a test per level (none, READ, USE, EDIT, MANAGE)
sends the request as:

- bob, holding that level directly;
- dave, holding it through his group ``team``;
- at MANAGE also alice, who created the object, and a superuser.

Each request runs in a savepoint that is rolled back, so a delete or a
revoke by one caller leaves the object for the next, and each must answer
exactly: the 404 or 403 status with its exact body, or the action's one
success status with its body.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from django.db import transaction
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from endpoints import services as endpoint_services
from endpoints.models import RequestLog
from endpoints.validation import ModelSpec
from keys import services as key_services
from scorers import services as scorer_services
from sharing import services as sharing
from sharing.levels import Level
from tests.factories import make_group

pytestmark = pytest.mark.django_db

API = "/api/3.0/mlflow/gateway/"
SECRET = "sk-ladder-secret-0123456789abcdef"
NOT_FOUND_PAGE = "It doesn’t exist, or it hasn’t been shared with you."
HTMX = {"HX-Request": "true"}


@dataclass(frozen=True)
class Action:
    """One request on an object: ``path`` is formatted with the object's ids (``{id}``, ``{model}``, ``{log}``)."""

    name: str
    surface: str  # "api" (DRF, JSON bodies) or "ui" (pages and forms)
    method: str
    path: str
    level: Level
    ok: int  # the status when allowed
    check: Callable[[Any, World], None]  # when allowed: checks the response's body
    data: dict[str, Any] | Callable[[World], dict[str, Any]] | None = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class World:
    obj: Any
    ids: dict[str, str]
    upstream: Any = None


# -- what success looks like ------------------------------------------------------------------------


def json_is(expected: Callable[[World], Any]) -> Callable[[Any, World], None]:
    def check(response, world: World) -> None:
        assert response.json() == expected(world)

    return check


def json_has(**expected: Callable[[World], Any] | Any) -> Callable[[Any, World], None]:
    def check(response, world: World) -> None:
        body = response.json()
        want = {name: value(world) if callable(value) else value for name, value in expected.items()}
        assert {name: body.get(name) for name in want} == want, body

    return check


def pairs_are(
    first: str, second: str, expected: Callable[[World], list[tuple[Any, Any]]], *, page: bool = False
) -> Callable[[Any, World], None]:
    """The listed items (a page's ``results`` with ``page``), as (first, second) pairs, are exactly ``expected``."""

    def check(response, world: World) -> None:
        items = response.json()["results"] if page else response.json()
        assert [(item[first], item[second]) for item in items] == expected(world)

    return check


def empty(response, world: World) -> None:
    assert response.content == b""


def redirects_to(path: str) -> Callable[[Any, World], None]:
    def check(response, world: World) -> None:
        assert response["Location"] == path.format(**world.ids)

    return check


def page_shows(text: str | Callable[[World], str]) -> Callable[[Any, World], None]:
    def check(response, world: World) -> None:
        wanted = text(world) if callable(text) else text
        assert wanted in response.content.decode(), wanted

    return check


def probe_ok(response, world: World) -> None:
    body = response.json()
    assert isinstance(body.pop("latency_ms"), int)
    assert body == {"label": "openai", "outcome": "ok", "message": "The key works: the provider lists 1 model for it."}


GRANT = {"user": "charlie", "level": "READ"}


# The grants when the list is allowed (MANAGE): alice created it, bob and the
# group hold MANAGE for the test, charlie READ from the setup.
GRANTS_AT_MANAGE = [
    {"user": "alice", "level": "MANAGE"},
    {"user": "bob", "level": "MANAGE"},
    {"user": "charlie", "level": "READ"},
    {"group": "team", "level": "MANAGE"},
]


def grant_actions(api_path: str) -> list[Action]:
    """The grants API of a shareable object at ``api_path``: list, share, unshare (MANAGE each)."""
    permissions = api_path + "permissions/"
    return [
        Action("list grants", "api", "get", permissions, Level.MANAGE, 200, check=json_is(lambda w: GRANTS_AT_MANAGE)),
        Action("share", "api", "post", permissions, Level.MANAGE, 200, data=GRANT, check=json_is(lambda w: GRANT)),
        Action("unshare", "api", "delete", permissions + "?user=charlie", Level.MANAGE, 204, check=empty),
    ]


def panel_actions(kind: str, shown: str) -> list[Action]:
    """The sharing panel of a ``kind`` object (which shows ``shown``), and its grant and revoke forms."""
    panel = f"/share/{kind}/{{id}}/"
    return [
        Action("sharing panel", "ui", "get", panel, Level.READ, 200, check=page_shows(shown)),
        Action(
            "grant form",
            "ui",
            "post",
            panel + "grant",
            Level.MANAGE,
            200,
            data={"principal": "user:charlie", "level": "EDIT"},
            check=page_shows("Access updated: charlie now has EDIT on"),
        ),
        Action(
            "revoke form",
            "ui",
            "post",
            panel + "revoke",
            Level.MANAGE,
            200,
            data={"principal": "user:charlie"},
            check=page_shows("Removed charlie"),
        ),
    ]


# -- keys -------------------------------------------------------------------------------------------

KEY = f"{API}keys/{{id}}/"

KEY_ACTIONS = [
    Action("retrieve", "api", "get", KEY, Level.READ, 200, check=json_has(id=lambda w: w.ids["id"], name="ladder-key")),
    Action(
        "update",
        "api",
        "patch",
        KEY,
        Level.EDIT,
        200,
        data={"description": "changed"},
        check=json_has(description="changed"),
    ),
    Action(
        "replace",
        "api",
        "put",
        KEY,
        Level.EDIT,
        200,
        data=lambda w: {"name": "renamed", "provider": "openai", "api_base": w.upstream.base_url, "secret": SECRET},
        check=json_has(name="renamed", masked_secret="sk-...cdef"),
    ),
    Action(
        "replace secret",
        "api",
        "patch",
        KEY,
        Level.EDIT,
        200,
        data={"secret": "sk-ladder-replaced-00000000WXYZ"},
        check=json_has(masked_secret="sk-...WXYZ"),
    ),
    Action("test connection", "api", "post", KEY + "test/", Level.USE, 200, check=probe_ok),
    *grant_actions(KEY),
    Action("delete", "api", "delete", KEY, Level.MANAGE, 204, check=empty),
    # The pages.
    Action("detail page", "ui", "get", "/keys/{id}/", Level.READ, 200, check=page_shows("ladder-key")),
    Action("edit page", "ui", "get", "/keys/{id}/edit", Level.EDIT, 200, check=page_shows("ladder-key")),
    Action(
        "edit",
        "ui",
        "post",
        "/keys/{id}/edit",
        Level.EDIT,
        302,
        data=lambda w: {"name": "renamed", "provider": "openai", "description": "", "api_base": w.upstream.base_url},
        check=redirects_to("/keys/{id}/"),
    ),
    Action("secret page", "ui", "get", "/keys/{id}/secret", Level.EDIT, 200, check=page_shows("ladder-key")),
    Action(
        "replace secret form",
        "ui",
        "post",
        "/keys/{id}/secret",
        Level.EDIT,
        302,
        data={"secret": "sk-ladder-replaced-00000000WXYZ"},
        check=redirects_to("/keys/{id}/"),
    ),
    Action(
        "test connection button",
        "ui",
        "post",
        "/keys/{id}/test",
        Level.USE,
        200,
        headers=HTMX,
        check=page_shows("The key works: the provider lists 1 model for it."),
    ),
    Action("delete page", "ui", "get", "/keys/{id}/delete", Level.MANAGE, 200, check=page_shows("ladder-key")),
    Action("delete form", "ui", "post", "/keys/{id}/delete", Level.MANAGE, 302, check=redirects_to("/keys/")),
    *panel_actions("key", "ladder-key"),
]


def make_key(alice, upstream) -> World:
    key = key_services.create_key(
        actor=alice, name="ladder-key", provider="openai", secret=SECRET, api_base=upstream.base_url
    )
    return World(key, {"id": key.public_id}, upstream)


# -- endpoints --------------------------------------------------------------------------------------

ENDPOINT = f"{API}endpoints/{{id}}/"

ENDPOINT_ACTIONS = [
    Action(
        "retrieve",
        "api",
        "get",
        ENDPOINT,
        Level.READ,
        200,
        check=json_has(id=lambda w: w.ids["id"], name="ladder-endpoint"),
    ),
    Action("status", "api", "get", ENDPOINT + "status/", Level.READ, 200, check=json_has(status="stopped")),
    Action(
        "revisions",
        "api",
        "get",
        ENDPOINT + "revisions/",
        Level.READ,
        200,
        check=pairs_are("number", "note", lambda w: [(1, "created")]),
    ),
    Action(
        "list models",
        "api",
        "get",
        ENDPOINT + "models/",
        Level.READ,
        200,
        check=pairs_are("id", "model_name", lambda w: [(w.ids["model"], "gpt-4o")], page=True),
    ),
    Action(
        "show a model", "api", "get", ENDPOINT + "models/{model}/", Level.READ, 200, check=json_has(model_name="gpt-4o")
    ),
    Action(
        "request log",
        "api",
        "get",
        ENDPOINT + "requests/",
        Level.READ,
        200,
        check=pairs_are("id", "model_served", lambda w: [(int(w.ids["log"]), "openai/gpt-4o")], page=True),
    ),
    Action(
        "one request",
        "api",
        "get",
        ENDPOINT + "requests/{log}/",
        Level.READ,
        200,
        check=json_has(id=lambda w: int(w.ids["log"]), status_code=200, model_served="openai/gpt-4o"),
    ),
    Action(
        "list bindings",
        "api",
        "get",
        ENDPOINT + "bindings/",
        Level.READ,
        200,
        check=pairs_are("resource_type", "resource_id", lambda w: [("scorer", "s-0")]),
    ),
    Action(
        "bind",
        "api",
        "post",
        ENDPOINT + "bindings/",
        Level.USE,
        201,
        data={"resource_type": "scorer", "resource_id": "s-new"},
        check=json_has(resource_type="scorer", resource_id="s-new"),
    ),
    Action(
        "unbind",
        "api",
        "delete",
        ENDPOINT + "bindings/?resource_type=scorer&resource_id=s-0",
        Level.USE,
        204,
        check=empty,
    ),
    Action(
        "update",
        "api",
        "patch",
        ENDPOINT,
        Level.EDIT,
        200,
        data={"description": "changed"},
        check=json_has(description="changed"),
    ),
    Action(
        "change a model",
        "api",
        "patch",
        ENDPOINT + "models/{model}/",
        Level.EDIT,
        200,
        data={"weight": 1.0},
        check=json_has(id=lambda w: w.ids["model"], weight=1.0),
    ),
    Action("start", "api", "post", ENDPOINT + "start/", Level.EDIT, 200, check=json_has(status="starting")),
    Action("stop", "api", "post", ENDPOINT + "stop/", Level.EDIT, 200, check=json_has(status="stopped")),
    Action(
        "restore",
        "api",
        "post",
        ENDPOINT + "revisions/1/restore/",
        Level.EDIT,
        200,
        check=json_has(id=lambda w: w.ids["id"], name="ladder-endpoint"),
    ),
    *grant_actions(ENDPOINT),
    Action("delete", "api", "delete", ENDPOINT + "?force=true", Level.MANAGE, 204, check=empty),  # it has a binding
    # The pages.
    Action("detail page", "ui", "get", "/endpoints/{id}/", Level.READ, 200, check=page_shows("ladder-endpoint")),
    # 286: htmx's "stop polling", for a status that will not change by itself (stopped).
    Action(
        "status fragment",
        "ui",
        "get",
        "/endpoints/{id}/status-fragment",
        Level.READ,
        286,
        headers=HTMX,
        check=page_shows('data-status="stopped"'),
    ),
    Action(
        "activity fragment",
        "ui",
        "get",
        "/endpoints/{id}/activity",
        Level.READ,
        200,
        headers=HTMX,
        check=page_shows("openai/gpt-4o"),
    ),
    Action(
        "request log page", "ui", "get", "/endpoints/{id}/requests", Level.READ, 200, check=page_shows("openai/gpt-4o")
    ),
    Action(
        "request page",
        "ui",
        "get",
        "/endpoints/{id}/requests/{log}",
        Level.READ,
        200,
        check=page_shows("openai/gpt-4o"),
    ),
    Action(
        "playground token",
        "ui",
        "post",
        "/endpoints/{id}/playground/token",
        Level.USE,
        200,
        check=json_has(name="Playground (browser)"),
    ),
    Action("edit page", "ui", "get", "/endpoints/{id}/edit", Level.EDIT, 200, check=page_shows("ladder-endpoint")),
    Action(
        "start button", "ui", "post", "/endpoints/{id}/start", Level.EDIT, 302, check=redirects_to("/endpoints/{id}/")
    ),
    Action(
        "stop button", "ui", "post", "/endpoints/{id}/stop", Level.EDIT, 302, check=redirects_to("/endpoints/{id}/")
    ),
    Action(
        "restore button",
        "ui",
        "post",
        "/endpoints/{id}/revisions/1/restore",
        Level.EDIT,
        302,
        check=redirects_to("/endpoints/{id}/#revisions"),
    ),
    Action(
        "delete page", "ui", "get", "/endpoints/{id}/delete", Level.MANAGE, 200, check=page_shows("ladder-endpoint")
    ),
    Action(
        "delete form",
        "ui",
        "post",
        "/endpoints/{id}/delete",
        Level.MANAGE,
        302,
        data={"force": "1"},  # it has a binding
        check=redirects_to("/endpoints/"),
    ),
    *panel_actions("endpoint", "ladder-endpoint"),
]


def make_endpoint(alice, upstream) -> World:
    key = key_services.create_key(
        actor=alice, name="ladder-endpoint-key", provider="openai", secret=SECRET, api_base=upstream.base_url
    )
    spec = ModelSpec(provider="openai", model_name="gpt-4o", key_id=key.public_id)
    endpoint = endpoint_services.create_endpoint(
        actor=alice, name="ladder-endpoint", endpoint_type="chat", models=[spec]
    )
    endpoint_services.add_binding(endpoint, actor=alice, resource_type="scorer", resource_id="s-0")
    log = RequestLog.objects.create(
        endpoint=endpoint,
        model_served="openai/gpt-4o",
        status_code=200,
        latency_ms=12.0,
        created_at=timezone.now() - timedelta(minutes=1),
    )
    ids = {"id": endpoint.public_id, "model": endpoint.models.get().public_id, "log": str(log.pk)}
    return World(endpoint, ids, upstream)


# -- scorers ----------------------------------------------------------------------------------------

SCORER = f"{API}scorers/{{id}}/"
NO_ENDPOINT = "This scorer has no endpoint yet; link one first."
SCORER_FORM = {"name": "renamed", "instructions": "Is {{ outputs }} right?", "answer_kind": "yes_no", "endpoint": ""}

SCORER_ACTIONS = [
    Action("retrieve", "api", "get", SCORER, Level.READ, 200, check=json_has(id=lambda w: w.ids["id"], name="ladder")),
    Action("update", "api", "patch", SCORER, Level.EDIT, 200, data={"name": "renamed"}, check=json_has(name="renamed")),
    # Past the permission check, a scorer without an endpoint says so (runs are tested in tests/scorers).
    Action(
        "run",
        "api",
        "post",
        SCORER + "run/",
        Level.USE,
        400,
        data={"outputs": "Paris"},
        check=json_is(lambda w: {"endpoint": [NO_ENDPOINT]}),
    ),
    *grant_actions(SCORER),
    Action("delete", "api", "delete", SCORER, Level.MANAGE, 204, check=empty),
    # The pages.
    Action("detail page", "ui", "get", "/scorers/{id}/", Level.READ, 200, check=page_shows("ladder")),
    Action("edit page", "ui", "get", "/scorers/{id}/edit", Level.EDIT, 200, check=page_shows("ladder")),
    Action(
        "edit",
        "ui",
        "post",
        "/scorers/{id}/edit",
        Level.EDIT,
        302,
        data=SCORER_FORM,
        check=redirects_to("/scorers/{id}/"),
    ),
    Action(
        "run form",
        "ui",
        "post",
        "/scorers/{id}/run",
        Level.USE,
        422,
        data={"outputs": "Paris"},
        headers=HTMX,
        check=page_shows(NO_ENDPOINT),
    ),
    Action("delete page", "ui", "get", "/scorers/{id}/delete", Level.MANAGE, 200, check=page_shows("ladder")),
    Action("delete form", "ui", "post", "/scorers/{id}/delete", Level.MANAGE, 302, check=redirects_to("/scorers/")),
    *panel_actions("scorer", "ladder"),
]


def make_scorer(alice, upstream) -> World:
    scorer = scorer_services.create_scorer(actor=alice, name="ladder", instructions="Is {{ outputs }} right?")
    return World(scorer, {"id": scorer.public_id}, upstream)


# -- the ladder -------------------------------------------------------------------------------------

LADDERS: dict[str, tuple[Callable[..., World], list[Action]]] = {
    "key": (make_key, KEY_ACTIONS),
    "endpoint": (make_endpoint, ENDPOINT_ACTIONS),
    "scorer": (make_scorer, SCORER_ACTIONS),
}
LEVELS = [None, *Level]
CASES = [
    pytest.param(kind, action, level, id=f"{kind}-{action.surface}-{action.name}-{level.name if level else 'none'}")
    for kind, (_, actions) in LADDERS.items()
    for action in actions
    for level in LEVELS
]


def test_every_shareable_type_has_a_ladder():
    assert sorted(model._meta.model_name for model in sharing.shareable_models()) == sorted(LADDERS)


def test_each_ladder_covers_every_level_an_action_can_need():
    for kind, (_, actions) in LADDERS.items():
        for surface in ("api", "ui"):
            assert {action.level for action in actions if action.surface == surface} == set(Level), (kind, surface)


def _request(action: Action, world: World, user) -> Any:
    path = action.path.format(**world.ids)
    data = action.data(world) if callable(action.data) else action.data
    if action.surface == "api":
        client = APIClient()
        client.force_authenticate(user)
        return getattr(client, action.method)(path, data, format="json", headers=action.headers)
    client = Client(raise_request_exception=True)
    client.force_login(user)
    return getattr(client, action.method)(path, data or {}, headers=action.headers)


def _assert_refused(response, action: Action, world: World, held: Level | None) -> None:
    verbose = world.obj._meta.verbose_name
    if held is None:
        status, message = 404, f"No {verbose} matches the given query."
    else:
        status = 403
        message = f"You need {action.level.name} permission on this {verbose} to do that (you have {held.name})."
    assert response.status_code == status, response.content[:300]
    if action.surface == "api":
        assert response.json() == {"detail": message}
    else:
        page = response.content.decode()
        assert (NOT_FOUND_PAGE if held is None else message) in page, page[:300]


@pytest.mark.parametrize(("kind", "action", "level"), CASES)
def test_each_level_gets_exactly_what_the_rule_says(
    kind, action, level, alice, bob, charlie, dave, team, admin_user, upstream
):
    make, _ = LADDERS[kind]
    world = make(alice, upstream)
    sharing.grant(world.obj, charlie, Level.READ)  # someone to unshare
    if level is not None:
        sharing.grant(world.obj, bob, level)
        sharing.grant(world.obj, team, level)
    callers = [bob, dave] + ([alice, admin_user] if level is Level.MANAGE else [])
    for caller in callers:
        with transaction.atomic():
            response = _request(action, world, caller)
            allowed = level is not None and level >= action.level
            if allowed:
                assert response.status_code == action.ok, (caller.username, response.content[:500])
                if action.check is not None:
                    action.check(response, world)
            else:
                _assert_refused(response, action, world, level)
            transaction.set_rollback(True)
        world.obj.refresh_from_db()


def test_a_group_member_and_a_direct_grant_combine_to_the_higher_level(alice, bob, team, upstream):
    """bob holds READ himself and EDIT through a group: EDIT wins, MANAGE is still refused."""
    world = make_key(alice, upstream)
    group = make_group("editors")
    bob.groups.add(group)
    sharing.grant(world.obj, bob, Level.READ)
    sharing.grant(world.obj, group, Level.EDIT)
    edit = next(action for action in KEY_ACTIONS if action.name == "update")
    manage = next(action for action in KEY_ACTIONS if action.name == "list grants")
    with transaction.atomic():
        assert _request(edit, world, bob).status_code == 200
        transaction.set_rollback(True)
    _assert_refused(_request(manage, world, bob), manage, world, Level.EDIT)
