"""The one place that decides who may do what to a shared object.

The UI, the API, the admin and the proxy all call these functions, so the
rules (404 below READ, 403 below the needed level, creator gets MANAGE, a
grant replaces the principal's previous level, the last manager stays) are
written once.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.apps import apps
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


def get_or_404(queryset: QuerySet, **lookup: Any) -> Model:
    """One object of ``queryset``, or 404: a malformed id is a missing object too, never a 500."""
    try:
        return queryset.get(**lookup)
    except (queryset.model.DoesNotExist, ValidationError, ValueError):
        raise Http404(f"No {queryset.model._meta.verbose_name} matches the given query.") from None


def get_object_and_level_for_user(
    user: AnyUser, queryset: QuerySet, level: Level, **lookup: Any
) -> tuple[Model, Level]:
    """Fetch one object for ``user`` at ``level`` with the level they hold: 404 when missing or unreadable, 403 below.

    A page keeps the held level to decide what to offer without asking again.
    """
    obj = get_or_404(queryset, **lookup)
    return obj, check_level(user, obj, level)


def get_object_for_user(user: AnyUser, queryset: QuerySet, level: Level, **lookup: Any) -> Model:
    """Fetch one object for ``user`` at ``level``: 404 when missing or unreadable, 403 when below ``level``."""
    obj, _ = get_object_and_level_for_user(user, queryset, level, **lookup)
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


def _principal(principal: AbstractBaseUser | Group) -> dict[str, str]:
    if isinstance(principal, Group):
        return {"group": principal.name}
    return {"user": principal.get_username()}


@transaction.atomic
def grant(obj: Model, principal: AbstractBaseUser | Group, level: Level, *, actor: Any = None) -> Grant:
    """Give ``principal`` exactly ``level`` on ``obj``, replacing any level it held."""
    _lock(obj)
    if level < Level.MANAGE:  # a lower level ends any MANAGE the principal held
        _ensure_a_manager_remains(obj, principal, field="level")
    _clear(obj, principal)
    assign_perm(level.codename(obj._meta.model_name), principal, obj)
    if actor is not None:
        audit.record(actor, "share", obj, {**_principal(principal), "level": level.name})
    return Grant(level=level, **_principal(principal))


@transaction.atomic
def revoke(obj: Model, principal: AbstractBaseUser | Group, *, actor: Any = None) -> bool:
    """Remove every level ``principal`` holds on ``obj``; False when it held none."""
    _lock(obj)
    _ensure_a_manager_remains(obj, principal, field="group" if isinstance(principal, Group) else "user")
    removed = _clear(obj, principal) > 0
    if removed and actor is not None:
        audit.record(actor, "unshare", obj, _principal(principal))
    return removed


def _lock(obj: Model) -> None:
    """Serialise changes to one object's grants: two managers stepping down at once must not both pass the check."""
    type(obj).objects.select_for_update().filter(pk=obj.pk).exists()


def grant_creator(obj: Model, user: AbstractBaseUser) -> None:
    """The creator of an object manages it."""
    assign_perm(Level.MANAGE.codename(obj._meta.model_name), user, obj)


# The last manager stays.
#
# Every shared object keeps at least one active user who can manage it through
# the object's own grants: a direct MANAGE grant, or MANAGE granted to a group
# that has an active member (an empty group manages nothing). Superusers manage
# everything, but that power is not one of the object's grants: counting it
# would let a team lose the last manager of its own key. Anything that can take
# a manager away (a revoke or a downgrade, a user leaving a group, a user
# deactivated or deleted, a group deleted) is described as a ``Departure`` and
# checked with ``orphaned_by`` before it happens. This module's grant/revoke,
# the auth admin (``sharing.admin``) and the model-signal backstop
# (``sharing.signals``) all ask it. Only changes that end a manager are
# refused; an object that already has none can still be shared.

NO_MANAGER = (
    "{what} would leave nobody able to manage {objects}; "
    "grant MANAGE to another active user, or to a group with active members, first."
)
_NAMED_IN_MESSAGE = 5


def shareable_models() -> list[type[Model]]:
    """Every model shared with levels: those naming their grant tables (today ``Key`` and ``Endpoint``)."""
    return [
        model
        for model in apps.get_models()
        if hasattr(model, "user_permission_model") and hasattr(model, "group_permission_model")
    ]


def shareable_model(model_name: str) -> type[Model] | None:
    """The shareable model called ``model_name`` (``key``, ``endpoint``), or None."""
    return next((model for model in shareable_models() if model._meta.model_name == model_name), None)


