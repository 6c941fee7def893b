from __future__ import annotations

from datetime import datetime

from django.utils import timezone
from rest_framework import serializers

from tokens.models import GatewayToken


class GatewayTokenSerializer(serializers.ModelSerializer):
    """A token as lists and details show it: never the digest, never the plaintext."""

    id = serializers.CharField(source="id.hex", read_only=True, help_text="32-hex token id.")

    class Meta:
        model = GatewayToken
        fields = ["id", "name", "prefix", "created_at", "last_used_at", "expires_at", "rate_limit_rpm"]
        read_only_fields = ["prefix", "created_at", "last_used_at"]
        extra_kwargs = {
            "expires_at": {"required": False, "allow_null": True},
            "rate_limit_rpm": {"required": False, "allow_null": True, "min_value": 1},
        }

    def validate_expires_at(self, value: datetime | None) -> datetime | None:
        if value is not None and value <= timezone.now():
            raise serializers.ValidationError("Must be in the future.")
        return value


class GatewayTokenCreatedSerializer(GatewayTokenSerializer):
    """The answer to a create: the token plus its plaintext, which is shown this one time only."""

    token = serializers.SerializerMethodField(help_text="The plaintext token. It is shown only in this response.")

    class Meta(GatewayTokenSerializer.Meta):
        fields = [*GatewayTokenSerializer.Meta.fields, "token"]

    def get_token(self, obj: GatewayToken) -> str:
        return self.context["plaintext"]
