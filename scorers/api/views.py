from __future__ import annotations

from dataclasses import asdict
from typing import Any

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from scorers import services
from scorers.api.serializers import RunSerializer, SampleSerializer, ScorerSerializer
from scorers.models import Scorer
from sharing.api import SharedObjectViewSetMixin
from sharing.levels import Level


@extend_schema_view(
    list=extend_schema(summary="List the scorers you can read"),
    create=extend_schema(summary="Create a scorer (you become its manager)"),
    retrieve=extend_schema(summary="Show a scorer"),
    partial_update=extend_schema(summary="Change a scorer"),
    update=extend_schema(summary="Replace a scorer's fields"),
    destroy=extend_schema(summary="Delete a scorer (its binding on the endpoint goes with it)"),
)
class ScorerViewSet(SharedObjectViewSetMixin, viewsets.ModelViewSet):
    queryset = Scorer.objects.select_related("endpoint", "created_by")
    serializer_class = ScorerSerializer
    filterset_fields = ["answer_kind"]
    required_levels = {**SharedObjectViewSetMixin.required_levels, "run": Level.USE}

    def perform_destroy(self, instance: Scorer) -> None:
        services.delete_scorer(instance, actor=self.request.user)

    @extend_schema(
        summary="Run the scorer on a sample (calls its endpoint through the proxy as you: USE on both needed)",
        request=SampleSerializer,
        responses={200: RunSerializer},
    )
    @action(detail=True, methods=["post"])
    def run(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        scorer = self.get_object()
        sample = SampleSerializer(data=request.data)
        sample.is_valid(raise_exception=True)
        try:
            result = services.run_scorer(scorer, actor=request.user, sample=sample.validated_data)
        except services.RunFailed as exc:
            body = {"detail": str(exc), "request_id": exc.request_id}
            if exc.answer:
                body["answer"] = exc.answer
            return Response(body, status=exc.status)
        return Response(RunSerializer(asdict(result)).data)
