from __future__ import annotations

from typing import Any

from rest_framework import serializers

from keys import services
from keys.models import Key


class KeySerializer(serializers.ModelSerializer):
    """A key as the API shows it: the secret is write-only; only ``masked_secret`` is read back.

    The connection fields (``api_base``, ``api_version``, ``organization``,
    ``region``, ``project``) say where the secret is sent; changing any of
    them (or ``provider``) needs ``secret`` in the same request.
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
        if self.instance is not None:
            self.fields["secret"].required = False

    def validate_provider(self, value: str) -> str:
        return services.clean_provider(value)

    def create(self, validated_data: dict[str, Any]) -> Key:
        return services.create_key(actor=self.context["request"].user, **validated_data)

    def update(self, instance: Key, validated_data: dict[str, Any]) -> Key:
        return services.update_key(instance, actor=self.context["request"].user, **validated_data)
