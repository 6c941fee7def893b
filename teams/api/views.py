from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from sharing import services as sharing
from sharing.api import HEX_ID_REGEX
from teams import services
from teams.api.serializers import TeamDetailSerializer, TeamMemberSerializer, TeamRoleSerializer, TeamSerializer
from teams.models import Role, Team

# Django's default username characters, so nothing else (a NUL, a slash) reaches a query.
USERNAME_REGEX = r"[\w.@+-]{1,150}"
USERNAME = OpenApiParameter(
    "username",
    OpenApiTypes.STR,
    OpenApiParameter.PATH,
    pattern=f"^{USERNAME_REGEX}$",
    description="A member's username.",
)
DETAIL = {200: TeamDetailSerializer}


@extend_schema_view(
    list=extend_schema(summary="List your teams (superusers: every team)"),
    create=extend_schema(
        summary="Create a team (you become its first member and manager)", responses={201: TeamDetailSerializer}
    ),
    retrieve=extend_schema(summary="Show a team: its members and what is shared with it"),
    update=extend_schema(summary="Rename a team (managers)", responses=DETAIL),
    partial_update=extend_schema(summary="Rename a team (managers)", responses=DETAIL),
    destroy=extend_schema(summary="Delete a team (managers); refused while it would leave an object without a manager"),
)
@extend_schema(tags=["teams"])
class TeamViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Teams you belong to. Another team does not exist here (404); changing one needs its manager role (403).

    Every rule is ``teams.services``': the Teams pages call the same functions.
    """

    queryset = Team.objects.none()  # real rows come from get_queryset, always scoped to the caller
    serializer_class = TeamSerializer
    lookup_value_regex = HEX_ID_REGEX
    filter_backends: list[type] = []
    # Refusals without a request body (a last manager, an object left without one): a 400 (gateway_site.openapi).
    refusable_actions = frozenset({"destroy", "member"})

    def get_queryset(self):
        return Team.objects.visible_to(self.request.user).with_counts(self.request.user)

    def get_serializer_class(self):
        return TeamSerializer if self.action == "list" else TeamDetailSerializer

    def get_object(self) -> Team:
        return services.get_team_for_user(self.request.user, self.kwargs[self.lookup_url_kwarg or self.lookup_field])

    def _detail(self, team: Team, status_code: int = status.HTTP_200_OK) -> Response:
        team = services.get_team_for_user(self.request.user, team.pk)  # with its counts and the caller's role
        return Response(TeamDetailSerializer(team, context=self.get_serializer_context()).data, status=status_code)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = TeamSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        team = services.create_team(actor=request.user, name=serializer.validated_data["name"])
        return self._detail(team, status.HTTP_201_CREATED)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        team = self.get_object()
        services.check_can_manage(request.user, team)
        serializer = TeamSerializer(team, data=request.data, partial=kwargs.get("partial", False))
        serializer.is_valid(raise_exception=True)
        if "name" in serializer.validated_data:
            services.rename_team(team, actor=request.user, name=serializer.validated_data["name"])
        return self._detail(team)

    def perform_destroy(self, instance: Team) -> None:
        services.delete_team(instance, actor=self.request.user)

    @extend_schema(
        methods=["GET"], summary="List the members and their roles", responses={200: TeamMemberSerializer(many=True)}
    )
    @extend_schema(
        methods=["POST"],
        summary="Add an active user as a member or a manager (managers)",
        request=TeamMemberSerializer,
        responses={201: TeamMemberSerializer},
    )
    # The members are one plain list: no pagination and no filters.
    @action(detail=True, methods=["get", "post"], url_path="members", pagination_class=None, filter_backends=[])
    def members(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        team = self.get_object()
        if request.method == "GET":
            return Response([member.as_dict() for member in services.members(team)])
        services.check_can_manage(request.user, team)  # 403 before any 400 about the body
        serializer = TeamMemberSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = sharing.resolve_principal(user=serializer.validated_data["user"])
        added = services.add_member(team, user, actor=request.user, role=Role(serializer.validated_data["role"]))
        return Response(added.as_dict(), status=status.HTTP_201_CREATED)

    @extend_schema(
        methods=["PATCH"],
        summary="Make a member a manager, or a manager a member (managers)",
        parameters=[USERNAME],
        request=TeamRoleSerializer,
        responses={200: TeamMemberSerializer},
    )
    @extend_schema(
        methods=["DELETE"],
        summary="Remove a member (managers), or leave the team yourself",
        parameters=[USERNAME],
        request=None,
        responses={204: None},
    )
    @action(
        detail=True,
        methods=["patch", "delete"],
        url_path=rf"members/(?P<username>{USERNAME_REGEX})",
        pagination_class=None,
        filter_backends=[],
    )
    def member(self, request: Request, *args: Any, username: str, **kwargs: Any) -> Response:
        team = self.get_object()
        user = team.group.user_set.filter(username=username).first()
        if user is None:
            raise NotFound("No such member of this team.")
        if request.method == "DELETE":
            services.remove_member(team, user, actor=request.user)
            return Response(status=status.HTTP_204_NO_CONTENT)
        services.check_can_manage(request.user, team)
        serializer = TeamRoleSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        changed = services.set_role(team, user, Role(serializer.validated_data["role"]), actor=request.user)
        return Response(changed.as_dict())
