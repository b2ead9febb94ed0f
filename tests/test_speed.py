"""The fast paths give the answers the straightforward ones give (issue 12: speed)."""

from __future__ import annotations

import random

from app.search.highlight import densest_window, snippet


def _straightforward_window(spans: list[tuple[int, int]], size: int) -> int:
    best = (0, 0)
    for i, (s, _) in enumerate(spans):  # the window starting at each match; most matches wins
        inside = sum(1 for _, e2 in spans[i:] if e2 <= s + size)
        if inside > best[0]:
            best = (inside, s)
    return best[1]


def _random_spans(rng: random.Random, n: int) -> list[tuple[int, int]]:
    spans, cursor = [], 0
    for _ in range(n):
        cursor += rng.randint(0, 40)
        length = rng.randint(1, 6)
        spans.append((cursor, cursor + length))
        cursor += length
    return spans


class TestDensestWindow:
    def test_equals_the_straightforward_search_on_small_inputs(self) -> None:
        rng = random.Random(12)
        for _ in range(500):
            spans = _random_spans(rng, rng.randint(0, 30))
            size = rng.choice([1, 5, 20, 110])
            assert densest_window(spans, size) == _straightforward_window(spans, size), (spans, size)

    def test_thousands_of_matches_find_the_dense_cluster(self) -> None:
        # 3,000 scattered matches, then 30 packed ones: the snippet shows the packed ones
        # (a window among the scattered ones holds at most 11 matches).
        text = "科幻甲乙丙丁戊己庚辛" * 3000 + "科普" * 30 + "尾" * 200
        html, count = snippet(text, ["科幻", "科普"])
        assert count == html.count("<em>") > 20 and html.startswith("…") and "<em>科普</em>" in html
        spans = [(m, m + 2) for m in range(0, 30000, 10)] + [(30000 + 2 * k, 30002 + 2 * k) for k in range(30)]
        assert densest_window(spans, 110) == _straightforward_window(spans, 110)
