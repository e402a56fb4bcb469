"""Remove the boilerplate that extraction leaves inside an article's blocks.

No single signal is trusted alone: langdetect calls a short English bullet German, a real
paragraph may say "subscribe", and the last paragraph of every article sits at the edge.
Each block gets a score from several signals and goes only when they add up:

    wording (_phrases.py)     3 for an unmistakable call to action or label ("Read also:",
                              a newsletter pitch, a cookie line); 2 for a likely one, a
                              byline, a photo credit or a date line
    links                     2 when most of a short block or of a list is link text (a
                              teaser or a "related" list), 1 when much of it is
    language mismatch         2 when the block is surely in another language than the
                              article (_language.py), 1 when probably
    repeated on the site      3 when the same block was seen on another page of the site
    the title again           3 for a heading at the top that repeats the page's title
    at the edge               1 in the first two or last three blocks, or next to an edge
                              block already removed (boilerplate comes in runs)
    next to boilerplate       1 for a block with a signal of its own (not only its position)
                              beside a removed block; a short block between two removed
                              blocks goes with them; a heading whose section is all removed
                              goes with it, as do headings left at the end

A block is removed at REMOVE_AT or above; its strongest signal is the recorded reason.
The weights and thresholds here, in _phrases.py and in _language.py were calibrated together
on real pages (`bench/extraction_quality.py`); change them as a set, not one at a time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..models import Block, CleanedText, ExtractedPage, RemovedBlock
from ._language import LanguageDetector, article_language, language_mismatch
from ._phrases import phrase_signal
from ._site_memory import (
    SiteMemory,
    block_fingerprints,
    fingerprint,
    fingerprints,
    page_fingerprints,
    repeated_blocks,
    site_memories,
)

__all__ = [
    "LanguageDetector",
    "ScoredBlocks",
    "SiteMemory",
    "block_fingerprints",
    "clean_blocks",
    "clean_page",
    "decide",
    "fingerprint",
    "fingerprints",
    "page_fingerprints",
    "repeated_blocks",
    "score_blocks",
    "score_page",
    "site_memories",
]

REMOVE_AT = 3
EDGE_HEAD, EDGE_TAIL = 2, 3
# Link density (share of the block's characters inside links) of a teaser or a "related"
# list; long paragraphs that are one big link exist (a linked quote) and are kept.
LINKS_HIGH, LINKS_SOME, LINKS_MAX_CHARS, LINKS_MAX_LIST_CHARS = 0.7, 0.4, 300, 1000
# A list whose items each link a headline and add a line of teaser text.
LINKS_SOME_LIST = 0.3
# A block this short between two removed ones is part of the same box.
BETWEEN_MAX_CHARS = 200
# The last block after two removed ones, this short, is part of their box.
LAST_LINE_MAX_CHARS = 300
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
# Blocks under a label heading this short belong to its box.
SECTION_MEMBER_MAX_CHARS = 500
# Below this much prose (a page of headings and lists), the lists speak for the language.
ARTICLE_PROSE_MIN_CHARS = 400
# A block this short at the edge beside a removed block belongs to the same box.
EDGE_SHORT_CHARS = 60
# Block languages are not judged below this length: names and figures say nothing.
LANGUAGE_MIN_CHARS = 12
_URL_ONLY = re.compile(r"^\S+://\S+$|^www\.\S+$")


Signal = tuple[int, str]  # (weight, reason)


@dataclass(frozen=True)
class ScoredBlocks:
    """A page's blocks and what cleaning learns of them without knowing the site.

    The site's memory adds one signal, "repeated-on-site", to some blocks and changes
    nothing else (neither the article's language nor any other signal), so a page is scored
    once, in a worker, and only decided again when its site repeats some of its blocks.
    """

    blocks: tuple[Block, ...]
    title: str | None
    language: str | None
    signals: tuple[tuple[Signal, ...], ...]  # per block: its wording and links signals
    language_weights: tuple[int, ...]  # per block: its language mismatch (0 when none)


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
) -> ScoredBlocks:
    """The article's language and every block's signals but the site's (the costly part)."""
    # Tables of names and figures (sports results, prices) say little about the language,
    # nor do headings (names of things, often borrowed from another language).
    prose = [b.text for b in blocks if b.kind not in ("table", "list", "head")]
    if sum(len(text) for text in prose) < ARTICLE_PROSE_MIN_CHARS:
        prose = [b.text for b in blocks if b.kind != "table"] or [b.text for b in blocks]
    language = article_language(prose, detector)
    language = language or declared_language
    language_weights = tuple(
        language_mismatch(block.text, language, detector)
        if language and len(block.text) >= LANGUAGE_MIN_CHARS and block.kind != "table"
        else 0
        for block in blocks
    )
    signals = tuple(_own_signals(block) for block in blocks)
    return ScoredBlocks(blocks, title, language, signals, language_weights)


def decide(scored: ScoredBlocks, repeated: set[int]) -> CleanedText:
    """Drop the blocks whose signals, with "repeated-on-site" for `repeated`, add up."""
    blocks = scored.blocks
    scores = [
        _score(own, index in repeated, language_weight)
        for index, (own, language_weight) in enumerate(
            zip(scored.signals, scored.language_weights, strict=True)
        )
    ]
    _mark_title(blocks, scores, scored.title)
    edge = _edge_indexes(scores, len(blocks))
    # A sentence in another language alone at the edge is a quotation or a motto as often
    # as a box; it goes only beside removed boilerplate (joining, below).
    final = [
        (s + 1, r or "position") if i in edge and r != "language" else (s, r)
        for i, (s, r) in enumerate(scores)
    ]
    gone = {i for i, (score, _) in enumerate(final) if score >= REMOVE_AT}
    # A suspicious block next to removed boilerplate is part of the same box ("Je m'abonne"
    # under a French sign-up paragraph); repeat until no block joins.
    while True:
        joining = {
            i
            for i, (score, _) in enumerate(final)
            if i not in gone
            and score + 1 >= REMOVE_AT
            and score > (i in edge)
            and ({i - 1, i + 1} & gone)
        }
        joining |= {
            i
            for i in range(1, len(blocks) - 1)
            if i not in gone and {i - 1, i + 1} <= gone and len(blocks[i].text) < BETWEEN_MAX_CHARS
        }
        # A short block at the very start or end beside a removed one is the box's title
        # or button ("La lettre du vendredi" above a French sign-up paragraph).
        joining |= {
            i
            for i in edge
            if i not in gone
            and blocks[i].kind != "head"
            and len(blocks[i].text) < EDGE_SHORT_CHARS
            and not blocks[i].text.rstrip("\"'”’)»").endswith((".", "!", "?"))
            and ({i - 1, i + 1} & gone)
            and (i < EDGE_HEAD or i >= len(blocks) - EDGE_TAIL)
        }
        # The last block after two removed ones with signals of their own is the box's
        # last line.
        last = len(blocks) - 1
        if (
            last >= 2
            and last not in gone
            and {last - 1, last - 2} <= gone
            and scores[last - 1][0] > 0
            and scores[last - 2][0] > 0
            and len(blocks[last].text) < LAST_LINE_MAX_CHARS
        ):
            joining.add(last)
        joining |= _orphan_headings(blocks, gone)
        joining |= _labelled_sections(blocks, scores, gone)
        joining |= _trailing_run(blocks, scores, gone)
        if not joining:
            break
        for i in joining:
            if not final[i][1]:
                final[i] = (final[i][0], "heading" if blocks[i].kind == "head" else "position")
        gone |= joining
    kept: list[Block] = []
    removed: list[RemovedBlock] = []
    for index, block in enumerate(blocks):
        if index in gone:
            removed.append(RemovedBlock(block.text, final[index][1]))
        else:
            kept.append(block)
    text = "\n\n".join(block.text for block in kept)
    return CleanedText(
        text=text, language=scored.language, kept=tuple(kept), removed=tuple(removed)
    )


def _own_signals(block: Block) -> tuple[Signal, ...]:
    """The block's wording and links signals, in the order `_score` weighs them."""
    signals: list[Signal] = []
    wording = phrase_signal(block.text)
    if wording[0]:
        signals.append(wording)
    links = _link_weight(block)
    if links:
        # A linked line in capitals is a teaser for another story ("SHARES PLUNGE AS ...").
        shouting = block.kind != "head" and _shouting(block.text)
        signals.append((links + shouting, "links"))
    return tuple(signals)


def _score(own: tuple[Signal, ...], repeated: bool, language_weight: int) -> Signal:
    """(total weight, reason of the strongest signal; the first of equals)."""
    signals = list(own)
    if repeated:
        signals.append((3, "repeated-on-site"))
    if language_weight:
        signals.append((language_weight, "language"))
    if not signals:
        return 0, ""
    total = sum(weight for weight, _ in signals)
    reason = max(signals, key=lambda s: s[0])[1]
    return total, reason


def _link_weight(block: Block) -> int:
    if block.kind == "table" or _URL_ONLY.match(block.text):
        return 0
    if len(block.text) > (LINKS_MAX_LIST_CHARS if block.kind == "list" else LINKS_MAX_CHARS):
        return 0
    if block.link_density >= LINKS_HIGH:
        return 2
    some = LINKS_SOME_LIST if block.kind == "list" else LINKS_SOME
    return 1 if block.link_density >= some else 0


def _shouting(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    return len(text.split()) >= 3 and len(letters) >= 12 and not any(c.islower() for c in letters)


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


def _mark_title(blocks: tuple[Block, ...], scores: list[tuple[int, str]], title: str | None):
    """A heading at the top that repeats the page title is the title, not the article."""
    if not title:
        return
    for index, block in enumerate(blocks[:3]):
        if block.kind == "head" and _same_title(block.text, title):
            scores[index] = (scores[index][0] + 3, "title")
            # Short lines above the title are the page's kicker, breadcrumbs or address.
            for before in range(index):
                if len(blocks[before].text) < ABOVE_TITLE_MAX_CHARS:
                    scores[before] = (scores[before][0] + 3, scores[before][1] or "position")
            # A long heading right under the title is the standfirst: it restates the
            # story and would open every summary.
            after = index + 1
            if (
                after < len(blocks)
                and blocks[after].kind == "head"
                and len(blocks[after].text) >= STANDFIRST_MIN_CHARS
            ):
                scores[after] = (scores[after][0] + 3, "standfirst")
            return


def _labelled_sections(
    blocks: tuple[Block, ...], scores: list[tuple[int, str]], gone: set[int]
) -> set[int]:
    """The short blocks under a heading that is itself a label ("Related stories", "About
    the author"), up to the next heading."""
    members = set()
    for index, block in enumerate(blocks):
        if block.kind != "head" or index not in gone:
            continue
        # A strong label anywhere ("Related stories"), a likely one in the tail ("Contact").
        tail = index >= len(blocks) - TAIL_LABEL_BLOCKS
        if scores[index] != (3, "promo") and not (tail and scores[index] == (2, "promo")):
            continue
        for after in range(index + 1, len(blocks)):
            if blocks[after].kind == "head":
                break
            if after not in gone and len(blocks[after].text) < SECTION_MEMBER_MAX_CHARS:
                members.add(after)
    return members


def _trailing_run(
    blocks: tuple[Block, ...], scores: list[tuple[int, str]], gone: set[int]
) -> set[int]:
    """At the end of the page, once a block was removed, what follows it goes too when every
    block has a signal of its own or is a heading (a promo heading over teaser lists)."""
    run = []
    for index in range(len(blocks) - 1, -1, -1):
        if index not in gone and scores[index][0] == 0 and blocks[index].kind != "head":
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


def _edge_indexes(scores: list[tuple[int, str]], count: int) -> set[int]:
    """Blocks at the start or end, extended inward while the block outside them goes."""
    edge = set(range(min(EDGE_HEAD, count))) | set(range(max(0, count - EDGE_TAIL), count))
    index = EDGE_HEAD
    while index < count and scores[index - 1][0] + 1 >= REMOVE_AT:
        edge.add(index)
        index += 1
    index = count - EDGE_TAIL - 1
    while index >= 0 and scores[index + 1][0] + 1 >= REMOVE_AT:
        edge.add(index)
        index -= 1
    return edge
