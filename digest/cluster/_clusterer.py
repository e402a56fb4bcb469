"""Group articles that report the same event.

1. Exact duplicates (one canonical URL) are one article; the runner guarantees that. Exact
   copies at other URLs (the same headline and text) are clustered once, and join the
   cluster of the first. Near copies (a wire story many outlets carry, with a few words
   changed: cluster/_copies.py) are clustered as any article, then the clusters that
   hold one set of them are made one.
2. Each article becomes a TF-IDF vector over words, names and figures (`article_terms`), with
   IDF taken over the whole batch, so what every story says (the company, "AI") weighs
   little and what only a few say (a person, a figure) weighs a lot.
3. Candidate pairs come from an inverted index over each article's distinctive terms: only
   articles that share one are compared, never all pairs.
4. A pair's similarity is the cosine of their vectors, halved unless they share at least
   min_shared_facts names or figures (two launches by one company share the topic and the
   company, not the product name and the price); quartered when each headline's most
   specific name (the rarest in the batch) is missing from the other article ("iPad Pro"
   against "MacBook Air": same company, same chip, another story; across languages a name
   whose every word, or one that begins alike, the other article's names write counts as
   named); and halved when
   published more than MAX_HOURS_APART apart.
5. Average-link agglomeration merges groups while their mean pairwise similarity, less
   size_margin / sqrt(the number of pairs the mean is over), is at least merge_at: a mean
   over few pairs must be higher, since one shared name lifts a single pair, while two big
   groups that cover one event join on a hundred low pairs. Unlike single-link, one
   bridging article cannot chain two events.
6. Each group of three or more is clustered again with IDF taken inside the group (at
   split_at): the names every member shares (the topic) then weigh little, and look-alike
   events fall apart on the names and figures only one of them has. A part is an event only
   with min_event_part articles and a name or figure of its own (event_fact_share); other
   parts are outliers, and their articles rejoin the event part they match best inside the
   group, so the split can be strict without shedding a story's odd sources. An outlier
   that never names an event's subject (event_subject_share) matches it at
   subject_conflict_factor: the headline-subject rule of step 4, inside the group.
   Each event is then split again at headline_split_at, where parts of headline_event_part
   articles are events when they also lead with a name of their own, and loses its strays
   (stray_shared_facts): cluster/_lookalikes.py.

The names in lower case are the fitted `Thresholds` (cluster/_thresholds.py), those in
capitals fixed constants there.

Articles of an already delivered story keep their story id; a new article that joins one is
attached to it (not sent again), and two delivered stories are never merged.
"""

from __future__ import annotations

import logging
import math
import multiprocessing
import re
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import replace
from urllib.parse import urlsplit

import numpy as np
from scipy import sparse

from ..models import Article, Cluster
from ._copies import near_copies
from ._linkage import ScoredPairs, average_link
from ._lookalikes import headline_subjects, split_lookalikes, without_strays
from ._pairing import candidate_pairs
from ._terms.batch import TermsBatch, batch_terms, heap_frozen, pool_size
from ._terms.features import base_language
from ._thresholds import (
    BACKGROUND_ARTICLES,
    FAR_APART_FACTOR,
    INDEX_TERMS,
    MAX_HOURS_APART,
    MAX_POSTING,
    MAX_POSTING_FACTS,
    MIN_SHARED_INDEX,
    Thresholds,
    shipped_thresholds,
)
from ._vectors import TermMatrix, holds, row_dots, term_matrix
from ._why import why_grouped

log = logging.getLogger("digest")

# From this many articles on, half of the linked groups are split and given their "why
# grouped" in a forked process while this one does the other half (fork only: the child
# inherits the batch). Below it the fork costs about what it saves (bench/pipeline_bench.py).
EVENTS_POOL_MIN_ARTICLES = 10_000


