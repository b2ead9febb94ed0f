"""Server-side SVG for the overview: a heat map and a trace matrix. No script, no CDN."""

from __future__ import annotations

from html import escape

from app.services.overview import Overview

CELL = 22
LEFT = 190
TOP = 120


def _shade(value: float) -> str:
    """White → deep blue as value goes 0 → 1."""
    if value <= 0:
        return "#f4f6f8"
    r = int(230 - 200 * value)
    g = int(238 - 150 * value)
    b = int(250 - 90 * value)
    return f"rgb({r},{g},{b})"


def _label(text: str, limit: int = 11) -> str:
    return escape(text if len(text) <= limit else text[: limit - 1] + "…")


def _svg_open(width: float, height: float, name: str, title: str, desc: str) -> list[str]:
    """The opening of an accessible chart: role img, labelled by its title and description."""
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" aria-labelledby="{name}-title {name}-desc" class="chart">',
        f'<title id="{name}-title">{title}</title>',
        f'<desc id="{name}-desc">{desc}</desc>',
    ]


def heat_map(ov: Overview) -> str:
    """Key points × units: how many of the unit's tasks trace to each key point."""
    rows: list[tuple[int | None, str]] = [(kp.id, f"{kp.number}. {kp.title}") for kp in ov.key_points]
    if any(kp_id is None for kp_id, _ in ov.counts):
        rows.append((None, "未追溯到要点的任务"))
    width = LEFT + CELL * len(ov.departments) + 10
    height = TOP + CELL * len(rows) + 10
    top = max(1, ov.max_count)
    parts = _svg_open(
        width,
        height,
        "heat",
        "工作要点 × 成员单位 任务数热力图",
        f"{len(rows)} 行要点,{len(ov.departments)} 列成员单位,颜色越深任务越多,最多 {ov.max_count} 项。",
    )
    for j, name in enumerate(ov.departments):
        x = LEFT + CELL * j + CELL / 2
        parts.append(
            f'<a href="/departments/{escape(name)}"><text x="{x}" y="{TOP - 6}" transform="rotate(-60 {x} {TOP - 6})" '
            f'class="col-label">{_label(name, 8)}</text></a>'
        )
    for i, (kp_id, label) in enumerate(rows):
        y = TOP + CELL * i
        parts.append(
            f'<text x="{LEFT - 6}" y="{y + CELL * 0.7}" text-anchor="end" class="row-label">{_label(label, 13)}</text>'
        )
        for j, name in enumerate(ov.departments):
            n = ov.counts.get((kp_id, name), 0)
            x = LEFT + CELL * j
            parts.append(
                f'<rect x="{x}" y="{y}" width="{CELL - 2}" height="{CELL - 2}" fill="{_shade(n / top)}">'
                f"<title>{escape(label)} · {escape(name)}:{n} 项任务</title></rect>"
            )
            if n:
                fill = "#fff" if n / top > 0.5 else "#123"
                parts.append(
                    f'<text x="{x + (CELL - 2) / 2}" y="{y + CELL * 0.68}" text-anchor="middle" class="cell" fill="{fill}">{n}</text>'
                )
    parts.append("</svg>")
    return "".join(parts)


def trace_matrix(ov: Overview) -> str:
    """Key points × ledger tasks: the trace links, darker for a higher score."""
    cell = 12
    left, top = LEFT, 40
    width = left + cell * len(ov.tasks) + 10
    height = top + CELL * len(ov.key_points) + 10
    parts = _svg_open(
        width, height, "trace", "要点 → 台账任务 追溯矩阵", f"{len(ov.trace)} 条追溯关系;列为任务编号,行为工作要点。"
    )
    for j, task in enumerate(ov.tasks):
        if task.number % 5 == 0 or task.number == 1:
            parts.append(
                f'<text x="{left + cell * j + cell / 2}" y="{top - 8}" text-anchor="middle" class="col-label">{task.number}</text>'
            )
    for i, kp in enumerate(ov.key_points):
        y = top + CELL * i
        parts.append(
            f'<text x="{left - 6}" y="{y + CELL * 0.7}" text-anchor="end" class="row-label">{_label(f"{kp.number}. {kp.title}", 13)}</text>'
        )
        for j, task in enumerate(ov.tasks):
            score = ov.trace.get((kp.id, task.id), 0.0)  # type: ignore[arg-type]
            rect = (
                f'<rect x="{left + cell * j}" y="{y}" width="{cell - 1}" height="{CELL - 2}" fill="{_shade(score)}">'
                f"<title>要点 {kp.number} → 任务 {task.number}:{score:.2f}</title></rect>"
            )
            parts.append(f'<a href="/tasks/{task.id}">{rect}</a>' if score else rect)
    parts.append("</svg>")
    return "".join(parts)
