"""Group articles that report the same event.

1. Exact duplicates (one canonical URL) are one article; the runner guarantees that.
2. Each article becomes a TF-IDF vector over words, names and figures (features.py), with
   IDF taken over the whole batch, so what every story says (the company, "AI") weighs
   little and what only a few say (a person, a figure) weighs a lot.
3. Candidate pairs come from an inverted index over each article's distinctive terms: only
   articles that share one are compared, never all pairs.
4. A pair's similarity is the cosine of their vectors, halved unless they share at least
   MIN_SHARED_FACTS names or figures (two launches by one company share the topic and the
   company, not the product name and the price); quartered when each headline's most
   specific name (the rarest in the batch) is missing from the other article ("iPad Pro"
   against "MacBook Air": same company, same chip, another story); and halved when
   published more than MAX_HOURS_APART apart.
5. Average-link agglomeration merges groups while their mean pairwise similarity is at
   least MERGE_AT. Unlike single-link, one bridging article cannot chain two events.
6. Each group of three or more is clustered again with IDF taken inside the group (at
   SPLIT_AT): the names every member shares (the topic) then weigh little, and look-alike
   events fall apart on the names and figures only one of them has. A part is an event only
   with MIN_EVENT_PART articles and a name or figure of its own (EVENT_FACT_SHARE); other
   parts are outliers, and their articles rejoin the event part they match best inside the
   group, so the split can be strict without shedding a story's odd sources. An outlier
   that never names an event's subject (EVENT_SUBJECT_SHARE) matches it at
   SUBJECT_CONFLICT_FACTOR: the headline-subject rule of step 4, inside the group.

Articles of an already delivered story keep their story id; a new article that joins one is
attached to it (not sent again), and two delivered stories are never merged.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from itertools import pairwise

import numpy as np
from scipy import sparse

from .features import words_in
from .linkage import ScoredPairs, average_link
from .models import Article, Cluster
from .pairing import candidate_pairs
from .term_batch import TermsBatch, batch_terms, row_positions
from .vectors import TermMatrix, holds, row_dots, term_matrix
from .why import why_grouped

# All thresholds live here. Calibrated together on the demo corpus (rewrites of one event
# must merge; the iPad/MacBook and ECB/BoJ look-alikes must not: tests/test_cluster.py) and on
# ../shared/data/ecbplus/dev.jsonl with bench/cluster_quality.py: a grid over
# SUBJECT_CONFLICT_FACTOR (0.5, 0.35, 0.25, 0), MERGE_AT (0.06-0.16) and SPLIT_AT (0.02-0.06),
# keeping only settings with the demo exact, then MERGE_AT (0.06-0.10) x MIN_EVENT_PART (3-6) x
# SPLIT_AT (0.05-0.07). Fitting on either half of the ECB+ topics ((topic // 2) % 2) picks
# the same set (0.25 / 0.08 / 4 / 0.06; half 0 fitted 0.947, held-out 0.926, half 1 the
# reverse). A strong headline-subject
# penalty is what lets MERGE_AT be low (recall) while the iPad and MacBook launches stay
# apart; at 0.5 the demo needs MERGE_AT 0.16. Change them as a set and rerun both.
MERGE_AT = 0.08
MIN_SHARED_FACTS = 2
# A fact every article of the batch mentions ties nothing together: a shared name or figure
# counts towards MIN_SHARED_FACTS only above this IDF: held by fewer than about 60% of the
# batch's articles, BACKGROUND_ARTICLES counted in.
DISTINCTIVE_IDF = 1.5
NO_FACTS_FACTOR = 0.5
SUBJECT_CONFLICT_FACTOR = 0.25
MAX_HOURS_APART = 168.0  # as long as pipeline.JOIN_HORIZON keeps delivered stories joinable
FAR_APART_FACTOR = 0.5
# IDF is taken as if the batch held this many more articles mentioning none of its terms, so
# that in a small batch (five outlets on one story) shared names still count as specific.
BACKGROUND_ARTICLES = 200
INDEX_TERMS = 25  # distinctive terms per article put in the candidate index
MIN_SHARED_INDEX = 2  # indexed terms two articles must share to be compared
SPLIT_AT = 0.06
SPLIT_BACKGROUND = 10
# The in-group split peels off outliers (an article that also covers background) as well as
# look-alike events; a part of fewer than MIN_EVENT_PART articles is taken for an outlier and
# its articles rejoin the part they match best. Two look-alike events smaller than this are
# kept apart by the pair rules above (facts shared, headline subject), not by the split.
MIN_EVENT_PART = 4
# A part is an event of its own only with a name or figure of its own: one in at least
# EVENT_FACT_SHARE of its articles and at most EVENT_FACT_ELSEWHERE of the group's others.
# Without this, a story told by sixty outlets fell into three parts on the wording they
# happened to share in threes and fours. 0.55-0.6 x 0.2-0.3 score the same on ECB+ dev;
# at 0.65 and above real look-alikes (a part whose subject is in fewer of its stories) merge.
EVENT_FACT_SHARE = 0.6
EVENT_FACT_ELSEWHERE = 0.25
# An event's subject is a name in at least EVENT_SUBJECT_SHARE of its articles and at most
# EVENT_SUBJECT_ELSEWHERE of the group's others: "Peter Capaldi" in every story of his
# casting as the 12th Doctor. An outlier that never names it matches that event at
# SUBJECT_CONFLICT_FACTOR. The outliers are often one-sentence briefs, which the pair rules
# let in on the main actor alone (features.ArticleTerms.brief); on ECB+ dev two briefs on
# Matt Smith's casting as the 11th Doctor matched the Capaldi stories (which all mention
# Smith, as the man he replaces) a shade better than Smith's own, on shared wording.
# Calibrated on ECB+ dev (B-cubed F1 0.961 -> 0.967, look-alike pairs merged 2 -> 1; first
# half of the topics alone unchanged, second half 0.951 -> 0.965): shares 0.9-1.0 with
# elsewhere 0-0.25 all score the same and change those two placements only; at 0.8 with
# 0.25, or 0.7 with 0.1, a background name (the broadcaster) passes for a subject.
EVENT_SUBJECT_SHARE = 0.9
EVENT_SUBJECT_ELSEWHERE = 0.1
SPLIT_MAX_GROUP = 300
# A word in more articles than MAX_POSTING finds no candidates (too common to tell events
# apart); a name or figure may be in up to MAX_POSTING_FACTS, so that a story a few hundred
# outlets cover still meets through its names. Pairs enumerated grow with these, not with N.
MAX_POSTING = 50
MAX_POSTING_FACTS = 500


def cluster_articles(
    articles: Sequence[Article],
    terms: TermsBatch | None = None,
    workers: int | None = None,
    step_seconds: dict[str, float] | None = None,
) -> list[Cluster]:
    """Group `articles` into events. Order: clusters by first appearance in the input.

    `terms`, when given, are the articles' terms (`batch_terms`, computed once by a caller
    that also joins delivered stories); otherwise they are computed here. `workers`: forked
    processes for a big batch's terms (None: one per core; 0: none); the clusters are the
    same either way. `step_seconds`, when given, gets the wall seconds of each step (terms,
    matrix, pairs, linkage, split, why), as bench/pipeline_bench.py --cluster prints them.
    """
    if not articles:
        return []
    clock = _StepClock(step_seconds)
    if terms is None:
        terms = batch_terms([(a.title, a.text) for a in articles], workers)
    clock.lap("terms")
    matrix = term_matrix(terms, BACKGROUND_ARTICLES)
    clock.lap("matrix")
    pairs = _scored_pairs(articles, terms, matrix)
    clock.lap("pairs")
    story_ids = [a.story_id for a in articles]
    linked = average_link(len(articles), pairs, story_ids, MERGE_AT)
    clock.lap("linkage")
    groups = []
    for group in linked:
        groups.extend(_split_lookalikes(group, matrix, terms, story_ids))
    groups.sort(key=min)
    clock.lap("split")
    whys = why_grouped(terms, groups, matrix.holders)
    clock.lap("why")
    clusters = []
    for members, why in zip(groups, whys, strict=True):
        story_ids = {articles[i].story_id for i in members} - {None}
        clusters.append(
            Cluster(
                articles=tuple(articles[i] for i in sorted(members)),
                story_id=next(iter(story_ids)) if story_ids else None,
                why=why,
            )
        )
    return clusters


class _StepClock:
    """Adds each step's wall seconds to `seconds` (when there is one to fill)."""

    def __init__(self, seconds: dict[str, float] | None) -> None:
        self.seconds = seconds
        self.last = time.perf_counter()

    def lap(self, step: str) -> None:
        if self.seconds is not None:
            now = time.perf_counter()
            self.seconds[step] = self.seconds.get(step, 0.0) + now - self.last
            self.last = now


