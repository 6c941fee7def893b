"""The one place that decides who may do what to a shared object.

The UI, the API, the admin and the proxy all call these functions, so the
rules (404 below READ, 403 below the needed level, creator gets MANAGE, a
grant replaces the principal's previous level) are written once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from guardian.shortcuts import assign_perm

from audit import services as audit
from sharing.levels import Level, level_from_codename

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
    from django.db.models import Model, QuerySet

    AnyUser = AbstractBaseUser | AnonymousUser


@dataclass(frozen=True)
class Grant:
    """One principal's level on one object."""

    level: Level
    user: str | None = None
    group: str | None = None

    def as_dict(self) -> dict[str, str]:
        principal = {"user": self.user} if self.user is not None else {"group": self.group}
        return {**principal, "level": self.level.name}


def _codenames(model: type[Model]) -> dict[str, Level]:
    return {level.codename(model._meta.model_name): level for level in Level}


def get_level(user: AnyUser, obj: Model) -> Level | None:
    """The highest level ``user`` holds on ``obj`` (directly or via a group), or None."""
    if not user.is_authenticated or not user.is_active:
        return None
    if user.is_superuser:
        return Level.MANAGE
    model = type(obj)
    codenames = list(
        model.user_permission_model.objects.filter(user=user, content_object=obj).values_list(
            "permission__codename", flat=True
        )
    )
    codenames += model.group_permission_model.objects.filter(group__user=user, content_object=obj).values_list(
        "permission__codename", flat=True
    )
    levels = [level for code in codenames if (level := level_from_codename(code)) is not None]
    return max(levels, default=None)


def check_level(user: AnyUser, obj: Model, level: Level) -> Level:
    """Raise 404 when ``user`` cannot READ ``obj``, 403 when below ``level``; return the held level."""
    held = get_level(user, obj)
    if held is None:
        raise Http404(f"No {obj._meta.verbose_name} matches the given query.")
    if held < level:
        raise PermissionDenied(
            f"You need {level.name} permission on this {obj._meta.verbose_name} to do that (you have {held.name})."
        )
    return held


def get_object_for_user(user: AnyUser, queryset: QuerySet, level: Level, **lookup: Any) -> Model:
    """Fetch one object for ``user`` at ``level``: 404 when missing or unreadable, 403 when below ``level``."""
    try:
        obj = queryset.get(**lookup)
    except (queryset.model.DoesNotExist, ValidationError, ValueError):
        raise Http404(f"No {queryset.model._meta.verbose_name} matches the given query.") from None
    check_level(user, obj, level)
    return obj


def list_grants(obj: Model) -> list[Grant]:
    """Every user and group grant on ``obj``, highest level per principal."""
    model = type(obj)
    by_user: dict[str, Level] = {}
    for username, code in model.user_permission_model.objects.filter(content_object=obj).values_list(
        "user__username", "permission__codename"
    ):
        if (level := level_from_codename(code)) is not None:
            by_user[username] = max(level, by_user.get(username, level))
    by_group: dict[str, Level] = {}
    for name, code in model.group_permission_model.objects.filter(content_object=obj).values_list(
        "group__name", "permission__codename"
    ):
        if (level := level_from_codename(code)) is not None:
            by_group[name] = max(level, by_group.get(name, level))
    return [Grant(level=lvl, user=name) for name, lvl in sorted(by_user.items())] + [
        Grant(level=lvl, group=name) for name, lvl in sorted(by_group.items())
    ]


def resolve_principal(*, user: str | None = None, group: str | None = None) -> AbstractBaseUser | Group:
    """Turn a username or group name into the row, with a field error when it does not exist."""
    if bool(user) == bool(group):
        raise ValidationError({"non_field_errors": ["Give exactly one of 'user' or 'group'."]})
    if user:
        try:
            return get_user_model().objects.get(username=user, is_active=True)
        except get_user_model().DoesNotExist:
            raise ValidationError({"user": [f"No active user named {user!r}."]}) from None
    try:
        return Group.objects.get(name=group)
    except Group.DoesNotExist:
        raise ValidationError({"group": [f"No group named {group!r}."]}) from None


def _clear(obj: Model, principal: AbstractBaseUser | Group) -> int:
    model = type(obj)
    if isinstance(principal, Group):
        rows = model.group_permission_model.objects.filter(group=principal, content_object=obj)
    else:
        rows = model.user_permission_model.objects.filter(user=principal, content_object=obj)
    rows = rows.filter(permission__codename__in=list(_codenames(model)))
    deleted, _ = rows.delete()
    return deleted


def _ensure_a_manager_remains(obj: Model) -> None:
    if not any(grant.level == Level.MANAGE for grant in list_grants(obj)):
        raise ValidationError(
            {"level": ["This would leave nobody able to manage it; grant MANAGE to someone else first."]}
        )


def _principal(principal: AbstractBaseUser | Group) -> dict[str, str]:
    if isinstance(principal, Group):
        return {"group": principal.name}
    return {"user": principal.get_username()}


@transaction.atomic
def grant(obj: Model, principal: AbstractBaseUser | Group, level: Level, *, actor: Any = None) -> Grant:
    """Give ``principal`` exactly ``level`` on ``obj``, replacing any level it held."""
    _clear(obj, principal)
    assign_perm(level.codename(obj._meta.model_name), principal, obj)
    _ensure_a_manager_remains(obj)
    if actor is not None:
        audit.record(actor, "share", obj, {**_principal(principal), "level": level.name})
    return Grant(level=level, **_principal(principal))


@transaction.atomic
def revoke(obj: Model, principal: AbstractBaseUser | Group, *, actor: Any = None) -> bool:
    """Remove every level ``principal`` holds on ``obj``; False when it held none."""
    removed = _clear(obj, principal) > 0
    if removed:
        _ensure_a_manager_remains(obj)
        if actor is not None:
            audit.record(actor, "unshare", obj, _principal(principal))
    return removed


def grant_creator(obj: Model, user: AbstractBaseUser) -> None:
    """The creator of an object manages it."""
    assign_perm(Level.MANAGE.codename(obj._meta.model_name), user, obj)
