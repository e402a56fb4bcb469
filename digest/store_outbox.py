"""Digests, their deliveries, and the queue of messages waiting for a recipient.

A digest that some recipients refused only for now (4xx, a dropped connection) waits for
them in `queued_messages` and is retried at the start of every run.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta

from .models import DigestItem
from .store_db import StateDB, _iso

# A message a server keeps refusing "for now" (4xx) is retried each run for this long.
QUEUE_LIMIT = timedelta(days=5)


class DeliveryLog(StateDB):
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
