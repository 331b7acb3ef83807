"""Layer rule: ``domain ← store ← sync ← services ← ui`` (see ``scripts/import_graph.py``); only
desmig_desktop.ui imports Qt; ui never imports sqlite_utils or requests, nor the store or sync."""

from __future__ import annotations

import ast
import importlib.util
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("import_graph", ROOT / "scripts" / "import_graph.py")
assert _spec is not None and _spec.loader is not None
import_graph = importlib.util.module_from_spec(_spec)
sys.modules["import_graph"] = import_graph  # its dataclass looks its module up while being defined
_spec.loader.exec_module(import_graph)


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


# Imports that break the rule and are tolerated, each "module -> imported module": none. Keep the
# mechanism for a migration that needs a step in between: an entry must name an import that exists
# (test_known_violations_only_shrink), so the set can only shrink.
KNOWN_VIOLATIONS: frozenset[str] = frozenset()


def test_no_import_breaks_the_layer_rule() -> None:
    found = import_graph.violations(ROOT)
    new = sorted(set(found) - KNOWN_VIOLATIONS)
    assert not new, "imports against the layer rule:\n" + "\n".join(f"{e}  ({found[e]})" for e in new)


def test_known_violations_only_shrink() -> None:
    gone = sorted(KNOWN_VIOLATIONS - set(import_graph.violations(ROOT)))
    assert not gone, "fixed, remove from KNOWN_VIOLATIONS:\n" + "\n".join(gone)


def test_every_desktop_module_has_a_layer() -> None:
    for module in import_graph.module_files(ROOT, ("desmig_desktop",)):
        assert import_graph.layer_of(module) is not None, module


def _tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    for package in ("desmig_desktop", "desmig_server"):
        for folder in [root / package, *(root / package).rglob("*")]:
            if folder.is_dir() and not (folder / "__init__.py").exists():
                (folder / "__init__.py").write_text("", encoding="utf-8")
    return root


# Negative controls: a fake checkout in which one module imports what it must not, in each of the
# ways an import can be written. The checker must name exactly that import.
_HOSTILE = [
    ("domain/a.py", "from desmig_desktop.store import records\n", "domain.a -> store.records"),
    ("domain/a.py", "import desmig_desktop.ui.models as m\n", "domain.a -> ui.models"),
    ("store/records.py", "def f():\n    from desmig_desktop.services import regions\n", "store.records -> services.regions"),
    ("sync/client.py", "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from desmig_desktop.ui.models import X\n",
     "sync.client -> ui.models"),
    ("sync/client.py", "import typing\nif typing.TYPE_CHECKING:\n    from ..services import regions\n",
     "sync.client -> services.regions"),
    ("services/regions.py", "from ..ui import models\n", "services.regions -> ui.models"),
    ("services/regions.py", "class A:\n    def f(self):\n        import desmig_desktop.app\n", "services.regions -> app"),
    ("ui/models.py", "from desmig_desktop.store.records import history\n", "ui.models -> store.records"),
    ("ui/models.py", "from desmig_desktop import store\n", "ui.models -> store"),
    ("ui/models.py", "from desmig_desktop.sync import client\n", "ui.models -> sync.client"),
    ("ui/models.py", "try:\n    pass\nexcept ImportError:\n    from ..store import records\n", "ui.models -> store.records"),
    ("store/records.py", "def f():\n    from PySide6.QtCore import Qt\n", "store.records -> PySide6"),
    ("domain/a.py", "import desmig_server.app\n", "domain.a -> desmig_server.app"),
]
_BASE = {"domain/a.py": "", "store/records.py": "", "sync/client.py": "", "services/regions.py": "",
         "ui/models.py": "", "app.py": "", "cli.py": ""}


@pytest.mark.parametrize("path, text, expected", _HOSTILE)
def test_checker_names_a_new_violation(tmp_path: Path, path: str, text: str, expected: str) -> None:
    files = {f"desmig_desktop/{name}": body for name, body in _BASE.items()}
    files["desmig_server/app.py"] = ""
    files[f"desmig_desktop/{path}"] = text
    source, target = expected.split(" -> ")
    target = target if target.startswith(("desmig_server", "PySide6")) else f"desmig_desktop.{target}"
    assert set(import_graph.violations(_tree(tmp_path, files))) == {f"desmig_desktop.{source} -> {target}"}


