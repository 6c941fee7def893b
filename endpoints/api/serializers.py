from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from endpoints import request_log, services, transfer
from endpoints.models import Binding, Endpoint, EndpointModel, RequestLog, Revision
from endpoints.routing import native_apis
from endpoints.transfer.base import REPORT_LEVELS
from endpoints.validation import ModelSpec
from gatewaylib.endpoint_types import NATIVE_API_PREFIXES


class EndpointModelSerializer(serializers.ModelSerializer):
    """One provider model of an endpoint. ``key_id`` names a key you have USE on."""

    id = serializers.CharField(source="public_id", read_only=True)
    key_id = serializers.CharField(max_length=64, help_text="The 32-hex id of the key this model uses.")
    weight = serializers.FloatField(required=False, allow_null=True, help_text="Share within its priority level.")
    priority = serializers.IntegerField(required=False, default=1, help_text="1 is tried first.")
    litellm_params = serializers.DictField(required=False, default=dict)

    class Meta:
        model = EndpointModel
        fields = ["id", "provider", "model_name", "key_id", "weight", "priority", "litellm_params", "created_at"]
        read_only_fields = ["created_at"]

    def to_representation(self, instance: EndpointModel) -> dict[str, Any]:
        data = super().to_representation(instance)
        data["key_id"] = instance.key_id.hex
        return data

    def create(self, validated_data: dict[str, Any]) -> EndpointModel:
        endpoint = self.context["endpoint"]
        return services.add_model(endpoint, ModelSpec.from_dict(validated_data), actor=self.context["request"].user)

    def update(self, instance: EndpointModel, validated_data: dict[str, Any]) -> EndpointModel:
        return services.change_model(instance, validated_data, actor=self.context["request"].user)


class ProbeResultSerializer(serializers.Serializer):
    """One probe's outcome (``endpoints.probes``): a model at start, or a key's connection test."""

    label = serializers.CharField(read_only=True, help_text="provider/model, or the key's provider.")
    outcome = serializers.ChoiceField(choices=["ok", "warning", "failed", "skipped"], read_only=True)
    message = serializers.CharField(read_only=True, help_text="What was found, in plain words (no secret).")
    latency_ms = serializers.IntegerField(read_only=True, allow_null=True)


class EndpointSerializer(serializers.ModelSerializer):
    """An endpoint with its models inline. Responses add status, url and config_version."""

    id = serializers.CharField(source="public_id", read_only=True)
    models = EndpointModelSerializer(many=True)
    url = serializers.SerializerMethodField()
    native_api_urls = serializers.SerializerMethodField(
        help_text="Base URLs of the provider SDKs that reach this endpoint too (``gemini``: google-genai's "
        "``base_url``, when every model is a Gemini model)."
    )
    error = serializers.CharField(source="last_error", read_only=True)
    start_check = ProbeResultSerializer(
        many=True, read_only=True, help_text="The last start's probe of each model (GATEWAY_START_PROBES)."
    )
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = Endpoint
        fields = [
            "id",
            "name",
            "endpoint_type",
            "description",
            "rate_limit_rpm",
            "rate_limit_tpm",
            "models",
            "status",
            "started_at",
            "stopped_at",
            "error",
            "start_check",
            "url",
            "native_api_urls",
            "config_version",
            "created_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["status", "started_at", "stopped_at", "config_version", "created_at", "updated_at"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance is not None:
            self.fields["models"].required = False

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, endpoint: Endpoint) -> str:
        request = self.context.get("request")
        return request.build_absolute_uri(endpoint.invocation_path) if request else endpoint.invocation_path

    @extend_schema_field({"type": "object", "additionalProperties": {"type": "string", "format": "uri"}})
    def get_native_api_urls(self, endpoint: Endpoint) -> dict[str, str]:
        """Base URLs of the provider SDKs that reach this endpoint too (``gemini``: google-genai's ``base_url``)."""
        request = self.context.get("request")
        paths = {wire: NATIVE_API_PREFIXES[wire] for wire in native_apis(endpoint.endpoint_type, endpoint.models.all())}
        return {wire: request.build_absolute_uri(path) if request else path for wire, path in paths.items()}

    @staticmethod
    def _specs(models: list[dict[str, Any]] | None) -> list[ModelSpec] | None:
        return None if models is None else [ModelSpec.from_dict(model) for model in models]

    def create(self, validated_data: dict[str, Any]) -> Endpoint:
        models = self._specs(validated_data.pop("models"))
        return services.create_endpoint(actor=self.context["request"].user, models=models, **validated_data)

    def update(self, instance: Endpoint, validated_data: dict[str, Any]) -> Endpoint:
        models = self._specs(validated_data.pop("models", None))
        return services.update_endpoint(instance, actor=self.context["request"].user, models=models, **validated_data)


