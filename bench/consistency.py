"""Writes in a loop and a consistency checker beside a load test (`bench/load.py --writes`).

`WriteLoop` runs `kepu import --replace` with alternate copies of the seed and of a second
edition, and `kepu reindex`, one process per write as from a shell, with a pause between
writes. `Checker` samples every serving process meanwhile, over fresh connections (so
every worker of a process is asked): a unit's task total from search (`q=<unit>`,
`kind=task`, `department=<unit>`) beside the same unit's total from `/api/v1/tasks`
(plain SQL), and a broad query's result list for records answered twice.

Judged by `report()`: a pair that disagrees is a violation when no write ran from `settle`
seconds before the pair was asked until it was answered (the server had the sync interval
and more to catch up); a record answered twice, a list shorter than its total, or any
non-2xx answer is a violation whenever it happens.
"""

from __future__ import annotations

import random
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "seed" / "2023-work-points.txt"
KEPU = [sys.executable, "-m", "app"]
# Units whose tasks a `--replace` below changes (科技部 joins task 6), and others for contrast.
UNITS = ["科技部", "中央宣传部", "中国科协", "教育部", "中科院", "卫生健康委", "农业农村部"]
BROAD = ["科幻", "科普", "科技部"]
TASK_6 = "顾问服务。(中央宣传部、中国科协)"


def editions(folder: Path) -> dict[str, Path]:
    """The seed, the seed with task 6 changed, and a 2024 edition in both forms."""
    seed = SEED.read_text("utf-8")
    texts = {
        "2023": seed,
        "2023-changed": seed.replace(TASK_6, "顾问服务。(中央宣传部、中国科协、科技部)"),
        "2024": seed.replace("2023", "2024"),
        "2024-changed": seed.replace("2023", "2024").replace(TASK_6, "顾问服务。(中央宣传部、中国科技部)"),
    }
    assert texts["2023"] != texts["2023-changed"] and texts["2024"] != texts["2024-changed"]
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, text in texts.items():
        paths[name] = folder / f"{name}.txt"
        paths[name].write_text(text, "utf-8")
    return paths


# One cycle: each edition changes, is changed back, and the index is rebuilt twice.
CYCLE: list[tuple[str, ...]] = [
    ("import", "--replace", "2023-changed"),
    ("import", "--replace", "2024"),
    ("reindex",),
    ("import", "--replace", "2023"),
    ("import", "--replace", "2024-changed"),
    ("reindex",),
]


@dataclass
class Write:
    """One write by another process: what, and when it ran (monotonic seconds)."""

    action: str
    started: float
    ended: float
    ok: bool


class WriteLoop(threading.Thread):
    """Imports and reindexes in a loop, each in its own `kepu` process, until stopped."""

    def __init__(self, env: dict[str, str], folder: Path, pause: float) -> None:
        super().__init__(daemon=True)
        self.env = env
        self.paths = editions(folder)
        self.pause = pause
        self.writes: list[Write] = []
        self.failures: list[str] = []
        self.stopping = threading.Event()
        self.lock = threading.Lock()

    def run(self) -> None:
        """Write, pause, write … until stop()."""
        step = 0
        while not self.stopping.is_set():
            action = CYCLE[step % len(CYCLE)]
            step += 1
            args = [str(self.paths[a]) if a in self.paths else a for a in action]
            started = time.monotonic()
            result = subprocess.run([*KEPU, *args], env=self.env, capture_output=True, text=True, timeout=600)
            with self.lock:
                self.writes.append(Write(" ".join(action), started, time.monotonic(), result.returncode == 0))
                if result.returncode != 0:
                    self.failures.append(f"{' '.join(action)}: {result.stderr[-500:]}")
            self.stopping.wait(self.pause)

    def stop(self) -> None:
        """Finish the write in progress, then stop."""
        self.stopping.set()
        self.join(timeout=600)


@dataclass
class Sample:
    """One pair asked of one serving process, or one result list checked."""

    url: str
    asked: float
    answered: float
    what: str
    search_total: int | None = None
    store_total: int | None = None
    problem: str | None = None  # a duplicate, a short list or an error: a violation whenever it happens