def test_checker_names_a_server_import_outside_the_domain(tmp_path: Path) -> None:
    root = _tree(tmp_path, {"desmig_desktop/store/db.py": "", "desmig_desktop/domain/fields.py": "",
                            "desmig_server/a.py": "def f():\n    from desmig_desktop.store import db\n",
                            "desmig_server/b.py": "from desmig_desktop.domain import fields\n"})
    assert set(import_graph.violations(root)) == {"desmig_server.a -> desmig_desktop.store.db"}


def test_checker_allows_what_the_rule_allows(tmp_path: Path) -> None:
    root = _tree(tmp_path, {
        "desmig_desktop/errors.py": "from desmig_desktop.domain import a\n",
        "desmig_desktop/domain/a.py": "from desmig_desktop import errors\nimport json\n",
        "desmig_desktop/store/records.py": "from ..domain import a\nimport sqlite_utils\n",
        "desmig_desktop/sync/client.py": "from desmig_desktop.store import records\nimport requests\n",
        "desmig_desktop/services/regions.py": "from desmig_desktop.sync import client\nfrom . import handle\n",
        "desmig_desktop/services/handle.py": "",
        "desmig_desktop/ui/models.py": ("from PySide6.QtCore import Qt\nfrom desmig_desktop.services import regions\n"
                                        "from desmig_desktop.domain.a import x\nfrom typing import TYPE_CHECKING\n"
                                        "if TYPE_CHECKING:\n    pass\nelse:\n    from . import other\n"),
        "desmig_desktop/ui/other.py": "",
        "desmig_desktop/app.py": "from desmig_desktop.ui import models\nfrom desmig_desktop.store import records\n",
        "desmig_desktop/cli.py": "import desmig_desktop.app\nfrom desmig_desktop.sync import client\n",
        "desmig_server/b.py": "from desmig_desktop.domain import a\n",
    })
    graph = import_graph.edges(root)
    assert import_graph.Edge("desmig_desktop.ui.models", "desmig_desktop.services.regions") in graph
    assert import_graph.Edge("desmig_desktop.ui.models", "desmig_desktop.ui.other") in graph
    assert import_graph.violations(root) == {}


def test_type_only_imports_are_marked_and_still_count(tmp_path: Path) -> None:
    root = _tree(tmp_path, {"desmig_desktop/store/records.py": "",
                            "desmig_desktop/ui/models.py": ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                                                            "    from desmig_desktop.store.records import R\n")})
    assert import_graph.edges(root) == [
        import_graph.Edge("desmig_desktop.ui.models", "desmig_desktop.store.records", type_only=True),
        import_graph.Edge("desmig_desktop.ui.models", "typing")]
    assert set(import_graph.violations(root)) == {"desmig_desktop.ui.models -> desmig_desktop.store.records"}


def test_graph_script_writes_dot_without_graphviz(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _tree(tmp_path / "src", {"desmig_desktop/store/records.py": "",
                                    "desmig_desktop/ui/models.py": "from desmig_desktop.store import records\n",
                                    "desmig_desktop/ui/tables.py": "from desmig_desktop.ui import models\n"})
    monkeypatch.setattr(import_graph.shutil, "which", lambda name: None)
    assert import_graph.main(["--root", str(root), "--out", str(tmp_path / "g")]) == 0
    grouped, modules = (tmp_path / "g.dot").read_text(), (tmp_path / "g-modules.dot").read_text()
    assert not list(tmp_path.glob("*.png"))
    assert '"desmig_desktop.ui" -> "desmig_desktop.store" [color=red' in grouped
    assert '"desmig_desktop.ui.models" -> "desmig_desktop.store.records" [color=red' in modules
    assert '"desmig_desktop.ui.tables" -> "desmig_desktop.ui.models";' in modules