def join_delivered(
    pending: Sequence[Article],
    delivered: Sequence[Article],
    terms: TermsBatch | None = None,
) -> tuple[dict[int, int], list[Article]]:
    """Attach late reports to stories already delivered, before new stories are formed.

    Returns ({pending article id: story id}, the pending articles that joined none). Only
    pending-against-delivered pairs are scored (delivered stories are never clustered
    again), and a late article joins the story whose articles it matches best on average
    (at least MERGE_AT) even when another late article matches it better: a story the
    reader has already had wins over a new pairing of late reports. `terms`, when given,
    are the terms (`batch_terms`) of pending then delivered articles, in that order.
    """
    stories: dict[int, list[int]] = defaultdict(list)
    for index, article in enumerate(delivered):
        if article.story_id is not None:
            stories[article.story_id].append(len(pending) + index)
    if not pending or not stories:
        return {}, list(pending)
    articles = [*pending, *delivered]
    if terms is None:
        terms = batch_terms([(a.title, a.text) for a in articles])
    matrix = term_matrix(terms, BACKGROUND_ARTICLES)
    count = len(pending)
    pairs = _scored_pairs(articles, terms, matrix, lambda a, b: (a < count) != (b < count))
    summed: dict[int, dict[int, float]] = defaultdict(lambda: defaultdict(float))
    for left, right, similarity in zip(
        pairs.left.tolist(), pairs.right.tolist(), pairs.similarity.tolist(), strict=True
    ):
        late, known = (left, right) if left < count else (right, left)
        story = articles[known].story_id
        if story is not None:
            summed[late][story] += similarity
    joined: dict[int, int] = {}
    for late, by_story in summed.items():
        story, total = max(
            by_story.items(), key=lambda item: (item[1] / len(stories[item[0]]), -item[0])
        )
        if total / len(stories[story]) >= MERGE_AT:
            joined[pending[late].id] = story
    return joined, [a for a in pending if a.id not in joined]


