"""dbt-style selection: `name`, `tag:x`, `+name` (with what it depends on), `name+` (with
what depends on it); space-separated selectors are a union, comma-joined an intersection."""

from __future__ import annotations

from collections.abc import Iterable

from ..errors import UsageError, did_you_mean
from .types import Project, Segment
from .walk import dependencies


def select(
    project: Project, selectors: Iterable[str] | None, include_disabled: bool = False
) -> list[Segment]:
    """Selected segments in definition order (all enabled ones when nothing is given)."""
    pool = project.segments if include_disabled else project.enabled
    selectors = list(selectors or ())
    words = [w for s in selectors for w in s.split()]
    if not words:
        if selectors:  # `--select ""`, e.g. a template that rendered empty: not "all"
            raise UsageError(
                "--select was given no selector (an empty value); "
                "leave --select out to select every enabled segment"
            )
        return list(pool.values())
    chosen: set[str] = set()
    for word in words:
        names = word.split(",")
        if "" in names:
            raise UsageError(
                f"selector '{word}' has an empty part: join selectors with ',' for an "
                "intersection (tag:a,tag:b) or separate them with spaces for a union"
            )
        parts = [_one(project, pool, p) for p in names]
        both = set.intersection(*parts)
        if not both:
            listed = ", ".join(f"'{n}'" for n in names[:-1]) + f" and '{names[-1]}'"
            raise UsageError(
                f"selector '{word}' matches no segment: {listed} each match a segment, "
                f"but no segment matches {'both' if len(names) == 2 else 'all of them'} "
                "(',' is an intersection; separate selectors with spaces for a union)"
            )
        chosen |= both
    return [s for n, s in pool.items() if n in chosen]


def _one(project: Project, pool: dict[str, Segment], selector: str) -> set[str]:
    upstream, downstream = selector.startswith("+"), selector.endswith("+")
    core = selector.strip("+")
    if core.startswith("tag:"):
        tag = core[4:]
        found = {n for n, s in pool.items() if tag in s.tags}
        if not found:
            tags = sorted({t for s in project.segments.values() for t in s.tags})
            if tag in tags:
                raise UsageError(
                    f"selector '{selector}' matches no segment: every segment tagged "
                    f"'{tag}' is disabled"
                )
            raise UsageError(
                f"selector '{selector}' matches no segment: no tag '{tag}'{did_you_mean(tag, tags)}"
            )
    elif core in pool:
        found = {core}
    else:
        if core in project.segments:
            raise UsageError(f"selector '{selector}' matches no segment (it is disabled)")
        hint = did_you_mean(core, pool)
        if not hint and any(core in s.tags for s in pool.values()):
            hint = f" (did you mean 'tag:{core}'?)"
        raise UsageError(f"selector '{selector}' matches no segment{hint}")
    if upstream:
        todo = list(found)
        while todo:
            for dep in dependencies(project.segments[todo.pop()]):
                if dep not in found:
                    found.add(dep)
                    todo.append(dep)
    if downstream:
        changed = True
        while changed:
            more = {n for n, s in pool.items() if n not in found and set(dependencies(s)) & found}
            found |= more
            changed = bool(more)
    return found
