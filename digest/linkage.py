"""Average-link agglomeration over a sparse set of scored pairs.

The clusterer (cluster.py) scores only candidate pairs; this merges articles into groups
while their mean similarity, with missing pairs counted as 0, stays at or above a threshold,
and never puts two already delivered stories into one group.
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Sequence


def average_link(
    count: int,
    pairs: dict[tuple[int, int], float],
    story_ids: Sequence[int | None],
    merge_at: float,
) -> list[list[int]]:
    """Merge groups while the mean similarity over all their cross pairs is >= merge_at.

    Missing pairs count as 0, so a group grows only when it is close to most members.
    """
    members: dict[int, list[int]] = {i: [i] for i in range(count)}
    stories: dict[int, int | None] = dict(enumerate(story_ids))
    links: dict[int, dict[int, float]] = defaultdict(dict)  # group -> group -> summed sim
    # Two groups can only merge inside one connected component of the pairs at or above
    # merge_at (a mean reaches merge_at only where some pair does), so the many weaker pairs
    # between components are left out: same merges, far fewer links to update.
    root = _components(count, [pair for pair, s in pairs.items() if s >= merge_at])
    for (left, right), similarity in pairs.items():
        if root[left] == root[right]:
            links[left][right] = similarity
            links[right][left] = similarity
    heap = [(-s / 1.0, left, right) for (left, right), s in pairs.items() if s >= merge_at]
    heapq.heapify(heap)
    while heap:
        negative, left, right = heapq.heappop(heap)
        if left not in members or right not in members:
            continue
        current = links[left].get(right, 0.0) / (len(members[left]) * len(members[right]))
        if abs(current + negative) > 1e-12:
            continue  # stale entry; the fresh one is in the heap
        if stories[left] and stories[right] and stories[left] != stories[right]:
            continue
        # Merge right into left.
        members[left].extend(members.pop(right))
        stories[left] = stories[left] or stories.pop(right)
        stories.pop(right, None)
        for other, summed in links.pop(right).items():
            links[other].pop(right, None)
            if other == left:
                continue
            links[left][other] = links[left].get(other, 0.0) + summed
            links[other][left] = links[left][other]
        links[left].pop(right, None)
        for other, summed in links[left].items():
            average = summed / (len(members[left]) * len(members[other]))
            if average >= merge_at:
                heapq.heappush(heap, (-average, min(left, other), max(left, other)))
    return list(members.values())


def _components(count: int, edges: list[tuple[int, int]]) -> list[int]:
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
