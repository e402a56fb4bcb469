"""Score the project's clusterer against gold event labels, beside a plain baseline.

    python bench/cluster_quality.py ../shared/data/ecbplus/dev.jsonl [more sets...]

Input: JSON lines with `event` (gold label), `title` and `text` (and optionally `topic`,
and, as bench/data's sets have them, `outlet`, `language` and `published`). Every line
becomes an Article (a missing title is taken from the first sentence; without a date, all
are spread over the same 24 hours) clustered by `digest.cluster.cluster_articles`, the very
function the pipeline calls.

Printed first, cross-validated: each set's topics in 5 folds; for each fold, the held
topics of each set are clustered as one batch, with the shipped thresholds (fit by
bench/fit_cluster.py on the whole of ECB+ dev and lookalikes-a and -b, so on those sets
they have seen the held topics: not a result there), with thresholds fit by
bench/fit_cluster.py on the other folds of every set named (naming ECB+ dev, lookalikes-a
and -b, this is how the shipped ones are made, held out), and by the baseline (TF-IDF
cosine, average-link agglomerative clustering) at the one threshold best on the other
folds, pooled over the held folds, then the lowest and highest B-cubed F1 of a held fold
alone (a fold is four or five topics: one merged pair moves it several points). Then each
whole file as one batch, the baseline at the threshold best on the file itself: figures on
what was tuned on, labelled so.

With --held-out, for sets no threshold was fit on (bench/data's lookalikes-c and -d), nothing
is fit: the shipped thresholds score each fold of their topics as one batch, then each
whole file.

Each line: B-cubed P/R/F1, pairwise P/R/F1, and the look-alike pairs merged: two gold
events of one topic that share a cluster (any one shared cluster counts the pair once).

The baseline uses scipy's hierarchical clustering; numpy and scipy come with digest.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import re
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from digest.cluster._clusterer import cluster_articles
from digest.cluster._thresholds import THRESHOLDS_FILE, shipped_thresholds
from digest.models import Article
from digest.text import split_sentences

START = datetime(2026, 11, 23, 0, 0, tzinfo=UTC)


def load(path: Path) -> list[dict]:
    rows = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as error:
                sys.exit(f"{path}:{number}: not JSON: {error.msg}")
    return rows


def to_articles(rows: Sequence[dict]) -> list[Article]:
    articles = []
    for index, row in enumerate(rows):
        text = row.get("text") or ""
        title = (row.get("title") or "").strip()
        body = text
        if not title:
            sentences = split_sentences(text)
            title = sentences[0] if sentences else ""
        # A set that dates its reports (bench/data) keeps its dates; the others' are spread
        # over one day, deterministically: dates cannot separate events there.
        published = START + timedelta(minutes=(index * 37) % 1440)
        if row.get("published"):
            published = datetime.fromisoformat(row["published"])
        articles.append(
            Article(
                id=index,
                feed=row.get("outlet") or f"outlet-{index}",
                url=f"https://outlet-{index}.example/{row.get('id', index)}",
                title=title,
                text=body,
                published=published,
                language=row.get("language"),
            )
        )
    return articles


def topic_of(row: dict) -> str:
    return str(row.get("topic", str(row["event"]).split("_")[0]))


def bcubed(gold: Sequence[str], found: Sequence[int]) -> tuple[float, float, float]:
    by_gold: dict[str, set[int]] = defaultdict(set)
    by_found: dict[int, set[int]] = defaultdict(set)
    for index, (label, cluster) in enumerate(zip(gold, found, strict=True)):
        by_gold[label].add(index)
        by_found[cluster].add(index)
    precision = recall = 0.0
    for index in range(len(gold)):
        mine, truth = by_found[found[index]], by_gold[gold[index]]
        overlap = len(mine & truth)
        precision += overlap / len(mine)
        recall += overlap / len(truth)
    precision /= len(gold)
    recall /= len(gold)
    return precision, recall, _f1(precision, recall)


def pairwise(gold: Sequence[str], found: Sequence[int]) -> tuple[float, float, float]:
    def pairs(counts: Counter) -> int:
        return sum(n * (n - 1) // 2 for n in counts.values())

    true_pairs = pairs(Counter(gold))
    found_pairs = pairs(Counter(found))
    both = pairs(Counter(zip(gold, found, strict=True)))
    precision = both / found_pairs if found_pairs else 1.0
    recall = both / true_pairs if true_pairs else 1.0
    return precision, recall, _f1(precision, recall)


def lookalikes_merged(rows: Sequence[dict], found: Sequence[int]) -> tuple[int, int]:
    """(pairs of different events of one topic that share a cluster, such pairs in all)."""
    events_by_topic: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        events_by_topic[topic_of(row)].add(row["event"])
    events_in_cluster: dict[int, set[str]] = defaultdict(set)
    for row, cluster in zip(rows, found, strict=True):
        events_in_cluster[cluster].add(row["event"])
    merged = set()
    for events in events_in_cluster.values():
        for left in events:
            for right in events:
                if left < right and topic_of({"event": left}) == topic_of({"event": right}):
                    merged.add((left, right))
    total = sum(len(e) * (len(e) - 1) // 2 for e in events_by_topic.values())
    return len(merged), total


def _f1(precision: float, recall: float) -> float:
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)


def _baseline_tree(articles: Sequence[Article]):
    """TF-IDF cosine + average-link over `articles`: a function of the similarity threshold
    that gives each article's cluster."""
    import numpy as np
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.spatial.distance import pdist

    documents = [Counter(_TOKEN.findall(f"{a.title}\n{a.text}".lower())) for a in articles]
    vocabulary = {t: i for i, t in enumerate(sorted({t for d in documents for t in d}))}
    frequency = Counter(t for d in documents for t in d)
    matrix = np.zeros((len(documents), len(vocabulary)))
    for row, counts in enumerate(documents):
        for term, count in counts.items():
            idf = math.log((1 + len(documents)) / (1 + frequency[term])) + 1
            matrix[row, vocabulary[term]] = (1 + math.log(count)) * idf
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True) + 1e-12
    if len(articles) < 2:
        return lambda similarity: [1] * len(articles)
    tree = linkage(pdist(matrix, metric="cosine"), method="average")
    return lambda similarity: list(fcluster(tree, t=1 - similarity, criterion="distance"))