def cluster_articles(
    articles: Sequence[Article],
    terms: TermsBatch | None = None,
    workers: int | None = None,
    step_seconds: dict[str, float] | None = None,
    start_method: str = "fork",
    thresholds: Thresholds | None = None,
) -> list[Cluster]:
    """Group `articles` into events. Order: clusters by first appearance in the input.

    `terms`, when given, are the articles' terms (`batch_terms`, computed once by a caller
    that also joins delivered stories); otherwise they are computed here. `workers`:
    processes for a big batch's terms, and for half of its in-group splits (None: one per
    core; 0 or 1: none), started by `start_method` (see `batch_terms`; the splits are done
    in a worker only with fork, which needs nothing sent to it); the clusters are the same
    either way. `step_seconds`, when given, gets the wall seconds of each step (terms,
    matrix, pairs, linkage, split+why, copies), as bench/pipeline_bench.py --cluster prints them.
    `thresholds`: the shipped ones unless given (bench/fit_cluster.py fits them).
    """
    if not articles:
        return []
    clock = _StepClock(step_seconds)
    if terms is None:
        terms = batch_terms(
            [(a.title, a.text, a.language) for a in articles], workers, start_method
        )
    clock.lap("terms")
    # Exact copies are clustered once, each then joining its first: copies share every
    # term, and past MAX_POSTING articles a term finds no candidates, so 51 copies of one
    # nameless story (a feed repeating it) were 51 items.
    copies = _exact_copies(articles)
    kept = [i for i in range(len(articles)) if i not in copies]
    distinct = [articles[i] for i in kept] if copies else articles
    distinct_terms = terms.rows(kept) if copies else terms
    clusters, kinds = _clustered(distinct, distinct_terms, workers, clock, start_method, thresholds)
    # Near copies (a wire story with a few words changed) are clustered as any article, so
    # that they count in their event's in-group split; those the candidate caps kept apart
    # (700 copies of one story were 500 items) are joined after.
    near = near_copies(distinct_terms, [a.story_id for a in distinct], kinds)
    if near:
        clusters = _joined(clusters, distinct, near, distinct_terms)
    clock.lap("copies")
    return _with_copies(clusters, articles, copies, terms) if copies else clusters


def _joined(
    clusters: list[Cluster],
    articles: Sequence[Article],
    copies: dict[int, int],
    terms: TermsBatch,
) -> list[Cluster]:
    """`clusters` with those that hold one set of near `copies` (copy: its first, indexes in
    `articles`) made one, in the order of their first article, the "why grouped" of each
    merged one taken again. Two delivered stories are never made one."""
    of_article = {
        id(a): number for number, cluster in enumerate(clusters) for a in cluster.articles
    }
    parent = list(range(len(clusters)))

    def root(number: int) -> int:
        while parent[number] != number:
            parent[number] = parent[parent[number]]
            number = parent[number]
        return number

    story = [cluster.story_id for cluster in clusters]
    for copy, first in copies.items():
        low, high = sorted(
            (root(of_article[id(articles[first])]), root(of_article[id(articles[copy])]))
        )
        if low == high or (story[low] and story[high] and story[low] != story[high]):
            continue
        parent[high] = low
        story[low] = story[low] or story[high]
    if all(root(number) == number for number in range(len(clusters))):
        return clusters
    position = {id(article): number for number, article in enumerate(articles)}
    merged: dict[int, list[Article]] = defaultdict(list)
    for number, cluster in enumerate(clusters):
        merged[root(number)].extend(cluster.articles)
    result, gained = [], []
    for number in sorted(merged, key=lambda n: min(position[id(a)] for a in merged[n])):
        members = sorted(merged[number], key=lambda article: position[id(article)])
        if len(members) > len(clusters[number].articles):
            gained.append(len(result))
        result.append(replace(clusters[number], articles=tuple(members), story_id=story[number]))
    return _why_again(result, gained, terms, position)


