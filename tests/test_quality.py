"""Search quality: the metrics, the judged set, and a floor under the API's default list."""

from __future__ import annotations

from collections import Counter

import pytest

from bench.baselines import whoosh_baselines
from bench.quality import (
    JUDGED_QUERIES,
    REGRESSION_QUERIES,
    Judged,
    QueryScore,
    by_class,
    by_split,
    evaluate,
    item_key,
    load_judged,
    score_query,
    seeded_api,
    summarise,
)

# Just under what the engine reaches (bench/evaluate.py); the set was merged at nDCG@10
# 0.509 and zero-result rate 0.351. Raise them as the engine improves, never lower them.
NDCG_FLOOR = 0.96  # reached: 0.970 over 151 queries (bench/evaluate.py); holdout 0.956
CLASS_FLOOR = 0.92  # the target for every class; lowest reached: partial 0.927
ZERO_RATE_CEILING = 0.007  # reached: 0 (one query of 151 may find nothing before this fails)

JUDGED = Judged("q", {"task:1": 2, "task:2": 1}, "topic", "tune")


class TestMetrics:
    def test_perfect_ranking_scores_one(self) -> None:
        s = score_query(JUDGED, ["task:1", "task:2", "task:9"])
        assert (s.recall, s.reciprocal_rank, s.ndcg, s.zero) == (1.0, 1.0, 1.0, False)

    def test_swapped_ranking_scores_lower(self) -> None:
        perfect = score_query(JUDGED, ["task:1", "task:2"])
        swapped = score_query(JUDGED, ["task:2", "task:1"])
        assert swapped.ndcg < perfect.ndcg
        assert swapped.recall == 1.0 and swapped.reciprocal_rank == 1.0

    def test_graded_gain_and_log_discount(self) -> None:
        # gains 2^2-1 = 3 and 2^1-1 = 1; ranks 2 and 3 discount by log2(3) and log2(4) = 2.
        s = score_query(JUDGED, ["task:9", "task:1", "task:2"])
        ideal = 3 + 1 / 1.5849625007211562
        assert s.ndcg == pytest.approx((3 / 1.5849625007211562 + 1 / 2) / ideal)
        assert s.reciprocal_rank == 0.5

    def test_only_the_top_ten_count(self) -> None:
        s = score_query(JUDGED, [f"task:{n}" for n in range(10, 20)] + ["task:1", "task:2"])
        assert (s.recall, s.reciprocal_rank, s.ndcg) == (0.0, 0.0, 0.0)

    def test_a_repeated_key_gains_once(self) -> None:
        assert score_query(JUDGED, ["task:1", "task:1", "task:1"]).ndcg < 1.0

    def test_partial_recall_and_zero_results(self) -> None:
        assert score_query(JUDGED, ["task:7", "task:2"]).recall == 0.5
        empty = score_query(JUDGED, [])
        assert empty.zero and (empty.recall, empty.reciprocal_rank, empty.ndcg) == (0.0, 0.0, 0.0)
        assert not score_query(JUDGED, ["activity:3"]).zero

    def test_summaries_per_class_and_split(self) -> None:
        holdout = Judged("h", {"key_point:1": 1}, "unit", "holdout")
        scores = [score_query(JUDGED, ["task:1", "task:2"]), score_query(holdout, [])]
        classes, splits = by_class(scores), by_split(scores)
        assert list(classes) == ["topic", "unit", "all"]
        assert (classes["topic"].ndcg, classes["unit"].zero_rate) == (1.0, 1.0)
        assert (classes["all"].n, classes["all"].ndcg, classes["all"].zero_rate) == (2, 0.5, 0.5)
        assert (splits["tune"].n, splits["holdout"].n, splits["holdout"].mrr) == (1, 1, 0.0)
        assert summarise([]).n == 0

    def test_activity_items_are_keyed_by_id(self) -> None:
        assert item_key({"kind": "activity", "id": 7, "number": None}) == "activity:7"
        assert item_key({"kind": "task", "id": 70, "number": 3}) == "task:3"


class TestJudgedSet:
    def test_covers_every_class_with_a_third_held_out(self) -> None:
        judged = load_judged(JUDGED_QUERIES)
        assert len(judged) >= 120
        per_class = Counter(j.query_class for j in judged)
        held_out = Counter(j.query_class for j in judged if j.split == "holdout")
        assert all(n >= 12 for n in per_class.values()), per_class
        assert {c: held_out[c] for c in per_class} == {c: -(-n // 3) for c, n in per_class.items()}
        assert all(j.relevant and set(j.relevant.values()) <= {1, 2} for j in judged)
        assert len({j.q for j in judged}) == len(judged)

    def test_older_set_is_the_regression_class(self) -> None:
        judged = load_judged(REGRESSION_QUERIES)
        assert len(judged) >= 30
        assert {(j.query_class, j.split) for j in judged} == {("regression", "tune")}
        assert all(j.relevant and set(j.relevant.values()) <= {1, 2} for j in judged)


def _worst(scores: list[QueryScore]) -> list[tuple[str, float, list[str]]]:
    return [(s.judged.q, round(s.ndcg, 3), s.ranked) for s in sorted(scores, key=lambda s: s.ndcg)[:5]]


def test_api_default_list_stays_above_the_floor() -> None:
    with seeded_api() as rank:
        scores = evaluate(load_judged(JUDGED_QUERIES), rank)
    overall = summarise(scores)
    assert overall.ndcg >= NDCG_FLOOR, _worst(scores)
    assert overall.zero_rate <= ZERO_RATE_CEILING, [s.judged.q for s in scores if s.zero]
    low = {name: round(c.ndcg, 3) for name, c in by_class(scores).items() if c.ndcg < CLASS_FLOOR}
    assert not low, low


def test_baselines_rank_the_seed() -> None:
    with whoosh_baselines() as baselines:
        assert set(baselines) == {"and", "or"}
        assert baselines["and"]("科幻")[:1] and set(baselines["and"]("科幻")) <= set(baselines["or"]("科幻"))
        assert len(baselines["or"]("科协 科幻")) == 10
        assert all(key.split(":")[0] in {"task", "key_point"} for key in baselines["or"]("科协 科幻"))
        assert baselines["and"]("(((") == []
