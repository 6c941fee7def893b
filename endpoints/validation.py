"""Validation of an endpoint's configuration, shared by create, update, restore and start.

Errors are collected per model so a refusal names every problem at once,
each on the model it is about: a Django ``ValidationError`` of
``{"models": [{"key_id": ["..."]}, {}], "weights": [...]}`` (built with
``gatewaylib.errors.invalid``), which the API answers as that body and the
forms put on the rows.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError

from catalog import services as catalog
from gatewaylib.errors import invalid
from keys.models import Key
from sharing import services as sharing
from sharing.levels import Level

if TYPE_CHECKING:
    from endpoints.models import EndpointModel

WEIGHT_TOLERANCE = 1e-6

# Which catalog modes can serve each endpoint type: the catalog's rule, named
# here for the callers that already import it.
ENDPOINT_MODES = catalog.ENDPOINT_TYPE_MODES


MAX_PRIORITY = 100
MAX_MODEL_NAME = 255


def _number(minimum: float = 0, maximum: float = 10**9, *, integer: bool = False, exclusive: bool = False):
    def check(value: Any) -> str | None:
        kinds = (int,) if integer else (int, float)
        if isinstance(value, bool) or not isinstance(value, kinds) or not math.isfinite(value):
            return "must be an integer" if integer else "must be a number"
        if value < minimum or (exclusive and value == minimum):
            return f"must be greater than {minimum}" if exclusive else f"must be at least {minimum}"
        if value > maximum:
            return f"must be at most {maximum}"
        return None

    return check


def _string(max_length: int = 500):
    def check(value: Any) -> str | None:
        if not isinstance(value, str) or not value.strip():
            return "must be a non-empty string"
        if len(value) > max_length:
            return f"must be at most {max_length} characters"
        if any(ord(char) < 32 or ord(char) == 127 for char in value):
            return "must not contain control characters"
        return None

    return check


def _model_name(value: Any) -> str | None:
    if problem := _string(MAX_MODEL_NAME)(value):
        return problem
    # LiteLLM reads a URL in some providers' model names as the address to
    # call; where a model's requests go is the key's business alone.
    if "://" in value or value.startswith("/"):
        return "must be a model name, not a URL or path"
    return None


# The LiteLLM deployment parameters an endpoint model may set: timeouts,
# limits, pricing, request defaults. None of them changes where the key's
# secret is sent or how it is presented; those belong to the key.
ALLOWED_LITELLM_PARAMS = {
    "timeout": _number(0, 86_400, exclusive=True),
    "stream_timeout": _number(0, 86_400, exclusive=True),
    "max_retries": _number(0, 10, integer=True),
    "rpm": _number(1, integer=True),
    "tpm": _number(1, integer=True),
    "max_parallel_requests": _number(1, 100_000, integer=True),
    "input_cost_per_token": _number(0, 1),
    "output_cost_per_token": _number(0, 1),
    "drop_params": lambda value: None if isinstance(value, bool) else "must be true or false",
}

# Parameters that would decide where the secret goes or which credential is
# sent, named so the refusal can point at the key instead.
DESTINATION_PARAMS = frozenset(
    {
        "api_base",
        "base_url",
        "api_version",
        "organization",
        "region_name",
        "aws_region_name",
        "vertex_project",
        "vertex_location",
        "vertex_credentials",
        "project_id",
        "api_key",
        "extra_headers",
        "headers",
        "azure_ad_token",
        "aws_access_key_id",
        "aws_secret_access_key",
        "aws_session_token",
        "aws_bedrock_runtime_endpoint",
        "custom_llm_provider",
    }
)


def litellm_param_errors(params: Any) -> list[str]:
    """Problems with a model's ``litellm_params``, each naming its parameter."""
    if not isinstance(params, dict):
        return ["Must be an object."]
    errors = []
    for name, value in params.items():
        check = ALLOWED_LITELLM_PARAMS.get(name)
        if name in DESTINATION_PARAMS:
            errors.append(
                f"{name!r} decides where the key's secret is sent; set it on the key, not on the endpoint's model."
            )
        elif check is None:
            allowed = ", ".join(sorted(ALLOWED_LITELLM_PARAMS))
            errors.append(f"{name!r} is not an allowed parameter; use one of: {allowed}.")
        elif problem := check(value):
            errors.append(f"{name} {problem}.")
    return errors


@dataclass
class ModelSpec:
    """One model as given by a client, before validation."""

    provider: str
    model_name: str
    key_id: str
    weight: float | None = None
    priority: int = 1
    litellm_params: dict[str, Any] = field(default_factory=dict)
    id: str | None = None  # an existing model's id, to change it in place

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelSpec:
        return cls(
            provider=data.get("provider", ""),
            model_name=data.get("model_name", ""),
            key_id=str(data.get("key_id", "")),
            weight=data.get("weight"),
            priority=data.get("priority", 1),
            litellm_params=data.get("litellm_params") or {},
            id=data.get("id"),
        )

    @classmethod
    def from_model(cls, model: EndpointModel) -> ModelSpec:
        """A stored model (or the admin form's unsaved one) as a spec, to check its set again or change it."""
        return cls(
            provider=model.provider,
            model_name=model.model_name,
            key_id=model.key_id.hex,
            weight=model.weight,
            priority=model.priority,
            litellm_params=model.litellm_params or {},
            id=model.public_id,
        )


