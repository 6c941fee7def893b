"""Business rules for endpoints: create, change, delete, revisions and bindings.

The API, the UI, the admin and tasks call these functions; views only parse
input and pick the permission level. Start/stop live in ``lifecycle``.
Whoever saves an endpoint's rows (these functions, or the admin's own forms)
then calls ``record_change``, so what follows a save is written once.
Refusals are Django ``ValidationError``s; ``gatewaylib.errors`` reads them
for the API, the forms and the admin.
"""

from __future__ import annotations

import logging
import uuid
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Max
from django.http import Http404

from audit import services as audit
from endpoints.models import Binding, Endpoint, EndpointModel, Revision, Status
from endpoints.validation import ModelSpec, ValidModel, validate_models
from gatewaylib import errors
from gatewaylib.errors import Conflict
from gatewaylib.invalidation import changed
from sharing import services as sharing

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

logger = logging.getLogger(__name__)

ENDPOINT_FIELDS = ("name", "endpoint_type", "description", "rate_limit_rpm", "rate_limit_tpm")


def model_snapshot(model: EndpointModel) -> dict[str, Any]:
    return {
        "id": model.public_id,
        "provider": model.provider,
        "model_name": model.model_name,
        "key_id": model.key_id.hex,
        "weight": model.weight,
        "priority": model.priority,
        "litellm_params": model.litellm_params,
    }


def snapshot(endpoint: Endpoint) -> dict[str, Any]:
    """The endpoint's whole configuration, without secrets (keys by id only)."""
    config = {field: getattr(endpoint, field) for field in ENDPOINT_FIELDS}
    config["models"] = [model_snapshot(model) for model in endpoint.models.all()]
    return config


def _bump(endpoint: Endpoint) -> None:
    Endpoint.objects.filter(pk=endpoint.pk).update(config_version=F("config_version") + 1)
    endpoint.refresh_from_db(fields=["config_version", "updated_at"])
    changed()


def _record_revision(endpoint: Endpoint, actor: Any, note: str) -> Revision:
    last = endpoint.revisions.aggregate(last=Max("number"))["last"] or 0
    return Revision.objects.create(
        endpoint=endpoint, number=last + 1, config=snapshot(endpoint), created_by=_user(actor), note=note
    )


def _user(actor: Any):
    return actor if actor is not None and getattr(actor, "is_authenticated", False) else None


def _write_models(endpoint: Endpoint, models: list[ValidModel]) -> None:
    """Make the stored models match ``models``: change those given by id, add the rest, drop the others.

    Changing in place keeps model ids stable across edits, so
    ``endpoints/{id}/models/{model_id}`` URLs and request logs stay meaningful.
    """
    existing = {model.public_id: model for model in endpoint.models.all()}
    kept: list[uuid.UUID] = []
    for model in models:
        row = existing.pop((model.spec.id or "").replace("-", "").lower(), None) or EndpointModel(endpoint=endpoint)
        row.provider, row.model_name, row.key = model.spec.provider, model.spec.model_name, model.key
        row.weight, row.priority, row.litellm_params = model.weight, model.spec.priority, model.spec.litellm_params
        row.save()
        kept.append(row.pk)
    endpoint.models.exclude(pk__in=kept).delete()


def _save(endpoint: Endpoint) -> None:
    endpoint.full_clean(exclude=["name"] if not endpoint._state.adding else None, validate_unique=False)
    try:
        with transaction.atomic():
            endpoint.save()
    except IntegrityError:
        raise ValidationError({"name": [f"An endpoint named {endpoint.name!r} already exists."]}) from None


@transaction.atomic
def record_change(
    endpoint: Endpoint,
    *,
    actor: Any,
    action: str,
    note: str,
    before: dict[str, Any] | None = None,
    details: dict[str, Any] | None = None,
) -> Revision | None:
    """What follows saving an endpoint's rows, models included, whoever saved them.

    ``before`` is ``snapshot(endpoint)`` taken before the save, or None for
    a new endpoint: its creator then manages it and it gets revision 1 and a
    ``create`` event with its configuration. A change bumps
    ``config_version`` (running proxies rebuild their Router) and leaves a
    revision (``note``) and an ``action`` event with what changed; a save
    that changed nothing leaves neither, unless ``details`` asks for the
    event anyway (a restore of the current configuration is still a
    restore). Returns the new revision, or None.
    """
    if before is None:
        sharing.grant_creator(endpoint, actor)
        revision = _record_revision(endpoint, actor, note)
        audit.record(actor, action, endpoint, {"after": revision.config})
        return revision
    after = snapshot(endpoint)
    revision, changes = None, {}
    if _comparable(after) != _comparable(before):
        _bump(endpoint)
        revision = _record_revision(endpoint, actor, note)
        changes = audit.diff(_comparable(before), _comparable(after))
    if revision is not None or details is not None:
        audit.record(actor, action, endpoint, {**(details or {}), **changes})
    return revision


@transaction.atomic
def create_endpoint(*, actor: AbstractBaseUser, models: list[ModelSpec], **fields: Any) -> Endpoint:
    endpoint = Endpoint(created_by=actor, **{name: fields[name] for name in ENDPOINT_FIELDS if name in fields})
    valid = validate_models(endpoint.endpoint_type, models, actor)
    _save(endpoint)
    _write_models(endpoint, valid)
    record_change(endpoint, actor=actor, action="create", note="created")
    return endpoint


@transaction.atomic
def update_endpoint(
    endpoint: Endpoint, *, actor: Any, models: list[ModelSpec] | None = None, note: str = "", **fields: Any
) -> Endpoint:
    """Change fields and/or replace the models; a running endpoint picks the change up via config_version."""
    return _change(endpoint, actor=actor, models=models, fields=fields, action="update", note=note)


