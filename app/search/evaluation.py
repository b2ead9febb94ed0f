"""Search quality on judged queries: recall@10, MRR and nDCG@10."""

from __future__ import annotations

import math
import tomllib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from app.db import make_engine, unit_of_work
from app.migrate import upgrade
from app.parser import parse_notice_bytes
from app.parser.departments import load_directory
from app.search.index import SearchIndex
from app.services.catalogue import Window
from app.services.importer import import_notice
from app.services.search import SearchFilters, SearchService

K = 10


@dataclass(frozen=True)
class Judged:
    """A query with graded relevant records (kind:number → 1 or 2)."""

    q: str
    relevant: dict[str, int]


@dataclass(frozen=True)
class QueryScore:
    """The metrics of one query."""

    q: str
    recall: float
    reciprocal_rank: float
    ndcg: float
    ranked: list[str]


def load_judgements(path: Path) -> list[Judged]:
    """Judged queries from a TOML file."""
    return [Judged(item["q"], dict(item["relevant"])) for item in tomllib.loads(path.read_text("utf-8"))["query"]]


def score_query(judged: Judged, ranked: list[str]) -> QueryScore:
    """Metrics of one ranked list (kind:number keys, best first) against its judgements."""
    top = ranked[:K]
    relevant = {key for key, grade in judged.relevant.items() if grade > 0}
    recall = len(relevant & set(top)) / len(relevant)
    first = next((i for i, key in enumerate(top, 1) if key in relevant), None)
    dcg = sum((2 ** judged.relevant.get(key, 0) - 1) / math.log2(i + 1) for i, key in enumerate(top, 1))
    ideal = sorted(judged.relevant.values(), reverse=True)[:K]
    idcg = sum((2**grade - 1) / math.log2(i + 1) for i, grade in enumerate(ideal, 1))
    return QueryScore(judged.q, recall, 1 / first if first else 0.0, dcg / idcg if idcg else 0.0, top)


def evaluate(judgements: list[Judged], rank: Callable[[str], list[str]]) -> tuple[dict[str, float], list[QueryScore]]:
    """Mean metrics over all judged queries, and each query's scores."""
    scores = [score_query(j, rank(j.q)) for j in judgements]
    n = len(scores)
    means = {
        f"recall@{K}": sum(s.recall for s in scores) / n,
        "MRR": sum(s.reciprocal_rank for s in scores) / n,
        f"nDCG@{K}": sum(s.ndcg for s in scores) / n,
    }
    return means, scores


@contextmanager
def seeded_search(tmp: Path, seed: Path) -> Iterator[Callable[[str], list[str]]]:
    """rank(q) → kind:number keys of tasks and key points, best first (activities are not judged)."""
    url = f"sqlite:///{tmp / 'eval.sqlite3'}"
    upgrade(url)
    engine = make_engine(url)
    with unit_of_work(engine) as session:
        import_notice(session, parse_notice_bytes(seed.read_bytes()))
    index = SearchIndex(tmp / "index").open(engine)
    service = SearchService(index, engine, load_directory(), max_query_chars=200, cache_size=0)

    def rank(q: str) -> list[str]:
        response = service.search(q, SearchFilters(), Window(limit=50, offset=0))
        return [f"{i.kind}:{i.number}" for i in response.items if i.kind != "activity"]

    try:
        yield rank
    finally:
        index.close()
        engine.dispose()
