"""An MLflow AI Gateway (deployments server) config (``endpoints:``) read into a plan.

Each entry of ``endpoints`` becomes one endpoint of one model:

* ``name`` -> the endpoint's name (in the endpoint name rules);
  ``endpoint_type`` ``llm/v1/chat`` -> chat, ``llm/v1/completions`` ->
  completion, ``llm/v1/embeddings`` -> embedding.
* ``model.provider`` and ``model.name`` -> the model (MLflow's provider names
  mapped onto LiteLLM's: ``togetherai`` -> ``together_ai``, ``ai21labs`` ->
  ``ai21``; ``openai`` with ``openai_api_type: azure`` -> ``azure``, whose
  model is the ``openai_deployment_name``).
* ``model.config``'s ``<provider>_api_key`` -> the key's secret. As in MLflow,
  a value starting with ``$`` names an environment variable (``$OPENAI_API_KEY``);
  MLflow would also read a file path, which the importer never does.
  ``openai_api_base``, ``openai_api_version``, ``openai_organization``,
  ``litellm_api_base`` -> the key's destination.
* ``limit`` (``calls`` per ``renewal_period: minute``, no ``key``) -> the
  endpoint's requests per minute.

A traffic route of the top-level ``routes`` (``destinations`` with
``traffic_percentage``) becomes one more endpoint whose models are its
destinations' models, weighted by their percentages.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from catalog import services as catalog
from endpoints.transfer.base import (
    ENV_NAME,
    ERROR,
    EndpointPlan,
    Environment,
    KeyBook,
    KeyPlan,
    ModelPlan,
    Plan,
    Report,
    at,
    endpoint_name,
    item,
    kind,
    mapping,
    own_api_base,
    text_value,
)

FORMAT = "mlflow"
REFERENCE = "$"
MAX_ENDPOINTS = 1000
ENDPOINT_TYPES = {"llm/v1/chat": "chat", "llm/v1/completions": "completion", "llm/v1/embeddings": "embedding"}
MINUTE = frozenset({"minute", "minutes", "1 minute", "1minute", "min"})


@dataclass(frozen=True)
class Provider:
    """How an MLflow provider's config maps onto a gateway key."""

    candidates: tuple[str, ...]  # gateway providers; the first whose catalog lists the model wins
    secret: str  # the config field holding the secret
    destination: dict[str, str] = field(default_factory=dict)  # config field -> key field
    consumed: frozenset[str] = frozenset()  # fields read elsewhere


_OPENAI = Provider(
    ("openai",),
    "openai_api_key",
    {"openai_api_base": "api_base", "openai_organization": "organization", "openai_api_version": "api_version"},
    frozenset({"openai_api_type", "openai_deployment_name"}),
)
PROVIDERS = {
    "openai": _OPENAI,
    "anthropic": Provider(("anthropic",), "anthropic_api_key", {"anthropic_api_base": "api_base"}),
    "cohere": Provider(("cohere", "cohere_chat"), "cohere_api_key"),
    "ai21labs": Provider(("ai21",), "ai21labs_api_key"),
    "gemini": Provider(("gemini",), "gemini_api_key"),
    "palm": Provider(("palm",), "palm_api_key"),
    "mistral": Provider(("mistral",), "mistral_api_key"),
    "togetherai": Provider(("together_ai",), "togetherai_api_key"),
    "litellm": Provider((), "litellm_api_key", {"litellm_api_base": "api_base"}, frozenset({"litellm_provider"})),
}
UNSUPPORTED = {
    "bedrock": "MLflow signs Bedrock calls with AWS credentials, and a gateway Bedrock key holds a Bedrock API key",
    "amazon-bedrock": "MLflow signs Bedrock calls with AWS credentials, and a gateway Bedrock key holds a Bedrock "
    "API key",
    "mosaicml": "MosaicML's inference API is retired",
    "mlflow-model-serving": "an MLflow model server is not a provider the gateway calls",
    "databricks-model-serving": "Databricks model serving is configured through Databricks",
    "databricks": "Databricks model serving is configured through Databricks",
    "huggingface-text-generation-inference": "a text-generation-inference server has no key: create a key for its "
    "server (for example provider hosted_vllm and its /v1 URL)",
}
# Defaults MLflow sends that the gateway sends too: not worth a "skipped" line.
SAME_AS_GATEWAY = {"anthropic_version": "2023-06-01"}


