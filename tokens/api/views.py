from __future__ import annotations

import uuid

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from tokens.api.serializers import GatewayTokenCreatedSerializer, GatewayTokenSerializer
from tokens.models import GatewayToken
from tokens.services import create_token, revoke_token

TOKEN_ID = OpenApiParameter("id", OpenApiTypes.STR, OpenApiParameter.PATH, description="32-hex token id.")


@extend_schema_view(
    list=extend_schema(summary="List your gateway tokens"),
    retrieve=extend_schema(summary="Show one of your gateway tokens", parameters=[TOKEN_ID]),
    create=extend_schema(
        summary="Create a gateway token",
        request=GatewayTokenSerializer,
        responses={201: GatewayTokenCreatedSerializer},
    ),
    destroy=extend_schema(summary="Revoke a gateway token", parameters=[TOKEN_ID], responses={204: None}),
)
@extend_schema(tags=["tokens"])
class GatewayTokenViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """The caller's own gateway tokens. Another user's token does not exist here (404)."""

    serializer_class = GatewayTokenSerializer
    queryset = GatewayToken.objects.none()  # real rows come from get_queryset, always scoped to the caller
    lookup_field = "id"
    filter_backends: list[type] = []

    def get_queryset(self) -> QuerySet[GatewayToken]:
        return GatewayToken.objects.for_user(self.request.user)

    def get_object(self) -> GatewayToken:
        token_id = _parse_id(self.kwargs[self.lookup_field])
        try:
            return self.get_queryset().get(id=token_id)
        except GatewayToken.DoesNotExist:
            raise NotFound() from None

    def create(self, request: Request, *args: object, **kwargs: object) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        token, plaintext = create_token(request.user, **serializer.validated_data)
        created = GatewayTokenCreatedSerializer(
            token, context={**self.get_serializer_context(), "plaintext": plaintext}
        )
        return Response(created.data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance: GatewayToken) -> None:
        revoke_token(instance)


def _parse_id(value: str) -> uuid.UUID:
    # Accepts the 32-hex form the API shows and the dashed form; anything else
    # is simply a token that does not exist, not a server error.
    try:
        return uuid.UUID(value)
    except ValueError:
        raise NotFound() from None
