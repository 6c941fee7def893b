"""Celery tasks: thin wrappers that re-fetch by id and call the lifecycle services."""

from __future__ import annotations

from celery import shared_task

from endpoints import lifecycle, request_log


@shared_task(autoretry_for=(ConnectionError,), retry_backoff=True, max_retries=3)
def finish_start(endpoint_id: str) -> None:
    """Check the endpoint's configuration, probe its models, and mark it running (or error)."""
    lifecycle.finish_start(endpoint_id)


@shared_task
def purge_request_logs() -> int:
    """Delete request logs past the retention period (scheduled hourly by Celery beat)."""
    return request_log.purge_expired()
