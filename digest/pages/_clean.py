"""Remove the boilerplate that extraction leaves inside an article's blocks.

No single signal is trusted alone: langdetect calls a short English bullet German, a real
paragraph may say "subscribe", and the last paragraph of every article sits at the edge.
Each block is described by general features (link text, place in the page and around the
article, length, punctuation and case, wording, language against the article's, and the same
of its neighbours; _block_model.py), and a logistic regression fitted on real pages
(bench/fit_blocks.py) turns them into the log-odds that it is boilerplate. The site's memory
adds its terms when the page is decided: a block seen on other pages of the site.

A block goes when its log-odds reach the model's `remove_at`. Boilerplate comes in boxes, so
a block whose log-odds reach the lower `join_at` goes with a removed neighbour, a short block
between two removed ones goes with them, a heading whose section is all removed goes with
it, and at the end of the page what follows removed boilerplate goes when it is suspect too.
A box in another language than the article's at the top or bottom of the page goes whole
(`foreign_box`). Its strongest signal is each removed block's recorded reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..models import Block, CleanedText, ExtractedPage, RemovedBlock
from ._block_model import (
    FEATURES,
    PROSE_MIN_CHARS,
    BlockModel,
    block_features,
    shipped_model,
    site_terms,
)
from ._language import (
    LanguageDetector,
    article_language,
    function_word_votes,
    language_mismatch,
)
from ._phrases import phrase_signal
from ._site_memory import (
    SiteMemory,
    all_seen_whole,
    block_fingerprints,
    fingerprint,
    fingerprints,
    page_fingerprints,
    repeated_blocks,
    site_memories,
)

__all__ = [
    "BlockModel",
    "Description",
    "LanguageDetector",
    "ScoredBlocks",
    "SiteMemory",
    "all_seen_whole",
    "block_fingerprints",
    "clean_blocks",
    "clean_page",
    "decide",
    "describe",
    "fingerprint",
    "fingerprints",
    "page_fingerprints",
    "repeated_blocks",
    "score_blocks",
    "score_page",
    "site_memories",
    "weigh",
]

# Link density (share of the block's characters inside links) of a teaser or a "related"
# list; long paragraphs that are one big link exist (a linked quote). Only the recorded
# reason uses these; the model reads the density itself.
LINKS_HIGH, LINKS_SOME, LINKS_MAX_CHARS, LINKS_MAX_LIST_CHARS = 0.7, 0.4, 300, 1000
LINKS_SOME_LIST = 0.3
# A block this short between two removed ones is part of the same box.
BETWEEN_MAX_CHARS = 200
# Share of words a heading must share with the page title to be taken for it.
TITLE_OVERLAP = 0.8
# Blocks above the title heading shorter than this are the page's chrome.
ABOVE_TITLE_MAX_CHARS = 150
# A heading under the title at least this long is a standfirst, not a section title.
STANDFIRST_MIN_CHARS = 80
# A heading with no section of its own, this short, beside a removed block is a box line.
BOX_HEADING_MAX_CHARS = 100
# A likely label heading ("Press contact") this near the end takes its section too.
TAIL_LABEL_BLOCKS = 8
# Blocks under a label heading this short belong to its box, and up to the longer length
# when they are links.
SECTION_SHORT_CHARS, SECTION_MEMBER_MAX_CHARS = 120, 500
# Below this much prose (a page of headings and lists), the lists speak for the language.
ARTICLE_PROSE_MIN_CHARS = 400
# Block languages are not judged below this length: names and figures say nothing.
LANGUAGE_MIN_CHARS = 12
# A box around the article is a run of blocks this short (a tagline, a pitch, a button).
BOX_BLOCK_MAX_CHARS = 320
# Looked for among this many blocks at each end of the page.
BOX_MAX_BLOCKS = 8
# langdetect is sure of a run's text this long at this probability (shorter, it guesses);
# it is given at most the longer length.
SURE_DETECTION_CHARS, SURE_DETECTION, RUN_SAMPLE_CHARS = 40, 0.9, 600
# Words of four letters or more a run needs for langdetect to be asked about it.
RUN_MIN_WORDS = 5
_LONG_WORD = re.compile(r"[^\W\d_]{4,}")
_URL_ONLY = re.compile(r"^\S+://\S+$|^www\.\S+$")


Signal = tuple[int, str]  # (weight, reason)


@dataclass(frozen=True)
class Description:
    """What cleaning learns of a page's blocks without knowing the site or the weights."""

    blocks: tuple[Block, ...]
    title: str | None
    language: str | None
    signals: tuple[tuple[Signal, ...], ...]  # per block: its wording, links and title signals
    language_weights: tuple[int, ...]  # per block: its language mismatch (0 when none)
    features: list[list[float]]  # per block: _block_model.FEATURES
    box: frozenset[int]  # blocks of a box in another language at the top or bottom


