"""The terms of a run's articles: those stored by earlier runs read back, the rest computed
and stored (the store keeps the bytes, clustering says what they mean)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

import numpy as np

from ..cluster import (
    UNKNOWN_VERSION,
    TermsBatch,
    batch_terms,
    decoded_terms,
    encoded_terms,
    terms_version,
)
from ..models import Article
from ..store import Store


def terms_of(
    store: Store,
    articles: Sequence[Article],
    since: datetime,
    workers: int | None = None,
    start_method: str = "fork",
) -> TermsBatch:
    """The terms of `articles` (stored ones, of batches with an article published since
    `since`, read back; the others computed by `batch_terms` with `workers` and
    `start_method`, and stored), row i for articles[i]: the batch `batch_terms` would give."""
    version = terms_version()
    batches, where = _stored(store, version, since)
    missing = [article for article in articles if article.id not in where]
    computed = batch_terms([(a.title, a.text, a.language) for a in missing], workers, start_method)
    if not version.startswith(UNKNOWN_VERSION):  # no later run could trust it
        newest = max((article.published for article in missing), default=since)
        store.keep_term_blob(
            encoded_terms(computed), [a.id for a in missing], newest, version, since
        )
    if len(missing) == len(articles):
        return computed
    where.update((article.id, (len(batches), row)) for row, article in enumerate(missing))
    parts = [*batches, computed]
    starts = np.cumsum([0] + [len(part) for part in parts]).tolist()
    rows = [starts[part] + row for part, row in map(where.__getitem__, (a.id for a in articles))]
    picked = TermsBatch.joined(parts).rows(rows)
    return replace(picked, workers_cpu=computed.workers_cpu)


def _stored(
    store: Store, version: str, since: datetime
) -> tuple[list[TermsBatch], dict[int, tuple[int, int]]]:
    """The stored batches that read back, and {article id: (place in that list, row)}. A
    batch that does not read back whole is forgotten: its articles' terms are computed
    again."""
    blobs, rows = store.term_blobs(version, since)
    batches: list[TermsBatch] = []
    place: dict[int, int] = {}
    damaged: list[int] = []
    for batch_id, blob in blobs:
        batch = decoded_terms(blob)
        if batch is None:
            damaged.append(batch_id)
        else:
            place[batch_id] = len(batches)
            batches.append(batch)
    if damaged:
        store.forget_term_batches(damaged)
    where = {
        article_id: (place[batch_id], row)
        for article_id, (batch_id, row) in rows.items()
        if batch_id in place
    }
    return batches, where
