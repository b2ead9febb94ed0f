"""Which way to combine sorted document-number arrays: binary search or a dense bitmap.

The query evaluator (app/search/ranking.py) intersects (And) and sums (Or) sorted arrays
of document numbers with scores. This times, side by side in one run, the ways to do it
at 10k and 100k documents, for a rare term (0.1 %), a common one (5 %) and one in most
records (60 %):
  And: np.intersect1d (sorts the concatenation) | searchsorted of the smaller in the larger
       | a dense boolean mask of the larger
  Or:  np.unique of the concatenation + bincount | dense float array, add in place, flatnonzero
Run:  .venv/bin/python bench/set_ops.py
"""

from __future__ import annotations

import functools
import statistics
import sys
import time
from collections.abc import Callable

import numpy as np

Docs = np.ndarray


def _timed(fn: Callable[[], object], repeat: int = 200) -> float:
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples) * 1e6


def and_intersect1d(a: Docs, b: Docs, size: int) -> Docs:
    return np.intersect1d(a, b, assume_unique=True)


def and_searchsorted(a: Docs, b: Docs, size: int) -> Docs:
    small, large = (a, b) if a.size <= b.size else (b, a)
    at = np.searchsorted(large, small)
    at[at == large.size] = 0
    found: Docs = small[large[at] == small]
    return found


def and_bitmap(a: Docs, b: Docs, size: int) -> Docs:
    small, large = (a, b) if a.size <= b.size else (b, a)
    mask = np.zeros(size, dtype=bool)
    mask[large] = True
    kept: Docs = small[mask[small]]
    return kept


def or_unique(a: Docs, b: Docs, size: int) -> Docs:
    docs = np.concatenate([a, b])
    scores = np.ones(docs.size)
    unique, inverse = np.unique(docs, return_inverse=True)
    np.bincount(inverse, weights=scores)
    return unique


def or_dense(a: Docs, b: Docs, size: int) -> Docs:
    summed = np.zeros(size)
    present = np.zeros(size, dtype=bool)
    for part in (a, b):
        summed[part] += 1.0
        present[part] = True
    docs = np.flatnonzero(present)
    summed[docs]
    return docs


def main() -> None:
    """Print a table of median microseconds."""
    rng = np.random.default_rng(12)
    shares = {"rare": 0.001, "common": 0.05, "most": 0.6}
    w = sys.stdout.write
    w(
        "| size | a × b | intersect1d | searchsorted | bitmap | Or: unique | Or: dense |\n|---:|---|---:|---:|---:|---:|---:|\n"
    )
    for size in (10_000, 100_000):
        arrays = {
            k: np.sort(rng.choice(size, max(1, int(size * v)), replace=False)).astype(np.int64)
            for k, v in shares.items()
        }
        for x, y in (("rare", "most"), ("common", "most"), ("common", "common"), ("most", "most")):
            a, b = arrays[x], arrays[y]
            assert np.array_equal(and_intersect1d(a, b, size), and_searchsorted(a, b, size))
            assert np.array_equal(and_bitmap(a, b, size), and_searchsorted(a, b, size))
            assert np.array_equal(or_unique(a, b, size), or_dense(a, b, size))
            cells = [
                _timed(functools.partial(f, a, b, size))
                for f in (and_intersect1d, and_searchsorted, and_bitmap, or_unique, or_dense)
            ]
            w(f"| {size:,} | {x} × {y} | " + " | ".join(f"{c:.1f}" for c in cells) + " |\n")


if __name__ == "__main__":
    main()
