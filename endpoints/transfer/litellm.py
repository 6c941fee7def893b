"""A LiteLLM proxy config (``model_list:``) read into a plan.

Every ``model_list`` entry is one deployment; the deployments sharing a
``model_name`` become one endpoint (named after it, in the endpoint name
rules) whose models they are. Per deployment:

* ``litellm_params.model`` (``provider/model``) is split on the first ``/``
  when the prefix is a catalog provider; a bare name is looked up in the
  catalog (``gpt-4o`` is openai's, as LiteLLM reads it). ``custom_llm_provider``
  names the provider instead of a prefix.
* ``api_key`` (or ``vertex_credentials`` for vertex_ai, or for bedrock an
  access key: ``aws_access_key_id``, ``aws_secret_access_key`` and
  ``aws_session_token``) is the key's secret;
  ``api_base``/``base_url``, ``api_version``, ``organization``,
  ``aws_region_name``/``region_name``/``vertex_location`` and
  ``vertex_project``/``project_id`` its destination. Any of them may be
  ``os.environ/NAME``, resolved as LiteLLM does when the proxy starts
  (from the config's own ``environment_variables`` first).
* ``weight`` is the share among the deployments of the same ``order``
  (LiteLLM's weights are relative: 9 and 1 become 0.9 and 0.1), ``order``
  the priority, and the tuning parameters the gateway allows
  (``endpoints.validation.ALLOWED_LITELLM_PARAMS``: ``rpm``, ``tpm``,
  ``timeout``, ...) stay the model's ``litellm_params``.
* ``model_info.mode`` decides the endpoint type when given; otherwise the
  catalog's mode of the models does (chat when none is known).

Credentials a gateway key cannot hold (an AWS role or profile, an Azure AD
token, extra headers) are errors; anything else the gateway does not carry over
(other parameters, ``router_settings``, ``general_settings``, ...) is
reported as skipped, path by path.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.core.exceptions import ValidationError

from catalog import services as catalog
from endpoints.transfer.base import (
    ENV_NAME,
    ERROR,
    EndpointPlan,
    Environment,
    KeyBook,
    ModelPlan,
    Plan,
    Report,
    at,
    endpoint_name,
    is_endpoint_type,
    item,
    kind,
    mapping,
    own_api_base,
    providers_listing,
    text_value,
    types_for_mode,
)
from endpoints.validation import ALLOWED_LITELLM_PARAMS, MAX_PRIORITY
from gatewaylib.endpoint_types import ENDPOINT_TYPES
from keys import aws

FORMAT = "litellm"
REFERENCE = "os.environ/"
MAX_DEPLOYMENTS = 1000

# litellm_params -> the key field it sets.
DESTINATION = {
    "api_base": "api_base",
    "base_url": "api_base",
    "api_version": "api_version",
    "organization": "organization",
    "aws_region_name": "region",
    "region_name": "region",
    "vertex_location": "region",
    "vertex_project": "project",
    "project_id": "project",
}
DEFAULT_PARAM = {
    "api_base": "api_base",
    "api_version": "api_version",
    "organization": "organization",
    "region": "aws_region_name",
    "project": "vertex_project",
}
SECRETS = ("api_key", "vertex_credentials")
# Credentials and headers a gateway key has no place for: importing without them would send no credential.
UNMAPPABLE = {
    "aws_role_name": "an AWS role",
    "aws_profile_name": "an AWS profile",
    "azure_ad_token": "an Azure AD token",
    "azure_ad_token_provider": "an Azure AD token provider",
    "extra_headers": "extra headers",
    "headers": "extra headers",
    "aws_bedrock_runtime_endpoint": "a Bedrock runtime endpoint",
}
HANDLED = {"model", "custom_llm_provider", "weight", "order", *DESTINATION, *SECRETS, *aws.FIELDS}
TOP_LEVEL_SKIPPED = {
    "router_settings": "not imported: the gateway's Router settings apply (weights, priorities and cooldowns come "
    "from each endpoint).",
    "general_settings": "not imported: the gateway's own settings (its environment) apply.",
    "litellm_settings": "not imported: LiteLLM settings of the proxy are not carried over.",
}
MAX_SECTION_LINES = 50


def read(document: dict[str, Any], environment: Environment, book: KeyBook) -> Plan:
    plan = Plan(format=FORMAT)
    report = plan.report
    environment = _with_file_variables(document, environment, report)
    _skip_sections(document, report)
    entries = document.get("model_list")
    if not isinstance(entries, list):
        report.error("model_list", f"Must be a list of deployments, not {kind(entries)}.")
        return plan
    if not entries:
        report.error("model_list", "Lists no deployment: there is nothing to import.")
        return plan
    if len(entries) > MAX_DEPLOYMENTS:
        report.error("model_list", f"Lists {len(entries)} deployments; import at most {MAX_DEPLOYMENTS} at once.")
        return plan
    groups: dict[str, list[tuple[str, dict, str]]] = defaultdict(list)  # model_name -> (path, entry, name path)
    for index, entry in enumerate(entries):
        path = item("model_list", index)
        if not isinstance(entry, dict):
            report.error(path, f"Must be a mapping with model_name and litellm_params, not {kind(entry)}.")
            continue
        name = text_value(report, at(path, "model_name"), entry.get("model_name"), max_length=255)
        if name is not None:
            groups[name].append((path, entry, at(path, "model_name")))
    names = _endpoint_names(groups, report)
    for raw, deployments in groups.items():
        if raw in names:
            endpoint = _endpoint(names[raw], deployments, environment, book, report)
            if endpoint is not None:
                plan.endpoints.append(endpoint)
    plan.keys = book.keys
    return plan


def _with_file_variables(document: dict[str, Any], environment: Environment, report: Report) -> Environment:
    """The config's ``environment_variables`` over ``environment``: LiteLLM sets them before reading references."""
    variables = document.get("environment_variables")
    if variables is None:
        return environment
    if not isinstance(variables, dict):
        report.error("environment_variables", f"Must be a mapping of names to values, not {kind(variables)}.")
        return environment
    values = {}
    for name, value in variables.items():
        path = at("environment_variables", name)
        if not isinstance(name, str) or not ENV_NAME.match(name):
            report.error(path, "Not an environment variable name (letters, digits, underscores).")
        elif isinstance(value, str | int | float) and not isinstance(value, bool):
            values[name] = str(value)
        else:
            report.error(path, f"Must be text, not {kind(value)}.")
    return environment.with_overlay(values)


