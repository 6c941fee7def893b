"""Import and export: the one place the commands, the API and the import page call.

``import_config`` reads a document (size-capped, ``yaml.safe_load`` only),
detects or checks its format, reads it into a plan and applies the plan in
one transaction through the normal services (``keys.services.create_key``,
``endpoints.services.create_endpoint``): the importer becomes the manager of
every key and endpoint created, and the audit trail and revision 1 are
written as for any other creation. Every entry is tried, each in a
savepoint, so one run reports every problem; then, if there was any error
(or for a dry run), the whole transaction is rolled back. A dry run is
therefore checked exactly as the import would be, and creates nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import yaml
from django.core.exceptions import ValidationError
from django.db import transaction

from endpoints import services as endpoint_services
from endpoints.models import Endpoint
from endpoints.transfer import litellm, mlflow, native
from endpoints.transfer.base import (
    DOCUMENT,
    ERROR,
    NOTE,
    SKIPPED,
    EndpointPlan,
    Environment,
    ImportRefused,
    KeyBook,
    KeyPlan,
    Line,
    Plan,
    Report,
    refuse,
)
from endpoints.validation import ModelSpec
from gatewaylib import errors
from keys import services as key_services
from keys.models import Key
from sharing.levels import Level

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

logger = logging.getLogger(__name__)

MAX_DOCUMENT_BYTES = 1024 * 1024
FORMATS = {
    litellm.FORMAT: "LiteLLM proxy config (model_list)",
    mlflow.FORMAT: "MLflow AI Gateway config (endpoints)",
    native.FORMAT: "AI Gateway export (gateway_export: 1)",
}
AUTO = "auto"


@dataclass
class ImportResult:
    """What an import created (or, for a dry run, would create), and its report."""

    format: str
    dry_run: bool
    endpoints: list[EndpointPlan]
    keys: list[KeyPlan]
    lines: list[Line]
    existing_keys: list[Key] = field(default_factory=list)

    @property
    def format_label(self) -> str:
        return FORMATS[self.format]

    def of(self, level: str) -> list[Line]:
        return [line for line in self.lines if line.level == level]

    @property
    def skipped_lines(self) -> list[Line]:
        return self.of(SKIPPED)

    @property
    def note_lines(self) -> list[Line]:
        return self.of(NOTE)

    def as_dict(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "dry_run": self.dry_run,
            "endpoints": [endpoint.as_dict() for endpoint in self.endpoints],
            "keys": [key.as_dict() for key in self.keys],
            "report": [line.as_dict() for line in self.lines],
        }


# -- reading the document ---------------------------------------------------------------------------


def read_upload(upload: Any) -> str:
    """An uploaded file's text: at most ``MAX_DOCUMENT_BYTES``, UTF-8 (a ``ValidationError`` otherwise)."""
    data = upload.read(MAX_DOCUMENT_BYTES + 1)
    if len(data) > MAX_DOCUMENT_BYTES:
        raise refuse(_too_large())
    return decode(data)


def decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise refuse("The file is not UTF-8 text.") from None


def _too_large() -> str:
    return f"The file is larger than {MAX_DOCUMENT_BYTES // (1024 * 1024)} MiB."


def check_size(text: str) -> None:
    """Refuse a document over ``MAX_DOCUMENT_BYTES`` (as UTF-8)."""
    if len(text) > MAX_DOCUMENT_BYTES or len(text.encode("utf-8", "surrogatepass")) > MAX_DOCUMENT_BYTES:
        raise refuse(_too_large())


def load(text: str) -> Any:
    """The document in ``text``, with ``yaml.safe_load``; a refusal that repeats none of the text otherwise."""
    check_size(text)
    if not text.strip():
        raise refuse("The file is empty.")
    try:
        return yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        problem = (exc.problem or exc.context or "unreadable")[:200]
        raise refuse(f"Not valid YAML{where}: {problem}.") from None
    except yaml.YAMLError:
        raise refuse("Not valid YAML: it contains characters YAML does not allow.") from None
    except RecursionError:
        raise refuse("Not valid here: the YAML is nested too deeply.") from None
    except (ValueError, TypeError, OverflowError):
        raise refuse("Not valid YAML: a value cannot be read (a date or number out of range).") from None


def detect(document: Any, wanted: str = AUTO) -> str:
    """The format of a loaded document: ``wanted``, checked, or told by its top-level keys."""
    if not isinstance(document, dict):
        raise refuse(
            "The file must be a YAML mapping: a LiteLLM config has model_list, an MLflow config endpoints, "
            "a gateway export gateway_export: 1."
        )
    if wanted not in (AUTO, *FORMATS):
        raise refuse(f"Unknown format; choose one of {', '.join(FORMATS)}.", "format")
    found = []
    if native.MARKER in document:
        found.append(native.FORMAT)
    elif "model_list" in document or "endpoints" in document:
        found += [litellm.FORMAT] if "model_list" in document else []
        found += [mlflow.FORMAT] if "endpoints" in document else []
    if wanted != AUTO:
        if wanted not in found:
            top = {litellm.FORMAT: "model_list", mlflow.FORMAT: "endpoints", native.FORMAT: "gateway_export: 1"}[wanted]
            raise refuse(f"This file has no top-level {top}, so it is not in the {wanted} format ({FORMATS[wanted]}).")
        return wanted
    if len(found) != 1:
        if found:
            raise refuse("Has both model_list (LiteLLM) and endpoints (MLflow): choose the format.")
        raise refuse(
            "Cannot tell the format: a LiteLLM config has model_list, an MLflow config endpoints, "
            "a gateway export gateway_export: 1."
        )
    return found[0]


