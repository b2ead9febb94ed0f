"""Print recall@10, MRR and nDCG@10 of the search over the judged queries in tests/eval/.

Run:  .venv/bin/python bench/evaluate.py   (builds a throwaway store from the seed)
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.search.evaluation import evaluate, load_judgements, seeded_search  # noqa: E402

JUDGEMENTS = ROOT / "tests" / "eval" / "judgements.toml"
SEED = ROOT / "seed" / "2023-work-points.txt"


def main() -> None:
    """Evaluate and print a table, then the means."""
    with tempfile.TemporaryDirectory() as tmp, seeded_search(Path(tmp), SEED) as rank:
        means, scores = evaluate(load_judgements(JUDGEMENTS), rank)
    out = sys.stdout
    out.write(f"{'query':<28}{'recall@10':>10}{'RR':>7}{'nDCG@10':>9}\n")
    for s in scores:
        out.write(f"{s.q:<28}{s.recall:>10.2f}{s.reciprocal_rank:>7.2f}{s.ndcg:>9.3f}\n")
    out.write(f"\n{len(scores)} queries: " + ", ".join(f"{k} {v:.3f}" for k, v in means.items()) + "\n")


if __name__ == "__main__":
    main()
