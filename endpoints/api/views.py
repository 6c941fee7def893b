from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import HttpResponse
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from endpoints import lifecycle, metrics, request_log, services, transfer
from endpoints.api.filters import EndpointFilterSet
from endpoints.api.serializers import (
    BindingSerializer,
    EndpointModelSerializer,
    EndpointSerializer,
    EndpointStatusSerializer,
    ExportDocumentSerializer,
    ImportRequestSerializer,
    ImportResultSerializer,
    LifecycleSerializer,
    RequestLogSerializer,
    RevisionSerializer,
)
from endpoints.bindings import bind, unbind
from endpoints.models import Endpoint, EndpointModel, RequestLog
from gateway_site.parsers import StrictJSONParser
from sharing import services as sharing
from sharing.api import HEX_ID_REGEX, SharedObjectViewSetMixin
from sharing.levels import Level


class WindowSerializer(serializers.Serializer):
    window = serializers.IntegerField(
        required=False, min_value=60, max_value=metrics.MAX_WINDOW_SECONDS, default=metrics.DEFAULT_WINDOW_SECONDS
    )


class BindingQuerySerializer(serializers.Serializer):
    resource_type = serializers.CharField(max_length=64)
    resource_id = serializers.CharField(max_length=255)


YAML_MEDIA_TYPE = "application/yaml"


