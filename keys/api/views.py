from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from endpoints.api.serializers import ProbeResultSerializer
from keys import services
from keys.api.serializers import KeySerializer
from keys.models import Key
from sharing.api import SharedObjectViewSetMixin
from sharing.levels import Level


@extend_schema_view(
    list=extend_schema(summary="List the keys you can read"),
    create=extend_schema(summary="Store a provider key (you become its manager)"),
    retrieve=extend_schema(summary="Show a key (masked)"),
    partial_update=extend_schema(summary="Change a key; a `secret` replaces the stored one"),
    update=extend_schema(summary="Replace a key's fields"),
    destroy=extend_schema(summary="Delete a key"),
)
class KeyViewSet(SharedObjectViewSetMixin, viewsets.ModelViewSet):
    queryset = Key.objects.select_related("created_by")
    serializer_class = KeySerializer
    filterset_fields = ["provider"]
    required_levels = {**SharedObjectViewSetMixin.required_levels, "test": Level.USE}
    conflict_actions = ("destroy",)  # a key endpoints use is not deleted (keys.services.delete_key)

    def perform_destroy(self, instance: Key) -> None:
        services.delete_key(instance, actor=self.request.user)

    @extend_schema(
        summary="Test the key's connection (lists its models; never a billed call)",
        request=None,
        responses={200: ProbeResultSerializer},
    )
    @action(detail=True, methods=["post"])
    def test(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        result = services.test_connection(self.get_object(), actor=request.user)
        return Response(ProbeResultSerializer(result).data)
