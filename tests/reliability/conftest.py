"""Reliability scenarios: drains, cross-process invalidation, database and Redis outages.

Each scenario prints its figures and also collects them into a "reliability
figures" section of pytest's summary (shown without ``-s``) and into the
test's ``user_properties`` (JUnit XML). Scenarios that need PostgreSQL and
Redis skip, saying so, on the embedded default.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from django.conf import settings

from tests.proxy.conftest import gateway, world  # noqa: F401 - fixtures shared with the proxy tests

_FIGURES: list[str] = []


@pytest.fixture
def report(request) -> Callable[..., str]:
    """``report(name=value, ...)`` records a scenario's figures and returns them as one line."""

    def add(**figures: object) -> str:
        line = f"{request.node.name}: " + ", ".join(f"{key}={value}" for key, value in figures.items())
        print(line)  # noqa: T201 - the figures are this suite's output
        _FIGURES.append(line)
        request.node.user_properties.extend(figures.items())
        return line

    return add


def pytest_terminal_summary(terminalreporter) -> None:
    if _FIGURES:
        terminalreporter.section("reliability figures")
        for line in _FIGURES:
            terminalreporter.write_line(line)


def uses_postgres() -> bool:
    return settings.DATABASES["default"]["ENGINE"].endswith("postgresql")


@pytest.fixture
def postgres() -> None:
    if not uses_postgres():
        pytest.skip("needs PostgreSQL (DATABASE_URL=postgres://...); this run uses SQLite")


@pytest.fixture
def postgres_and_redis(postgres) -> None:
    if not settings.REDIS_URL:
        pytest.skip("needs Redis (REDIS_URL=redis://...) as well as PostgreSQL; this run has no Redis")


def wait_for(predicate: Callable[[], object], timeout: float, interval: float = 0.05) -> float | None:
    """Seconds until ``predicate()`` was true, or None if it was not within ``timeout``."""
    started = time.monotonic()
    while True:
        if predicate():
            return time.monotonic() - started
        if time.monotonic() - started > timeout:
            return None
        time.sleep(interval)
