"""The SQLite state of one digest: feeds, articles, delivered stories, digests, deliveries.

A digest that some recipients refused only for now (4xx, a dropped connection) waits for
them in `queued_messages` and is retried at the start of every run.

Article life: `pending` (ingested, not yet sent) -> `delivered` (went out in a digest, as part
of a story) or `joined` (reported an already delivered story, so never sent on its own) or
`expired` (fell out of the window unsent). A story is marked delivered in the same
transaction that records the delivery, and only after the delivery succeeded.

The schema is built by named migrations, each applied once in its own transaction.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from .errors import RunLocked, StoreError
from .feedhealth import FeedHealthRecords, maybe_time
from .migrations import MIGRATIONS
from .models import Article, DigestItem, FeedEntry, RemovedBlock, Skipped

# A run that held the lock this long died or hung; its pid may belong to another process now.
STALE_LOCK = timedelta(hours=6)
# Site chrome changes with redesigns; a block not seen for this long no longer teaches much.
SITE_MEMORY = timedelta(days=60)
PROBLEM_MEMORY = timedelta(days=90)
# A message a server keeps refusing "for now" (4xx) is retried each run for this long.
QUEUE_LIMIT = timedelta(days=5)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _time_or(text: str, default: datetime) -> datetime:
    try:
        moment = _time(text)
    except ValueError:
        return default
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class FeedState:
    etag: str | None
    last_modified: str | None
    failures: int
    failing_since: str | None
    next_attempt: datetime | None = None  # not fetched before this (backoff, Retry-After)
    gone_since: datetime | None = None  # answered 410 Gone: skipped until reactivated
    moved_to: str | None = None  # fetched here instead: the feed answered 301/308
    last_error: str | None = None
    last_attempt: datetime | None = None


@dataclass(frozen=True)
class NewArticle:
    entry: FeedEntry
    section: str | None
    title: str
    text: str
    text_source: str
    language: str | None
    author: str | None
    published: datetime
    removed: tuple[RemovedBlock, ...] = ()


class Store(FeedHealthRecords):
    """One SQLite file. Open with `Store.open(path)`; close when done."""

    def __init__(self, connection: sqlite3.Connection, path: Path):
        self.db = connection
        self.path = path

    @classmethod
    def open(cls, path: Path) -> Store:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(path, timeout=10, isolation_level=None)
            connection.row_factory = sqlite3.Row
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA foreign_keys=ON")
            store = cls(connection, path)
            store.migrate()
        except sqlite3.Error as error:
            raise StoreError(f"{path}: cannot open the state database: {error}") from None
        except OSError as error:
            raise StoreError(f"{path}: cannot create the state folder: {error}") from None
        return store

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    @contextmanager
    def errors_named(self) -> Iterator[None]:
        """Turn SQLite failures mid-run (locked, disk full) into one line naming the file."""
        try:
            yield
        except sqlite3.Error as error:
            raise StoreError(f"{self.path}: state database error: {error}") from None

    def migrate(self) -> list[str]:
        """Apply the migrations not yet applied; returns their names."""
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY, applied TEXT NOT NULL)"
        )
        done = {row[0] for row in self.db.execute("SELECT name FROM migrations")}
        applied = []
        for name, script in MIGRATIONS:
            if name in done:
                continue
            with self.transaction() as db:
                for statement in script.split(";"):
                    if statement.strip():
                        db.execute(statement)
                db.execute("INSERT INTO migrations VALUES (?, ?)", (name, _iso(datetime.now(UTC))))
            applied.append(name)
        return applied

    # -- run lock ----------------------------------------------------------------------

    @contextmanager
    def run_lock(self, now: datetime) -> Iterator[int]:
        """Hold the digest's run lock: a row in `runs` without `finished`, owned by a live pid."""
        with self.transaction() as db:
            for row in db.execute("SELECT id, pid, started FROM runs WHERE finished IS NULL"):
                stale = now - _time_or(row["started"], now) > STALE_LOCK
                if _alive(row["pid"]) and not stale:
                    raise RunLocked(
                        f"{self.path}: another run (pid {row['pid']}, started {row['started']}) "
                        f"is in progress; wait for it, or its lock lapses after {STALE_LOCK}"
                    )
                db.execute(
                    "UPDATE runs SET finished = ?, outcome = 'died' WHERE id = ?",
                    (_iso(now), row["id"]),
                )
            run_id = db.execute(
                "INSERT INTO runs (pid, started) VALUES (?, ?)", (os.getpid(), _iso(now))
            ).lastrowid
        outcome = "failed"
        try:
            yield run_id
            outcome = "ok"
        finally:
            self.db.execute(
                "UPDATE runs SET finished = ?, outcome = ? WHERE id = ?",
                (_iso(datetime.now(UTC)), outcome, run_id),
            )

    # -- feeds ---------------------------------------------------------------------------

    def feed_state(self, url: str) -> FeedState:
        row = self.db.execute(
            "SELECT etag, last_modified, failures, failing_since, next_attempt, gone_since, "
            "moved_to, last_error, last_attempt FROM feeds WHERE url = ?",
            (url,),
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
                                  last_success, failures)
               VALUES (?, ?, ?, ?, ?, ?, ?, 0)
               ON CONFLICT (url) DO UPDATE SET name = excluded.name, etag = excluded.etag,
                 last_modified = excluded.last_modified, last_status = excluded.last_status,
                 last_attempt = excluded.last_attempt, last_success = excluded.last_success,
                 last_error = NULL, failures = 0, failing_since = NULL, next_attempt = NULL,
                 gone_since = NULL, alerted = NULL""",
            (url, name, etag, last_modified, status, _iso(now), _iso(now)),
        )

    def feed_failed(
        self, url: str, name: str, error: str, status: int | None, now: datetime
    ) -> None:
        self.db.execute(
            """INSERT INTO feeds (url, name, last_status, last_error, last_attempt, failures,
                                  failing_since)
               VALUES (?, ?, ?, ?, ?, 1, ?)
               ON CONFLICT (url) DO UPDATE SET name = excluded.name,
                 last_status = excluded.last_status, last_error = excluded.last_error,
                 last_attempt = excluded.last_attempt, failures = feeds.failures + 1,
                 failing_since = COALESCE(feeds.failing_since, excluded.failing_since)""",
            (url, name, status, error, _iso(now), _iso(now)),
        )

    # -- articles ------------------------------------------------------------------------

    def known(self, entries: Iterable[FeedEntry]) -> set[str]:
        """Canonical URLs of `entries` already in the store: the same URL, or the same guid
        and title in the same feed (a link that moved). A guid alone is not trusted: some
        feeds reuse one ("latest") for every new article."""
        found = set()
        for entry in entries:
            row = self.db.execute(
                "SELECT 1 FROM articles WHERE url = ? "
                "OR (feed = ? AND guid = ? AND title = ?) LIMIT 1",
                (entry.url, entry.feed, entry.guid, entry.title),
            ).fetchone()
            if row:
                found.add(entry.url)
        return found

    def add_articles(self, articles: Sequence[NewArticle], now: datetime) -> None:
        with self.transaction() as db:
            for new in articles:
                removed = json.dumps([[r.reason, r.text] for r in new.removed], ensure_ascii=False)
                db.execute(
                    """INSERT OR IGNORE INTO articles (url, feed, guid, link, title, text,
                         text_source, language, author, section, published, first_seen, removed)
                       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                    (
                        new.entry.url,
                        new.entry.feed,
                        new.entry.guid,
                        new.entry.link,
                        new.title,
                        new.text,
                        new.text_source,
                        new.language,
                        new.author,
                        new.section,
                        _iso(new.published),
                        _iso(now),
                        removed,
                    ),
                )

    def articles(self, statuses: Sequence[str], since: datetime) -> list[Article]:
        marks = ",".join("?" for _ in statuses)
        rows = self.db.execute(
            f"""SELECT * FROM articles WHERE status IN ({marks}) AND published >= ?
                ORDER BY published, id""",
            (*statuses, _iso(since)),
        )
        return [
            Article(
                id=row["id"],
                feed=row["feed"],
                section=row["section"],
                weight=1.0,
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

    def expire(self, before: datetime) -> int:
        return self.db.execute(
            "UPDATE articles SET status = 'expired' WHERE status = 'pending' AND published < ?",
            (_iso(before),),
        ).rowcount

    def join_story(self, story_id: int, article_ids: Iterable[int]) -> int:
        """Attach late reports to a delivered story: they are never sent on their own."""
        ids = list(article_ids)
        with self.transaction() as db:
            for article_id in ids:
                db.execute(
                    "UPDATE articles SET status = 'joined', story_id = ? "
                    "WHERE id = ? AND status = 'pending'",
                    (story_id, article_id),
                )
        return len(ids)

    # -- site memory (for repeated-on-site boilerplate) ------------------------------------

    def site_blocks(self, host: str) -> dict[str, set[str]]:
        """Block fingerprint -> URLs of the pages of `host` it was seen on."""
        seen: dict[str, set[str]] = {}
        for row in self.db.execute(
            "SELECT fingerprint, url FROM site_blocks WHERE host = ?", (host,)
        ):
            seen.setdefault(row[0], set()).add(row[1])
        return seen

    def remember_blocks(
        self, host: str, url: str, fingerprints: Iterable[str], now: datetime
    ) -> None:
        self.db.executemany(
            "INSERT OR IGNORE INTO site_blocks VALUES (?, ?, ?, ?)",
            [(host, fp, url, _iso(now)) for fp in set(fingerprints)],
        )

    # -- problems --------------------------------------------------------------------------

    def record_problems(self, problems: Iterable[Skipped], now: datetime) -> None:
        self.db.executemany(
            "INSERT INTO problems (at, stage, target, feed, reason) VALUES (?, ?, ?, ?, ?)",
            [(_iso(now), p.stage, p.target, p.feed, p.reason) for p in problems],
        )

    # -- digests and deliveries ------------------------------------------------------------

    def record_delivery(
        self,
        subject: str,
        items: Sequence[DigestItem],
        method: str,
        recipients: Sequence[str],
        detail: str,
        now: datetime,
        refused: Mapping[str, str] | None = None,
        deferred: Mapping[str, tuple[str, bytes]] | None = None,
    ) -> int:
        """Record a delivered digest and mark its stories and articles sent, atomically.

        `refused` recipients (a permanent SMTP refusal) are recorded beside the others.
        """
        with self.transaction() as db:
            digest_id = _insert_digest(
                db, subject, "delivered", len(items), method, recipients, detail, now
            )
            db.executemany(
                "INSERT INTO deliveries (digest_id, method, recipient, status, detail, at) "
                "VALUES (?, ?, ?, 'refused', ?, ?)",
                [(digest_id, method, r, why, _iso(now)) for r, why in (refused or {}).items()],
            )
            db.executemany(
                "INSERT INTO queued_messages (digest_id, recipient, message, queued, last_error) "
                "VALUES (?, ?, ?, ?, ?)",
                [
                    (digest_id, r, data, _iso(now), why)
                    for r, (why, data) in (deferred or {}).items()
                ],
            )
            for item in items:
                story_id = db.execute(
                    "INSERT INTO stories (headline, url, created, digest_id) VALUES (?, ?, ?, ?)",
                    (item.headline, item.url, _iso(now), digest_id),
                ).lastrowid
                db.executemany(
                    "UPDATE articles SET status = 'delivered', story_id = ? WHERE id = ?",
                    [(story_id, article_id) for article_id in item.article_ids],
                )
        return digest_id

    def record_failed_delivery(
        self,
        subject: str,
        item_count: int,
        method: str,
        recipients: Sequence[str],
        error: str,
        now: datetime,
    ) -> None:
        """Record a digest that could not be delivered; its articles stay pending."""
        with self.transaction() as db:
            _insert_digest(db, subject, "failed", item_count, method, recipients, error, now)

    def queued_messages(self) -> list[tuple[str, str, bytes]]:
        """(id, recipient, message) of digests a recipient refused for now, oldest first."""
        rows = self.db.execute(
            "SELECT id, recipient, message FROM queued_messages WHERE status = 'queued' ORDER BY id"
        )
        return [(str(row[0]), row[1], row[2]) for row in rows]

    def settle_queue(
        self,
        sent: Iterable[str],
        refused: Mapping[str, str],
        deferred: Mapping[str, str],
        now: datetime,
    ) -> list[str]:
        """Record a retry of queued messages; give up on those queued longer than QUEUE_LIMIT.

        Returns the recipients given up on, so the caller can report them.
        """
        with self.transaction() as db:
            db.executemany(
                "UPDATE queued_messages SET status = 'sent' WHERE id = ?", [(key,) for key in sent]
            )
            db.executemany(
                "UPDATE queued_messages SET status = 'refused', last_error = ? WHERE id = ?",
                [(why, key) for key, why in refused.items()],
            )
            db.executemany(
                "UPDATE queued_messages SET attempts = attempts + 1, last_error = ? WHERE id = ?",
                [(why, key) for key, why in deferred.items()],
            )
            expired = db.execute(
                "SELECT recipient FROM queued_messages WHERE status = 'queued' AND queued < ?",
                (_iso(now - QUEUE_LIMIT),),
            ).fetchall()
            db.execute(
                "UPDATE queued_messages SET status = 'gave-up' WHERE status = 'queued' "
                "AND queued < ?",
                (_iso(now - QUEUE_LIMIT),),
            )
        return [row[0] for row in expired]

    def prune(self, now: datetime) -> None:
        """Forget old site chrome and old problems, so that neither grows without end.

        Articles are kept: they are what tells a new feed entry from one already sent.
        """
        self.db.execute("DELETE FROM site_blocks WHERE seen < ?", (_iso(now - SITE_MEMORY),))
        self.db.execute("DELETE FROM problems WHERE at < ?", (_iso(now - PROBLEM_MEMORY),))

    def count(self, status: str) -> int:
        return self.db.execute(
            "SELECT COUNT(*) FROM articles WHERE status = ?", (status,)
        ).fetchone()[0]


def _insert_digest(
    db: sqlite3.Connection,
    subject: str,
    status: str,
    item_count: int,
    method: str,
    recipients: Sequence[str],
    detail: str,
    now: datetime,
) -> int:
    """One digests row and one deliveries row per recipient, all with `status`."""
    digest_id = db.execute(
        "INSERT INTO digests (created, subject, status, item_count) VALUES (?, ?, ?, ?)",
        (_iso(now), subject, status, item_count),
    ).lastrowid
    db.executemany(
        "INSERT INTO deliveries (digest_id, method, recipient, status, detail, at) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        [(digest_id, method, r, "sent" if status == "delivered" else status, detail, _iso(now))
         for r in recipients],
    )  # fmt: skip
    return digest_id


def _alive(pid: int) -> bool:
    # Our own pid on an unfinished row is a previous run in a container that reuses pids
    # (every container's first process is pid 1): this process is not running it.
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