class LatencySerializer(serializers.Serializer):
    p50 = serializers.FloatField()
    p95 = serializers.FloatField()
    p99 = serializers.FloatField()


class MetricsSerializer(serializers.Serializer):
    request_count = serializers.IntegerField()
    error_count = serializers.IntegerField()
    error_rate = serializers.FloatField()
    failover_count = serializers.IntegerField(help_text="Requests served by a later attempt after a failed one.")
    latency_ms = LatencySerializer()
    prompt_tokens = serializers.IntegerField()
    completion_tokens = serializers.IntegerField()
    cost_usd = serializers.FloatField()
    window_seconds = serializers.IntegerField()


class EndpointStatusSerializer(serializers.Serializer):
    status = serializers.CharField()
    started_at = serializers.DateTimeField(allow_null=True)
    stopped_at = serializers.DateTimeField(allow_null=True)
    error = serializers.CharField(allow_blank=True)
    url = serializers.URLField()
    config_version = serializers.IntegerField()
    metrics = MetricsSerializer()


class LifecycleSerializer(serializers.Serializer):
    status = serializers.CharField()
    url = serializers.URLField(required=False)


class BindingSerializer(serializers.ModelSerializer):
    """An outside resource that uses the endpoint."""

    id = serializers.CharField(source="id.hex", read_only=True)
    resource_type = serializers.SlugField(max_length=64)
    resource_id = serializers.CharField(max_length=255)
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = Binding
        fields = ["id", "resource_type", "resource_id", "created_by", "created_at"]
        read_only_fields = ["created_at"]
        validators: list = []  # get_or_create makes a repeated binding idempotent


class RevisionSerializer(serializers.ModelSerializer):
    """A numbered snapshot of the configuration (keys by id, never secrets)."""

    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = Revision
        fields = ["number", "config", "note", "created_by", "created_at"]
        read_only_fields = fields


class FailedAttemptSerializer(serializers.Serializer):
    model = serializers.CharField(help_text="provider/model of the deployment tried.")
    status = serializers.IntegerField(allow_null=True)
    message = serializers.CharField(help_text="The provider's message, secrets scrubbed.")


class CallerSerializer(serializers.Serializer):
    username = serializers.CharField()
    token_name = serializers.CharField(help_text="Empty for a session (the UI's playground) or a deleted token.")


class RequestLogSerializer(serializers.ModelSerializer):
    """One proxied request. ``caller``, ``error_message`` and ``failed_attempts`` are null unless you
    can EDIT the endpoint or made the request yourself."""

    cost_usd = serializers.FloatField()
    caller = serializers.SerializerMethodField()
    error_message = serializers.SerializerMethodField()
    failed_attempts = serializers.SerializerMethodField()

    class Meta:
        model = RequestLog
        fields = [
            "id",
            "request_id",
            "created_at",
            "status_code",
            "error_type",
            "error_message",
            "model_served",
            "attempts",
            "failed_attempts",
            "stream",
            "latency_ms",
            "ttft_ms",
            "prompt_tokens",
            "completion_tokens",
            "cost_usd",
            "caller",
        ]

    def _details(self, log: RequestLog) -> bool:
        return request_log.can_see_details(log, self.context["request"].user, self.context["level"])

    @extend_schema_field(CallerSerializer(allow_null=True))
    def get_caller(self, log: RequestLog) -> dict[str, str] | None:
        caller = self.context["callers"].get(log.pk)
        if caller is None or not self._details(log):
            return None
        return {"username": caller.username, "token_name": caller.token_name}

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_error_message(self, log: RequestLog) -> str | None:
        return log.error_message if self._details(log) else None

    @extend_schema_field(FailedAttemptSerializer(many=True, allow_null=True))
    def get_failed_attempts(self, log: RequestLog) -> list[dict[str, Any]] | None:
        return log.failed_attempts if self._details(log) else None


# -- import and export (endpoints.transfer) ------------------------------------------------------------