@dataclass(frozen=True)
class Departure:
    """A proposed change that may take managers away; each field names what goes (any iterable will do).

    - ``revoked``: (object, user or group) pairs whose grants on the object end;
    - ``memberships``: (user id, group id) pairs that end;
    - ``users``: ids of users deactivated or deleted;
    - ``groups``: ids of groups deleted.
    """

    revoked: frozenset[tuple[Model, AbstractBaseUser | Group]] = frozenset()
    memberships: frozenset[tuple[int, int]] = frozenset()
    users: frozenset[int] = frozenset()
    groups: frozenset[int] = frozenset()

    def __post_init__(self) -> None:
        for name in ("revoked", "memberships", "users", "groups"):
            object.__setattr__(self, name, frozenset(getattr(self, name)))

    def revoked_ids(self, model: type[Model], principal_type: type) -> set[tuple[Any, int]]:
        """(object pk, principal id) of the revoked grants on ``model`` objects to users or to groups."""
        return {
            (obj.pk, who.pk) for obj, who in self.revoked if isinstance(obj, model) and isinstance(who, principal_type)
        }


NOBODY_LEAVES = Departure()


def _memberships() -> QuerySet:
    return get_user_model().groups.through.objects.all()


class _ManagerRoutes:
    """Every way some objects of one model can be managed, read with one query per table."""

    def __init__(self, model: type[Model], pks: set[Any]) -> None:
        self.model, self.pks = model, pks
        self.users: defaultdict[Any, set[int]] = defaultdict(set)  # object pk -> active users granted MANAGE
        self.groups: defaultdict[Any, set[int]] = defaultdict(set)  # object pk -> groups granted MANAGE
        self.members: defaultdict[int, set[int]] = defaultdict(set)  # group id -> its active members
        if not pks:
            return
        manage = {"permission__codename": Level.MANAGE.codename(model._meta.model_name), "content_object__in": pks}
        for pk, user_id in model.user_permission_model.objects.filter(user__is_active=True, **manage).values_list(
            "content_object", "user"
        ):
            self.users[pk].add(user_id)
        for pk, group_id in model.group_permission_model.objects.filter(**manage).values_list(
            "content_object", "group"
        ):
            self.groups[pk].add(group_id)
        if group_ids := set().union(*self.groups.values()):
            for group_id, user_id in (
                _memberships().filter(group__in=group_ids, user__is_active=True).values_list("group", "user")
            ):
                self.members[group_id].add(user_id)

    def has_manager(self, pk: Any, departure: Departure = NOBODY_LEAVES) -> bool:
        """The rule: after ``departure``, an active user still manages ``pk`` directly or through a group."""
        revoked_users = departure.revoked_ids(self.model, get_user_model())
        revoked_groups = departure.revoked_ids(self.model, Group)
        if any(user not in departure.users and (pk, user) not in revoked_users for user in self.users[pk]):
            return True
        return any(
            group not in departure.groups
            and (pk, group) not in revoked_groups
            and any(
                user not in departure.users and (user, group) not in departure.memberships
                for user in self.members[group]
            )
            for group in self.groups[pk]
        )


def _touched(model: type[Model], departure: Departure, groups: set[int]) -> set[Any]:
    """Objects of ``model`` with a MANAGE route that ``departure`` ends: the only ones it can orphan."""
    manage = Level.MANAGE.codename(model._meta.model_name)
    pks = {obj.pk for obj, _ in departure.revoked if isinstance(obj, model)}
    if departure.users:
        pks |= set(
            model.user_permission_model.objects.filter(
                user__in=departure.users, permission__codename=manage
            ).values_list("content_object", flat=True)
        )
    if groups:
        pks |= set(
            model.group_permission_model.objects.filter(group__in=groups, permission__codename=manage).values_list(
                "content_object", flat=True
            )
        )
    return pks


def orphaned_by(departure: Departure) -> list[Model]:
    """The shared objects that have a manager now and would have none after ``departure``."""
    groups = set(departure.groups) | {group for _, group in departure.memberships}
    if departure.users:
        groups |= set(_memberships().filter(user__in=departure.users).values_list("group", flat=True))
    orphans: list[Model] = []
    for model in shareable_models():
        routes = _ManagerRoutes(model, _touched(model, departure, groups))
        lost = [pk for pk in routes.pks if routes.has_manager(pk) and not routes.has_manager(pk, departure)]
        if lost:
            orphans += model.objects.filter(pk__in=lost)
    return orphans


def no_manager_message(what: str, orphans: list[Model]) -> str:
    """``<what> would leave nobody able to manage key “openai-prod”, endpoint “chat”; grant ...``."""
    named = [f"{obj._meta.verbose_name} “{obj}”" for obj in orphans[:_NAMED_IN_MESSAGE]]
    if len(orphans) > _NAMED_IN_MESSAGE:
        named.append(f"{len(orphans) - _NAMED_IN_MESSAGE} more")
    return NO_MANAGER.format(what=what, objects=", ".join(named))


def refuse_orphans(departure: Departure, what: str, *, field: str | None = None) -> None:
    """Raise a ValidationError (on ``field`` when given) if ``departure`` would leave an object without a manager."""
    if orphans := orphaned_by(departure):
        message = no_manager_message(what, orphans)
        raise ValidationError({field: [message]} if field else message)


def _ensure_a_manager_remains(obj: Model, principal: AbstractBaseUser | Group, *, field: str) -> None:
    """Before ``principal`` loses its MANAGE on ``obj``."""
    refuse_orphans(Departure(revoked={(obj, principal)}), "This", field=field)
