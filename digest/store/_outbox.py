"""Digests, their deliveries, and the outbox of messages staged for each recipient.

Exactly once, nothing lost: a digest is *staged* (its row, its stories, its articles marked
delivered, one outbox row per recipient holding the complete message and its Message-ID)
before anything is sent; the messages go in as `staging` rows, a few per short transaction,
and one transaction makes them `queued` with the stories taken (`stage_digest`). Each
message is then marked `sending` just before the SMTP end-of-data is sent, and `sent` in the
transaction that records its delivery, right after the server's 250. A run that dies
anywhere leaves the rows `queued` or `sending` (or `staging`, never sent, dropped); the next
run sends exactly those again, byte for byte, before building a new digest.

Outbox row life: (`staging` ->) `queued` -> `sending` -> `sent` | `refused` (5xx) | `queued`
again (4xx, a dropped connection; retried each run for QUEUE_LIMIT, then `gave-up`; a row
left `sending` by a session cut after its end gives up the same way, saying it may have been
delivered) | `cancelled` (the run's whole delivery failed before any server took a message:
the stories go back to pending and join the next digest; or its recipient was taken out of
the config).

The messages' bytes are the bulk of the state (one complete message per recipient) and
live in a table of their own, `message_bytes`. Once a message's fate is final (`answered`)
nothing sends it again: `prune_outbox` deletes its bytes `delivery.keep_sent` later and keeps
its row (recipient, Message-ID, status, times, last reply) and its delivery record. SQLite
reuses the freed pages for the next digest's messages. Rows are listed without their bytes
(`Outgoing.message` is b""); `staged_message` reads one message's bytes just before it is
sent, so a digest to any number of recipients holds one message in memory at a time, when
staged as when sent.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime, timedelta

from ..errors import StoreError
from ..models import DigestItem, FollowUp, Outgoing, Staged
from ._connection import Connection
from ._db import StateDB, _iso

# A message a server keeps refusing "for now" (4xx) is retried each run for this long.
QUEUE_LIMIT = timedelta(days=5)
# Fates after which a message is never sent again: its bytes may go after delivery.keep_sent.
FINAL = ("sent", "refused", "cancelled", "gave-up")
# Free space in the state file past which a prune gives it back to the disk (see
# `_shrink_when_mostly_free`).
SHRINK_FREE_BYTES = 16 * 1024 * 1024
# Messages built, then inserted, per staging transaction: a batch's bytes are in memory at
# once, and the write lock is held only while they are inserted.
STAGING_BATCH = 32
STAGING_BATCH_BYTES = 8 * 1024 * 1024
# How long recording a message `sent` waits for the state's write lock: the server took the
# message, and a record that fails leaves it `sending`, sent again by the next run.
SENT_PATIENCE = 600.0  # seconds

log = logging.getLogger("digest")
# Every column of an outbox row but the message's bytes (read one at a time when sending).
_ROW = "id, digest_id, recipient, message_id, method, target, status"


class DeliveryLog(StateDB):
    def stage_digest(
        self,
        subject: str,
        items: Sequence[DigestItem],
        messages: Iterable[Staged],
        run_id: int | None,
        now: datetime,
        follow_ups: Sequence[FollowUp] = (),
        archive: str | None = None,
        held_back: Iterable[int] = (),
        eligibility: str = "",
    ) -> tuple[int, list[Outgoing]]:
        """Record a digest and its messages before sending; its stories count as taken, and
        its follow-ups' late reports as shown (joined to the stories sent before).

        `held_back`: the articles of the stories `max_items` left out. They were not refused,
        only not chosen yet: the digest's watermark goes just below the first of them, so
        the next run weighs them again even when no feed changed (each such run sends
        `max_items` more, so this ends; articles above it that were refused for good are
        weighed again with them, harmlessly). Set in the staging's own transaction: a run
        that dies while sending must not leave them above a watermark no run goes back on.
        `eligibility`: the run's fingerprint of the feeds and filters it weighed under, kept
        with the watermark (`Store.pending_since_last_digest`).

        `messages` is consumed one at a time, each built when asked: memory holds at most a
        batch (STAGING_BATCH) however many recipients there are. No write lock is held while
        a message is built (a few ms each: thousands of them would lock every other digest
        of the state out for longer than its busy timeout). The messages go in, batch by
        batch, as `staging` rows that nothing sends; one last transaction, the one that
        counts, turns them `queued` and marks the stories taken. A run that dies before it
        leaves nothing staged (`drop_unfinished_staging` deletes the rows it wrote).

        `archive`: what the digest's archive page needs, kept until the page is written
        (`archive_due`), by whichever run sends its first message. The rows come back without
        their bytes (`staged_message`).
        """
        self.drop_unfinished_staging()
        with self.step("stage"):
            with self.transaction() as db:
                digest_id = db.insert(
                    "INSERT INTO digests (created, subject, status, item_count, run_id, "
                    "digest, archive) VALUES (?, ?, 'staging', ?, ?, ?, ?)",
                    (_iso(now), subject, len(items), run_id, self.digest, archive),
                )
            try:
                outgoing = self._stage_messages(digest_id, messages, now)
                self._commit_staged(digest_id, items, follow_ups, now, held_back, eligibility)
            except BaseException:
                with contextlib.suppress(*self.db.errors):
                    self._drop_staging(digest_id)
                raise
        return digest_id, outgoing

    def _stage_messages(
        self, digest_id: int, messages: Iterable[Staged], now: datetime
    ) -> list[Outgoing]:
        """Insert the messages as `staging` rows, a batch per short transaction, each batch
        built before its transaction begins."""
        outgoing = []
        source = iter(messages)
        while batch := _next_batch(source):
            with self.transaction() as db:
                for staged in batch:
                    key = db.insert(
                        "INSERT INTO queued_messages (digest_id, recipient, queued, attempts, "
                        "message_id, method, target, digest, status) "
                        "VALUES (?, ?, ?, 0, ?, ?, ?, ?, 'staging')",
                        (digest_id, staged.recipient, _iso(now), staged.message_id,
                         staged.method, staged.target, self.digest),
                    )  # fmt: skip
                    db.execute(
                        "INSERT INTO message_bytes (id, message) VALUES (?, ?)",
                        (key, staged.message),
                    )
                    outgoing.append(
                        Outgoing(str(key), digest_id, staged.recipient, b"",
                                 staged.message_id, staged.method, staged.target)
                    )  # fmt: skip
            del batch  # let the batch's bytes go before the next is built
        return outgoing

    def _commit_staged(
        self,
        digest_id: int,
        items: Sequence[DigestItem],
        follow_ups: Sequence[FollowUp],
        now: datetime,
        held_back: Iterable[int],
        eligibility: str,
    ) -> None:
        """The staging that counts: the digest's stories taken, its messages `queued`, its
        watermark set (`stage_digest`)."""
        first_held = min(held_back, default=None)
        with self.transaction() as db:
            db.execute(
                # Under the run lock, every article stored now was weighed for this digest
                # (Store.pending_since_last_digest).
                "UPDATE digests SET status = 'sending', considered_through = "
                "(SELECT max(id) FROM articles WHERE digest = ?), eligibility = ? WHERE id = ?",
                (self.digest, eligibility, digest_id),
            )
            if first_held is not None:
                db.execute(
                    "UPDATE digests SET considered_through = ? "
                    "WHERE id = ? AND considered_through > ?",
                    (first_held - 1, digest_id, first_held - 1),
                )
            for item in items:
                story_id = db.insert(
                    "INSERT INTO stories (headline, url, created, digest_id) VALUES (?, ?, ?, ?)",
                    (item.headline, item.url, _iso(now), digest_id),
                )
                db.executemany(
                    "UPDATE articles SET status = 'delivered', story_id = ? WHERE id = ?",
                    [(story_id, article_id) for article_id in item.article_ids],
                )
            for follow_up in follow_ups:
                # A repeated piece was not listed: it stays with its story even if this
                # digest is unstaged (`cancel_digest` gives back what `listed_in` names).
                db.executemany(
                    "UPDATE articles SET status = 'joined', story_id = ?, listed_in = ? "
                    "WHERE id = ? AND status = 'pending'",
                    [(follow_up.story.id, digest_id, article_id)
                     for article_id in follow_up.article_ids]
                    + [(follow_up.story.id, None, article_id)
                       for article_id in follow_up.repeated_ids],
                )  # fmt: skip
            db.execute(
                "UPDATE queued_messages SET status = 'queued' "
                "WHERE digest_id = ? AND status = 'staging'",
                (digest_id,),
            )

    def drop_unfinished_staging(self) -> int:
        """Delete what a run that died while staging wrote (the digest's row and its
        `staging` messages): it was never staged. Call under the run lock. Returns how many
        digests were dropped."""
        leftovers = [
            row[0]
            for row in self.db.execute(
                "SELECT id FROM digests WHERE digest = ? AND status = 'staging'", (self.digest,)
            ).fetchall()
        ]
        for digest_id in leftovers:
            self._drop_staging(digest_id)
        return len(leftovers)

    def _drop_staging(self, digest_id: int) -> None:
        with self.transaction() as db:
            ids = "SELECT id FROM queued_messages WHERE digest_id = ? AND status = 'staging'"
            db.execute(f"DELETE FROM message_bytes WHERE id IN ({ids})", (digest_id,))
            db.execute(
                "DELETE FROM queued_messages WHERE digest_id = ? AND status = 'staging'",
                (digest_id,),
            )
            db.execute("DELETE FROM digests WHERE id = ? AND status = 'staging'", (digest_id,))

    def archive_due(self) -> list[tuple[int, str]]:
        """(digest id, what its archive page needs) of each digest a server took a message
        of whose page is not written yet, oldest first."""
        rows = self.db.execute(
            "SELECT id, archive FROM digests WHERE digest = ? AND status = 'delivered' "
            "AND archive IS NOT NULL ORDER BY id",
            (self.digest,),
        ).fetchall()
        return [(row[0], row[1]) for row in rows]

    def archived(self, digest_id: int) -> None:
        """The digest's archive page is written: what it needed goes."""
        self.db.execute("UPDATE digests SET archive = NULL WHERE id = ?", (digest_id,))

    def outgoing(self) -> list[Outgoing]:
        """Messages staged and not yet answered for good, oldest first, without their bytes
        (`staged_message` reads them)."""
        rows = self.db.execute(
            f"SELECT {_ROW} FROM queued_messages WHERE digest = ? "
            "AND status IN ('queued', 'sending') ORDER BY id",
            (self.digest,),
        )
        return [
            Outgoing(
                str(row["id"]), row["digest_id"], row["recipient"], b"",
                row["message_id"] or "", row["method"], row["target"],
                uncertain=row["status"] == "sending",
            )
            for row in rows
        ]  # fmt: skip

    def staged_message(self, key: str) -> bytes:
        """The complete message of outbox row `key`, as staged: a resend is these bytes."""
        row = self.db.execute(
            "SELECT message, pruned FROM queued_messages LEFT JOIN message_bytes USING (id) "
            "WHERE id = ?",
            (key,),
        ).fetchone()
        if row is None or not row["message"]:
            # Only a final message loses its bytes, and none is ever sent again: this is a
            # state edited by hand, or a bug. Sending nothing beats sending an empty message.
            why = (
                "no such row" if row is None
                else f"its bytes were pruned {row['pruned']}" if row["pruned"]
                else "its bytes are missing"
            )  # fmt: skip
            raise StoreError(f"{self.where}: outbox row {key} has no message to send ({why})")
        return bytes(row["message"])

    def prune_outbox(self, now: datetime, keep: timedelta) -> int:
        """Delete the bytes of the messages whose fate became final more than `keep` before
        `now`; their rows, Message-IDs and delivery records stay. Returns how many messages
        were pruned."""
        due = (
            "digest = ? AND pruned IS NULL AND answered < ? "
            f"AND status IN ({', '.join('?' for _ in FINAL)})"
        )
        arguments = (self.digest, _iso(now - keep), *FINAL)
        with self.transaction() as db:
            db.execute(
                f"DELETE FROM message_bytes WHERE id IN (SELECT id FROM queued_messages "
                f"WHERE {due})",
                arguments,
            )
            pruned = db.execute(
                f"UPDATE queued_messages SET pruned = ? WHERE {due}", (_iso(now), *arguments)
            ).rowcount
        if pruned:
            self._shrink_when_mostly_free()
        return pruned

    def _shrink_when_mostly_free(self) -> None:
        """SQLite reuses the pages a prune frees but never gives them back: after a digest to
        thousands of recipients the file would keep hundreds of MB it no longer needs. When
        at least SHRINK_FREE_BYTES and half the file are free, VACUUM rewrites it; that costs
        what is left in it (a few MB once the message bytes are gone), not what was freed.
        PostgreSQL's autovacuum looks after its own free space."""
        if self.db.dialect != "sqlite":
            return
        free, pages, size = (
            self.db.execute(f"PRAGMA {name}").fetchone()[0]
            for name in ("freelist_count", "page_count", "page_size")
        )
        if free * size < SHRINK_FREE_BYTES or free * 2 < pages:
            return
        try:
            self.db.execute("VACUUM")
        except self.db.errors as error:  # another process reads the file now
            log.info("%s: not shrunk this run (%s); the free space is reused", self.path, error)

    def mark_sending(self, key: str, now: datetime) -> None:
        """The end of the message is about to go to the server: from here it may have it."""
        with self.transaction("sending") as db:
            db.execute(
                "UPDATE queued_messages SET status = 'sending', attempts = attempts + 1, "
                "last_error = NULL WHERE id = ?",
                (key,),
            )

    def mark_sent(self, key: str, detail: str, now: datetime) -> None:
        """The server took the message: record the delivery (one transaction)."""
        with self.transaction("sent", patience=SENT_PATIENCE) as db:
            db.execute(
                "UPDATE queued_messages SET status = 'sent', sent = ?, answered = ? WHERE id = ?",
                (_iso(now), _iso(now), key),
            )
            self._delivery_row(db, key, "sent", detail, now)
            db.execute(
                "UPDATE digests SET status = 'delivered' WHERE id = "
                "(SELECT digest_id FROM queued_messages WHERE id = ?)",
                (key,),
            )

    def mark_refused(self, key: str, reply: str, now: datetime) -> None:
        """Refused for good (5xx): recorded and reported, never retried."""
        with self.transaction() as db:
            db.execute(
                "UPDATE queued_messages SET status = 'refused', last_error = ?, answered = ? "
                "WHERE id = ?",
                (reply, _iso(now), key),
            )
            self._delivery_row(db, key, "refused", reply, now)

    def mark_deferred(
        self, key: str, reason: str, now: datetime, *, uncertain: bool = False
    ) -> None:
        """Refused for now (4xx, no connection): it waits for the next attempt.

        `uncertain`: the server may hold a copy from this or an earlier attempt; the row
        stays `sending`, so it is reported when resent and its digest is never unstaged.
        """
        self.db.execute(
            "UPDATE queued_messages SET status = ?, last_error = ? WHERE id = ?",
            ("sending" if uncertain else "queued", reason, key),
        )

    def cancel_digest(self, digest_id: int, error: str, now: datetime) -> bool:
        """Unstage a digest no server took any message of: its stories, and the late reports it
        listed as follow-ups, go back to pending. Each message keeps the reason it was not
        taken; `error` (the digest's one line) is the reason of those without one.

        Returns False (and changes nothing) when a message was sent or may have been.
        """
        with self.transaction() as db:
            taken = db.execute(
                "SELECT 1 FROM queued_messages WHERE digest_id = ? "
                "AND status IN ('sent', 'sending')",
                (digest_id,),
            ).fetchone()
            if taken:
                return False
            self._unstage_stories(db, digest_id)
            # Each row keeps its own reason (a server's reply may name its recipient): the
            # digest's one-line summary in every row would be N lines of N names.
            db.execute(
                "INSERT INTO deliveries (digest_id, method, recipient, status, detail, at) "
                "SELECT digest_id, method, recipient, 'failed', COALESCE(last_error, ?), ? "
                "FROM queued_messages WHERE digest_id = ? AND status = 'queued' ORDER BY id",
                (error, _iso(now), digest_id),
            )
            db.execute(
                "UPDATE queued_messages SET status = 'cancelled', "
                "last_error = COALESCE(last_error, ?), answered = ? "
                "WHERE digest_id = ? AND status = 'queued'",
                (error, _iso(now), digest_id),
            )
        return True

    @staticmethod
    def _unstage_stories(db: Connection, digest_id: int) -> None:
        """A digest nobody has: its stories, and the late reports it listed as follow-ups,
        go back to pending, for the next digest to take; the digest is 'failed'."""
        stories = "SELECT id FROM stories WHERE digest_id = ?"
        db.execute(
            f"UPDATE articles SET status = 'pending', story_id = NULL "
            f"WHERE story_id IN ({stories})",
            (digest_id,),
        )
        db.execute("DELETE FROM stories WHERE digest_id = ?", (digest_id,))
        db.execute(
            "UPDATE articles SET status = 'pending', story_id = NULL, listed_in = NULL "
            "WHERE listed_in = ?",
            (digest_id,),
        )
        db.execute("UPDATE digests SET status = 'failed' WHERE id = ?", (digest_id,))

    def cancel_messages(self, keys: Sequence[str], reason: str, now: datetime) -> int:
        """Never send these waiting messages (their recipient, or the delivery method, is no
        longer configured). A digest left with no message sent or waiting is unstaged as
        `cancel_digest` does: nobody configured has it, so its stories go back to pending
        for the next digest. Returns how many digests were unstaged."""
        with self.transaction() as db:
            digests = set()
            for key in keys:
                row = db.execute(
                    "UPDATE queued_messages SET status = 'cancelled', last_error = ?, "
                    "answered = ? WHERE id = ? AND status IN ('queued', 'sending') "
                    "RETURNING digest_id",
                    (reason, _iso(now), key),
                ).fetchone()
                if row is not None:
                    digests.add(row[0])
                    self._delivery_row(db, key, "cancelled", reason, now)
            unstaged = 0
            for digest_id in sorted(digests):
                if not db.execute(
                    "SELECT 1 FROM queued_messages WHERE digest_id = ? "
                    "AND status IN ('sent', 'sending', 'queued')",
                    (digest_id,),
                ).fetchone():
                    self._unstage_stories(db, digest_id)
                    unstaged += 1
        return unstaged

    def give_up_expired(self, now: datetime) -> dict[str, str]:
        """Stop retrying the messages staged more than QUEUE_LIMIT ago that no server took
        for good: refused for now (`queued`), and those a server may hold after a session
        cut off at their end and refused since (`sending`). Returns recipient -> why."""
        cutoff = _iso(now - QUEUE_LIMIT)
        given_up = {}
        with self.transaction() as db:
            rows = db.execute(
                "SELECT id, recipient, status, last_error FROM queued_messages "
                "WHERE digest = ? AND status IN ('queued', 'sending') AND queued < ? ORDER BY id",
                (self.digest, cutoff),
            ).fetchall()
            for row in rows:
                reason = _give_up_reason(row["status"] == "sending", row["last_error"])
                self._delivery_row(db, str(row["id"]), "gave-up", reason, now)
                db.execute(
                    "UPDATE queued_messages SET status = 'gave-up', answered = ?, "
                    "last_error = ? WHERE id = ?",
                    (_iso(now), reason, row["id"]),
                )
                given_up[row["recipient"]] = reason
        return given_up

    @staticmethod
    def _delivery_row(db: Connection, key: str, status: str, detail: str, now: datetime) -> None:
        db.execute(
            "INSERT INTO deliveries (digest_id, method, recipient, status, detail, at) "
            "SELECT digest_id, method, recipient, ?, ?, ? FROM queued_messages WHERE id = ?",
            (status, detail, _iso(now), key),
        )


def _next_batch(messages: Iterator[Staged]) -> list[Staged]:
    """The next messages to insert together: STAGING_BATCH, or fewer of STAGING_BATCH_BYTES."""
    batch: list[Staged] = []
    size = 0
    for staged in messages:
        batch.append(staged)
        size += len(staged.message)
        if len(batch) >= STAGING_BATCH or size >= STAGING_BATCH_BYTES:
            break
    return batch


def _give_up_reason(uncertain: bool, last_error: str | None) -> str:
    """Why a message is no longer retried, with the last reason it was not taken (a row may
    have none: a login refused before any message was offered)."""
    days = f"gave up after {QUEUE_LIMIT.days} days"
    last = f": {last_error}" if last_error else " of temporary refusals"
    if uncertain:
        return (
            f"{days}{last}; it may have been delivered (a connection broke after the end of "
            "the message, before the server's answer)"
        )
    return days + last
