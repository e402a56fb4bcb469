"""The in-group split: outliers rejoin the event they match, and only parts with a fact of
their own are events."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from conftest import RULES

from digest.cluster._lookalikes import _names, _rejoin_outliers, without_strays
from digest.cluster._terms.batch import TermsBatch
from digest.cluster._terms.features import article_terms
from digest.cluster._thresholds import BACKGROUND_ARTICLES
from digest.cluster._vectors import term_matrix

PART = RULES.min_event_part


def rejoin(parts: list[list[int]], vectors: dict[int, dict[str, float]]) -> list[list[int]]:
    """`_rejoin_outliers` on hand-made vectors (articles 0..n-1): their dot products as the
    group's cosines, their terms as what each article holds."""
    listed = [vectors[i] for i in range(len(vectors))]
    cosines = np.array(
        [[sum(w * other.get(t, 0.0) for t, w in one.items()) for other in listed] for one in listed]
    )
    return _rejoin_outliers(parts, cosines, listed, RULES)


def test_an_outlier_part_of_a_split_rejoins_the_event_it_matches_best():
    quake = {"n:kushiro": 0.8, "w:tsunami": 0.6}
    launch = {"n:ipad pro": 0.8, "w:chip": 0.6}
    listed = [quake] * PART + [launch] * PART + [{"n:kushiro": 1.0}]
    vectors = dict(enumerate(listed))
    first, second = list(range(PART)), list(range(PART, 2 * PART))
    outlier = [2 * PART]
    parts = rejoin([first, second, outlier], vectors)
    assert sorted(map(sorted, parts)) == [[*first, *outlier], second]
    # Without an event-sized part there is nothing to rejoin: the group stays whole.
    assert rejoin([[0, 1], [2]], vectors) == [[0, 1, 2]]


def test_a_split_part_without_a_fact_of_its_own_is_not_an_event():
    # Two parts of one story that differ only in words: no name or figure of their own.
    left = {"n:kushiro": 0.6, "w:trains": 0.8}
    right = {"n:kushiro": 0.6, "w:schools": 0.8}
    vectors = dict(enumerate([left] * PART + [right] * PART))
    first, second = list(range(PART)), list(range(PART, 2 * PART))
    assert rejoin([first, second], vectors) == [[*first, *second]]
    # With a name each, they are two events.
    vectors.update({i: {**left, "n:hokkaido": 0.5} for i in first})
    vectors.update({i: {**right, "n:obihiro": 0.5} for i in second})
    assert rejoin([first, second], vectors) == [first, second]


def test_an_outlier_does_not_join_an_event_whose_subject_it_never_names():
    # Two castings of one quiz show's host, years apart. Every story of the new one names
    # Priya Okafor, and Glen Marlow, whom she replaces. A brief on Marlow's own casting
    # shares the new stories' wording ("named as the new host", "speculation") more than
    # the old stories', but never names Okafor.
    new_host = [
        (
            "Priya Okafor named as the new host of Brainbox",
            "Priya Okafor has been named as the new host of the quiz show Brainbox, replacing "
            "Glen Marlow after weeks of speculation.",
        ),
        (
            "Brainbox picks Priya Okafor to follow Glen Marlow",
            "After months of speculation the broadcaster named Priya Okafor as the new host "
            "of Brainbox. She takes over from Glen Marlow in the spring.",
        ),
        (
            "Priya Okafor is the new face of Brainbox",
            "Comedian Priya Okafor was named the new host of Brainbox, ending speculation "
            "about who would replace Glen Marlow.",
        ),
        (
            "Okafor to replace Marlow on Brainbox",
            "Priya Okafor will be the new host of Brainbox when Glen Marlow leaves, the "
            "broadcaster said, confirming weeks of speculation.",
        ),
    ]
    old_host = [
        (
            "Glen Marlow becomes the seventh Brainbox host",
            "Glen Marlow, a stand-up from Leeds, will be the seventh host of Brainbox, taking "
            "the chair from Ada Finch.",
        ),
        (
            "Leeds comic Glen Marlow lands Brainbox",
            "Glen Marlow was unveiled as the seventh host of Brainbox on Saturday, after four "
            "series with the same face.",
        ),
        (
            "Who is Glen Marlow, the seventh host of Brainbox?",
            "Viewers asked who Glen Marlow was when he was unveiled as the seventh host of "
            "Brainbox on Saturday.",
        ),
        (
            "Marlow succeeds Finch as seventh Brainbox host",
            "Glen Marlow succeeds Ada Finch as the seventh host of Brainbox, the show said on "
            "Saturday.",
        ),
    ]
    brief = (
        "Little-known comic Glen Marlow named as the new Brainbox host",
        "Little-known comic Glen Marlow was named as the new host of Brainbox, and "
        "speculation grew about a co-host.",
    )
    terms = [article_terms(title, text) for title, text in [*new_host, *old_host, brief]]
    unit = term_matrix(TermsBatch.of(terms), BACKGROUND_ARTICLES).unit
    cosines = (unit @ unit.T).toarray()
    holdings = [t.counts for t in terms]
    parts = _rejoin_outliers([[0, 1, 2, 3], [4, 5, 6, 7], [8]], cosines, holdings, RULES)
    assert parts == [[0, 1, 2, 3], [4, 5, 6, 7, 8]]
    # A name glued to the capitalised words before it still names the subject.
    glued = article_terms("Quiz shake-up", "On Friday Brainbox Host Priya Okafor signed again.")
    assert "n:priya okafor" not in glued.counts
    assert _names(glued.counts, "n:priya okafor")
    assert not _names(glued.counts, "n:glen marlow")


