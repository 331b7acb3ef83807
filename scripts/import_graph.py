"""The import graph of ``desmig_desktop`` and the layer rule it must follow (maintainer tool + test helper).

The rule (``STYLE.md``): ``domain ← store ← sync ← services ← ui``. A module imports only its own
layer or lower ones; the ui reaches data through services only, so it imports no ``store`` or
``sync`` module; the composition roots ``app.py`` and ``cli.py`` may import everything (and
nothing may import them); only the ui (and the roots) import Qt; the server (``desmig_server``)
imports only ``desmig_desktop.domain``.
The root package and ``errors.py`` (the error hierarchy every layer raises) count as domain.

Every ``import`` in a module counts, wherever it is: at the top, inside a function (a deferred
import is still a dependency, only a hidden one) and under ``if TYPE_CHECKING:`` (a type-only
import still makes the lower layer know the higher one, and is the usual first step of a cycle;
the ui has the services' ``Database`` handle, so it never needs the store's types).

``tests/unit/test_layering.py`` checks the rule with ``violations()``. Run as a script, it writes
the graph as Graphviz DOT, modules grouped by layer, each edge that breaks the rule red (a
type-only import dashed), and a PNG when Graphviz's ``dot`` is installed::

    .venv/bin/python scripts/import_graph.py --out /tmp/graph        # /tmp/graph.dot (+ .png)

It prints how many edges (distinct module → module imports inside ``desmig_desktop``) there
are and how many of them break the rule.
"""

from __future__ import annotations

import argparse
import ast
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DESKTOP, SERVER = "desmig_desktop", "desmig_server"
LAYERS = ("domain", "store", "sync", "services", "ui")
COMPOSITION_ROOTS = frozenset({f"{DESKTOP}.app", f"{DESKTOP}.cli"})
_DOMAIN_AT_TOP = frozenset({DESKTOP, f"{DESKTOP}.errors"})
_QT = frozenset({"PySide6", "shiboken6"})
_COLOURS = {"domain": "#e8f1e4", "store": "#e4ecf7", "sync": "#efe6f5", "services": "#fbf1dc", "ui": "#fbe4e4",
            "root": "#eeeeee"}


@dataclass(frozen=True, order=True)
class Edge:
    """``source`` imports ``target`` (module names; ``target`` may lie outside the scanned packages)."""

    source: str
    target: str
    type_only: bool = False  # every import of target in source sits under ``if TYPE_CHECKING:``

    def __str__(self) -> str:
        return f"{self.source} -> {self.target}"


def module_files(root: Path, packages: tuple[str, ...] = (DESKTOP, SERVER)) -> dict[str, Path]:
    """``{module name: file}`` for every ``.py`` file of ``packages`` under ``root``."""
    out: dict[str, Path] = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


