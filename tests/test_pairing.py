"""Candidate pairs from the inverted index, against a plain loop over all pairs."""

from __future__ import annotations

from itertools import combinations

import numpy as np

from digest.cluster._pairing import _heaviest_first, candidate_pairs
from digest.cluster._terms.batch import TermsBatch
from digest.cluster._terms.features import ArticleTerms
from digest.cluster._vectors import term_matrix


def random_batch(seed: int, articles: int = 60) -> list[ArticleTerms]:
    rng = np.random.default_rng(seed)
    vocabulary = [f"w:word{i}" for i in range(30)] + [f"n:name{i}" for i in range(30)]
    batch = []
    for _ in range(articles):
        chosen = rng.choice(vocabulary, int(rng.integers(3, 20)), replace=False)
        # Few distinct counts, so that many weights tie within an article.
        counts = {term: float(rng.choice([1.0, 2.0, 3.0])) for term in chosen}
        batch.append(ArticleTerms(counts, frozenset(), frozenset()))
    return batch


def reference_pairs(matrix, index_terms, max_posting, max_posting_facts, min_shared):
    """What candidate_pairs promises, computed the slow, obvious way."""
    heaviest = []
    for row in range(matrix.written.shape[0]):
        start, stop = matrix.written.indptr[row], matrix.written.indptr[row + 1]
        terms = [matrix.terms[c] for c in matrix.written.indices[start:stop]]
        weights = dict(zip(terms, matrix.written.data[start:stop], strict=True))
        heaviest.append(sorted(terms, key=weights.__getitem__, reverse=True)[:index_terms])
    postings: dict[str, int] = {}
    for chosen in heaviest:
        for term in chosen:
            postings[term] = postings.get(term, 0) + 1

    def usable(term: str) -> bool:
        limit = max_posting if term[0] == "w" else max_posting_facts
        return 2 <= postings[term] <= limit

    return [
        (left, right)
        for left, right in combinations(range(len(heaviest)), 2)
        if sum(usable(t) for t in set(heaviest[left]) & set(heaviest[right])) >= min_shared
    ]


def test_candidate_pairs_are_the_pairs_sharing_enough_heaviest_terms():
    for seed in range(5):
        matrix = term_matrix(TermsBatch.of(random_batch(seed)), background=20)
        for settings in ((5, 12, 40, 2), (8, 60, 60, 1), (3, 4, 9, 2)):
            left, right = candidate_pairs(matrix, *settings)
            assert list(zip(left.tolist(), right.tolist(), strict=True)) == reference_pairs(
                matrix, *settings
            )


def test_heaviest_first_is_the_two_key_sort_even_when_the_float_key_merges_weights():
    rows = np.array([0, 0, 0, 1, 1, 1, 1])
    weights = np.array([0.2, 0.5, 0.2, 0.9, 0.1, 0.9, 0.3])
    assert list(_heaviest_first(weights, rows)) == list(np.lexsort((-weights, rows)))
    # Two weights of one row a hair apart: the float key (row * 4 - weight) rounds them to
    # one value, and the later, heavier one must still come first.
    close = np.array([0.5, 0.5 + 1e-13])
    rows = np.array([100_000, 100_000])
    assert 100_000 * 4.0 - close[0] == 100_000 * 4.0 - close[1]
    assert list(_heaviest_first(close, rows)) == [1, 0]
