"""Articles' terms, kept in the state database while their stories can still be joined.

A run clusters its new articles together with every story delivered within the join
horizon (a week), and it used to compute the terms of all of those articles again: an hourly
run with a few new articles paid for a week of stories. The terms a run computes are now
stored as one row (a batch's encoded arrays), under the fingerprint of the code that computed
them, and a run computes only those it lacks. The store keeps the bytes; what they mean is
clustering's business (digest.cluster's `encoded_terms` / `decoded_terms`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from ._db import StateDB, _iso


class TermStore(StateDB):
    """Methods of `Store` on the term_batches and article_terms tables."""

    def term_blobs(
        self, version: str, since: datetime
    ) -> tuple[list[tuple[int, bytes]], dict[int, tuple[int, int]]]:
        """The batches stored by the code of `version` with an article published since
        `since`, as (batch id, bytes), and {article id: (its batch id, its row there)}."""
        blobs = [
            (batch_id, blob)
            for batch_id, blob in self.db.execute(
                "SELECT id, terms FROM term_batches WHERE digest = ? AND version = ? "
                "AND newest >= ? ORDER BY id",
                (self.digest, version, _iso(since)),
            )
        ]
        where = {
            article_id: (batch_id, row)
            for article_id, batch_id, row in self.db.execute(
                """SELECT a.article_id, a.batch_id, a.row FROM article_terms a
                   JOIN term_batches b ON b.id = a.batch_id
                   WHERE b.digest = ? AND b.version = ? AND b.newest >= ?""",
                (self.digest, version, _iso(since)),
            )
        }
        return blobs, where

    def forget_term_batches(self, batch_ids: Sequence[int]) -> None:
        """Forget batches that do not read back (their articles' rows go with them)."""
        self.db.executemany("DELETE FROM term_batches WHERE id = ?", ((i,) for i in batch_ids))

    def keep_term_blob(
        self,
        blob: bytes,
        article_ids: Sequence[int],
        newest: datetime,
        version: str,
        since: datetime,
    ) -> None:
        """Keep `blob`, the terms of the articles `article_ids` (row i for article_ids[i]),
        and forget the batches whose articles were all published before `since` (no longer
        joinable) or that were stored by other code than `version`."""
        with self.transaction() as db:
            db.execute(
                "DELETE FROM term_batches WHERE digest = ? AND (newest < ? OR version != ?)",
                (self.digest, _iso(since), version),
            )
            if not article_ids:
                return
            batch_id = db.insert(
                "INSERT INTO term_batches (version, newest, terms, digest) VALUES (?, ?, ?, ?)",
                (version, _iso(newest), blob, self.digest),
            )
            db.executemany(
                "INSERT INTO article_terms VALUES (?, ?, ?) ON CONFLICT (article_id) "
                "DO UPDATE SET batch_id = excluded.batch_id, row = excluded.row",
                ((article_id, batch_id, row) for row, article_id in enumerate(article_ids)),
            )
