"""The state of a digest: feeds, articles, delivered stories, digests, deliveries, in a
SQLite file or a PostgreSQL database.

Article life: `pending` (ingested, not yet sent) -> `delivered` (in a digest whose messages
are staged in the outbox, as part of a story) or `joined` (reported an already delivered
story, so never sent on its own) or `expired` (fell out of the window unsent). A pending
article stays sendable for one window from its publication or, when later, from when digest
first stored it (`first_seen`): a story held back by `max_items` or by a delivery that
failed keeps a whole window to go out in, however close to the window's edge it was
published when fetched (`expire`, `count_pending`). A story is
marked delivered in the transaction that stages its digest's messages; the outbox then sees
each message through (_outbox.py), and a digest no server took is unstaged, its
articles `pending` again.

Entries dated before the window when first seen are not articles yet: they are kept in
`kept_entries` with their feed's text, no page fetched, and come in as new articles (page
fetched then) on the first run whose window covers their date, even if their feed answers
304 by then. Undated entries of a feed's first fetch were in the feed before digest followed
it: they take the feed's newest date, and when that is within the window they are kept as
`backlog`, never sent (pipeline/_ingest.py, WindowSplit).

Which pending articles a run weighs again: each digest keeps a watermark,
`considered_through`, the newest article id weighed for it. A run with no new article
clusters again only when a pending article lies above the last digest's watermark: one
stored since, or one of the stories `max_items` left out (`stage_digest` sets the
watermark below them); once a run found that nothing pending can go out,
`weighed_all_pending` raises it, so articles no digest can take (filtered out) are not
weighed on every run. With the watermark goes the fingerprint of the feeds and filters it
was set under (`eligibility`): a run under others weighs every pending article again.

The schema is built by named migrations, each applied once in its own transaction.
The file, transactions, migrations and run lock are in _db.py; digests, deliveries and
the outbox in _outbox.py; articles' terms in _terms.py. `Store` is the one class
the pipeline uses.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from ..models import Article, FeedEntry, FeedState, RemovedBlock, SentStory, Skipped
from ._article_pool import ArticlePool
from ._db import STALE_LOCK, StateDB, _iso, _time, in_chunks, maybe_time
from ._feed_health import FeedHealthRecords
from ._migrations import MIGRATIONS
from ._outbox import QUEUE_LIMIT, DeliveryLog
from ._terms import TermStore

__all__ = ["MIGRATIONS", "QUEUE_LIMIT", "STALE_LOCK", "FeedState", "NewArticle", "StateDB", "Store",
           "count_pending"]  # fmt: skip

# Site chrome changes with redesigns; a block not seen for this long no longer teaches much.
SITE_MEMORY = timedelta(days=60)
PROBLEM_MEMORY = timedelta(days=90)
# How long past the last run that may read it an article keeps its text (Store.prune).
TEXT_MARGIN = timedelta(days=7)
# An article out of a span whose start is the two parameters (the same time): published
# and first stored before it (first_seen is never NULL, see _migrations.py). The window's,
# for pending articles; the prune's, for the text of sent ones.
_OUT = "(published < ? AND first_seen < ?)"
# The digest's last digest that counts (not failed, not being staged), one parameter: the
# digest's id. Its watermark and eligibility say what was weighed.
_LAST_DIGEST = (
    "FROM digests WHERE digest = ? AND status NOT IN ('failed', 'staging') ORDER BY id DESC LIMIT 1"
)


@dataclass(frozen=True)
class NewArticle:
    entry: FeedEntry
    title: str
    text: str
    text_source: str
    language: str | None
    author: str | None
    published: datetime
    removed: tuple[RemovedBlock, ...] = ()
    first_seen: datetime | None = None  # None: now; else when kept outside the window


class Store(DeliveryLog, FeedHealthRecords, TermStore, ArticlePool):
    """Feeds, articles, site memory and problems; delivery records from DeliveryLog,
    feed health (backoff, 410, 301, alerts) from FeedHealthRecords, articles' terms from
    TermStore, the feeds and pages the digests of a store share from ArticlePool.
    DeliveryLog comes first so that StateDB's transaction() is the one used."""

    # -- feeds ---------------------------------------------------------------------------

    def follow_renames(self, feeds: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
        """Articles are filed under their feed's name: when the config gives a known feed URL
        another name, move its articles to the new name, so that what waits to be sent is not
        taken for the articles of a feed taken out of the config. Returns (old, new) names."""
        names = {name for _, name in feeds}
        renamed = []
        with self.transaction() as db:
            for url, name in feeds:
                row = db.execute(
                    "SELECT name FROM feeds WHERE digest = ? AND url = ?", (self.digest, url)
                ).fetchone()
                # An old name another configured feed now uses keeps its articles (a swap).
                if row is None or row[0] == name or row[0] in names:
                    continue
                for table in ("articles", "kept_entries"):
                    db.execute(
                        f"UPDATE {table} SET feed = ? WHERE digest = ? AND feed = ?",
                        (name, self.digest, row[0]),
                    )
                db.execute(
                    "UPDATE feeds SET name = ? WHERE digest = ? AND url = ?",
                    (name, self.digest, url),
                )
                renamed.append((row[0], name))
        return renamed

    def feed_state(self, url: str) -> FeedState:
        row = self.db.execute(
            "SELECT etag, last_modified, failures, failing_since, next_attempt, gone_since, "
            "moved_to, last_error, last_attempt FROM feeds WHERE digest = ? AND url = ?",
            (self.digest, url),
        ).fetchone()
        if row is None:
            return FeedState(None, None, 0, None)
        return FeedState(
            row[0], row[1], row[2], row[3], maybe_time(row[4]), maybe_time(row[5]), row[6],
            row[7], maybe_time(row[8]),
        )  # fmt: skip

    def feed_succeeded(
        self,
        url: str,
        name: str,
        status: int,
        etag: str | None,
        last_modified: str | None,
        now: datetime,
    ) -> None:
        self.db.execute(
            """INSERT INTO feeds (url, name, etag, last_modified, last_status, last_attempt,
                                  last_success, failures, digest)
               VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?)
               ON CONFLICT (digest, url) DO UPDATE SET name = excluded.name, etag = excluded.etag,
                 last_modified = excluded.last_modified, last_status = excluded.last_status,
                 last_attempt = excluded.last_attempt, last_success = excluded.last_success,
                 last_error = NULL, failures = 0, failing_since = NULL, next_attempt = NULL,
                 gone_since = NULL, alerted = NULL""",
            (url, name, etag, last_modified, status, _iso(now), _iso(now), self.digest),
        )

    def feed_failed(
        self,
        url: str,
        name: str,
        error: str,
        status: int | None,
        now: datetime,
        until: datetime | None = None,
        gone: bool = False,
    ) -> None:
        """Record a failed attempt, and that the feed waits until `until` (None: the next
        run), or for good when `gone` (410) until reactivated. One statement, so a crash
        cannot keep the failure and lose the wait."""
        self.db.execute(
            """INSERT INTO feeds (url, name, last_status, last_error, last_attempt, failures,
                                  failing_since, next_attempt, gone_since, digest)
               VALUES (?, ?, ?, ?, ?, 1, ?, ?, ?, ?)
               ON CONFLICT (digest, url) DO UPDATE SET name = excluded.name,
                 last_status = excluded.last_status, last_error = excluded.last_error,
                 last_attempt = excluded.last_attempt, failures = feeds.failures + 1,
                 failing_since = COALESCE(feeds.failing_since, excluded.failing_since),
                 next_attempt = excluded.next_attempt,
                 gone_since = CASE WHEN excluded.gone_since IS NULL THEN feeds.gone_since
                                   ELSE COALESCE(feeds.gone_since, excluded.gone_since) END""",
            (
                url,
                name,
                status,
                error,
                _iso(now),
                _iso(now),
                _iso(until) if until else None,
                _iso(now) if gone else None,
                self.digest,
            ),
        )

    # -- articles ------------------------------------------------------------------------

    def known(self, entries: Iterable[FeedEntry]) -> set[str]:
        """Canonical URLs of `entries` already in the store, as articles or kept outside the
        window: the same URL, or the same guid and title in the same feed (a link that
        moved). A guid alone is not trusted: some feeds reuse one ("latest") for every new
        article. A kept entry listed again keeps the date it was kept with: an undated one
        is not news because it is still listed.

        Looked up by URL, then by feed and guid, a chunk of entries per query, each on its
        own index: one query with `url = ? OR (feed, guid, title)` per entry could use
        neither, and read every stored article of the digest for each entry a feed lists."""
        listed = list(entries)
        found: set[str] = set()
        for table in ("articles", "kept_entries"):
            for chunk, marks in in_chunks(e.url for e in listed if e.url not in found):
                found.update(
                    row[0]
                    for row in self.db.execute(
                        f"SELECT url FROM {table} WHERE digest = ? AND url IN ({marks})",
                        (self.digest, *chunk),
                    )
                )
        moved: dict[tuple[str, str, str], list[str]] = defaultdict(list)
        for e in listed:
            if e.url not in found:
                moved[(e.feed, e.guid, e.title)].append(e.url)
        feeds = {feed for feed, _, _ in moved}
        for table in ("articles", "kept_entries"):
            for feed in feeds:
                guids = (guid for (of, guid, _) in moved if of == feed)
                for chunk, marks in in_chunks(guids):
                    for guid, title in self.db.execute(
                        f"SELECT guid, title FROM {table} WHERE digest = ? AND feed = ? "
                        f"AND guid IN ({marks})",
                        (self.digest, feed, *chunk),
                    ):
                        found.update(moved.get((feed, guid, title), ()))
        return found

    def fetched_before(self, url: str, name: str) -> bool:
        """Whether the feed was read before: a successful fetch recorded, or anything of it
        stored. On its first fetch, its undated entries are its backlog."""
        row = self.db.execute(
            """SELECT EXISTS (SELECT 1 FROM feeds WHERE digest = ? AND url = ?
                              AND last_success IS NOT NULL)
                 OR EXISTS (SELECT 1 FROM articles WHERE digest = ? AND feed = ?)
                 OR EXISTS (SELECT 1 FROM kept_entries WHERE digest = ? AND feed = ?)""",
            (self.digest, url, self.digest, name, self.digest, name),
        ).fetchone()
        return bool(row[0])

    def keep_entries(
        self, entries: Iterable[FeedEntry], now: datetime, backlog: Iterable[str] = ()
    ) -> None:
        """Keep entries dated before the window (their `published` set), with their feed's
        text; `backlog` names the URLs of those never to be sent. An entry kept already gets
        its new date (a page dated it older than its feed did) and keeps its first sighting.
        """
        never = set(backlog)
        with self.transaction() as db:
            for entry in entries:
                assert entry.published is not None, "a kept entry is dated"
                db.execute(
                    """INSERT INTO kept_entries (url, feed, guid, link, title, summary, content,
                         author, published, first_seen, backlog, digest)
                       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                       ON CONFLICT (digest, url) DO UPDATE SET published = excluded.published,
                         backlog = excluded.backlog""",
                    (
                        entry.url,
                        entry.feed,
                        entry.guid,
                        entry.link,
                        entry.title,
                        entry.summary,
                        entry.content,
                        entry.author,
                        _iso(entry.published),
                        _iso(now),
                        int(entry.url in never),
                        self.digest,
                    ),
                )

    def kept_within(
        self, since: datetime, feeds: Iterable[str]
    ) -> list[tuple[FeedEntry, datetime]]:
        """The kept entries of `feeds` published since `since` (the window now covers them:
        it was widened, or they were dated ahead), with when each was first seen; backlog
        excluded. They stay kept until stored as articles (`add_articles`)."""
        names = set(feeds)
        rows = self.db.execute(
            "SELECT * FROM kept_entries WHERE digest = ? AND backlog = 0 AND published >= ? "
            "ORDER BY published, url",
            (self.digest, _iso(since)),
        )
        return [
            (
                FeedEntry(
                    feed=row["feed"],
                    guid=row["guid"],
                    link=row["link"],
                    url=row["url"],
                    title=row["title"],
                    summary=row["summary"],
                    content=row["content"],
                    published=_time(row["published"]),
                    author=row["author"],
                ),
                _time(row["first_seen"]),
            )
            for row in rows
            if row["feed"] in names
        ]

    def kept(self, urls: Iterable[str]) -> dict[str, tuple[str, bool]]:
        """Which of `urls` are kept outside the window: URL -> (the feed that listed it,
        whether it is backlog)."""
        found: dict[str, tuple[str, bool]] = {}
        for chunk, marks in in_chunks(urls):
            for row in self.db.execute(
                "SELECT url, feed, backlog FROM kept_entries WHERE digest = ? "
                f"AND url IN ({marks})",
                (self.digest, *chunk),
            ):
                found[row[0]] = (row[1], bool(row[2]))
        return found

    def kept_counts(self) -> dict[str, tuple[int, int]]:
        """Feed name -> (entries kept outside the window, of which backlog)."""
        rows = self.db.execute(
            "SELECT feed, COUNT(*), SUM(backlog) FROM kept_entries WHERE digest = ? GROUP BY feed",
            (self.digest,),
        )
        return {row[0]: (row[1], row[2] or 0) for row in rows}

    def add_articles(self, articles: Sequence[NewArticle], now: datetime) -> None:
        # Statements in batches (executemany): on PostgreSQL one round trip per batch rather
        # than per article, which is most of what storing thousands of articles costs there.
        with self.transaction() as db:
            db.executemany(
                """INSERT INTO articles (url, feed, guid, link, title, text,
                     text_source, language, author, published, first_seen, removed, digest)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING""",
                (
                    (
                        new.entry.url, new.entry.feed, new.entry.guid, new.entry.link,
                        new.title, new.text, new.text_source, new.language, new.author,
                        _iso(new.published), _iso(new.first_seen or now),
                        json.dumps([[r.reason, r.text] for r in new.removed], ensure_ascii=False),
                        self.digest,
                    )
                    for new in articles
                ),
            )  # fmt: skip
            # Kept outside the window until now: they came in.
            db.executemany(
                "DELETE FROM kept_entries WHERE digest = ? AND url = ?",
                ((self.digest, new.entry.url) for new in articles),
            )

    def articles(self, statuses: Sequence[str], since: datetime | None) -> list[Article]:
        """The articles of `statuses` published since `since` (None: whenever)."""
        marks = ",".join("?" for _ in statuses)
        dated = "" if since is None else "AND published >= ?"
        return self._articles_where(
            f"status IN ({marks}) {dated}",
            (*statuses, *([] if since is None else [_iso(since)])),
        )

    def _articles_where(self, condition: str, params: Sequence[Any]) -> list[Article]:
        rows = self.db.execute(
            f"SELECT * FROM articles WHERE digest = ? AND {condition} ORDER BY published, id",
            (self.digest, *params),
        )
        return [
            Article(
                id=row["id"],
                feed=row["feed"],
                url=row["url"],
                title=row["title"],
                text=row["text"],
                published=_time(row["published"]),
                author=row["author"],
                language=row["language"],
                text_source=row["text_source"],
                story_id=row["story_id"],
            )
            for row in rows
        ]

    def pending_since_last_digest(self, eligibility: str = "") -> bool:
        """True when a pending article is above the last digest's watermark: it came in after
        that digest was chosen, or `max_items` held it back (`stage_digest`); or when a
        pending article was weighed under other feeds and filters than `eligibility` (the
        run's fingerprint of them): a feed back in the config or a filter taken out may let
        it go out now. Only then can a new digest differ from what was already weighed."""
        row = self.db.execute(
            f"""SELECT EXISTS (SELECT 1 FROM articles WHERE digest = ? AND status = 'pending'
                 AND (id > COALESCE((SELECT considered_through {_LAST_DIGEST}), -1)
                      OR COALESCE((SELECT eligibility {_LAST_DIGEST}), '') <> ?))""",
            (self.digest, self.digest, self.digest, eligibility),
        ).fetchone()
        return bool(row[0])

    def weighed_all_pending(self, eligibility: str = "") -> None:
        """Every pending article was just weighed under `eligibility` (the run's feeds and
        filters) and none can go out (filtered out, its feed taken out of the config): raise
        the last digest's watermark over them, so that the runs that follow skip weighing
        them again until something new comes in or the feeds and filters change. Call under
        the run lock, after the articles of this run were stored and weighed."""
        self.db.execute(
            f"""UPDATE digests SET considered_through = (SELECT max(id) FROM articles
                                                          WHERE digest = ?), eligibility = ?
               WHERE id = (SELECT id {_LAST_DIGEST})""",
            (self.digest, eligibility, self.digest),
        )

    def waiting_for_everyone(self) -> dict[str, str]:
        """Recipient -> last error of each message refused for now (4xx, no connection) whose
        digest no recipient has yet: none of its messages was sent, and none is `sending`
        (a server that may hold a copy counts as having it). Oldest first."""
        rows = self.db.execute(
            """SELECT recipient, last_error FROM queued_messages AS waiting
               WHERE digest = ? AND status = 'queued' AND NOT EXISTS (
                 SELECT 1 FROM queued_messages AS other WHERE other.digest_id = waiting.digest_id
                 AND other.status IN ('sent', 'sending'))
               ORDER BY id""",
            (self.digest,),
        )
        return {row["recipient"]: row["last_error"] or "" for row in rows}

    def join_repeats(self, repeats: Iterable[tuple[int, int]]) -> None:
        """Record pieces an outlet published again with their stories (story id, article
        id), listed in no digest, as staging a digest does with those of its follow-ups."""
        self.db.executemany(
            "UPDATE articles SET status = 'joined', story_id = ?, listed_in = NULL "
            "WHERE digest = ? AND id = ? AND status = 'pending'",
            [(story_id, self.digest, article_id) for story_id, article_id in repeats],
        )

    def expiring(self, before: datetime) -> list[Article]:
        """The pending articles `expire(before)` would expire, oldest first."""
        return self._articles_where(f"status = 'pending' AND {_OUT}", (_iso(before),) * 2)

    def expire(self, before: datetime) -> int:
        """Mark `expired` the pending articles published and first stored before `before`
        (the window's start): see the module's docstring. Returns how many."""
        return self.db.execute(
            f"UPDATE articles SET status = 'expired' WHERE digest = ? AND status = 'pending' "
            f"AND {_OUT}",
            (self.digest, _iso(before), _iso(before)),
        ).rowcount

    def sent_stories(self, story_ids: Iterable[int]) -> dict[int, SentStory]:
        """The stories of `story_ids` as their digests sent them (late reports join them)."""
        stories: dict[int, SentStory] = {}
        for chunk, marks in in_chunks(story_ids):
            for row in self.db.execute(
                # The headline's language: of the article at the story's link, else its first.
                "SELECT stories.id, headline, stories.url, digests.created, COALESCE("
                "(SELECT language FROM articles WHERE articles.story_id = stories.id "
                "AND articles.url = stories.url LIMIT 1), (SELECT language FROM articles "
                "WHERE articles.story_id = stories.id ORDER BY articles.id LIMIT 1)) "
                "FROM stories JOIN digests ON digests.id = stories.digest_id "
                f"WHERE digests.digest = ? AND stories.id IN ({marks})",
                (self.digest, *chunk),
            ):
                stories[row[0]] = SentStory(row[0], row[1], row[2], _time(row[3]), row[4])
        return stories

    # -- site memory (for repeated-on-site boilerplate) ------------------------------------

    def site_blocks(self, host: str, fingerprints: Iterable[str]) -> dict[str, set[str]]:
        """Block fingerprint -> URLs of the pages of `host` it was seen on, for the given
        fingerprints only: a site's memory holds months of pages, and a run asks about the
        few blocks of its new ones (primary-key lookups)."""
        seen: dict[str, set[str]] = {}
        if self.db.execute("SELECT 1 FROM site_blocks WHERE host = ? LIMIT 1", (host,)).fetchone():
            for chunk, marks in in_chunks(fingerprints):
                for row in self.db.execute(
                    "SELECT fingerprint, url FROM site_blocks WHERE host = ? AND fingerprint IN "
                    f"({marks})",
                    (host, *chunk),
                ):
                    seen.setdefault(row[0], set()).add(row[1])
        return seen

    def remember_blocks(
        self, host: str, prints: Mapping[str, Iterable[str]], now: datetime
    ) -> None:
        """Remember the block fingerprints of pages of `host`: {url: fingerprints}.

        In sorted order: two digests of one PostgreSQL store cleaning the same site at once
        (one gone on without its turn at the pool) each wait for the rows the other
        inserted first, and in two orders (a set's, which differs between processes) that
        was a deadlock. Their callers take hosts in sorted order too."""
        seen = _iso(now)
        # A generator, not a list: each row is freed once bound, so a big batch does not
        # set off the garbage collector's passes over the whole run's objects.
        self.db.executemany(
            "INSERT INTO site_blocks VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (
                (host, fp, url, seen)
                for url, fps in sorted(prints.items())
                for fp in sorted(set(fps))
            ),
        )

    # -- problems --------------------------------------------------------------------------

    def record_problems(self, problems: Iterable[Skipped], now: datetime) -> None:
        with self.transaction("problems") as db:
            db.executemany(
                "INSERT INTO problems (at, stage, target, feed, reason, digest) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [(_iso(now), p.stage, p.target, p.feed, p.reason, self.digest) for p in problems],
            )

    def prune(self, now: datetime, read_back: timedelta = timedelta(0)) -> None:
        """Forget old site chrome and old problems, so that neither grows without end, and
        the text of the articles a run no longer reads.

        Articles are kept: they are what tells a new feed entry from one already sent. But
        their text, most of a state's size (a few KB each, a thousand a day for a busy
        digest), is read back only while they may be clustered again: pending ones, and
        sent ones within `read_back` (the window, or how long a late report may join a
        story). Past that and TEXT_MARGIN, a sent or expired article keeps its address,
        guid and headline, not its text. So are the entries kept outside the window: few (a
        feed's new entries come in dated within it), and what a wider window brings in.
        """
        self.db.execute(
            f"UPDATE articles SET text = '', removed = NULL WHERE digest = ? AND status != "
            f"'pending' AND {_OUT} AND (text != '' OR removed IS NOT NULL)",
            (self.digest, *[_iso(now - read_back - TEXT_MARGIN)] * 2),
        )
        self.db.execute("DELETE FROM site_blocks WHERE seen < ?", (_iso(now - SITE_MEMORY),))
        self.db.execute(
            "DELETE FROM problems WHERE digest = ? AND at < ?",
            (self.digest, _iso(now - PROBLEM_MEMORY)),
        )
        self.prune_pool(now)

    def count(self, status: str) -> int:
        return self.db.execute(
            "SELECT COUNT(*) FROM articles WHERE digest = ? AND status = ?", (self.digest, status)
        ).fetchone()[0]