def _skip_sections(document: dict[str, Any], report: Report) -> None:
    for section, value in document.items():
        if section in ("model_list", "environment_variables"):
            continue
        message = TOP_LEVEL_SKIPPED.get(section, "not imported: the gateway has no counterpart of this section.")
        if isinstance(value, dict) and value and section in TOP_LEVEL_SKIPPED:
            for number, name in enumerate(value):
                if number == MAX_SECTION_LINES:
                    report.skipped(at(section, "…"), f"and {len(value) - number} more settings, not imported.")
                    break
                report.skipped(at(section, name), message)
        else:
            report.skipped(at("", section), message)


def _endpoint_names(groups: dict[str, list], report: Report) -> dict[str, str]:
    """model_name -> endpoint name, for the names that make a valid one and only one endpoint."""
    by_name: dict[str, list[str]] = defaultdict(list)
    for raw in groups:
        by_name[endpoint_name(raw)].append(raw)
    names = {}
    for name, raws in by_name.items():
        first_path = groups[raws[0]][0][2]
        if not name:
            for raw in raws:
                report.error(groups[raw][0][2], "Cannot become an endpoint name: it has no letter or digit.")
        elif len(raws) > 1:
            for raw in raws:
                others = ", ".join(f"“{other}”" for other in raws if other != raw)
                report.error(
                    groups[raw][0][2], f"Becomes the endpoint name “{name}”, as {others} does; rename one of them."
                )
        else:
            names[raws[0]] = name
            if name != raws[0]:
                report.note(
                    first_path,
                    f"“{raws[0]}” becomes the endpoint name “{name}” (lowercase letters, digits and dashes); "
                    "clients call it by that name.",
                )
    return names


