"""Packaging: the wheel that ``pip install .`` builds is a working gateway, and the lock matches pyproject.toml.

The wheel is built offline from a copy of the work tree with the setuptools
the lock installs (``pip wheel --no-build-isolation --no-index``), installed
without dependencies into a temporary directory, and run from elsewhere, so
templates and static files are found where an installed gateway looks for them.
"""

from __future__ import annotations

import importlib.metadata
import os
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
LOCK = ROOT / "requirements" / "lock.txt"
NOT_SHIPPED = {"tests", "bench"}
# What never goes into the copy the wheel is built from (caches, virtualenvs, data, build output).
IGNORED = shutil.ignore_patterns(
    ".git", ".venv", ".tools", "var", "artifacts", "build", "dist", "*.egg-info", "__pycache__", "*.pyc",
    ".hypothesis", ".ruff_cache", ".pytest_cache", "node_modules",
)  # fmt: skip


def _source_packages() -> list[Path]:
    """Top-level directories of the work tree that are Python packages (tests and bench excluded)."""
    return sorted(
        path
        for path in ROOT.iterdir()
        if path.is_dir() and (path / "__init__.py").is_file() and path.name not in NOT_SHIPPED
    )


def _files_under(directory: Path) -> list[str]:
    """Every file under ``directory`` (relative to ROOT, as in a wheel), caches excluded."""
    return sorted(
        path.relative_to(ROOT).as_posix()
        for path in directory.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    )


def _site_dirs(values) -> list[str]:
    """Settings directories (TEMPLATES DIRS, STATICFILES_DIRS) relative to BASE_DIR, as wheel paths."""
    return [Path(value).relative_to(settings.BASE_DIR).as_posix() for value in values]


def _pinned(requirements: list[str]) -> dict[str, Version]:
    pins = {}
    for line in requirements:
        requirement = Requirement(line)
        (specifier,) = requirement.specifier  # exactly one, an exact pin
        assert specifier.operator == "==", f"{line!r} is not pinned with =="
        pins[canonicalize_name(requirement.name)] = Version(specifier.version)
    return pins


