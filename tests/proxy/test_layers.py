"""The data plane is a leaf: no control-plane module imports ``proxy``.

Only the process's entry points may: the ASGI app and URLconf mount it, and
``manage.py serve`` drains its usage queue on shutdown.
"""

import ast
import gc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CONTROL_PLANE = ("keys", "endpoints", "catalog", "tokens", "audit", "sharing", "teams", "gatewaylib", "gateway_site")
ENTRY_POINTS = {
    "gateway_site/asgi.py",
    "gateway_site/urls.py",
    "gateway_site/management/commands/serve.py",
}


def _parse(source: str, filename: str) -> ast.AST:
    """``ast.parse`` with the garbage collector held off.

    On CPython 3.11 a collection during the parse can run finalizers (here,
    aiohttp sessions of earlier tests closing and logging) in the middle of
    building the tree, and the parser then fails with "SystemError: AST
    constructor recursion depth mismatch".
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        return ast.parse(source, filename=filename)
    finally:
        if enabled:
            gc.enable()


def _imported_modules(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module


def test_no_control_plane_module_imports_the_proxy():
    offenders = []
    for package in CONTROL_PLANE:
        for path in (ROOT / package).rglob("*.py"):
            relative = path.relative_to(ROOT).as_posix()
            if relative in ENTRY_POINTS:
                continue
            modules = _imported_modules(_parse(path.read_text(), relative))
            offenders += [f"{relative}: {module}" for module in modules if module.split(".")[0] == "proxy"]
    assert offenders == []


def test_the_checked_tree_is_the_real_one():
    # Guards the test above against a wrong ROOT (which would find nothing to check).
    assert (ROOT / "proxy" / "pipeline.py").is_file()
    assert any((ROOT / "endpoints").rglob("services.py"))
    assert "from proxy" in (ROOT / "gateway_site" / "asgi.py").read_text()