def _scored_pairs(
    articles: Sequence[Article],
    terms: TermsBatch,
    matrix: TermMatrix,
    keep: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None,
) -> ScoredPairs:
    """The candidate pairs that score above 0, with their scores; `keep`, given the left
    and right arrays, says which candidates to score."""
    # Each article is indexed under its INDEX_TERMS heaviest terms (names and figures weigh
    # most), and only articles that share MIN_SHARED_INDEX of them are compared: the work
    # grows with articles x INDEX_TERMS x MAX_POSTING, never with all pairs. See MAX_POSTING:
    # a big story still meets through its names.
    left, right = candidate_pairs(
        matrix, INDEX_TERMS, MAX_POSTING, MAX_POSTING_FACTS, MIN_SHARED_INDEX
    )
    if keep is not None:
        wanted = keep(left, right)
        left, right = left[wanted], right[wanted]
    similarity = pair_similarities(articles, terms, matrix, left, right)
    scored = similarity > 0
    return ScoredPairs(left[scored], right[scored], similarity[scored])


def pair_similarities(
    articles: Sequence[Article],
    terms: TermsBatch,
    matrix: TermMatrix,
    left: np.ndarray,
    right: np.ndarray,
) -> np.ndarray:
    """The similarity of each pair (left[k], right[k]): the cosine of their vectors,
    discounted as the module's docstring (step 4) says."""
    unit = matrix.unit
    similarity = row_dots(unit, unit, left, right)
    # Names and figures shared, counting only those rarer than DISTINCTIVE_IDF.
    distinctive = (matrix.kinds != "w") & (matrix.idf > DISTINCTIVE_IDF)
    # (copies of the index arrays: eliminate_zeros rewrites them in place)
    facts = sparse.csr_matrix(
        (distinctive[unit.indices].astype(np.float64), unit.indices.copy(), unit.indptr.copy()),
        shape=unit.shape,
    )
    facts.eliminate_zeros()
    similarity[row_dots(facts, facts, left, right) < MIN_SHARED_FACTS] *= NO_FACTS_FACTOR
    # Each headline's rarest name missing from the other article. A one-sentence article
    # (a brief, or a feed entry whose page failed) names the event's main actor and little
    # else, so its silence on a headline's rarest name is no conflict (ECB+ dev: B-cubed F1
    # 0.958 -> 0.961, on the topics' second half 0.943 -> 0.951).
    subject = _subjects(terms, matrix)
    open_to_conflict = (subject >= 0) & ~terms.brief
    both = np.flatnonzero(open_to_conflict[left] & open_to_conflict[right])
    if len(both):
        lefts, rights = left[both], right[both]
        missing = ~holds(unit, rights, subject[lefts]) & ~holds(unit, lefts, subject[rights])
        similarity[both[missing]] *= SUBJECT_CONFLICT_FACTOR
    hours = np.array([a.published.timestamp() / 3600 for a in articles], dtype=np.float64)
    similarity[np.abs(hours[left] - hours[right]) > MAX_HOURS_APART] *= FAR_APART_FACTOR
    return similarity


