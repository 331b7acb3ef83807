"""The bundle spec (packaging/desmig.spec) never excludes what the desktop app imports.

The spec keeps the server, test tools and unused packages out by name; a package that
desmig_desktop starts to import later (cryptography for signed updates, say) must not stay on
that list, or the bundle would build and then fail at run time on that code path only.
"""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def spec_excludes() -> set[str]:
    tree = ast.parse((ROOT / "packaging" / "desmig.spec").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "EXCLUDES" for t in node.targets):
            return set(ast.literal_eval(node.value))
    raise AssertionError("EXCLUDES not found in packaging/desmig.spec")


def desktop_imports() -> set[str]:
    """Every module name that desmig_desktop imports, with each of its parent packages."""
    names: set[str] = set()
    for path in (ROOT / "desmig_desktop").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            found = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module] if isinstance(node, ast.ImportFrom) and node.module and not node.level
                     else [])
            for name in found:
                parts = name.split(".")
                names.update(".".join(parts[:i]) for i in range(1, len(parts) + 1))
    return names


def test_the_spec_excludes_nothing_the_desktop_imports() -> None:
    excluded = spec_excludes()
    assert {"desmig_server", "pytest", "PySide6.QtWebEngineCore"} <= excluded  # the list was read
    assert "PySide6.QtCharts" in desktop_imports()  # and so were the imports
    clash = sorted(excluded & desktop_imports())
    assert not clash, f"packaging/desmig.spec excludes modules desmig_desktop imports: {clash}"


def test_test_support_stays_out_of_the_wheel_and_the_bundle() -> None:
    """``desmig_testing`` (shared by tests and bench) is importable from a checkout only."""
    excluded = spec_excludes()
    assert {"tests", "bench", "desmig_testing"} <= excluded
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = config["tool"]["setuptools"]["packages"]["find"]["include"]
    assert patterns and all(p.startswith(("desmig_desktop", "desmig_server")) for p in patterns), patterns
