"""DRF pieces shared by every shareable resource: object lookup by level and the permissions action."""

from __future__ import annotations

from typing import Any, ClassVar

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from sharing import services
from sharing.levels import Level

HEX_ID_REGEX = r"[0-9a-fA-F]{32}|[0-9a-fA-F-]{36}"


class GrantSerializer(serializers.Serializer):
    """A grant of one level to one user or one group."""

    user = serializers.CharField(required=False, max_length=150)
    group = serializers.CharField(required=False, max_length=150)
    level = serializers.CharField(help_text="READ, USE, EDIT or MANAGE (case-insensitive).")

    def validate_level(self, value: str) -> str:
        try:
            return Level.parse(value).name
        except ValueError as exc:
            raise serializers.ValidationError(str(exc)) from None

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if bool(attrs.get("user")) == bool(attrs.get("group")):
            raise serializers.ValidationError("Give exactly one of 'user' or 'group'.")
        return attrs


class SharedObjectViewSetMixin:
    """Level-aware object lookup and ``{id}/permissions`` for a ModelViewSet.

    Lists show what the caller can READ; a detail route fetches through
    ``sharing.services.get_object_for_user`` with the level the action needs,
    so 404/403 are decided in one place.
    """

    lookup_value_regex = HEX_ID_REGEX
    required_levels: ClassVar[dict[str, Level]] = {
        "retrieve": Level.READ,
        "update": Level.EDIT,
        "partial_update": Level.EDIT,
        "destroy": Level.MANAGE,
        "permissions": Level.MANAGE,
    }

    def get_queryset(self):
        return self.queryset.visible_to(self.request.user, Level.READ)

    def required_level(self) -> Level:
        return self.required_levels.get(self.action, Level.MANAGE)

    def get_object(self):
        lookup = self.kwargs[self.lookup_url_kwarg or self.lookup_field]
        return services.get_object_for_user(
            self.request.user, self.queryset.all(), self.required_level(), **{self.lookup_field: lookup}
        )

    @extend_schema(
        methods=["GET"],
        summary="List the grants",
        responses={200: GrantSerializer(many=True)},
    )
    @extend_schema(
        methods=["POST"],
        summary="Grant a level to a user or group (replaces its previous level)",
        request=GrantSerializer,
        responses={200: GrantSerializer},
    )
    @extend_schema(
        methods=["DELETE"],
        summary="Revoke a user's or group's grant",
        parameters=[
            OpenApiParameter("user", OpenApiTypes.STR, description="Username to revoke"),
            OpenApiParameter("group", OpenApiTypes.STR, description="Group name to revoke"),
        ],
        request=None,
        responses={204: None},
    )
    @action(detail=True, methods=["get", "post", "delete"], url_path="permissions")
    def permissions(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        obj = self.get_object()
        if request.method == "GET":
            return Response([grant.as_dict() for grant in services.list_grants(obj)])
        if request.method == "POST":
            serializer = GrantSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            data = serializer.validated_data
            principal = services.resolve_principal(user=data.get("user"), group=data.get("group"))
            grant = self.on_grant(obj, principal, Level.parse(data["level"]))
            return Response(grant.as_dict(), status=status.HTTP_200_OK)
        user, group = request.query_params.get("user"), request.query_params.get("group")
        principal = services.resolve_principal(user=user, group=group)
        if not self.on_revoke(obj, principal):
            raise DjangoValidationError({"user" if user else "group": ["Holds no grant on this object."]})
        return Response(status=status.HTTP_204_NO_CONTENT)

    # Resources override these to add their own side effects (audit, cache
    # invalidation) around the shared rule.
    def on_grant(self, obj, principal, level: Level) -> services.Grant:
        return services.grant(obj, principal, level, actor=self.request.user)

    def on_revoke(self, obj, principal) -> bool:
        return services.revoke(obj, principal, actor=self.request.user)
