"""Health probes: unauthenticated, JSON, cheap."""

from __future__ import annotations

import logging
import os

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from gatewaylib.drain import drain

logger = logging.getLogger(__name__)


@never_cache
@require_GET
def live(request: HttpRequest) -> JsonResponse:
    """The process is up and answering."""
    return JsonResponse({"status": "ok"})


def _check_database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any driver error means "not ready"
        logger.warning("readiness: database unreachable: %s", exc.__class__.__name__)
        return "unavailable"
    return "ok"


def _check_redis() -> str:
    if not settings.REDIS_URL:
        return "not configured"
    import redis

    try:
        client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1)
        client.ping()
        client.close()
    except redis.RedisError as exc:
        logger.warning("readiness: redis unreachable: %s", exc.__class__.__name__)
        return "unavailable"
    return "ok"


@never_cache
@require_GET
def ready(request: HttpRequest) -> JsonResponse:
    """Dependencies the gateway cannot serve without are reachable."""
    if drain.draining:
        # Stopping (SIGTERM): the load balancer must send nothing new here,
        # whatever the database and Redis say.
        body = {"status": "draining", "in_flight": drain.in_flight(), "draining_seconds": round(drain.seconds(), 1)}
        return JsonResponse(body, status=503)
    checks = {"database": _check_database(), "redis": _check_redis()}
    healthy = all(value in {"ok", "not configured"} for value in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "unavailable", "checks": checks}, status=200 if healthy else 503
    )


@never_cache
@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus metrics of every worker. Protected by GATEWAY_METRICS_TOKEN when it is set.

    Worker processes that share ``PROMETHEUS_MULTIPROC_DIR`` (``manage.py
    serve --workers N`` sets it) write their figures there, and any one of
    them answers a scrape with the sum over all of them.
    """
    import hmac

    from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest, multiprocess

    expected = settings.GATEWAY_METRICS_TOKEN
    if expected:
        given = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(given.encode(), expected.encode()):
            return JsonResponse({"detail": "A valid metrics token is required."}, status=401)
    registry = REGISTRY
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
