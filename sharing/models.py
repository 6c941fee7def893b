"""Querysets and base classes for shareable models (no tables of their own)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models

from sharing.levels import Level

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser


class SharedQuerySet(models.QuerySet):
    """A queryset that knows which rows a user may see or act on."""

    def visible_to(self, user: AbstractBaseUser | AnonymousUser, level: Level = Level.READ) -> SharedQuerySet:
        """Rows on which ``user`` holds ``level`` or higher, directly or through a group."""
        if not user.is_authenticated or not user.is_active:
            return self.none()
        if user.is_superuser:
            return self
        model_name = self.model._meta.model_name
        codenames = [lvl.codename(model_name) for lvl in Level if lvl >= level]
        # The direct-FK permission tables (see each model's *ObjectPermission)
        # keep this one indexed join per table instead of guardian's
        # generic text object_pk casts.
        user_perms = self.model.user_permission_model.objects.filter(user=user, permission__codename__in=codenames)
        group_perms = self.model.group_permission_model.objects.filter(
            group__user=user, permission__codename__in=codenames
        )
        return self.filter(
            models.Q(pk__in=user_perms.values("content_object")) | models.Q(pk__in=group_perms.values("content_object"))
        )