def _subjects(terms: TermsBatch, matrix: TermMatrix) -> np.ndarray:
    """Per article, the column of the rarest name in its headline (the batch's IDF), or -1."""
    idf, vocabulary = matrix.idf.tolist(), terms.vocabulary
    columns, bounds = terms.title_columns.tolist(), terms.title_indptr.tolist()
    subject = np.full(len(terms), -1, dtype=np.int64)
    for row, (start, stop) in enumerate(pairwise(bounds)):
        if start < stop:
            named = columns[start:stop]
            subject[row] = max(named, key=lambda column: (idf[column], vocabulary[column]))
    return subject


def _split_lookalikes(
    group: list[int],
    matrix: TermMatrix,
    terms: TermsBatch,
    story_ids: Sequence[int | None],
) -> list[list[int]]:
    """Cluster one group again with IDF taken inside the group.

    Two look-alike events (two launches by one company, two quakes in one region) share the
    topic's names, which the batch IDF still rates as rare. Inside their group those names
    are in every member and weigh little, so what remains is what tells the events apart:
    the other names, places and figures. A group of one event keeps what its members share
    beyond the topic and stays whole.
    """
    if len(group) < 3 or len(group) > SPLIT_MAX_GROUP:
        return [group]
    size = len(group)
    cosines = _local_cosines(matrix.unit, group)
    left, right = np.triu_indices(size, 1)
    pairs = ScoredPairs(left, right, cosines[left, right])
    parts = average_link(size, pairs, [story_ids[i] for i in group], SPLIT_AT)
    if len(parts) >= 2 and sum(len(part) >= MIN_EVENT_PART for part in parts) < 2:
        # No two parts could be events (_rejoin_outliers): the group stays whole, and its
        # members' terms need not be looked up (most of the split's time on a big batch).
        return [sorted(group)]
    holdings = [terms.counted(i) for i in group] if len(parts) >= 2 else []
    events = _rejoin_outliers(parts, cosines, holdings)
    if len(parts) >= 2 and len(events) == 1:
        return [sorted(group)]  # kept whole, in article order ("why" labels follow it)
    return [[group[i] for i in event] for event in events]


# A group's local vectors are multiplied as a dense matrix (numpy, one call) unless that
# matrix would hold more cells than this; then as a sparse one.
DENSE_CELLS = 2_000_000


def _local_cosines(unit: sparse.csr_matrix, group: Sequence[int]) -> np.ndarray:
    """The cosines of `group`'s articles with IDF taken inside the group, as a matrix
    (position in `group` x position in `group`). Read straight from the batch matrix's
    arrays: a split group is often three articles, where building scipy objects cost more
    than the arithmetic."""
    size = len(group)
    positions = row_positions(unit.indptr, group)
    members = np.asarray(group, dtype=np.int64)
    lengths = unit.indptr[members + 1] - unit.indptr[members]
    ends = np.cumsum(lengths)
    rows = np.repeat(np.arange(size), lengths)
    # The group's own columns, and how many members hold each.
    _, columns, holders = np.unique(
        unit.indices[positions], return_inverse=True, return_counts=True
    )
    local_idf = np.log((size + SPLIT_BACKGROUND) / (holders + 0.5))
    weights = unit.data[positions] * local_idf[columns]
    norms = np.sqrt(np.bincount(rows, weights=weights * weights, minlength=size))
    norms[norms == 0] = 1.0
    weights /= norms[rows]
    if size * len(holders) <= DENSE_CELLS:
        dense = np.zeros((size, len(holders)))
        dense[rows, columns] = weights
        return dense @ dense.T
    indptr = np.concatenate([[0], ends])
    local = sparse.csr_matrix((weights, columns, indptr), shape=(size, len(holders)))
    return (local @ local.T).toarray()


