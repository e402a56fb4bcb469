"""What clustering's decision step must do, on small hand-made inputs: average link over
scored pairs (both the loop and the array path), candidate pairs from the inverted index,
and the look-alike split of one linked group (bench/mutation.sh, cluster modules)."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import RULES
from scipy import sparse

from digest.cluster import _linkage as linkage
from digest.cluster import _lookalikes as lookalikes
from digest.cluster import _pairing as pairing
from digest.cluster._linkage import ScoredPairs, average_link
from digest.cluster._lookalikes import (
    _local_cosines,
    _names,
    _own_facts,
    _rejoin_outliers,
    split_lookalikes,
)
from digest.cluster._pairing import _heaviest_first, candidate_pairs
from digest.cluster._terms.batch import TermsBatch
from digest.cluster._terms.features import ArticleTerms
from digest.cluster._thresholds import BACKGROUND_ARTICLES, SPLIT_BACKGROUND, SPLIT_MAX_GROUP
from digest.cluster._vectors import TermMatrix, term_matrix


@pytest.fixture(params=["loop", "arrays"])
def linkage_path(request, monkeypatch):
    """average_link through the loop over dictionaries, or through the array path that a
    big batch takes: both must make the same merges."""
    if request.param == "arrays":
        monkeypatch.setattr(linkage, "ARRAY_LINKS_FROM", 0)
    return request.param


# --- average link -------------------------------------------------------------------------


def test_scored_pairs_of_nothing_are_empty_integer_and_float_arrays():
    empty = ScoredPairs.of({})
    assert empty.left.dtype == np.int64 and empty.right.dtype == np.int64
    assert empty.similarity.dtype == np.float64
    assert len(empty.left) == len(empty.right) == len(empty.similarity) == 0
    pairs = ScoredPairs.of({(0, 2): 0.5, (1, 2): 0.25})
    assert pairs.left.tolist() == [0, 1] and pairs.right.tolist() == [2, 2]
    assert pairs.similarity.tolist() == [0.5, 0.25]
    assert pairs.left.dtype == np.int64 and pairs.similarity.dtype == np.float64
    assert average_link(2, empty, [None, None], 0.5) == [[0], [1]]


def test_a_merged_group_keeps_its_lowest_article_first(linkage_path):
    # 1 and 2 merge first; then 0 joins them at their mean, 0.5: the group is 0's, so it is
    # listed as 0, then the articles it took in, in the order they joined.
    pairs = ScoredPairs.of({(1, 2): 0.9, (0, 1): 0.5, (0, 2): 0.5})
    assert average_link(3, pairs, [None] * 3, 0.3) == [[0, 1, 2]]
    # Article 3 joins the group of {1, 2} after 0 did, at its end.
    pairs = ScoredPairs.of({(1, 2): 0.9, (0, 1): 0.8, (0, 2): 0.8, (2, 3): 0.9, (1, 3): 0.9})
    assert average_link(4, pairs, [None] * 4, 0.4) == [[0, 1, 2, 3]]


def test_a_mean_exactly_at_the_threshold_still_merges(linkage_path):
    # The pairs of 0 are at merge_at exactly: they count for the merge of 0 with {1, 2}.
    pairs = ScoredPairs.of({(1, 2): 0.9, (0, 1): 0.5, (0, 2): 0.5})
    assert average_link(3, pairs, [None] * 3, 0.5) == [[0, 1, 2]]
    # Just under it, 0 stays alone.
    pairs = ScoredPairs.of({(1, 2): 0.9, (0, 1): 0.5, (0, 2): 0.4999})
    assert average_link(3, pairs, [None] * 3, 0.5) == [[0], [1, 2]]


def test_one_bridge_does_not_chain_two_groups_on_either_path(linkage_path):
    pairs = ScoredPairs.of({(0, 1): 0.9, (2, 3): 0.9, (1, 2): 0.5})
    assert average_link(4, pairs, [None] * 4, 0.4) == [[0, 1], [2, 3]]
    # Close to most members of the other group, the mean holds: one group.
    pairs = ScoredPairs.of({(0, 1): 0.9, (2, 3): 0.9, (1, 2): 0.5, (0, 2): 0.5, (1, 3): 0.5})
    assert average_link(4, pairs, [None] * 4, 0.35) == [[0, 1, 2, 3]]


def test_two_delivered_stories_stay_apart_on_either_path(linkage_path):
    pairs = ScoredPairs.of({(0, 1): 0.9, (1, 2): 0.8, (0, 2): 0.8})
    assert average_link(3, pairs, [7, None, 8], 0.5) == [[0, 1], [2]]


# --- candidate pairs ----------------------------------------------------------------------


def batch_matrix(counts: list[dict[str, float]]) -> TermMatrix:
    batch = TermsBatch.of([ArticleTerms(c, frozenset(), frozenset()) for c in counts])
    return term_matrix(batch, BACKGROUND_ARTICLES)


SHARING = [
    {"w:rocket": 1.0, "w:launch": 1.0, "w:pad": 1.0},
    {"w:rocket": 1.0, "w:launch": 1.0, "w:orbit": 1.0},
    {"n:kushiro": 1.0, "x:7.1": 1.0},
    {"w:rocket": 1.0, "w:launch": 1.0, "n:kushiro": 1.0, "x:7.1": 1.0},
    {"w:alone": 1.0},
]


def pairs_of(found: tuple[np.ndarray, np.ndarray]) -> list[tuple[int, int]]:
    left, right = found
    assert left.dtype == np.int64 and right.dtype == np.int64
    return list(zip(left.tolist(), right.tolist(), strict=True))


@pytest.mark.parametrize("rows_chunk", [pairing.ROWS_CHUNK, 2, 1])
def test_candidate_pairs_share_enough_usable_index_terms(monkeypatch, rows_chunk):
    # Blocks of a few articles: the pairs found in a later block keep their own rows.
    monkeypatch.setattr(pairing, "ROWS_CHUNK", rows_chunk)
    matrix = batch_matrix(SHARING)
    assert pairs_of(candidate_pairs(matrix, 25, 50, 500, 2)) == [(0, 1), (0, 3), (1, 3), (2, 3)]
    # Words in 3 articles' index are over a posting limit of 2: only the facts pair up.
    assert pairs_of(candidate_pairs(matrix, 25, 2, 500, 2)) == [(2, 3)]
    # ... and the facts over theirs.
    assert pairs_of(candidate_pairs(matrix, 25, 50, 1, 2)) == [(0, 1), (0, 3), (1, 3)]
    # No pair shares three.
    assert pairs_of(candidate_pairs(matrix, 25, 50, 500, 3)) == []


def test_candidate_pairs_of_an_empty_batch_are_empty_integer_arrays():
    found = candidate_pairs(batch_matrix([]), 25, 50, 500, 2)
    assert [part.shape for part in found] == [(0,), (0,)]
    assert [part.dtype for part in found] == [np.int64, np.int64]


def test_heaviest_first_breaks_ties_in_written_order():
    weights = np.array([0.5, 0.5, 0.9, 0.2, 0.2, 0.2])
    rows = np.array([0, 0, 0, 1, 1, 1])
    assert _heaviest_first(weights, rows).tolist() == [2, 0, 1, 3, 4, 5]


@pytest.mark.parametrize("first", [0.9, float(np.nextafter(0.5, 1.0))])
def test_heaviest_first_when_rounding_merges_two_weights_of_a_row(first):
    # 4 - 0.5 and 4 - (0.5 + 1 ulp) are one float: the key alone would keep written order,
    # but the heavier of the two comes first.
    heavier = float(np.nextafter(0.5, 1.0))
    assert 1 * 4.0 - heavier == 1 * 4.0 - 0.5
    weights = np.array([first, 0.5, heavier])
    rows = np.array([0, 1, 1])
    assert _heaviest_first(weights, rows).tolist() == [0, 2, 1]


# --- the look-alike split -----------------------------------------------------------------


def csr(rows: list[dict[int, float]], width: int) -> sparse.csr_matrix:
    data, indices, indptr = [], [], [0]
    for row in rows:
        for column in sorted(row):
            indices.append(column)
            data.append(row[column])
        indptr.append(len(indices))
    return sparse.csr_matrix((data, indices, indptr), shape=(len(rows), width))


def reference_local_cosines(unit: sparse.csr_matrix, group: list[int]) -> np.ndarray:
    dense = unit.toarray()[group]
    holders = (dense != 0).sum(axis=0)
    idf = np.log((len(group) + SPLIT_BACKGROUND) / (holders + 0.5))
    weighted = dense * idf
    norms = np.linalg.norm(weighted, axis=1)
    weighted /= np.where(norms == 0, 1.0, norms)[:, None]
    return weighted @ weighted.T


UNIT = csr(
    [
        {0: 0.6, 1: 0.8},
        {0: 0.3, 2: 0.9, 3: 0.3},
        {1: 0.5, 2: 0.5, 4: 0.7},
        {},
        {0: 0.2, 3: 0.4, 4: 0.9},
        {5: 1.0},
    ],
    6,
)


@pytest.mark.parametrize("dense_cells", [lookalikes.DENSE_CELLS, 0])
@pytest.mark.parametrize("group", [[4, 0, 2, 1], [0, 1, 2], [5, 3, 1, 0]])
def test_local_cosines_weigh_terms_by_how_few_members_hold_them(monkeypatch, dense_cells, group):
    monkeypatch.setattr(lookalikes, "DENSE_CELLS", dense_cells)
    found = _local_cosines(UNIT, group)
    assert found.shape == (len(group), len(group))
    np.testing.assert_allclose(found, reference_local_cosines(UNIT, group), atol=1e-12)


TOPIC = {"n:spacex": 0.3}
LAUNCH = {f"w:launch{k}": 1.0 for k in range(6)}
BLAST = {f"w:blast{k}": 1.0 for k in range(6)}


def split(counts: list[dict[str, float]], group: list[int]) -> list[list[int]]:
    batch = TermsBatch.of([ArticleTerms(c, frozenset(), frozenset()) for c in counts])
    matrix = term_matrix(batch, BACKGROUND_ARTICLES)
    return split_lookalikes(group, matrix, batch, [None] * len(counts), RULES)


def two_events(
    first_fact: str | None, second_fact: str | None, outlier: dict[str, float] | None
) -> list[dict[str, float]]:
    first = {**TOPIC, **LAUNCH, **({first_fact: 1.0} if first_fact else {})}
    second = {**TOPIC, **BLAST, **({second_fact: 1.0} if second_fact else {})}
    articles = [first] * RULES.min_event_part + [second] * RULES.min_event_part
    return articles + ([outlier] if outlier else [])


def test_two_lookalike_events_with_facts_of_their_own_are_split():
    counts = two_events("n:vandenberg", "n:boca chica", None)
    group = [5, 0, 6, 1, 7, 2, 4, 3]
    parts = split(counts, group)
    assert sorted(map(sorted, parts)) == [[0, 1, 2, 3], [4, 5, 6, 7]]


def test_an_outlier_of_a_split_rejoins_the_event_it_matches_best():
    # The outlier is mostly its own wording, with one word of the launch: too far from
    # either event to be linked to it, closer to the launch.
    outlier = {f"w:other{k}": 1.0 for k in range(12)} | {"w:launch0": 1.0}
    counts = two_events("n:vandenberg", "n:boca chica", outlier)
    group = [8, 5, 0, 6, 1, 7, 2, 4, 3]
    batch = TermsBatch.of([ArticleTerms(c, frozenset(), frozenset()) for c in counts])
    cosines = _local_cosines(term_matrix(batch, BACKGROUND_ARTICLES).unit, group)
    assert 0 < cosines[0, 2] < RULES.split_at and cosines[0, 1] == 0
    parts = split(counts, group)
    assert sorted(map(sorted, parts)) == [[0, 1, 2, 3, 8], [4, 5, 6, 7]]


def test_parts_that_differ_only_in_words_stay_one_group_in_article_order():
    counts = two_events(None, None, None)
    group = [5, 0, 6, 1, 7, 2, 4, 3]
    assert split(counts, group) == [sorted(group)]


def test_a_part_too_small_to_be_an_event_keeps_the_group_whole():
    counts = two_events("n:vandenberg", "n:boca chica", None)[1:]  # 3 launches, 4 blasts
    group = [4, 0, 5, 1, 6, 2, 3]
    assert split(counts, group) == [sorted(group)]


def headline_split(
    first_leads: str, second_leads: str, story_ids: list[int | None] | None = None
) -> list[list[int]]:
    """Two events of headline_event_part reports each (too few for the first split), each
    with a place of its own in its text, and headlines that lead with the names given."""
    size = RULES.headline_event_part
    assert size < RULES.min_event_part
    first = {**TOPIC, **LAUNCH, "n:vandenberg": 1.0}
    second = {**TOPIC, **BLAST, "n:boca chica": 1.0}
    terms = [ArticleTerms(first, frozenset(), frozenset({first_leads}))] * size + [
        ArticleTerms(second, frozenset(), frozenset({second_leads}))
    ] * size
    batch = TermsBatch.of(terms)
    matrix = term_matrix(batch, BACKGROUND_ARTICLES)
    group = list(range(2 * size))[::-1]
    return split_lookalikes(group, matrix, batch, story_ids or [None] * len(group), RULES)


def test_small_lookalike_events_part_when_each_leads_with_a_name_of_its_own():
    size = RULES.headline_event_part
    parts = headline_split("n:vandenberg", "n:boca chica")
    assert sorted(map(sorted, parts)) == [list(range(size)), list(range(size, 2 * size))]
    # Headlines that lead with the topic's name: one group, as the first split left it.
    assert headline_split("n:spacex", "n:spacex") == [list(range(2 * size))]
    # One event's own name in the other's headlines too: no name of its own there.
    assert headline_split("n:vandenberg", "n:vandenberg") == [list(range(2 * size))]
    # A story already delivered, one article on each side: it stays one item.
    delivered: list[int | None] = [None] * (2 * size)
    delivered[0] = delivered[size] = 77
    whole = headline_split("n:vandenberg", "n:boca chica", delivered)
    assert whole == [list(range(2 * size))]


def test_unrelated_articles_stay_one_group_in_article_order():
    counts = [{f"w:a{k}": 1.0} for k in range(4)]
    # Three and more: split into nothing that could be an event, so kept whole, sorted.
    assert split(counts, [3, 0, 2]) == [[0, 2, 3]]
    # Fewer than three are not split at all: as they came.
    assert split(counts, [3, 1]) == [[3, 1]]


def test_a_group_of_one_event_comes_back_in_the_order_it_was_linked():
    counts = [{**TOPIC, **LAUNCH}] * 3
    assert split(counts, [2, 0, 1]) == [[2, 0, 1]]


def test_the_biggest_group_split_is_split_and_a_bigger_one_is_not():
    unit = sparse.identity(SPLIT_MAX_GROUP + 1, format="csr")
    matrix = TermMatrix([], np.zeros(0), np.zeros(0), unit, unit, np.zeros(0, dtype="<U1"))
    stories = [None] * (SPLIT_MAX_GROUP + 1)
    batch = TermsBatch.of([ArticleTerms({}, frozenset(), frozenset())] * (SPLIT_MAX_GROUP + 1))
    # Unrelated articles: split into parts of one, which are no events: whole, sorted.
    largest = list(reversed(range(SPLIT_MAX_GROUP)))
    assert split_lookalikes(largest, matrix, batch, stories, RULES) == [sorted(largest)]
    bigger = list(reversed(range(SPLIT_MAX_GROUP + 1)))
    assert split_lookalikes(bigger, matrix, batch, stories, RULES) == [bigger]


def test_an_outlier_goes_to_the_best_mean_not_the_biggest_sum():
    first, second = list(range(4)), list(range(4, 9))
    outlier = 9
    cosines = np.eye(10)
    cosines[outlier, first] = cosines[first, outlier] = 0.5  # mean 0.5, sum 2.0
    cosines[outlier, second] = cosines[second, outlier] = 0.35  # mean 0.35, sum 1.75
    holdings = [{"n:alpha": 1.0}] * 4 + [{"n:beta": 1.0}] * 5 + [{"n:alpha": 1.0, "n:beta": 1.0}]
    events = _rejoin_outliers([first, second, [outlier]], cosines, holdings, RULES)
    assert events == [[*first, outlier], second]


def test_an_outlier_naming_no_subject_is_discounted_not_set_to_the_factor():
    first, second = list(range(4)), list(range(4, 8))
    outlier = 8
    cosines = np.eye(9)
    cosines[outlier, first] = 0.2
    cosines[outlier, second] = 0.4
    holdings = [{"n:alpha": 1.0}] * 4 + [{"n:beta": 1.0}] * 4 + [{"w:other": 1.0}]
    assert RULES.subject_conflict_factor * 0.4 != RULES.subject_conflict_factor
    events = _rejoin_outliers([first, second, [outlier]], cosines, holdings, RULES)
    assert events == [first, [*second, outlier]]


def test_own_facts_count_the_shares_at_their_bounds():
    holdings = [{"n:alpha": 1.0}, {"n:alpha": 1.0}, {"w:x": 1.0}, {"w:x": 1.0}]
    holdings += [{"n:alpha": 1.0}, {}, {}, {}]
    part, members = [0, 1, 2, 3], list(range(8))
    # In 2 of 4 (share 0.5) and in 1 of the 4 others (0.25): both bounds hold.
    assert _own_facts(part, members, holdings, "n", 0.5, 0.25) == {"n:alpha"}
    assert _own_facts(part, members, holdings, "n", 0.75, 0.25) == set()
    assert _own_facts(part, members, holdings, "n", 0.5, 0.2) == set()


def test_a_name_is_named_as_itself_or_by_all_its_words():
    assert _names({"n:kushiro": 1.0}, "n:kushiro")
    assert _names({"w:jamal": 1.0, "w:williams": 1.0}, "n:jamal williams")
    assert not _names({"w:jamal": 1.0}, "n:jamal williams")
