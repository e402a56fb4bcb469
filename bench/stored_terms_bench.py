"""What storing each article's terms costs a run, and what it saves the runs after it.

    python bench/stored_terms_bench.py            # 20,000 generated articles
    python bench/stored_terms_bench.py --size N

A run clusters its new articles with every story of the join horizon. The articles (the
clustering benchmark's generated ones) are put in a state database in a temporary folder,
then `terms_of` (digest/pipeline/_stored_terms.py, what the pipeline calls) is timed three
ways, in this order: `batch_terms` alone (what a run did before terms were stored), a first
run (every article's terms computed, then stored), and a next run that finds them all
stored. It prints the three times and the stored bytes an article.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pipeline_bench import generated_articles  # noqa: E402  (bench/ is on sys.path)

from digest.cluster._terms.batch import batch_terms  # noqa: E402
from digest.models import FeedEntry  # noqa: E402
from digest.store._state import NewArticle, Store  # noqa: E402
from digest.store._terms import terms_of  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=20_000)
    args = parser.parse_args()
    generated = generated_articles(args.size, 8)
    now = max(a.published for a in generated) + timedelta(hours=1)
    since = now - timedelta(days=30)
    with tempfile.TemporaryDirectory() as folder:
        store = Store.open(Path(folder) / "digest.db")
        entries = [
            FeedEntry(a.feed, a.url, a.url, a.url, a.title, "", "", a.published) for a in generated
        ]
        store.add_articles(
            [
                NewArticle(entry, a.title, a.text, "page", "en", None, a.published)
                for entry, a in zip(entries, generated, strict=True)
            ],
            now,
        )
        articles = store.articles(("pending",), since)
        timings = {}
        start = time.perf_counter()
        alone = batch_terms([(a.title, a.text, a.language) for a in articles])
        timings["batch_terms alone (before terms were stored)"] = time.perf_counter() - start
        start = time.perf_counter()
        terms_of(store, articles, since)
        timings["first run: computed and stored"] = time.perf_counter() - start
        start = time.perf_counter()
        again = terms_of(store, articles, since)
        timings["next run: all read back"] = time.perf_counter() - start
        stored = store.db.execute("SELECT SUM(LENGTH(terms)) FROM term_batches").fetchone()[0]
        store.close()
    assert again.vocabulary == alone.vocabulary  # the same batch, read back
    print(f"terms of {len(articles):,} articles")
    for label, seconds in timings.items():
        print(f"    {label:<48}{seconds:6.1f}s")
    print(f"    {'stored, an article':<48}{stored / len(articles):6.0f} bytes")


if __name__ == "__main__":
    main()
