"""Users and groups in the admin, checked against the one rule their changes can break: the last manager stays.

Django's own ``UserAdmin`` and ``GroupAdmin``, plus:

- the user form refuses to deactivate a user, or take them out of a group,
  when that would leave a shared object with nobody able to manage it (a
  form error on ``is_active`` or ``groups``; nothing is saved);
- deleting users or groups (one, or the bulk action) is refused with an error
  message for the same reason.

The rule is ``sharing.services.orphaned_by``. ``sharing.signals`` backstops
the same changes for code outside the admin; the admin checks first, so it
only meets the backstop after a concurrent change, and shows it as a message.

Groups are teams: the user form's group changes, and renaming or deleting a
group, go through ``teams.services`` (``set_teams``, ``rename_team``,
``delete_team``), so the admin follows the Teams page's rules (only a team's
managers and superusers change it, a team keeps a manager) and each change
is audited. A refusal there is shown as an error message and nothing is saved.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin import actions as admin_actions
from django.contrib.admin.utils import quote, unquote
from django.contrib.auth import admin as auth_admin
from django.contrib.auth import forms as auth_forms
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import router, transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext_lazy
from guardian.admin import GuardedModelAdmin

from sharing import services
from sharing.levels import Level, level_from_codename
from sharing.services import Departure
from teams import services as teams
from teams.models import Team

User = get_user_model()


def _names(rows: Iterable[Any]) -> str:
    return ", ".join(str(row) for row in rows)


class UserChangeForm(auth_forms.UserChangeForm):
    """Django's user form, refusing to deactivate or ungroup a user who is some object's last manager."""

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        user = self.instance  # still as stored: the form copies its data onto it after clean()
        if user.pk is None or not user.is_active:
            return cleaned  # an inactive user manages nothing, in or out of groups
        if "is_active" in self.fields and cleaned.get("is_active") is False:
            self._refuse("is_active", Departure(users={user.pk}), f"Deactivating {user}")
        elif "groups" in self.fields and "groups" in cleaned:
            # Joining another managing group in the same save does not count:
            # the groups are saved removals first, so add it in an earlier save.
            leaving = list(user.groups.exclude(pk__in=[group.pk for group in cleaned["groups"]]))
            if leaving:
                departure = Departure(memberships={(user.pk, group.pk) for group in leaving})
                self._refuse("groups", departure, f"Removing {user} from group {_names(leaving)}")
        return cleaned

    def _refuse(self, field: str, departure: Departure, what: str) -> None:
        if orphans := services.orphaned_by(departure):
            self.add_error(field, services.no_manager_message(what, orphans))


class KeepsManagersAdmin(admin.ModelAdmin):
    """Refuses, with a message, deletions that would leave a shared object without a manager."""

    actions = ["delete_selected"]  # ours, in place of the site-wide action
    deleting = "Deleting"

    def departure(self, pks: set[Any]) -> Departure:
        raise NotImplementedError

    def deletion_refusal(self, objs: list[Any]) -> str | None:
        """The error message when deleting ``objs`` together would orphan something, else None."""
        orphans = services.orphaned_by(self.departure({obj.pk for obj in objs}))
        return services.no_manager_message(f"{self.deleting} {_names(objs)}", orphans) if orphans else None

    def delete_view(self, request: HttpRequest, object_id: str, extra_context: Any = None) -> HttpResponse:
        obj = self.get_object(request, unquote(object_id))
        if obj is not None and (refusal := self.deletion_refusal([obj])):
            self.message_user(request, refusal, messages.ERROR)
            opts = self.opts
            url = reverse(f"{self.admin_site.name}:{opts.app_label}_{opts.model_name}_change", args=[quote(obj.pk)])
            return HttpResponseRedirect(url)
        return self._backstop(super().delete_view, request, object_id, extra_context)

    @admin.action(permissions=["delete"], description=gettext_lazy("Delete selected %(verbose_name_plural)s"))
    def delete_selected(self, request: HttpRequest, queryset: Any) -> HttpResponse | None:
        if refusal := self.deletion_refusal(list(queryset)):
            self.message_user(request, refusal, messages.ERROR)
            return None
        return self._backstop(lambda request: admin_actions.delete_selected(self, request, queryset), request)

    def changeform_view(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return self._backstop(super().changeform_view, request, *args, **kwargs)

    def _backstop(self, view: Callable[..., Any], request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        """Show a refusal met while saving (``sharing.signals``' after a concurrent change, or
        ``teams.services``') as a message, not an error page; nothing of the change is kept."""
        try:
            with transaction.atomic(using=router.db_for_write(self.model)):
                return view(request, *args, **kwargs)
        except (ValidationError, PermissionDenied) as exc:
            text = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
            self.message_user(request, text, messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())


for _model in (User, Group):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)


