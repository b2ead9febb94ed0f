"""Search quality on judged queries: the judged set, per-query metrics and their means.

The engine under test is reached only through its HTTP API (`seeded_api`), so what is
scored is the list a client gets by default: GET /api/v1/search?q=…&limit=10.
"""

from __future__ import annotations

import math
import tempfile
import tomllib
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from fastapi.testclient import TestClient

from app.config import Settings
from app.db import make_engine, unit_of_work
from app.main import create_app
from app.migrate import upgrade
from app.parser import parse_notice_bytes
from app.services.importer import import_notice

K = 10
ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "seed" / "2023-work-points.txt"
JUDGED_QUERIES = ROOT / "tests" / "eval" / "judged_queries.toml"
REGRESSION_QUERIES = ROOT / "tests" / "eval" / "judgements.toml"
SECOND_HOLDOUT = ROOT / "tests" / "eval" / "holdout2.toml"
SPLITS = ("tune", "holdout", "holdout2")
ALL = "all"

# rank(q) → record keys ("task:N", "key_point:N", "activity:ID"), best first.
Ranker = Callable[[str], list[str]]


@dataclass(frozen=True)
class Judged:
    """A query with its class, split and graded relevant records (kind:number → 1 or 2)."""

    q: str
    relevant: dict[str, int]
    query_class: str = "regression"
    split: str = "tune"


@dataclass(frozen=True)
class QueryScore:
    """The metrics of one query's ranked list."""

    judged: Judged
    ranked: list[str]
    recall: float
    reciprocal_rank: float
    ndcg: float

    @property
    def zero(self) -> bool:
        """The engine returned no items at all."""
        return not self.ranked


@dataclass(frozen=True)
class Summary:
    """Mean metrics over a group of queries."""

    n: int
    ndcg: float
    recall: float
    mrr: float
    zero_rate: float


def load_judged(path: Path) -> list[Judged]:
    """Judged queries from a TOML file; a file without class/split is the "regression" class, split "tune"."""
    judged = []
    for item in tomllib.loads(path.read_text("utf-8"))["query"]:
        relevant = {str(key): int(grade) for key, grade in item["relevant"].items()}
        split = item.get("split", "tune")
        if not relevant or split not in SPLITS:
            raise ValueError(f"{path.name}: query {item['q']!r} has no relevant records or split {split!r}")
        judged.append(Judged(item["q"], relevant, item.get("class", "regression"), split))
    return judged


def score_query(judged: Judged, ranked: list[str]) -> QueryScore:
    """Metrics of one ranked list (best first) against its judgements; only the top K count."""
    top = ranked[:K]
    relevant = {key for key, grade in judged.relevant.items() if grade > 0}
    recall = len(relevant & set(top)) / len(relevant) if relevant else 0.0
    first = next((i for i, key in enumerate(top, 1) if key in relevant), None)
    # Graded gain 2^g - 1; a key listed twice gains once.
    seen: set[str] = set()
    dcg = 0.0
    for i, key in enumerate(top, 1):
        if key not in seen:
            dcg += (2 ** judged.relevant.get(key, 0) - 1) / math.log2(i + 1)
            seen.add(key)
    ideal = sorted(judged.relevant.values(), reverse=True)[:K]
    idcg = sum((2**grade - 1) / math.log2(i + 1) for i, grade in enumerate(ideal, 1))
    return QueryScore(judged, list(ranked), recall, 1 / first if first else 0.0, dcg / idcg if idcg else 0.0)


def evaluate(judged: Iterable[Judged], rank: Ranker) -> list[QueryScore]:
    """Each judged query scored against the engine's ranked list."""
    return [score_query(j, rank(j.q)) for j in judged]


def summarise(scores: list[QueryScore]) -> Summary:
    """Means of nDCG@K, recall@K, reciprocal rank and the zero-result rate."""
    n = len(scores)
    if not n:
        return Summary(0, 0.0, 0.0, 0.0, 0.0)
    return Summary(
        n,
        sum(s.ndcg for s in scores) / n,
        sum(s.recall for s in scores) / n,
        sum(s.reciprocal_rank for s in scores) / n,
        sum(s.zero for s in scores) / n,
    )


def by_class(scores: list[QueryScore]) -> dict[str, Summary]:
    """One summary per query class (in first-seen order), then "all"."""
    classes = dict.fromkeys(s.judged.query_class for s in scores)
    table = {c: summarise([s for s in scores if s.judged.query_class == c]) for c in classes}
    table[ALL] = summarise(scores)
    return table


def by_split(scores: list[QueryScore]) -> dict[str, Summary]:
    """One summary per split ("tune", "holdout"), then "all"."""
    table = {split: summarise([s for s in scores if s.judged.split == split]) for split in SPLITS}
    table[ALL] = summarise(scores)
    return table


def item_key(item: dict[str, object]) -> str:
    """kind:number of a search item; activities (number null) by id."""
    if item.get("number") is None:
        return f"{item['kind']}:{item['id']}"
    return f"{item['kind']}:{item['number']}"


@contextmanager
def seeded_api(seed: Path = SEED) -> Iterator[Ranker]:
    """rank(q) through GET /api/v1/search of an app over a throwaway store holding the seed.

    Only q and limit=10 are sent, so the list is the API's default one (activities
    included: they are not judged, and count as irrelevant). A 400 is zero results.
    """
    with tempfile.TemporaryDirectory(prefix="kepu-eval-") as tmp:
        data = Path(tmp)
        url = f"sqlite:///{data / 'eval.sqlite3'}"
        upgrade(url)
        engine = make_engine(url)
        try:
            with unit_of_work(engine) as session:
                import_notice(session, parse_notice_bytes(seed.read_bytes()))
            settings = Settings(KEPU_DATA_DIR=data / "data", KEPU_INDEX_DIR=data / "index", KEPU_LOG_LEVEL="WARNING")
            with TestClient(create_app(settings, engine=engine)) as client:

                def rank(q: str) -> list[str]:
                    response = client.get("/api/v1/search", params={"q": q, "limit": K})
                    if response.status_code == 400:
                        return []
                    response.raise_for_status()
                    return [item_key(item) for item in response.json()["items"]]

                yield rank
        finally:
            engine.dispose()