@dataclass(frozen=True)
class ScoredBlocks:
    """A page's blocks and what cleaning learns of them without knowing the site.

    The site's memory adds its terms to some blocks' log-odds and changes nothing else
    (neither the article's language nor any other signal), so a page is scored once, in a
    worker, and only decided again when its site repeats some of its blocks.
    """

    blocks: tuple[Block, ...]
    title: str | None
    language: str | None
    signals: tuple[tuple[Signal, ...], ...]
    language_weights: tuple[int, ...]
    log_odds: tuple[float, ...]  # per block, before the site's terms
    box: frozenset[int]


def clean_page(
    page: ExtractedPage, detector: LanguageDetector, site: SiteMemory | None = None
) -> CleanedText:
    """The clean stage for one extracted page (what ingest and `digest extract` run)."""
    return clean_blocks(page.blocks, detector, site, page.language, page.title)


def score_page(page: ExtractedPage, detector: LanguageDetector) -> ScoredBlocks:
    return score_blocks(page.blocks, detector, page.language, page.title)


def clean_blocks(
    blocks: tuple[Block, ...],
    detector: LanguageDetector,
    site: SiteMemory | None = None,
    declared_language: str | None = None,
    title: str | None = None,
) -> CleanedText:
    """Score every block and drop the boilerplate. Pure but for langdetect's CPU time."""
    scored = score_blocks(blocks, detector, declared_language, title)
    if site is None or not site.seen:
        return decide(scored, set())
    return decide(scored, repeated_blocks(block_fingerprints(blocks), site))


def score_blocks(
    blocks: tuple[Block, ...],
    detector: LanguageDetector,
    declared_language: str | None = None,
    title: str | None = None,
    model: BlockModel | None = None,
) -> ScoredBlocks:
    """The article's language and every block's log-odds but the site's (the costly part)."""
    return weigh(describe(blocks, detector, declared_language, title), model)


def describe(
    blocks: tuple[Block, ...],
    detector: LanguageDetector,
    declared_language: str | None = None,
    title: str | None = None,
) -> Description:
    """The article's language and every block's features."""
    # Tables of names and figures (sports results, prices) say little about the language,
    # nor do headings (names of things, often borrowed from another language).
    prose = [b.text for b in blocks if b.kind not in ("table", "list", "head")]
    if sum(len(text) for text in prose) < ARTICLE_PROSE_MIN_CHARS:
        prose = [b.text for b in blocks if b.kind != "table"] or [b.text for b in blocks]
    language = article_language(prose, detector, declared_language)
    language_weights = tuple(
        language_mismatch(block.text, language, detector)
        if language and len(block.text) >= LANGUAGE_MIN_CHARS and block.kind != "table"
        else 0
        for block in blocks
    )
    phrases = [phrase_signal(block.text) for block in blocks]
    marks = _title_marks(blocks, title)
    features = block_features(blocks, phrases, language_weights, marks)
    signals = tuple(
        _own_signals(block, phrase, marks.get(index))
        for index, (block, phrase) in enumerate(zip(blocks, phrases, strict=True))
    )
    box = foreign_box(blocks, language, language_weights, phrases, features, marks, detector)
    return Description(blocks, title, language, signals, language_weights, features, box)