def baseline(rows: Sequence[dict], articles: Sequence[Article]) -> tuple[float, list[int]]:
    """TF-IDF cosine + average-link, at the threshold with the best B-cubed F1 on `rows`."""
    at = _baseline_tree(articles)
    threshold = best_threshold([(rows, at)])
    return threshold, at(threshold)


def best_threshold(trees) -> float:
    """The baseline's threshold, in steps of 0.01, with the best B-cubed F1 over the
    articles of all (rows, tree), each set weighed by its size as bench/fit_cluster.py
    weighs them (the first of equals)."""

    def fitness(similarity: float) -> float:
        return sum(
            len(rows) * bcubed([row["event"] for row in rows], tree(similarity))[2]
            for rows, tree in trees
        )

    return max((step / 100 for step in range(1, 100)), key=fitness)


def columns(width: int = 22) -> None:
    """The heading of the lines `report` prints with the same `width`."""
    print(
        f"{'':<{width}} {'B-cubed P/R/F1':^20}   {'pairwise P/R/F1':^20}   {'look-alike':^10}"
        f" {'clusters':>8}"
    )


def report(
    name: str, rows: Sequence[dict], found: Sequence[int], width: int = 22
) -> dict[str, float]:
    gold = [row["event"] for row in rows]
    bp, br, bf = bcubed(gold, found)
    pp, pr, pf = pairwise(gold, found)
    merged, total = lookalikes_merged(rows, found)
    clusters = len(set(found))
    print(
        f"{name:<{width}} {bp:6.3f} {br:6.3f} {bf:6.3f}   {pp:6.3f} {pr:6.3f} {pf:6.3f}"
        f"   {merged:>3} of {total:<3} {clusters:>8}"
    )
    return {"bcubed_f1": bf, "pairwise_f1": pf, "merged": merged}


def labels_of(clusters, count: int) -> list[int]:
    labels = [-1] * count
    for number, cluster in enumerate(clusters):
        for article in cluster.articles:
            labels[article.id] = number
    return labels


FOLDS = 5


def fold_of_topic(topics: set[str], folds: int = FOLDS) -> dict[str, int]:
    """{topic: fold}: topics in the order of a hash of their names, dealt out in turn, so
    that the split depends neither on the file's order nor on the labels."""
    order = sorted(topics, key=lambda topic: hashlib.sha1(topic.encode()).hexdigest())
    return {topic: number % folds for number, topic in enumerate(order)}


