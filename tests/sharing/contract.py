"""The 404/403/2xx permission ladder, written once and run against every shared resource.

A resource module declares its actions (method, path suffix, body, level
needed) and a factory that creates an object owned by alice; the ladder then
checks each action for: the owner, an outsider, bob granted each level in
turn, and dave holding each level through his group.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sharing import services
from sharing.levels import Level

PRINCIPAL_LEVELS = [None, *Level]


@dataclass(frozen=True)
class Action:
    name: str
    method: str
    suffix: str  # appended to the object's URL, e.g. "" or "permissions"
    level: Level
    body: dict[str, Any] | Callable[[], dict[str, Any]] | None = None
    query: str = ""
    ok_statuses: tuple[int, ...] = field(default=(200, 201, 204))


def expected_outcome(held: Level | None, needed: Level) -> str:
    if held is None:
        return "404"
    return "ok" if held >= needed else "403"


def grant_level(obj, principal, level: Level | None) -> None:
    if level is not None:
        services.grant(obj, principal, level)


def call(client, obj_url: str, action: Action):
    url = obj_url + action.suffix + (f"?{action.query}" if action.query else "")
    body = action.body() if callable(action.body) else action.body
    return (
        getattr(client, action.method)(url, body, format="json")
        if body is not None
        else getattr(client, action.method)(url)
    )


def assert_outcome(response, action: Action, outcome: str) -> None:
    detail = f"{action.name}: got {response.status_code} {getattr(response, 'data', '')!r}"
    if outcome == "ok":
        assert response.status_code in action.ok_statuses, detail
    else:
        assert response.status_code == int(outcome), detail
