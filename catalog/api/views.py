"""The catalog API: read-only listings of providers and their models, for any signed-in user."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog import services
from catalog.api.serializers import (
    ModelListQuerySerializer,
    ModelListSerializer,
    ProviderListQuerySerializer,
    ProviderListSerializer,
)
from gatewaylib import endpoint_types

ENDPOINT_TYPE = OpenApiParameter(
    "endpoint_type",
    str,
    enum=list(endpoint_types.TYPES),
    description="Only what can serve an endpoint of this type: providers with at least one model of a mode "
    "the type uses (self-hosted servers for the types LiteLLM supports on them); models of those modes.",
)


class ProviderListView(APIView):
    """Every provider LiteLLM knows, or those that serve one endpoint type, sorted by name."""

    @extend_schema(
        operation_id="catalog_providers_list",
        summary="List providers",
        parameters=[ENDPOINT_TYPE],
        responses={200: ProviderListSerializer, 400: OpenApiResponse(description="`endpoint_type` unknown.")},
    )
    def get(self, request: Request) -> Response:
        query = ProviderListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        endpoint_type = query.validated_data.get("endpoint_type")
        if endpoint_type is None:
            return Response({"providers": services.list_providers()})
        return Response({"providers": services.providers_for_type(endpoint_type)})


class ModelListView(APIView):
    """The models of one provider, optionally of one mode or endpoint type, matching a search, in the order asked."""

    @extend_schema(
        operation_id="catalog_models_list",
        summary="List a provider's models",
        parameters=[
            OpenApiParameter("provider", str, required=True, description="Provider name from `providers/list`."),
            OpenApiParameter(
                "mode", str, description=f"Only models of this mode: {', '.join(services.MODES)}, or another."
            ),
            ENDPOINT_TYPE,
            OpenApiParameter(
                "search",
                str,
                description="Only models whose name contains every word of this (case and separators ignored: "
                f"`sonnet 4.5` finds `claude-sonnet-4-5`). At most {services.MAX_SEARCH_LENGTH} characters.",
            ),
            OpenApiParameter(
                "order",
                str,
                enum=list(services.ORDERS),
                description="`name` (the default), or `recommended`: current model families first, newest first, "
                "then snapshots and previews, deprecated and fine-tuned models last; an exact name match first.",
            ),
        ],
        responses={
            200: ModelListSerializer,
            400: OpenApiResponse(description="`provider` missing; `mode`, `endpoint_type` or `order` unknown."),
            404: OpenApiResponse(description="Unknown provider."),
        },
    )
    def get(self, request: Request) -> Response:
        query = ModelListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        try:
            models = services.list_models(
                data["provider"],
                data.get("mode"),
                endpoint_type=data.get("endpoint_type"),
                search=data.get("search", ""),
                order=data["order"],
            )
        except services.UnknownProvider as exc:
            raise NotFound(str(exc)) from exc
        except ValueError as exc:
            raise ValidationError({"mode": [str(exc)]}) from exc
        return Response({"models": models})
