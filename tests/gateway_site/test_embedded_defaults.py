"""After `make run`, every `manage.py` command shares the server's database and secrets with no extra variables.

These tests start the real `bin/run` (migrate, collectstatic, the first
administrator, then `manage.py serve`) on a data directory of their own, and
run commands the way a user types them, with no DJANGO_*/GATEWAY_* variables
but the one that moves the data directory out of the checkout.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.servers import free_port

ROOT = Path(__file__).resolve().parents[2]


def _user_environment(data_dir: Path, **extra: str) -> dict[str, str]:
    """A shell without the gateway's variables (the test runner sets several)."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "GATEWAY_", "DATABASE_URL", "REDIS_URL"))
    }
    return {**env, "GATEWAY_DATA_DIR": str(data_dir), "LITELLM_LOCAL_MODEL_COST_MAP": "True", **extra}


def _manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.fixture(scope="module")
def running_gateway(tmp_path_factory):
    """`bin/run` on a fresh data directory: the URL it serves and that directory."""
    data_dir = tmp_path_factory.mktemp("var")
    port = free_port()
    env = _user_environment(data_dir, GATEWAY_PORT=str(port), DJANGO_SUPERUSER_PASSWORD="embedded-admin-pw-1")
    server = subprocess.Popen(  # noqa: S603 - our own script
        [str(ROOT / "bin" / "run")], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    try:
        while True:
            if server.poll() is not None:
                pytest.fail(f"bin/run exited with {server.returncode}: {server.stdout.read()}")
            try:
                if httpx.get(f"{url}/health/live", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("bin/run did not serve within 120 s")
            time.sleep(0.2)
        yield url, data_dir
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _models(url: str, token: str) -> httpx.Response:
    return httpx.get(f"{url}/v1/models", headers={"Authorization": f"Bearer {token}"}, timeout=10)


def test_bin_run_generates_its_secrets_once_readable_only_by_their_owner(running_gateway):
    _, data_dir = running_gateway
    for name in ("secret_key", "encryption_key"):
        path = data_dir / name
        assert path.read_text().strip()
        assert path.stat().st_mode & 0o777 == 0o600
    assert (data_dir / "gateway.sqlite3").exists()


def test_a_token_created_with_manage_py_works_against_the_running_server(running_gateway):
    url, data_dir = running_gateway
    result = _manage(_user_environment(data_dir), "create_token", "admin", "--name", "from-the-shell")
    assert result.returncode == 0, result.stderr
    token = result.stdout.strip().splitlines()[-1]

    assert _models(url, token).status_code == 200
    assert _models(url, token + "x").status_code == 401


def test_debug_mode_commands_use_the_same_generated_secrets(running_gateway):
    """DJANGO_DEBUG=1 used to fall back to a development key, and its tokens were refused by the server."""
    url, data_dir = running_gateway
    result = _manage(_user_environment(data_dir, DJANGO_DEBUG="1"), "create_token", "admin", "--name", "debug-shell")
    assert result.returncode == 0, result.stderr
    assert _models(url, result.stdout.strip().splitlines()[-1]).status_code == 200


def test_commands_read_the_generated_secrets_and_the_same_database(running_gateway):
    """A command holds the encryption key the server holds, so it can rotate or read what the server saved."""
    _, data_dir = running_gateway
    script = (
        "from django.conf import settings; from pathlib import Path; "
        "d = Path(settings.VAR_DIR); "
        "print(settings.SECRET_KEY == (d / 'secret_key').read_text().strip(), "
        "settings.GATEWAY_ENCRYPTION_KEYS == [(d / 'encryption_key').read_text().strip()], "
        "settings.DATABASES['default']['NAME'] == str(d / 'gateway.sqlite3'))"
    )
    result = _manage(_user_environment(data_dir), "shell", "--no-imports", "-c", script)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "True", "True"]


def test_production_mode_ignores_the_generated_files_and_refuses_to_start(running_gateway):
    """With DATABASE_URL set, secrets come from the environment only, even when var/ holds generated ones."""
    _, data_dir = running_gateway
    env = _user_environment(
        data_dir, DATABASE_URL="postgres://gateway@db.example.invalid:5432/gateway", DJANGO_ALLOWED_HOSTS="gw.example"
    )
    result = _manage(env, "check")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY (or DJANGO_SECRET_KEY_FILE) must be set" in result.stderr
    assert "Production mode (DATABASE_URL set)" in result.stderr

    result = _manage({**env, "DJANGO_SECRET_KEY": "p" * 64}, "check")
    assert result.returncode != 0
    assert "GATEWAY_ENCRYPTION_KEYS (or GATEWAY_ENCRYPTION_KEYS_FILE) must be set" in result.stderr
