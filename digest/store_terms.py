"""Articles' terms, kept in the state database while their stories can still be joined.

A run clusters its new articles together with every story delivered within the join
horizon (pipeline.JOIN_HORIZON, a week), and it used to compute the terms of all of those
articles again: an hourly run with a few new articles paid for a week of stories. The terms
a run computes are now stored as one row (the batch's flat arrays, `TermsBatch`), under the
fingerprint of the code that computed them (features.terms_version), and a run computes only
those it lacks. A batch is stored as it is, arrays and vocabulary, so that storing and
reading it back cost a few numpy calls, not work per article.
"""

from __future__ import annotations

import io
import zipfile
import zlib
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

import numpy as np

from .features import UNKNOWN_VERSION, terms_version
from .models import Article
from .store_db import StateDB, _iso
from .term_batch import TermsBatch, batch_terms

_ARRAYS = (
    "indptr",
    "columns",
    "counts",
    "title_indptr",
    "title_columns",
    "label_indptr",
    "label_columns",
    "brief",
)


class TermStore(StateDB):
    """Methods of `Store` on the term_batches and article_terms tables."""

    def term_batches(
        self, version: str, since: datetime
    ) -> tuple[list[TermsBatch], dict[int, tuple[int, int]]]:
        """The batches stored by the code of `version` with an article published since
        `since`, and {article id: (its batch's place in that list, its row there)}. A batch
        that does not read back whole is forgotten (its articles' terms are computed again)."""
        batches: list[TermsBatch] = []
        place: dict[int, int] = {}
        damaged: list[int] = []
        for batch_id, blob in self.db.execute(
            "SELECT id, terms FROM term_batches WHERE version = ? AND newest >= ? ORDER BY id",
            (version, _iso(since)),
        ):
            batch = _decoded(blob)
            if batch is not None:
                place[batch_id] = len(batches)
                batches.append(batch)
            else:
                damaged.append(batch_id)
        # A batch that does not read back is of no use to any run (its articles' rows go with
        # it, and their terms are stored again).
        self.db.executemany("DELETE FROM term_batches WHERE id = ?", ((i,) for i in damaged))
        where = {}
        for article_id, batch_id, row in self.db.execute(
            """SELECT a.article_id, a.batch_id, a.row FROM article_terms a
               JOIN term_batches b ON b.id = a.batch_id WHERE b.version = ? AND b.newest >= ?""",
            (version, _iso(since)),
        ):
            if batch_id in place:
                where[article_id] = (place[batch_id], row)
        return batches, where

    def keep_term_batch(
        self, batch: TermsBatch, articles: Sequence[Article], version: str, since: datetime
    ) -> None:
        """Keep `batch`, the terms of `articles` (row i for articles[i]), and forget the
        batches whose articles were all published before `since` (no longer joinable) or
        that were stored by other code than `version`."""
        with self.transaction() as db:
            db.execute(
                "DELETE FROM term_batches WHERE newest < ? OR version != ?",
                (_iso(since), version),
            )
            if not articles:
                return
            newest = max(article.published for article in articles)
            batch_id = db.execute(
                "INSERT INTO term_batches (version, newest, terms) VALUES (?, ?, ?)",
                (version, _iso(newest), _encoded(batch)),
            ).lastrowid
            db.executemany(
                "INSERT OR REPLACE INTO article_terms VALUES (?, ?, ?)",
                ((article.id, batch_id, row) for row, article in enumerate(articles)),
            )


def terms_of(
    store: TermStore,
    articles: Sequence[Article],
    since: datetime,
    workers: int | None = None,
    start_method: str = "fork",
) -> TermsBatch:
    """The terms of `articles` (stored ones, of batches with an article published since
    `since`, read back; the others computed by `batch_terms` with `workers` and
    `start_method`, and stored), row i for articles[i]: the batch `batch_terms` would give."""
    version = terms_version()
    batches, where = store.term_batches(version, since)
    missing = [article for article in articles if article.id not in where]
    computed = batch_terms([(a.title, a.text) for a in missing], workers, start_method)
    if not version.startswith(UNKNOWN_VERSION):  # no later run could trust it
        store.keep_term_batch(computed, missing, version, since)
    if len(missing) == len(articles):
        return computed
    where.update((article.id, (len(batches), row)) for row, article in enumerate(missing))
    parts = [*batches, computed]
    starts = np.cumsum([0] + [len(part) for part in parts]).tolist()
    rows = [starts[part] + row for part, row in map(where.__getitem__, (a.id for a in articles))]
    picked = TermsBatch.joined(parts).rows(rows)
    return replace(picked, workers_cpu=computed.workers_cpu)


def _encoded(batch: TermsBatch) -> bytes:
    """The batch's arrays, and its strings NUL-separated (printable() leaves no NUL in a
    text; a batch whose strings do not split into as many as it had is taken for not
    stored), as an .npz of numeric arrays (no pickle), compressed: a third of the size."""
    buffer = io.BytesIO()
    np.savez(
        buffer,
        vocabulary=np.frombuffer("\0".join(batch.vocabulary).encode(), np.uint8),
        label_texts=np.frombuffer("\0".join(batch.label_texts).encode(), np.uint8),
        sizes=np.array([len(batch.vocabulary), len(batch.label_texts)], np.int64),
        **{name: getattr(batch, name) for name in _ARRAYS},
    )
    return zlib.compress(buffer.getvalue(), 1)


def _decoded(blob: bytes) -> TermsBatch | None:
    """The batch of a stored row; None for a row that does not read back whole (damaged, or
    written in another layout)."""
    try:
        with np.load(io.BytesIO(zlib.decompress(blob)), allow_pickle=False) as stored:
            arrays = {name: stored[name] for name in _ARRAYS}
            vocabulary = _strings(stored["vocabulary"], int(stored["sizes"][0]))
            label_texts = _strings(stored["label_texts"], int(stored["sizes"][1]))
    except (zlib.error, zipfile.BadZipFile, KeyError, ValueError, IndexError, OSError):
        return None
    if vocabulary is None or label_texts is None:
        return None
    return TermsBatch(vocabulary, label_texts=label_texts, **arrays)


def _strings(joined: np.ndarray, count: int) -> list[str] | None:
    strings = joined.tobytes().decode().split("\0") if count else []
    return strings if len(strings) == count else None
