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
    router, _ = build_router(endpoint)
    router.retire()


def _safe_message(exc: Exception, deployments: list[dict[str, Any]]) -> str:
    message = f"LiteLLM rejected the configuration: {exc.__class__.__name__}: {exc}"
    for item in deployments:
        secret = item["litellm_params"].get("api_key")
        if secret:
            message = message.replace(secret, "***")
    return message[:1000]


# Failover tuning, measured against LiteLLM 1.110's Rust router core: cooling a
# deployment down on its first failure keeps a failing priority-1 model from
# receiving traffic that its healthy siblings could serve, and two retries let
# one request move on to the next deployment (and then to priority 2).
# A provider that rate limits or times out is not retried in place (LiteLLM
# would sleep out its Retry-After while the client waits); the request moves
# on to the next deployment instead.
ROUTER_SETTINGS = {
    "num_retries": 2,
    "allowed_fails": 0,
    "retry_after": 0,
    "retry_policy": {"RateLimitErrorRetries": 0, "TimeoutErrorRetries": 0},
}


def build_router(endpoint: Endpoint) -> tuple[Any, list[dict[str, Any]]]:
    """A LiteLLM Router for ``endpoint`` and the deployments it was built from (secrets inside)."""
    import litellm
    from django.conf import settings

    from endpoints.proxy.attempts import configure_litellm

    configure_litellm()
    deployments = model_list(endpoint)
    try:
        router = litellm.Router(
            model_list=deployments,
            cooldown_time=settings.GATEWAY_COOLDOWN_SECONDS,
            timeout=settings.GATEWAY_UPSTREAM_TIMEOUT,
            **ROUTER_SETTINGS,
        )
    except Exception as exc:  # LiteLLM raises many types; none may leak a secret
        raise RouterConfigError(_safe_message(exc, deployments)) from None
    return router, deployments