def read(document: dict[str, Any], environment: Environment, book: KeyBook) -> Plan:
    plan = Plan(format=FORMAT)
    report = plan.report
    for section in document:
        if section not in ("endpoints", "routes"):
            report.skipped(at("", section), "not imported: an MLflow config's endpoints and routes are.")
    entries = document.get("endpoints")
    if not isinstance(entries, list):
        report.error("endpoints", f"Must be a list of endpoints, not {kind(entries)}.")
        return plan
    routes = document.get("routes")
    if routes is not None and not isinstance(routes, list):
        report.error("routes", f"Must be a list of traffic routes, not {kind(routes)}.")
        routes = None
    if not entries:
        report.error("endpoints", "Lists no endpoint: there is nothing to import.")
        return plan
    if len(entries) + len(routes or []) > MAX_ENDPOINTS:
        report.error("endpoints", f"Import at most {MAX_ENDPOINTS} endpoints and routes at once.")
        return plan
    names = _names(
        [(item("endpoints", i), entry) for i, entry in enumerate(entries)]
        + [(item("routes", i), route) for i, route in enumerate(routes or [])],
        report,
    )
    by_mlflow_name: dict[str, EndpointPlan | None] = {}
    for index, entry in enumerate(entries):
        path = item("endpoints", index)
        endpoint = _endpoint(path, entry, names.get(path), environment, book, report) if path in names else None
        if isinstance(entry, dict) and isinstance(entry.get("name"), str):
            by_mlflow_name[entry["name"].strip()] = endpoint
        if endpoint is not None:
            plan.endpoints.append(endpoint)
    for index, route in enumerate(routes or []):
        path = item("routes", index)
        if path in names and (endpoint := _route(path, route, names[path], by_mlflow_name, report)) is not None:
            plan.endpoints.append(endpoint)
    plan.keys = book.keys
    return plan


def _names(entries: list[tuple[str, Any]], report: Report) -> dict[str, str]:
    """YAML path -> endpoint name, for the entries with a name of their own."""
    wanted: dict[str, list[tuple[str, str]]] = {}
    for path, entry in entries:
        if not isinstance(entry, dict):
            report.error(path, f"Must be a mapping, not {kind(entry)}.")
            continue
        raw = text_value(report, at(path, "name"), entry.get("name"), max_length=255)
        if raw is None:
            continue
        name = endpoint_name(raw)
        if not name:
            report.error(at(path, "name"), "Cannot become an endpoint name: it has no letter or digit.")
            continue
        wanted.setdefault(name, []).append((path, raw))
    names = {}
    for name, holders in wanted.items():
        if len(holders) > 1:
            for path, _ in holders:
                others = ", ".join(f"“{other}”" for other_path, other in holders if other_path != path)
                report.error(at(path, "name"), f"Becomes the endpoint name “{name}”, as {others} does; rename one.")
            continue
        path, raw = holders[0]
        names[path] = name
        if name != raw:
            report.note(
                at(path, "name"),
                f"“{raw}” becomes the endpoint name “{name}” (lowercase letters, digits and dashes); "
                "clients call it by that name.",
            )
    return names


def _endpoint(
    path: str, entry: dict, name: str, environment: Environment, book: KeyBook, report: Report
) -> EndpointPlan | None:
    for field_name in entry:
        if field_name not in ("name", "endpoint_type", "model", "limit"):
            report.skipped(
                at(path, field_name), "not imported: an endpoint's name, endpoint_type, model and limit are."
            )
    errors = len(report.of(ERROR))
    endpoint_type = _endpoint_type(at(path, "endpoint_type"), entry.get("endpoint_type"), report)
    rpm = _limit(at(path, "limit"), entry.get("limit"), report)
    model_path = at(path, "model")
    model_entry = mapping(report, model_path, entry.get("model"), optional=False)
    model = _model(name, model_path, model_entry, environment, book, report) if model_entry is not None else None
    if model is None or endpoint_type is None or len(report.of(ERROR)) > errors:
        return None
    return EndpointPlan(
        name=name,
        endpoint_type=endpoint_type,
        path=path,
        models=[model],
        rate_limit_rpm=rpm,
        paths={
            "name": at(path, "name"),
            "endpoint_type": at(path, "endpoint_type"),
            "rate_limit_rpm": at(path, "limit"),
            "weights": model_path,
        },
    )


def _endpoint_type(path: str, value: Any, report: Report) -> str | None:
    if value not in ENDPOINT_TYPES:
        report.error(path, f"Must be one of {', '.join(ENDPOINT_TYPES)}.")
        return None
    return ENDPOINT_TYPES[value]


def _limit(path: str, value: Any, report: Report) -> int | None:
    if value is None:
        return None
    limit = mapping(report, path, value, optional=False)
    if limit is None:
        return None
    calls, period = limit.get("calls"), limit.get("renewal_period")
    if isinstance(calls, bool) or not isinstance(calls, int) or calls < 1:
        report.error(at(path, "calls"), "Must be a whole number of at least 1.")
        return None
    for name in limit:
        if name not in ("calls", "renewal_period", "key"):
            report.skipped(at(path, name), "not imported: a limit's calls and renewal_period are.")
    if limit.get("key") is not None:
        report.skipped(
            at(path, "key"),
            "not imported: a limit per caller; the endpoint's limit counts every caller together "
            "(a gateway token can carry a limit of its own).",
        )
        return None
    if not isinstance(period, str) or period.strip().lower() not in MINUTE:
        report.skipped(
            at(path, "renewal_period"), "not imported: the gateway limits an endpoint's requests per minute only."
        )
        return None
    return calls


