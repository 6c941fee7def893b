"""Forms of the sharing panel: grant (add or change) a level, and revoke it.

A principal travels as ``user:<username>`` or ``group:<name>`` so one picker
offers both, unambiguously. Every rule (unknown principal, the last manager)
is decided by ``sharing.services``; the forms only turn its errors into
messages the panel shows inline.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

from gatewaylib.ui import add_service_errors
from sharing import services
from sharing.levels import LEVEL_DESCRIPTIONS, Level
from teams.models import Team

LEVEL_CHOICES = [(level.name, level.name.title()) for level in Level]


def principal_value(grant: services.Grant) -> str:
    """The picker value that names a grant's principal."""
    return f"user:{grant.user}" if grant.user is not None else f"group:{grant.group}"


def principal_choices(grants: list[services.Grant], viewer: Any) -> list[tuple[str, list[tuple[str, str]]]]:
    """Users, and the viewer's teams, that hold no grant yet, as <optgroup>s for the add picker.

    Only the teams ``viewer`` belongs to (every team, for a superuser) are
    offered: the others are not theirs to see (``teams.models.TeamQuerySet``).
    """
    taken = {principal_value(grant) for grant in grants}
    users = get_user_model().objects.filter(is_active=True).order_by("username").values_list("username", flat=True)
    groups = Team.objects.visible_to(viewer).order_by("group__name").values_list("group__name", flat=True)
    return [
        ("Users", [(f"user:{name}", name) for name in users if f"user:{name}" not in taken]),
        ("Your teams", [(f"group:{name}", name) for name in groups if f"group:{name}" not in taken]),
    ]


def level_options() -> list[dict[str, Any]]:
    """Levels with their one-line descriptions, for the level <select>s."""
    return [{"name": level.name, "label": level.name.title(), "help": LEVEL_DESCRIPTIONS[level]} for level in Level]


class PrincipalForm(forms.Form):
    """Names one user or group; the services decide whether it exists."""

    principal = forms.CharField(max_length=200, error_messages={"required": "Choose a user or a group."})

    def clean_principal(self) -> Any:
        kind, _, name = self.cleaned_data["principal"].partition(":")
        if kind not in {"user", "group"} or not name:
            raise ValidationError("Choose a user or a group.")
        try:
            return services.resolve_principal(**{kind: name})
        except ValidationError as exc:
            raise ValidationError(exc.messages) from None


class GrantForm(PrincipalForm):
    """Give a principal exactly one level (adding a grant or changing one)."""

    level = forms.ChoiceField(choices=LEVEL_CHOICES)

    def clean_level(self) -> Level:
        return Level[self.cleaned_data["level"]]

    def try_save(self, obj: Any, actor: Any) -> services.Grant | None:
        try:
            return services.grant(obj, self.cleaned_data["principal"], self.cleaned_data["level"], actor=actor)
        except ValidationError as exc:
            add_service_errors(self, exc)
            return None


class RevokeForm(PrincipalForm):
    """Remove every level a principal holds."""

    def try_save(self, obj: Any, actor: Any) -> bool:
        try:
            return services.revoke(obj, self.cleaned_data["principal"], actor=actor)
        except ValidationError as exc:
            add_service_errors(self, exc)
            return False
