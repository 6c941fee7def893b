"""The catalog API: read-only listings of providers and their models, for any signed-in user."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog import services
from catalog.api.serializers import ModelListQuerySerializer, ModelListSerializer, ProviderListSerializer


class ProviderListView(APIView):
    """Every provider LiteLLM knows, sorted by name."""

    @extend_schema(
        operation_id="catalog_providers_list", summary="List providers", responses={200: ProviderListSerializer}
    )
    def get(self, request: Request) -> Response:
        return Response({"providers": services.list_providers()})


class ModelListView(APIView):
    """The models of one provider, optionally of one mode, sorted by name."""

    @extend_schema(
        operation_id="catalog_models_list",
        summary="List a provider's models",
        parameters=[
            OpenApiParameter("provider", str, required=True, description="Provider name from `providers/list`."),
            OpenApiParameter(
                "mode", str, description=f"Only models of this mode: {', '.join(services.MODES)}, or another."
            ),
        ],
        responses={
            200: ModelListSerializer,
            400: OpenApiResponse(description="`provider` missing, or `mode` unknown."),
            404: OpenApiResponse(description="Unknown provider."),
        },
    )
    def get(self, request: Request) -> Response:
        query = ModelListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        try:
            models = services.list_models(query.validated_data["provider"], query.validated_data.get("mode"))
        except services.UnknownProvider as exc:
            raise NotFound(str(exc)) from exc
        except ValueError as exc:
            raise ValidationError({"mode": [str(exc)]}) from exc
        return Response({"models": models})