def weigh(description: Description, model: BlockModel | None = None) -> ScoredBlocks:
    """The description's blocks with their log-odds under `model` (the shipped one)."""
    model = model or shipped_model()
    return ScoredBlocks(
        description.blocks,
        description.title,
        description.language,
        description.signals,
        description.language_weights,
        model.log_odds(description.features),
        description.box,
    )


def decide(
    scored: ScoredBlocks, repeated: set[int], model: BlockModel | None = None
) -> CleanedText:
    """Drop the blocks whose log-odds, with the site's terms for `repeated`, reach the
    model's thresholds."""
    model = model or shipped_model()
    blocks = scored.blocks
    count = len(blocks)
    site = site_terms(model, repeated, count)
    odds = [own + extra for own, extra in zip(scored.log_odds, site, strict=True)]
    gone = {i for i, value in enumerate(odds) if value >= model.remove_at} | scored.box
    suspect = {i for i, value in enumerate(odds) if value >= model.join_at}
    # Boilerplate comes in boxes: repeat until no block joins.
    while True:
        joining = {i for i in suspect - gone if {i - 1, i + 1} & gone}
        joining |= {
            i
            for i in range(1, count - 1)
            if i not in gone and {i - 1, i + 1} <= gone and len(blocks[i].text) < BETWEEN_MAX_CHARS
        }
        joining |= _orphan_headings(blocks, gone)
        joining |= _labelled_sections(blocks, scored.signals, gone, suspect)
        joining |= _trailing_run(blocks, suspect, gone)
        if not joining:
            break
        gone |= joining
    kept: list[Block] = []
    removed: list[RemovedBlock] = []
    for index, block in enumerate(blocks):
        if index in gone:
            removed.append(RemovedBlock(block.text, _reason(scored, index, index in repeated)))
        else:
            kept.append(block)
    text = "\n\n".join(block.text for block in kept)
    return CleanedText(
        text=text, language=scored.language, kept=tuple(kept), removed=tuple(removed)
    )


def foreign_box(
    blocks: tuple[Block, ...],
    language: str | None,
    language_weights: tuple[int, ...],
    phrases: list[Signal],
    features: list[list[float]],
    marks: dict[int, str],
    detector: LanguageDetector,
) -> frozenset[int]:
    """The blocks of a box in another language than the article's, at the top or bottom.

    A run of short blocks at either end (under the title), none in the article's language
    and one at least surely in another, is a box when it holds one call to action or sign-up
    signal (a wording of _phrases.py, sign-up words, the shape of a button or a perks line):
    it goes whole, its tagline and closing line with its pitch, whatever their wording.
    A line is placed by its function words (`_other_language`); one with none of the
    article's belongs to the run, so a box's short button or brand line goes with it. When
    no line of a run is surely in another language, langdetect is asked once, on the whole
    run's text.
    """
    if not language or not blocks:
        return frozenset()
    found: set[int] = set()
    count = len(blocks)
    ends = (
        range(min(BOX_MAX_BLOCKS, count)),
        range(count - 1, max(-1, count - 1 - BOX_MAX_BLOCKS), -1),
    )
    for order in ends:
        # The box's zone: short blocks up to the article's first long paragraph in its own
        # language (a standfirst may stand above the box).
        zone: list[int] = []
        for index in order:
            if index in marks:
                continue  # the title and what stands above it
            block = blocks[index]
            if len(block.text) >= BOX_BLOCK_MAX_CHARS or block.kind == "table":
                break
            if (
                language_weights[index] == 0
                and len(block.text) >= PROSE_MIN_CHARS
                and _other_language(block.text, language) is None
            ):
                break  # article prose
            zone.append(index)
        zone.sort()
        found |= _box_runs(blocks, language, language_weights, phrases, features, zone, detector)
    return frozenset(found)


