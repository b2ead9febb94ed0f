"""Naive baselines on the same seed: Whoosh + jieba.analyse.ChineseAnalyzer, BM25F, AND or OR grouping.

They read the notice with the parser only (no store, no app.search), so they show what the
engine adds over an off-the-shelf Whoosh index of the same records.
"""

from __future__ import annotations

import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from whoosh import index, scoring
from whoosh.fields import ID, TEXT, Schema
from whoosh.qparser import AndGroup, MultifieldParser, OrGroup
from whoosh.qparser.common import QueryParserError
from whoosh.query.qcore import QueryError

from app.parser import ParsedNotice, parse_notice_bytes
from bench.quality import SEED, K, Ranker

GROUPS = {"and": AndGroup, "or": OrGroup}

# jieba.analyse reads its IDF table with an open() it never closes; the ResourceWarning
# is jieba's, not ours (pytest turns it into an error).
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ResourceWarning)
    from jieba.analyse import ChineseAnalyzer


def _first_sentence(text: str) -> tuple[str, str]:
    head, sep, rest = text.partition("。")
    return (head, rest.strip()) if sep else (text, "")


def baseline_records(notice: ParsedNotice) -> Iterator[tuple[str, str, str]]:
    """(key, title, body) of every key point and task; a task's body keeps its unit list."""
    for kp in notice.key_points:
        yield f"key_point:{kp.number}", kp.title, "\n".join([kp.body, *kp.sub_paragraphs])
    for task in notice.tasks:
        title, _ = _first_sentence(task.body)
        yield f"task:{task.number}", title, task.text.replace(title, "", 1)


@contextmanager
def whoosh_baselines(seed: Path = SEED) -> Iterator[dict[str, Ranker]]:
    """{"and": rank, "or": rank}: MultifieldParser over title/body with that grouping, top K by BM25F."""
    analyzer = ChineseAnalyzer()
    schema = Schema(key=ID(unique=True, stored=True), title=TEXT(analyzer=analyzer), body=TEXT(analyzer=analyzer))
    with tempfile.TemporaryDirectory(prefix="kepu-baseline-") as tmp:
        ix = index.create_in(tmp, schema)
        try:
            writer = ix.writer()
            try:
                for key, title, body in baseline_records(parse_notice_bytes(seed.read_bytes())):
                    writer.add_document(key=key, title=title, body=body)
            except BaseException:
                writer.cancel()
                raise
            writer.commit()
            with ix.searcher(weighting=scoring.BM25F()) as searcher:

                def ranker(group: type) -> Ranker:
                    parser = MultifieldParser(["title", "body"], schema, group=group)

                    def rank(q: str) -> list[str]:
                        try:
                            query = parser.parse(q)
                            return [hit["key"] for hit in searcher.search(query, limit=K)]
                        except (QueryParserError, QueryError):  # a query Whoosh cannot take finds nothing
                            return []

                    return rank

                yield {name: ranker(group) for name, group in GROUPS.items()}
        finally:
            ix.close()
