"""What a site repeats on its pages: block fingerprints and the memory built from them.

A footer, an "About us" paragraph or a sign-up box that extraction leaves inside the article
is the same text on every page of the site. A block is known by a short hash of its words;
the store keeps, per host, the fingerprints of every page it took in (`Store.site_blocks`),
and a page's block seen on another page of its site counts as boilerplate (the clean stage).
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from ..models import Block, ExtractedPage

# Long blocks are also known by their first words (see `fingerprints`).
PREFIX_WORDS = 12
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class SiteMemory:
    """Block fingerprints already seen on other pages of the same site."""

    seen: Mapping[str, int]  # fingerprint -> number of other pages it appeared on


def site_memories(
    prints: Mapping[str, Iterable[str]], stored: Mapping[str, set[str]]
) -> dict[str, SiteMemory]:
    """What each page of one site may know of the others: {url: memory}.

    `prints` holds the block fingerprints of this batch's pages of the site, `stored` the
    fingerprint -> URLs remembered from earlier runs. A page's own blocks never count. A
    page's memory holds only its own fingerprints (nothing else is looked up), so this is
    one pass over the batch, not one over the whole site per page; and it counts pages
    rather than collecting them, since a set per fingerprint is most of the stage's cost
    on a big batch (allocation and the garbage collector's passes over it).
    """
    in_batch: Counter[str] = Counter()
    for page_prints in prints.values():
        in_batch.update(set(page_prints))
    # Stored pages that are not in this batch (a page taken in again is not its own other).
    earlier = {fp: len(urls - prints.keys()) for fp, urls in stored.items() if fp in in_batch}
    memories = {}
    for url, page_prints in prints.items():
        others = {fp: in_batch[fp] - 1 + earlier.get(fp, 0) for fp in page_prints}
        memories[url] = SiteMemory({fp: n for fp, n in others.items() if n > 0})
    return memories


def fingerprint(text: str) -> str:
    """A hash of the block's words, so that case, punctuation and spacing do not count."""
    return _hash(_WORD.findall(text.lower()))


def fingerprints(text: str) -> list[str]:
    """The block's fingerprint, and for a long block also that of its opening words: a
    site's "About us" paragraph is often edited at the end from one page to the next."""
    words = _WORD.findall(text.lower())
    prints = [_hash(words)]
    if len(words) >= PREFIX_WORDS * 2:
        prints.append("opening:" + _hash(words[:PREFIX_WORDS]))
    return prints


def _hash(words: list[str]) -> str:
    return hashlib.sha1(" ".join(words).encode("utf-8")).hexdigest()[:16]


def block_fingerprints(blocks: Iterable[Block]) -> tuple[tuple[str, ...], ...]:
    """Each block's fingerprints, in block order."""
    return tuple(tuple(fingerprints(block.text)) for block in blocks)


def page_fingerprints(page: ExtractedPage) -> list[str]:
    """Every fingerprint of a page's blocks (what the store remembers of the page)."""
    return [fp for block in page.blocks for fp in fingerprints(block.text)]


def repeated_blocks(prints: Sequence[Sequence[str]], site: SiteMemory | None) -> set[int]:
    """Indexes of the blocks seen on other pages of the site; `prints` are each block's."""
    if site is None or not site.seen:
        return set()
    seen = site.seen
    hits = {i for i, block_prints in enumerate(prints) if any(fp in seen for fp in block_prints)}
    # Most of the page seen before is the same article republished, not chrome.
    return set() if len(hits) * 2 > len(prints) else hits


def all_seen_whole(prints: Sequence[Sequence[str]], site: SiteMemory) -> bool:
    """Whether every block (`prints`, each block's fingerprints) is, whole, on other pages
    of the site: its own fingerprint seen, not only that of its opening words, which briefs
    of one template share. False for a page without blocks."""
    return bool(prints) and all(block and block[0] in site.seen for block in prints)
