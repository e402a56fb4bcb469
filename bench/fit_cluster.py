"""Fit the clusterer's thresholds on labelled news and write them as package data.

    python bench/fit_cluster.py ../shared/data/ecbplus/dev.jsonl \
        bench/data/lookalikes-a.jsonl bench/data/lookalikes-b.jsonl

Writes digest/cluster/cluster_thresholds.json (`--out` elsewhere). Deterministic: the same
files give the same thresholds.

Each file is one labelled set (JSON lines with `event`, `topic`, `title`, `text`; see
bench/cluster_quality.py), clustered as one batch, as a run clusters its day of news. The
objective is B-cubed F1 over the articles of all the sets, each article weighing alike
(each set's B-cubed F1 weighed by its size): ECB+ holds many reports of events years
apart, our look-alike sets few reports of two events of one week told apart by one name,
and a digest meets both. With each set weighing alike instead, each of our 72-article
sets weighed as much as ECB+'s 496 articles, and the fit followed them (bench/calibration.md).

The search is coordinate descent over a grid per threshold (GRID): from the middle of every
grid, each threshold in turn takes the value of its grid that scores best with the others
held, until a pass changes none (at most MAX_PASSES). A value replaces the current one only
when it gains more than placing one article better would (`min_gain`): a smaller gain is
one document's luck, and following it fits the training topics, not the kind of news. The
start is the grids' middle, not the values once set by hand: those were chosen looking at
ECB+'s scores, the fit must not start from them. bench/cluster_quality.py fits the same
way on part of the topics and scores the rest (its cross-validated figures).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import asdict, replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cluster_quality import bcubed, labels_of, load, to_articles
from inputs import as_named

from digest.cluster._clusterer import cluster_articles
from digest.cluster._terms.batch import TermsBatch, batch_terms
from digest.cluster._thresholds import THRESHOLDS_FILE, Thresholds
from digest.models import Article

# Each written in its field's type: ints for the counts.
GRID: dict[str, tuple[float, ...]] = {
    "merge_at": (0.03, 0.04, 0.06, 0.08, 0.1, 0.12, 0.15, 0.2, 0.25),
    "size_margin": (0.0, 0.05, 0.1, 0.2, 0.3),
    "min_shared_facts": (0, 1, 2, 3, 4),
    "distinctive_idf": (0.5, 1.0, 1.5, 2.0, 2.5),
    "no_facts_factor": (0.1, 0.25, 0.5, 0.75, 1.0),
    "subject_conflict_factor": (0.05, 0.1, 0.25, 0.5, 0.75, 1.0),
    "split_at": (0.02, 0.04, 0.06, 0.09, 0.12, 0.16, 0.2),
    "min_event_part": (2, 3, 4, 5, 6),
    "event_fact_share": (0.4, 0.5, 0.6, 0.7, 0.8),
    "event_fact_elsewhere": (0.0, 0.1, 0.25, 0.4, 0.5),
    "event_subject_share": (0.6, 0.7, 0.8, 0.9, 1.0),
    "event_subject_elsewhere": (0.0, 0.05, 0.1, 0.2, 0.3),
    "headline_split_at": (0.06, 0.09, 0.12, 0.16, 0.2),
    "headline_event_part": (2, 3, 4, 5, 6),
    "stray_shared_facts": (-1, 0, 1, 2, 3),
}
MAX_PASSES = 4


class Batch:
    """One labelled set's rows clustered as one batch, its terms computed once."""

    def __init__(self, rows: list[dict]):
        self.rows = rows
        self.gold = [row["event"] for row in rows]
        self.articles: list[Article] = to_articles(rows)
        self.terms: TermsBatch = batch_terms(
            [(a.title, a.text, a.language) for a in self.articles], 0
        )

    def labels(self, thresholds: Thresholds) -> list[int]:
        clusters = cluster_articles(self.articles, self.terms, workers=0, thresholds=thresholds)
        return labels_of(clusters, len(self.rows))

    def score(self, thresholds: Thresholds) -> float:
        return bcubed(self.gold, self.labels(thresholds))[2]


def objective(batches: list[Batch], thresholds: Thresholds) -> float:
    articles = sum(len(batch.rows) for batch in batches)
    return sum(batch.score(thresholds) * len(batch.rows) for batch in batches) / articles


def min_gain(batches: list[Batch]) -> float:
    """What one article can move the objective by: its share of the B-cubed mean over all
    the articles. A smaller gain may be one article's luck."""
    return 1 / sum(len(batch.rows) for batch in batches)


def fit(batches: list[Batch], log=None) -> Thresholds:
    """Coordinate descent over GRID (see the module's note)."""
    current = Thresholds(**{name: grid[len(grid) // 2] for name, grid in GRID.items()})
    best = objective(batches, current)
    gain = min_gain(batches)
    for number in range(MAX_PASSES):
        changed = False
        for name, grid in GRID.items():
            scored = [
                (objective(batches, replace(current, **{name: value})), value)
                for value in grid
                if value != getattr(current, name)
            ]
            if not scored:  # a grid of one value: held
                continue
            # max() keeps the first of equal scores: the grid's order decides ties.
            score, value = max(scored, key=lambda pair: pair[0])
            if score > best + gain:
                best, current, changed = score, replace(current, **{name: value}), True
        if log:
            log(f"  pass {number + 1}: objective {best:.4f}")
        if not changed:
            break
    return current


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("sets", type=Path, nargs="+", help="labelled JSON lines files")
    parser.add_argument(
        "--out",
        type=Path,
        default=Path(__file__).resolve().parent.parent / "digest" / "cluster" / THRESHOLDS_FILE,
    )
    args = parser.parse_args()
    batches = [Batch(load(path)) for path in args.sets]
    thresholds = fit(batches, print)
    names = ", ".join(as_named(path) for path in args.sets)
    note = (
        f"Fitted by bench/fit_cluster.py on {names}: coordinate descent over a grid per "
        "threshold from the grids' middle, for the best B-cubed F1 over the sets' articles "
        "(each set clustered as one batch), a step taken only when it gains more than one "
        "article's share. Do not edit by hand: rerun the script."
    )
    args.out.write_text(thresholds.to_json(note), encoding="utf-8")
    print(f"wrote {args.out}")
    for path, batch in zip(args.sets, batches, strict=True):
        print(f"  {path.name}: B-cubed F1 {batch.score(thresholds):.4f} (fitted on)")
    for name, value in asdict(thresholds).items():
        print(f"  {name:<24} {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
