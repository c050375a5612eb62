"""The benchmark catalogue (bench/segments/) and generated variants of it (for the
compile-time measurement of 1000 segments)."""

from __future__ import annotations

import copy
import re
from pathlib import Path

import yaml

PROJECT = Path(__file__).resolve().parent / "segments"
_DURATION = re.compile(r"^(\d+)([smhdw])$")


def catalogue_docs() -> list[tuple[str, dict]]:
    """(file name, parsed YAML) of every file of the benchmark project."""
    return [
        (str(p.relative_to(PROJECT)), yaml.safe_load(p.read_text()))
        for p in sorted((PROJECT / "segments").glob("*.yml"))
    ]


def _vary(node, i: int):
    """Shift durations and numeric thresholds a little, so variants are distinct features
    (more work for the planner than identical copies, which it would share)."""
    if isinstance(node, dict):
        return {k: _vary(v, i) for k, v in node.items()}
    if isinstance(node, list):
        return [_vary(v, i) for v in node]
    if isinstance(node, str):
        m = _DURATION.match(node)
        if m:
            return f"{int(m.group(1)) + i % 5}{m.group(2)}"
    if isinstance(node, int) and not isinstance(node, bool):
        return node + i % 3
    return node


def generated_docs(n: int) -> list[tuple[str, dict]]:
    """The catalogue plus variants of its segments, `n` segments in all. Variants refer
    to the original segments with `in_segment`."""
    docs = catalogue_docs()
    base = [s for _, d in docs for s in d.get("segments") or []]
    variants = []
    for i in range(max(0, n - len(base))):
        seg = copy.deepcopy(base[i % len(base)])
        seg["name"] = f"{seg['name']}_v{i}"
        seg["where"] = _vary(seg["where"], i // len(base) + 1)
        variants.append(seg)
    return docs + [("segments/generated.yml", {"segments": variants})]


def generated_texts(n: int) -> list[tuple[str, str]]:
    """(file name, YAML text) of `n` generated segments."""
    return [(name, yaml.safe_dump(doc, sort_keys=False)) for name, doc in generated_docs(n)]


def load_generated(n: int, dialect: str = "duckdb", texts: list[tuple[str, str]] | None = None):
    """A validated Project of `n` segments (no files written): the YAML texts parsed and
    validated as `segsql` reads a project."""
    from segsql.definitions.project import project_from_docs
    from segsql.definitions.yaml import load_text

    texts = texts if texts is not None else generated_texts(n)
    return project_from_docs(
        PROJECT, [(name, load_text(text, name)) for name, text in texts], dialect
    )
