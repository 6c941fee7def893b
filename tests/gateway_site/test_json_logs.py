"""GATEWAY_LOG_FORMAT=json: one JSON object per line, with no live secret in any part of it."""

from __future__ import annotations

import io
import json
import logging
from logging.config import DictConfigurator

import pytest
from django.conf import settings

from gatewaylib.scrub import WITHHELD, SecretLogFilter, live_secrets

SECRET = "sk-json-log-secret-0123456789abcdef"


@pytest.fixture
def json_logger():
    """A logger writing through the configured filters and JSON formatter, and what it wrote."""
    configurator = DictConfigurator(settings.LOGGING)
    sink = io.StringIO()
    handler = logging.StreamHandler(sink)
    handler.setFormatter(configurator.configure_formatter(dict(settings.LOGGING["formatters"]["json"])))
    handler.addFilter(SecretLogFilter())
    target = logging.getLogger("tests.json_logs")
    target.addHandler(handler)
    target.propagate = False
    yield target, sink
    target.removeHandler(handler)
    target.propagate = True


@pytest.fixture
def live(request):
    secrets = request.param if hasattr(request, "param") else [SECRET]
    live_secrets.add(secrets)
    yield secrets
    live_secrets.discard(secrets)


@pytest.mark.usefixtures("live")
def test_a_traceback_message_and_extra_fields_are_scrubbed(json_logger):
    logger, sink = json_logger
    try:
        raise RuntimeError(f"provider said: bad key {SECRET}")
    except RuntimeError:
        logger.exception("call failed with %s", SECRET, extra={"upstream": {"api_key": SECRET}})
    (line,) = sink.getvalue().splitlines()
    record = json.loads(line)
    assert SECRET not in line and json.dumps(SECRET)[1:-1] not in line
    assert record["message"] == "call failed with ***"
    assert "RuntimeError: provider said: bad key ***" in record["exc_info"]
    assert record["upstream"] == {"api_key": "***"}
    assert record["level"] == "ERROR" and record["logger"] == "tests.json_logs"


@pytest.mark.parametrize("live", [["abc"]], indirect=True)
def test_a_line_holding_a_short_secret_is_withheld_but_stays_json(json_logger, live):
    logger, sink = json_logger
    logger.warning("something", extra={"note": "the key is abc"})
    (line,) = sink.getvalue().splitlines()
    assert json.loads(line) == {"level": "WARNING", "logger": "tests.json_logs", "message": WITHHELD}
