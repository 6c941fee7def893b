"""The gateway's own format: what ``export`` writes and ``import_endpoints`` reads back.

::

    gateway_export: 1
    endpoints:
    - name: chat-prod
      endpoint_type: chat
      description: ''
      rate_limit_rpm: 600
      rate_limit_tpm: null
      models:
      - provider: openai
        model_name: gpt-4o
        key: openai-prod        # a key's name: the file holds no secret
        weight: 0.9
        priority: 1
        litellm_params: {rpm: 100}

Endpoints are listed by name and each one's models in a fixed order, so the
same endpoints always export to the same text. Reading it is strict (an
unknown field is an error, not a skip): the format is the gateway's own.
Each ``key`` must name exactly one key the importer may USE.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import yaml

from endpoints.models import Endpoint
from endpoints.transfer.base import (
    ERROR,
    EndpointPlan,
    ExistingKey,
    ModelPlan,
    Plan,
    Report,
    at,
    endpoint_name,
    is_endpoint_type,
    item,
    kind,
    mapping,
    text_value,
)
from gatewaylib.endpoint_types import ENDPOINT_TYPES
from keys.models import Key
from sharing.levels import Level

if TYPE_CHECKING:
    from django.db.models import QuerySet

FORMAT = "gateway"
MARKER = "gateway_export"
VERSION = 1
HEADER = (
    "# AI Gateway endpoints. No secrets: each model names its key, which must exist (with USE for the importer)\n"
    "# where this file is imported: manage.py import_endpoints FILE, or POST .../endpoints/import.\n"
)
ENDPOINT_FIELDS = ("name", "endpoint_type", "description", "rate_limit_rpm", "rate_limit_tpm", "models")
MODEL_FIELDS = ("provider", "model_name", "key", "weight", "priority", "litellm_params")
MAX_ENDPOINTS = 1000
MAX_DESCRIPTION = 10_000


# -- export -----------------------------------------------------------------------------------------


def export_document(endpoints: QuerySet[Endpoint]) -> str:
    """``endpoints`` as the gateway's format (YAML text), without any secret."""
    data = {
        MARKER: VERSION,
        "endpoints": [_endpoint(endpoint) for endpoint in endpoints.order_by("name").prefetch_related("models__key")],
    }
    return HEADER + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, default_flow_style=False, width=100)


def _endpoint(endpoint: Endpoint) -> dict[str, Any]:
    models = sorted((_model(model) for model in endpoint.models.all()), key=_model_order)
    return {
        "name": endpoint.name,
        "endpoint_type": endpoint.endpoint_type,
        "description": endpoint.description,
        "rate_limit_rpm": endpoint.rate_limit_rpm,
        "rate_limit_tpm": endpoint.rate_limit_tpm,
        "models": models,
    }


def _model(model) -> dict[str, Any]:
    return {
        "provider": model.provider,
        "model_name": model.model_name,
        "key": model.key.name,
        "weight": float(model.weight),
        "priority": model.priority,
        "litellm_params": dict(sorted((model.litellm_params or {}).items())),
    }


def _model_order(model: dict[str, Any]) -> tuple[Any, ...]:
    params = json.dumps(model["litellm_params"], sort_keys=True, default=str)
    return (model["priority"], -model["weight"], model["provider"], model["model_name"], model["key"], params)


# -- import -----------------------------------------------------------------------------------------


def read(document: dict[str, Any], actor: Any) -> Plan:
    plan = Plan(format=FORMAT)
    report = plan.report
    for name in document:
        if name not in (MARKER, "endpoints"):
            report.error(at("", name), f"Unknown field: a gateway export has {MARKER} and endpoints.")
    if document.get(MARKER) != VERSION or isinstance(document.get(MARKER), bool):
        report.error(MARKER, f"Must be {VERSION}: this gateway reads version {VERSION} of its export.")
    entries = document.get("endpoints")
    if not isinstance(entries, list) or not entries:
        report.error("endpoints", f"Must be a non-empty list of endpoints, not {kind(entries)}.")
        return plan
    if len(entries) > MAX_ENDPOINTS:
        report.error("endpoints", f"Import at most {MAX_ENDPOINTS} endpoints at once.")
        return plan
    keys = _usable_keys(actor)
    seen: dict[str, str] = {}
    for index, entry in enumerate(entries):
        endpoint = _read_endpoint(item("endpoints", index), entry, keys, seen, report)
        if endpoint is not None:
            plan.endpoints.append(endpoint)
    return plan


