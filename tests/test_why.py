"""An item's "why grouped": what most of its sources share, most telling first."""

from __future__ import annotations

import numpy as np

from digest.cluster._terms.batch import TermsBatch
from digest.cluster._terms.features import ArticleTerms
from digest.cluster._vectors import term_matrix
from digest.cluster._why import why_grouped


def terms(counts: dict[str, float], labels: dict[str, str] | None = None) -> ArticleTerms:
    specific = frozenset(k for k in counts if k[0] in "nx")
    return ArticleTerms(counts, specific, frozenset(), labels or {})


def test_names_and_figures_come_first_as_first_written_and_a_lone_article_has_none():
    batch = TermsBatch.of(
        [
            terms({"w:quake": 2.0, "n:kushiro": 3.0, "x:7.1": 3.0}, {"x:7.1": "7.1"}),
            terms({"w:quake": 1.0, "n:kushiro": 3.0, "x:7.1": 3.0}, {"x:7.1": "magnitude 7.1"}),
            terms({"w:quake": 1.0, "w:tsunami": 1.0}),
            terms({"w:storm": 1.0, "n:bripelkel": 3.0}),
        ]
    )
    holders = term_matrix(batch, background=10).holders
    whys = why_grouped(batch, [[1, 0, 2], [3]], holders)
    # Shared by two of three (a figure before a name at equal spread), then the word all
    # three share; "7.1" as member 1 (the first in the group's order) wrote it.
    assert whys == [("magnitude 7.1", "kushiro", "quake"), ()]


def test_bare_numbers_and_terms_inside_one_shown_are_left_out():
    cve = {"n:cve-2026-20417": "CVE-2026-20417", "x:20417": "20417", "n:2026-20417": "2026-20417"}
    batch = TermsBatch.of(
        [
            terms({"n:cve-2026-20417": 3.0, "x:20417": 3.0, "n:2026-20417": 1.0}, cve),
            terms({"n:cve-2026-20417": 3.0, "x:20417": 3.0, "n:2026-20417": 1.0, "n:cisco": 3.0}),
        ]
    )
    holders = term_matrix(batch, background=0).holders
    assert why_grouped(batch, [[0, 1]], holders) == [("CVE-2026-20417",)]


def test_groups_are_explained_each_on_their_own():
    rng = np.random.default_rng(5)
    vocabulary = [f"w:word{i}" for i in range(20)] + [f"n:name{i}" for i in range(20)]
    articles = [
        terms({t: float(rng.integers(1, 4)) for t in rng.choice(vocabulary, 8, replace=False)})
        for _ in range(30)
    ]
    batch = TermsBatch.of(articles)
    holders = term_matrix(batch, background=0).holders
    groups = [list(range(0, 10)), list(range(10, 12)), [12], list(range(29, 12, -1))]
    together = why_grouped(batch, groups, holders)
    assert together == [why_grouped(batch, [group], holders)[0] for group in groups]
    assert together[2] == () and any(together)


def test_a_word_folded_like_a_name_shown_is_not_shown_again():
    """German "Köln" is the name n:koln and the word w:koln: the name showed as written and
    the word again as "koln", which no source wrote."""
    labels = {"n:koln": "Köln", "x:8,60": "8,60"}
    batch = TermsBatch.of(
        [
            terms({"n:koln": 3.0, "w:koln": 2.0, "x:8,60": 3.0, "w:pegel": 1.0}, labels),
            terms({"n:koln": 3.0, "w:koln": 1.0, "x:8,60": 3.0, "w:pegel": 1.0}),
        ]
    )
    holders = term_matrix(batch, background=10).holders
    assert why_grouped(batch, [[0, 1]], holders) == [("8,60", "Köln", "pegel")]
