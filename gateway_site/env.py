"""Small, pure readers for settings that come from the environment.

Every reader fails fast with ``ImproperlyConfigured`` and a message naming the
variable, so a typo stops the process at start instead of surfacing later as
a confusing runtime error (the same idea as Healthchecks' ``envbool``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

TRUE_VALUES = {"1", "true", "yes", "on"}
FALSE_VALUES = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "", environ: Mapping[str, str] | None = None) -> str:
    """Return ``name`` from the environment, or from the file ``name_FILE`` points at."""
    environ = os.environ if environ is None else environ
    file_path = environ.get(f"{name}_FILE")
    if file_path:
        try:
            return Path(file_path).read_text().strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE={file_path!r} cannot be read: {exc.strerror}") from None
    return environ.get(name, default)


def env_or_file(name: str, path: Path | None, environ: Mapping[str, str] | None = None) -> str:
    """``name`` from the environment (or ``name_FILE``); when neither is set, the contents of ``path`` if it exists.

    The embedded default's generated secrets (``bin/run`` writes them under
    ``var/`` once) are found this way by every ``manage.py`` command, not only
    by the server ``bin/run`` starts.
    """
    value = env_str(name, "", environ)
    if value or path is None:
        return value
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        return ""
    except OSError as exc:
        raise ImproperlyConfigured(f"{path} cannot be read: {exc.strerror}") from None


def env_bool(name: str, default: bool = False, environ: Mapping[str, str] | None = None) -> bool:
    raw = env_str(name, "1" if default else "0", environ).strip().lower()
    if raw in TRUE_VALUES:
        return True
    if raw in FALSE_VALUES:
        return False
    raise ImproperlyConfigured(f"{name} must be one of 1/0, true/false, yes/no, on/off; got {raw!r}")


def env_int(name: str, default: int, environ: Mapping[str, str] | None = None, *, minimum: int = 0) -> int:
    raw = env_str(name, str(default), environ).strip()
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer; got {raw!r}") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}; got {value}")
    return value


def env_list(name: str, default: str = "", environ: Mapping[str, str] | None = None) -> list[str]:
    return [item.strip() for item in env_str(name, default, environ).split(",") if item.strip()]


def parse_database_url(url: str) -> dict[str, Any]:
    """Turn ``DATABASE_URL`` into a Django ``DATABASES["default"]`` dict.

    Only SQLite and PostgreSQL are supported: those are the two modes the
    gateway is tested on.
    """
    import dj_database_url

    scheme = urlsplit(url).scheme
    if scheme not in {"sqlite", "postgres", "postgresql", "pgsql"}:
        raise ImproperlyConfigured(
            f"DATABASE_URL must start with sqlite:// or postgres://; got scheme {scheme or '(none)'!r}"
        )
    try:
        config = dj_database_url.parse(url, conn_max_age=0 if scheme == "sqlite" else 60, conn_health_checks=True)
    except ValueError as exc:
        raise ImproperlyConfigured(f"DATABASE_URL is malformed: {exc}") from None
    if scheme != "sqlite" and not config.get("NAME"):
        raise ImproperlyConfigured("DATABASE_URL must name a database, e.g. postgres://user@host:5432/gateway")
    if scheme != "sqlite":
        # A database that stops answering (frozen, or gone without a reset)
        # must fail a connection attempt or an idle connection within
        # seconds, not hang the thread that asked (libpq's own parameters).
        config.setdefault("OPTIONS", {}).update(
            connect_timeout=5, keepalives=1, keepalives_idle=30, keepalives_interval=5, keepalives_count=3
        )
    if scheme == "sqlite":
        # WAL lets the proxy's usage writer and the UI read at the same time.
        config.setdefault("OPTIONS", {})["init_command"] = "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
        config["OPTIONS"]["transaction_mode"] = "IMMEDIATE"
        config["OPTIONS"]["timeout"] = 20  # seconds to wait for a writer (the usage writer, another process)
    return config


def parse_redis_url(url: str) -> str:
    """Validate ``REDIS_URL`` and return it unchanged (``redis://`` or ``rediss://``)."""
    parts = urlsplit(url)
    if parts.scheme not in {"redis", "rediss", "unix"}:
        raise ImproperlyConfigured(f"REDIS_URL must start with redis://, rediss:// or unix://; got {url!r}")
    if parts.scheme != "unix" and not parts.hostname:
        raise ImproperlyConfigured(f"REDIS_URL must name a host, e.g. redis://127.0.0.1:6379/0; got {url!r}")
    try:
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise ImproperlyConfigured(f"REDIS_URL has an invalid port: {url!r}") from None
    return url


def env_choice(name: str, default: str, choices: tuple[str, ...], environ: Mapping[str, str] | None = None) -> str:
    """One of a fixed set of words (case-insensitive), so a typo stops the process instead of picking a default."""
    raw = env_str(name, default, environ).strip().lower()
    if raw not in choices:
        raise ImproperlyConfigured(f"{name} must be one of {', '.join(choices)}; got {raw!r}")
    return raw
