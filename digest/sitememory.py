"""What a site repeats on its pages: block fingerprints and the memory built from them.

A footer, an "About us" paragraph or a sign-up box that extraction leaves inside the article
is the same text on every page of the site. A block is known by a short hash of its words;
the store keeps, per host, the fingerprints of every page it took in (`Store.site_blocks`),
and a page's block seen on another page of its site counts as boilerplate (digest.clean).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass

from .models import Block, ExtractedPage

# Long blocks are also known by their first words (see `fingerprints`).
PREFIX_WORDS = 12


@dataclass(frozen=True)
class SiteMemory:
    """Block fingerprints already seen on other pages of the same site."""

    seen: Mapping[str, int]  # fingerprint -> number of other pages it appeared on


def site_memories(
    prints: Mapping[str, list[str]], stored: Mapping[str, set[str]]
) -> dict[str, SiteMemory]:
    """What each page of one site may know of the others: {url: memory}.

    `prints` holds the block fingerprints of this batch's pages of the site, `stored` the
    fingerprint -> URLs remembered from earlier runs. A page's own blocks never count.
    """
    seen: dict[str, set[str]] = {fp: set(urls) for fp, urls in stored.items()}
    for url, page_prints in prints.items():
        for fp in page_prints:
            seen.setdefault(fp, set()).add(url)
    memories = {}
    for url in prints:
        others = {fp: len(urls) - (url in urls) for fp, urls in seen.items()}
        memories[url] = SiteMemory({fp: n for fp, n in others.items() if n > 0})
    return memories


def fingerprint(text: str) -> str:
    normalised = re.sub(r"\W+", " ", text.lower()).strip()
    return hashlib.sha1(normalised.encode("utf-8")).hexdigest()[:16]


def fingerprints(text: str) -> list[str]:
    """The block's fingerprint, and for a long block also that of its opening words: a
    site's "About us" paragraph is often edited at the end from one page to the next."""
    words = re.findall(r"\w+", text.lower())
    prints = [fingerprint(text)]
    if len(words) >= PREFIX_WORDS * 2:
        prints.append("opening:" + fingerprint(" ".join(words[:PREFIX_WORDS])))
    return prints


def page_fingerprints(page: ExtractedPage) -> list[str]:
    """Every fingerprint of a page's blocks (what the store remembers of the page)."""
    return [fp for block in page.blocks for fp in fingerprints(block.text)]


def repeated_blocks(blocks: tuple[Block, ...], site: SiteMemory | None) -> set[int]:
    """Indexes of the blocks seen on other pages of the site."""
    if site is None or not site.seen:
        return set()
    hits = {
        i
        for i, block in enumerate(blocks)
        if any(fp in site.seen for fp in fingerprints(block.text))
    }
    # Most of the page seen before is the same article republished, not chrome.
    return set() if len(hits) * 2 > len(blocks) else hits
