"""Extract an article page's main text and metadata with trafilatura, split into blocks.

Blocks (paragraphs, headings, lists) are what the clean stage judges one by one, so the
extraction keeps trafilatura's structure instead of flattening it to one string.
"""

from __future__ import annotations

import contextlib
import re
import unicodedata
from datetime import UTC, datetime

import lxml.etree
import lxml.html
import trafilatura
from htmldate import find_date
from trafilatura.metadata import (
    examine_meta,
    extract_meta_json,
    extract_title,
    extract_url,
)
from trafilatura.settings import Document, Extractor
from trafilatura.utils import load_html

from .errors import ExtractError
from .models import Block, ExtractedPage
from .text import collapse

_KINDS = {"head": "head", "p": "p", "list": "list", "quote": "quote", "table": "table"}
# trafilatura reports dates at day precision unless asked; keep the time, the digest shows it.
# The markup's own dates only (no search of the text for date-like strings): the feed gives
# a date too, and the text search cost more than the rest of the metadata together.
_DATE_PARAMS = {
    "extensive_search": False,
    "original_date": True,
    "outputformat": "%Y-%m-%dT%H:%M:%S%z",
}
# trafilatura's time grows with the markup (measured here: 2 s for 1 MB of paragraphs, 4.5 s
# for 2 MB, 82 s for 10 MB): past this size a page is cut, after dropping its scripts and
# styles, which trafilatura ignores anyway. News articles are far shorter.
MAX_MARKUP = 1024 * 1024
_HEAVY_TAGS = (b"script", b"style")
_HTML_LANG = re.compile(rb"<html[^>]*\blang\s*=\s*[\"']?([A-Za-z]{2,3})", re.IGNORECASE)


def extract_page(page: bytes | str, url: str) -> ExtractedPage:
    """Run trafilatura on one page. Raises ExtractError when no main text is found."""
    raw = page.encode("utf-8", "replace") if isinstance(page, str) else page
    if not raw.strip():
        raise ExtractError(url, "the page is empty")
    if b"\x00" in raw[:2048]:
        raise ExtractError(url, "the page is binary, not HTML")
    raw = fit_markup(raw)
    # Options chosen on the bench (bench/extraction_quality.py): balanced mode, because
    # favor_precision cut must-have text on one page in eight of the snippet set; no
    # comments, which carried more boilerplate than article there.
    options = Extractor(
        output_format="python",
        comments=False,
        tables=True,
        # Links are kept only to measure each block's link density (teasers, related lists).
        links=True,
        dedup=False,
        with_metadata=False,
        url=url,
    )
    try:
        # One parse for metadata and text: bare_extraction works on a copy of the tree.
        tree = load_html(raw)
        if tree is None:
            raise ExtractError(url, "the page is not HTML")
        metadata = _metadata(tree, url)
        document = trafilatura.bare_extraction(tree, url=url, options=options)
    except (ValueError, TypeError, lxml.etree.LxmlError) as error:
        raise ExtractError(url, f"trafilatura failed: {error}") from None
    if document is None or document.body is None:
        raise ExtractError(url, "trafilatura found no main text")
    blocks = tuple(_blocks(document.body))
    if not blocks:
        raise ExtractError(url, "trafilatura found no main text")
    return ExtractedPage(
        url=url,
        title=collapse(metadata.title) if metadata.title else None,
        author=collapse(metadata.author) if metadata.author else None,
        published=_parse_date(metadata.date),
        language=_markup_language(raw),
        canonical_url=metadata.url if metadata.url and metadata.url.startswith("http") else None,
        blocks=blocks,
    )


def fit_markup(raw: bytes, limit: int = MAX_MARKUP) -> bytes:
    """`raw` without <script> and <style> elements, then cut to `limit` bytes, when it is
    longer than `limit`. Linear in the page size, whatever tags a hostile page repeats."""
    if len(raw) <= limit:
        return raw
    lower = raw.lower()
    parts: list[bytes] = []
    kept = 0
    position = 0
    upcoming = {tag: lower.find(b"<" + tag, 0) for tag in _HEAVY_TAGS}
    while position < len(raw):
        for tag, found in upcoming.items():
            if 0 <= found < position:
                upcoming[tag] = lower.find(b"<" + tag, position)
        starts = [(found, tag) for tag, found in upcoming.items() if found >= 0]
        if not starts:
            parts.append(raw[position:])
            break
        start, tag = min(starts)
        parts.append(raw[position:start])
        kept += start - position
        end = lower.find(b"</" + tag, start)
        if end < 0:
            break  # an unclosed <script> runs to the end of the page, as in a browser
        close = lower.find(b">", end)
        position = len(raw) if close < 0 else close + 1
        if kept > limit:
            break
    return b"".join(parts)[:limit]


def _metadata(tree: lxml.html.HtmlElement, url: str) -> Document:
    """Title, author, canonical URL and date, as trafilatura's extract_metadata finds them,
    without the parts the digest does not use (site name, categories, tags, licence) and
    without its search of the page body for a byline: together they cost a third of the text
    extraction (measured on article-extraction). The author comes from the meta tags and
    JSON-LD, where the site states it; the feed names it too."""
    metadata = examine_meta(tree)
    if metadata.author and " " not in metadata.author:
        metadata.author = None  # a bare handle, not a name
    # Broken JSON-LD: the meta tags and the markup still speak.
    with contextlib.suppress(ValueError, TypeError, KeyError, AttributeError):
        metadata = extract_meta_json(tree, metadata)
    metadata.title = metadata.title or extract_title(tree)
    metadata.url = metadata.url or extract_url(tree, url)
    metadata.date = find_date(tree, url=metadata.url, **_DATE_PARAMS)
    return metadata


def _blocks(body: lxml.etree._Element) -> list[Block]:
    blocks: list[Block] = []
    for element in body:
        kind = _KINDS.get(element.tag, "p")
        if element.tag == "list":
            items = [collapse("".join(item.itertext())) for item in element.iter("item")]
            text = "\n".join(f"• {item}" for item in items if item)
        elif element.tag == "table":
            rows = [
                " | ".join(collapse("".join(cell.itertext())) for cell in row.iter("cell"))
                for row in element.iter("row")
            ]
            text = "\n".join(row for row in rows if row.strip(" |"))
        else:
            text = collapse("".join(element.itertext()))
        # One Unicode form for every page (as trafilatura's own text output has): the same
        # word must compare equal in clustering and site memory whichever way it was typed.
        text = unicodedata.normalize("NFC", text)
        if text:
            linked = sum(len(collapse("".join(ref.itertext()))) for ref in element.iter("ref"))
            blocks.append(Block(text=text, kind=kind, link_density=min(1.0, linked / len(text))))
    return blocks


def _parse_date(value: str | None) -> datetime | None:
    if not value:
        return None
    for pattern in ("%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"):
        try:
            moment = datetime.strptime(value, pattern)
        except ValueError:
            continue
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC)
    return None


def _markup_language(raw: bytes) -> str | None:
    match = _HTML_LANG.search(raw[:4096])
    return match.group(1).decode("ascii").lower() if match else None