def _rejoin_outliers(
    parts: list[list[int]], cosines: np.ndarray, holdings: Sequence[dict[str, float]]
) -> list[list[int]]:
    """The events of a split group, each with its outliers.

    `parts` hold positions in the group; `cosines` are the members' cosines with IDF taken
    inside the group, and `holdings` each member's terms. A part is an event when it has
    MIN_EVENT_PART articles and a name or figure of its own (`_has_own_fact`); with fewer
    than two events the group stays whole. Every article of another part (an outlier, or
    wording a few outlets of one story share) joins the event it matches best on average,
    discounted where it never names the event's subject (`_own_facts` at
    EVENT_SUBJECT_SHARE). The cosines are the group's own: with batch vectors the topic's
    names, which both events share, decided the match and outliers went to whichever event
    said more about the topic (on ECB+ this put one Endangered Species Act story and one
    Turkmen election story with the look-alike event). A group holds at most one delivered
    story (`average_link` never joins two), so no move can join two stories."""
    if len(parts) < 2:
        return parts
    members = [index for part in parts for index in part]
    events = [
        list(part)
        for part in parts
        if len(part) >= MIN_EVENT_PART and _has_own_fact(part, members, holdings)
    ]
    if len(events) < 2:
        return [sorted(members)]
    subjects = [
        _own_facts(event, members, holdings, "n", EVENT_SUBJECT_SHARE, EVENT_SUBJECT_ELSEWHERE)
        for event in events
    ]
    placed = {index for event in events for index in event}
    moves = []
    for index in members:
        if index in placed:
            continue
        matches = [
            _match(cosines[index], holdings[index], event, subject)
            for event, subject in zip(events, subjects, strict=True)
        ]
        moves.append((index, events[matches.index(max(matches))]))
    for index, event in moves:
        event.append(index)
    return events


def _match(
    cosines: np.ndarray, holding: dict[str, float], event: Sequence[int], subject: set[str]
) -> float:
    """How well an outlier fits `event`: its mean cosine (`cosines`, its row) to the
    event's articles, times SUBJECT_CONFLICT_FACTOR when its terms (`holding`) name none of
    the event's `subject` names."""
    mean = float(cosines[list(event)].sum()) / len(event)
    if subject and not any(_names(holding, name) for name in subject):
        mean *= SUBJECT_CONFLICT_FACTOR
    return mean


def _has_own_fact(
    part: Sequence[int], members: Sequence[int], holdings: Sequence[dict[str, float]]
) -> bool:
    """True when a name or figure is in at least EVENT_FACT_SHARE of `part` and in at most
    EVENT_FACT_ELSEWHERE of the group's other articles: the part's own subject, the way
    "Capaldi" is in every story of his casting and in none of Matt Smith's."""
    own = _own_facts(part, members, holdings, "nx", EVENT_FACT_SHARE, EVENT_FACT_ELSEWHERE)
    return bool(own)


def _own_facts(
    part: Sequence[int],
    members: Sequence[int],
    holdings: Sequence[dict[str, float]],
    kinds: str,
    share: float,
    elsewhere_share: float,
) -> set[str]:
    """The terms of `kinds` ("n" names, "x" figures) in at least `share` of `part` and in at
    most `elsewhere_share` of the group's (`members`) other articles."""
    inside = set(part)
    others = [index for index in members if index not in inside]
    held: Counter[str] = Counter()
    for index in part:
        held.update(term for term in holdings[index] if term[0] in kinds)
    elsewhere: Counter[str] = Counter()
    for index in others:
        elsewhere.update(term for term in holdings[index] if term[0] in kinds)
    return {
        term
        for term, count in held.items()
        if count >= share * len(part) and elsewhere[term] <= elsewhere_share * len(others)
    }


def _names(holding: dict[str, float], name: str) -> bool:
    """True when an article's terms (`holding`) name `name` ('n:jamal williams'): as that
    name, or with all its words, since a run of capitalised words glues neighbours onto a
    name ("Chargers NT Jamal Williams")."""
    if name in holding:
        return True
    words = words_in(name[2:])
    return bool(words) and all("w:" + word in holding for word in words)
