"""Work done in worker processes (the terms, half of the in-group splits) gives the clusters
the same work done here gives."""

from __future__ import annotations

import multiprocessing
from datetime import UTC, datetime, timedelta
from itertools import pairwise

import numpy as np
import pytest

from digest.cluster import _clusterer as cluster
from digest.cluster._terms import batch as term_batch
from digest.models import Article

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
COMPANIES = ["Norvik Foods", "Halden Steel", "Brightwater Bank", "Calder Rail", "Oskar Air"]
TOWNS = ["Tarrow", "Ellisford", "Marn", "Quayle", "Dunmere", "Ashby"]


def batch() -> list[Article]:
    articles = []
    for number in range(90):
        company = COMPANIES[number % len(COMPANIES)]
        town = TOWNS[(number // 5) % len(TOWNS)]
        jobs = 100 + (number // 3) * 25
        title = f"{company} to cut {jobs} jobs in {town}"
        text = (
            f"{company} said on Tuesday it would close its {town} site, cutting {jobs} jobs. "
            f"The plant opened in {1990 + number % 20} and made ${number % 7 + 2}.5 million last "
            f"year. Union leaders in {town} called the decision a blow to the region.\n\n"
            f"A spokesperson for {company} said staff in {town} had been told in person."
        )
        articles.append(
            Article(
                id=number + 1,
                feed=f"Outlet {number % 11}",
                url=f"https://outlet{number % 11}.example/{number}",
                title=title,
                text=text,
                published=NOW - timedelta(hours=number % 30),
            )
        )
    return articles


def test_terms_from_forked_workers_give_the_same_clusters(monkeypatch):
    articles = batch()
    here = cluster.cluster_articles(articles, workers=0)
    monkeypatch.setattr(term_batch, "POOL_MIN_ARTICLES", 1)
    monkeypatch.setattr(term_batch, "TERMS_CHUNK", 7)  # many chunks, joined
    forked = term_batch.batch_terms([(a.title, a.text) for a in articles], workers=2)
    assert forked.workers_cpu > 0  # the workers did compute the terms
    assert cluster.cluster_articles(articles, forked, workers=0) == here
    assert cluster.cluster_articles(articles, workers=2) == here
    assert any(len(c.articles) > 1 for c in here)


@pytest.mark.parametrize("start_method", ["fork", "forkserver"])
def test_chunks_from_either_kind_of_worker_join_into_the_batch_computed_here(
    monkeypatch, start_method
):
    # fork workers read the texts they inherited; forkserver workers get them pickled.
    texts = [(a.title, a.text) for a in batch()]
    here = term_batch.batch_terms(texts, workers=0)
    monkeypatch.setattr(term_batch, "POOL_MIN_ARTICLES", 1)
    monkeypatch.setattr(term_batch, "TERMS_CHUNK", 11)
    pooled = term_batch.batch_terms(texts, workers=2, start_method=start_method)
    assert pooled.workers_cpu > 0
    assert pooled.vocabulary == here.vocabulary
    for name in ("indptr", "columns", "counts", "title_indptr", "label_columns", "brief"):
        assert np.array_equal(getattr(pooled, name), getattr(here, name)), name
    # Headline names are a set: their order follows the string hashes of the process (a
    # forkserver worker's differ from this one's), and no use of them depends on it.
    bounds = here.title_indptr.tolist()
    for start, stop in pairwise(bounds):
        assert sorted(pooled.title_columns[start:stop]) == sorted(here.title_columns[start:stop])
    assert pooled.label_texts == here.label_texts


def test_half_of_the_splits_in_a_forked_process_give_the_same_clusters(monkeypatch):
    articles = batch()
    here = cluster.cluster_articles(articles, workers=0)
    monkeypatch.setattr(cluster, "EVENTS_POOL_MIN_ARTICLES", 1)
    forked_events = []
    events_forked = cluster._events_forked
    monkeypatch.setattr(
        cluster,
        "_events_forked",
        lambda *a: forked_events.append(events_forked(*a)) or forked_events[-1],
    )
    assert cluster.cluster_articles(articles, workers=2, start_method="fork") == here
    assert forked_events and forked_events[0] is not None  # the fork did run
    # Not forked where the caller's workers start another way (a run's fork server).
    assert cluster.cluster_articles(articles, workers=2, start_method="forkserver") == here
    assert len(forked_events) == 1
    assert any(len(c.articles) > 2 and c.why for c in here)


def _cluster_in_daemon(connection) -> None:
    cluster.EVENTS_POOL_MIN_ARTICLES = 1  # this process only
    connection.send(cluster.cluster_articles(batch(), workers=2, start_method="fork"))


def test_a_daemonic_caller_splits_its_groups_itself():
    # A daemonic process (a multiprocessing.Pool worker) may not start processes of its own.
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(target=_cluster_in_daemon, args=(sender,), daemon=True)
    child.start()
    assert receiver.poll(60)
    assert receiver.recv() == cluster.cluster_articles(batch(), workers=0)
    child.join()