def _endpoint(
    name: str, deployments: list[tuple[str, dict, str]], environment: Environment, book: KeyBook, report: Report
) -> EndpointPlan | None:
    first_path = deployments[0][0]
    endpoint = EndpointPlan(name=name, endpoint_type="chat", path=first_path, paths={"name": deployments[0][2]})
    modes: list[tuple[str, str | None]] = []  # (path, the mode known for the deployment)
    weights: dict[int, list[tuple[ModelPlan, Any, str]]] = defaultdict(list)
    failed = False
    for path, entry, _ in deployments:
        read_model = _model(name, path, entry, environment, book, report)
        if read_model is None:
            failed = True
            continue
        model, mode, weight = read_model
        endpoint.models.append(model)
        modes.append((path, mode))
        weights[model.priority].append((model, weight, model.where("weight")))
    if failed:
        return None
    endpoint_type = _endpoint_type(name, modes, report)
    if endpoint_type is None or not _set_weights(name, weights, report):
        return None
    endpoint.endpoint_type = endpoint_type
    return endpoint


def _model(
    endpoint: str, path: str, entry: dict, environment: Environment, book: KeyBook, report: Report
) -> tuple[ModelPlan, str | None, Any] | None:
    for name in entry:
        if name not in ("model_name", "litellm_params", "model_info"):
            report.skipped(
                at(path, name), "not imported: a deployment's model_name, litellm_params and model_info are."
            )
    params_path = at(path, "litellm_params")
    params = mapping(report, params_path, entry.get("litellm_params"), optional=False)
    info = mapping(report, at(path, "model_info"), entry.get("model_info"))
    if params is None or info is None:
        return None
    errors = len(report.of(ERROR))
    resolved = _resolve(params, params_path, environment, report)
    provider, model_name = _provider_and_model(resolved, params_path, report)
    tuning = _tuning(params, params_path, report)
    for name, what in UNMAPPABLE.items():
        if name in params:
            report.error(
                at(params_path, name),
                f"A gateway key cannot hold {what}: create the key on the Keys page (a secret and where it is "
                "sent) and import the endpoint with the gateway's own format.",
            )
    priority = _priority(params.get("order"), at(params_path, "order"), report)
    mode = _mode(info, at(path, "model_info"), report)
    if len(report.of(ERROR)) > errors or provider is None or model_name is None:
        return None
    key = _key(endpoint, provider, resolved, params_path, report, book)
    if key is None:
        return None
    if mode is None and (entry_in_catalog := catalog.get_model(provider, model_name)) is not None:
        mode = entry_in_catalog["mode"]
    model = ModelPlan(
        provider=provider,
        model_name=model_name,
        key=key,
        weight=None,
        priority=priority,
        litellm_params=tuning,
        path=path,
        paths={
            "provider": at(params_path, "model"),
            "model_name": at(params_path, "model"),
            "key_id": at(params_path, "api_key"),
            "weight": at(params_path, "weight"),
            "priority": at(params_path, "order"),
            "litellm_params": params_path,
        },
    )
    return model, mode, params.get("weight")


def _resolve(params: dict, path: str, environment: Environment, report: Report) -> dict[str, Any]:
    """The parameters with ``os.environ/NAME`` values replaced, and where each came from (``<name>__from``)."""
    resolved: dict[str, Any] = {}
    for name, value in params.items():
        if isinstance(value, str) and value.startswith(REFERENCE):
            resolved[name] = environment.resolve(report, at(path, name), value[len(REFERENCE) :])
            resolved[f"{name}__from"] = value
        else:
            resolved[name] = value
    return resolved


