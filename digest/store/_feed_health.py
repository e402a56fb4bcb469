"""The feeds table's health columns: backoff, 410 Gone, 301/308 moves, alerts (feeds/_health.py
decides; this records). A mixin of `Store`, kept apart so that _state.py keeps to one job."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from ._db import StateDB, _iso, maybe_time


@dataclass(frozen=True)
class FeedHealth:
    """A feed whose last attempts failed (`digest status`, the log, alerts)."""

    url: str
    name: str
    failures: int  # attempts failed in a row
    failing_since: datetime
    last_error: str | None
    last_status: int | None
    last_attempt: datetime | None
    next_attempt: datetime | None
    gone_since: datetime | None
    moved_to: str | None
    alerted: datetime | None


class FeedHealthRecords(StateDB):
    """Methods of `Store` on the feeds table's health columns."""

    # -- feed health: backoff, 410 Gone, 301/308, alerts -----------------------------------

    def feed_moved(self, url: str, new_url: str | None) -> None:
        """Fetch the feed configured as `url` at `new_url` from now on (None: at `url`)."""
        self.db.execute(
            "UPDATE feeds SET moved_to = ? WHERE digest = ? AND url = ?",
            (new_url, self.digest, url),
        )

    def reactivate_feeds(self, urls: Iterable[str]) -> list[str]:
        """Fetch these feeds again on the next run: forget 410 Gone and any backoff.

        Returns the URLs that were gone or waiting."""
        woken = []
        with self.transaction() as db:
            for url in urls:
                changed = db.execute(
                    "UPDATE feeds SET gone_since = NULL, next_attempt = NULL, failures = 0 "
                    "WHERE digest = ? AND url = ? "
                    "AND (gone_since IS NOT NULL OR next_attempt IS NOT NULL)",
                    (self.digest, url),
                ).rowcount
                if changed:
                    woken.append(url)
        return woken

    def failing_feeds(self, urls: Iterable[str] | None = None) -> list[FeedHealth]:
        """Feeds whose last attempt failed, longest failing first (only `urls`, if given)."""
        rows = self.db.execute(
            "SELECT * FROM feeds WHERE digest = ? AND failing_since IS NOT NULL "
            "ORDER BY failing_since, url",
            (self.digest,),
        ).fetchall()
        wanted = set(urls) if urls is not None else None
        return [
            FeedHealth(
                url=row["url"],
                name=row["name"],
                failures=row["failures"],
                failing_since=maybe_time(row["failing_since"]) or datetime.now(UTC),
                last_error=row["last_error"],
                last_status=row["last_status"],
                last_attempt=maybe_time(row["last_attempt"]),
                next_attempt=maybe_time(row["next_attempt"]),
                gone_since=maybe_time(row["gone_since"]),
                moved_to=row["moved_to"],
                alerted=maybe_time(row["alerted"]),
            )
            for row in rows
            if wanted is None or row["url"] in wanted
        ]

    def mark_alerted(self, urls: Iterable[str], now: datetime) -> None:
        """The operator was told about these failure episodes; a success ends an episode."""
        self.db.executemany(
            "UPDATE feeds SET alerted = ? WHERE digest = ? AND url = ?",
            [(_iso(now), self.digest, url) for url in urls],
        )