def cross_validated(paths: list[Path], sets: list[list[dict]]) -> None:
    """Each set's topics in FOLDS folds; for each fold, what is fit is fit on the other
    folds of every set and the held fold of each set is clustered as one batch. Printed per
    set, pooled over its held folds."""
    import fit_cluster

    folds = [fold_of_topic({topic_of(row) for row in rows}) for rows in sets]
    found: dict[str, list[dict[int, tuple[int, int]]]] = {
        "shipped": [{} for _ in sets],
        "fitted": [{} for _ in sets],
        "baseline": [{} for _ in sets],
    }
    chosen: list[str] = []
    for fold in range(FOLDS):
        train = [
            [row for row in rows if of[topic_of(row)] != fold]
            for rows, of in zip(sets, folds, strict=True)
        ]
        fitted = fit_cluster.fit([fit_cluster.Batch(rows) for rows in train if rows])
        # The baseline's one threshold, fit the same way: best B-cubed F1 over the articles.
        threshold = best_threshold(
            [(rows, _baseline_tree(to_articles(rows))) for rows in train if rows]
        )
        chosen.append(f"{threshold:.2f}")
        for number, (rows, of) in enumerate(zip(sets, folds, strict=True)):
            held = [index for index, row in enumerate(rows) if of[topic_of(row)] == fold]
            if not held:
                continue
            batch = fit_cluster.Batch([rows[index] for index in held])
            labels = {
                "shipped": batch.labels(shipped_thresholds()),
                "fitted": batch.labels(fitted),
                "baseline": _baseline_tree(batch.articles)(threshold),
            }
            for name, found_labels in labels.items():
                for index, label in zip(held, found_labels, strict=True):
                    found[name][number][index] = (fold, label)
    print(
        f"CROSS-VALIDATED: the topics of each set in {FOLDS} folds; what is fit is fit on the "
        "other folds of every set, and each held fold is clustered as one batch (figures "
        "pooled over the held folds)"
    )
    print(f"  baseline thresholds per fold: {', '.join(chosen)}")
    for number, (path, rows) in enumerate(zip(paths, sets, strict=True)):
        topics = len({topic_of(row) for row in rows})
        print(f"  {path.name}: {len(rows)} documents, {topics} topics")
        columns(width=38)
        scores = {}
        shipped = "shipped, seen (fit on it)" if shipped_fit_on(path) else "shipped thresholds"
        for name, label in (
            ("shipped", f"digest.cluster, {shipped}"),
            ("fitted", "digest.cluster, fit_cluster.py fit"),
            ("baseline", "baseline, threshold fit"),
        ):
            labels = [hash(found[name][number][index]) for index in range(len(rows))]
            scores[name] = report(f"    {label}", rows, labels, width=38)
        margin = scores["fitted"]["bcubed_f1"] - scores["baseline"]["bcubed_f1"]
        print(
            "    B-cubed F1 margin of the fit on the other folds over the baseline fit the same "
            f"way: {margin:+.3f}"
        )
        spread = ", ".join(
            f"{name} {low:.3f}-{high:.3f}"
            for name, (low, high) in (
                (name, _fold_spread(rows, found[name][number])) for name in found
            )
        )
        print(f"    B-cubed F1 of each held fold alone (lowest-highest): {spread}")


def shipped_fit_on(path: Path) -> bool:
    """Whether the shipped thresholds were fit on the set in `path`: its file name is in
    the note bench/fit_cluster.py wrote with them."""
    shipped = resources.files("digest.cluster").joinpath(THRESHOLDS_FILE)
    note = json.loads(shipped.read_text(encoding="utf-8"))["note"]
    return re.search(rf"(^|[\s/]){re.escape(path.name)}([,:\s]|$)", note) is not None