def _lock_entries() -> list[tuple[Requirement, list[str]]]:
    """(requirement, hashes) for each entry of the lock, continuation lines joined."""
    entries, current = [], None
    for raw in LOCK.read_text().splitlines():
        line = raw.split(" #", 1)[0].strip() if not raw.lstrip().startswith("#") else ""
        if not line:
            continue
        if line.startswith("--hash="):
            current[1].append(line.removeprefix("--hash=").rstrip(" \\"))
        else:
            assert not line.startswith("-"), f"unexpected option in the lock: {line!r}"
            current = (Requirement(line.rstrip(" \\")), [])
            entries.append(current)
    return entries


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """The wheel, built from a copy of the work tree (so the build leaves nothing in it)."""
    setuptools_version = Version(importlib.metadata.version("setuptools"))
    assert setuptools_version >= Version("70.1"), f"setuptools {setuptools_version} cannot build wheels: make install"
    work = tmp_path_factory.mktemp("packaging")
    source, out = work / "src", work / "dist"
    shutil.copytree(ROOT, source, ignore=IGNORED)
    env = {**os.environ, "PIP_NO_INDEX": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    command = [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "--no-index"]
    subprocess.run([*command, "-w", str(out), str(source)], env=env, check=True, capture_output=True, timeout=120)
    (wheel,) = out.glob("ai_gateway-*.whl")
    return wheel


@pytest.fixture(scope="module")
def names(built) -> set[str]:
    with zipfile.ZipFile(built) as wheel:
        return set(wheel.namelist())


def _dist_info(built: Path, name: str) -> str:
    with zipfile.ZipFile(built) as wheel:
        (path,) = [entry for entry in wheel.namelist() if entry.endswith(f".dist-info/{name}")]
        return wheel.read(path).decode()


def test_wheel_ships_every_file_of_every_package(names):
    expected = [file for package in _source_packages() for file in _files_under(package)]
    assert len(expected) > 100
    missing = [file for file in expected if file not in names]
    assert not missing, f"not in the wheel (add the package to [tool.setuptools] packages): {missing}"


def test_wheel_ships_the_migrations_of_every_app(names):
    ours = [config for config in apps.get_app_configs() if Path(config.path).parent == ROOT]
    assert {config.label for config in ours} >= {"keys", "tokens", "endpoints", "audit", "catalog"}
    for config in ours:
        migrations = Path(config.path) / "migrations"
        if migrations.is_dir():
            files = [file for file in _files_under(migrations) if file.endswith(".py")]
            assert files and not set(files) - names, f"{config.label}'s migrations are not all in the wheel"


def test_wheel_ships_templates_and_static_where_settings_look(names):
    (template_dir,) = _site_dirs(settings.TEMPLATES[0]["DIRS"])
    (static_dir,) = _site_dirs(settings.STATICFILES_DIRS)
    templates = _files_under(ROOT / template_dir)
    static = _files_under(ROOT / static_dir)
    assert "templates/base.html" in templates and "templates/registration/login.html" in templates
    assert any(file.startswith("static/vendor/htmx-") for file in static)
    missing = [file for file in templates + static if file not in names]
    assert not missing, f"not in the wheel: {missing}"


def test_wheel_leaves_out_tests_and_bench(names):
    assert not [name for name in names if name.split("/", 1)[0] in NOT_SHIPPED]


def test_wheel_entry_point_and_metadata(built):
    entry_points = _dist_info(built, "entry_points.txt")
    assert "[console_scripts]" in entry_points
    assert "ai-gateway = gateway_site.cli:main" in entry_points
    metadata = _dist_info(built, "METADATA").splitlines()
    required = {str(Requirement(line.removeprefix("Requires-Dist: "))) for line in metadata if "Requires-Dist:" in line}
    project = PYPROJECT["project"]
    test_extra = [f'{line}; extra == "test"' for line in project["optional-dependencies"]["test"]]
    assert required == {str(Requirement(line)) for line in project["dependencies"] + test_extra}


def test_installed_wheel_serves_from_outside_the_work_tree(built, tmp_path):
    """Installed without the checkout beside it: settings, the ASGI app, templates, static files and a page."""
    target = tmp_path / "site"
    pip = [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-index", "--disable-pip-version-check"]
    subprocess.run([*pip, "--target", str(target), str(built)], check=True, capture_output=True, timeout=120)
    assert (target / "bin" / "ai-gateway").is_file()
    script = """
import django, sys
from pathlib import Path
site = Path(sys.argv[1])
django.setup()
import gateway_site, gateway_site.asgi
from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.template.loader import get_template
from django.test import Client
assert Path(gateway_site.__file__).is_relative_to(site), gateway_site.__file__
# With no GATEWAY_DATA_DIR an installed gateway keeps its data in ./var, never in site-packages.
assert Path(settings.VAR_DIR) == Path.cwd() / "var", settings.VAR_DIR
assert Path(get_template("registration/login.html").origin.name).is_relative_to(site)
assert Path(finders.find("css/app.css")).is_relative_to(site)
call_command("check", "--fail-level", "WARNING")
response = Client().get("/accounts/login/")
assert response.status_code == 200, response.status_code
assert b"<form" in response.content and b"/static/css/app.css" in response.content
print("ok")
"""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "GATEWAY_", "DATABASE_URL", "REDIS_URL"))
    }
    env.update(
        PYTHONPATH=str(target),
        DJANGO_SETTINGS_MODULE="gateway_site.settings",
        DJANGO_DEBUG="1",  # plain static storage: no collectstatic needed for the page
        DJANGO_SECRET_KEY="packaging-test-secret-key-0123456789abcdefghijklmnop",
        DJANGO_ALLOWED_HOSTS="testserver",
        GATEWAY_ENCRYPTION_KEYS="dGVzdC1lbmNyeXB0aW9uLWtleS0wMDAwMDAwMDAwMDA=",
        LITELLM_LOCAL_MODEL_COST_MAP="True",
    )
    result = subprocess.run(
        [sys.executable, "-c", script, str(target)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().endswith("ok")
    assert (tmp_path / "var").is_dir() and not (target / "var").exists()


def test_pyproject_pins_exactly_and_the_lock_has_each_pin_with_hashes():
    project = PYPROJECT["project"]
    wanted = _pinned(project["dependencies"]) | _pinned(project["optional-dependencies"]["test"])
    entries = _lock_entries()
    locked: dict[str, set[Version]] = {}
    for requirement, hashes in entries:
        (specifier,) = requirement.specifier
        assert specifier.operator == "==", f"{requirement} is not pinned in the lock"
        assert hashes and all(value.startswith("sha256:") for value in hashes), f"{requirement} has no hashes"
        locked.setdefault(canonicalize_name(requirement.name), set()).add(Version(specifier.version))
    assert len(entries) > 100
    for name, version in wanted.items():
        assert locked.get(name) == {version}, (
            f"pyproject pins {name}=={version}, the lock has {locked.get(name)}: make lock"
        )


def test_this_environment_is_the_locked_one():
    """`make install` installed every entry of the lock that applies here, at the locked version."""
    environment = default_environment() | {"extra": ""}
    wrong = []
    for requirement, _hashes in _lock_entries():
        if requirement.marker is not None and not requirement.marker.evaluate(environment):
            continue
        (specifier,) = requirement.specifier
        try:
            installed = importlib.metadata.version(requirement.name)
        except importlib.metadata.PackageNotFoundError:
            installed = None
        if installed is None or Version(installed) != Version(specifier.version):
            wrong.append(f"{requirement.name}: locked {specifier.version}, installed {installed}")
    assert not wrong, f"run make install: {wrong}"


def test_cli_is_manage_py(capsys, monkeypatch):
    from gateway_site import cli

    monkeypatch.delenv("DJANGO_SETTINGS_MODULE")
    cli.main(["ai-gateway", "version"])
    assert os.environ["DJANGO_SETTINGS_MODULE"] == "gateway_site.settings"
    import django

    assert capsys.readouterr().out.strip() == django.get_version()
    assert "from gateway_site.cli import main" in (ROOT / "manage.py").read_text()
