"""Real news pins the decisions: ECB+ topics for clustering, real pages with gold bodies and
must / must-not snippets for extraction and cleaning (../shared/data, written by others).

The bounds sit a little under what the code scores on these documents today, so that a
moved threshold or a dropped rule fails here, not only in bench/. They are not quality
results: the constants were tuned on these same documents (bench/README.md has the
cross-validated figures).
"""

from __future__ import annotations

import gzip
import statistics
import sys
from collections import defaultdict

import pytest
from conftest import REPO, SHARED_DATA

sys.path.insert(0, str(REPO / "bench"))

from cluster_quality import bcubed, load, lookalikes_merged, pairwise, to_articles
from extraction_quality import (
    Extracted,
    clean_all,
    load_pages,
    snippet_hits,
    token_scores,
)

from digest.cluster import cluster_articles
from digest.errors import ExtractError
from digest.pages import extract_page

pytestmark = pytest.mark.shared_data


@pytest.fixture(scope="module")
def ecbplus_found() -> tuple[list[dict], list[int]]:
    rows = load(SHARED_DATA / "ecbplus" / "dev.jsonl")
    articles = to_articles(rows)
    clusters = cluster_articles(articles, workers=0)
    found = [-1] * len(articles)
    for number, cluster in enumerate(clusters):
        for article in cluster.articles:
            found[article.id] = number
    assert -1 not in found  # every article is in exactly one cluster
    return rows, found


def test_ecbplus_events_are_found_and_lookalikes_kept_apart(ecbplus_found):
    rows, found = ecbplus_found
    gold = [row["event"] for row in rows]
    assert bcubed(gold, found)[2] >= 0.95
    assert pairwise(gold, found)[2] >= 0.93
    merged, pairs = lookalikes_merged(rows, found)
    assert pairs == 21 and merged <= 2


def test_no_ecbplus_cluster_spans_two_topics(ecbplus_found):
    rows, found = ecbplus_found
    topics = defaultdict(set)
    for row, cluster in zip(rows, found, strict=True):
        topics[cluster].add(row["topic"])
    assert all(len(names) == 1 for names in topics.values())


def _extracted(pages) -> dict[str, Extracted]:
    done = {}
    for page in pages:
        result = Extracted(page.name)
        try:
            result.page = extract_page(gzip.decompress(page.path.read_bytes()), page.url or "")
        except ExtractError as error:
            result.error = error.reason
        done[page.name] = result
    return done


def test_real_article_bodies_are_kept_whole_and_nothing_else():
    _, pages = load_pages(SHARED_DATA / "article-extraction")
    cleaned = clean_all(pages, _extracted(pages))
    scores = [token_scores(cleaned[page.name][0], page.gold or "") for page in pages]
    precision, recall, f1 = (statistics.fmean(s[i] for s in scores) for i in range(3))
    assert len(pages) == 91
    # The bounds of issue 22's cross-validated target: the shipped block model was fit on
    # these pages too, so this pins the behaviour, and bench/extraction_quality.py holds
    # the held-out figure.
    assert f1 >= 0.975 and precision >= 0.97 and recall >= 0.975, (precision, recall, f1)


def test_real_boilerplate_goes_and_the_article_stays():
    _, pages = load_pages(SHARED_DATA / "boilerplate-snippets")
    sample = pages[::5]  # a fixed fifth of the 495 pages, all five languages among them
    cleaned = clean_all(sample, _extracted(sample))
    found, absent = [], []
    for page in sample:
        must, must_not = snippet_hits(cleaned[page.name][0], page)
        found += must
        absent += must_not
    assert len(found) > 250 and len(absent) > 250
    assert sum(found) / len(found) >= 0.95, sum(found) / len(found)
    assert sum(absent) / len(absent) >= 0.95, sum(absent) / len(absent)
