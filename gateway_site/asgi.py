"""ASGI entry point: ``manage.py serve`` (uvicorn) serves the UI, API and proxy from ``application``."""

from __future__ import annotations

import gc
import os
import sys
import threading

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gateway_site.settings")

# Django must be set up before anything imports models.
django_asgi_app = get_asgi_application()

from django.conf import settings  # noqa: E402

from gateway_site.body_limit import BodyLimit  # noqa: E402
from proxy.asgi import ProxyApp  # noqa: E402


def _warm_up() -> None:
    # Importing LiteLLM and parsing its model map take seconds; do it now, in
    # the background, rather than inside the first start or proxy request.
    from catalog.model_map import load_catalog
    from gatewaylib.llm import configure_litellm

    load_catalog()
    configure_litellm()
    # LiteLLM leaves about 700,000 long-lived objects behind, and every full
    # garbage collection walks them all: a pause of 50-300 ms, several times
    # a minute under load, on the event loop. Moving what exists now out of
    # the collector's reach (gc.freeze) takes those pauses to a few ms.
    gc.collect()
    gc.freeze()


threading.Thread(target=_warm_up, name="gateway-warm-up", daemon=True).start()

# Background threads (the usage writer, the change poller, database work for
# cache misses) hold the GIL in stretches of several milliseconds; with the
# default 5 ms switch interval each stretch stalls every request on the event
# loop by as much. A shorter interval hands the loop back sooner.
sys.setswitchinterval(0.0005)

# HTTP only: live pages poll with htmx (README "Live updates"), so there is no
# WebSocket route and no channel layer.
application = BodyLimit(ProxyApp(django_asgi_app), settings.GATEWAY_MAX_BODY_BYTES)
