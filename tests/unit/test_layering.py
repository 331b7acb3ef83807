"""Layer rule: only desmig_desktop.ui imports Qt; ui never imports sqlite_utils or requests."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def modules(package: str, exclude: str | None = None) -> list[str]:
    out = []
    for path in sorted((ROOT / package).rglob("*.py")):
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        if exclude is None or not name.startswith(exclude):
            out.append(name)
    return out


def test_non_ui_modules_do_not_load_qt() -> None:
    names = [m for m in modules("desmig_desktop", exclude="desmig_desktop.ui") if m != "desmig_desktop.app"]
    names += modules("desmig_server")
    code = ("import importlib, sys\n"
            f"for name in {names!r}:\n"
            "    importlib.import_module(name)\n"
            "bad = sorted(m for m in sys.modules if m.startswith(('PySide6', 'shiboken6')))\n"
            "print(bad)\n"
            "sys.exit(1 if bad else 0)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module if node.module.startswith("desmig") else node.module.split(".")[0])
    return found


def test_ui_does_not_import_storage_or_http() -> None:
    for path in (ROOT / "desmig_desktop" / "ui").rglob("*.py"):
        assert not _imports(path) & {"sqlite_utils", "sqlite3", "requests", "urllib3"}, path


# The departures from "domain is stdlib only", one module each:
# - JSON text for op hashes, push bodies, stored records and pull pages goes through orjson (10x
#   the standard encoder on the sync path), in one module that falls back to ``json`` wherever
#   the two would differ (see jsontext's docstring).
# - Foreign phone numbers (PMI abroad, issue 20 §5) are checked with ``phonenumbers``, Google's
#   maintained numbering-plan metadata for every country; the server validates pushed records
#   with the same domain code, so it must live here, not in services (see phone's docstring).
_DOMAIN_EXTRA = {"jsontext.py": {"orjson"}, "phone.py": {"phonenumbers"}}


def test_domain_is_stdlib_only() -> None:
    allowed_prefix = "desmig_desktop.domain"
    for path in (ROOT / "desmig_desktop" / "domain").rglob("*.py"):
        for name in _imports(path):
            assert (name.startswith(allowed_prefix) or name in sys.stdlib_module_names
                    or name in _DOMAIN_EXTRA.get(path.name, ())), (path, name)


def test_server_imports_only_the_desktop_domain() -> None:
    for path in (ROOT / "desmig_server").rglob("*.py"):
        for name in _imports(path):
            if name.startswith("desmig_desktop"):
                assert name.startswith("desmig_desktop.domain"), (path, name)
