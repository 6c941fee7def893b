"""Forms of the Teams pages: name a team, add a member, change a role, remove a member.

Every rule (a name taken, the last manager, an object left without one, who
may do it) is decided by ``teams.services``; the forms parse the input and
turn the services' errors into messages the pages show inline.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

from gatewaylib.ui import add_service_errors
from sharing import services as sharing
from teams import services
from teams.models import Role


class ServiceForm(forms.Form):
    """A form that runs a service and keeps its ValidationError as form errors."""

    def run(self, change: Callable[[], Any]) -> Any:
        """``change()``'s result, or None once its ValidationError is on the form."""
        try:
            return change()
        except ValidationError as exc:
            add_service_errors(self, exc)
            return None


class TeamForm(ServiceForm):
    """Create a team, or rename one."""

    name = forms.CharField(
        label="Team name",
        max_length=services.NAME_MAX_LENGTH,
        widget=forms.TextInput(attrs={"placeholder": "platform", "autocomplete": "off"}),
        help_text="Unique. Keys and endpoints are shared with the team by this name.",
    )

    def clean_name(self) -> str:
        return self.cleaned_data["name"].strip()

    def try_create(self, actor: Any):
        return self.run(lambda: services.create_team(actor=actor, name=self.cleaned_data["name"]))

    def try_rename(self, team: Any, actor: Any):
        return self.run(lambda: services.rename_team(team, actor=actor, name=self.cleaned_data["name"]))


class MemberForm(ServiceForm):
    """Names one member of the team by username (they may have been deactivated since they joined)."""

    user = forms.CharField(label="Username", max_length=150, error_messages={"required": "Enter a username."})

    def __init__(self, *args: Any, team: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.team = team

    def clean_user(self) -> Any:
        username = self.cleaned_data["user"].strip()
        member = self.team.group.user_set.filter(**{get_user_model().USERNAME_FIELD: username}).first()
        if member is None:
            raise ValidationError(f"{username} is not a member of “{self.team}”.")
        return member

    def try_remove(self, actor: Any):
        return self.run(lambda: services.remove_member(self.team, self.cleaned_data["user"], actor=actor))


class RoleForm(MemberForm):
    """Make a member a manager, or a manager a plain member."""

    role = forms.ChoiceField(choices=Role.choices)

    def try_save(self, actor: Any):
        data = self.cleaned_data
        return self.run(lambda: services.set_role(self.team, data["user"], Role(data["role"]), actor=actor))


class AddMemberForm(ServiceForm):
    """Add an active user, by username, as a member or a manager."""

    user = forms.CharField(
        label="Username",
        max_length=150,
        error_messages={"required": "Enter the username of the person to add."},
        widget=forms.TextInput(
            attrs={"placeholder": "bob", "autocomplete": "off", "autocapitalize": "off", "spellcheck": "false"}
        ),
    )
    role = forms.ChoiceField(choices=Role.choices, initial=Role.MEMBER)

    def clean_user(self) -> Any:
        try:
            return sharing.resolve_principal(user=self.cleaned_data["user"].strip())
        except ValidationError as exc:
            raise ValidationError(exc.messages) from None

    def try_save(self, team: Any, actor: Any):
        data = self.cleaned_data
        return self.run(lambda: services.add_member(team, data["user"], actor=actor, role=Role(data["role"])))
