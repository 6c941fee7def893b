"""The rules of teams, one function per change. The Teams pages, the API and the admin call these.

A team is a Django auth group (sharing grants levels to groups; members
hold them) with a ``Team`` row for its public id and its managers. Who may
do what:

- any signed-in user may create a team, and is its first member and manager;
- members see the team, its members with their roles and what is shared with
  it; anyone else gets 404, as for keys and endpoints (superusers see and
  run every team without being members);
- only the team's managers and superusers rename it, delete it, add and
  remove members and change roles; a member may also leave on their own;
- a team keeps at least one active manager: the last one can be neither
  demoted nor removed, and cannot leave (delete the team instead);
- removing a member or deleting the team must not leave a shared object
  without a manager (``sharing.services.refuse_orphans``, the rule the admin
  and ``sharing.signals`` already apply to groups): refused, naming the
  objects;
- every change is an audit event on the team.

Each change locks the team's row first, so two managers stepping down at
once cannot both pass the last-manager check.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from audit import services as audit
from gatewaylib.validators import no_control_characters
from sharing import services as sharing
from sharing.levels import Level, level_from_codename
from sharing.services import Departure
from teams.models import Role, Team

if TYPE_CHECKING:
    from collections.abc import Iterable

    from django.contrib.auth.models import AbstractBaseUser
    from django.db.models import Model

    from sharing.services import AnyUser

NAME_MAX_LENGTH = Group._meta.get_field("name").max_length
NOT_A_MANAGER = "Only the team's managers can do that."
LAST_MANAGER = "{user} is the last manager of team “{team}”; make another member a manager first{alternative}."


@dataclass(frozen=True)
class Member:
    """One member of a team and their role."""

    user: AbstractBaseUser
    role: Role

    @property
    def is_manager(self) -> bool:
        return self.role == Role.MANAGER

    def as_dict(self) -> dict[str, str]:
        return {"user": self.user.get_username(), "role": self.role.value}


@dataclass(frozen=True)
class SharedObject:
    """A key or an endpoint shared with a team, and the level the team holds on it."""

    obj: Model
    level: Level

    @property
    def kind(self) -> str:
        return self.obj._meta.model_name

    def as_dict(self) -> dict[str, str]:
        return {"type": self.kind, "id": self.obj.public_id, "name": str(self.obj), "level": self.level.name}


# -- reading -----------------------------------------------------------------------------------------


def get_team_for_user(user: AnyUser, team_id: Any) -> Team:
    """The team ``team_id`` if ``user`` may see it (a member, or a superuser); 404 otherwise, as for a missing one."""
    return sharing.get_or_404(Team.objects.visible_to(user).with_counts(user), pk=team_id)


def role_of(user: AnyUser, team: Team) -> Role | None:
    """``user``'s role in ``team``, or None when they are not a member."""
    if not user.is_authenticated or not team.group.user_set.filter(pk=user.pk).exists():
        return None
    return Role.MANAGER if team.managers.filter(pk=user.pk).exists() else Role.MEMBER


def can_manage(user: AnyUser, team: Team) -> bool:
    """Whether ``user`` may change ``team``: an active superuser, or an active member with the manager role."""
    if not user.is_authenticated or not user.is_active:
        return False
    return user.is_superuser or role_of(user, team) == Role.MANAGER


def check_can_manage(user: AnyUser, team: Team) -> None:
    """Raise 403 (``PermissionDenied``) unless ``user`` may change ``team``."""
    if not can_manage(user, team):
        raise PermissionDenied(NOT_A_MANAGER)


def members(team: Team) -> list[Member]:
    """Every member, by username, with their role (two queries)."""
    managers = set(team.managers.values_list("pk", flat=True))
    return [
        Member(user, Role.MANAGER if user.pk in managers else Role.MEMBER)
        for user in team.group.user_set.order_by("username")
    ]


def shared_with(team: Team, viewer: AnyUser) -> list[SharedObject]:
    """The keys and endpoints shared with ``team`` that ``viewer`` can READ, with the team's level on each."""
    shared: list[SharedObject] = []
    for model in sharing.shareable_models():
        levels: dict[Any, Level] = {}
        for pk, codename in model.group_permission_model.objects.filter(group=team.group_id).values_list(
            "content_object", "permission__codename"
        ):
            if (level := level_from_codename(codename)) is not None:
                levels[pk] = max(level, levels.get(pk, level))
        if levels:
            visible = model.objects.visible_to(viewer, Level.READ).filter(pk__in=levels)
            shared += [SharedObject(obj, levels[obj.pk]) for obj in visible]
    return shared


# -- changing ----------------------------------------------------------------------------------------


def clean_name(name: Any, *, team: Team | None = None) -> str:
    """A team name: trimmed, not empty, at most 150 characters, no control characters, not taken (any case)."""
    name = str(name or "").strip()
    if not name:
        raise ValidationError({"name": ["Give the team a name."]})
    if len(name) > NAME_MAX_LENGTH:
        raise ValidationError({"name": [f"Use at most {NAME_MAX_LENGTH} characters."]})
    try:
        no_control_characters(name)
    except ValidationError as exc:
        raise ValidationError({"name": exc.messages}) from None
    taken = Group.objects.filter(name__iexact=name)
    if team is not None:
        taken = taken.exclude(pk=team.group_id)
    if taken.exists():
        raise ValidationError({"name": [_taken(name)]})
    return name


def _taken(name: str) -> str:
    return f"A team named “{name}” already exists; choose another name."