def _provider_and_model(params: dict, path: str, report: Report) -> tuple[str | None, str | None]:
    where = at(path, "model")
    model = params.get("model")
    if model is None:
        report.error(where, "Missing: every deployment names its model (provider/model).")
        return None, None
    model = text_value(report, where, model, max_length=400)
    if model is None:
        return None, None
    custom = params.get("custom_llm_provider")
    if custom is not None:
        custom = text_value(report, at(path, "custom_llm_provider"), custom, max_length=64)
        if custom is None:
            return None, None
        if not catalog.is_provider(custom):
            report.error(at(path, "custom_llm_provider"), catalog.unknown_provider_message(custom))
            return None, None
        return custom, model.removeprefix(f"{custom}/")
    prefix, slash, rest = model.partition("/")
    if slash and catalog.is_provider(prefix) and rest:
        return prefix, rest
    listed = providers_listing(model)
    if "openai" in listed:
        return "openai", model  # LiteLLM reads a bare OpenAI model name as openai's
    if len(listed) == 1:
        return listed[0], model
    if slash and not listed:
        report.error(where, f"“{prefix}” is not a provider this gateway knows; write the model as provider/model.")
    elif listed:
        report.error(
            where, f"“{model}” is listed by several providers ({', '.join(listed)}); write it as provider/model."
        )
    else:
        report.error(where, f"The catalog does not know “{model}”; write it as provider/model.")
    return None, None


def _tuning(params: dict, path: str, report: Report) -> dict[str, Any]:
    tuning = {}
    for name, value in params.items():
        if name in HANDLED or name in UNMAPPABLE:
            continue
        check = ALLOWED_LITELLM_PARAMS.get(name)
        if check is None:
            report.skipped(at(path, name), "not imported: the gateway does not set this parameter per model.")
        elif isinstance(value, str) and value.startswith(REFERENCE):
            report.error(at(path, name), "Must be a value, not an environment reference.")
        elif problem := check(value):
            report.error(at(path, name), f"{name} {problem}.")
        else:
            tuning[name] = value
    return tuning


def _priority(value: Any, path: str, report: Report) -> int:
    if value is None:
        return 1
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_PRIORITY:
        report.error(path, f"Must be a whole number from 1 to {MAX_PRIORITY} (1 is tried first).")
        return 1
    return value


def _mode(info: dict, path: str, report: Report) -> str | None:
    for name in info:
        if name != "mode":
            report.skipped(at(path, name), "not imported: only model_info.mode is read (it sets the endpoint type).")
    mode = info.get("mode")
    if mode is None:
        return None
    if not isinstance(mode, str) or not types_for_mode(mode):
        known = ", ".join(entry.value for entry in ENDPOINT_TYPES)
        report.error(at(path, "mode"), f"Not a kind of endpoint the gateway serves ({known}).")
        return None
    return mode


def _key(endpoint: str, provider: str, params: dict, path: str, report: Report, book: KeyBook):
    destination: dict[str, str] = {}
    # Where a refusal of each key field points: the parameter that set it, else the one that would.
    paths = {"provider": at(path, "model"), **{field: at(path, name) for field, name in DEFAULT_PARAM.items()}}
    for name, field in DESTINATION.items():
        if name not in params:
            continue
        value = params[name]
        if value is None:
            continue  # an unset variable, already reported
        if not isinstance(value, str):
            report.error(at(path, name), f"Must be text, not {kind(value)}.")
            return None
        if destination.get(field) and destination[field] != value.strip():
            report.error(at(path, name), f"Sets the key's {field} a second time, to another value.")
            return None
        destination[field] = value.strip()
        paths[field] = at(path, name)
    if own_api_base(provider, destination.get("api_base", "")):
        destination.pop("api_base")  # the provider's own API: a plain key, whose models the catalog checks
    secret_name = next((name for name in SECRETS if params.get(name) is not None), None)
    if secret_name == "vertex_credentials" and provider != "vertex_ai":
        report.error(at(path, secret_name), "Only a vertex_ai deployment takes vertex_credentials.")
        return None
    if secret_name == "vertex_credentials" and not str(params[secret_name]).lstrip().startswith("{"):
        report.error(
            at(path, secret_name),
            "Must be the service account's JSON itself: the importer reads no files.",
        )
        return None
    if any(f"{name}__from" in params and params[name] is None for name in (*SECRETS, *DESTINATION, *aws.FIELDS)):
        return None  # a reference that did not resolve (reported)
    if any(name in params for name in aws.FIELDS):
        return _aws_key(endpoint, provider, params, path, report, book, secret_name, destination, paths)
    secret = params.get(secret_name) if secret_name else ""
    if not isinstance(secret, str):
        report.error(at(path, secret_name), f"Must be text, not {kind(secret)}.")
        return None
    if not secret and not catalog.is_self_hosted(provider):
        report.error(
            at(path, "api_key"),
            "Missing: LiteLLM would read the provider's variable from its environment, the gateway needs the "
            "key; write api_key: os.environ/NAME.",
        )
        return None
    paths["secret"] = at(path, secret_name or "api_key")
    return book.key_for(
        endpoint,
        provider,
        secret,
        destination,
        secret_from=params.get(f"{secret_name}__from", "") if secret_name else "",
        paths=paths,
    )