@admin.register(User)
class UserAdmin(KeepsManagersAdmin, auth_admin.UserAdmin):
    """Django's user admin; deactivating, ungrouping and deleting keep every shared object managed."""

    form = UserChangeForm

    def departure(self, pks: set[Any]) -> Departure:
        return Departure(users=pks)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        """The user's teams change through ``teams.services.set_teams``, not straight into the table."""
        groups = form.cleaned_data.pop("groups", None) if change else None
        super().save_related(request, form, formsets, change)
        if groups is not None:
            teams.set_teams(form.instance, groups, actor=request.user)


@admin.register(Group)
class GroupAdmin(KeepsManagersAdmin, auth_admin.GroupAdmin):
    """Django's group admin; deleting a group keeps every shared object managed."""

    deleting = "Deleting group"
    readonly_fields = ("team_members",)

    def departure(self, pks: set[Any]) -> Departure:
        return Departure(groups=pks)

    @admin.display(description="Members (managers marked)")
    def team_members(self, obj: Group | None) -> str:
        """Who is in the team; change it on the Teams page, or in each user's groups."""
        if obj is None or obj.pk is None:
            return "—"
        names = [f"{m.user} (manager)" if m.is_manager else str(m.user) for m in teams.members(Team.for_group(obj))]
        return ", ".join(names) or "—"

    def save_model(self, request: HttpRequest, obj: Group, form: Any, change: bool) -> None:
        if change and "name" in form.changed_data:
            teams.rename_team(Team.for_group(obj), actor=request.user, name=obj.name)
        else:
            super().save_model(request, obj, form, change)

    def delete_model(self, request: HttpRequest, obj: Group) -> None:
        teams.delete_team(Team.for_group(obj), actor=request.user)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        for group in queryset:
            self.delete_model(request, group)


# -- the object-permission pages of shared objects (keys, endpoints) ----------------------------------
#
# guardian's admin pages assign and remove permission rows directly. Here the
# same pages go through ``sharing.services``: the highest level ticked
# becomes the principal's one level (a grant replaces the previous one), no
# level ticked revokes, the last manager stays, and each change is audited.


def _sharing_form(base: type, principal_attr: str, actor: Any) -> type:
    class SharingPermissionsForm(base):
        def clean(self) -> dict[str, Any]:
            data = super().clean()
            level = self.chosen_level()
            principal = getattr(self, principal_attr)
            try:
                if level is None or level < Level.MANAGE:
                    services.refuse_orphans(Departure(revoked={(self.obj, principal)}), "This", field="permissions")
            except ValidationError as exc:
                self.add_error(None, exc.messages)
            return data

        def chosen_level(self) -> Level | None:
            levels = [level_from_codename(code) for code in self.cleaned_data.get("permissions", [])]
            return max((level for level in levels if level is not None), default=None)

        def save_obj_perms(self) -> None:
            principal, level = getattr(self, principal_attr), self.chosen_level()
            if level is None:
                services.revoke(self.obj, principal, actor=actor)
            else:
                services.grant(self.obj, principal, level, actor=actor)

    return SharingPermissionsForm


class SharedObjectAdmin(GuardedModelAdmin):
    """guardian's object-permission pages, writing through ``sharing.services`` (see above)."""

    def get_obj_perms_manage_user_form(self, request: HttpRequest) -> type:
        return _sharing_form(super().get_obj_perms_manage_user_form(request), "user", request.user)

    def get_obj_perms_manage_group_form(self, request: HttpRequest) -> type:
        return _sharing_form(super().get_obj_perms_manage_group_form(request), "group", request.user)
