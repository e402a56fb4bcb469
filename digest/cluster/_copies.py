"""Near copies: one text carried by many outlets (a wire story), or posted by one feed many
times with a few words changed.

Such copies share every term, so past MAX_POSTING_FACTS articles their names and figures
find no candidate pairs (cluster/_pairing.py) and the copies never meet: 700 copies of one
story came out as 500 items. They are found here in about linear time, and the clusters
that hold one set of copies are made one (cluster/_clusterer.py).

Two articles are near copies when at least NEAR_COPY_SHARE of their terms (words, names
and figures, as sets) and NAMES_SHARE of their names are the same. Names are asked apart,
so that briefs of one template (two companies' earnings, two cities' weather), whose words
are the same, are no copies of each other; figures are not, since a copy's time stamp or
story number is its own. Candidates are the articles that agree on
one band of their MinHash signature (BANDS bands of BAND_ROWS hashes of their term sets);
each is then checked against the first and the previous article of its band.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ._terms.batch import TermsBatch, row_positions

# Jaccard of the term sets, and of the names: five words changed in a wire story of 300
# words and a headline of its own leave 0.93 of its terms, while two reports of one
# ECB+ event share 0.14 of their terms (median; 0.26 for the closest tenth).
NEAR_COPY_SHARE = 0.8
# Of the names, half: a copy's own headline, or a full stop an edit took away, adds a name
# or two to a story that names few ("Harford"; "Shop" opening a sentence), while briefs of
# one template name other companies, cities or teams and share none or one.
NAMES_SHARE = 0.5
BANDS, BAND_ROWS = 4, 4  # two sets of Jaccard 0.8 share a band with probability 0.88
# A candidate is taken exactly when the share of the hashes of its terms that agree, and
# that of its names, are at least the shares asked less ESTIMATE_MARGIN (sixteen hashes
# estimate a Jaccard of 0.8 with a standard deviation of 0.1): a pair at 0.8 passes with
# probability 0.97, while briefs of one template, whose words agree, are let go before the
# exact check. In all, a lone pair of copies at Jaccard 0.8 is found with probability about
# 0.85, at 0.9 nearly always; a set of many copies is joined through any of its members.
ESTIMATE_MARGIN = 0.175
MIN_TERMS = 20  # fewer terms (a title, a line of feed text) say too little to call a copy


def near_copies(
    terms: TermsBatch, story_ids: Sequence[int | None], kinds: np.ndarray
) -> dict[int, int]:
    """{copy's row: the first row of its set of copies}: near copies (see the module's note)
    among the rows of no delivered story. `kinds`: each column's kind, as TermMatrix has
    them ('n' a name)."""
    lengths = np.diff(terms.indptr)
    undelivered = np.array([story is None for story in story_ids], dtype=bool)
    eligible = np.flatnonzero((lengths >= MIN_TERMS) & undelivered)
    if len(eligible) < 2:
        return {}
    named = kinds == "n"
    signature = _signature(terms, eligible, None)
    names = _signature(terms, eligible, named)
    parent: dict[int, int] = {}

    def root(row: int) -> int:
        path = []
        while parent.get(row, row) != row:
            path.append(row)
            row = parent[row]
        for step in path:
            parent[step] = row
        return row

    held: dict[int, tuple[frozenset[int], frozenset[int]]] = {}
    for left, right in _candidates(signature, names):
        first, copy = int(eligible[left]), int(eligible[right])
        low, high = sorted((root(first), root(copy)))
        # Each set's root is its first row: the later root goes under the earlier.
        if low != high and _near(terms, named, first, copy, held):
            parent[high] = low
    return {row: root(row) for row in list(parent) if root(row) != row}


def _candidates(signature: np.ndarray, names: np.ndarray) -> list[tuple[int, int]]:
    """(earlier, later) positions: each row that agrees with others on one band of its term
    `signature`, with the first of them and with the one before it, when the two agree on
    enough of the hashes of their terms and of their `names`' signature (a cheap
    estimate of their two Jaccards, before they are taken exactly)."""
    pairs: set[tuple[int, int]] = set()
    for band in range(BANDS):
        keys = signature[:, band * BAND_ROWS : (band + 1) * BAND_ROWS]
        group = np.unique(keys, axis=0, return_inverse=True)[1].ravel()
        order = np.argsort(group, kind="stable")
        ordered = group[order]
        new_group = np.r_[True, ordered[1:] != ordered[:-1]]
        first = order[np.maximum.accumulate(np.where(new_group, np.arange(len(order)), 0))]
        before = np.r_[order[:1], order[:-1]]  # the member before, in the same group or not
        for leader, member in ((first, order), (before[~new_group], order[~new_group])):
            shared = member != leader
            leader, member = leader[shared], member[shared]
            agreeing = (signature[member] == signature[leader]).mean(axis=1)
            agree = agreeing >= NEAR_COPY_SHARE - ESTIMATE_MARGIN
            leader, member = leader[agree], member[agree]
            agreeing = (names[member] == names[leader]).mean(axis=1)
            agree = agreeing >= NAMES_SHARE - ESTIMATE_MARGIN
            pairs.update(zip(leader[agree].tolist(), member[agree].tolist(), strict=True))
    return sorted(pairs)


def _signature(terms: TermsBatch, rows: np.ndarray, kept: np.ndarray | None) -> np.ndarray:
    """Each row's MinHash signature, BANDS * BAND_ROWS hashes of its set of columns (of the
    columns `kept` marks alone, when given): the high half of (a * column + b) modulo
    2**64, for odd a (multiply-shift hashing). A row without such columns has every hash
    at the top."""
    rng = np.random.default_rng(20261207)  # fixed: one batch always gives one answer
    count = BANDS * BAND_ROWS
    multipliers = rng.integers(0, 1 << 63, size=count, dtype=np.uint64) * 2 + 1
    offsets = rng.integers(0, 1 << 63, size=count, dtype=np.uint64)
    columns = terms.columns[row_positions(terms.indptr, rows)]
    lengths = terms.indptr[rows + 1] - terms.indptr[rows]
    if kept is not None:
        chosen = kept[columns]
        if len(chosen):
            lengths = np.add.reduceat(chosen, np.r_[0, np.cumsum(lengths)[:-1]])
        columns = columns[chosen]
    columns = columns.astype(np.uint64)
    signature = np.full((len(rows), count), np.iinfo(np.uint64).max, dtype=np.uint64)
    filled = lengths > 0
    bounds = np.r_[0, np.cumsum(lengths[filled])[:-1]].astype(np.int64)
    shift = np.uint64(32)
    with np.errstate(over="ignore"):
        for number in range(count):
            if not len(columns):
                break
            hashed = (multipliers[number] * columns + offsets[number]) >> shift
            signature[filled, number] = np.minimum.reduceat(hashed, bounds)
    return signature


def _near(
    terms: TermsBatch,
    named: np.ndarray,
    left: int,
    right: int,
    cache: dict[int, tuple[frozenset[int], frozenset[int]]],
) -> bool:
    """Whether rows `left` and `right` are near copies (their terms and their names)."""
    left_terms, left_names = _sets(terms, named, left, cache)
    right_terms, right_names = _sets(terms, named, right, cache)
    return _share(left_terms, right_terms) >= NEAR_COPY_SHARE and (
        _share(left_names, right_names) >= NAMES_SHARE
    )


def _sets(
    terms: TermsBatch,
    named: np.ndarray,
    row: int,
    cache: dict[int, tuple[frozenset[int], frozenset[int]]],
) -> tuple[frozenset[int], frozenset[int]]:
    """Row `row`'s columns, and those of its names (`named` marks them)."""
    if row not in cache:
        columns = terms.columns[terms.indptr[row] : terms.indptr[row + 1]]
        names = columns[named[columns]]
        cache[row] = (frozenset(columns.tolist()), frozenset(names.tolist()))
    return cache[row]


def _share(left: frozenset[int], right: frozenset[int]) -> float:
    union = len(left | right)
    return len(left & right) / union if union else 1.0
