"""An expected refusal (403/404/409) is one log line, not a traceback; a real error keeps its traceback."""

from __future__ import annotations

import io
import logging
import sys

import pytest

from gatewaylib.logs import ExpectedRefusalFilter
from sharing import services as sharing
from sharing.levels import Level


@pytest.fixture
def console():
    """What the process's configured console handler writes while the test runs."""
    sink = io.StringIO()
    handlers = [
        h
        for h in logging.getLogger().handlers
        if isinstance(h, logging.StreamHandler) and any(isinstance(f, ExpectedRefusalFilter) for f in h.filters)
    ]
    assert handlers, logging.getLogger().handlers
    streams = {h: h.setStream(sink) for h in handlers}
    yield sink
    for handler, stream in streams.items():
        handler.setStream(stream)


def test_a_forbidden_page_logs_one_line_without_a_traceback(client_for, alice, bob, key, make_endpoint, console):
    endpoint = make_endpoint(key, name="alices")
    sharing.grant(endpoint, bob, Level.READ)
    response = client_for(bob).get(f"/endpoints/{endpoint.public_id}/edit")
    assert response.status_code == 403
    lines = console.getvalue().splitlines()
    assert lines == [line for line in lines if "Traceback" not in line and not line.startswith(" ")], lines
    forbidden = [line for line in lines if "Forbidden" in line]
    assert len(forbidden) == 1, lines
    assert f"/endpoints/{endpoint.public_id}/edit" in forbidden[0]


def test_a_hidden_object_is_one_not_found_line(client_for, alice, bob, key, make_endpoint, console):
    endpoint = make_endpoint(key, name="private")
    assert client_for(bob).get(f"/endpoints/{endpoint.public_id}/").status_code == 404
    lines = console.getvalue().splitlines()
    assert [line for line in lines if "Not Found" in line] and "Traceback" not in console.getvalue(), lines


def _record(status: int) -> logging.LogRecord:
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        exc_info = sys.exc_info()
    record = logging.LogRecord("django.request", logging.ERROR, __file__, 1, "failed", (), exc_info)
    record.status_code = status
    return record


@pytest.mark.parametrize("status", [403, 404, 405, 409])
def test_the_filter_drops_the_traceback_of_expected_refusals(status):
    record = _record(status)
    assert ExpectedRefusalFilter().filter(record) is True
    assert record.exc_info is None
    assert "Traceback" not in logging.Formatter().format(record)


@pytest.mark.parametrize("status", [400, 500, 502])
def test_other_errors_keep_their_traceback(status):
    record = _record(status)
    assert ExpectedRefusalFilter().filter(record) is True
    assert "Traceback" in logging.Formatter().format(record)
