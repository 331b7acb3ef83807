"""The product reads no switch that turns it into a test variant.

The deliberately broken sync engines of the negative controls are built by the tests
(``tests/support/broken_sync.py``) and handed to ``SyncEngine``; the environment variables the
desktop app reads are the documented ones below. Checked on the source (AST), with names
resolved through the package's module-level string constants, so a new ``os.environ`` read of
an undocumented variable — a ``DESMIG_SYNC_BROKEN`` coming back — fails here.
"""

from __future__ import annotations

import ast
from pathlib import Path

import desmig_desktop

PACKAGE = Path(desmig_desktop.__file__).parent

# name -> why the product reads it
DOCUMENTED = {
    "DESMIG_HOME": "the data dir (DESIGN §6)",
    "DESMIG_PASSPHRASE": "the database passphrase (DESIGN §6)",
    "DESMIG_ALLOW_PLAINTEXT": "an unencrypted database for tests and development (services/database.py)",
    "DESMIG_CA_BUNDLE": "the HQ's certificate authority (sync/client.py)",
    "DESMIG_SYNC_RETRY_BACKOFF": "the transport's retry backoff (sync/client.py)",
    "DESMIG_LAUNCHED": "set by the updater for the program it starts (services/update_install.py)",
    # Crash points: a fault-injection seam of the real product, which the fault tests kill in a
    # subprocess at each step (sync/hooks.py); they change no behaviour unless the process ends.
    "DESMIG_CRASH_AT": "crash point (sync/hooks.py, store/db.py)",
    "DESMIG_CRASH_MODE": "crash point (sync/hooks.py)",
    "DESMIG_CRASH_FLAG": "crash point (sync/hooks.py)",
}


def _constants(trees: dict[Path, ast.Module]) -> dict[str, set[str]]:
    """Module-level ``NAME = "text"`` assignments of the whole package."""
    out: dict[str, set[str]] = {}
    for tree in trees.values():
        for node in tree.body:
            if (isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)
                    and isinstance(node.value.value, str)):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        out.setdefault(target.id, set()).add(node.value.value)
    return out


def _is_environ(node: ast.AST) -> bool:
    return isinstance(node, ast.Attribute) and node.attr == "environ"


def _keys_read(tree: ast.Module) -> list[ast.expr]:
    """The key expressions of ``os.environ.get(k)``, ``os.getenv(k)``, ``os.environ[k]``, ``k in os.environ``."""
    keys: list[ast.expr] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and node.args and isinstance(node.func, ast.Attribute):
            if (node.func.attr == "get" and _is_environ(node.func.value)) or node.func.attr == "getenv":
                keys.append(node.args[0])
        elif isinstance(node, ast.Subscript) and _is_environ(node.value) and isinstance(node.ctx, ast.Load):
            keys.append(node.slice)
        elif (isinstance(node, ast.Compare) and len(node.ops) == 1 and isinstance(node.ops[0], ast.In | ast.NotIn)
              and _is_environ(node.comparators[0])):
            keys.append(node.left)
    return keys


def environment_read() -> dict[str, list[str]]:
    """Every environment variable the package reads -> where (unresolvable keys as ``?name``)."""
    trees = {path: ast.parse(path.read_text(encoding="utf-8")) for path in PACKAGE.rglob("*.py")}
    constants = _constants(trees)
    found: dict[str, list[str]] = {}
    for path, tree in trees.items():
        for key in _keys_read(tree):
            if isinstance(key, ast.Constant) and isinstance(key.value, str):
                names = {key.value}
            elif isinstance(key, ast.Name):
                names = constants.get(key.id, {f"?{key.id}"})
            else:
                names = {f"?{ast.unparse(key)}"}
            for name in names:
                found.setdefault(name, []).append(f"{path.relative_to(PACKAGE.parent)}:{key.lineno}")
    return found


def test_the_product_reads_only_documented_environment_variables() -> None:
    read = environment_read()
    assert "DESMIG_HOME" in read and "DESMIG_CRASH_AT" in read  # the scan sees reads at all
    undocumented = {name: where for name, where in read.items() if name not in DOCUMENTED}
    assert undocumented == {}, "a test switch (or an undocumented setting) is read by the product"