def _box_runs(
    blocks: tuple[Block, ...],
    language: str,
    language_weights: tuple[int, ...],
    phrases: list[Signal],
    features: list[list[float]],
    zone: list[int],
    detector: LanguageDetector,
) -> set[int]:
    """The runs of blocks of `zone` outside the article's language that make a box: one
    surely in another language, one call to action among them."""
    signup = FEATURES.index("signup_words")
    shape = FEATURES.index("cta_shape")
    calls = {
        i
        for i in zone
        if phrases[i][1] == "promo" or features[i][signup] >= 2 / 3 or features[i][shape]
    }
    if not calls:
        return set()
    # Runs of blocks outside the article's language; one in it ends a run.
    runs: list[tuple[list[int], bool]] = []
    members: list[int] = []
    sure = False
    for index in [*zone, None]:
        other = (
            None
            if index is None
            else True
            if language_weights[index] >= 1
            else _other_language(blocks[index].text, language)
        )
        if other is None:
            if members:
                runs.append((members, sure))
            members, sure = [], False
            continue
        members.append(index)
        sure = sure or other
    # A lone line whose only call is its shape (an exclamation) is a quotation or a motto as
    # often as a button: it needs a wording of its own or a box around it.
    worded = {i for i in calls if phrases[i][1] == "promo" or features[i][signup] >= 2 / 3}
    found: set[int] = set()
    for members, sure in runs:
        if not (worded & set(members) or (len(members) >= 2 and calls & set(members))):
            continue
        if not sure:
            # Lines too short for function words: langdetect, once, on the run's text, when
            # it has words enough to tell (not a run of names, figures and symbols).
            text = " ".join(blocks[i].text for i in members)[:RUN_SAMPLE_CHARS]
            if len(text) < SURE_DETECTION_CHARS or len(_LONG_WORD.findall(text)) < RUN_MIN_WORDS:
                continue
            detected, probability = detector.detect(text)
            sure = detected not in (None, language) and probability >= SURE_DETECTION
        if sure:
            found.update(members)
    return found


def _other_language(text: str, language: str) -> bool | None:
    """Whether a line the language check left alone is in another language than `language`,
    by its function words: None when it is in `language` (or when the function words of
    `language` are not known), True when surely not (two words of other languages), False
    when only probably not (none of the article's words). langdetect
    is not asked: it guesses on short lines, and costs as much as the rest of a page."""
    votes = dict(function_word_votes(text))
    if votes.get(language, 0) >= 1:
        return None
    if language not in votes:
        # No function words known for the article's language (ru, sv, ...): its own lines
        # hold words that other languages' lists have ("i", "men"), so the words tell
        # nothing, and the line is left to the language check (langdetect): a box's short
        # line it cannot place stays, rather than the article's short paragraphs going.
        return None
    return sum(votes.values()) >= 2


def _own_signals(block: Block, phrase: Signal, mark: str | None) -> tuple[Signal, ...]:
    """The block's wording, links and title signals, for the reason a removal records."""
    signals: list[Signal] = []
    if phrase[0]:
        signals.append(phrase)
    if mark:
        signals.append((3, "position" if mark == "above_title" else mark))
    links = _link_weight(block)
    if links:
        signals.append((links, "links"))
    return tuple(signals)


def _reason(scored: ScoredBlocks, index: int, repeated: bool) -> str:
    """The strongest signal of a removed block (the first of equals)."""
    signals = list(scored.signals[index])
    if repeated:
        signals.append((3, "repeated-on-site"))
    weight = scored.language_weights[index]
    if weight or index in scored.box:
        signals.append((max(weight, 1), "language"))
    if signals:
        return max(signals, key=lambda s: s[0])[1]
    return "heading" if scored.blocks[index].kind == "head" else "position"


def _link_weight(block: Block) -> int:
    if block.kind == "table" or _URL_ONLY.match(block.text):
        return 0
    if len(block.text) > (LINKS_MAX_LIST_CHARS if block.kind == "list" else LINKS_MAX_CHARS):
        return 0
    if block.link_density >= LINKS_HIGH:
        return 2
    some = LINKS_SOME_LIST if block.kind == "list" else LINKS_SOME
    return 1 if block.link_density >= some else 0