@dataclass
class ValidModel:
    """A validated model, with its Key row resolved."""

    spec: ModelSpec
    key: Key
    weight: float


def resolve_key(actor: Any, key_id: str) -> Key:
    """The key ``actor`` may attach; unreadable keys are reported as missing."""
    try:
        key = Key.objects.get(pk=key_id)
    except (Key.DoesNotExist, ValueError, ValidationError):
        raise LookupError(f"Key {key_id!r} does not exist.") from None
    if actor is not None:
        level = sharing.get_level(actor, key)
        if level is None:
            raise LookupError(f"Key {key_id!r} does not exist.")
        if level < Level.USE:
            raise PermissionError(f"You need USE permission on key {key.name!r} to attach it.")
    return key


def _model_errors(
    spec: ModelSpec, endpoint_type: str, actor: Any, trusted_key_ids: frozenset[str]
) -> tuple[dict[str, list[str]], Key | None]:
    errors: dict[str, list[str]] = defaultdict(list)
    key = None
    if not catalog.is_provider(spec.provider):
        errors["provider"].append(catalog.unknown_provider_message(spec.provider))
    elif not catalog.serves_type(spec.provider, endpoint_type):
        errors["provider"].append(catalog.provider_type_message(spec.provider, endpoint_type))
    if problem := _model_name(spec.model_name):
        errors["model_name"].append(f"The model name {problem}.")
    try:
        key = resolve_key(None if _hex(spec.key_id) in trusted_key_ids else actor, spec.key_id)
    except (LookupError, PermissionError) as exc:
        errors["key_id"].append(str(exc))
    if key is not None and not errors["provider"] and key.provider != spec.provider:
        errors["key_id"].append(f"Key {key.name!r} is for {key.provider}, not {spec.provider}.")
    if spec.weight is not None and (problem := _number(0, 1, exclusive=True)(spec.weight)):
        errors["weight"].append(f"The weight {problem}.")
    if problem := _number(1, MAX_PRIORITY, integer=True)(spec.priority):
        errors["priority"].append(f"The priority {problem}.")
    errors["litellm_params"] += litellm_param_errors(spec.litellm_params)
    # A key with its own server serves whatever model names that server has.
    if not errors["provider"] and not errors["model_name"] and key is not None and not key.api_base:
        _check_catalog_model(spec, endpoint_type, errors)
    return {name: messages for name, messages in errors.items() if messages}, key


def _check_catalog_model(spec: ModelSpec, endpoint_type: str, errors: dict[str, list[str]]) -> None:
    entry = catalog.get_model(spec.provider, spec.model_name)
    if entry is None:
        errors["model_name"].append(
            f"{spec.model_name!r} is not in the catalog for {spec.provider}; "
            "to serve a model of your own, use a key that points at its server (the key's API base URL)."
        )
    elif entry["mode"] not in ENDPOINT_MODES[endpoint_type]:
        errors["model_name"].append(
            f"{spec.model_name!r} is a {entry['mode']} model; it cannot serve a {endpoint_type} endpoint."
        )


def _weight_errors(specs: list[ModelSpec]) -> list[str]:
    by_priority: dict[int, list[ModelSpec]] = defaultdict(list)
    for spec in specs:
        by_priority[spec.priority].append(spec)
    problems = []
    for priority, group in sorted(by_priority.items()):
        if len(group) == 1 and group[0].weight is None:
            continue
        if any(spec.weight is None for spec in group):
            problems.append(f"Give every model of priority {priority} a weight (they share its traffic).")
            continue
        total = sum(spec.weight for spec in group)
        if abs(total - 1.0) > WEIGHT_TOLERANCE:
            problems.append(f"The weights of priority {priority} sum to {total:g}; they must sum to 1.0.")
    return problems


def _hex(key_id: str) -> str:
    return key_id.replace("-", "").lower()


def validate_models(
    endpoint_type: str, specs: list[ModelSpec], actor: Any, trusted_key_ids: frozenset[str] = frozenset()
) -> list[ValidModel]:
    """Check every model of an endpoint; raise one ValidationError listing every problem.

    ``actor`` needs USE on every key, except those in ``trusted_key_ids``
    (already attached to this endpoint by someone who had USE); ``None``
    skips the permission check (system work such as start).
    """
    if endpoint_type not in ENDPOINT_MODES:
        raise ValidationError({"endpoint_type": [f"Unknown endpoint type {endpoint_type!r}."]})
    if not specs:
        raise ValidationError({"models": ["An endpoint needs at least one model."]})
    results = [_model_errors(spec, endpoint_type, actor, trusted_key_ids) for spec in specs]
    per_model, keys = [errors for errors, _ in results], [key for _, key in results]
    detail: dict[str, Any] = {}
    if any(per_model):
        detail["models"] = list(per_model)
    elif weight_problems := _weight_errors(specs):
        detail["weights"] = weight_problems
    if detail:
        raise invalid(detail)
    return [
        ValidModel(spec=spec, key=key, weight=1.0 if spec.weight is None else float(spec.weight))
        for spec, key in zip(specs, keys, strict=True)
    ]
