"""Turning an endpoint into LiteLLM Router deployments.

Traffic split and failover are the Router's own features: each endpoint
model becomes one deployment of the model group named after the endpoint,
with its ``weight`` and its priority as ``order``.
"""

from __future__ import annotations

from typing import Any

from catalog import services as catalog
from endpoints.models import Endpoint, EndpointModel
from keys.crypto import SecretDecryptionError


class RouterConfigError(Exception):
    """The endpoint cannot be turned into a working Router; the message is safe to show."""


def deployment(endpoint: Endpoint, model: EndpointModel) -> dict[str, Any]:
    try:
        secret = model.key.secret()
    except SecretDecryptionError:
        raise RouterConfigError(
            f"Key {model.key.name!r} cannot be decrypted with the configured encryption keys."
        ) from None
    params = dict(model.litellm_params)
    return {
        "model_name": endpoint.name,
        "litellm_params": {
            **params,
            "model": catalog.litellm_model_name(model.provider, model.model_name),
            "api_key": secret,
            "weight": model.weight,
            "order": model.priority,
        },
        "model_info": {"id": model.public_id, "provider": model.provider, "model_name": model.model_name},
    }


def model_list(endpoint: Endpoint) -> list[dict[str, Any]]:
    """Every deployment of ``endpoint``, secrets decrypted (never log or return this)."""
    models = list(endpoint.models.select_related("key"))
    if not models:
        raise RouterConfigError("The endpoint has no models.")
    return [deployment(endpoint, model) for model in models]


def check_router(endpoint: Endpoint) -> None:
    """Build a Router from the endpoint once, to prove its configuration is usable."""
    import litellm

    deployments = model_list(endpoint)
    try:
        router = litellm.Router(model_list=deployments)
    except Exception as exc:  # LiteLLM raises many types; none may leak a secret
        raise RouterConfigError(_safe_message(exc, deployments)) from None
    del router


def _safe_message(exc: Exception, deployments: list[dict[str, Any]]) -> str:
    message = f"LiteLLM rejected the configuration: {exc.__class__.__name__}: {exc}"
    for item in deployments:
        secret = item["litellm_params"].get("api_key")
        if secret:
            message = message.replace(secret, "***")
    return message[:1000]
