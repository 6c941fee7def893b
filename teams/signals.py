"""Keep every group a team, and every team manager a member, whatever changes groups (admin, shell, scripts).

- A group created anywhere gets its ``Team`` row (the Teams page and the API
  address teams by that row's public id).
- A membership that ends ends the manager role with it, so a manager is
  always a member: removing someone from the group in the admin, or with
  ``user.groups.remove(...)``, cannot leave them running a team they are no
  longer in.

The rules of changing a team (who may, the last manager stays) are
``teams.services``'; these receivers only keep the two tables consistent.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db.models.signals import m2m_changed, post_save

from teams.models import Team


def _on_group_save(sender, instance: Group, created: bool, raw: bool = False, **kwargs) -> None:
    if created and not raw:
        Team.for_group(instance)


def _on_membership_change(sender, instance, action: str, reverse: bool, pk_set: set[int] | None, **kwargs) -> None:
    """``post_remove``/``post_clear`` of ``user.groups`` or ``group.user_set``: drop the roles that went with them."""
    if action not in ("post_remove", "post_clear"):
        return
    roles = Team.managers.through.objects
    if reverse:  # group.user_set: these users (every one, on a clear) left this group
        roles = roles.filter(team__group=instance)
        roles = roles.filter(user__in=pk_set) if action == "post_remove" else roles
    else:  # user.groups: this user left these groups (every one, on a clear)
        roles = roles.filter(user=instance)
        roles = roles.filter(team__group__in=pk_set) if action == "post_remove" else roles
    roles.delete()


def connect() -> None:
    post_save.connect(_on_group_save, sender=Group, dispatch_uid="teams-group-save")
    m2m_changed.connect(_on_membership_change, sender=get_user_model().groups.through, dispatch_uid="teams-memberships")