def _clustered(
    articles: Sequence[Article],
    terms: TermsBatch,
    workers: int | None,
    clock: _StepClock,
    start_method: str,
    thresholds: Thresholds | None,
) -> tuple[list[Cluster], np.ndarray]:
    """cluster_articles for articles none of which copies another; and the kind of each
    column of `terms` (TermMatrix.kinds), which near copies ask for."""
    limits = thresholds or shipped_thresholds()
    matrix = term_matrix(terms, BACKGROUND_ARTICLES)
    clock.lap("matrix")
    pairs = _scored_pairs(articles, terms, matrix, limits)
    clock.lap("pairs")
    story_ids = [a.story_id for a in articles]
    linked = average_link(len(articles), pairs, story_ids, limits.merge_at, limits.size_margin)
    clock.lap("linkage")
    forked = (
        start_method == "fork"
        and len(articles) >= EVENTS_POOL_MIN_ARTICLES
        and pool_size(workers, start_method) >= 2
    )
    events = _events_forked(linked, matrix, terms, story_ids, limits) if forked else None
    if events is None:
        events = _events(linked, matrix, terms, story_ids, limits)
    clock.lap("split+why")
    clusters = []
    for members, why in events:
        story_ids = {articles[i].story_id for i in members} - {None}
        clusters.append(
            Cluster(
                articles=tuple(articles[i] for i in sorted(members)),
                story_id=next(iter(story_ids)) if story_ids else None,
                why=why,
            )
        )
    return clusters, matrix.kinds


def _exact_copies(articles: Sequence[Article]) -> dict[int, int]:
    """{copy's index: the index of the first article it copies}: the same headline (case
    and white space aside) and text (white space aside), among articles of no delivered
    story. Texts are normalised only under a headline that another article shares too:
    most headlines are their own, and normalising every text was most of this step's time
    on a big batch."""
    by_headline: dict[str, list[int]] = defaultdict(list)
    for index, article in enumerate(articles):
        if article.story_id is None:
            by_headline[" ".join(article.title.casefold().split())].append(index)
    copies: dict[int, int] = {}
    for indexes in by_headline.values():
        if len(indexes) < 2:
            continue
        first: dict[str, int] = {}
        for index in indexes:
            copies_of = first.setdefault(" ".join(articles[index].text.split()), index)
            if copies_of != index:
                copies[index] = copies_of
    return copies


def _with_copies(
    clusters: list[Cluster],
    articles: Sequence[Article],
    copies: dict[int, int],
    terms: TermsBatch,
) -> list[Cluster]:
    """`clusters` of the articles that copy none, each with the copies of its articles, in
    the input's order; the "why grouped" of those that gained copies taken again over all
    their members (`terms`: of `articles`), as if the copies had been clustered too."""
    joining: dict[int, list[Article]] = defaultdict(list)  # by the first's object id
    for copy, first in copies.items():
        joining[id(articles[first])].append(articles[copy])
    position = {id(article): number for number, article in enumerate(articles)}
    result, gained = [], []
    for cluster in clusters:
        members = [*cluster.articles, *(c for a in cluster.articles for c in joining[id(a)])]
        if len(members) > len(cluster.articles):
            gained.append(len(result))
        members.sort(key=lambda article: position[id(article)])
        result.append(replace(cluster, articles=tuple(members)))
    return _why_again(result, gained, terms, position)


def _why_again(
    clusters: list[Cluster], gained: list[int], terms: TermsBatch, position: dict[int, int]
) -> list[Cluster]:
    """`clusters`, those numbered in `gained` with their "why grouped" taken again over all
    their members (`position`: each article's row in `terms`, by object id)."""
    if gained:
        holders = np.bincount(terms.columns, minlength=len(terms.vocabulary))
        rows = [[position[id(a)] for a in clusters[number].articles] for number in gained]
        for number, why in zip(gained, why_grouped(terms, rows, holders), strict=True):
            clusters[number] = replace(clusters[number], why=why)
    return clusters


Event = tuple[list[int], tuple[str, ...]]  # an event's rows, and its "why grouped"


