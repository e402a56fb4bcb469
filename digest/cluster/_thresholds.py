"""The thresholds of clustering (`cluster_articles`, `join_delivered` and the in-group
look-alike split).

The decision thresholds (`Thresholds`) are read from cluster_thresholds.json beside this
module, whose note says how they were made: bench/fit_cluster.py fits them on labelled news
(../shared/data/ecbplus and the look-alike sets of bench/data) and writes that file, and
bench/cluster_quality.py reports the cross-validated figures of the same fit. The constants
below them bound the work (candidate pairs, group sizes) or state what no labelled set here
can teach (publication times: the sets have none worth fitting on).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from functools import cache
from importlib import resources

THRESHOLDS_FILE = "cluster_thresholds.json"


@dataclass(frozen=True)
class Thresholds:
    """What makes two articles one event; the clusterer's docstring says where each acts."""

    # Average-link merges groups while their mean pair similarity, less
    # size_margin / sqrt(the number of pairs it is taken over), is at least merge_at: one
    # pair's similarity must clear merge_at + size_margin, two groups of ten merge_at + a
    # tenth of it (`average_link`; a late report joining a delivered story likewise).
    merge_at: float
    size_margin: float
    # Names or figures (each rarer than distinctive_idf) a pair must share, else its
    # similarity is multiplied by no_facts_factor: two launches by one company share the
    # company, not the product name and the price.
    min_shared_facts: int
    distinctive_idf: float
    no_facts_factor: float
    # Each headline's rarest name missing from the other article multiplies the similarity
    # by this (also an outlier's match to an event whose subject it never names).
    subject_conflict_factor: float
    # The in-group split links at this, with IDF taken inside the group.
    split_at: float
    # A part of the split is an event with this many articles and a name or figure of its
    # own: in event_fact_share of it, at most event_fact_elsewhere of the group's others.
    min_event_part: int
    event_fact_share: float
    event_fact_elsewhere: float
    # An event's subject: a name in event_subject_share of its articles and at most
    # event_subject_elsewhere of the others.
    event_subject_share: float
    event_subject_elsewhere: float
    # Each event is split again at headline_split_at (above split_at): parts of
    # headline_event_part articles are events when they also lead with a name of their own.
    headline_split_at: float
    headline_event_part: int
    # An article of an event of three or more that shares at most this many names and
    # figures with the event's other articles, and has one of its own, leaves it (-1: none).
    stray_shared_facts: int

    def to_json(self, note: str) -> str:
        return json.dumps({"note": note, "thresholds": asdict(self)}, indent=1) + "\n"

    @classmethod
    def from_json(cls, text: str) -> Thresholds:
        values = json.loads(text)["thresholds"]
        # (the field types are strings here: annotations are not evaluated)
        return cls(
            **{f.name: (int if f.type == "int" else float)(values[f.name]) for f in fields(cls)}
        )


@cache
def shipped_thresholds() -> Thresholds:
    """The thresholds fitted by bench/fit_cluster.py, shipped with the package."""
    text = resources.files(__package__).joinpath(THRESHOLDS_FILE).read_text(encoding="utf-8")
    return Thresholds.from_json(text)


# A pair published further apart than this has its similarity multiplied by
# FAR_APART_FACTOR: as long as the runner's JOIN_HORIZON keeps delivered stories joinable.
MAX_HOURS_APART = 168.0
FAR_APART_FACTOR = 0.5
# IDF is taken as if the batch held this many more articles mentioning none of its terms, so
# that in a small batch (five outlets on one story) shared names still count as specific.
BACKGROUND_ARTICLES = 200
INDEX_TERMS = 25  # distinctive terms per article put in the candidate index
MIN_SHARED_INDEX = 2  # indexed terms two articles must share to be compared
# The in-group split's IDF, as BACKGROUND_ARTICLES for the batch.
SPLIT_BACKGROUND = 10
SPLIT_MAX_GROUP = 300
# A word in more articles than MAX_POSTING finds no candidates (too common to tell events
# apart); a name or figure may be in up to MAX_POSTING_FACTS, so that a story a few hundred
# outlets cover still meets through its names. Pairs enumerated grow with these, not with N.
MAX_POSTING = 50
MAX_POSTING_FACTS = 500
