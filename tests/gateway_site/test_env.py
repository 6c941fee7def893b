"""The environment readers fail fast with a message naming the variable."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from gateway_site.env import env_bool, env_int, env_list, env_str, parse_database_url, parse_redis_url

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("raw, expected", [("1", True), ("true", True), ("YES", True), ("0", False), ("off", False)])
def test_env_bool_reads_common_spellings(raw, expected):
    assert env_bool("FLAG", environ={"FLAG": raw}) is expected


def test_env_bool_refuses_nonsense():
    with pytest.raises(ImproperlyConfigured, match="FLAG"):
        env_bool("FLAG", environ={"FLAG": "maybe"})


def test_env_int_refuses_nonsense_and_small_values():
    assert env_int("N", 3, environ={}) == 3
    with pytest.raises(ImproperlyConfigured, match="N must be an integer"):
        env_int("N", 3, environ={"N": "ten"})
    with pytest.raises(ImproperlyConfigured, match="at least 5"):
        env_int("N", 10, environ={"N": "1"}, minimum=5)


def test_env_list_splits_and_trims():
    assert env_list("HOSTS", environ={"HOSTS": " a.example ,b.example,, "}) == ["a.example", "b.example"]


def test_env_str_reads_a_file(tmp_path):
    secret_file = tmp_path / "secret"
    secret_file.write_text("from-a-file\n")
    assert env_str("SECRET", environ={"SECRET_FILE": str(secret_file)}) == "from-a-file"
    with pytest.raises(ImproperlyConfigured, match="SECRET_FILE"):
        env_str("SECRET", environ={"SECRET_FILE": str(tmp_path / "missing")})


def test_parse_database_url_supports_sqlite_and_postgres(tmp_path):
    sqlite = parse_database_url(f"sqlite:///{tmp_path}/db.sqlite3")
    assert sqlite["ENGINE"] == "django.db.backends.sqlite3"
    postgres = parse_database_url("postgres://gw:pw@db.internal:5433/gateway")
    assert postgres["ENGINE"] == "django.db.backends.postgresql"
    assert (postgres["HOST"], postgres["PORT"], postgres["NAME"]) == ("db.internal", 5433, "gateway")


@pytest.mark.parametrize("url", ["mysql://x@y/z", "nonsense", "postgres://host-only"])
def test_parse_database_url_refuses_what_we_do_not_support(url):
    with pytest.raises(ImproperlyConfigured, match="DATABASE_URL"):
        parse_database_url(url)


def test_parse_redis_url():
    assert parse_redis_url("redis://127.0.0.1:6379/0") == "redis://127.0.0.1:6379/0"
    for bad in ("http://x", "redis://", "redis://host:notaport/0"):
        with pytest.raises(ImproperlyConfigured, match="REDIS_URL"):
            parse_redis_url(bad)


def _manage(env_overrides: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "GATEWAY_", "DATABASE_URL", "REDIS_URL"))
    }
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


PRODUCTION_ENV = {
    # Production mode: secrets only from the environment (never the embedded default's files under var/).
    "DATABASE_URL": "postgres://gateway@db.example.invalid:5432/gateway",
    "DJANGO_SECRET_KEY": "k" * 64 + "-production-like-secret-key-with-enough-entropy-!@#$%",
    "DJANGO_ALLOWED_HOSTS": "gateway.example.com",
    "GATEWAY_ENCRYPTION_KEYS": "dGVzdC1lbmNyeXB0aW9uLWtleS0wMDAwMDAwMDAwMDA=",
    "LITELLM_LOCAL_MODEL_COST_MAP": "True",
}


def test_it_refuses_to_start_without_a_secret_key_outside_debug():
    result = _manage({**PRODUCTION_ENV, "DJANGO_SECRET_KEY": ""}, "check")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr
    assert "Traceback" not in result.stderr.splitlines()[-1]


def test_malformed_values_fail_at_start_with_a_clear_message():
    result = _manage({**PRODUCTION_ENV, "DJANGO_DEBUG": "perhaps"}, "check")
    assert result.returncode != 0
    assert "DJANGO_DEBUG must be one of" in result.stderr


def test_check_deploy_is_clean_with_production_like_settings():
    result = _manage(PRODUCTION_ENV, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
