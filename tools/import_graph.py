"""Print segsql's package import graph (which package imports which), from `ast`.

    python tools/import_graph.py            # edges, one package per line
    python tools/import_graph.py --check    # exit 1 if an import goes back up the layers

A package is a folder of segsql/ (or a top-level module). Lazy imports inside functions
count too: a layer may not reach up, even lazily.
"""

from __future__ import annotations

import ast
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "segsql"
# Lowest first: a package may import only packages earlier in this list.
LAYERS = [
    "errors",
    "clock",
    "targets",
    "model",
    "definitions",
    "plan",
    "dialects",
    "compiler",
    "state",
    "adapters",
    "runner",
    "docs",
    "cli",
]


def package_of(path: Path) -> str:
    rel = path.relative_to(ROOT)
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


def imports(path: Path) -> set[str]:
    """The segsql packages that one file imports (absolute or relative)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    here = path.relative_to(ROOT).parts[:-1]  # the file's package path inside segsql
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = list(here[: len(here) - node.level + 1])
                parts = base + (node.module.split(".") if node.module else [])
                if not parts:  # `from .. import x` at the top: x is a package
                    found.update(a.name for a in node.names)
                    continue
            elif node.module and node.module.split(".")[0] == "segsql":
                parts = node.module.split(".")[1:]
                if not parts:
                    found.update(a.name for a in node.names)
                    continue
            else:
                continue
            found.add(parts[0])
        elif isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == "segsql" and len(parts) > 1:
                    found.add(parts[1])
    return found


def graph() -> dict[str, set[str]]:
    edges: dict[str, set[str]] = defaultdict(set)
    for path in sorted(ROOT.rglob("*.py")):
        pkg = package_of(path)
        edges[pkg].update(p for p in imports(path) if p != pkg and p != "__init__")
        edges.setdefault(pkg, set())
    edges.pop("__init__", None)
    edges.pop("__main__", None)
    return dict(edges)


def upward(edges: dict[str, set[str]]) -> list[tuple[str, str]]:
    """Imports of a package at the same level or above (by LAYERS), or unknown to it."""
    rank = {name: i for i, name in enumerate(LAYERS)}
    bad = []
    for pkg, deps in sorted(edges.items()):
        for dep in sorted(deps):
            if pkg not in rank or dep not in rank or rank[dep] >= rank[pkg]:
                bad.append((pkg, dep))
    return bad


def main() -> int:
    edges = graph()
    order = sorted(edges, key=lambda p: (LAYERS.index(p) if p in LAYERS else 99, p))
    for pkg in order:
        print(f"{pkg:<12} -> {', '.join(sorted(edges[pkg])) or '-'}")
    if "--check" in sys.argv:
        bad = upward(edges)
        for pkg, dep in bad:
            print(f"upward import: {pkg} -> {dep}", file=sys.stderr)
        return 1 if bad else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