def _usable_keys(actor: Any) -> dict[str, list[Key]]:
    keys: dict[str, list[Key]] = {}
    for key in Key.objects.visible_to(actor, Level.USE).order_by("created_at"):
        keys.setdefault(key.name, []).append(key)
    return keys


def _read_endpoint(
    path: str, entry: Any, keys: dict[str, list[Key]], seen: dict[str, str], report: Report
) -> EndpointPlan | None:
    if not isinstance(entry, dict):
        report.error(path, f"Must be a mapping, not {kind(entry)}.")
        return None
    errors = len(report.of(ERROR))
    _unknown(path, entry, ENDPOINT_FIELDS, report)
    name = text_value(report, at(path, "name"), entry.get("name"), max_length=64)
    if name is not None and endpoint_name(name) != name:
        report.error(at(path, "name"), "Must be lowercase letters, digits and dashes.")
    elif name is not None and name in seen:
        report.error(at(path, "name"), f"“{name}” is also the name of {seen[name]}.")
    elif name is not None:
        seen[name] = path
    endpoint_type = entry.get("endpoint_type")
    if not is_endpoint_type(endpoint_type):
        report.error(at(path, "endpoint_type"), f"Must be one of {', '.join(entry.value for entry in ENDPOINT_TYPES)}.")
    description = entry.get("description") or ""
    if not isinstance(description, str) or len(description) > MAX_DESCRIPTION:
        report.error(at(path, "description"), f"Must be text of at most {MAX_DESCRIPTION} characters.")
    limits = {name: _limit(at(path, name), entry.get(name), report) for name in ("rate_limit_rpm", "rate_limit_tpm")}
    models_path = at(path, "models")
    models = entry.get("models")
    if not isinstance(models, list) or not models:
        report.error(models_path, f"Must be a non-empty list of models, not {kind(models)}.")
        models = []
    planned = [_read_model(item(models_path, index), model, keys, report) for index, model in enumerate(models)]
    if len(report.of(ERROR)) > errors:
        return None
    return EndpointPlan(
        name=name,
        endpoint_type=endpoint_type,
        path=path,
        models=planned,
        description=description,
        rate_limit_rpm=limits["rate_limit_rpm"],
        rate_limit_tpm=limits["rate_limit_tpm"],
        paths={field: at(path, field) for field in ENDPOINT_FIELDS} | {"weights": models_path},
    )


def _limit(path: str, value: Any, report: Report) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1 or value > 2**31 - 1:
        report.error(path, "Must be a whole number of at least 1, or null for no limit.")
        return None
    return value


def _read_model(path: str, entry: Any, keys: dict[str, list[Key]], report: Report) -> ModelPlan | None:
    if not isinstance(entry, dict):
        report.error(path, f"Must be a mapping, not {kind(entry)}.")
        return None
    _unknown(path, entry, MODEL_FIELDS, report)
    provider = text_value(report, at(path, "provider"), entry.get("provider"), max_length=64)
    model_name = text_value(report, at(path, "model_name"), entry.get("model_name"), max_length=255)
    key_name = text_value(report, at(path, "key"), entry.get("key"), max_length=100)
    params = mapping(report, at(path, "litellm_params"), entry.get("litellm_params"))
    key = None
    if key_name is not None:
        found = keys.get(key_name, [])
        if not found:
            report.error(at(path, "key"), f"No key named “{key_name}” that you may use (USE); create it first.")
        elif len(found) > 1:
            report.error(
                at(path, "key"), f"{len(found)} keys you may use are named “{key_name}”; give one a name of its own."
            )
        else:
            key = ExistingKey(found[0])
    if None in (provider, model_name, key, params):
        return None
    return ModelPlan(
        provider=provider,
        model_name=model_name,
        key=key,
        weight=entry.get("weight"),
        priority=entry.get("priority", 1),
        litellm_params=params,
        path=path,
        paths={
            "provider": at(path, "provider"),
            "model_name": at(path, "model_name"),
            "key_id": at(path, "key"),
            "weight": at(path, "weight"),
            "priority": at(path, "priority"),
            "litellm_params": at(path, "litellm_params"),
        },
    )


def _unknown(path: str, entry: dict, known: tuple[str, ...], report: Report) -> None:
    for name in entry:
        if name not in known:
            report.error(at(path, name), f"Unknown field: one of {', '.join(known)}.")