class Checker(threading.Thread):
    """Samples each serving process in turn until stopped."""

    def __init__(self, urls: list[str], interval: float = 0.2) -> None:
        super().__init__(daemon=True)
        self.urls = urls
        self.interval = interval
        self.samples: list[Sample] = []
        self.stopping = threading.Event()

    def run(self) -> None:
        """Sample, sleep, sample … until stop()."""
        rng = random.Random(12)
        # No keep-alive: each request opens its own connection, so every worker gets asked.
        limits = httpx.Limits(max_keepalive_connections=0)
        with httpx.Client(timeout=30, limits=limits) as client:
            while not self.stopping.is_set():
                for url in self.urls:
                    self.samples.append(self._pair(client, url, rng.choice(UNITS)))
                    self.samples.append(self._list(client, url, rng.choice(BROAD)))
                self.stopping.wait(self.interval)

    def stop(self) -> None:
        """Stop after the current round."""
        self.stopping.set()
        self.join(timeout=120)

    def _pair(self, client: httpx.Client, url: str, unit: str) -> Sample:
        asked = time.monotonic()
        try:
            found = client.get(
                f"{url}/api/v1/search", params={"q": unit, "kind": "task", "department": unit, "limit": 200}
            )
            stored = client.get(f"{url}/api/v1/tasks", params={"department": unit, "limit": 1})
        except httpx.HTTPError as exc:
            return Sample(url, asked, time.monotonic(), unit, problem=f"{type(exc).__name__}: {exc}")
        answered = time.monotonic()
        if found.status_code != 200 or stored.status_code != 200:
            return Sample(url, asked, answered, unit, problem=f"status {found.status_code} / {stored.status_code}")
        body = found.json()
        problem = _list_problem(body)
        return Sample(url, asked, answered, unit, int(body["total"]), int(stored.json()["total"]), problem)

    def _list(self, client: httpx.Client, url: str, q: str) -> Sample:
        asked = time.monotonic()
        try:
            found = client.get(f"{url}/api/v1/search", params={"q": q, "limit": 200})
        except httpx.HTTPError as exc:
            return Sample(url, asked, time.monotonic(), q, problem=f"{type(exc).__name__}: {exc}")
        answered = time.monotonic()
        if found.status_code != 200:
            return Sample(url, asked, answered, q, problem=f"status {found.status_code}")
        return Sample(url, asked, answered, q, problem=_list_problem(found.json()))


def _list_problem(body: dict[str, object]) -> str | None:
    items = body["items"]
    total = body["total"]
    assert isinstance(items, list) and isinstance(total, int)
    keys = [(item["kind"], item["id"]) for item in items]
    twice = sorted(k for k, n in Counter(keys).items() if n > 1)
    if twice:
        return f"answered twice: {twice[:5]} (total {total})"
    if len(items) != min(total, 200):
        return f"{len(items)} items for a total of {total}"
    return None


@dataclass
class Verdict:
    """What the checker saw, judged against the writes."""

    writes: int
    failed_writes: int
    samples: int
    pairs: int
    judged: int
    disagreed_while_writing: int
    violations: list[str]
    lag_p50: float | None
    lag_max: float | None


def judge(writes: list[Write], samples: list[Sample], settle: float) -> Verdict:
    """Violations: problems at any time; totals that disagree with no write in [asked - settle, answered]."""
    violations = [f"{s.url} {s.what}: {s.problem}" for s in samples if s.problem]
    pairs = [s for s in samples if s.search_total is not None and s.problem is None]

    def quiet(s: Sample) -> bool:
        return not any(w.started <= s.answered and w.ended >= s.asked - settle for w in writes)

    judged = [s for s in pairs if quiet(s)]
    violations += [
        f"{s.url} {s.what}: search {s.search_total} vs tasks {s.store_total}, "
        f"{s.asked - max((w.ended for w in writes if w.ended <= s.asked), default=0):.1f} s after the last write"
        for s in judged
        if s.search_total != s.store_total
    ]
    disagreed = sum(1 for s in pairs if not quiet(s) and s.search_total != s.store_total)
    # Lag: from a write's end to the first pair after it, on each process, from which on all agree
    # until the next write starts.
    lags: list[float] = []
    for n, write in enumerate(writes):
        until = writes[n + 1].started if n + 1 < len(writes) else float("inf")
        for url in sorted({s.url for s in pairs}):
            after = [s for s in pairs if s.url == url and write.ended <= s.asked and s.answered <= until]
            last_bad = max((k for k, s in enumerate(after) if s.search_total != s.store_total), default=-1)
            if last_bad + 1 < len(after):
                lags.append(max(0.0, after[last_bad + 1].asked - write.ended) if last_bad >= 0 else 0.0)
    return Verdict(
        writes=len(writes),
        failed_writes=sum(1 for w in writes if not w.ok),
        samples=len(samples),
        pairs=len(pairs),
        judged=len(judged),
        disagreed_while_writing=disagreed,
        violations=violations,
        lag_p50=round(statistics.median(lags), 2) if lags else None,
        lag_max=round(max(lags), 2) if lags else None,
    )
