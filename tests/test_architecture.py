"""The shape the design asks for, checked on the source: the shell never imports an app, and the
runtime's modules import each other without a circle."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.apps import apps

ROOT = Path(__file__).resolve().parent.parent
APPS = [
    c.name for c in apps.get_app_configs() if not c.name.startswith(("django.", "wbm")) and (ROOT / c.name).is_dir()
]


def _imports(path: Path) -> list[tuple[str, bool]]:
    """(module, only for type checking) of every import in ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    type_checking: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            type_checking.update(id(n) for child in node.body for n in ast.walk(child))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.module, id(node) in type_checking))
        elif isinstance(node, ast.Import):
            found.extend((alias.name, id(node) in type_checking) for alias in node.names)
    return found


def _sources(package: str) -> list[Path]:
    return [p for p in (ROOT / package).rglob("*.py") if "migrations" not in p.parts]


def test_the_apps_are_found():
    assert {"chargepoints", "ocppcfg", "whitelist", "loadmgmt", "network"} <= set(APPS)


@pytest.mark.parametrize("path", _sources("wbm"), ids=lambda p: str(p.relative_to(ROOT)))
def test_the_shell_never_imports_an_app(path: Path):
    offending = [m for m, _tc in _imports(path) if m.split(".")[0] in APPS]
    assert not offending, f"{path.relative_to(ROOT)} imports {offending}: register it on the app's AppConfig"


def test_the_runtime_modules_import_each_other_without_a_circle():
    modules = {
        ".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__"): p
        for p in _sources("wbm/runtime")
    }
    graph = {
        name: {m for m, tc in _imports(path) if m in modules and not tc and m != name} for name, path in modules.items()
    }
    visiting: list[str] = []
    done: set[str] = set()

    def visit(name: str) -> None:
        if name in done:
            return
        assert name not in visiting, "import circle: " + " → ".join([*visiting[visiting.index(name) :], name])
        visiting.append(name)
        for target in graph[name]:
            visit(target)
        visiting.pop()
        done.add(name)

    for name in graph:
        visit(name)