def held_out(paths: list[Path], sets: list[list[dict]]) -> None:
    """Sets no threshold was fit on: the shipped thresholds, each fold of a set's topics
    clustered as one batch (the folds of cross_validated), pooled over the folds."""
    import fit_cluster

    print(
        f"HELD OUT: the shipped thresholds, the topics of each set in {FOLDS} folds, each "
        "fold clustered as one batch (nothing is fit on these sets)"
    )
    for path, rows in zip(paths, sets, strict=True):
        if shipped_fit_on(path):
            print(f"  warning: the shipped thresholds were fit on {path.name}: not held out")
        of = fold_of_topic({topic_of(row) for row in rows})
        found: dict[int, tuple[int, int]] = {}
        for fold in range(FOLDS):
            held = [index for index, row in enumerate(rows) if of[topic_of(row)] == fold]
            if not held:
                continue
            batch = fit_cluster.Batch([rows[index] for index in held])
            for index, label in zip(held, batch.labels(shipped_thresholds()), strict=True):
                found[index] = (fold, label)
        print(f"  {path.name}: {len(rows)} documents")
        columns(width=38)
        labels = [hash(found[index]) for index in range(len(rows))]
        report("    digest.cluster, shipped thresholds", rows, labels, width=38)
        low, high = _fold_spread(rows, found)
        print(f"    B-cubed F1 of each fold alone (lowest-highest): {low:.3f}-{high:.3f}")


def _fold_spread(rows: Sequence[dict], found: dict[int, tuple[int, int]]) -> tuple[float, float]:
    """The lowest and highest B-cubed F1 of the held folds, each scored alone (`found`:
    row index -> (fold, label)): how far one fold of topics moves the pooled figure."""
    by_fold: dict[int, list[int]] = defaultdict(list)
    for index, (fold, _) in found.items():
        by_fold[fold].append(index)
    scores = [
        bcubed([rows[i]["event"] for i in indices], [found[i][1] for i in indices])[2]
        for indices in by_fold.values()
    ]
    return min(scores), max(scores)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "sets", type=Path, nargs="+", help="labelled documents, one JSON object a line"
    )
    parser.add_argument(
        "--halves",
        action="store_true",
        help="also score each half of the topics ((topic // 2) %% 2) as a batch of its own: "
        "how much the figures move on topics seen apart",
    )
    parser.add_argument("--no-cv", action="store_true", help="only each whole file as one batch")
    parser.add_argument(
        "--held-out",
        action="store_true",
        help="sets never fit on: nothing is fit on them; the shipped thresholds score each "
        "fold of their topics as one batch, then each whole file",
    )
    args = parser.parse_args()
    sets = [load(path) for path in args.sets]
    if args.held_out:
        held_out(args.sets, sets)
        print()
    elif not args.no_cv:
        cross_validated(args.sets, sets)
        print()
    print(
        "EACH WHOLE FILE AS ONE BATCH (the shipped thresholds were fit on ECB+ dev and "
        "lookalikes-a and -b whole: on those, not a result; the baseline's threshold is the "
        "best on each file itself)"
    )
    for path, rows in zip(args.sets, sets, strict=True):
        whole(path, rows, args.halves)


def whole(path: Path, rows: list[dict], halves: bool) -> None:
    articles = to_articles(rows)
    started = time.perf_counter()
    clusters = cluster_articles(articles)
    elapsed = time.perf_counter() - started
    ours = labels_of(clusters, len(rows))
    started = time.perf_counter()
    threshold, theirs = baseline(rows, articles)
    baseline_elapsed = time.perf_counter() - started
    events = len({row["event"] for row in rows})
    print(f"{path}: {len(rows)} documents, {events} gold events, one batch")
    columns()
    mine = report("digest.cluster", rows, ours)
    base = report(f"baseline (t={threshold:.2f})", rows, theirs)
    print(
        f"B-cubed F1 margin over the baseline: {mine['bcubed_f1'] - base['bcubed_f1']:+.3f};"
        f" pairwise F1 margin: {mine['pairwise_f1'] - base['pairwise_f1']:+.3f}"
    )
    print(
        f"wall time: digest.cluster {elapsed:.2f} s, baseline incl. threshold sweep "
        f"{baseline_elapsed:.2f} s"
    )
    if halves:
        topics = sorted({topic_of(row) for row in rows})

        def half_of(topic: str) -> int:  # ECB+ numbers its topics; others take turns
            return (int(topic) // 2) % 2 if topic.isdigit() else topics.index(topic) % 2

        for half in (0, 1):
            subset = [row for row in rows if half_of(topic_of(row)) == half]
            found = labels_of(cluster_articles(to_articles(subset)), len(subset))
            report(f"half {half} ({len(subset)} docs)", subset, found)


if __name__ == "__main__":
    main()
