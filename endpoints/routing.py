"""Turning an endpoint into LiteLLM Router deployments.

Traffic split and failover are the Router's own features: each endpoint
model becomes one deployment of the model group named after the endpoint,
with its ``weight`` and its priority as ``order``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from catalog import services as catalog
from endpoints.models import Endpoint, EndpointModel
from endpoints.validation import ALLOWED_LITELLM_PARAMS
from gatewaylib.endpoint_types import BEDROCK, TYPES
from gatewaylib.scrub import Scrubber
from keys.crypto import SecretDecryptionError
from keys.models import NO_SECRET

# Deployment parameters only LiteLLM's Router enforces (it counts them on the calls it makes itself).
ROUTER_LIMITS = frozenset({"rpm", "tpm", "max_parallel_requests"})


def passes_through(wire: str, provider: str, params: Mapping[str, Any], model_name: str) -> bool:
    """Whether a model can serve a provider's own API (Gemini's) passed through unchanged.

    It must be that provider's model (LiteLLM's Router has no call that
    translates such an API), with no limit that only the Router counts. A
    Bedrock catalog name with a region or a commitment term in it
    (``eu-west-1/1-month-commitment/...``) prices provisioned throughput; it
    is no model id Bedrock Runtime takes.
    """
    if wire == BEDROCK and "/" in model_name:
        return False
    return provider == wire and not (ROUTER_LIMITS & params.keys())


def native_apis(endpoint_type: str, models: Iterable[EndpointModel]) -> list[str]:
    """The provider APIs that reach an endpoint only passed through (Gemini's), and only when every model can."""
    models = list(models)
    wires = {route.wire for route in TYPES[endpoint_type].routes if not route.router_method}
    return [
        wire
        for wire in sorted(wires)
        if models
        and all(passes_through(wire, model.provider, model.litellm_params, model.model_name) for model in models)
    ]


class RouterConfigError(Exception):
    """The endpoint cannot be turned into a working Router; the message is safe to show."""


def deployment(endpoint: Endpoint, model: EndpointModel) -> dict[str, Any]:
    try:
        connection = model.key.litellm_connection()
    except SecretDecryptionError:
        raise RouterConfigError(
            f"Key {model.key.name!r} cannot be decrypted with the configured encryption keys."
        ) from None
    # Only the model's own tuning is taken from the model row; where the call
    # goes and with which credential comes from the key alone, even if a row
    # written before destinations moved to keys still says otherwise.
    params = {name: value for name, value in model.litellm_params.items() if name in ALLOWED_LITELLM_PARAMS}
    return {
        "model_name": endpoint.name,
        "litellm_params": {
            **params,
            **connection,
            "model": catalog.litellm_model_name(model.provider, model.model_name),
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
    retire_router(router)


def retire_router(router: Any) -> None:
    """Unhook ``router`` from LiteLLM's process-wide registries, its deployments deleted first.

    The Router's internals are full of reference cycles that only the
    garbage collector's full pass frees (hundreds of milliseconds with
    LiteLLM loaded); deleting its deployments first lets the decrypted
    secrets go at once, with the deployment entries that hold them.
    """
    for deployment in router.get_model_list() or []:
        router.delete_deployment(id=deployment["model_info"]["id"])
    router.retire()


def endpoint_secrets(endpoint: Endpoint) -> tuple[str, ...]:
    """The decrypted secrets of the keys ``endpoint`` uses (for scrubbing; never log or return this)."""
    keys = {model.key_id: model.key for model in endpoint.models.select_related("key")}
    return tuple(sorted({part for key in keys.values() if key.has_secret for part in key.secret_parts()}))


def _safe_message(exc: Exception, secrets: tuple[str, ...]) -> str:
    return Scrubber(secrets).text(f"LiteLLM rejected the configuration: {exc.__class__.__name__}: {exc}")[:1000]


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


# What the Router holds for a search endpoint's model. LiteLLM's Router takes no
# search provider in its model list (it finds no LLM provider for "tavily/search"),
# and its own search tools are picked at random, without weights, priorities or
# cooldowns. So it gets a stand-in per model, with the model's id, weight and
# priority and neither the key's secret nor its destination, only to choose
# among them; proxy.search makes the call with LiteLLM's search API and the
# real deployment. No route calls the Router for a search endpoint.
SELECTION_ONLY = {"model": "openai/search-selection-only", "api_key": NO_SECRET, "api_base": "http://search.invalid"}


def router_deployments(endpoint: Endpoint, deployments: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The deployments the Router is built with: the real ones, or stand-ins that only choose (search)."""
    if endpoint.endpoint_type != "search":
        return deployments
    return [
        {
            **deployment,
            "litellm_params": {
                **SELECTION_ONLY,
                "weight": deployment["litellm_params"]["weight"],
                "order": deployment["litellm_params"]["order"],
            },
        }
        for deployment in deployments
    ]


def build_router(endpoint: Endpoint) -> tuple[Any, tuple[str, ...]]:
    """A LiteLLM Router for ``endpoint`` and the secrets inside it."""
    import litellm
    from django.conf import settings

    from gatewaylib.llm import configure_litellm

    configure_litellm()
    deployments = model_list(endpoint)
    secrets = endpoint_secrets(endpoint)
    try:
        router = litellm.Router(
            model_list=router_deployments(endpoint, deployments),
            cooldown_time=settings.GATEWAY_COOLDOWN_SECONDS,
            timeout=settings.GATEWAY_UPSTREAM_TIMEOUT,
            **ROUTER_SETTINGS,
        )
    except Exception as exc:  # LiteLLM raises many types; none may leak a secret
        raise RouterConfigError(_safe_message(exc, secrets)) from None
    return router, secrets
