"""Score the search and two Whoosh baselines on the judged queries in tests/eval/.

Engines: "ours" is the API's default list (GET /api/v1/search?q=…&limit=10 over a throwaway
store holding the seed); "whoosh-and" and "whoosh-or" are Whoosh + jieba's ChineseAnalyzer
with AND and OR grouping (bench/baselines.py). Tables: nDCG@10, recall@10, MRR and the
zero-result rate per class of tests/eval/judged_queries.toml ("all" is that set), the older
tests/eval/judgements.toml as the "regression" row, then the holdout split alone, then the
second holdout (tests/eval/holdout2.toml: a fresh set by another judge, never tuned on).

Run:  .venv/bin/python -m bench.evaluate [--markdown] [--engine ours] [--verbose]
"""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
# The suite filters the same warning (pyproject.toml): starlette nudging towards httpx2.
warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient` is deprecated")

from bench.baselines import whoosh_baselines  # noqa: E402
from bench.quality import (  # noqa: E402
    ALL,
    JUDGED_QUERIES,
    REGRESSION_QUERIES,
    SECOND_HOLDOUT,
    QueryScore,
    Ranker,
    Summary,
    by_class,
    evaluate,
    load_judged,
    seeded_api,
    summarise,
)

ENGINES = ("ours", "whoosh-and", "whoosh-or")
METRICS = (("nDCG", "ndcg"), ("R@10", "recall"), ("MRR", "mrr"), ("zero", "zero_rate"))
Table = dict[str, dict[str, Summary]]  # row → engine → summary


@contextmanager
def rankers(names: list[str]) -> Iterator[dict[str, Ranker]]:
    """The named engines, each opened once."""
    with ExitStack() as stack:
        found: dict[str, Ranker] = {}
        if "ours" in names:
            found["ours"] = stack.enter_context(seeded_api())
        if {"whoosh-and", "whoosh-or"} & set(names):
            baselines = stack.enter_context(whoosh_baselines())
            found.update({f"whoosh-{group}": rank for group, rank in baselines.items()})
        yield {name: found[name] for name in names}


def class_table(scores: dict[str, list[QueryScore]], regression: dict[str, list[QueryScore]]) -> Table:
    """Rows: classes of the judged set, "all", then "regression" (the older set) when scored."""
    table: Table = {}
    for engine, engine_scores in scores.items():
        for row, summary in by_class(engine_scores).items():
            table.setdefault(row, {})[engine] = summary
    for engine, engine_scores in regression.items():
        table.setdefault("regression", {})[engine] = summarise(engine_scores)
    return table


def holdout_table(scores: dict[str, list[QueryScore]]) -> Table:
    """The class table over the holdout split only."""
    return class_table({e: [s for s in ss if s.judged.split == "holdout"] for e, ss in scores.items()}, {})


def _cells(summary: Summary) -> list[str]:
    return [f"{getattr(summary, attr):.3f}" for _, attr in METRICS]


def render_text(title: str, table: Table, engines: list[str]) -> str:
    """A fixed-width table: one group of metric columns per engine."""
    width = 6
    group = len(METRICS) * (width + 1) - 1
    lines = [title, f"{'':<12}{'n':>4}  " + "  ".join(f"{e:^{group}}" for e in engines)]
    lines.append(f"{'class':<12}{'':>4}  " + "  ".join(" ".join(f"{m:>{width}}" for m, _ in METRICS) for _ in engines))
    for row, per_engine in table.items():
        n = next(iter(per_engine.values())).n
        cells = ["  ".join(" ".join(f"{c:>{width}}" for c in _cells(per_engine[e])) for e in engines)]
        lines.append(f"{row:<12}{n:>4}  " + " ".join(cells))
    return "\n".join(lines) + "\n"


def render_markdown(table: Table, engines: list[str]) -> str:
    """The class table as Markdown (bold "all" row) for the README."""
    header = ["class", "n", *(f"{e} {m}" for e in engines for m, _ in METRICS)]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(["---", "--:", *["--:"] * (len(header) - 2)]) + "|"]
    for row, per_engine in table.items():
        n = next(iter(per_engine.values())).n
        cells = [c for e in engines for c in _cells(per_engine[e])]
        name = f"**{row}**" if row == ALL else row
        lines.append("| " + " | ".join([name, str(n), *cells]) + " |")
    return "\n".join(lines) + "\n"


def render_worst(engine: str, scores: list[QueryScore], count: int) -> str:
    """The engine's `count` lowest-nDCG queries with their ranked lists and judgements."""
    lines = [f"worst {count} queries for {engine}:"]
    for s in sorted(scores, key=lambda s: (s.ndcg, s.judged.query_class))[:count]:
        j = s.judged
        lines.append(
            f"  [{j.query_class}/{j.split}] {j.q!r}  nDCG {s.ndcg:.3f}  R@10 {s.recall:.2f}  RR {s.reciprocal_rank:.2f}"
        )
        marked = [f"{key}({j.relevant[key]})" if key in j.relevant else key for key in s.ranked]
        lines.append(f"      got:    {' '.join(marked) or '(no results)'}")
        lines.append(
            f"      judged: {' '.join(f'{k}({g})' for k, g in sorted(j.relevant.items(), key=lambda kv: -kv[1]))}"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None, write: Callable[[str], object] = sys.stdout.write) -> None:
    """Evaluate the engines and write the tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--engine", choices=ENGINES, action="append", help="only this engine (repeatable)")
    parser.add_argument("--markdown", action="store_true", help="the per-class table as Markdown only")
    parser.add_argument(
        "--verbose", action="store_true", help="also list the worst tuning queries' ranked lists (never the holdout)"
    )
    parser.add_argument("--worst", type=int, default=15, help="how many worst queries --verbose lists")
    args = parser.parse_args(argv)
    engines: list[str] = args.engine or list(ENGINES)

    judged, regression = load_judged(JUDGED_QUERIES), load_judged(REGRESSION_QUERIES)
    second = load_judged(SECOND_HOLDOUT)
    with rankers(engines) as ranked_by:
        scores = {e: evaluate(judged, ranked_by[e]) for e in engines}
        regression_scores = {e: evaluate(regression, ranked_by[e]) for e in engines}
        second_scores = {e: evaluate(second, ranked_by[e]) for e in engines}

    classes = class_table(scores, regression_scores)
    if args.markdown:
        write(render_markdown(classes, engines))
        write("\n" + render_markdown(class_table(second_scores, {}), engines))
        return
    write(render_text(f"per class, {JUDGED_QUERIES.name} (all = {len(judged)} queries)", classes, engines))
    write("\n" + render_text("holdout split only", holdout_table(scores), engines))
    # A fresh set, never tuned on: class means only, like the holdout split.
    write("\n" + render_text(f"second holdout, {SECOND_HOLDOUT.name}", class_table(second_scores, {}), engines))
    if args.verbose:
        for engine in engines:
            # The holdout is scored, never shown per query: looking at it would make it a tuning set.
            tuning = [s for s in scores[engine] if s.judged.split != "holdout"]
            write("\n" + render_worst(engine, tuning, args.worst))


if __name__ == "__main__":
    main()
