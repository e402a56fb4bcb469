from digest.linkage import ScoredPairs, average_link


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


def test_links_built_with_numpy_for_a_big_batch_are_the_links_of_the_loop(monkeypatch):
    import numpy as np

    from digest import linkage

    rng = np.random.default_rng(3)
    left, right = np.triu_indices(40, 1)
    keep = rng.random(len(left)) < 0.3
    pairs = ScoredPairs(left[keep], right[keep], rng.random(int(keep.sum())) * 0.3)
    looped = linkage._links(40, pairs, 0.25)
    assert any(looped)
    monkeypatch.setattr(linkage, "ARRAY_LINKS_FROM", 1)
    assert linkage._links(40, pairs, 0.25) == looped
    with_arrays = groups(average_link(40, pairs, [None] * 40, 0.2))
    monkeypatch.undo()
    assert groups(average_link(40, pairs, [None] * 40, 0.2)) == with_arrays
