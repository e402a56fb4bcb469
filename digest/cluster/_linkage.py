"""Average-link agglomeration over a sparse set of scored pairs.

The clusterer scores only candidate pairs; this merges articles into groups while their mean
similarity, with missing pairs counted as 0, stays at or above a threshold, and never puts two
already delivered stories into one group.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import chain, pairwise, repeat

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from ._ordering import stable_argsort


@dataclass(frozen=True)
class ScoredPairs:
    """Pairs of articles (left[k], right[k]) with their similarity[k], each pair once."""

    left: np.ndarray
    right: np.ndarray
    similarity: np.ndarray

    @classmethod
    def of(cls, pairs: dict[tuple[int, int], float]) -> ScoredPairs:
        left, right = zip(*pairs, strict=True) if pairs else ((), ())
        return cls(
            np.array(left, dtype=np.int64),
            np.array(right, dtype=np.int64),
            np.fromiter(pairs.values(), dtype=np.float64, count=len(pairs)),
        )


def average_link(
    count: int,
    pairs: ScoredPairs,
    story_ids: Sequence[int | None],
    merge_at: float,
    margin: float = 0.0,
) -> list[list[int]]:
    """Merge groups while the mean similarity over all their cross pairs, less
    margin / sqrt(the number of those pairs), is >= merge_at; the closest first.

    Missing pairs count as 0, so a group grows only when it is close to most members. The
    margin asks more of a mean taken over few pairs: two articles join on their one
    similarity, which one shared sentence or name can lift, while two groups of ten join on
    a hundred. Groups come out in the order of their first article, each with its articles
    in the order they joined.
    """
    if len(pairs.left) >= ARRAY_LINKS_FROM:
        return _average_link_arrays(count, pairs, story_ids, merge_at, margin)
    members: list[list[int] | None] = [[i] for i in range(count)]
    sizes = [1] * count
    stories = list(story_ids)
    # links[g]: {article or group: summed similarity} of group g's members with others.
    # Only the merging group's links are brought up to date (keys mapped to the groups they
    # now belong to, by `owner`): updating every neighbour's view at each merge was most of
    # the time on a big batch, in scattered dictionaries. A heap entry is stale when either
    # group has changed since it was pushed (`changes`): every merge changes a group's mean
    # with each of its neighbours, and each one still at merge_at is pushed again.
    links = _links(count, pairs, merge_at)
    owner = list(range(count))
    changes = [0] * count
    strongest = _strong_pairs(pairs, merge_at, margin)
    heap: list[tuple[float, int, int, int, int]] = []
    push = heapq.heappush

    def group_of(node: int) -> int:
        root = node
        while owner[root] != root:
            root = owner[root]
        while owner[node] != root:
            owner[node], node = root, owner[node]
        return root

    for left, right, _, size in _merges(strongest, heap, members, sizes, changes, stories):
        owner[right] = left
        summed_links: dict[int, float] = {}
        for other, summed in chain(links[left].items(), links[right].items()):
            group = other if owner[other] == other else group_of(other)
            if group != left:
                summed_links[group] = summed_links.get(group, 0.0) + summed
        links[left], links[right] = summed_links, {}
        for other, summed in summed_links.items():
            crossed = size * sizes[other]
            score = summed / crossed - margin / math.sqrt(crossed)
            if score >= merge_at:
                low, high = (left, other) if left < other else (other, left)
                push(heap, (-score, low, high, changes[low], changes[high]))
    return [group for group in members if group is not None]


def _merges(
    strongest: list[tuple[float, int, int, int, int]],
    heap: list[tuple[float, int, int, int, int]],
    members: list[list[int] | None],
    sizes: list[int],
    changes: list[int],
    stories: list[int | None],
) -> Iterator[tuple[int, int, list[int], int]]:
    """Take the entries, closest first, and make each merge that still holds: group `right`
    into group `left`. Yields (left, right, the articles `right` brought, the merged size);
    the caller brings the links up to date and pushes the new means on `heap` before the
    next.

    `strongest` are the pairs' own entries, sorted (_strong_pairs); only the means of merged
    groups go through the heap. Entries are taken in one order, the one a single heap of
    both would give: a pushed entry never equals a pair's, since one of its groups has
    changed. Popping every pair's entry off one heap would be a large share of the linkage's
    time on a big batch (bench/pipeline_bench.py --cluster).

    An entry is stale when either group has changed since it was pushed (`changes`): the
    fresh one, if any, is in the heap. Two delivered stories are never merged."""
    pop = heapq.heappop
    at, end = 0, len(strongest)
    while at < end or heap:
        if heap and (at == end or heap[0] < strongest[at]):
            _, left, right, left_change, right_change = pop(heap)
        else:
            _, left, right, left_change, right_change = strongest[at]
            at += 1
        kept, absorbed = members[left], members[right]
        if kept is None or absorbed is None:
            continue
        if changes[left] != left_change or changes[right] != right_change:
            continue
        if stories[left] and stories[right] and stories[left] != stories[right]:
            continue
        kept.extend(absorbed)
        members[right] = None
        changes[left] += 1
        sizes[left] += sizes[right]
        stories[left] = stories[left] or stories[right]
        yield left, right, absorbed, sizes[left]


def _strong_pairs(
    pairs: ScoredPairs, merge_at: float, margin: float
) -> list[tuple[float, int, int, int, int]]:
    """The entries of the pairs whose similarity less `margin` is at or above merge_at,
    (-(similarity - margin), left, right, 0, 0), in the order tuples sort (0: the number of
    changes each group had at the time)."""
    score = pairs.similarity - margin
    strong = score >= merge_at
    distance, left, right = -score[strong], pairs.left[strong], pairs.right[strong]
    order = np.lexsort((right, left, distance))
    return list(
        zip(
            distance[order].tolist(),
            left[order].tolist(),
            right[order].tolist(),
            repeat(0),
            repeat(0),
        )
    )


# From this many pairs on, links are grouped by numpy and scipy, and kept as arrays; below
# it, their per-call cost (a split group of a few articles) is more than a loop over pairs.
ARRAY_LINKS_FROM = 20_000


def _average_link_arrays(
    count: int,
    pairs: ScoredPairs,
    story_ids: Sequence[int | None],
    merge_at: float,
    margin: float,
) -> list[list[int]]:
    """average_link for a big batch: the same merges, in the same order, with each group's
    links held as two arrays (neighbour, summed similarity). A merge maps both groups'
    neighbours to their groups and sums them with numpy, where the loop spent about a
    microsecond per link; the sums are added in the loop's order, so they are the same
    floats."""
    members: list[list[int] | None] = [[i] for i in range(count)]
    sizes = [1] * count
    size_of = np.ones(count, dtype=np.int64)
    stories = list(story_ids)
    group_of = np.arange(count)
    neighbours, sums = _link_arrays(count, pairs, merge_at)
    nothing = np.zeros(0, dtype=np.int64)
    changes = [0] * count
    strongest = _strong_pairs(pairs, merge_at, margin)
    heap: list[tuple[float, int, int, int, int]] = []
    push = heapq.heappush
    for left, right, absorbed, size in _merges(strongest, heap, members, sizes, changes, stories):
        group_of[absorbed] = left
        size_of[left] = size
        groups = group_of[np.concatenate((neighbours[left], neighbours[right]))]
        summed = np.concatenate((sums[left], sums[right]))
        outside = groups != left
        groups, summed = groups[outside], summed[outside]
        # Each neighbour group once, in order of first sight (the loop's dict order), with
        # its links added up in the order they come.
        distinct, first, inverse = np.unique(groups, return_index=True, return_inverse=True)
        totals = np.bincount(inverse, weights=summed, minlength=len(distinct))
        order = np.argsort(first)
        neighbours[left], sums[left] = distinct[order], totals[order]
        neighbours[right], sums[right] = nothing, nothing
        crossed = size * size_of[neighbours[left]]
        scores = sums[left] / crossed - margin / np.sqrt(crossed)
        close = np.flatnonzero(scores >= merge_at)
        for other, score in zip(
            neighbours[left][close].tolist(), scores[close].tolist(), strict=True
        ):
            low, high = (left, other) if left < other else (other, left)
            push(heap, (-score, low, high, changes[low], changes[high]))
    return [group for group in members if group is not None]


def _links(count: int, pairs: ScoredPairs, merge_at: float) -> list[dict[int, float]]:
    """Each article's {other article: similarity}, for the pairs that could ever count.

    Two groups can only merge inside one connected component of the pairs at or above
    merge_at (a mean reaches merge_at only where some pair does), so the many weaker pairs
    between components are left out: same merges, far fewer links to update."""
    strong = pairs.similarity >= merge_at
    edges = zip(pairs.left[strong].tolist(), pairs.right[strong].tolist(), strict=True)
    component = _components(count, edges)
    links: list[dict[int, float]] = [{} for _ in range(count)]
    for left, right, similarity in zip(
        pairs.left.tolist(), pairs.right.tolist(), pairs.similarity.tolist(), strict=True
    ):
        if component[left] == component[right]:
            links[left][right] = similarity
            links[right][left] = similarity
    return links


def _link_arrays(
    count: int, pairs: ScoredPairs, merge_at: float
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """_links as arrays, found with scipy: per article, its linked articles (those it was
    paired as the left of, then the right of) and their similarities."""
    strong = pairs.similarity >= merge_at
    graph = sparse.csr_matrix(
        (np.ones(int(strong.sum())), (pairs.left[strong], pairs.right[strong])),
        shape=(count, count),
    )
    _, labels = connected_components(graph, directed=False)
    inside = labels[pairs.left] == labels[pairs.right]
    left, right = pairs.left[inside], pairs.right[inside]
    similarity = pairs.similarity[inside]
    # Both directions, grouped by article.
    source = np.concatenate([left, right])
    order = stable_argsort(source)
    targets = np.concatenate([right, left])[order]
    values = np.concatenate([similarity, similarity])[order]
    bounds = np.searchsorted(source[order], np.arange(count + 1)).tolist()
    return (
        [targets[start:stop] for start, stop in pairwise(bounds)],
        [values[start:stop] for start, stop in pairwise(bounds)],
    )


def _components(count: int, edges: Iterable[tuple[int, int]]) -> list[int]:
    """For each of `count` nodes, a representative of its connected component."""
    parent = list(range(count))

    def find(node: int) -> int:
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    for left, right in edges:
        left, right = find(left), find(right)
        if left != right:
            parent[right] = left
    return [find(node) for node in range(count)]