def count_pending(db: Any, since: datetime, digest: str | None = "") -> int:
    """Articles waiting to be sent, not expired by a run whose window starts at `since`:
    stored and not yet in a digest, some held back by `max_items` for the next runs. Takes
    any connection to the state, a read-only one too (`digest status` reads without the
    store). `digest`: whose (None: a state from before 012_shared_store, one digest's)."""
    if digest is None:
        return db.execute(
            f"SELECT COUNT(*) FROM articles WHERE status = 'pending' AND NOT {_OUT}",
            (_iso(since), _iso(since)),
        ).fetchone()[0]
    return db.execute(
        f"SELECT COUNT(*) FROM articles WHERE digest = ? AND status = 'pending' AND NOT {_OUT}",
        (digest, _iso(since), _iso(since)),
    ).fetchone()[0]


# Of the runs, those that ended (RUN_ENDED): a run that died, or has not ended, is no run of
# its fire time; the run made again sends what it staged to whom it had not reached (one
# still going holds the lock, which the run made again waits for). Of those, the ones that
# made their digest: ended well (nothing new to send included), or staged a digest that went
# out, to some readers at least (a run with one refused reader fails, yet its digest went
# out).
RUN_ENDED = " AND finished IS NOT NULL AND outcome <> 'died'"
MADE_ITS_DIGEST = (
    RUN_ENDED + " AND (outcome = 'ok' OR id IN (SELECT run_id FROM digests"
    " WHERE run_id IS NOT NULL AND status IN ('sending', 'delivered')))"
)


def last_run(
    storage: Path | str, digest: str = "", *, made: bool = False, ended: bool = True
) -> datetime | None:
    """When the latest run (not a preview) of the digest keyed `digest` that ended started,
    read from its state (None: never); with `made`, of the runs that made their digest
    (MADE_ITS_DIGEST); with `ended` False, of any run. The daemon asks this of a PostgreSQL
    store (its catch-up; a fire time another process ran)."""
    store = Store.open(storage, digest)
    condition = MADE_ITS_DIGEST if made else RUN_ENDED if ended else ""
    try:
        with store.errors_named():
            row = store.db.execute(
                f"SELECT MAX(started) FROM runs WHERE digest = ? AND kind = 'run'{condition}",
                (digest,),
            ).fetchone()
    finally:
        store.close()
    return maybe_time(row[0]) if row else None
