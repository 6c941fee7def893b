"""drf-spectacular description of the gateway token authentication (imported by TokensConfig.ready)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object


class GatewayTokenScheme(OpenApiAuthenticationExtension):
    target_class = "tokens.authentication.GatewayTokenAuthentication"
    name = "gatewayToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        scheme = build_bearer_security_scheme_object(
            header_name="Authorization", token_prefix="Bearer", bearer_format="gw_<lookup id>_<secret>"
        )
        return {**scheme, "description": "A personal gateway token, created with POST tokens/."}
