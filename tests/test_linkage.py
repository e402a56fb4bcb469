import math

import numpy as np

from digest.cluster import _linkage as linkage
from digest.cluster._linkage import ScoredPairs, average_link


def groups(found):
    return sorted(sorted(group) for group in found)


def test_a_group_grows_only_when_its_mean_similarity_holds():
    # 0-1 and 1-2 are close, 0-2 was never scored (counts as 0): mean of {0,1} to 2 is 0.3.
    pairs = ScoredPairs.of({(0, 1): 0.9, (1, 2): 0.6})
    assert groups(average_link(3, pairs, [None] * 3, 0.5)) == [[0, 1], [2]]
    assert groups(average_link(3, pairs, [None] * 3, 0.3)) == [[0, 1, 2]]


def test_one_bridging_article_does_not_chain_two_events():
    pairs = ScoredPairs.of({(0, 1): 0.9, (2, 3): 0.9, (1, 2): 0.5})
    assert groups(average_link(4, pairs, [None] * 4, 0.4)) == [[0, 1], [2, 3]]


def test_two_delivered_stories_are_never_merged():
    pairs = ScoredPairs.of({(0, 1): 0.9, (1, 2): 0.9, (0, 2): 0.9})
    assert groups(average_link(3, pairs, [7, None, 8], 0.5)) in ([[0, 1], [2]], [[0], [1, 2]])


def random_pairs(seed: int, count: int, share: float, top: float) -> ScoredPairs:
    rng = np.random.default_rng(seed)
    left, right = np.triu_indices(count, 1)
    keep = rng.random(len(left)) < share
    return ScoredPairs(left[keep], right[keep], rng.random(int(keep.sum())) * top)


def test_links_found_with_scipy_are_the_links_of_the_loop():
    pairs = random_pairs(3, 40, 0.3, 0.3)
    looped = linkage._links(40, pairs, 0.25)
    assert any(looped)
    neighbours, sums = linkage._link_arrays(40, pairs, 0.25)
    found = [
        dict(zip(n.tolist(), s.tolist(), strict=True))
        for n, s in zip(neighbours, sums, strict=True)
    ]
    assert found == looped


def test_a_big_batch_merged_with_arrays_gives_the_groups_of_the_loop(monkeypatch):
    for seed in range(6):
        pairs = random_pairs(seed, 120, 0.08, 0.5)
        stories = [7 if i % 17 == 0 else 8 if i % 23 == 0 else None for i in range(120)]
        looped = average_link(120, pairs, stories, 0.15)
        monkeypatch.setattr(linkage, "ARRAY_LINKS_FROM", 1)
        with_arrays = average_link(120, pairs, stories, 0.15)
        monkeypatch.undo()
        assert any(len(group) > 2 for group in looped)
        assert groups(with_arrays) == groups(looped)


def merged_one_at_a_time(count, pairs, stories, merge_at, margin=0.0):
    """Average link as written: recompute every mean, less margin / sqrt(its pairs), merge
    the closest (ties to the lowest groups), until none holds. Groups are named by their
    first article, as average_link's."""
    similarity = {(int(a), int(b)): float(s) for a, b, s in zip(*vars(pairs).values(), strict=True)}
    found = {i: [i] for i in range(count)}
    story = dict(enumerate(stories))
    while True:
        best = None
        for low in found:
            for high in found:
                if high <= low or (story[low] and story[high] and story[low] != story[high]):
                    continue
                total = sum(
                    similarity.get((min(a, b), max(a, b)), 0.0)
                    for a in found[low]
                    for b in found[high]
                )
                crossed = len(found[low]) * len(found[high])
                mean = total / crossed - margin / math.sqrt(crossed)
                if mean >= merge_at and (best is None or (-mean, low, high) < best):
                    best = (-mean, low, high)
        if best is None:
            return list(found.values())
        _, low, high = best
        found[low] += found.pop(high)
        story[low] = story[low] or story[high]


def test_merges_are_the_closest_groups_first_ties_to_the_lowest(monkeypatch):
    # Similarities in eighths add up exactly, so every tie is a real tie, in both orders.
    for seed in range(40):
        rng = np.random.default_rng(seed)
        left, right = np.triu_indices(12, 1)
        keep = rng.random(len(left)) < 0.4
        eighths = rng.integers(1, 8, int(keep.sum())) / 8
        pairs = ScoredPairs(left[keep], right[keep], eighths)
        stories = [7 if i == 3 else 8 if i == 9 else None for i in range(12)]
        expected = groups(merged_one_at_a_time(12, pairs, stories, 0.25))
        assert groups(average_link(12, pairs, stories, 0.25)) == expected
        monkeypatch.setattr(linkage, "ARRAY_LINKS_FROM", 1)
        assert groups(average_link(12, pairs, stories, 0.25)) == expected
        monkeypatch.undo()


def test_a_mean_over_few_pairs_must_clear_the_margin():
    # Two articles at 0.1 stay apart; two pairs of rewrites whose four cross pairs are all
    # 0.1 join: their mean is over four pairs, so half the margin is asked of it.
    assert groups(average_link(2, ScoredPairs.of({(0, 1): 0.1}), [None] * 2, 0.06)) == [[0, 1]]
    lone = average_link(2, ScoredPairs.of({(0, 1): 0.1}), [None] * 2, 0.06, margin=0.05)
    assert groups(lone) == [[0], [1]]
    cross = {(a, b): 0.1 for a in (0, 1) for b in (2, 3)}
    pairs = ScoredPairs.of({(0, 1): 0.3, (2, 3): 0.3, **cross})
    assert groups(average_link(4, pairs, [None] * 4, 0.06, margin=0.05)) == [[0, 1, 2, 3]]
    assert groups(average_link(4, pairs, [None] * 4, 0.06, margin=0.1)) == [[0, 1], [2, 3]]


def test_with_a_margin_merges_are_still_the_closest_groups_first(monkeypatch):
    for seed in range(40):
        rng = np.random.default_rng(seed)
        left, right = np.triu_indices(12, 1)
        keep = rng.random(len(left)) < 0.5
        pairs = ScoredPairs(left[keep], right[keep], rng.random(int(keep.sum())) * 0.6)
        stories = [7 if i == 3 else 8 if i == 9 else None for i in range(12)]
        expected = groups(merged_one_at_a_time(12, pairs, stories, 0.15, margin=0.1))
        assert groups(average_link(12, pairs, stories, 0.15, margin=0.1)) == expected
        monkeypatch.setattr(linkage, "ARRAY_LINKS_FROM", 1)
        assert groups(average_link(12, pairs, stories, 0.15, margin=0.1)) == expected
        monkeypatch.undo()
