"""Which articles of a batch to compare, and their scores, without comparing all pairs.

The clusterer (cluster.py) decides what a pair's similarity is; this module finds the pairs
worth scoring through an inverted index and scores a big batch's pairs in forked worker
processes. Both return exactly what a plain loop would, in the same order.
"""

from __future__ import annotations

import logging
import multiprocessing
from bisect import bisect_right
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from .features import cores

log = logging.getLogger("digest")

# Scoring is the bulk of a big batch's clustering (every candidate pair, in Python). Forked
# workers share the batch with this process (nothing is pickled to them) and send back one
# float per pair; below PARALLEL_MIN_PAIRS a pool is not worth its start.
PARALLEL_MIN_PAIRS = 20_000
Score = Callable[[int, int], float]
_inherited: list[tuple[Score, Sequence[tuple[int, int]]]] = []  # in a forked worker only


def candidate_pairs(
    vectors: Sequence[dict[str, float]],
    index_terms: int,
    max_posting: int,
    max_posting_facts: int,
    min_shared: int,
) -> list[tuple[int, int]]:
    """(left, right) pairs, left < right, of articles that share at least `min_shared` of
    their `index_terms` heaviest terms, counting only terms in at most `max_posting`
    articles (words) or `max_posting_facts` (names and figures, keys not starting 'w')."""
    postings: dict[str, list[int]] = defaultdict(list)
    indexed = []
    for index, vector in enumerate(vectors):
        heaviest = sorted(vector, key=vector.__getitem__, reverse=True)[:index_terms]
        indexed.append(heaviest)
        for term in heaviest:
            postings[term].append(index)
    usable = {
        term: members
        for term, members in postings.items()
        if 2 <= len(members) <= (max_posting if term[0] == "w" else max_posting_facts)
    }
    # Each article gathers the later articles in its postings (lists are in article order)
    # and counts them in C: a popular name's posting costs list slices, not one Python
    # step per pair.
    candidates = []
    for left, heaviest in enumerate(indexed):
        later: list[int] = []
        for term in heaviest:
            members = usable.get(term)
            if members is not None:
                later.extend(members[bisect_right(members, left) :])
        if later:
            candidates.extend(
                (left, right) for right, shared in Counter(later).items() if shared >= min_shared
            )
    return candidates


def score_pairs(
    score: Score, candidates: Sequence[tuple[int, int]], workers: int | None = 0
) -> list[float]:
    """`score(left, right)` of each candidate pair, in order. `workers` None means one
    forked process per core for a big batch, 0 this process only; the floats are the same."""
    forked = _scores_forked(score, candidates, workers)
    return forked if forked is not None else _scores(score, candidates, 0, len(candidates))


def _scores(
    score: Score, candidates: Sequence[tuple[int, int]], start: int, stop: int
) -> list[float]:
    return [score(left, right) for left, right in candidates[start:stop]]


def _scores_forked(
    score: Score, candidates: Sequence[tuple[int, int]], workers: int | None
) -> list[float] | None:
    """The scores from forked workers, or None where that is not worth it or not possible.
    Fork only (see features.batch_terms): `score` is a closure over the whole batch."""
    count = cores() if workers is None else workers
    if (
        count < 2
        or len(candidates) < PARALLEL_MIN_PAIRS
        or "fork" not in multiprocessing.get_all_start_methods()
        or multiprocessing.current_process().daemon
    ):
        return None
    step = -(-len(candidates) // (count * 4))
    bounds = [(at, min(at + step, len(candidates))) for at in range(0, len(candidates), step)]
    context = multiprocessing.get_context("fork")
    try:
        with ProcessPoolExecutor(
            count,
            mp_context=context,
            initializer=_inherited.append,
            initargs=((score, candidates),),
        ) as pool:
            return [s for part in pool.map(_score_inherited, bounds) for s in part]
    except (BrokenProcessPool, OSError) as error:
        log.warning("pair-scoring workers failed (%s); scoring in this process", error)
        return None


def _score_inherited(bounds: tuple[int, int]) -> list[float]:
    score, candidates = _inherited[-1]
    return _scores(score, candidates, *bounds)
