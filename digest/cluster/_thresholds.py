"""The thresholds of clustering (`cluster_articles` and its in-group look-alike split), in one
place because they were calibrated together: change them as a set, never one at a time, and
rerun tests/test_cluster.py and bench/cluster_quality.py (figures: bench/calibration.md)."""

# The demo corpus must come out exact (rewrites of one event merge; the iPad/MacBook and
# ECB/BoJ look-alikes do not: tests/test_cluster.py). A strong headline-subject penalty is what
# lets MERGE_AT be low, so rewrites merge, while look-alike launches by one company stay apart.
MERGE_AT = 0.08
MIN_SHARED_FACTS = 2
# A fact every article of the batch mentions ties nothing together: a shared name or figure
# counts towards MIN_SHARED_FACTS only above this IDF: held by fewer than about 60% of the
# batch's articles, BACKGROUND_ARTICLES counted in.
DISTINCTIVE_IDF = 1.5
NO_FACTS_FACTOR = 0.5
SUBJECT_CONFLICT_FACTOR = 0.25
MAX_HOURS_APART = 168.0  # as long as the runner's JOIN_HORIZON keeps delivered stories joinable
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
# A part is an event only with a name or figure of its own (in EVENT_FACT_SHARE of it, at most
# EVENT_FACT_ELSEWHERE of the group's others), so that a story many outlets tell does not split
# on wording a few of them share; a higher share merges look-alikes whose subject some omit.
EVENT_FACT_SHARE = 0.6
EVENT_FACT_ELSEWHERE = 0.25
# An event's subject is a name in EVENT_SUBJECT_SHARE of its articles and at most
# EVENT_SUBJECT_ELSEWHERE of the others; an outlier (often a brief) that never names it matches
# the event at SUBJECT_CONFLICT_FACTOR. Lower shares let a background name pass for a subject.
EVENT_SUBJECT_SHARE = 0.9
EVENT_SUBJECT_ELSEWHERE = 0.1
SPLIT_MAX_GROUP = 300
# A word in more articles than MAX_POSTING finds no candidates (too common to tell events
# apart); a name or figure may be in up to MAX_POSTING_FACTS, so that a story a few hundred
# outlets cover still meets through its names. Pairs enumerated grow with these, not with N.
MAX_POSTING = 50
MAX_POSTING_FACTS = 500