@extend_schema_field({"type": "string", "description": "The YAML text (in a multipart body: the file)."})
class ConfigDocumentField(serializers.Field):
    """The document to import: a string, or an uploaded file in a multipart body; at most 1 MiB either way."""

    def to_internal_value(self, data: Any) -> str:
        try:
            if isinstance(data, str):
                transfer.check_size(data)
                return data
            if hasattr(data, "read"):
                return transfer.read_upload(data)
        except transfer.ImportRefused as refusal:
            raise serializers.ValidationError([line.message for line in refusal.lines]) from None
        raise serializers.ValidationError("Give the YAML as text, or upload it as a file.")

    def to_representation(self, value: Any) -> Any:
        return value


@extend_schema_field({"type": "object", "additionalProperties": {"type": "string"}})
class EnvironmentField(serializers.DictField):
    """Names and values; the values are checked by ``transfer.Environment.given``."""


class ImportRequestSerializer(serializers.Serializer):
    config = ConfigDocumentField(
        help_text="A LiteLLM proxy config (model_list), an MLflow AI Gateway config (endpoints) or a gateway "
        "export (gateway_export: 1). At most 1 MiB."
    )
    format = serializers.ChoiceField(
        choices=[transfer.AUTO, *transfer.FORMATS],
        default=transfer.AUTO,
        help_text="auto tells the format by the top-level keys.",
    )
    dry_run = serializers.BooleanField(
        default=False, help_text="Answer the plan and the report (200) and create nothing."
    )
    environment = EnvironmentField(
        required=False,
        default=dict,
        help_text="Values for the file's os.environ/NAME (LiteLLM) and $NAME (MLflow) references. The API never "
        "reads the server's environment.",
    )

    def validate_environment(self, values: dict[str, Any]) -> transfer.Environment:
        # Checked here rather than by a child field, whose errors would nest under each name.
        try:
            return transfer.Environment.given(values)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages) from None


class ImportedModelSerializer(serializers.Serializer):
    provider = serializers.CharField()
    model_name = serializers.CharField()
    key = serializers.CharField(help_text="The name of the key it uses.")
    weight = serializers.FloatField()
    priority = serializers.IntegerField()
    litellm_params = serializers.DictField()


class ExportedEndpointSerializer(serializers.Serializer):
    name = serializers.CharField()
    endpoint_type = serializers.CharField()
    description = serializers.CharField(allow_blank=True)
    rate_limit_rpm = serializers.IntegerField(allow_null=True)
    rate_limit_tpm = serializers.IntegerField(allow_null=True)
    models = ImportedModelSerializer(many=True)


class ImportedEndpointSerializer(ExportedEndpointSerializer):
    id = serializers.CharField(allow_null=True, help_text="The new endpoint's id; null for a dry run.")


class ImportedKeySerializer(serializers.Serializer):
    """A key the import creates: its destination and masked hint, never the secret."""

    id = serializers.CharField(allow_null=True, help_text="The new key's id; null for a dry run.")
    name = serializers.CharField()
    provider = serializers.CharField()
    api_base = serializers.CharField(allow_blank=True)
    api_version = serializers.CharField(allow_blank=True)
    organization = serializers.CharField(allow_blank=True)
    region = serializers.CharField(allow_blank=True)
    project = serializers.CharField(allow_blank=True)
    masked_secret = serializers.CharField(allow_blank=True)
    secret_from = serializers.CharField(
        allow_blank=True, help_text="The environment reference the secret was read from; empty if written in the file."
    )


class ReportLineSerializer(serializers.Serializer):
    level = serializers.ChoiceField(
        choices=list(REPORT_LEVELS),
        help_text="skipped: in the file, not carried over; note: carried over, changed on the way.",
    )
    path = serializers.CharField(allow_blank=True, help_text="Where in the YAML, e.g. model_list[3].litellm_params.")
    message = serializers.CharField()


class ImportResultSerializer(serializers.Serializer):
    format = serializers.ChoiceField(choices=list(transfer.FORMATS))
    dry_run = serializers.BooleanField()
    endpoints = ImportedEndpointSerializer(many=True)
    keys = ImportedKeySerializer(many=True, help_text="The keys created (a gateway export's models use existing ones).")
    report = ReportLineSerializer(many=True)


class ExportDocumentSerializer(serializers.Serializer):
    """The YAML document the export answers (the gateway's own format, which the import reads back)."""

    gateway_export = serializers.IntegerField(help_text="The format's version: 1.")
    endpoints = ExportedEndpointSerializer(many=True)
