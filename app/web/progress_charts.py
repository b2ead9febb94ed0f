"""Server-side SVG for /progress: completion by unit and by key point, stale units highlighted. No script."""

from __future__ import annotations

from html import escape

from app import schemas as s
from app.domain.vocabulary import TaskStatus

STATUS_COLOURS = {
    TaskStatus.DONE: "#2e7d32",
    TaskStatus.IN_PROGRESS: "#1e88e5",
    TaskStatus.BLOCKED: "#e53935",
    TaskStatus.NOT_STARTED: "#cfd8dc",
}
STATUS_LABELS = {
    TaskStatus.NOT_STARTED: "未开始",
    TaskStatus.IN_PROGRESS: "进行中",
    TaskStatus.DONE: "已完成",
    TaskStatus.BLOCKED: "受阻",
}
ORDER = (TaskStatus.DONE, TaskStatus.IN_PROGRESS, TaskStatus.BLOCKED, TaskStatus.NOT_STARTED)
ROW = 22
LEFT = 200
BAR = 420
STALE = "#b71c1c"


def _bars(name: str, title: str, desc: str, rows: list[tuple[str, s.StatusCounts, bool]]) -> str:
    height = 30 + ROW * len(rows) + 30
    width = LEFT + BAR + 160
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" aria-labelledby="{name}-title {name}-desc" class="chart progress-chart" id="{name}">',
        f'<title id="{name}-title">{escape(title)}</title>',
        f'<desc id="{name}-desc">{escape(desc)}</desc>',
    ]
    x = LEFT
    for status in ORDER:  # legend
        out.append(f'<rect x="{x}" y="6" width="12" height="12" fill="{STATUS_COLOURS[status]}"/>')
        out.append(f'<text x="{x + 16}" y="16">{STATUS_LABELS[status]}</text>')
        x += 80
    for i, (label, counts, stale) in enumerate(rows):
        y = 30 + i * ROW
        # Presentation attributes, not style="": the pages' CSP allows no inline style.
        colour = f' fill="{STALE}" font-weight="bold"' if stale else ""
        mark = " ⚠" if stale else ""
        short = label if len(label) <= 14 else label[:13] + "…"
        out.append(
            f'<text x="{LEFT - 8}" y="{y + 15}" text-anchor="end"{colour} data-stale="{str(stale).lower()}">'
            f"{escape(short)}{mark}<title>{escape(label)}</title></text>"
        )
        left = float(LEFT)
        for status in ORDER:
            n = counts.by_status.get(status, 0)
            if not n or not counts.total:
                continue
            w = BAR * n / counts.total
            out.append(
                f'<rect x="{left:.1f}" y="{y + 3}" width="{w:.1f}" height="{ROW - 6}" fill="{STATUS_COLOURS[status]}">'
                f"<title>{escape(label)} {STATUS_LABELS[status]} {n}</title></rect>"
            )
            left += w
        out.append(
            f'<text x="{LEFT + BAR + 8}" y="{y + 15}">{counts.by_status.get(TaskStatus.DONE, 0)}/{counts.total}'
            f" 完成 {counts.completion:.0%}</text>"
        )
    out.append("</svg>")
    return "\n".join(out)


def by_department(stats: s.ProgressStats) -> str:
    """Each unit's lead tasks by status; units with no recent report in red with ⚠."""
    rows = [(d.name, d.lead, d.stale) for d in stats.departments if d.lead.total]
    return _bars(
        "progress-units",
        "各成员单位牵头任务进展",
        f"每行一家成员单位牵头的任务按状态分段;红色标注的单位 {stats.stale_days} 天内没有上报进展。",
        rows,
    )


def by_key_point(stats: s.ProgressStats) -> str:
    """Each key point's tasks (first trace link) by status."""
    rows = [(f"{k.number}. {k.title}", k.counts, False) for k in stats.key_points if k.counts.total]
    return _bars("progress-key-points", "各工作要点任务进展", "每行一项工作要点所追溯任务按状态分段。", rows)