def _change(
    endpoint: Endpoint,
    *,
    actor: Any,
    models: list[ModelSpec] | None,
    fields: dict[str, Any],
    action: str,
    note: str,
    details: dict[str, Any] | None = None,
) -> Endpoint:
    """Apply a change to the stored endpoint and record it (``record_change``)."""
    endpoint = Endpoint.objects.select_for_update().get(pk=endpoint.pk)
    before = snapshot(endpoint)
    for name in ENDPOINT_FIELDS:
        if name in fields:
            setattr(endpoint, name, fields[name])
    # Keys already attached were checked when someone with USE attached them;
    # the caller needs USE only on keys it brings in.
    attached = frozenset(model["key_id"] for model in before["models"])
    if models is None:
        models = [ModelSpec.from_dict(model) for model in before["models"]]
    valid = validate_models(endpoint.endpoint_type, models, actor, trusted_key_ids=attached)
    _save(endpoint)
    _write_models(endpoint, valid)
    record_change(endpoint, actor=actor, action=action, note=note, before=before, details=details)
    return endpoint


def _comparable(config: dict[str, Any]) -> dict[str, Any]:
    """A config without model ids, which change when models are rewritten."""
    return {**config, "models": [{k: v for k, v in model.items() if k != "id"} for model in config["models"]]}


def _model_specs(endpoint: Endpoint) -> list[ModelSpec]:
    return [ModelSpec.from_model(model) for model in endpoint.models.all()]


@transaction.atomic
def add_model(endpoint: Endpoint, spec: ModelSpec, *, actor: Any) -> EndpointModel:
    """Attach one more model; the whole set is re-validated (weights must still sum to 1)."""
    before = set(endpoint.models.values_list("pk", flat=True))
    specs = [*_model_specs(endpoint), spec]
    try:
        update_endpoint(endpoint, actor=actor, models=specs, note="model added")
    except ValidationError as exc:
        raise errors.focus(exc, "models", len(specs) - 1) from None  # the caller sent this one model
    return endpoint.models.exclude(pk__in=before).get()


@transaction.atomic
def change_model(model: EndpointModel, changes: dict[str, Any], *, actor: Any) -> EndpointModel:
    specs = _model_specs(model.endpoint)
    index = next(index for index, spec in enumerate(specs) if spec.id == model.public_id)
    for name, value in changes.items():
        setattr(specs[index], name, value)
    try:
        update_endpoint(model.endpoint, actor=actor, models=specs, note="model changed")
    except ValidationError as exc:
        raise errors.focus(exc, "models", index) from None  # the caller changed this one model
    return EndpointModel.objects.get(pk=model.pk)


@transaction.atomic
def remove_model(model: EndpointModel, *, actor: Any) -> None:
    specs = [spec for spec in _model_specs(model.endpoint) if spec.id != model.public_id]
    update_endpoint(model.endpoint, actor=actor, models=specs, note="model removed")


@transaction.atomic
def restore_revision(endpoint: Endpoint, number: int, *, actor: Any) -> Revision:
    """Bring revision ``number`` back as a new revision."""
    try:
        revision = endpoint.revisions.get(number=number)
    except Revision.DoesNotExist:
        raise Http404(f"Revision {number} does not exist.") from None
    config = revision.config
    fields = {name: config[name] for name in ENDPOINT_FIELDS if name in config}
    models = [ModelSpec.from_dict(model) for model in config["models"]]
    # One entry for the restore, with what it changed (nothing, if it was the current configuration).
    endpoint = _change(
        endpoint,
        actor=actor,
        models=models,
        fields=fields,
        action="restore",
        note=f"restored revision {number}",
        details={"revision": number},
    )
    return endpoint.revisions.first()


@transaction.atomic
def delete_endpoint(endpoint: Endpoint, *, actor: Any, force: bool = False) -> None:
    from endpoints import lifecycle

    bindings = list(endpoint.bindings.all())
    if bindings and not force:
        raise Conflict(
            {
                "detail": "This endpoint is in use; pass ?force=true to delete it anyway.",
                "bindings": [{"resource_type": b.resource_type, "resource_id": b.resource_id} for b in bindings],
            }
        )
    if endpoint.status != Status.STOPPED:
        lifecycle.stop_endpoint(endpoint, actor=actor)
    audit.record(actor, "delete", endpoint, {"before": snapshot(endpoint)})
    # Lock the row before its request logs are collected: the usage writer's
    # insert of a late row then waits for this delete and is dropped, instead
    # of landing between the cascade and the delete (a foreign-key error).
    list(Endpoint.objects.select_for_update().filter(pk=endpoint.pk).values_list("pk", flat=True))
    endpoint.delete()


def add_binding(endpoint: Endpoint, *, actor: Any, resource_type: str, resource_id: str) -> Binding:
    # The UI passes these through from a query string; check them as the API does.
    Binding(endpoint=endpoint, resource_type=resource_type, resource_id=resource_id).full_clean(
        exclude=["endpoint", "created_by"], validate_unique=False, validate_constraints=False
    )
    binding, _ = Binding.objects.get_or_create(
        endpoint=endpoint,
        resource_type=resource_type,
        resource_id=resource_id,
        defaults={"created_by": _user(actor)},
    )
    return binding


def remove_binding(endpoint: Endpoint, *, resource_type: str, resource_id: str) -> bool:
    deleted, _ = endpoint.bindings.filter(resource_type=resource_type, resource_id=resource_id).delete()
    return deleted > 0


def on_key_changed(sender: Any, *, key, **kwargs: Any) -> None:
    """A key's secret changed: every endpoint using it must rebuild its Router."""
    Endpoint.objects.filter(models__key=key).update(config_version=F("config_version") + 1)
    changed()
