"""Starting and stopping endpoints: one set of functions for the API, the UI, the admin and tasks."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from audit import services as audit
from endpoints import probes, routing
from endpoints.models import Endpoint, Status
from endpoints.validation import ModelSpec, validate_models
from gatewaylib.errors import DETAIL
from gatewaylib.invalidation import changed

logger = logging.getLogger(__name__)

# An endpoint still "starting" after this long lost its task (a worker died):
# starting it again queues a new one.
STARTING_TIMEOUT = timedelta(minutes=2)


def _validate_for_start(endpoint: Endpoint) -> None:
    specs = [ModelSpec.from_model(model) for model in endpoint.models.all()]
    validate_models(endpoint.endpoint_type, specs, actor=None)
    try:
        routing.model_list(endpoint)  # decrypts every key
    except routing.RouterConfigError as exc:
        # About the endpoint as a whole: the API answers {"detail": "..."}.
        raise ValidationError({DETAIL: str(exc)}) from None


def start_endpoint(endpoint: Endpoint, *, actor: Any) -> Endpoint:
    """Validate, mark ``starting`` and hand the Router check to a task (in-process without Redis)."""
    with transaction.atomic():
        endpoint = Endpoint.objects.select_for_update().get(pk=endpoint.pk)
        if endpoint.status == Status.RUNNING or (
            endpoint.status == Status.STARTING and timezone.now() - endpoint.updated_at < STARTING_TIMEOUT
        ):
            return endpoint
        _validate_for_start(endpoint)
        endpoint.status, endpoint.last_error, endpoint.start_check = Status.STARTING, "", []
        endpoint.save(update_fields=["status", "last_error", "start_check", "updated_at"])
        audit.record(actor, "start", endpoint)
        transaction.on_commit(lambda: _hand_off(endpoint.public_id))
    endpoint.refresh_from_db()
    return endpoint


def _hand_off(endpoint_id: str) -> None:
    """Queue the Router check; if the broker is unreachable, say so instead of staying ``starting``."""
    from endpoints import tasks

    try:
        tasks.finish_start.delay(endpoint_id)
    except Exception as exc:  # kombu raises a variety of connection errors
        logger.error("could not queue the start of endpoint %s: %s", endpoint_id, exc.__class__.__name__)
        Endpoint.objects.filter(pk=endpoint_id, status=Status.STARTING).update(
            status=Status.ERROR,
            last_error="The task queue is unreachable; try starting again.",
            updated_at=timezone.now(),
        )
        changed()


def finish_start(endpoint_id: str) -> None:
    """Check the Router configuration, probe every model, and move ``starting`` to ``running`` or ``error``.

    The endpoint runs when at least one model can serve (the Router fails
    over from the others); the probes' results are kept either way, for the
    endpoint page. The conditional updates make a concurrent stop win: a
    stopped endpoint is never flipped back to running by a late task.
    """
    endpoint = Endpoint.objects.filter(pk=endpoint_id, status=Status.STARTING).first()
    if endpoint is None:
        return
    try:
        routing.check_router(endpoint)
        results = probe(endpoint)
    except routing.RouterConfigError as exc:
        _fail_start(endpoint, str(exc), [])
        return
    checked = [result.as_dict() for result in results]
    if reason := probes.none_can_serve(results):
        _fail_start(endpoint, reason, checked)
        return
    Endpoint.objects.filter(pk=endpoint.pk, status=Status.STARTING).update(
        status=Status.RUNNING,
        started_at=timezone.now(),
        last_error="",
        start_check=checked,
        config_version=F("config_version") + 1,
        updated_at=timezone.now(),
    )
    changed()


def probe(endpoint: Endpoint) -> list[probes.Result]:
    """Probe each of the endpoint's models the way ``GATEWAY_START_PROBES`` says (see ``endpoints.probes``)."""
    mode = settings.GATEWAY_START_PROBES
    if mode == "off":
        return []
    deployments = routing.model_list(endpoint)
    return probes.probe(endpoint.endpoint_type, deployments, routing.endpoint_secrets(endpoint), mode=mode)


def _fail_start(endpoint: Endpoint, reason: str, checked: list[dict[str, Any]]) -> None:
    Endpoint.objects.filter(pk=endpoint.pk, status=Status.STARTING).update(
        status=Status.ERROR, last_error=reason, start_check=checked, updated_at=timezone.now()
    )
    logger.warning("endpoint %s failed to start: %s", endpoint.public_id, reason)


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
    changed()
    return endpoint
