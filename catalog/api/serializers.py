"""Shapes of the catalog API's responses and query parameters.

The views return the services' dicts as they are; these serializers validate
the query string and describe the responses in the OpenAPI schema.
"""

from __future__ import annotations

from rest_framework import serializers

from catalog.services import MAX_SEARCH_LENGTH, MODES, ORDERS
from gatewaylib.endpoint_types import TYPES


class ProviderSerializer(serializers.Serializer):
    """One provider of the catalog."""

    name = serializers.CharField(help_text="LiteLLM provider identifier, e.g. `openai`.")
    display_name = serializers.CharField()
    supported_modes = serializers.ListField(child=serializers.CharField())
    description = serializers.CharField()


class ProviderListSerializer(serializers.Serializer):
    """The response of `providers/list`."""

    providers = ProviderSerializer(many=True)


class ModelSerializer(serializers.Serializer):
    """One model of a provider. Numbers are null when LiteLLM's map does not state them."""

    model_name = serializers.CharField(help_text="Name without the provider prefix, e.g. `gpt-4o`.")
    provider = serializers.CharField()
    mode = serializers.CharField()
    max_input_tokens = serializers.IntegerField(allow_null=True)
    max_output_tokens = serializers.IntegerField(allow_null=True)
    input_cost_per_token = serializers.FloatField(allow_null=True, help_text="USD per input token.")
    output_cost_per_token = serializers.FloatField(allow_null=True, help_text="USD per output token.")
    input_cost_per_query = serializers.FloatField(allow_null=True, help_text="USD per query (search providers).")
    supports_vision = serializers.BooleanField()
    supports_function_calling = serializers.BooleanField()
    supports_streaming = serializers.BooleanField()
    supports_reasoning = serializers.BooleanField()
    deprecation_date = serializers.CharField(allow_null=True, help_text="YYYY-MM-DD, or null.")


class ModelListSerializer(serializers.Serializer):
    """The response of `models/list`."""

    models = ModelSerializer(many=True)


def _endpoint_type_field() -> serializers.ChoiceField:
    return serializers.ChoiceField(
        choices=tuple(TYPES),
        required=False,
        error_messages={"invalid_choice": f"Unknown endpoint type '{{input}}'. Valid types: {', '.join(TYPES)}."},
    )


class ProviderListQuerySerializer(serializers.Serializer):
    """The query string of `providers/list`."""

    endpoint_type = _endpoint_type_field()


class ModelListQuerySerializer(serializers.Serializer):
    """The query string of `models/list`. Provider and mode are checked against the catalog by the service."""

    provider = serializers.CharField(
        error_messages={
            "required": "Query parameter 'provider' is required, e.g. ?provider=openai.",
            "blank": "Query parameter 'provider' may not be blank, e.g. ?provider=openai.",
        },
    )
    mode = serializers.CharField(required=False, help_text=f"One of {', '.join(MODES)}, or another LiteLLM mode.")
    endpoint_type = _endpoint_type_field()
    search = serializers.CharField(required=False, allow_blank=True, max_length=MAX_SEARCH_LENGTH, trim_whitespace=True)
    order = serializers.ChoiceField(choices=ORDERS, required=False, default="name")
