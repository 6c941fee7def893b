"""A team is a Django auth ``Group`` (what sharing grants levels to) plus the ``Team`` row that runs it."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import models
from django.db.models import Count, Exists, OuterRef
from django.urls import reverse

from sharing.levels import Level

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser


class Role(models.TextChoices):
    """A member's role in a team: every manager is a member."""

    MEMBER = "member", "Member"
    MANAGER = "manager", "Manager"


class TeamQuerySet(models.QuerySet):
    """Teams a user may see (their own) or run (those they manage)."""

    def visible_to(self, user: AbstractBaseUser | AnonymousUser, level: Level = Level.READ) -> TeamQuerySet:
        """READ: the teams ``user`` belongs to; above READ: the teams they manage. Superusers: every team.

        The ``level`` argument lets the audit trail treat teams like the
        shared objects (``audit.services.visible_events``).
        """
        if not user.is_authenticated or not user.is_active:
            return self.none()
        if user.is_superuser:
            return self
        # Subqueries rather than joins, so that a later annotate() over the
        # members or managers counts all of them, not only ``user``.
        teams = self.filter(group__in=get_user_model().groups.through.objects.filter(user=user).values("group"))
        if level > Level.READ:
            teams = teams.filter(pk__in=self.model.managers.through.objects.filter(user=user).values("team"))
        return teams

    def with_counts(self, user: AbstractBaseUser | AnonymousUser) -> TeamQuerySet:
        """Each team's ``member_count``; ``is_member`` and ``is_manager`` say what ``user`` is in it."""
        managed = self.model.managers.through.objects.filter(team=OuterRef("pk"), user=user.pk)
        joined = get_user_model().groups.through.objects.filter(group=OuterRef("group"), user=user.pk)
        counted = self.select_related("group", "created_by").annotate(
            member_count=Count("group__user", distinct=True), is_manager=Exists(managed), is_member=Exists(joined)
        )
        return counted.order_by("group__name")  # Meta.ordering does not apply to a GROUP BY query


class Team(models.Model):
    """One team: a Django auth group, its public id and its managers.

    Membership is the group's own (``group.user_set``), so everything that
    already understands groups keeps working unchanged: a level shared with
    the group counts for its members (``SharedQuerySet.visible_to``,
    ``sharing.services.get_level``), the last-manager rule of shared objects
    reads group membership, and the proxy's caches are invalidated when it
    changes.

    Managing a team is a role on a membership, stored as ``managers``
    (a subset of the members), rather than as django-guardian object
    permissions on the group: the right has one value (manage or not, no
    READ/USE/EDIT ladder; membership is the READ), it only makes sense for a
    member, so it must end when the membership ends (``teams.signals`` drops
    it whatever removes the member), and guardian's generic rows would key
    the group by a text ``object_pk`` the codebase avoids (it gives shared
    models direct-FK permission tables) and would outlive the membership.
    A direct-FK guardian table here would also make ``Team`` look shareable
    to ``sharing.services.shareable_models()``. The rules (who may change
    what, the last manager stays) live in ``teams.services``.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    group = models.OneToOneField(Group, on_delete=models.CASCADE, related_name="team")
    managers = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="managed_teams",
        help_text="Members who may rename and delete the team and change its members. Always members too.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TeamQuerySet.as_manager()

    class Meta:
        ordering = ["group__name"]

    def __str__(self) -> str:
        return self.group.name

    def get_absolute_url(self) -> str:
        return reverse("teams:team-detail", kwargs={"team_id": self.public_id})

    @property
    def name(self) -> str:
        return self.group.name

    @property
    def public_id(self) -> str:
        return self.id.hex

    @classmethod
    def for_group(cls, group: Group) -> Team:
        """The group's team row, made if the group has none (a group created by ``bulk_create``, say)."""
        team, _ = cls.objects.get_or_create(group=group)
        return team
