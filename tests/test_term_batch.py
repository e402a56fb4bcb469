"""A batch's terms held column-wise: the same terms however the batch was put together."""

from __future__ import annotations

import dataclasses
import gc
from collections import defaultdict
from itertools import count

import numpy as np
import pytest

from digest.cluster._terms.batch import TermsBatch, WorkerChunk, batch_terms
from digest.cluster._terms.features import article_terms

STORY = (
    "Shares of Meta rose after Meta’s chief said the company would spend $40 billion. "
    "The Zürich office of Meta hires 1,200 engineers, according to Dina Powell McCormick.\n\n"
    "Analysts at Morgan Stanley said the “$40bn” plan was priced in. Meanwhile rivals waited."
)
TEXTS = [
    ("Meta to spend $40 billion on data centres", STORY),
    ("Quake of magnitude 6.1 hits Kushiro", "A quake of magnitude 6.1 shook Kushiro on Monday."),
    ("Storm", "Winds of 69 miles per hour hit Bripelkel. Crews from Vosgor Systems worked."),
    ("Morgan Stanley on Meta", "Morgan Stanley said Meta’s $40bn plan was priced in."),
]


def fields(batch: TermsBatch) -> dict[str, object]:
    """The batch's contents, comparable with ==."""
    return {
        field.name: value.tolist() if isinstance(value, np.ndarray) else value
        for field in dataclasses.fields(batch)
        if (value := getattr(batch, field.name)) is not None and field.name != "workers_cpu"
    }


def test_a_batch_holds_each_articles_terms():
    terms = [article_terms(title, text) for title, text in TEXTS]
    batch = TermsBatch.of(terms)
    assert len(batch) == len(TEXTS)
    for row, article in enumerate(terms):
        assert batch.counted(row) == article.counts
        assert list(batch.counted(row)) == list(article.counts)  # in the order written
        titles = batch.title_columns[batch.title_indptr[row] : batch.title_indptr[row + 1]]
        assert {batch.vocabulary[c] for c in titles} == article.title_names
        start, stop = batch.label_indptr[row], batch.label_indptr[row + 1]
        written = zip(batch.label_columns[start:stop], batch.label_texts[start:stop], strict=True)
        labels = {batch.vocabulary[c]: text for c, text in written}
        assert labels == article.labels
        assert batch.brief[row] == article.brief
    # Columns in order of first sight across the batch.
    seen = list(dict.fromkeys(term for article in terms for term in article.counts))
    assert batch.vocabulary == seen


def test_chunks_numbered_by_their_workers_join_into_the_batch_of_all():
    # Two workers take the chunks in turn, each numbering the terms it meets and sending
    # only the ones new to it; the batch is the one computed in one go.
    terms = [article_terms(title, text) for title, text in TEXTS * 2]
    numbering = {"a": defaultdict(count().__next__), "b": defaultdict(count().__next__)}
    chunks = []
    for at, worker in zip(range(0, len(terms), 2), "abba", strict=True):
        columns = numbering[worker]
        known = list(columns)
        batch = TermsBatch._numbered(terms[at : at + 2], columns, 0.0)
        new_terms = [term for term in columns if term not in known]
        chunks.append(WorkerChunk(worker, len(known), new_terms, batch))
    assert sum(len(chunk.new_terms) for chunk in chunks) < len(TermsBatch.of(terms).columns)
    assert fields(TermsBatch._joined(chunks)) == fields(TermsBatch.of(terms))
    # A worker's chunks out of the order it numbered them cannot be joined.
    with pytest.raises(RuntimeError, match="out of order"):
        TermsBatch._joined([chunks[0], chunks[2], chunks[1], chunks[3]])


def test_joined_chunks_and_picked_rows_are_the_batch_of_those_articles():
    terms = [article_terms(title, text) for title, text in TEXTS]
    whole = fields(TermsBatch.of(terms))
    assert fields(TermsBatch.joined([TermsBatch.of(terms[:1]), TermsBatch.of(terms[1:])])) == whole
    assert fields(TermsBatch.joined([TermsBatch.of(terms)])) == whole
    picked = [3, 1]
    assert fields(TermsBatch.of(terms).rows(picked)) == fields(
        TermsBatch.of([terms[i] for i in picked])
    )
    assert len(TermsBatch.of(terms).rows([])) == 0


@pytest.mark.parametrize("start_method", ["fork", "forkserver"])
def test_terms_from_worker_processes_equal_terms_from_this_process(start_method, monkeypatch):
    texts = [(f"Meta plan number {n}", STORY.replace("1,200", f"{1000 + n:,}")) for n in range(40)]
    here = batch_terms(texts, workers=2)
    assert here.workers_cpu == 0  # a small batch stays in this process, whatever `workers` says
    monkeypatch.setattr("digest.cluster._terms.batch.POOL_MIN_ARTICLES", 10)
    monkeypatch.setattr("digest.cluster._terms.batch.TERMS_CHUNK", 7)  # several chunks to join
    here = batch_terms(texts, workers=0)
    pooled = batch_terms(texts, workers=2, start_method=start_method)
    expected = fields(TermsBatch.of([article_terms(t, x) for t, x in texts]))
    assert fields(pooled) == fields(here) == expected
    assert pooled.workers_cpu > 0
    assert here.workers_cpu == 0


def test_pooled_terms_leave_a_callers_gc_freeze_in_place(monkeypatch):
    monkeypatch.setattr("digest.cluster._terms.batch.POOL_MIN_ARTICLES", 10)
    texts = [(f"Norvik Foods cuts {n} jobs", f"Norvik Foods said {n} jobs go.") for n in range(30)]
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        batch_terms(texts, workers=2)
        # Not equality: a frozen object that dies leaves the permanent generation, and the
        # test runner's own threads free some while the pool works. unfreeze() empties it.
        assert gc.get_freeze_count() > frozen * 0.9
    finally:
        gc.unfreeze()
