"""Articles' terms kept in the state database: computed once, read back the same."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from conftest import DEMO_FEEDS, write_config

import digest
from digest.cluster._terms import features, names
from digest.cluster._terms.batch import batch_terms
from digest.cluster._terms.features import terms_version
from digest.cluster._terms.stored import decoded_terms, encoded_terms
from digest.config import load_config
from digest.models import FeedEntry
from digest.pipeline import _stored_terms as stored_terms
from digest.pipeline._stored_terms import terms_of
from digest.store._state import NewArticle, Store

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
STORIES = [
    (
        "Norvik Foods to cut 250 jobs in Tarrow",
        "Norvik Foods said on Tuesday it would close its Tarrow site, cutting 250 jobs. "
        "The plant made $4.5 million last year. Union leaders in Tarrow called it a blow.",
    ),
    (
        "Quake of magnitude 6.1 hits Kushiro",
        "A quake of magnitude 6.1 shook Kushiro on Monday. Trains in Hokkaido stopped.",
    ),
    ("Storm", "Winds of 69 miles per hour hit Bripelkel. Crews from Vosgor Systems worked."),
    ("Zürich’s “Crème” café", "The café in Zürich sold crème brûlée for CHF 12.50, López said."),
]


def stored_articles(store: Store, count: int, days_ago: float = 0):
    """`count` articles of STORIES (in turn) added to `store`, as the pipeline reads them."""
    known = store.db.execute("SELECT COUNT(*) FROM articles").fetchone()[0]
    published = NOW - timedelta(days=days_ago)
    new = []
    for number in range(known, known + count):
        title, text = STORIES[number % len(STORIES)]
        url = f"https://news.example/{number}"
        entry = FeedEntry("News", f"g{number}", url, url, title, "", "", published)
        new.append(NewArticle(entry, title, text, "page", "en", None, published))
    store.add_articles(new, NOW)
    return store.articles(("pending",), NOW - timedelta(days=30))[known:]


def fields(batch) -> dict[str, object]:
    return {
        field.name: value.tolist() if isinstance(value, np.ndarray) else value
        for field in dataclasses.fields(batch)
        if (value := getattr(batch, field.name)) is not None
        and field.name not in ("workers_cpu", "title_columns")  # a set's order varies
    }


@pytest.fixture
def store(tmp_path):
    opened = Store.open(tmp_path / "digest.db")
    yield opened
    opened.close()


@pytest.fixture
def computed(monkeypatch) -> list[int]:
    """How many articles each call of batch_terms computed terms for."""
    sizes: list[int] = []

    def counted(texts, *args):
        sizes.append(len(texts))
        return batch_terms(texts, *args)

    monkeypatch.setattr(stored_terms, "batch_terms", counted)
    return sizes


def test_a_batch_read_back_is_the_batch_stored():
    batch = batch_terms(STORIES)
    assert fields(decoded_terms(encoded_terms(batch))) == fields(batch)
    assert fields(decoded_terms(encoded_terms(batch_terms([])))) == fields(batch_terms([]))


def test_a_run_computes_only_the_terms_no_run_stored(store, computed):
    since = NOW - timedelta(days=7)
    first = stored_articles(store, 5)
    terms_of(store, first, since)
    later = stored_articles(store, 3)
    articles = [*later[:1], *first, *later[1:]]  # stored and new ones mixed
    batch = terms_of(store, articles, since)
    assert computed == [5, 3]
    assert fields(batch) == fields(batch_terms([(a.title, a.text) for a in articles]))
    assert terms_of(store, articles, since).vocabulary == batch.vocabulary
    assert computed == [5, 3, 0]


def test_terms_of_other_code_or_of_stories_past_the_horizon_are_forgotten(store, computed):
    since = NOW - timedelta(days=7)
    old = stored_articles(store, 2, days_ago=9)
    recent = stored_articles(store, 2)
    terms_of(store, old, NOW - timedelta(days=30))
    terms_of(store, recent, NOW - timedelta(days=30))
    assert computed == [2, 2]
    terms_of(store, recent, since)  # read back; the old articles' batch is past the horizon
    assert computed == [2, 2, 0]
    assert store.db.execute("SELECT COUNT(*) FROM term_batches").fetchone()[0] == 1
    store.db.execute("UPDATE term_batches SET version = 'older code'")
    terms_of(store, recent, since)
    assert computed == [2, 2, 0, 2]  # stored by other code: computed again
    batches = store.db.execute("SELECT version FROM term_batches").fetchall()
    assert [tuple(row) for row in batches] == [(terms_version(),)]
    assert store.db.execute("SELECT COUNT(*) FROM article_terms").fetchone()[0] == 2


def test_a_stored_batch_that_does_not_read_back_is_computed_again(store, computed):
    since = NOW - timedelta(days=7)
    articles = stored_articles(store, 3)
    expected = fields(terms_of(store, articles, since))
    store.db.execute("UPDATE term_batches SET terms = substr(terms, 1, 40)")  # damaged
    assert fields(terms_of(store, articles, since)) == expected
    assert computed == [3, 3]
    assert store.db.execute("SELECT COUNT(*) FROM term_batches").fetchone()[0] == 1  # the new
    assert fields(terms_of(store, articles, since)) == expected
    assert computed == [3, 3, 0]


def test_the_code_fingerprint_covers_every_module_the_terms_depend_on():
    # A term module that imported another module of the package would make that module's
    # code decide terms too, unseen by terms_version.
    package = Path(digest.__file__).parent
    for name in features._TERMS_CODE:
        path = package / name
        for dots, module in re.findall(r"^from (\.+)([\w.]*) import", path.read_text(), re.M):
            base = path.parent
            for _ in range(len(dots) - 1):
                base = base.parent
            target = base.joinpath(*module.split(".")).with_suffix(".py")
            assert target.relative_to(package).as_posix() in features._TERMS_CODE, (name, module)
    # And the data the names read: a refit noun list changes German articles' terms.
    assert f"cluster/_terms/{names.GERMAN_NOUNS_FILE}" in features._TERMS_CODE


def test_the_fingerprint_is_known_so_terms_are_stored():
    # An unknown fingerprint (a module of _TERMS_CODE not found) would silently store nothing.
    assert not terms_version().startswith(features.UNKNOWN_VERSION)


def test_a_second_run_reuses_the_terms_the_first_stored(tmp_path, site, computed):
    config = load_config(write_config(tmp_path, site.base_url, feeds=DEMO_FEEDS[:4]))
    first = digest.preview(config)
    assert first.digest is not None and computed and computed[0] > 0
    digest.preview(config)  # nothing new: the same pending articles are clustered again
    assert computed[1:] == [0]
