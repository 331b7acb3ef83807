"""Nothing registers at import time: the composition root (``cli``, ``app``) wires everything explicitly.

A registry filled as a side effect of importing a module (``cli.COMMANDS`` by ``sync/cli.py``,
``shell.WINDOW_EXTENSIONS`` by ``ui/sync/register.py``) makes what the app does depend on which
modules happen to be imported, and in which order. Checked for every module of the package,
the GUI's included: once a module's own body has run, importing any other module leaves its
module-level lists, dicts and sets and its names as they were.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Runs in a fresh interpreter: wraps each desmig_desktop module's loader so that the moment its
# own body has run, its globals are recorded; then imports every module and compares.
_WATCH = r'''
import importlib, importlib.abc, importlib.machinery, json, sys, types

CONTAINERS = (list, dict, set)
taken = {}


def snapshot(module):
    found = {}
    for name, value in vars(module).items():
        if name.startswith("__") or isinstance(value, types.ModuleType):
            continue  # dunders, and submodules bound on their package as they are imported
        found[name] = (id(value), value.copy() if isinstance(value, CONTAINERS) else None)
    return found


class Watch(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name != "desmig_desktop" and not name.startswith("desmig_desktop."):
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is not None and spec.loader is not None:
            run = spec.loader.exec_module

            def exec_module(module, run=run, name=name):
                run(module)
                taken[name] = snapshot(module)

            spec.loader.exec_module = exec_module
        return spec


sys.meta_path.insert(0, Watch())
for name in json.loads(sys.argv[1]):
    importlib.import_module(name)
changed = []
for name, before in sorted(taken.items()):
    now = vars(sys.modules[name])
    for attr, (ident, copy) in sorted(before.items()):
        value = now.get(attr)
        if id(value) != ident:
            changed.append(f"{name}.{attr} rebound")
        elif copy is not None and value != copy:
            changed.append(f"{name}.{attr} changed")
    added = sorted(a for a in now if a not in before and not a.startswith("__")
                   and not isinstance(now[a], types.ModuleType))
    changed += [f"{name}.{attr} added" for attr in added]
print(json.dumps(changed))
'''


def package_modules() -> list[str]:
    names = []
    for path in sorted((ROOT / "desmig_desktop").rglob("*.py")):
        names.append(".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__"))
    return names


def run_python(code: str, *args: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=ROOT, env=env,
                          check=False, timeout=180)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout.strip().splitlines()[-1]


def test_importing_a_module_changes_no_other_module() -> None:
    modules = package_modules()
    assert {"desmig_desktop.cli", "desmig_desktop.ui.shell", "desmig_desktop.ui.sync.extension"} <= set(modules)
    changed = json.loads(run_python(_WATCH, json.dumps(modules)))
    assert changed == [], f"registered into at import time: {changed}"


def test_importing_a_module_changes_no_other_module_control() -> None:
    """Negative control: the watch sees a registry filled by another module's import."""
    code = _WATCH.replace("for name in json.loads(sys.argv[1]):\n    importlib.import_module(name)\n",
                          "for name in json.loads(sys.argv[1]):\n    importlib.import_module(name)\n"
                          "sys.modules['desmig_desktop.cli'].__dict__.setdefault('REGISTRY', [])\n"
                          "import desmig_desktop.domain.fields as f\n"
                          "f.ENTITIES.setdefault('planted', None)\n")
    assert code != _WATCH
    changed = json.loads(run_python(code, json.dumps(["desmig_desktop.cli", "desmig_desktop.domain.fields"])))
    assert "desmig_desktop.cli.REGISTRY added" in changed
    assert "desmig_desktop.domain.fields.ENTITIES changed" in changed


def test_the_cli_alone_knows_every_subcommand() -> None:
    """``desmig_desktop.cli`` imported by itself parses and runs every subcommand, login and sync included."""
    code = ("import argparse, json\n"
            "from desmig_desktop import cli\n"
            "sub = next(a for a in cli.build_parser()._actions if isinstance(a, argparse._SubParsersAction))\n"
            "print(json.dumps(sorted(sub.choices)))\n")
    parsed = set(json.loads(run_python(code)))
    assert {"gui", "demo", "status", "import", "export", "backup", "restore", "login", "sync"} <= parsed
    from desmig_desktop import cli

    assert set(cli.command_table()) == parsed  # a handler for each subcommand, and no handler without one
