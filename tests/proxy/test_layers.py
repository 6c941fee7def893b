"""The data plane is a leaf: no control-plane module imports ``proxy``.

Only the process's entry points may: the ASGI app and URLconf mount it, and
``manage.py serve`` drains its usage queue on shutdown.
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CONTROL_PLANE = ("keys", "endpoints", "catalog", "tokens", "audit", "sharing", "gatewaylib", "gateway_site")
ENTRY_POINTS = {
    "gateway_site/asgi.py",
    "gateway_site/urls.py",
    "gateway_site/management/commands/serve.py",
}


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
            modules = _imported_modules(ast.parse(path.read_text(), filename=relative))
            offenders += [f"{relative}: {module}" for module in modules if module.split(".")[0] == "proxy"]
    assert offenders == []


def test_the_checked_tree_is_the_real_one():
    # Guards the test above against a wrong ROOT (which would find nothing to check).
    assert (ROOT / "proxy" / "pipeline.py").is_file()
    assert any((ROOT / "endpoints").rglob("services.py"))
    assert "from proxy" in (ROOT / "gateway_site" / "asgi.py").read_text()