def _aws_key(
    endpoint: str,
    provider: str,
    params: dict,
    path: str,
    report: Report,
    book: KeyBook,
    secret_name: str | None,
    destination: dict[str, str],
    paths: dict[str, str],
):
    """A Bedrock key signing with the deployment's AWS access key (the keys service's rules, reported here)."""
    if secret_name is not None:
        report.error(at(path, secret_name), "Give either an api_key or an AWS access key, not both.")
        return None
    values = {name: params.get(name) for name in aws.FIELDS}
    if wrong := [name for name, value in values.items() if value is not None and not isinstance(value, str)]:
        for name in wrong:
            report.error(at(path, name), f"Must be text, not {kind(values[name])}.")
        return None
    try:
        secret = aws.compose(provider, values)
    except ValidationError as exc:
        for name, messages in exc.message_dict.items():
            for message in messages:
                report.error(at(path, name), message)
        return None
    paths["secret"] = at(path, aws.SECRET_ACCESS_KEY)
    return book.key_for(
        endpoint,
        provider,
        secret or "",
        destination,
        secret_from=params.get(f"{aws.SECRET_ACCESS_KEY}__from", ""),
        paths=paths,
    )


def _endpoint_type(name: str, modes: list[tuple[str, str | None]], report: Report) -> str | None:
    """The one type every deployment can serve: the first known mode's own, chat when no mode is known."""
    candidates = [entry.value for entry in ENDPOINT_TYPES]
    for _, mode in modes:
        if mode is not None:
            candidates = [value for value in candidates if value in types_for_mode(mode)]
    if not candidates:
        known = sorted({mode for _, mode in modes if mode})
        report.error(
            modes[0][0],
            f"The deployments of “{name}” are of different kinds ({', '.join(known)}): one endpoint serves one kind.",
        )
        return None
    preferred = [types_for_mode(mode)[0] for _, mode in modes if mode is not None]
    for value in [*preferred, "chat"]:
        if value in candidates and is_endpoint_type(value):
            return value
    return candidates[0]


def _set_weights(name: str, groups: dict[int, list[tuple[ModelPlan, Any, str]]], report: Report) -> bool:
    """Turn LiteLLM's relative weights into the gateway's shares (each priority's sum to 1)."""
    ok = True
    for priority, members in sorted(groups.items()):
        given = [weight for _, weight, _ in members if weight is not None]
        for _, weight, path in members:
            if weight is not None and (
                isinstance(weight, bool) or not isinstance(weight, int | float) or not 0 < weight < float("inf")
            ):
                report.error(path, "Must be a number greater than 0.")
                ok = False
        if not ok:
            continue
        if not given:
            if len(members) > 1:
                for model, _, _ in members:
                    model.weight = 1 / len(members)
            continue
        if len(given) < len(members):
            for model, weight, _ in members:
                if weight is None:
                    report.error(
                        model.where("weight"),
                        f"Missing: the other deployments of “{name}” with order {priority} have a weight; "
                        "give each of them one, or none.",
                    )
            ok = False
            continue
        total = float(sum(given))
        for model, weight, _ in members:
            model.weight = weight / total if len(members) > 1 else None
        if len(members) > 1 and abs(total - 1.0) > 1e-9:
            shares = ", ".join(f"{weight:g}" for _, weight, _ in members)
            result = ", ".join(f"{model.weight:.4g}" for model, _, _ in members)
            report.note(
                members[0][2],
                f"The weights {shares} of “{name}” (order {priority}) are shares of their sum: {result}.",
            )
    return ok