# -- importing ----------------------------------------------------------------------------------------


def import_config(
    text: str,
    *,
    actor: AbstractBaseUser,
    format: str = AUTO,
    dry_run: bool = False,
    environment: Environment | None = None,
) -> ImportResult:
    """Import ``text`` as ``actor``; raise ``ImportRefused`` (a ``ValidationError``) when anything is wrong.

    ``environment`` answers ``os.environ/NAME`` and ``$NAME`` references:
    the process environment for the commands, the values given with the
    upload for the API and the page (None: no values at all).
    """
    document = load(text)
    format = detect(document, format)
    environment = environment or Environment.given({})
    plan = _read(format, document, actor, environment)
    with transaction.atomic():
        _apply(plan, actor)
        refused = plan.report.has_errors
        if refused or dry_run:
            transaction.set_rollback(True)
    result = ImportResult(format, dry_run, plan.endpoints, plan.keys, plan.report.lines, _existing_keys(plan))
    counts = f"format={format} endpoints={len(plan.endpoints)} keys={len(plan.keys)} by={actor.pk}"
    if refused or dry_run:
        # Rolled back: the rows these point at are gone.
        for endpoint in plan.endpoints:
            endpoint.endpoint = None
        for key in plan.keys:
            key.key = None
    if refused:
        logger.info("endpoint import refused (nothing created) errors=%d %s", len(plan.report.of(ERROR)), counts)
        raise ImportRefused(plan.report.lines, format)
    logger.info(
        "endpoint import dry run (rolled back, nothing created) %s" if dry_run else "endpoints imported %s", counts
    )
    return result


def _read(format: str, document: dict[str, Any], actor: Any, environment: Environment) -> Plan:
    if format == native.FORMAT:
        return native.read(document, actor)
    book = KeyBook(Key.objects.visible_to(actor, Level.READ).values_list("name", flat=True))
    reader = litellm.read if format == litellm.FORMAT else mlflow.read
    plan = reader(document, environment, book)
    # Only the keys an endpoint to create needs (not those of an entry that failed).
    used = {id(model.key) for endpoint in plan.endpoints for model in endpoint.models}
    plan.keys = [key for key in plan.keys if id(key) in used]
    return plan


def _existing_keys(plan: Plan) -> list[Key]:
    seen: dict[Any, Key] = {}
    for endpoint in plan.endpoints:
        for model in endpoint.models:
            if not isinstance(model.key, KeyPlan):
                seen.setdefault(model.key.key.pk, model.key.key)
    return list(seen.values())


def _apply(plan: Plan, actor: Any) -> None:
    """Create the plan's keys, then its endpoints, each in a savepoint; every refusal goes into the report."""
    report = plan.report
    for key in plan.keys:
        try:
            with transaction.atomic():
                key.key = key_services.create_key(
                    actor=actor, name=key.name, provider=key.provider, secret=key.secret, **key.destination
                )
        except ValidationError as exc:
            key.failed = True
            for field_name, message in _messages(exc):
                report.error(key.paths.get(field_name) or key.paths.get("secret", ""), message)
    for endpoint in plan.endpoints:
        if any(model.key.failed for model in endpoint.models):
            continue  # the key's errors are reported
        if Endpoint.objects.filter(name=endpoint.name).exists():
            report.error(endpoint.where("name"), f"An endpoint named “{endpoint.name}” already exists.")
            continue
        specs = [
            ModelSpec(
                provider=model.provider,
                model_name=model.model_name,
                key_id=model.key.key.public_id,
                weight=model.weight,
                priority=model.priority,
                litellm_params=model.litellm_params,
            )
            for model in endpoint.models
        ]
        try:
            with transaction.atomic():
                endpoint.endpoint = endpoint_services.create_endpoint(
                    actor=actor,
                    models=specs,
                    name=endpoint.name,
                    endpoint_type=endpoint.endpoint_type,
                    description=endpoint.description,
                    rate_limit_rpm=endpoint.rate_limit_rpm,
                    rate_limit_tpm=endpoint.rate_limit_tpm,
                )
        except ValidationError as exc:
            _report_endpoint_errors(endpoint, exc, report)


def _messages(error: ValidationError) -> list[tuple[str, str]]:
    """(field, message) for each message of a flat service refusal."""
    body = errors.detail(error)
    return [(name, message) for name, messages in body.items() for message in errors.texts(messages)]


def _report_endpoint_errors(endpoint: EndpointPlan, error: ValidationError, report: Report) -> None:
    """Put each of ``create_endpoint``'s refusals on the YAML path of what it is about."""
    for name, value in errors.detail(error).items():
        if name == "models" and isinstance(value, list) and any(isinstance(entry, dict) for entry in value):
            for model, problems in zip(endpoint.models, value, strict=False):
                for model_field, messages in (problems or {}).items():
                    for message in errors.texts(messages):
                        report.error(model.where(model_field), message)
        else:
            for message in errors.texts(value):
                report.error(endpoint.where(name), message)


# -- exporting ---------------------------------------------------------------------------------------


def export_endpoints(user: AbstractBaseUser | None = None) -> str:
    """Every endpoint ``user`` can READ (every endpoint without a user, for the command) as the gateway's format."""
    endpoints = Endpoint.objects.all() if user is None else Endpoint.objects.visible_to(user, Level.READ)
    return native.export_document(endpoints)


__all__ = [
    "AUTO",
    "DOCUMENT",
    "FORMATS",
    "MAX_DOCUMENT_BYTES",
    "ImportResult",
    "check_size",
    "decode",
    "detect",
    "export_endpoints",
    "import_config",
    "load",
    "read_upload",
]
