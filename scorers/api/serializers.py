from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from endpoints.models import Endpoint
from scorers import services
from scorers.models import Scorer


@extend_schema_field({"type": "string", "nullable": True, "example": "gateway:/chat-judge"})
class GatewayEndpointField(serializers.Field):
    """An endpoint written as ``gateway:/<endpoint-name>`` (null: none)."""

    default_error_messages = {"type": "Give a string."}

    def to_representation(self, endpoint: Endpoint) -> str:
        return f"gateway:/{endpoint.name}"

    def to_internal_value(self, data: Any) -> Endpoint:
        if not isinstance(data, str):
            self.fail("type")
        try:
            return services.visible_endpoint(self.context["request"].user, services.endpoint_from_uri(data))
        except DjangoValidationError as exc:  # the service's words, as this field's error
            raise serializers.ValidationError(exc.message_dict["endpoint"]) from None


class ScorerSerializer(serializers.ModelSerializer):
    """A scorer: an LLM judge whose ``endpoint`` (``gateway:/<name>``) rates a sample."""

    id = serializers.CharField(source="public_id", read_only=True)
    endpoint = GatewayEndpointField(
        required=False,
        allow_null=True,
        help_text="The judge: a chat endpoint you may USE, as gateway:/<endpoint-name>. Null: none yet.",
    )
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = Scorer
        fields = ["id", "name", "instructions", "answer_kind", "endpoint", "created_by", "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]

    def create(self, validated_data: dict[str, Any]) -> Scorer:
        return services.create_scorer(actor=self.context["request"].user, **validated_data)

    def update(self, instance: Scorer, validated_data: dict[str, Any]) -> Scorer:
        return services.update_scorer(instance, actor=self.context["request"].user, **validated_data)


class SampleSerializer(serializers.Serializer):
    """What the judge rates; each value is text or any JSON (written into the instructions as JSON)."""

    inputs = serializers.JSONField(required=False, help_text="The request the system answered ({{ inputs }}).")
    outputs = serializers.JSONField(required=False, help_text="The system's answer ({{ outputs }}).")
    expectations = serializers.JSONField(required=False, help_text="What a good answer holds ({{ expectations }}).")


class RunSerializer(serializers.Serializer):
    score = serializers.JSONField(help_text='"yes" or "no", or an integer from 1 to 5, by the answer kind.')
    reason = serializers.CharField()
    model = serializers.CharField(help_text="The provider model that answered (provider/model).")
    latency_ms = serializers.FloatField()
    request_id = serializers.CharField(help_text="The proxy's x-request-id: the call in the endpoint's request log.")
    endpoint = serializers.CharField()
