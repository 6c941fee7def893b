from __future__ import annotations

from typing import Any

from rest_framework import serializers

from keys import aws, services
from keys.models import Key


def _access_key_field(max_length: int, help_text: str) -> serializers.CharField:
    """One part of a Bedrock key's AWS access key: write-only, like the secret."""
    return serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        max_length=max_length,
        style={"input_type": "password"},
        help_text=help_text,
    )


class KeySerializer(serializers.ModelSerializer):
    """A key as the API shows it: the secret is write-only; only ``masked_secret`` is read back.

    The connection fields (``api_base``, ``api_version``, ``organization``,
    ``region``, ``project``) say where the secret is sent; changing any of
    them (or ``provider``) needs ``secret`` in the same request. A Bedrock key
    takes an AWS access key (``aws_access_key_id``, ``aws_secret_access_key``,
    ``aws_session_token``) instead of a Bedrock API key as ``secret``.
    """

    id = serializers.CharField(source="public_id", read_only=True)
    secret = serializers.CharField(
        write_only=True,
        trim_whitespace=True,
        allow_blank=True,
        max_length=services.MAX_SECRET_LENGTH,
        style={"input_type": "password"},
        help_text="The provider credential. Stored encrypted; never returned. May be empty only for a "
        "self-hosted server. Required when changing the provider or a connection field.",
    )
    aws_access_key_id = _access_key_field(
        128,
        "Bedrock keys only, instead of a Bedrock API key as `secret`: the AWS access key id that requests are "
        "signed with (never returned; the masked hint is its own).",
    )
    aws_secret_access_key = _access_key_field(
        256, "The access key's secret (with `aws_access_key_id`). Stored encrypted; never returned."
    )
    aws_session_token = _access_key_field(
        8192, "Temporary credentials' session token. Stored encrypted; never returned."
    )
    # Null once the creating user is deleted (the FK is SET_NULL).
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = Key
        fields = [
            "id",
            "name",
            "provider",
            "description",
            "secret",
            *aws.FIELDS,
            "masked_secret",
            "api_base",
            "api_version",
            "organization",
            "region",
            "project",
            "created_by",
            "created_at",
            "updated_at",
            "last_rotated_at",
        ]
        read_only_fields = ["masked_secret", "created_at", "updated_at", "last_rotated_at"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Required unless an AWS access key is sent instead, or the key already has one (the service checks).
        self.fields["secret"].required = False

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if self.instance is None and "secret" not in attrs and not any(attrs.get(name) for name in aws.FIELDS):
            raise serializers.ValidationError({"secret": [self.fields["secret"].error_messages["required"]]})
        return attrs

    def validate_provider(self, value: str) -> str:
        return services.clean_provider(value)

    def create(self, validated_data: dict[str, Any]) -> Key:
        secret = validated_data.pop("secret", "")
        return services.create_key(actor=self.context["request"].user, secret=secret, **validated_data)

    def update(self, instance: Key, validated_data: dict[str, Any]) -> Key:
        return services.update_key(instance, actor=self.context["request"].user, **validated_data)