BREACH = [
    (
        "Harlow & Finch says hackers stole data of 4.2 million members",
        "Harlow & Finch said the ShadowVault gang copied the details of 4.2 million loyalty "
        "card members on Tuesday.",
    ),
    (
        "ShadowVault gang behind Harlow & Finch breach",
        "The ShadowVault ransomware gang stole names and addresses of 4.2 million Harlow & "
        "Finch customers, the store group said.",
    ),
    (
        "What Harlow & Finch customers need to know",
        "Customers should watch for phishing after Harlow & Finch confirmed that 4.2 million "
        "loyalty accounts were stolen by ShadowVault.",
    ),
]
# Another event that names the breached firm, and nothing else of the breach.
STORE_OPENING = (
    "Harlow & Finch opens Leeds flagship",
    "Harlow & Finch opened a flagship store in the Victoria Quarter of Leeds on Saturday. "
    "The shop has 180 jobs.",
)


def strays_out(
    reports: list[tuple[str, str]], stray_shared_facts: int, story_ids: list[int | None]
) -> list[list[int]]:
    terms = TermsBatch.of([article_terms(title, text) for title, text in reports])
    matrix = term_matrix(terms, BACKGROUND_ARTICLES)
    rules = replace(RULES, stray_shared_facts=stray_shared_facts)
    return without_strays([list(range(len(reports)))], matrix, terms, story_ids, rules)


def test_an_article_sharing_only_the_firm_with_an_event_leaves_it():
    reports = [*BREACH, STORE_OPENING]
    assert strays_out(reports, 1, [None] * 4) == [[0, 1, 2], [3]]
    # At -1 no article leaves; nor does one already delivered, whose story is the event's.
    assert strays_out(reports, -1, [None] * 4) == [[0, 1, 2, 3]]
    assert strays_out(reports, 1, [None, None, None, 7]) == [[0, 1, 2, 3]]
    # A report that also gives the breach's toll shares two facts: it stays.
    follow_up = ("Harlow & Finch shares fall", "Harlow & Finch fell 6% over 4.2 million records.")
    assert strays_out([*BREACH, follow_up], 1, [None] * 4) == [[0, 1, 2, 3]]


RESULTS = [
    (
        "Corvane beats forecasts as revenue jumps 31%",
        "Corvane reported revenue of $8.1 billion for the quarter, up 31%, as cloud customers "
        "such as Nimbus bought more of its accelerators.",
    ),
    (
        "Corvane lifts outlook after $8.1bn quarter",
        "The chipmaker's revenue rose to $8.1 billion and it raised its guidance, helped by "
        "orders from Nimbus and other cloud providers.",
    ),
    (
        "Corvane shares climb on record sales",
        "Shares of Corvane rose after sales reached $8.1 billion; rival Arkon fell.",
    ),
    (
        "Corvane's quarter: record sales and a warning for Arkon",
        "Record revenue of $8.1 billion put Corvane further ahead of Arkon.",
    ),
]
# Names the chipmaker, its rival and its customer, and tells of the customer's own chip.
OWN_CHIP = (
    "Nimbus unveils Halyard, its first in-house training chip",
    "Cloud provider Nimbus showed Halyard, a chip of its own design, to run beside the "
    "Corvane and Arkon accelerators it rents out. It did not say how many it will build.",
)


def test_an_article_on_its_own_subject_without_the_event_s_figure_leaves_it():
    reports = [*RESULTS, OWN_CHIP]
    assert strays_out(reports, 0, [None] * 5) == [[0, 1, 2, 3], [4]]
    # Fewer than four: too few to tell what the event's own figure is.
    assert strays_out([*RESULTS[:2], OWN_CHIP], 0, [None] * 3) == [[0, 1, 2]]
    # A report that gives the event's figure stays, whatever its headline leads with.
    with_figure = (OWN_CHIP[0], OWN_CHIP[1] + " Corvane's sales were $8.1 billion.")
    assert strays_out([*RESULTS, with_figure], 0, [None] * 5) == [[0, 1, 2, 3, 4]]


def test_an_event_without_names_or_figures_has_no_strays():
    reports = [("storm warning", "heavy rain expected tonight in the valley")] * 3
    assert strays_out(reports, 1, [None] * 3) == [[0, 1, 2]]


def test_a_one_sentence_report_of_the_event_never_leaves_it():
    # Names only the gang, a country and an agency: short, not stray.
    claim = (
        "ShadowVault claims hack of UK store chain",
        "The ShadowVault gang said on its leak site that it hit a UK store chain, Reuters said.",
    )
    assert strays_out([*BREACH, claim], 1, [None] * 4) == [[0, 1, 2, 3]]
