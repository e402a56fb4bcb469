"""The in-group split: one linked group clustered again with IDF taken inside the group.

Step 6 of the clusterer's docstring. Two look-alike events (two launches by one company, two
quakes in one region) share the topic's names, which the batch IDF still rates as rare.
Inside their group those names are in every member and weigh little, so what remains is
what tells the events apart: the other names, places and figures. A group of one event keeps
what its members share beyond the topic and stays whole. Each event is then split again at a
higher level, for small look-alike events that lead with names of their own
(`_own_headline_name`), and loses its strays (`without_strays`). Thresholds:
cluster/_thresholds.py.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from ._linkage import ScoredPairs, average_link
from ._terms.batch import TermsBatch, row_positions
from ._terms.words import words_in
from ._thresholds import SPLIT_BACKGROUND, SPLIT_MAX_GROUP, Thresholds, shipped_thresholds
from ._vectors import TermMatrix


def split_lookalikes(
    group: list[int],
    matrix: TermMatrix,
    terms: TermsBatch,
    story_ids: Sequence[int | None],
    thresholds: Thresholds | None = None,
) -> list[list[int]]:
    """The events of one linked group (rows of the batch): the group whole, or its parts
    (see the module's docstring)."""
    limits = thresholds or shipped_thresholds()
    if len(group) < 3 or len(group) > SPLIT_MAX_GROUP:
        return [group]
    cosines = _local_cosines(matrix.unit, group)
    events = _split(group, cosines, terms, story_ids, limits, limits.split_at, None)
    headlines = _headlines(terms)
    split_again = []
    for event in events:
        parts = [event]
        if len(event) >= 2 * limits.headline_event_part and _may_lead_apart(
            event, headlines, limits.headline_event_part
        ):
            # A group that stayed whole has the cosines already (IDF inside the same members).
            local = _reordered(cosines, group, event) if len(events) == 1 else None
            parts = _split(
                event,
                local if local is not None else _local_cosines(matrix.unit, event),
                terms,
                story_ids,
                limits,
                limits.headline_split_at,
                headlines,
            )
        split_again.extend(parts if len(parts) >= 2 else [event])
    return split_again


def without_strays(
    events: list[list[int]],
    matrix: TermMatrix,
    terms: TermsBatch,
    story_ids: Sequence[int | None],
    thresholds: Thresholds | None = None,
) -> list[list[int]]:
    """`events` (rows of the batch), each less its strays, which become events of their
    own. A stray tells of something else that names the event's actors:
    - it shares at most stray_shared_facts names and figures with all the other articles
      of its event together, and has one of its own: a brief on a retailer's new store
      names the retailer whose data breach the event is (`_sharing_little`);
    - or, in an event of four or more whose other articles all give one figure, it shares
      no figure with them and its headline's subject (its rarest name) is in none of them:
      a cloud provider's own chip, "Stratus", beside a chipmaker's quarterly results that
      name the provider as a customer (`_off_subject`).
    An article already delivered stays: its story is the event's; so does a one-sentence
    article (a brief, a feed entry whose page failed), which names the event's main actor
    and little else, as the pair rules exempt it from the headline-subject conflict. One
    pass over every event of three or more; stray_shared_facts below 0 turns strays off."""
    limits = thresholds or shipped_thresholds()
    judged = [number for number, event in enumerate(events) if len(event) >= 3]
    if limits.stray_shared_facts < 0 or not judged:
        return events
    facts = _EventFacts.of([events[number] for number in judged], matrix)
    if facts is None:  # no name or figure at all: nothing to share, nothing of its own
        return events
    stray = _sharing_little(facts, limits.stray_shared_facts) | _off_subject(
        facts, headline_subjects(terms, matrix, facts.members)
    )
    delivered = np.array([story_ids[i] is not None for i in facts.members.tolist()])
    stray &= ~delivered & ~terms.brief[facts.members]
    staying = np.bincount(facts.event_of, weights=~stray, minlength=len(judged))
    leaving = np.bincount(facts.event_of, weights=stray, minlength=len(judged))
    torn = {judged[k] for k in np.flatnonzero((leaving > 0) & (staying >= 2)).tolist()}
    if not torn:
        return events
    strays = set(facts.members[stray].tolist())
    result = []
    for number, event in enumerate(events):
        if number not in torn:
            result.append(event)
            continue
        result.append([i for i in event if i not in strays])
        result.extend([i] for i in event if i in strays)
    return result


@dataclass(frozen=True)
class _EventFacts:
    """The names and figures of the articles of some events, one entry per (article,
    fact): `member_of[k]` holds fact `columns[k]`, and `holders[k]` articles of its event
    hold it (each article holds a term once). `members` are the articles (rows of the
    batch), event after event; `event_of[m]` is member m's event, `sizes[e]` event e's."""

    members: np.ndarray
    event_of: np.ndarray
    sizes: np.ndarray
    member_of: np.ndarray
    columns: np.ndarray
    holders: np.ndarray
    is_figure: np.ndarray
    # For looking up (event, column) pairs: their sorted keys and holders.
    keys: np.ndarray
    key_holders: np.ndarray
    width: int

    @classmethod
    def of(cls, events: list[list[int]], matrix: TermMatrix) -> _EventFacts | None:
        unit = matrix.unit
        members = np.fromiter((i for event in events for i in event), dtype=np.int64)
        sizes = np.array([len(event) for event in events])
        event_of = np.repeat(np.arange(len(events)), sizes)
        lengths = unit.indptr[members + 1] - unit.indptr[members]
        columns = unit.indices[row_positions(unit.indptr, members)]
        member_of = np.repeat(np.arange(len(members)), lengths)
        is_fact = matrix.kinds[columns] != "w"
        member_of, columns = member_of[is_fact], columns[is_fact]
        if not len(columns):
            return None
        width = unit.shape[1]
        keys, key_of, key_holders = np.unique(
            event_of[member_of] * np.int64(width) + columns,
            return_inverse=True,
            return_counts=True,
        )
        return cls(
            members, event_of, sizes, member_of, columns, key_holders[key_of],
            matrix.kinds[columns] == "x", keys, key_holders, width,
        )  # fmt: skip

    def per_member(self, cells: np.ndarray) -> np.ndarray:
        """How many of each member's facts are in `cells` (a mask over the entries)."""
        return np.bincount(self.member_of, weights=cells, minlength=len(self.members))

    def holders_of(self, columns: np.ndarray) -> np.ndarray:
        """Per member, how many articles of its event hold `columns[m]` (-1: none)."""
        wanted = self.event_of * np.int64(self.width) + columns
        found = np.minimum(np.searchsorted(self.keys, wanted), len(self.keys) - 1)
        held = (columns >= 0) & (self.keys[found] == wanted)
        return np.where(held, self.key_holders[found], 0)


def _sharing_little(facts: _EventFacts, most: int) -> np.ndarray:
    """Per member: it shares at most `most` facts with its event and has one of its own."""
    shared = facts.holders >= 2
    return (facts.per_member(shared) <= most) & (facts.per_member(~shared) >= 1)


def _off_subject(facts: _EventFacts, subject: np.ndarray) -> np.ndarray:
    """Per member: its event has four articles or more, every other one of which gives one
    figure; it gives none of their figures; and its headline's `subject` is its alone."""
    size = facts.sizes[facts.event_of]
    given_by_all_but_one = facts.is_figure & (facts.holders == size[facts.member_of] - 1)
    told_by_a_figure = np.zeros(len(facts.sizes), dtype=bool)
    told_by_a_figure[facts.event_of[facts.member_of[given_by_all_but_one]]] = True
    figures_shared = facts.per_member(facts.is_figure & (facts.holders >= 2))
    return (
        (size >= 4)
        & told_by_a_figure[facts.event_of]
        & (figures_shared == 0)
        & (facts.holders_of(subject) == 1)
    )


def headline_subjects(
    terms: TermsBatch, matrix: TermMatrix, rows: np.ndarray | None = None
) -> np.ndarray:
    """Per article (of `rows`, or of the batch), the column of the rarest name in its
    headline (the batch's IDF), or -1."""
    idf, vocabulary = matrix.idf.tolist(), terms.vocabulary
    columns, bounds = terms.title_columns.tolist(), terms.title_indptr.tolist()
    wanted = range(len(terms)) if rows is None else rows.tolist()
    subject = np.full(len(wanted), -1, dtype=np.int64)
    for number, row in enumerate(wanted):
        start, stop = bounds[row], bounds[row + 1]
        if start < stop:
            named = columns[start:stop]
            subject[number] = max(named, key=lambda column: (idf[column], vocabulary[column]))
    return subject


def _may_lead_apart(
    event: list[int], headlines: Callable[[int], frozenset[int]], part: int
) -> bool:
    """Whether two parts of `part` articles could each lead with a name of its own: two
    headline names, each in at least half of such a part, held by different articles."""
    needed = -(-part // 2)
    holders: dict[int, set[int]] = defaultdict(set)
    for index in event:
        for name in headlines(index):
            holders[name].add(index)
    common = [held for held in holders.values() if len(held) >= needed]
    return any(
        not first & second for number, first in enumerate(common) for second in common[number + 1 :]
    )


def _reordered(cosines: np.ndarray, group: Sequence[int], rows: Sequence[int]) -> np.ndarray:
    """The cosines of `group` (in its order) taken in the order of `rows`, its members."""
    position = {row: number for number, row in enumerate(group)}
    order = np.array([position[row] for row in rows], dtype=np.int64)
    return cosines[np.ix_(order, order)]


def _split(
    group: list[int],
    cosines: np.ndarray,
    terms: TermsBatch,
    story_ids: Sequence[int | None],
    limits: Thresholds,
    split_at: float,
    headlines: Callable[[int], frozenset[int]] | None,
) -> list[list[int]]:
    """`group` linked again at `split_at` on `cosines` (its members' cosines with IDF taken
    inside the group, in its order), and its parts judged by `_rejoin_outliers`: the
    events, or the group whole (in the order it linked when it linked as one part, else in
    article order). With `headlines` (each row's headline names) this is the headline
    split: its parts need headline_event_part articles and a headline name of their own
    (`_own_headline_name`)."""
    min_part = limits.min_event_part if headlines is None else limits.headline_event_part
    size = len(group)
    left, right = np.triu_indices(size, 1)
    pairs = ScoredPairs(left, right, cosines[left, right])
    parts = average_link(size, pairs, [story_ids[i] for i in group], split_at)
    if len(parts) == 1:
        return [[group[i] for i in parts[0]]]
    if sum(len(part) >= min_part for part in parts) < 2:
        # No two parts could be events (_rejoin_outliers): the group stays whole, and its
        # members' terms need not be looked up (most of the split's time on a big batch).
        return [sorted(group)]
    holdings = [terms.counted(i) for i in group]
    named = [headlines(i) for i in group] if headlines is not None else None
    events = _rejoin_outliers(parts, cosines, holdings, limits, min_part, named)
    if len(events) == 1 or _parts_a_story(events, [story_ids[i] for i in group]):
        return [sorted(group)]  # kept whole, in article order ("why" labels follow it)
    return [[group[i] for i in event] for event in events]


def _parts_a_story(events: list[list[int]], story_ids: Sequence[int | None]) -> bool:
    """Whether the articles of one delivered story (`story_ids`, by position) are in more
    than one of `events`: a story already sent stays one item."""
    event_of_story: dict[int, int] = {}
    for number, event in enumerate(events):
        for index in event:
            story = story_ids[index]
            if story is not None and event_of_story.setdefault(story, number) != number:
                return True
    return False


def _headlines(terms: TermsBatch) -> Callable[[int], frozenset[int]]:
    """headlines(row): the columns of the names in article `row`'s headline."""
    columns, bounds = terms.title_columns, terms.title_indptr

    def headline(row: int) -> frozenset[int]:
        return frozenset(columns[bounds[row] : bounds[row + 1]].tolist())

    return headline


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
    parts: list[list[int]],
    cosines: np.ndarray,
    holdings: Sequence[dict[str, float]],
    thresholds: Thresholds | None = None,
    min_part: int | None = None,
    headlines: Sequence[frozenset[int]] | None = None,
) -> list[list[int]]:
    """The events of a split group, each with its outliers.

    `parts` hold positions in the group; `cosines` are the members' cosines with IDF taken
    inside the group, and `holdings` each member's terms. A part is an event when it has
    min_event_part articles and a name or figure of its own (`_has_own_fact`); with fewer
    than two events the group stays whole. Every article of another part (an outlier, or
    wording a few outlets of one story share) joins the event it matches best on average,
    discounted where it never names the event's subject (`_own_facts` at
    event_subject_share). The cosines are the group's own: with batch vectors the topic's
    names, which both events share, would decide the match and send an outlier to whichever
    event says more about the topic. A group holds at most one delivered story
    (`average_link` never joins two), so no move can join two stories."""
    if len(parts) < 2:
        return parts
    limits = thresholds or shipped_thresholds()
    smallest = limits.min_event_part if min_part is None else min_part
    members = [index for part in parts for index in part]
    events = [
        list(part)
        for part in parts
        if len(part) >= smallest
        and _has_own_fact(part, members, holdings, limits)
        and (headlines is None or _own_headline_name(part, members, headlines))
    ]
    if len(events) < 2:
        return [sorted(members)]
    subjects = [
        _own_facts(
            event,
            members,
            holdings,
            "n",
            limits.event_subject_share,
            limits.event_subject_elsewhere,
        )
        for event in events
    ]
    placed = {index for event in events for index in event}
    moves = []
    for index in members:
        if index in placed:
            continue
        matches = [
            _match(cosines[index], holdings[index], event, subject, limits.subject_conflict_factor)
            for event, subject in zip(events, subjects, strict=True)
        ]
        moves.append((index, events[matches.index(max(matches))]))
    for index, event in moves:
        event.append(index)
    return events


def _match(
    cosines: np.ndarray,
    holding: dict[str, float],
    event: Sequence[int],
    subject: set[str],
    conflict_factor: float,
) -> float:
    """How well an outlier fits `event`: its mean cosine (`cosines`, its row) to the
    event's articles, times `conflict_factor` when its terms (`holding`) name none of the
    event's `subject` names."""
    mean = float(cosines[list(event)].sum()) / len(event)
    if subject and not any(_names(holding, name) for name in subject):
        mean *= conflict_factor
    return mean


def _own_headline_name(
    part: Sequence[int], members: Sequence[int], headlines: Sequence[frozenset[int]]
) -> bool:
    """True when a name is in at least half of `part`'s headlines and in no headline of the
    group's other articles: what each of two look-alike events of one week leads with (the
    town a quake struck, the product launched), where their reports share the rest."""
    inside = set(part)
    elsewhere = set().union(*(headlines[i] for i in members if i not in inside))
    held = Counter(name for index in part for name in headlines[index])
    return any(count * 2 >= len(part) and name not in elsewhere for name, count in held.items())


def _has_own_fact(
    part: Sequence[int],
    members: Sequence[int],
    holdings: Sequence[dict[str, float]],
    limits: Thresholds,
) -> bool:
    """True when a name or figure is in at least event_fact_share of `part` and in at most
    event_fact_elsewhere of the group's other articles: the part's own subject, the way a new
    coach's name is in every story of his hiring and in none of his predecessor's."""
    share, elsewhere = limits.event_fact_share, limits.event_fact_elsewhere
    return bool(_own_facts(part, members, holdings, "nx", share, elsewhere))


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
