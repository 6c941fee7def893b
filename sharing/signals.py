"""The backstop of "the last manager stays" for code that changes users and groups outside the admin.

The admin validates first and shows a form error or a message
(``sharing.admin``); these receivers catch the same departures from the
shell, scripts and any other code, and refuse them by raising a
``ValidationError`` before anything is written. Not covered: queryset
``update(is_active=False)`` and raw SQL, which send no signals.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.db.models.signals import m2m_changed, pre_delete, pre_save

from sharing import services
from sharing.services import Departure

# On a deleting queryset: the pks already checked together (one check for the whole delete).
_CHECKED = "_sharing_checked_pks"


def _refuse(departure: Departure, what: Callable[[], str]) -> None:
    """Raise when ``departure`` orphans something; ``what`` is called only then (it may query names)."""
    if orphans := services.orphaned_by(departure):
        raise ValidationError(services.no_manager_message(what(), orphans))


def _names(rows: Iterable[Any]) -> str:
    return ", ".join(str(row) for row in rows)


def _on_membership_change(sender, instance, action: str, reverse: bool, pk_set: set[int] | None, **kwargs) -> None:
    """``user.groups.remove/clear/set`` and ``group.user_set.remove/clear/set``."""
    if action not in ("pre_remove", "pre_clear"):
        return
    if reverse:  # group.user_set
        users = pk_set if action == "pre_remove" else set(instance.user_set.values_list("pk", flat=True))
        departure = Departure(memberships={(user, instance.pk) for user in users})
        who = get_user_model().objects.filter(pk__in=users)
        _refuse(departure, lambda: f"Removing {_names(who)} from group {instance}")
    else:  # user.groups
        groups = pk_set if action == "pre_remove" else set(instance.groups.values_list("pk", flat=True))
        departure = Departure(memberships={(instance.pk, group) for group in groups})
        which = Group.objects.filter(pk__in=groups)
        _refuse(departure, lambda: f"Removing {instance} from group {_names(which)}")


def _on_delete(sender, instance, origin: Any, departure: Callable[[set[Any]], Departure], verb: str) -> None:
    """Check what goes with ``instance``: every row of a deleting queryset together, once."""
    together = isinstance(origin, QuerySet) and origin.model is sender
    if together and instance.pk in getattr(origin, _CHECKED, ()):
        return
    pks = (set(origin.values_list("pk", flat=True)) | {instance.pk}) if together else {instance.pk}
    _refuse(departure(pks), lambda: f"{verb} {_names(sender.objects.filter(pk__in=pks))}")
    if together:
        setattr(origin, _CHECKED, pks)


def _on_user_delete(sender, instance, origin: Any = None, **kwargs) -> None:
    _on_delete(sender, instance, origin, lambda pks: Departure(users=pks), "Deleting")


def _on_group_delete(sender, instance, origin: Any = None, **kwargs) -> None:
    _on_delete(sender, instance, origin, lambda pks: Departure(groups=pks), "Deleting group")


def _on_user_save(sender, instance, raw: bool = False, update_fields: Any = None, **kwargs) -> None:
    """A save that turns ``is_active`` off (one query, and only for inactive users)."""
    if raw or instance.pk is None or instance.is_active:
        return
    if update_fields is not None and "is_active" not in update_fields:
        return
    if sender.objects.filter(pk=instance.pk, is_active=True).exists():
        _refuse(Departure(users={instance.pk}), lambda: f"Deactivating {instance}")


def connect() -> None:
    user_model = get_user_model()
    m2m_changed.connect(_on_membership_change, sender=user_model.groups.through, dispatch_uid="sharing-memberships")
    pre_delete.connect(_on_user_delete, sender=user_model, dispatch_uid="sharing-user-delete")
    pre_delete.connect(_on_group_delete, sender=Group, dispatch_uid="sharing-group-delete")
    pre_save.connect(_on_user_save, sender=user_model, dispatch_uid="sharing-user-save")
