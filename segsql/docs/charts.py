"""Charts as inline SVG, drawn here in Python: a page that works from file:// with no
script library to vendor, and a chart that is plain markup (its points are elements a
test can count). Text reaches the markup only through `esc`."""

from __future__ import annotations

from datetime import datetime
from html import escape

WIDTH, HEIGHT, PAD = 560, 160, 36


def esc(text: object) -> str:
    return escape(str(text), quote=True)


def _scale(values: list[float], low: float, high: float) -> list[float]:
    top = max(values) if values else 0
    bottom = min(0, min(values)) if values else 0
    span = (top - bottom) or 1
    return [high - (v - bottom) / span * (high - low) for v in values]


def _x(n: int) -> list[float]:
    if n == 1:
        return [WIDTH / 2]
    step = (WIDTH - 2 * PAD) / (n - 1)
    return [PAD + i * step for i in range(n)]


def line_chart(title: str, times: list[datetime], values: list[int]) -> str:
    """One point (a `circle.pt`) per value, joined by a line; axis labels: first and last
    time, the largest value."""
    if not values:
        return '<p class="empty">No runs recorded yet.</p>'
    xs, ys = _x(len(values)), _scale([float(v) for v in values], PAD / 2, HEIGHT - PAD)
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(xs, ys, strict=True))
    points = "".join(
        f'<circle class="pt" cx="{x:.1f}" cy="{y:.1f}" r="3">'
        f"<title>{esc(f'{t:%Y-%m-%d %H:%M}')}: {v}</title></circle>"
        for x, y, t, v in zip(xs, ys, times, values, strict=True)
    )
    return (
        f'<svg class="chart line" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{esc(title)}" data-points="{len(values)}">'
        f'<line class="axis" x1="{PAD}" y1="{HEIGHT - PAD}" x2="{WIDTH - PAD}" '
        f'y2="{HEIGHT - PAD}"/>'
        f'<polyline points="{path}"/>{points}'
        f'<text x="{PAD}" y="{HEIGHT - 12}">{esc(f"{times[0]:%Y-%m-%d}")}</text>'
        f'<text x="{WIDTH - PAD}" y="{HEIGHT - 12}" text-anchor="end">'
        f"{esc(f'{times[-1]:%Y-%m-%d}')}</text>"
        f'<text x="4" y="{PAD / 2 + 4}">{max(values)}</text></svg>'
    )


def change_bars(title: str, times: list[datetime], entered: list[int], exited: list[int]) -> str:
    """Per run a bar up (entered, `rect.in`) and a bar down (exited, `rect.out`)."""
    if not times:
        return ""
    mid = HEIGHT / 2
    top = max([*entered, *exited, 1])
    xs = _x(len(times))
    width = max(2.0, min(14.0, (WIDTH - 2 * PAD) / max(len(times), 1) * 0.6))
    bars = []
    for x, t, i, o in zip(xs, times, entered, exited, strict=True):
        up, down = i / top * (mid - 14), o / top * (mid - 14)
        label = esc(f"{t:%Y-%m-%d %H:%M}: +{i} -{o}")
        bars.append(
            f'<g><title>{label}</title><rect class="in" x="{x - width / 2:.1f}" '
            f'y="{mid - up:.1f}" width="{width:.1f}" height="{up:.1f}"/>'
            f'<rect class="out" x="{x - width / 2:.1f}" y="{mid:.1f}" width="{width:.1f}" '
            f'height="{down:.1f}"/></g>'
        )
    return (
        f'<svg class="chart bars" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{esc(title)}" data-points="{len(times)}">'
        f'<line class="axis" x1="{PAD}" y1="{mid}" x2="{WIDTH - PAD}" y2="{mid}"/>'
        + "".join(bars)
        + f'<text x="4" y="14">+{max(entered, default=0)}</text>'
        f'<text x="4" y="{HEIGHT - 4}">-{max(exited, default=0)}</text></svg>'
    )


def lineage_graph(nodes: list[tuple[str, str, int]], edges: list[tuple[str, str, str]]) -> str:
    """Boxes in columns by depth (a segment right of the segments it reads), arrows from
    what is read to what reads it. nodes: (id, label, depth); edges: (from, to, kind),
    kind `in_segment`, `parent` or `members`."""
    if not nodes:
        return ""
    box_w, box_h, gap_x, gap_y = 190, 24, 60, 10
    rows: dict[int, int] = {}
    where: dict[str, tuple[float, float]] = {}
    for node_id, _, depth in nodes:
        row = rows.get(depth, 0)
        rows[depth] = row + 1
        where[node_id] = (10 + depth * (box_w + gap_x), 10 + row * (box_h + gap_y))
    width = 20 + (max(rows) + 1) * (box_w + gap_x)
    height = 20 + max(rows.values()) * (box_h + gap_y)
    parts = []
    for src, dst, kind in edges:
        if src not in where or dst not in where:
            continue
        (x1, y1), (x2, y2) = where[src], where[dst]
        parts.append(
            f'<line class="edge {esc(kind)}" x1="{x1 + box_w:.0f}" y1="{y1 + box_h / 2:.0f}" '
            f'x2="{x2:.0f}" y2="{y2 + box_h / 2:.0f}" marker-end="url(#arrow)">'
            f"<title>{esc(f'{src} -> {dst} ({kind})')}</title></line>"
        )
    for node_id, label, _ in nodes:
        x, y = where[node_id]
        kind = "entity" if node_id.startswith("entity:") else "segment"
        target = "" if kind == "entity" else f' href="#seg-{esc(label)}"'
        parts.append(
            f'<a{target}><g class="node {kind}"><rect x="{x:.0f}" y="{y:.0f}" rx="4" '
            f'width="{box_w}" height="{box_h}"/><text x="{x + 8:.0f}" y="{y + 16:.0f}">'
            f"{esc(label)}</text></g></a>"
        )
    return (
        f'<svg class="lineage" viewBox="0 0 {width:.0f} {height:.0f}" width="{width:.0f}" '
        f'height="{height:.0f}"><defs><marker id="arrow" viewBox="0 0 10 10" refX="10" '
        f'refY="5" markerWidth="6" markerHeight="6" orient="auto"><path d="M0,0 L10,5 L0,10 z"/>'
        f"</marker></defs>{''.join(parts)}</svg>"
    )
