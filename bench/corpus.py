"""A deterministic synthetic corpus in the seed's format and vocabulary.

Each document keeps the seed's header, sections and 12 key points and gets a ledger of
synthetic tasks: one to three clauses drawn from the seed's own ledger, each task with
one to four units of the seed's 34. The same (size, seed) gives the same text.
"""

from __future__ import annotations

import random
import re
from pathlib import Path

SEED = Path(__file__).resolve().parent.parent / "seed" / "2023-work-points.txt"
TASKS_PER_DOCUMENT = 1000


def _vocabulary(seed_text: str) -> tuple[str, list[str], list[str]]:
    head, _, ledger = seed_text.partition("任务台账")
    head = head.rsplit("附件:", 1)[0]
    items = re.findall(r"^\s*\d+\.(.*)\(([^()]*)\)\s*$", ledger, flags=re.M)
    clauses = sorted({c.strip() for body, _ in items for c in re.split(r"[,。]", body) if len(c.strip()) >= 6})
    units = sorted(
        {u for _, names in items for u in re.split("[、,]", names) if "成员单位" not in u and "牵头" not in u}
    )
    return head, clauses, units


def synthetic_notices(tasks: int, *, seed: int = 20230322) -> list[str]:
    """Notices holding `tasks` ledger tasks in all, at most 1,000 per notice."""
    rng = random.Random(seed)
    head, clauses, units = _vocabulary(SEED.read_text("utf-8"))
    notices = []
    for k in range(max(1, -(-tasks // TASKS_PER_DOCUMENT))):
        count = min(TASKS_PER_DOCUMENT, tasks - k * TASKS_PER_DOCUMENT)
        title = f"2023年全民科学素质行动(合成第{k + 1}册)工作要点"  # the title must end as a work-points one
        lines = [head.replace("2023年全民科学素质行动工作要点", title), "附件", "任务台账"]
        for n in range(1, count + 1):
            body = ",".join(rng.sample(clauses, rng.randint(1, 3)))
            lines.append(f"{n}.{body}。({'、'.join(rng.sample(units, rng.randint(1, 4)))})")
        notices.append("\n".join(lines) + "\n")
    return notices
