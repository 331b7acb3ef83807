"""List Indonesian msgids passed to ``_()`` that have no English translation yet.

Usage: .venv/bin/python scripts/i18n_missing.py [--json]   (exit 1 when any are missing)
"""

from __future__ import annotations

import ast
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def msgids() -> dict[str, str]:
    """Every literal first argument of a ``_()`` call in the app, with one place it occurs."""
    found: dict[str, str] = {}
    for path in sorted([*(ROOT / "desmig_desktop").rglob("*.py"), *(ROOT / "desmig_server").rglob("*.py")]):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "_"
                    and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
                found.setdefault(node.args[0].value, f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def catalog(lang: str = "en") -> dict[str, str]:
    data: dict[str, str] = {}
    for path in sorted((ROOT / "resources" / "i18n").glob(f"{lang}*.json")):
        data.update(json.loads(path.read_text(encoding="utf-8")))
    return data


def missing(lang: str = "en") -> dict[str, str]:
    have = catalog(lang)
    return {m: where for m, where in msgids().items() if m not in have}


if __name__ == "__main__":
    gaps = missing()
    if "--json" in sys.argv:
        print(json.dumps(dict.fromkeys(gaps, ""), ensure_ascii=False, indent=1))
    else:
        for m, where in gaps.items():
            print(f"{where}: {m}")
    sys.exit(1 if gaps else 0)