def _events(
    linked: Sequence[list[int]],
    matrix: TermMatrix,
    terms: TermsBatch,
    story_ids: Sequence[int | None],
    limits: Thresholds,
) -> list[Event]:
    """The events of the `linked` groups (`split_lookalikes`, `without_strays`), in order of their
    first article, each with its "why grouped" (why_grouped; a group's depends on it alone)."""
    groups = [
        event
        for group in linked
        for event in split_lookalikes(group, matrix, terms, story_ids, limits)
    ]
    groups = without_strays(groups, matrix, terms, story_ids, limits)
    groups.sort(key=min)
    return list(zip(groups, why_grouped(terms, groups, matrix.holders), strict=True))


def _events_forked(
    linked: Sequence[list[int]],
    matrix: TermMatrix,
    terms: TermsBatch,
    story_ids: Sequence[int | None],
    limits: Thresholds,
) -> list[Event] | None:
    """_events, half of the groups done in a forked process; None when it could not start.

    The child has the batch already (fork shares the caller's memory) and is sent only its
    groups' rows. The groups are dealt out by size, biggest first, so that each half has as
    many of the big ones, whose split costs most."""
    by_size = sorted(linked, key=len, reverse=True)
    ours, theirs = by_size[0::2], by_size[1::2]
    try:
        pool = ProcessPoolExecutor(
            1,
            mp_context=multiprocessing.get_context("fork"),
            initializer=_inherit_batch,
            initargs=(matrix, terms, story_ids, limits),
        )
    except (OSError, RuntimeError) as error:
        log.warning("split worker failed (%s); splitting the groups in this process", error)
        return None
    with pool:
        try:
            with heap_frozen():
                child = pool.submit(_inherited_events, theirs)
        except (BrokenProcessPool, OSError, RuntimeError) as error:
            log.warning("split worker failed (%s); splitting the groups in this process", error)
            return None
        events = _events(ours, matrix, terms, story_ids, limits)
        try:
            events += child.result()
        except (BrokenProcessPool, OSError) as error:  # the child died: its half done here
            log.warning("split worker failed (%s); splitting its groups in this process", error)
            events += _events(theirs, matrix, terms, story_ids, limits)
    events.sort(key=lambda event: min(event[0]))
    return events


# In a forked split worker only: the batch it inherited (_inherit_batch).
_inherited_batch: tuple[TermMatrix, TermsBatch, Sequence[int | None], Thresholds] | None = None


def _inherit_batch(
    matrix: TermMatrix, terms: TermsBatch, story_ids: Sequence[int | None], limits: Thresholds
) -> None:
    global _inherited_batch
    _inherited_batch = (matrix, terms, story_ids, limits)


def _inherited_events(linked: Sequence[list[int]]) -> list[Event]:
    assert _inherited_batch is not None  # set by the pool's initializer
    return _events(linked, *_inherited_batch)


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
    thresholds: Thresholds | None = None,
) -> tuple[dict[int, int], list[Article]]:
    """Attach late reports to stories already delivered, before new stories are formed.

    Returns ({pending article id: story id}, the pending articles that joined none). Only
    pending-against-delivered pairs are scored (delivered stories are never clustered
    again), and a late article joins the story whose articles it matches best on average,
    less the size margin of `average_link` for a mean over that many pairs (at least
    merge_at), even when another late article matches it better: a story the
    reader has already had wins over a new pairing of late reports. A near copy of a
    delivered article (cluster/_copies.py) joins its story. `terms`, when given, are the
    terms (`batch_terms`) of pending then delivered articles, in that order.
    """
    stories: dict[int, list[int]] = defaultdict(list)
    for index, article in enumerate(delivered):
        if article.story_id is not None:
            stories[article.story_id].append(len(pending) + index)
    if not pending or not stories:
        return {}, list(pending)
    limits = thresholds or shipped_thresholds()
    articles = [*pending, *delivered]
    if terms is None:
        terms = batch_terms([(a.title, a.text, a.language) for a in articles])
    matrix = term_matrix(terms, BACKGROUND_ARTICLES)
    count = len(pending)
    pairs = _scored_pairs(articles, terms, matrix, limits, lambda a, b: (a < count) != (b < count))
    summed: dict[int, dict[int, float]] = defaultdict(lambda: defaultdict(float))
    for left, right, similarity in zip(
        pairs.left.tolist(), pairs.right.tolist(), pairs.similarity.tolist(), strict=True
    ):
        late, known = (left, right) if left < count else (right, left)
        story = articles[known].story_id
        if story is not None:
            summed[late][story] += similarity

    def score(story: int, total: float) -> float:  # as average_link weighs a mean
        told_by = len(stories[story])
        return total / told_by - limits.size_margin / math.sqrt(told_by)

    joined: dict[int, int] = {}
    for late, by_story in summed.items():
        best, story = max((score(story, total), -story) for story, total in by_story.items())
        if best >= limits.merge_at:
            joined[pending[late].id] = -story
    # A near copy of a delivered article joins its story whatever the pairs said: past the
    # candidate caps a copy finds no pairs, and 700 late copies of a story were sent again.
    sets: dict[int, list[int]] = defaultdict(list)
    for row, first in near_copies(terms, [None] * len(articles), matrix.kinds).items():
        sets[first].append(row)
    for first, rows in sets.items():
        told = {articles[row].story_id for row in (first, *rows) if row >= count} - {None}
        if len(told) == 1:
            (story,) = told
            for row in (first, *rows):
                if row < count:
                    joined.setdefault(pending[row].id, story)
    return joined, [a for a in pending if a.id not in joined]


