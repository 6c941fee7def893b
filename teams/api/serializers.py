from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from gatewaylib.validators import no_control_characters
from sharing.api import LevelField
from teams import services
from teams.models import Role, Team

ROLE_HELP = "`member`, or `manager`: may rename and delete the team and change its members."


class TeamMemberSerializer(serializers.Serializer):
    """One member and their role (adding one: an active user's username)."""

    user = serializers.CharField(max_length=150, help_text="A username.")
    role = serializers.ChoiceField(choices=Role.choices, default=Role.MEMBER.value, help_text=ROLE_HELP)


class TeamRoleSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=Role.choices, help_text=ROLE_HELP)


class TeamSharedObjectSerializer(serializers.Serializer):
    """A key or an endpoint shared with the team, and the team's level on it."""

    type = serializers.ChoiceField(choices=["key", "endpoint"], read_only=True)
    id = serializers.CharField(read_only=True, help_text="The object's 32-hex id (`keys/{id}/`, `endpoints/{id}/`).")
    name = serializers.CharField(read_only=True)
    level = LevelField(read_only=True)


class TeamSerializer(serializers.Serializer):
    """A team as lists show it. Only ``name`` is written (creating or renaming a team)."""

    id = serializers.CharField(source="public_id", read_only=True)
    name = serializers.CharField(
        max_length=services.NAME_MAX_LENGTH,
        validators=[no_control_characters],
        help_text="Unique (in any case). Keys and endpoints are shared with the team by this name.",
    )
    role = serializers.SerializerMethodField(help_text="Your role in the team; null when you are not a member.")
    member_count = serializers.IntegerField(read_only=True)
    # Null once the creating user is deleted (the FK is SET_NULL).
    created_by = serializers.CharField(source="created_by.username", read_only=True, allow_null=True)
    created_at = serializers.DateTimeField(read_only=True)

    @extend_schema_field(serializers.ChoiceField(choices=Role.choices, allow_null=True))
    def get_role(self, team: Team) -> str | None:
        # Annotated by TeamQuerySet.with_counts: no query per team.
        if team.is_manager:
            return Role.MANAGER.value
        return Role.MEMBER.value if team.is_member else None


class TeamDetailSerializer(TeamSerializer):
    """One team with its members and what is shared with it (the objects you can read)."""

    members = serializers.SerializerMethodField()
    shared = serializers.SerializerMethodField()

    @extend_schema_field(TeamMemberSerializer(many=True))
    def get_members(self, team: Team) -> list[dict[str, Any]]:
        return [member.as_dict() for member in services.members(team)]

    @extend_schema_field(TeamSharedObjectSerializer(many=True))
    def get_shared(self, team: Team) -> list[dict[str, Any]]:
        return [item.as_dict() for item in services.shared_with(team, self.context["request"].user)]
