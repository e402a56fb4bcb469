"""The batch's TF-IDF matrix and its dot products, against the formulas written out."""

from __future__ import annotations

import math

import numpy as np

from digest.cluster._terms.batch import TermsBatch
from digest.cluster._terms.features import ArticleTerms
from digest.cluster._vectors import holds, row_dots
from digest.cluster._vectors import term_matrix as matrix_of


def terms(counts: dict[str, float]) -> ArticleTerms:
    return ArticleTerms(counts, frozenset(k for k in counts if k[0] in "nx"), frozenset())


def term_matrix(batch: list[ArticleTerms], background: int):
    return matrix_of(TermsBatch.of(batch), background)


def test_weights_are_damped_counts_times_idf_at_unit_length():
    batch = [
        terms({"w:quake": 2.0, "n:kushiro": 9.0, "w:tsunami": 0.5}),
        terms({"w:quake": 1.0, "x:7.1": 3.0}),
    ]
    matrix = term_matrix(batch, background=10)
    total = len(batch) + 10
    for row, article in enumerate(batch):
        raw = {}
        for term, count in article.counts.items():
            holders = sum(term in other.counts for other in batch)
            idf = math.log((1 + total) / (1 + holders)) + 1.0
            raw[term] = (1.0 + math.log(count) if count >= 1 else count) * idf
        norm = math.sqrt(sum(v * v for v in raw.values()))
        for term, value in raw.items():
            assert math.isclose(matrix.unit[row, matrix.columns[term]], value / norm)
    assert matrix.holders[matrix.columns["w:quake"]] == 2
    assert list(matrix.kinds[[matrix.columns[t] for t in ("w:quake", "n:kushiro", "x:7.1")]]) == [
        "w",
        "n",
        "x",
    ]
    # Rows of the written matrix keep the order the terms were written in.
    first = matrix.written.indices[matrix.written.indptr[0] : matrix.written.indptr[1]]
    assert [matrix.terms[c] for c in first] == ["w:quake", "n:kushiro", "w:tsunami"]


def test_an_article_without_terms_is_a_zero_row():
    matrix = term_matrix([terms({}), terms({"w:storm": 1.0})], background=0)
    assert matrix.unit[0].nnz == 0
    assert math.isclose(matrix.unit[1].toarray().sum(), 1.0)


def test_row_dots_are_the_dot_products_of_the_rows_in_every_chunk(monkeypatch):
    rng = np.random.default_rng(7)
    vocabulary = [f"w:t{i}" for i in range(40)]
    batch = [
        terms({t: float(rng.integers(1, 4)) for t in rng.choice(vocabulary, 12, replace=False)})
        for _ in range(30)
    ]
    matrix = term_matrix(batch, background=5)
    dense = matrix.unit.toarray()
    left, right = np.triu_indices(30, 1)
    expected = np.einsum("ij,ij->i", dense[left], dense[right])
    assert np.allclose(row_dots(matrix.unit, matrix.unit, left, right), expected)
    # Several chunks, on threads: the same floats, in the pairs' order.
    monkeypatch.setattr("digest.cluster._vectors.PAIRS_CHUNK", 17)
    assert np.allclose(row_dots(matrix.unit, matrix.unit, left, right), expected)
    assert len(row_dots(matrix.unit, matrix.unit, left[:0], right[:0])) == 0


def test_holds_says_which_rows_have_a_term():
    matrix = term_matrix([terms({"n:meta": 3.0}), terms({"w:chip": 1.0})], background=0)
    column = matrix.columns["n:meta"]
    rows = np.array([0, 1])
    assert list(holds(matrix.unit, rows, np.array([column, column]))) == [True, False]
    assert list(holds(matrix.unit, rows[:0], rows[:0])) == []