@extend_schema_view(
    list=extend_schema(summary="List the endpoints you can read", parameters=[]),
    create=extend_schema(summary="Create an endpoint with its models (you become its manager)"),
    retrieve=extend_schema(summary="Show an endpoint"),
    partial_update=extend_schema(summary="Change an endpoint; `models` replaces the whole set"),
    update=extend_schema(summary="Replace an endpoint's configuration"),
    destroy=extend_schema(
        summary="Delete an endpoint (stops it first)",
        parameters=[OpenApiParameter("force", OpenApiTypes.BOOL, description="Delete even when bindings exist")],
    ),
)
class EndpointViewSet(SharedObjectViewSetMixin, viewsets.ModelViewSet):
    queryset = Endpoint.objects.select_related("created_by").prefetch_related("models")
    serializer_class = EndpointSerializer
    filterset_class = EndpointFilterSet
    required_levels = {
        **SharedObjectViewSetMixin.required_levels,
        "start": Level.EDIT,
        "stop": Level.EDIT,
        "status_": Level.READ,
        "revisions": Level.READ,
        "restore": Level.EDIT,
        "bindings": Level.READ,
    }
    conflict_actions = ("destroy",)  # a bound endpoint is deleted only with ?force=true

    def required_level(self) -> Level:
        # Recording or removing a binding means using the endpoint.
        if self.action == "bindings" and self.request.method != "GET":
            return Level.USE
        return super().required_level()

    def perform_content_negotiation(self, request: Request, force: bool = False) -> Any:
        # The export answers YAML whatever the client accepts (``Accept: application/yaml`` included);
        # its errors stay JSON, as everywhere else.
        return super().perform_content_negotiation(request, force=force or self.action == "export")

    def perform_destroy(self, instance: Endpoint) -> None:
        force = self.request.query_params.get("force", "").lower() in {"1", "true", "yes"}
        services.delete_endpoint(instance, actor=self.request.user, force=force)

    @extend_schema(
        summary="Import endpoints from a LiteLLM or MLflow config or a gateway export (you manage what is created)",
        description="One transaction: any error creates nothing, and the 400 lists every problem under its YAML "
        "path. `dry_run` answers the plan (200) without creating anything. Each secret becomes an encrypted key, "
        "shown only as its masked hint.",
        request={"application/json": ImportRequestSerializer, "multipart/form-data": ImportRequestSerializer},
        responses={200: ImportResultSerializer, 201: ImportResultSerializer},
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="import",
        url_name="import",
        parser_classes=[StrictJSONParser, MultiPartParser],
        filter_backends=[],
        pagination_class=None,
    )
    def import_(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        query = ImportRequestSerializer(data=request.data)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        result = transfer.import_config(
            data["config"],
            actor=request.user,
            format=data["format"],
            dry_run=data["dry_run"],
            environment=data["environment"],
        )
        answer = status.HTTP_200_OK if result.dry_run else status.HTTP_201_CREATED
        return Response(ImportResultSerializer(result.as_dict()).data, status=answer)

    @extend_schema(
        summary="Export the endpoints you can read as YAML (no secrets: each model names its key)",
        description="The gateway's own format (`gateway_export: 1`), which `endpoints/import` reads back.",
        responses={(200, YAML_MEDIA_TYPE): ExportDocumentSerializer},
    )
    @action(
        detail=False,
        methods=["get"],
        url_path="export",
        filter_backends=[],
        pagination_class=None,
        renderer_classes=[JSONRenderer],
    )
    def export(self, request: Request, *args: Any, **kwargs: Any) -> HttpResponse:
        text = transfer.export_endpoints(request.user)
        return HttpResponse(text, content_type=f"{YAML_MEDIA_TYPE}; charset=utf-8")

    def _lifecycle(self, endpoint: Endpoint) -> Response:
        data = {"status": endpoint.status, "url": self.request.build_absolute_uri(endpoint.invocation_path)}
        if endpoint.last_error:
            data["error"] = endpoint.last_error
        return Response(data)

    @extend_schema(summary="Start the endpoint", request=None, responses={200: LifecycleSerializer})
    @action(detail=True, methods=["post"])
    def start(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._lifecycle(lifecycle.start_endpoint(self.get_object(), actor=request.user))

    @extend_schema(summary="Stop the endpoint", request=None, responses={200: LifecycleSerializer})
    @action(detail=True, methods=["post"])
    def stop(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._lifecycle(lifecycle.stop_endpoint(self.get_object(), actor=request.user))

    @extend_schema(
        summary="Status and recent traffic",
        parameters=[WindowSerializer],
        responses={200: EndpointStatusSerializer},
    )
    @action(detail=True, methods=["get"], url_path="status", url_name="status")
    def status_(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        endpoint = self.get_object()
        query = WindowSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        return Response(
            {
                "status": endpoint.status,
                "started_at": endpoint.started_at,
                "stopped_at": endpoint.stopped_at,
                "error": endpoint.last_error,
                "url": request.build_absolute_uri(endpoint.invocation_path),
                "config_version": endpoint.config_version,
                "metrics": metrics.endpoint_metrics(endpoint, query.validated_data["window"]),
            }
        )

    @extend_schema(summary="Revisions, newest first", responses={200: RevisionSerializer(many=True)})
    @action(detail=True, methods=["get"], pagination_class=None)
    def revisions(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        endpoint = self.get_object()
        return Response(RevisionSerializer(endpoint.revisions.select_related("created_by"), many=True).data)

    @extend_schema(summary="Restore a revision as a new revision", request=None, responses={200: EndpointSerializer})
    @action(detail=True, methods=["post"], url_path=r"revisions/(?P<number>[0-9]{1,9})/restore")
    def restore(self, request: Request, number: str, *args: Any, **kwargs: Any) -> Response:
        endpoint = self.get_object()
        services.restore_revision(endpoint, int(number), actor=request.user)
        endpoint = self.queryset.get(pk=endpoint.pk)
        return Response(self.get_serializer(endpoint).data)

    @extend_schema(methods=["GET"], summary="Bindings", responses={200: BindingSerializer(many=True)})
    @extend_schema(
        methods=["POST"], summary="Record a binding", request=BindingSerializer, responses={201: BindingSerializer}
    )
    @extend_schema(
        methods=["DELETE"], summary="Remove a binding", parameters=[BindingQuerySerializer], responses={204: None}
    )
    @action(detail=True, methods=["get", "post", "delete"], pagination_class=None)
    def bindings(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        endpoint = self.get_object()
        if request.method == "GET":
            return Response(BindingSerializer(endpoint.bindings.select_related("created_by"), many=True).data)
        if request.method == "POST":
            serializer = BindingSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            binding = bind(endpoint, actor=request.user, **serializer.validated_data)
            return Response(BindingSerializer(binding).data, status=status.HTTP_201_CREATED)
        query = BindingQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        with transaction.atomic():
            removed = unbind(endpoint, actor=request.user, **query.validated_data)
        if not removed:
            return Response({"detail": "No such binding."}, status=status.HTTP_404_NOT_FOUND)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(
    list=extend_schema(summary="List an endpoint's models"),
    create=extend_schema(summary="Add a model (the weights of its priority must still sum to 1)"),
    retrieve=extend_schema(summary="Show one model"),
    partial_update=extend_schema(summary="Change one model"),
    update=extend_schema(summary="Replace one model"),
    destroy=extend_schema(summary="Remove one model"),
)
class EndpointModelViewSet(viewsets.ModelViewSet):
    """The models of one endpoint: READ on the endpoint to see them, EDIT to change them."""

    serializer_class = EndpointModelSerializer
    lookup_value_regex = HEX_ID_REGEX
    queryset = EndpointModel.objects.none()
    refusable_actions = ("destroy",)  # an endpoint keeps at least one model

    def get_endpoint(self) -> Endpoint:
        level = Level.READ if self.request.method in ("GET", "HEAD", "OPTIONS") else Level.EDIT
        return sharing.get_object_for_user(
            self.request.user, Endpoint.objects.all(), level, pk=self.kwargs["endpoint_pk"]
        )

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return EndpointModel.objects.none()
        return self.get_endpoint().models.select_related("key")

    def get_serializer_context(self) -> dict[str, Any]:
        context = super().get_serializer_context()
        if not getattr(self, "swagger_fake_view", False) and "endpoint_pk" in self.kwargs:
            context["endpoint"] = self.get_endpoint()
        return context

    def perform_destroy(self, instance: EndpointModel) -> None:
        services.remove_model(instance, actor=self.request.user)


class RequestLogFilterBackend(DjangoFilterBackend):
    """The request log's filters know the endpoint (its models) and the caller's level (who may filter by caller)."""

    def get_filterset_kwargs(self, request: Request, queryset: Any, view: Any) -> dict[str, Any]:
        return {**super().get_filterset_kwargs(request, queryset, view), "endpoint": view.endpoint, "level": view.level}


@extend_schema_view(
    list=extend_schema(summary="An endpoint's requests, newest first (filter by status, model, caller, request id)"),
    retrieve=extend_schema(summary="One request: status, model served, attempts and why each failed"),
)
class RequestLogViewSet(viewsets.ReadOnlyModelViewSet):
    """One endpoint's request log (READ); callers and failure reasons need EDIT, or are your own."""

    serializer_class = RequestLogSerializer
    lookup_value_regex = "[0-9]{1,18}"
    filterset_class = request_log.RequestLogFilter
    filter_backends = [RequestLogFilterBackend]
    queryset = RequestLog.objects.none()

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        if getattr(self, "swagger_fake_view", False):
            return
        self.endpoint, self.level = sharing.get_object_and_level_for_user(
            request.user, Endpoint.objects.all(), Level.READ, pk=self.kwargs["endpoint_pk"]
        )

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return RequestLog.objects.none()
        return request_log.requests_of(self.endpoint)

    def get_serializer(self, *args: Any, **kwargs: Any) -> Any:
        if args and not getattr(self, "swagger_fake_view", False):
            logs = args[0] if isinstance(args[0], list) else [args[0]]
            kwargs.setdefault("context", self.get_serializer_context())
            kwargs["context"]["level"] = self.level
            kwargs["context"]["callers"] = request_log.callers(logs, self.request.user, self.level)
        return super().get_serializer(*args, **kwargs)