def _scored_pairs(
    articles: Sequence[Article],
    terms: TermsBatch,
    matrix: TermMatrix,
    limits: Thresholds,
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
    similarity = pair_similarities(articles, terms, matrix, left, right, limits)
    scored = similarity > 0
    return ScoredPairs(left[scored], right[scored], similarity[scored])


def pair_similarities(
    articles: Sequence[Article],
    terms: TermsBatch,
    matrix: TermMatrix,
    left: np.ndarray,
    right: np.ndarray,
    limits: Thresholds,
) -> np.ndarray:
    """The similarity of each pair (left[k], right[k]): the cosine of their vectors,
    discounted as the module's docstring (step 4) says."""
    unit = matrix.unit
    similarity = row_dots(unit, unit, left, right)
    # Names and figures shared, counting only those rarer than distinctive_idf.
    distinctive = (matrix.kinds != "w") & (matrix.idf > limits.distinctive_idf)
    # (copies of the index arrays: eliminate_zeros rewrites them in place)
    facts = sparse.csr_matrix(
        (distinctive[unit.indices].astype(np.float64), unit.indices.copy(), unit.indptr.copy()),
        shape=unit.shape,
    )
    facts.eliminate_zeros()
    shared = row_dots(facts, facts, left, right)
    similarity[shared < limits.min_shared_facts] *= limits.no_facts_factor
    # Each headline's rarest name missing from the other article. A one-sentence article
    # (a brief, or a feed entry whose page failed) names the event's main actor and little
    # else, so its silence on a headline's rarest name is no conflict. An article in another
    # language may write the name translated ("Californie"): there its names need only write
    # each of the name's words, or one that begins as it does (`_named_in_translation`), and
    # since each side's silence is needed, "Sulphur Canyon Fire" against the French
    # "l'incendie de Sulphur Canyon" is no conflict when the French headline names "Sulphur
    # Canyon".
    # Two briefs of one outlet are open to it: an outlet that wrote two one-sentence items
    # told two stories unless they name one subject, and its briefs lead alike ("O
    # Presidente dos Estados Unidos, Donald Trump, ..."), wording and names enough for a pair.
    # One outlet: one feed and one site (an aggregator's feed carries many outlets' links).
    subject = headline_subjects(terms, matrix)
    open_to_conflict = (subject >= 0) & ~terms.brief
    briefs = (subject >= 0) & terms.brief
    open_pairs = open_to_conflict[left] & open_to_conflict[right]
    brief_pairs = briefs[left] & briefs[right]
    if brief_pairs.any():  # each brief's outlet, for the briefs only: not a batch's every URL
        outlets: dict[tuple[str, str | None], int] = {}
        outlet = np.full(len(articles), -1, dtype=np.int64)
        for row in np.flatnonzero(briefs).tolist():
            key = (articles[row].feed, urlsplit(articles[row].url).hostname)
            outlet[row] = outlets.setdefault(key, len(outlets))
        open_pairs |= brief_pairs & (outlet[left] == outlet[right])
    both = np.flatnonzero(open_pairs)
    if len(both):
        lefts, rights = left[both], right[both]
        missing = ~holds(unit, rights, subject[lefts]) & ~holds(unit, lefts, subject[rights])
        across = np.flatnonzero(missing & ~_same_language(articles, lefts, rights))
        if len(across):
            named = _named_in_translation(terms, matrix)
            missing[across] = [
                not named(int(rights[k]), int(subject[lefts[k]]))
                and not named(int(lefts[k]), int(subject[rights[k]]))
                for k in across.tolist()
            ]
        similarity[both[missing]] *= limits.subject_conflict_factor
    hours = np.array([a.published.timestamp() / 3600 for a in articles], dtype=np.float64)
    similarity[np.abs(hours[left] - hours[right]) > MAX_HOURS_APART] *= FAR_APART_FACTOR
    return similarity


def _same_language(articles: Sequence[Article], left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Per pair, True unless both articles' languages are known and differ."""
    codes: dict[str, int] = {}
    bases = [base_language(a.language) for a in articles]
    language = np.array(
        [codes.setdefault(base, len(codes)) if base else -1 for base in bases], dtype=np.int64
    )
    unknown = (language[left] < 0) | (language[right] < 0)
    return unknown | (language[left] == language[right])


# A word of a headline's name and a word of a name in another language's article are taken
# for one when they begin alike for this many letters ("Californie", "California").
TRANSLATED_PREFIX = 5
_NAME_TOKEN = re.compile(r"[^\W_]+")


def _named_in_translation(terms: TermsBatch, matrix: TermMatrix) -> Callable[[int, int], bool]:
    """named(row, column): whether the names of article `row` write every word of the name
    in `column`: each of its words of four letters or more, or one that begins with the
    same TRANSLATED_PREFIX letters, and each of its numbered words as it is ("Tab S10" is
    not named by "Galaxy Watch 8"). A name with no such word is not named."""
    vocabulary, unit, is_name = terms.vocabulary, matrix.unit, matrix.kinds == "n"
    words_of_column: dict[int, tuple[frozenset[str], frozenset[str]]] = {}
    names_of_row: dict[int, tuple[set[str], set[str]]] = {}

    def words(column: int) -> tuple[frozenset[str], frozenset[str]]:
        """(words of four letters or more, numbered words) of a name's column."""
        if column not in words_of_column:
            tokens = _NAME_TOKEN.findall(vocabulary[column][2:])
            numbered = frozenset(t for t in tokens if any(c.isdigit() for c in t))
            long = frozenset(t for t in tokens if len(t) >= 4 and t not in numbered)
            words_of_column[column] = (long, numbered)
        return words_of_column[column]

    def names(row: int) -> tuple[set[str], set[str]]:
        """(the words, their prefixes) of the names article `row` holds."""
        if row not in names_of_row:
            held = unit.indices[unit.indptr[row] : unit.indptr[row + 1]]
            found: set[str] = set()
            for column in held[is_name[held]].tolist():
                long, numbered = words(column)
                found |= long | numbered
            names_of_row[row] = (found, {w[:TRANSLATED_PREFIX] for w in found})
        return names_of_row[row]

    def named(row: int, column: int) -> bool:
        long, numbered = words(column)
        if not long and not numbered:
            return False
        found, prefixes = names(row)
        return numbered <= found and all(
            word in found
            or (len(word) >= TRANSLATED_PREFIX and word[:TRANSLATED_PREFIX] in prefixes)
            for word in long
        )

    return named
