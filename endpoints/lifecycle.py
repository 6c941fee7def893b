"""Starting and stopping endpoints: one set of functions for the API, the UI, the admin and tasks."""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from rest_framework.exceptions import ValidationError

from audit import services as audit
from endpoints import routing
from endpoints.models import Endpoint, Status
from endpoints.validation import ModelSpec, validate_models

logger = logging.getLogger(__name__)


def _validate_for_start(endpoint: Endpoint) -> None:
    specs = [
        ModelSpec(
            provider=model.provider,
            model_name=model.model_name,
            key_id=model.key_id.hex,
            weight=model.weight,
            priority=model.priority,
            litellm_params=model.litellm_params,
        )
        for model in endpoint.models.all()
    ]
    validate_models(endpoint.endpoint_type, specs, actor=None)
    try:
        routing.model_list(endpoint)  # decrypts every key
    except routing.RouterConfigError as exc:
        raise ValidationError({"detail": str(exc)}) from None


def start_endpoint(endpoint: Endpoint, *, actor: Any) -> Endpoint:
    """Validate, mark ``starting`` and hand the Router check to a task (in-process without Redis)."""
    from endpoints import tasks

    with transaction.atomic():
        endpoint = Endpoint.objects.select_for_update().get(pk=endpoint.pk)
        if endpoint.status in (Status.STARTING, Status.RUNNING):
            return endpoint
        _validate_for_start(endpoint)
        endpoint.status, endpoint.last_error = Status.STARTING, ""
        endpoint.save(update_fields=["status", "last_error", "updated_at"])
        audit.record(actor, "start", endpoint)
        transaction.on_commit(lambda: tasks.build_router.delay(endpoint.public_id))
    endpoint.refresh_from_db()
    return endpoint


def finish_start(endpoint_id: str) -> None:
    """Check the Router configuration and move ``starting`` to ``running`` or ``error``.

    The conditional updates make a concurrent stop win: a stopped endpoint is
    never flipped back to running by a late task.
    """
    endpoint = Endpoint.objects.filter(pk=endpoint_id, status=Status.STARTING).first()
    if endpoint is None:
        return
    try:
        routing.check_router(endpoint)
    except routing.RouterConfigError as exc:
        Endpoint.objects.filter(pk=endpoint.pk, status=Status.STARTING).update(
            status=Status.ERROR, last_error=str(exc), updated_at=timezone.now()
        )
        logger.warning("endpoint %s failed to start: %s", endpoint.public_id, exc)
        return
    Endpoint.objects.filter(pk=endpoint.pk, status=Status.STARTING).update(
        status=Status.RUNNING,
        started_at=timezone.now(),
        last_error="",
        config_version=F("config_version") + 1,
        updated_at=timezone.now(),
    )


@transaction.atomic
def stop_endpoint(endpoint: Endpoint, *, actor: Any) -> Endpoint:
    """Stop at once; the version bump makes every proxy process drop its Router."""
    endpoint = Endpoint.objects.select_for_update().get(pk=endpoint.pk)
    if endpoint.status == Status.STOPPED:
        return endpoint
    Endpoint.objects.filter(pk=endpoint.pk).update(
        status=Status.STOPPED, stopped_at=timezone.now(), config_version=F("config_version") + 1
    )
    endpoint.refresh_from_db()
    audit.record(actor, "stop", endpoint)
    return endpoint
