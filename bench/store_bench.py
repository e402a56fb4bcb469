"""The run's "store" stage alone, on SQLite and on PostgreSQL: what `digest run` does to the
state once pages are cleaned (the new articles, then each feed's conditional-GET state),
for a batch of generated articles, into an empty state, best of three. Then the next
run's first step for a feed that answers 200 with every entry again (no conditional GET):
which of those entries the state already holds (`Store.known`), on the state just written.

    python bench/store_bench.py --storage postgresql://USER@HOST:PORT/DB   # both backends
    python bench/store_bench.py                                           # SQLite only

The PostgreSQL database is emptied before each round (give it a scratch database); the
SQLite file is a new one in a temporary folder. Target: PostgreSQL within 2x of SQLite.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from digest.models import FeedEntry
from digest.store import NewArticle, Store

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
TEXT = "A sentence of an article page, as the cleaner keeps it. " * 60  # ~3.4 KB


def articles(count: int, feeds: int) -> list[NewArticle]:
    made = []
    for number in range(count):
        feed = f"Outlet {number % feeds}"
        url = f"https://outlet{number % feeds}.example/news/{number}.html"
        entry = FeedEntry(feed, f"g{number}", url, url, f"Story {number}", "Summary.", "",
                          NOW - timedelta(minutes=number))  # fmt: skip
        made.append(NewArticle(entry, f"Story {number}", TEXT, "page", "en", None,
                               NOW - timedelta(minutes=number)))  # fmt: skip
    return made


def store_stage(storage: Path | str, batch: list[NewArticle], feeds: int) -> tuple[float, float]:
    """(the store stage's seconds, the seconds of `known` over the same entries listed again)."""
    store = Store.open(storage)
    try:
        started = time.perf_counter()
        store.add_articles(batch, NOW)
        for number in range(feeds):
            url = f"https://outlet{number}.example/feed.xml"
            store.feed_succeeded(url, f"Outlet {number}", 200, f'"e{number}"', None, NOW)
        stored = time.perf_counter() - started
        listed = [article.entry for article in batch]
        started = time.perf_counter()
        assert len(store.known(listed)) == len(listed)
        return stored, time.perf_counter() - started
    finally:
        store.close()


def empty(storage: str) -> None:
    import psycopg

    password = os.environ.get("DIGEST_STORAGE_PASSWORD")
    with psycopg.connect(storage, password=password, autocommit=True) as db:
        db.execute("DROP SCHEMA public CASCADE")
        db.execute("CREATE SCHEMA public")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--storage", help="a scratch PostgreSQL database, emptied each round")
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--feeds", type=int, default=20)
    args = parser.parse_args()
    batch = articles(args.articles, args.feeds)
    results: dict[str, float] = {}
    known: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as folder:
        times = [store_stage(Path(folder) / f"round{i}.db", batch, args.feeds) for i in range(3)]
        results["sqlite"] = min(stored for stored, _ in times)
        known["sqlite"] = min(seconds for _, seconds in times)
    if args.storage:
        times = []
        for _ in range(3):
            empty(args.storage)
            Store.open(args.storage).close()  # the schema, outside the timing as for SQLite
            times.append(store_stage(args.storage, batch, args.feeds))
        results["postgresql"] = min(stored for stored, _ in times)
        known["postgresql"] = min(seconds for _, seconds in times)
    print(f"store stage, {args.articles:,} articles of {args.feeds} feeds (best of 3):")
    for backend, seconds in results.items():
        print(f"  {backend:<12}{seconds:>8.3f} s   {args.articles / seconds:>8,.0f} articles/s")
    print(f"the same {args.articles:,} entries listed again, found known (best of 3):")
    for backend, seconds in known.items():
        print(f"  {backend:<12}{seconds:>8.3f} s   {args.articles / seconds:>8,.0f} entries/s")
    if "postgresql" in results:
        ratio = results["postgresql"] / results["sqlite"]
        verdict = "MET" if ratio <= 2 else "MISSED"
        print(f"postgresql / sqlite: {ratio:.2f}x   target <= 2x {verdict}")
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"machine: {os.cpu_count()} cores, load average {load}")


if __name__ == "__main__":
    main()