def _normal(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.lower()))


def _same_title(heading: str, title: str) -> bool:
    """The heading says the title, give or take a word (sites trim names or site labels)."""
    heading_words, title_words = set(_normal(heading).split()), set(_normal(title).split())
    if not heading_words or not title_words:
        return False
    shared = len(heading_words & title_words)
    return shared >= TITLE_OVERLAP * max(len(heading_words), len(title_words)) or (
        heading_words <= title_words
    )


def _title_marks(blocks: tuple[Block, ...], title: str | None) -> dict[int, str]:
    """A heading at the top that repeats the page title is the title, not the article; short
    lines above it are the page's kicker, breadcrumbs or address; a long heading right under
    it is the standfirst, which restates the story and would open every summary."""
    if not title:
        return {}
    for index, block in enumerate(blocks[:3]):
        if block.kind == "head" and _same_title(block.text, title):
            marks = {index: "title"}
            for before in range(index):
                if len(blocks[before].text) < ABOVE_TITLE_MAX_CHARS:
                    marks[before] = "above_title"
            after = index + 1
            if (
                after < len(blocks)
                and blocks[after].kind == "head"
                and len(blocks[after].text) >= STANDFIRST_MIN_CHARS
            ):
                marks[after] = "standfirst"
            return marks
    return {}


def _labelled_sections(
    blocks: tuple[Block, ...],
    signals: tuple[tuple[Signal, ...], ...],
    gone: set[int],
    suspect: set[int],
) -> set[int]:
    """The blocks under a heading that is itself a label ("Related stories", "About the
    author"), up to the next heading, that are short, links or suspect themselves (a label
    misread in the middle of an article must not take the article with it)."""
    members = set()
    for index, block in enumerate(blocks):
        if block.kind != "head" or index not in gone:
            continue
        # A strong label anywhere ("Related stories"), a likely one in the tail ("Contact").
        tail = index >= len(blocks) - TAIL_LABEL_BLOCKS
        wording = signals[index][0] if signals[index] else (0, "")
        if wording != (3, "promo") and not (tail and wording == (2, "promo")):
            continue
        for after in range(index + 1, len(blocks)):
            if blocks[after].kind == "head":
                break
            block = blocks[after]
            if after not in gone and (
                after in suspect
                or len(block.text) < SECTION_SHORT_CHARS
                or (
                    block.link_density >= LINKS_SOME_LIST
                    and len(block.text) < SECTION_MEMBER_MAX_CHARS
                )
            ):
                members.add(after)
    return members


def _trailing_run(blocks: tuple[Block, ...], suspect: set[int], gone: set[int]) -> set[int]:
    """At the end of the page, once a block was removed, what follows it goes too when every
    block is suspect itself or is a heading (a promo heading over teaser lists)."""
    run = []
    for index in range(len(blocks) - 1, -1, -1):
        if index not in gone and index not in suspect and blocks[index].kind != "head":
            break
        run.append(index)
    removed = [i for i in run if i in gone]
    if not removed:
        return set()
    return {i for i in run if i > min(removed) and i not in gone}


def _orphan_headings(blocks: tuple[Block, ...], gone: set[int]) -> set[int]:
    """Headings whose whole section went, headings with no section of their own beside a
    removed block (a box laid out as a run of headings), and headings left at the end."""
    orphans = set()
    following_kept = False
    for index in range(len(blocks) - 1, -1, -1):
        if index in gone:
            continue
        if blocks[index].kind == "head":
            section = range(index + 1, len(blocks))
            nxt = next((i for i in section if blocks[i].kind == "head"), len(blocks))
            body = range(index + 1, nxt)
            if (
                not following_kept
                or (body and all(i in gone for i in body))
                or (
                    not body
                    and len(blocks[index].text) < BOX_HEADING_MAX_CHARS
                    and {index - 1, index + 1} & gone
                )
            ):
                orphans.add(index)
                continue
        following_kept = True
    return orphans
