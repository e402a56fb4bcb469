"""A batch's TF-IDF vectors as one sparse matrix, and the dot products the clusterer needs.

A big batch scores millions of article pairs; each score is a dot product of two sparse
vectors of about 150 terms. Term by term in Python that was most of clustering's time
(36 us a pair); scipy's sparse kernels do it in C, a chunk of pairs at a time, with the
same result up to the last bits of a float.
"""

from __future__ import annotations

import functools
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from ._terms.batch import TermsBatch, cores

# Pairs whose rows are gathered at once in `row_dots`, per thread: with about 150 terms an
# article, 8,000 pairs gather two matrices of some 15 MB each (50,000 took the 20,000-article
# run 500 MB over its usual peak, scipy sizing each product for both operands).
PAIRS_CHUNK = 8_000


@dataclass(frozen=True)
class TermMatrix:
    """TF-IDF of a batch. Row i is article i's vector at unit length, column j the term
    `terms[j]`; a row's columns are in sorted order, as scipy's kernels want them."""

    terms: list[str]
    holders: np.ndarray  # per column: how many articles of the batch hold the term
    idf: np.ndarray
    unit: sparse.csr_matrix
    # The article's terms in the order features.article_terms wrote them, with their unit
    # weights: choosing an article's heaviest terms breaks ties in that order.
    written: sparse.csr_matrix
    kinds: np.ndarray  # each column's kind: 'w' a word, 'n' a name, 'x' a figure

    @functools.cached_property
    def columns(self) -> dict[str, int]:
        return {term: column for column, term in enumerate(self.terms)}


def term_matrix(batch: TermsBatch, background: int) -> TermMatrix:
    """The vectors of `batch`, with IDF taken as if the batch held `background` more
    articles that mention none of their terms.

    A term's weight is 1 + log(count) (a count under 1, a weighted word seen once, as it
    is) times its IDF, log((1 + N) / (1 + df)) + 1."""
    size = len(batch)
    indices, counts, indptr = batch.columns, batch.counts, batch.indptr
    holders = np.bincount(indices, minlength=len(batch.vocabulary))
    idf = np.log((1 + size + background) / (1 + holders)) + 1.0
    damped = np.where(counts >= 1, 1.0 + np.log(np.maximum(counts, 1.0)), counts)
    weights = damped * idf[indices]
    rows = np.repeat(np.arange(size), np.diff(indptr))
    norms = np.sqrt(np.bincount(rows, weights=weights * weights, minlength=size))
    norms[norms == 0] = 1.0
    weights /= norms[rows]
    shape = (size, len(batch.vocabulary))
    written = sparse.csr_matrix((weights, indices, indptr), shape=shape)
    unit = written.copy()
    unit.sort_indices()
    kinds = np.array([term[0] for term in batch.vocabulary], dtype="<U1")
    return TermMatrix(batch.vocabulary, holders, idf, unit, written, kinds)


def row_dots(
    left_matrix: sparse.csr_matrix,
    right_matrix: sparse.csr_matrix,
    left: np.ndarray,
    right: np.ndarray,
) -> np.ndarray:
    """For each k, the dot product of row left[k] of `left_matrix` and row right[k] of
    `right_matrix` (matrices of one width, columns sorted in each row)."""

    def dots(start: int) -> np.ndarray:
        stop = start + PAIRS_CHUNK
        product = left_matrix[left[start:stop]].multiply(right_matrix[right[start:stop]])
        return np.asarray(product.sum(axis=1)).ravel()

    starts = range(0, len(left), PAIRS_CHUNK)
    if len(starts) < 2:
        return dots(0) if len(left) else np.zeros(0, dtype=np.float64)
    # scipy's kernels run without the GIL, so threads share the chunks across the cores.
    with ThreadPoolExecutor(cores()) as pool:
        return np.concatenate(list(pool.map(dots, starts)))


def holds(matrix: sparse.csr_matrix, rows: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """For each k, whether row rows[k] of `matrix` has a term in column columns[k]."""
    if not len(rows):
        return np.zeros(0, dtype=bool)
    return np.asarray(matrix[rows, columns]).ravel() != 0
