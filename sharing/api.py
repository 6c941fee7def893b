"""DRF pieces shared by every shareable resource: object lookup by level and the permissions action."""

from __future__ import annotations

from typing import Any, ClassVar

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from sharing import services
from sharing.levels import Level

# The group keeps the alternation inside the anchors drf-spectacular wraps a
# lookup regex in (``^...$``): unbracketed, the schema's pattern would accept
# any string that merely starts with 32 hex digits or ends with 36.
HEX_ID_REGEX = r"(?:[0-9a-fA-F]{32}|[0-9a-fA-F-]{36})"


@extend_schema_field({"type": "string", "enum": list(Level.__members__)})
class LevelField(serializers.CharField):
    """A level name; documented with the names a response uses, accepted in any case."""


class PrincipalSerializer(serializers.Serializer):
    """Exactly one of a username or a group name (the query string of a revoke)."""

    user = serializers.CharField(required=False, max_length=150, help_text="A username.")
    group = serializers.CharField(required=False, max_length=150, help_text="A group name.")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if bool(attrs.get("user")) == bool(attrs.get("group")):
            raise serializers.ValidationError("Give exactly one of 'user' or 'group'.")
        return attrs


class GrantSerializer(PrincipalSerializer):
    """A grant of one level to one user or one group."""

    level = LevelField(help_text="READ, USE, EDIT or MANAGE (case-insensitive).")

    def validate_level(self, value: str) -> str:
        try:
            return Level.parse(value).name
        except ValueError as exc:
            raise serializers.ValidationError(str(exc)) from None


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
        parameters=[PrincipalSerializer],
        request=None,
        responses={204: None},
    )
    # The grants are one plain list: neither the resource's pagination nor its
    # list filters apply (nor appear in the schema).
    @action(
        detail=True,
        methods=["get", "post", "delete"],
        url_path="permissions",
        pagination_class=None,
        filter_backends=[],
    )
    def permissions(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        obj = self.get_object()
        if request.method == "GET":
            return Response([grant.as_dict() for grant in services.list_grants(obj)])
        if request.method == "POST":
            serializer = GrantSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            data = serializer.validated_data
            principal = services.resolve_principal(user=data.get("user"), group=data.get("group"))
            grant = services.grant(obj, principal, Level.parse(data["level"]), actor=request.user)
            return Response(grant.as_dict(), status=status.HTTP_200_OK)
        # Validated like a body (length, NUL bytes) before it reaches a query.
        query = PrincipalSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        user, group = query.validated_data.get("user"), query.validated_data.get("group")
        principal = services.resolve_principal(user=user, group=group)
        if not services.revoke(obj, principal, actor=request.user):
            raise DjangoValidationError({"user" if user else "group": ["Holds no grant on this object."]})
        return Response(status=status.HTTP_204_NO_CONTENT)