def _is_type_checking(test: ast.expr) -> bool:
    return ((isinstance(test, ast.Name) and test.id == "TYPE_CHECKING")
            or (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"))


def _raw_imports(tree: ast.Module, module: str, is_package: bool) -> list[tuple[list[str], bool]]:
    """Each import statement as (the module names it may mean, under TYPE_CHECKING?).

    ``from a.b import c`` may mean the module ``a.b.c`` or the name ``c`` of ``a.b``: both
    candidates are given, ``_target`` keeps the one that exists. Relative imports are made absolute.
    """
    found: list[tuple[list[str], bool]] = []

    def visit(node: ast.AST, type_only: bool) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.body:
                visit(child, True)
            for child in node.orelse:
                visit(child, type_only)
            return
        if isinstance(node, ast.Import):
            found.extend(([alias.name], type_only) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = module.split(".") if is_package else module.split(".")[:-1]
                anchor = package[:len(package) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            found.extend(([f"{base}.{alias.name}", base], type_only) for alias in node.names)
        for inner in ast.iter_child_nodes(node):
            visit(inner, type_only)

    visit(tree, False)
    return found


def _target(candidates: list[str], known: set[str]) -> str:
    """``a.b.c`` if it is a module, else the longest known module above the last candidate, else the top package."""
    for name in candidates[:-1]:
        if name in known:
            return name
    name = candidates[-1]
    parts = name.split(".")
    for n in range(len(parts), 0, -1):
        if ".".join(parts[:n]) in known:
            return ".".join(parts[:n])
    return parts[0]


def edges(root: Path = ROOT, packages: tuple[str, ...] = (DESKTOP, SERVER)) -> list[Edge]:
    """Every distinct import between modules (and from them to outside packages), sorted."""
    files = module_files(root, packages)
    known = set(files)
    kinds: dict[tuple[str, str], bool] = {}
    for module, path in files.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for candidates, type_only in _raw_imports(tree, module, path.name == "__init__.py"):
            target = _target(candidates, known)
            if target and target != module:
                key = (module, target)
                kinds[key] = kinds.get(key, True) and type_only
    return sorted(Edge(s, t, only) for (s, t), only in kinds.items())


def layer_of(module: str) -> str | None:
    """``domain`` … ``ui``, ``root`` for a composition root, ``server``, or ``None`` (not ours)."""
    if module in COMPOSITION_ROOTS or module.startswith(f"{DESKTOP}.commands"):
        return "root"
    if module in _DOMAIN_AT_TOP:
        return "domain"
    parts = module.split(".")
    if parts[0] == SERVER:
        return "server"
    if parts[0] == DESKTOP and len(parts) > 1 and parts[1] in LAYERS:
        return parts[1]
    return None


def _rank(layer: str) -> int:
    return len(LAYERS) if layer == "root" else LAYERS.index(layer)


def breaks_rule(edge: Edge) -> str | None:
    """Why ``edge`` breaks the layer rule, or ``None`` when it is allowed."""
    source, target = layer_of(edge.source), layer_of(edge.target)
    top = edge.target.split(".")[0]
    if source == "server":
        if top == DESKTOP and not edge.target.startswith(f"{DESKTOP}.domain"):
            return "the server imports only desmig_desktop.domain"
        return None
    if not edge.source.startswith(DESKTOP):
        return None
    if target == "server":
        return "the desktop never imports the server"
    if top in _QT:
        return None if source in ("ui", "root") else "only the ui imports Qt"
    if top != DESKTOP:
        return None
    if source is None or target is None:
        return "a module outside the layers (give it one in layer_of)"
    if _rank(target) > _rank(source):
        return f"{source} imports the higher layer {target}"
    if source == "ui" and target in ("store", "sync"):
        return "the ui reaches data through services only"
    return None


def violations(root: Path = ROOT) -> dict[str, str]:
    """``{"module -> imported module": why}`` for every import that breaks the rule."""
    return {str(e): why for e in edges(root) if (why := breaks_rule(e)) is not None}


def group_of(module: str, packages: set[str]) -> str:
    """The box ``module`` is drawn in at package level: its layer, or its sub-package of one
    (``ui.sync``), a composition root on its own, the server as one box."""
    if module.startswith(SERVER):
        return SERVER
    if module in COMPOSITION_ROOTS:
        return module
    if module in _DOMAIN_AT_TOP:
        return f"{DESKTOP}.domain"
    parts = module.split(".")
    depth = len(parts) if module in packages else len(parts) - 1
    return ".".join(parts[:max(2, min(depth, 3))])


def _inside(graph: list[Edge]) -> list[Edge]:
    """The edges that draw: inside the desktop, and from the server into it."""
    return [e for e in graph if e.target.startswith(DESKTOP) and e.source.startswith((DESKTOP, SERVER))]


def _cluster(lines: list[str], layer: str, nodes: list[str], labels: dict[str, str]) -> None:
    members = [n for n in nodes if layer_of(n) == layer]
    lines.append(f'  subgraph cluster_{layer} {{ label="{layer}"; style=filled; color="{_COLOURS[layer]}";')
    lines += [f'    "{n}" [label="{labels[n]}", fillcolor=white];' for n in members]
    lines.append("  }")


def to_dot(graph: list[Edge], packages: set[str], *, modules: bool = False) -> str:
    """DOT, importers above what they import (composition roots top, domain bottom), rule-breaking edges red.

    Package level (default): one box per layer or sub-package, each arrow labelled with how many
    module imports it stands for (``n (k against the rule)``). ``modules``: one box per module,
    a type-only import dashed. The server is one box in both.
    """
    drawn = _inside(graph)
    if modules:
        rename = {n: SERVER if n.startswith(SERVER) else n for e in drawn for n in (e.source, e.target)}
    else:
        rename = {n: group_of(n, packages) for e in drawn for n in (e.source, e.target)}
    merged: dict[tuple[str, str], list[Edge]] = {}
    for edge in drawn:
        a, b = rename[edge.source], rename[edge.target]
        if a != b:
            merged.setdefault((a, b), []).append(edge)
    nodes = sorted({n for pair in merged for n in pair})
    labels = {n: n.removeprefix(f"{DESKTOP}.") for n in nodes}
    lines = ["digraph imports {", "  rankdir=TB; node [shape=box, fontsize=10, style=filled];",
             '  edge [color="#9aa5b1", arrowsize=0.6, fontsize=9];']
    for layer in (*LAYERS, "root"):
        _cluster(lines, layer, nodes, labels)
    if SERVER in nodes:
        lines.append(f'  "{SERVER}" [label="{SERVER}", fillcolor="#dddddd"];')
    for (a, b), group in sorted(merged.items()):
        bad = sum(1 for e in group if breaks_rule(e))
        attrs = ["color=red", "fontcolor=red", "penwidth=1.6"] if bad else []
        if modules:
            attrs += ["style=dashed"] if all(e.type_only for e in group) else []
        else:
            attrs.append(f'label="{len(group)}' + (f' ({bad} against the rule)"' if bad else '"'))
        lines.append(f'  "{a}" -> "{b}"' + (f" [{', '.join(attrs)}];" if attrs else ";"))
    lines.append("}")
    return "\n".join(lines) + "\n"


def counts(graph: list[Edge]) -> tuple[int, int]:
    """(edges inside desmig_desktop, how many of them break the rule)."""
    inside = [e for e in graph if e.source.startswith(DESKTOP) and e.target.startswith(DESKTOP)]
    return len(inside), sum(1 for e in inside if breaks_rule(e))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout to draw (default: this one)")
    parser.add_argument("--out", type=Path, default=Path("import-graph"),
                        help="output path without suffix; also writes <out>-modules.* (one box per module)")
    args = parser.parse_args(argv)
    graph = edges(args.root)
    packages = {m for m, path in module_files(args.root).items() if path.name == "__init__.py"}
    dot = shutil.which("dot")
    written: list[Path] = []
    for out, modules in ((args.out, False), (args.out.with_name(args.out.name + "-modules"), True)):
        dot_file = out.with_suffix(".dot")
        dot_file.write_text(to_dot(graph, packages, modules=modules), encoding="utf-8")
        written.append(dot_file)
        if dot is not None:
            subprocess.run([dot, "-Tpng", str(dot_file), "-o", str(out.with_suffix(".png"))], check=True)
            written.append(out.with_suffix(".png"))
    total, bad = counts(graph)
    server_bad = sum(1 for e in graph if e.source.startswith(SERVER) and breaks_rule(e))
    print(f"{total} edges inside {DESKTOP}, {bad} break the layer rule; {server_bad} server imports break it")
    print("wrote " + ", ".join(str(p) for p in written) + ("" if dot else " (install graphviz for the PNGs)"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