@transaction.atomic
def create_team(*, actor: AbstractBaseUser, name: str) -> Team:
    """A new team named ``name``; ``actor`` is its first member and manager."""
    name = clean_name(name)
    try:
        with transaction.atomic():  # a savepoint: a concurrent create of the same name loses cleanly
            group = Group.objects.create(name=name)
    except IntegrityError:
        raise ValidationError({"name": [_taken(name)]}) from None
    team = Team.for_group(group)
    team.created_by = actor
    team.save(update_fields=["created_by"])
    group.user_set.add(actor)
    team.managers.add(actor)
    audit.record(actor, "create", team, {"after": {"name": name}})
    return team


@transaction.atomic
def rename_team(team: Team, *, actor: AbstractBaseUser, name: str) -> Team:
    team = _locked(team, actor)
    before = team.group.name
    name = clean_name(name, team=team)
    if name != before:
        team.group.name = name
        team.group.save(update_fields=["name"])
        audit.record(actor, "update", team, {"name": {"before": before, "after": name}})
    return team


@transaction.atomic
def add_member(team: Team, user: AbstractBaseUser, *, actor: AbstractBaseUser, role: Role = Role.MEMBER) -> Member:
    """Add an active user to the team (as a plain member, or straight away as a manager)."""
    team = _locked(team, actor)
    if not user.is_active:
        raise ValidationError({"user": [f"{user} is not an active user."]})
    if team.group.user_set.filter(pk=user.pk).exists():
        raise ValidationError({"user": [f"{user} is already a member of “{team}”."]})
    team.group.user_set.add(user)
    if role == Role.MANAGER:
        team.managers.add(user)
    audit.record(actor, "add_member", team, {"user": user.get_username(), "role": Role(role).value})
    return Member(user, Role(role))


@transaction.atomic
def remove_member(team: Team, user: AbstractBaseUser, *, actor: AbstractBaseUser) -> Member:
    """Take ``user`` out of the team (a member may remove themselves: leaving); return who left, as they were.

    Refused when they are its last active manager, or when their leaving
    would leave a shared object without a manager.
    """
    team = _locked(team, actor, allow=actor.pk == user.pk)
    _require_member(team, user)
    _keep_a_manager(team, user, alternative=", or delete the team")
    leaving = Departure(memberships={(user.pk, team.group_id)})
    sharing.refuse_orphans(leaving, f"Removing {user} from team “{team}”", field="user")
    was = Member(user, Role.MANAGER if team.managers.filter(pk=user.pk).exists() else Role.MEMBER)
    team.managers.remove(user)
    team.group.user_set.remove(user)
    audit.record(actor, "remove_member", team, {"user": user.get_username()})
    return was


@transaction.atomic
def set_role(team: Team, user: AbstractBaseUser, role: Role, *, actor: AbstractBaseUser) -> Member:
    """Make a member a manager, or a manager a plain member; the last active manager stays one."""
    team = _locked(team, actor)
    _require_member(team, user)
    role = Role(role)
    is_manager = team.managers.filter(pk=user.pk).exists()
    if role == Role.MANAGER and not is_manager:
        team.managers.add(user)
    elif role == Role.MEMBER and is_manager:
        _keep_a_manager(team, user, alternative="")
        team.managers.remove(user)
    else:
        return Member(user, role)  # nothing changes, nothing to record
    audit.record(actor, "change_role", team, {"user": user.get_username(), "role": role.value})
    return Member(user, role)


@transaction.atomic
def set_teams(user: AbstractBaseUser, groups: Iterable[Group], *, actor: AbstractBaseUser) -> None:
    """Make ``user``'s teams exactly ``groups`` (the admin's user form), one ``remove_member``/``add_member`` each.

    Removals go first, so joining another team that manages the same objects
    in the same change does not count (add it in an earlier change).
    """
    wanted = {group.pk: group for group in groups}
    current = {group.pk: group for group in user.groups.all()}
    for pk in sorted(current.keys() - wanted.keys()):
        remove_member(Team.for_group(current[pk]), user, actor=actor)
    for pk in sorted(wanted.keys() - current.keys()):
        add_member(Team.for_group(wanted[pk]), user, actor=actor)


@transaction.atomic
def delete_team(team: Team, *, actor: AbstractBaseUser) -> None:
    """Delete the team and its group: every level shared with it ends. Refused when that orphans an object."""
    team = _locked(team, actor)
    sharing.refuse_orphans(Departure(groups={team.group_id}), f"Deleting team “{team}”")
    audit.record(
        actor,
        "delete",
        team,
        {"before": {"name": team.name, "members": [member.as_dict() for member in members(team)]}},
    )
    team.group.delete()  # the Team row and the group's grants go with it


def deletion_refusal(team: Team) -> str | None:
    """What ``delete_team`` would refuse with now (for the confirmation page), or None."""
    orphans = sharing.orphaned_by(Departure(groups={team.group_id}))
    return sharing.no_manager_message(f"Deleting team “{team}”", orphans) if orphans else None


def _locked(team: Team, actor: AnyUser, *, allow: bool = False) -> Team:
    """The team's row, locked for this transaction, once ``actor`` may change it (or ``allow`` says so)."""
    team = Team.objects.select_for_update().select_related("group").get(pk=team.pk)
    if not allow:
        check_can_manage(actor, team)
    return team


def _require_member(team: Team, user: AbstractBaseUser) -> None:
    if not team.group.user_set.filter(pk=user.pk).exists():
        raise ValidationError({"user": [f"{user} is not a member of “{team}”."]})


def _keep_a_manager(team: Team, user: AbstractBaseUser, *, alternative: str) -> None:
    """Before ``user`` stops managing ``team``: another active manager must remain (inactive ones cannot act)."""
    active = team.managers.filter(is_active=True)
    if active.filter(pk=user.pk).exists() and not active.exclude(pk=user.pk).exists():
        message = LAST_MANAGER.format(user=user, team=team, alternative=alternative)
        raise ValidationError({"user": [message]})
