"""Extract an article page's main text and metadata with trafilatura, split into blocks.

Blocks (paragraphs, headings, lists) are what the clean stage judges one by one, so the
extraction keeps trafilatura's structure instead of flattening it to one string.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import lxml.etree
import lxml.html
import trafilatura
from trafilatura.settings import Extractor

from .errors import ExtractError
from .models import Block, ExtractedPage
from .text import collapse

_KINDS = {"head": "head", "p": "p", "list": "list", "quote": "quote", "table": "table"}
# trafilatura reports dates at day precision unless asked; keep the time, the digest shows it.
_DATE_PARAMS = {
    "extensive_search": True,
    "original_date": True,
    "outputformat": "%Y-%m-%dT%H:%M:%S%z",
}
_HTML_LANG = re.compile(rb"<html[^>]*\blang\s*=\s*[\"']?([A-Za-z]{2,3})", re.IGNORECASE)


def extract_page(page: bytes | str, url: str) -> ExtractedPage:
    """Run trafilatura on one page. Raises ExtractError when no main text is found."""
    raw = page.encode("utf-8", "replace") if isinstance(page, str) else page
    if not raw.strip():
        raise ExtractError(url, "the page is empty")
    if b"\x00" in raw[:2048]:
        raise ExtractError(url, "the page is binary, not HTML")
    options = Extractor(
        output_format="python",
        comments=False,
        tables=True,
        # Links are kept only to measure each block's link density (teasers, related lists).
        links=True,
        dedup=False,
        with_metadata=True,
        url=url,
        date_params=_DATE_PARAMS,
    )
    try:
        document = trafilatura.bare_extraction(raw, url=url, options=options)
    except (ValueError, TypeError, lxml.etree.LxmlError) as error:
        raise ExtractError(url, f"trafilatura failed: {error}") from None
    if document is None or document.body is None:
        raise ExtractError(url, "trafilatura found no main text")
    blocks = tuple(_blocks(document.body))
    if not blocks:
        raise ExtractError(url, "trafilatura found no main text")
    return ExtractedPage(
        url=url,
        title=collapse(document.title) if document.title else None,
        author=collapse(document.author) if document.author else None,
        published=_parse_date(document.date),
        language=_markup_language(raw),
        canonical_url=document.url if document.url and document.url.startswith("http") else None,
        blocks=blocks,
    )


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