def _model(
    endpoint: str, path: str, entry: dict, environment: Environment, book: KeyBook, report: Report
) -> ModelPlan | None:
    for name in entry:
        if name not in ("provider", "name", "config"):
            report.skipped(at(path, name), "not imported: a model's provider, name and config are.")
    raw_provider = text_value(report, at(path, "provider"), entry.get("provider"), max_length=100)
    model_name = text_value(report, at(path, "name"), entry.get("name"), max_length=255)
    config_path = at(path, "config")
    config = mapping(report, config_path, entry.get("config"))
    if raw_provider is None or model_name is None or config is None:
        return None
    mlflow_provider = raw_provider.lower().replace("_", "-")
    if mlflow_provider in ("azure", "azuread"):  # as MLflow's own examples spell openai_api_type
        mlflow_provider, config = "openai", {"openai_api_type": mlflow_provider, **config}
    if mlflow_provider in UNSUPPORTED:
        report.error(
            at(path, "provider"),
            f"Cannot be imported: {UNSUPPORTED[mlflow_provider]}. Create the key on the Keys page and import "
            "the endpoint with the gateway's own format.",
        )
        return None
    spec = PROVIDERS.get(mlflow_provider)
    if spec is None:
        report.error(at(path, "provider"), f"“{raw_provider}” is not an MLflow provider the gateway can import.")
        return None
    provider, model_name, destination_extra = _provider(mlflow_provider, spec, model_name, config, path, report)
    if provider is None:
        return None
    key = _key(endpoint, provider, spec, config, config_path, destination_extra, environment, book, report)
    if key is None:
        return None
    return ModelPlan(
        provider=provider,
        model_name=model_name,
        key=key,
        weight=None,
        priority=1,
        litellm_params={},
        path=path,
        paths={
            "provider": at(path, "provider"),
            "model_name": at(path, "name"),
            "key_id": at(config_path, spec.secret),
        },
    )


def _provider(
    mlflow_provider: str, spec: Provider, model_name: str, config: dict, path: str, report: Report
) -> tuple[str | None, str, dict[str, str]]:
    """The gateway provider and model name, and destination fields the provider implies."""
    if mlflow_provider == "openai":
        api_type = config.get("openai_api_type") or "openai"
        api_type = api_type.lower() if isinstance(api_type, str) else api_type
        if api_type == "azuread":
            report.error(
                at(at(path, "config"), "openai_api_type"),
                "Azure AD tokens cannot be imported: a gateway Azure key holds an API key (openai_api_type azure).",
            )
            return None, model_name, {}
        if api_type == "azure":
            deployment = config.get("openai_deployment_name")
            if deployment is not None:
                deployment = text_value(report, at(at(path, "config"), "openai_deployment_name"), deployment)
                if deployment is None:
                    return None, model_name, {}
            return "azure", deployment or model_name, {}
        if api_type != "openai":
            report.error(at(at(path, "config"), "openai_api_type"), "Must be openai, azure or azuread.")
            return None, model_name, {}
        return "openai", model_name, {}
    if mlflow_provider == "litellm":
        given = config.get("litellm_provider")
        if given is not None:
            given = text_value(report, at(at(path, "config"), "litellm_provider"), given, max_length=64)
            if given is None:
                return None, model_name, {}
            if not catalog.is_provider(given):
                report.error(at(at(path, "config"), "litellm_provider"), catalog.unknown_provider_message(given))
                return None, model_name, {}
            return given, model_name.removeprefix(f"{given}/"), {}
        prefix, slash, rest = model_name.partition("/")
        if slash and rest and catalog.is_provider(prefix):
            return prefix, rest, {}
        report.error(at(path, "name"), "Write it as provider/model, or set model.config.litellm_provider.")
        return None, model_name, {}
    for candidate in spec.candidates:
        if catalog.get_model(candidate, model_name) is not None:
            return candidate, model_name, {}
    return spec.candidates[0], model_name, {}


