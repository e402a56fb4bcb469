"""The clean stage's rules, one by one, on hand-written blocks (written for these tests).

`decide` is given hand-made log-odds, so each test says which blocks the model removes and
checks what the rules make of it: the boxes removed blocks take with them, the headings
left without a section, the labelled sections, the trailing run and each removal's reason.
The rest goes through `describe`/`score_blocks`/`clean_blocks` with the shipped model and
real language detection: the title marks, link weights, language judgements, the foreign box.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import pytest

from digest.models import Block, ExtractedPage
from digest.pages._block_model import FEATURES, BlockModel, shipped_model
from digest.pages._clean import (
    LanguageDetector,
    ScoredBlocks,
    SiteMemory,
    clean_blocks,
    clean_page,
    decide,
    describe,
    fingerprint,
    score_blocks,
    score_page,
)

MODEL = shipped_model()
# The shipped model removes and joins at one threshold; this one has a band of blocks that
# are only suspect: they go beside removed ones, never alone.
JOINING = replace(MODEL, remove_at=1.0, join_at=-1.0)
GO, KEEP, SUSPECT = 5.0, -5.0, 0.0

FILLER = (
    "the reading room on the second floor of the old town library will stay open late on "
    "weekdays while the roof over the children's corner is mended by a local firm, and the "
    "staff have moved the map collection into the basement store for the winter months "
)


@pytest.fixture(scope="module")
def detector() -> LanguageDetector:
    return LanguageDetector()


def text_of(label: str, length: int) -> str:
    """A block's text starting with its label, exactly `length` characters long."""
    text = f"{label} " + FILLER * (1 + length // len(FILLER))
    return text[:length].rstrip() + "x" * (length - len(text[:length].rstrip()))


@dataclass(frozen=True)
class Row:
    label: str
    odds: float
    length: int | None = None  # a 400-character paragraph, or a heading of its label alone
    kind: str = "p"
    links: float = 0.0
    signals: tuple[tuple[int, str], ...] = ()
    weight: int = 0  # language mismatch

    def block(self) -> Block:
        if self.length is None and self.kind == "head":
            return Block(self.label, kind="head")
        return Block(text_of(self.label, self.length or 400), self.kind, self.links)


def scored(rows: list[Row], box: frozenset[int] = frozenset()) -> ScoredBlocks:
    return ScoredBlocks(
        blocks=tuple(row.block() for row in rows),
        title=None,
        language="en",
        signals=tuple(row.signals for row in rows),
        language_weights=tuple(row.weight for row in rows),
        log_odds=tuple(row.odds for row in rows),
        box=box,
    )


def removed(
    rows: list[Row], model: BlockModel = MODEL, repeated: frozenset[int] = frozenset()
) -> list[str]:
    """The labels of the removed blocks, in page order."""
    result = decide(scored(rows), set(repeated), model)
    return [r.text.split()[0] for r in result.removed]


# --- a block whose log-odds reach join_at goes with a removed neighbour


def test_a_suspect_block_goes_only_beside_a_removed_one():
    rows = [
        Row("a", SUSPECT),
        Row("b", KEEP),
        Row("c", JOINING.join_at),  # suspect from exactly join_at
        Row("d", JOINING.remove_at),  # removed from exactly remove_at
        Row("e", SUSPECT),
        Row("f", KEEP),
        Row("g", SUSPECT),
    ]
    assert removed(rows, JOINING) == ["c", "d", "e"]
    # Alone, a suspect block stays; a chain of them follows a removed one.
    assert removed([Row("a", KEEP), Row("b", SUSPECT), Row("c", KEEP)], JOINING) == []
    chain = [Row("a", KEEP), Row("b", GO), Row("c", SUSPECT), Row("d", SUSPECT), Row("e", KEEP)]
    assert removed(chain, JOINING) == ["b", "c", "d"]


def test_the_shipped_model_removes_from_remove_at():
    assert removed([Row("a", KEEP), Row("b", MODEL.remove_at), Row("c", KEEP)]) == ["b"]
    just_under = Row("b", MODEL.remove_at - 0.01)
    assert removed([Row("a", KEEP), just_under, Row("c", KEEP)]) == []


# --- a short block between two removed ones goes with them


def test_a_short_block_between_two_removed_ones_goes_with_them():
    rows = [
        Row("a", GO, 50),
        Row("b", KEEP, 199),  # the second block
        Row("c", GO, 50),
        Row("d", KEEP),
        Row("e", KEEP),
        Row("f", GO, 50),
        Row("g", KEEP, 200),  # not short
        Row("h", GO, 50),
        Row("i", KEEP),
        Row("j", GO, 50),
        Row("k", KEEP, 120),  # the last but one
        Row("l", GO, 50),
    ]
    result = decide(scored(rows), set(), MODEL)
    assert [r.text.split()[0] for r in result.removed] == list("abcfhjkl")
    assert result.text == "\n\n".join(block.text for block in result.kept)
    assert [b.text.split()[0] for b in result.kept] == list("degi")


def test_a_lone_short_block_between_the_only_two_removed_ones_goes():
    rows = [Row("a", KEEP), Row("b", GO, 60), Row("c", KEEP, 90), Row("d", GO, 60)]
    rows.append(Row("e", KEEP))
    assert removed(rows) == ["b", "c", "d"]


def test_a_short_block_beside_one_removed_block_stays():
    rows = [Row("a", GO, 60), Row("b", KEEP, 90), Row("c", KEEP), Row("d", KEEP, 90)]
    rows.append(Row("e", GO, 60))
    assert removed(rows) == ["a", "e"]


# --- headings whose section went, box lines, headings left at the end


def test_a_heading_whose_section_all_went_goes():
    rows = [
        Row("a", KEEP),
        Row("Section", KEEP, kind="head"),
        Row("b", GO),
        Row("c", GO),
        Row("Next", KEEP, kind="head"),
        Row("d", KEEP),
    ]
    result = decide(scored(rows), set(), MODEL)
    assert [(r.text.split()[0], r.reason) for r in result.removed] == [
        ("Section", "heading"),
        ("b", "position"),
        ("c", "position"),
    ]


def test_a_long_heading_whose_one_block_section_went_goes():
    long_heading = Row("Long", KEEP, 120, kind="head")
    rows = [Row("a", KEEP), long_heading, Row("b", GO), Row("Next", KEEP, kind="head")]
    assert removed([*rows, Row("c", KEEP)]) == ["Long", "b"]
    # At the top of the page too.
    assert removed([long_heading, Row("b", GO), *rows[3:], Row("c", KEEP)]) == ["Long", "b"]


def test_a_heading_left_at_the_end_goes():
    rows = [Row("a", KEEP), Row("b", KEEP), Row("End", KEEP, kind="head")]
    assert removed(rows) == ["End"]
    rows = [Row("a", KEEP), Row("Last", KEEP, kind="head"), Row("b", GO), Row("c", GO)]
    assert removed(rows) == ["Last", "b", "c"]


def test_a_heading_with_no_section_beside_a_removed_block_is_a_box_line():
    short, long = 99, 100
    after_removed = [
        Row("a", KEEP),
        Row("b", GO),
        Row("Box", KEEP, short, kind="head"),
        Row("Section", KEEP, kind="head"),
        Row("c", KEEP),
    ]
    assert removed(after_removed) == ["b", "Box"]
    before_removed = [
        Row("a", KEEP),
        Row("Box", KEEP, short, kind="head"),
        Row("Promo", GO, kind="head"),
        Row("Section", KEEP, kind="head"),
        Row("c", KEEP),
    ]
    assert removed(before_removed) == ["Box", "Promo"]
    # A long heading is a section title, even beside a removed block.
    assert removed(
        [*after_removed[:2], replace(after_removed[2], length=long), *after_removed[3:]]
    ) == ["b"]


def test_a_heading_with_no_section_away_from_removed_blocks_stays():
    rows = [
        Row("a", KEEP),
        Row("Kicker", KEEP, 40, kind="head"),
        Row("Section", KEEP, kind="head"),
        Row("b", KEEP),
    ]
    assert removed(rows) == []
    # Two blocks from a removed one is not beside it, either way.
    rows = [
        Row("a", GO, 60),
        Row("b", KEEP),
        Row("Kicker", KEEP, 40, kind="head"),
        Row("Section", KEEP, kind="head"),
        Row("c", KEEP),
    ]
    assert removed(rows) == ["a"]
    rows = [
        Row("a", KEEP),
        Row("Kicker", KEEP, 40, kind="head"),
        Row("Section", KEEP, kind="head"),
        Row("b", GO, 60),
        Row("c", KEEP),
        Row("d", KEEP),
    ]
    assert removed(rows) == ["b"]


def test_a_section_heading_after_a_removed_box_stays_with_its_section():
    rows = [Row("a", KEEP), Row("b", GO), Row("Section", KEEP, 30, kind="head")]
    rows += [Row("c", KEEP), Row("d", KEEP)]
    assert removed(rows) == ["b"]


def test_a_long_heading_without_a_section_stays_when_the_next_heading_goes():
    rows = [
        Row("a", KEEP),
        Row("Long", KEEP, 120, kind="head"),
        Row("Promo", GO, kind="head"),
        Row("b", GO),
        Row("Section", KEEP, kind="head"),
        Row("c", KEEP),
    ]
    assert removed(rows) == ["Promo", "b"]


# --- a label heading takes its short lines


RELATED = ((3, "promo"),)  # what phrase_signal says of "Related stories"
CONTACT = ((2, "promo"),)  # ... and of "Press contact": likely, not sure


def test_a_label_heading_takes_its_short_and_linked_lines_up_to_the_next_heading():
    rows = [
        Row("a", KEEP),
        Row("Related", GO, kind="head", signals=RELATED),
        Row("c", KEEP, 119),
        Row("g", KEEP, 300),  # neither short nor links
        Row("d", KEEP, 120),
        Row("f", KEEP, 500, links=0.9),  # too long for a teaser
        Row("e", KEEP, 499, links=0.3),
        Row("h", KEEP),
        Row("Other", KEEP, kind="head"),
        Row("i", KEEP, 100),
        Row("More", GO, kind="head", signals=RELATED),
        Row("j", KEEP, 100),
        Row("k", KEEP),
    ]
    result = decide(scored(rows), set(), MODEL)
    assert [(r.text.split()[0], r.reason) for r in result.removed] == [
        ("Related", "promo"),
        ("c", "position"),
        ("e", "position"),
        ("More", "promo"),
        ("j", "position"),
    ]


def test_a_label_heading_takes_a_suspect_block_of_any_length():
    rows = [
        Row("a", KEEP),
        Row("Related", GO, kind="head", signals=RELATED),
        Row("b", SUSPECT, 900),
        Row("c", KEEP, 900),
        Row("d", KEEP),
    ]
    assert removed(rows, JOINING) == ["Related", "b"]


def test_a_removed_heading_that_is_no_label_does_not_hide_a_later_label():
    rows = [
        Row("a", KEEP),
        Row("Plain", GO, kind="head"),
        Row("b", KEEP),
        Row("Related", GO, kind="head", signals=RELATED),
        Row("c", KEEP, 60),
        Row("d", KEEP),
    ]
    assert removed(rows) == ["Plain", "Related", "c"]


def test_a_likely_label_takes_its_lines_only_near_the_end():
    tail = [
        Row("a", KEEP),
        Row("b", KEEP),
        Row("Contact", GO, kind="head", signals=CONTACT),  # 8th block from the end
        Row("x", KEEP, 40),
        *(Row(f"p{i}", KEEP) for i in range(6)),
    ]
    assert removed(tail) == ["Contact", "x"]
    assert removed([*tail, Row("z", KEEP)]) == ["Contact"]


def test_only_a_removed_label_heading_takes_its_lines():
    # A removed heading that is no label, near the end.
    rows = [Row("a", KEEP), Row("b", KEEP), Row("Plain", GO, kind="head")]
    rows += [Row("y", KEEP, 40), Row("c", KEEP), Row("d", KEEP)]
    assert removed(rows) == ["Plain"]
    # A label's wording on a removed paragraph, or on a heading that stays.
    rows = [
        Row("a", KEEP),
        Row("Promo", GO, 60, signals=RELATED),
        Row("z", KEEP, 40),
        Row("b", KEEP),
        Row("Related", KEEP, kind="head", signals=RELATED),
        Row("w", KEEP, 40),
        Row("c", KEEP),
    ]
    assert removed(rows) == ["Promo"]


# --- what follows removed boilerplate at the end goes when it is suspect too


def test_the_trailing_run_after_removed_boilerplate_goes():
    rows = [
        Row("a", KEEP),
        Row("b", GO),
        Row("Teasers", KEEP, 120, kind="head"),
        Row("c", SUSPECT),
    ]
    assert removed(rows, JOINING) == ["b", "Teasers", "c"]


def test_a_kept_closing_paragraph_ends_no_run():
    rows = [Row("a", KEEP), Row("b", GO), Row("Long", KEEP, 120, kind="head"), Row("c", KEEP)]
    assert removed(rows, JOINING) == ["b"]
    # Suspect blocks at the end stay when nothing before them was removed.
    assert removed([Row("a", KEEP), Row("b", SUSPECT), Row("c", SUSPECT)], JOINING) == []
    # A suspect last block after kept prose stays: nothing removed follows it.
    rows = [Row("a", KEEP), Row("b", GO), Row("c", KEEP), Row("d", SUSPECT)]
    assert removed(rows, JOINING) == ["b"]


# --- each removed block's reason


def test_each_removed_block_records_its_strongest_signal():
    rows = [
        Row("a", KEEP),
        Row("promo", GO, 60, signals=((3, "promo"),)),
        Row("links", GO, 60, signals=((2, "links"),)),
        Row("b", KEEP),
        Row("french", GO, 60, weight=2),
        Row("c", KEEP),
        Row("weak", GO, 60, signals=((1, "links"),), weight=1),
        Row("d", KEEP),
        Row("bare", GO, 60),
        Row("e", KEEP),
        Row("Heading", GO, 60, kind="head"),
        Row("f", KEEP),
    ]
    result = decide(scored(rows), {1, 2}, MODEL)
    assert [(r.text.split()[0], r.reason) for r in result.removed] == [
        ("promo", "promo"),  # the first of equals: its wording before the site's memory
        ("links", "repeated-on-site"),
        ("french", "language"),
        ("weak", "links"),
        ("bare", "position"),
        ("Heading", "heading"),
    ]


def test_a_block_of_a_foreign_box_records_its_language():
    rows = [
        Row("box", KEEP, 60),
        Row("linked", KEEP, 60, signals=((1, "links"),)),
        Row("a", KEEP),
        Row("b", GO, 60),
    ]
    result = decide(scored(rows, box=frozenset({0, 1})), set(), MODEL)
    assert [(r.text.split()[0], r.reason) for r in result.removed] == [
        ("box", "language"),
        ("linked", "links"),
        ("b", "position"),
    ]


# --- through scoring: the page's own text, the shipped model and real language detection

ARTICLE = [
    "The volunteers who run the repair café in the old fire station mended more than two "
    "hundred toasters, lamps and bicycles this year, and they say the queue grows every month.",
    "Most of the menders are retired engineers, but a group of students from the college "
    "joined in spring and now run a stall for phones and laptops on the first Saturday.",
    "The café is free to use, though visitors are asked to leave a donation towards spare "
    "parts, and the organisers hope to open a second room once the heating is fixed.",
]
TITLE = "Repair café menders fix two hundred toasters"


def blocks(*texts: str) -> list[Block]:
    return [Block(text) for text in texts]


def recorded_reasons(
    detector: LanguageDetector,
    page: list[Block],
    title: str | None = None,
    repeated: frozenset[int] = frozenset(),
) -> list[str]:
    """The reason each block would record if it were removed (all are, here)."""
    scored_page = score_blocks(tuple(page), detector, None, title)
    everything = replace(scored_page, log_odds=(GO,) * len(page))
    return [r.reason for r in decide(everything, set(repeated)).removed]


def test_the_title_heading_the_lines_above_it_and_the_standfirst_are_marked(detector):
    linked = 0.8  # links alone would say "links" (2); a mark says more (3)
    page = [
        Block("Home › Local news › Repair", link_density=linked),  # above the title
        Block(text_of("Long", 150), link_density=linked),  # too long for the page's chrome
        Block(TITLE, kind="head"),
        Block(text_of("Standfirst", 80), kind="head"),
        *blocks(*ARTICLE),
    ]
    reasons = recorded_reasons(detector, page, TITLE)
    assert reasons[:4] == ["position", "links", "title", "standfirst"]
    assert reasons[4:] == ["position"] * 3
    # The breadcrumb goes with the title known, not without.
    crumbs = [Block("News | Local | Repair"), Block(TITLE, kind="head"), *blocks(*ARTICLE)]
    with_title = clean_blocks(tuple(crumbs), detector, None, None, TITLE)
    assert [(r.reason, r.text) for r in with_title.removed] == [
        ("position", "News | Local | Repair")
    ]
    assert not clean_blocks(tuple(crumbs), detector).removed
    # A wording as strong as the mark is named first.
    share = [Block("Share this article"), Block(TITLE, kind="head"), *blocks(*ARTICLE)]
    assert recorded_reasons(detector, share, TITLE)[:2] == ["promo", "title"]


def test_a_standfirst_is_a_long_heading_right_under_the_title(detector):
    def reasons_under_title(*under: Block) -> list[str]:
        page = [Block(TITLE, kind="head"), *under, *blocks(*ARTICLE)]
        return recorded_reasons(detector, page, TITLE)[: 1 + len(under)]

    assert reasons_under_title(Block(text_of("Short", 79), kind="head")) == ["title", "heading"]
    assert reasons_under_title(Block(text_of("Para", 120))) == ["title", "position"]
    assert reasons_under_title(Block("Section", kind="head"), Block(text_of("S", 90), "head")) == [
        "title",
        "heading",
        "heading",
    ]
    # A long heading above the title is no standfirst; the title may end the page.
    above = Block(text_of("Above", 90), kind="head")
    assert recorded_reasons(detector, [above, Block(TITLE, kind="head")], TITLE) == [
        "position",
        "title",
    ]
    assert recorded_reasons(detector, [Block(TITLE, kind="head")], TITLE) == ["title"]


def test_the_title_heading_is_looked_for_among_the_first_three_blocks(detector):
    three = blocks("Home", "Local", "Repair")
    page = [*three, Block(TITLE, kind="head"), *blocks(*ARTICLE)]
    assert recorded_reasons(detector, page, TITLE)[3] == "heading"
    # Only a heading: a paragraph that says the title is the article's.
    page = [Block(TITLE), *blocks(*ARTICLE)]
    assert recorded_reasons(detector, page, TITLE)[0] == "position"


@pytest.mark.parametrize(
    ("heading", "is_title"),
    [
        ("Repair café menders fix toasters", True),
        ("Repair café menders fix two hundred toasters", False),  # 5 of 7 words
        ("Repair café menders", True),  # trimmed: every word is the title's
        ("Repair café menders fix hundreds of toasters", False),  # 4 of 7 words
        ("Repair café volunteers fix toasters", True),  # 4 of 5 words, at 80%
        ("Repair café volunteers mend kettles", False),  # 2 of 5
        ("Toasters", True),
        ("Kettles", False),
        ("* * *", False),  # no words at all
    ],
)
def test_a_heading_is_the_title_when_it_says_the_title_give_or_take_a_word(
    detector, heading, is_title
):
    page = [Block(heading, kind="head"), *blocks(*ARTICLE)]
    title = "Repair café menders fix toasters"
    assert (recorded_reasons(detector, page, title)[0] == "title") is is_title


def test_a_page_title_without_words_marks_nothing(detector):
    page = [Block("* * *", kind="head"), *blocks(*ARTICLE)]
    assert recorded_reasons(detector, page, "—")[0] == "heading"


@pytest.mark.parametrize(
    ("block", "reason"),
    [
        (Block(text_of("a", 300), link_density=0.9), "links"),
        (Block(text_of("a", 301), link_density=0.9), "position"),  # a linked quote
        (Block(text_of("a", 600), link_density=0.9), "position"),
        (Block(text_of("a", 1000), "list", 0.9), "links"),
        (Block(text_of("a", 1001), "list", 0.9), "position"),
        (Block(text_of("a", 200), link_density=0.4), "links"),
        (Block(text_of("a", 200), link_density=0.39), "position"),
        (Block(text_of("a", 200), "list", 0.3), "links"),
        (Block(text_of("a", 200), "list", 0.29), "position"),
        (Block(text_of("a", 200), link_density=0.3), "position"),
        (Block("Price | 12 | 14 | 16", "table", 0.9), "position"),
        (Block("https://courier.example/story/4411", link_density=1.0), "position"),
    ],
)
def test_link_weight_thresholds(detector, block, reason):
    page = [*blocks(*ARTICLE[:2]), block, Block(ARTICLE[2])]
    assert recorded_reasons(detector, page)[2] == reason


FRENCH_LINE = (
    "Les habitants du quartier se retrouvent chaque samedi pour réparer leurs objets et "
    "partager un café avec les bénévoles de l'association."
)


@pytest.mark.parametrize(("density", "reason"), [(0.7, "links"), (0.69, "language")])
def test_mostly_links_outweighs_a_sure_language_mismatch(detector, density, reason):
    page = [*blocks(*ARTICLE), Block(FRENCH_LINE, link_density=density), *blocks(*ARTICLE)]
    assert recorded_reasons(detector, page)[3] == reason


def test_a_linked_block_seen_on_the_site_records_that_first(detector):
    page = [*blocks(*ARTICLE[:2]), Block(text_of("a", 200), link_density=0.9), *blocks(*ARTICLE)]
    assert recorded_reasons(detector, page, repeated=frozenset({2}))[2] == "repeated-on-site"


def test_block_languages_are_judged_from_twelve_characters_and_not_in_tables(detector):
    page = [
        *blocks(*ARTICLE),
        Block("Привет мир!"),  # 11 characters: a name, a figure
        Block("Привет, мир!"),  # 12: another script
        Block("Привет, мир! Привет", kind="table"),
        Block(FRENCH_LINE),
    ]
    assert score_blocks(tuple(page), detector).language_weights == (0, 0, 0, 0, 1, 0, 2)


GERMAN = [
    "Die Freiwilligen im alten Feuerwehrhaus haben in diesem Jahr mehr als zweihundert "
    "Toaster, Lampen und Fahrräder repariert, und die Schlange vor der Tür wird länger.",
    "Die meisten Helfer sind pensionierte Ingenieure, aber seit dem Frühjahr betreuen auch "
    "Studierende der Hochschule einen Stand für Telefone und Laptops am ersten Samstag.",
    "Das Café ist kostenlos, doch die Besucher werden um eine Spende für Ersatzteile gebeten, "
    "und die Organisatoren hoffen auf einen zweiten Raum, sobald die Heizung läuft.",
]
ENGLISH_LIST = (
    "• The menders will also sharpen knives and scissors for anyone who brings them along\n"
    "• The organisers are looking for more volunteers who can fix the old sewing machines\n"
    "• There will be tea and cake for all who wait in the queue at the door of the hall"
)
ENGLISH_TABLE = " ".join(ARTICLE * 3)


def test_the_article_language_is_judged_on_its_prose(detector):
    page = [
        *blocks(*GERMAN),
        *(Block(ENGLISH_LIST + "." * i, kind="list") for i in range(3)),
        Block(
            "What the volunteers say about the repair café and the people who come to it", "head"
        ),
        Block(ENGLISH_TABLE, kind="table"),
    ]
    assert sum(len(text) for text in GERMAN) >= 400
    assert describe(tuple(page), detector).language == "de"


def test_from_400_characters_of_prose_the_lists_are_left_out(detector):
    prose = " ".join(GERMAN)[:400]
    assert len(prose) == 400
    page = [Block(prose), *(Block(ENGLISH_LIST + "." * i, kind="list") for i in range(3))]
    assert describe(tuple(page), detector).language == "de"


def test_a_page_with_little_prose_is_judged_on_its_lists_not_its_tables(detector):
    page = [
        Block("Öffnungszeiten", kind="head"),
        Block("• Samstag von zehn bis vierzehn Uhr\n• Die Werkstatt ist im ersten Stock", "list"),
        Block(ENGLISH_TABLE, kind="table"),
    ]
    assert describe(tuple(page), detector).language == "de"


def test_a_page_of_figures_takes_its_declared_language(detector):
    page = (Block("3:1"), Block("2:0 (1:0)"), Block("0:0"))
    assert clean_blocks(page, detector, None, "de").language == "de"
    assert score_blocks(page, detector, "de").language == "de"
    assert describe(page, detector, "de").language == "de"


def test_the_page_stage_passes_on_the_title_language_and_site(detector):
    footer = "The Repair Café Gazette is written by volunteers and printed on recycled paper."
    page = ExtractedPage(
        url="https://gazette.example/repair",
        title=TITLE,
        author=None,
        published=None,
        language="de",
        canonical_url=None,
        blocks=(
            Block("News | Local | Repair"),
            Block(TITLE, kind="head"),
            *blocks(*ARTICLE),
            Block(footer),
        ),
    )
    cleaned = clean_page(page, detector, SiteMemory({fingerprint(footer): 1}))
    assert [(r.reason, r.text) for r in cleaned.removed] == [
        ("position", "News | Local | Repair"),
        ("repeated-on-site", footer),
    ]
    scored_page = score_page(page, detector)
    assert scored_page == score_blocks(page.blocks, detector, "de", TITLE)
    assert scored_page.title == TITLE
    assert (3, "title") in scored_page.signals[1]
    figures = replace(page, blocks=(Block("3:1"), Block("2:0 (1:0)")))
    assert clean_page(figures, detector).language == "de"
    assert score_page(figures, detector).language == "de"


def test_scoring_uses_the_model_it_is_given(detector):
    bias_only = BlockModel(
        own=(1.5,) + (0.0,) * (len(FEATURES) - 1), site=(0.0, 0.0, 0.0), remove_at=9, join_at=9
    )
    scored_page = score_blocks(tuple(blocks(*ARTICLE)), detector, None, TITLE, bias_only)
    assert scored_page.log_odds == (1.5, 1.5, 1.5)
    assert scored_page.title == TITLE


# --- a box in another language at the top or bottom goes whole

PITCH = (
    "Ne ratez aucune nouvelle du quartier : chaque vendredi, nous vous envoyons le meilleur "
    "de nos reportages, sans publicité."
)
BUTTON = "Je m'abonne gratuitement"
CLOSING = "Vous avez aimé cet article ? Partagez-le avec vos amis et découvrez nos autres enquêtes."
CLOSING_BUTTON = "Recevoir la lettre du vendredi"
FOLLOW = "Suivez-nous sur Instagram et Facebook"  # a call, surely French, 37 characters
ENGLISH_LINE = "Read on for the full story."


def box_of(detector: LanguageDetector, page: list[Block], title: str | None = None):
    description = describe(tuple(page), detector, None, title)
    assert description.language == "en"
    return description.box


def test_a_foreign_signup_box_at_the_top_and_bottom_goes_whole(detector):
    page = blocks(PITCH, BUTTON, *ARTICLE, CLOSING, CLOSING_BUTTON)
    assert box_of(detector, page) == {0, 1, 5, 6}
    result = clean_blocks(tuple(page), detector)
    assert [b.text for b in result.kept] == ARTICLE
    # Under the title, and on a short page down to its second block.
    page = [Block(TITLE, kind="head"), *blocks(PITCH, BUTTON, *ARTICLE)]
    assert box_of(detector, page, TITLE) == {1, 2}
    assert box_of(detector, blocks(ARTICLE[0], CLOSING, CLOSING_BUTTON)) == {1, 2}


def test_a_foreign_box_inside_the_article_is_not_at_the_top_or_bottom(detector):
    page = blocks(ARTICLE[0], ARTICLE[1], PITCH, BUTTON, ARTICLE[2], ARTICLE[0] + " Yes.")
    assert box_of(detector, page) == frozenset()
    # Prose of exactly PROSE_MIN_CHARS above the box is the article already.
    opening = text_of("The", 150)
    assert box_of(detector, blocks(opening, PITCH, BUTTON, *ARTICLE)) == frozenset()


def test_a_long_block_or_a_table_ends_the_box_zone(detector):
    long_french = (FRENCH_LINE + " ") * 3
    long_french = long_french[:320]
    assert box_of(detector, blocks(long_french, BUTTON, *ARTICLE)) == frozenset()
    table = Block("Tarif annuel | 49 € | 12 numéros", kind="table")
    page = [Block(PITCH), table, Block(BUTTON), *blocks(*ARTICLE)]
    assert box_of(detector, page) == frozenset()


FOOTER = [
    "Abonnez-vous à la lettre du quartier",
    "Nos offres pour les entreprises",
    "Qui sommes-nous ?",
    "Plan du site",
    "Mentions légales",
    "Politique de confidentialité",
    "Gérer les cookies",
    "Nous contacter",
    "Publicité",
]


def test_the_box_is_looked_for_among_the_last_eight_blocks(detector):
    page = blocks(ARTICLE[0], ARTICLE[1], *FOOTER)  # nine short French lines at the end
    assert box_of(detector, page) == set(range(3, 11))
    page = blocks(ARTICLE[0], ARTICLE[1], *FOOTER[1:], FOOTER[0])
    assert box_of(detector, page) == set(range(3, 11))


def test_a_short_page_is_scanned_once_from_each_end(detector):
    lines = [text_of(f"Line{i}", 140) for i in range(5)]
    assert box_of(detector, blocks(*lines, FOLLOW)) == {5}


def test_a_lone_surely_foreign_line_with_a_call_is_a_box(detector):
    assert box_of(detector, blocks(*ARTICLE, FOLLOW)) == {3}


def test_one_line_in_another_language_without_a_call_stays(detector):
    assert box_of(detector, blocks(PITCH, *ARTICLE)) == frozenset()
    result = clean_blocks(tuple(blocks(PITCH, *ARTICLE)), detector)
    assert [b.text for b in result.kept] == [PITCH, *ARTICLE]
    # Two such lines are no box either, even when a box stands at the other end.
    page = blocks(PITCH, BUTTON, *ARTICLE, "Nos offres pour les entreprises", "Mentions légales")
    assert box_of(detector, page) == {0, 1}


def test_a_button_shape_is_a_call_only_inside_a_run(detector):
    offers = "Nos offres pour les entreprises"
    assert box_of(detector, blocks(*ARTICLE, offers, "Profitez de nos offres !")) == {3, 4}
    assert box_of(detector, blocks(*ARTICLE, "Venez nous voir au marché de Noël !")) == set()


def test_sign_up_words_make_a_call(detector):
    # Two kinds of sign-up word ("kostenlos", "leser"), no wording of _phrases.py.
    signup = "Jetzt kostenlos mit der Redaktion und den Lesern diskutieren"
    assert box_of(detector, blocks(*ARTICLE, signup)) == {3}
    one_kind = "Jetzt kostenlos und mit der Redaktion diskutieren"
    assert box_of(detector, blocks(*ARTICLE, one_kind)) == set()


def test_every_run_of_the_zone_is_looked_at(detector):
    page = blocks("Nos offres pour les entreprises", ENGLISH_LINE, PITCH, BUTTON, *ARTICLE)
    assert box_of(detector, page) == {2, 3}
    # One word of the article's language ("the") makes a line the article's: it ends a run.
    page = blocks("Nos offres pour les entreprises", "Read the full story", PITCH, BUTTON, *ARTICLE)
    assert box_of(detector, page) == {2, 3}
    # A run without a call stays beside one with a call.
    offers = ["Nos offres pour les entreprises", "Mentions légales"]
    assert box_of(detector, blocks(*ARTICLE, *offers, ENGLISH_LINE, FOLLOW)) == {6}


def test_two_function_words_of_other_languages_make_a_line_surely_foreign(detector):
    # One French word and one German: no language of its own, surely not English.
    bilingual = "Newsletter für Basel – pour Bâle"
    assert box_of(detector, blocks(*ARTICLE, bilingual)) == {3}


GERMAN_BOX = ["Jetzt gratis registrieren", "Exklusive Vorteile genießen", "Tipps direkt zugestellt"]


def test_langdetect_places_a_run_the_function_words_cannot(detector):
    assert box_of(detector, blocks(*ARTICLE, *GERMAN_BOX)) == {3, 4, 5}
    # Too short to tell, before it or alone.
    short = ["Newsletter", "Jetzt abonnieren"]
    assert box_of(detector, blocks(*ARTICLE, *short)) == set()
    assert box_of(detector, blocks(*ARTICLE, ENGLISH_LINE, *short)) == set()
    page = blocks(*ARTICLE, *short, ENGLISH_LINE, *GERMAN_BOX)
    assert box_of(detector, page) == {6, 7, 8}
    # langdetect is asked from 40 characters and five words of four letters.
    forty = ["Jetzt gratis testen!", "Die Vorteile nutzen"]  # 40 characters, 5 words
    assert len(" ".join(forty)) == 40
    assert box_of(detector, blocks(*ARTICLE, *forty)) == {3, 4}
    too_short = ["Jetzt gratis testen!", "Vorteile sichern"]  # 37 characters
    assert box_of(detector, blocks(*ARTICLE, *too_short)) == set()
    page = blocks(*ARTICLE, "Jetzt testen!", "Gratis: 0800 123 456 – Mo–Fr 8–20 Uhr")
    assert box_of(detector, page) == set()
    # Lines langdetect reads as the article's own language are no box.
    english = ["Free shipping worldwide", "Members get exclusive discounts", "Subscribe now"]
    assert box_of(detector, blocks(*ARTICLE, *english)) == set()


def test_another_script_makes_a_run_sure(detector):
    page = blocks(*ARTICLE, "Подпишитесь на канал!", "Наш Telegram-канал")
    assert box_of(detector, page) == {3, 4}


def test_without_an_article_language_there_is_no_foreign_box(detector):
    figures = " ".join(f"{i}:{i + 1}" for i in range(120))
    page = (Block(figures), Block("Abonnez-vous à la lettre du quartier", kind="head"))
    description = describe(page, detector)
    assert description.language is None
    assert description.box == frozenset()


RUSSIAN = [
    "Волонтёры, которые работают в мастерской в старом пожарном депо, в этом году починили "
    "больше двухсот тостеров, ламп и велосипедов.",
    "Большинство мастеров — инженеры на пенсии, но весной к ним присоединились студенты "
    "колледжа, которые чинят телефоны и ноутбуки.",
    "Пользоваться мастерской можно бесплатно, но посетителей просят оставить пожертвование "
    "на запчасти для следующих ремонтов.",
]
SWEDISH = [
    "Volontärerna som driver reparationskaféet i den gamla brandstationen lagade mer än "
    "tvåhundra brödrostar, lampor och cyklar i år, och kön växer varje månad.",
    "De flesta är pensionerade ingenjörer, men i våras anslöt studenter från högskolan som "
    "nu lagar telefoner och datorer den första lördagen varje månad.",
    "Kaféet är gratis, men besökarna ombeds lämna ett bidrag till reservdelar, och "
    "arrangörerna hoppas kunna öppna ett andra rum när värmen fungerar.",
]


@pytest.mark.parametrize(("language", "article"), [("ru", RUSSIAN), ("sv", SWEDISH)])
def test_a_foreign_box_beside_an_article_in_a_language_without_function_words(
    detector, language, article
):
    # The article's short paragraphs hold words other languages' lists have ("i", "men"),
    # so the box must not take them; its button goes on its own wording. Its closing line
    # goes too when langdetect places it (Russian article), and may stay when only the
    # function words could (Swedish): a line of boilerplate kept, never the article lost.
    page = (*blocks(*article), *blocks(CLOSING, CLOSING_BUTTON))
    result = clean_blocks(page, detector)
    assert result.language == language
    assert [b.text for b in result.kept][: len(article)] == article
    assert CLOSING_BUTTON in {r.text for r in result.removed}