def _key(
    endpoint: str,
    provider: str,
    spec: Provider,
    config: dict,
    path: str,
    destination: dict[str, str],
    environment: Environment,
    book: KeyBook,
    report: Report,
) -> KeyPlan | None:
    destination = dict(destination)
    paths = {"provider": at(path.rsplit(".", 1)[0], "provider")}
    paths |= {field: at(path, name) for name, field in spec.destination.items()}
    ok = True
    for name, value in config.items():
        where = at(path, name)
        if name == spec.secret or name in spec.consumed:
            continue
        if name in spec.destination:
            text = text_value(report, where, value)
            if text is None:
                ok = False
                continue
            destination[spec.destination[name]] = text
            paths[spec.destination[name]] = where
        elif SAME_AS_GATEWAY.get(name) == value:
            continue
        else:
            report.skipped(where, "not imported: the gateway's key holds a secret and where it is sent, nothing else.")
    if config.get(spec.secret) is None and catalog.is_self_hosted(provider):
        secret, secret_from = "", ""  # a server of your own may take no key
    else:
        secret, secret_from = _secret(at(path, spec.secret), config.get(spec.secret), environment, report)
    if not ok or secret is None:
        return None
    if own_api_base(provider, destination.get("api_base", "")):
        destination.pop("api_base")
    paths["secret"] = at(path, spec.secret)
    return book.key_for(endpoint, provider, secret, destination, secret_from=secret_from, paths=paths)


def _secret(path: str, value: Any, environment: Environment, report: Report) -> tuple[str | None, str]:
    """The secret (resolving ``$NAME`` as MLflow does) and where it came from, or None (reported)."""
    if value is None:
        report.error(path, "Missing: the key's secret, or $NAME to read it from an environment variable.")
        return None, ""
    if not isinstance(value, str) or not value.strip():
        report.error(path, f"Must be the secret or $NAME, not {kind(value) if value else 'empty'}.")
        return None, ""
    value = value.strip()
    if value.startswith(REFERENCE):
        name = value[len(REFERENCE) :]
        if not ENV_NAME.match(name):
            report.error(path, "The reference does not name an environment variable (letters, digits, underscores).")
            return None, ""
        return environment.resolve(report, path, name), value
    if value.startswith(("/", "~", "./", "../")):
        report.error(
            path,
            "Looks like a file path: the importer reads no files. Put the secret in an environment variable "
            "and write $NAME.",
        )
        return None, ""
    return value, ""


def _route(
    path: str, route: dict, name: str, endpoints: dict[str, EndpointPlan | None], report: Report
) -> EndpointPlan | None:
    """A traffic route: one endpoint over its destinations' models, weighted by their percentages."""
    for field_name in route:
        if field_name not in ("name", "task_type", "destinations", "routing_strategy"):
            report.skipped(at(path, field_name), "not imported: a route's name, task_type and destinations are.")
    errors = len(report.of(ERROR))
    endpoint_type = _endpoint_type(at(path, "task_type"), route.get("task_type"), report)
    strategy = route.get("routing_strategy", "TRAFFIC_SPLIT")
    if strategy != "TRAFFIC_SPLIT":
        report.error(at(path, "routing_strategy"), "Must be TRAFFIC_SPLIT, the one strategy MLflow has.")
    destinations = route.get("destinations")
    if not isinstance(destinations, list) or not destinations:
        report.error(at(path, "destinations"), "Must be a non-empty list of endpoints and their traffic_percentage.")
        return None
    models, total = [], 0
    for index, destination in enumerate(destinations):
        where = item(at(path, "destinations"), index)
        if not isinstance(destination, dict):
            report.error(where, f"Must be a mapping with name and traffic_percentage, not {kind(destination)}.")
            continue
        target = destination.get("name")
        percentage = destination.get("traffic_percentage")
        if not isinstance(target, str) or target.strip() not in endpoints:
            report.error(at(where, "name"), "Must name one of the config's endpoints.")
            continue
        if isinstance(percentage, bool) or not isinstance(percentage, int) or not 0 < percentage <= 100:
            report.error(at(where, "traffic_percentage"), "Must be a whole number from 1 to 100.")
            continue
        total += percentage
        plan = endpoints[target.strip()]
        if plan is None:
            report.error(at(where, "name"), "Names an endpoint that cannot be imported (see its errors).")
            continue
        if endpoint_type is not None and plan.endpoint_type != endpoint_type:
            report.error(at(where, "name"), f"Names a {plan.endpoint_type} endpoint; the route is {endpoint_type}.")
            continue
        models.append(
            replace(
                plan.models[0],
                weight=percentage / 100 if len(destinations) > 1 else None,
                path=where,
                paths={**plan.models[0].paths, "weight": at(where, "traffic_percentage")},
            )
        )
    if len(report.of(ERROR)) > errors or endpoint_type is None:
        return None
    if total != 100:
        report.error(at(path, "destinations"), f"The traffic percentages sum to {total}; they must sum to 100.")
        return None
    return EndpointPlan(
        name=name,
        endpoint_type=endpoint_type,
        path=path,
        models=models,
        paths={"name": at(path, "name"), "endpoint_type": at(path, "task_type"), "weights": at(path, "destinations")},
    )
