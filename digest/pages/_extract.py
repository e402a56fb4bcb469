"""Extract an article page's main text and metadata with trafilatura, split into blocks.

Blocks (paragraphs, headings, lists) are what the clean stage judges one by one, so the
extraction keeps trafilatura's structure instead of flattening it to one string.
"""

from __future__ import annotations

import contextlib
import re
import unicodedata
from datetime import UTC, datetime, time
from itertools import islice

import lxml.etree
import lxml.html
from babel.core import get_global
from htmldate import find_date
from trafilatura.metadata import (
    examine_meta,
    extract_meta_json,
    extract_title,
    extract_url,
)
from trafilatura.settings import Document, Extractor
from trafilatura.utils import load_html

from ..errors import ExtractError
from ..models import Block, ExtractedPage
from ..text import collapse, one_token
from ._cascade import FULL_CASCADE_BELOW, bare_extraction

_KINDS = {"head": "head", "p": "p", "list": "list", "quote": "quote", "table": "table"}
# trafilatura reports dates at day precision unless asked; keep the time, the digest shows it.
# The markup's own dates only (no search of the text for date-like strings): the feed gives
# a date too, and the text search cost more than the rest of the metadata together.
_DATE_PARAMS = {
    "extensive_search": False,
    "original_date": True,
    "outputformat": "%Y-%m-%dT%H:%M:%S%z",
}
# trafilatura's time grows faster than the markup (bench/big_pages.py): past this size a page
# is cut, after dropping its scripts and styles, which trafilatura ignores anyway. News
# articles are far shorter.
MAX_MARKUP = 1024 * 1024
# And past this many tags ("<", closing ones too): its time grows with the square of the
# paragraphs (bench/big_pages.py --tags), and 1 MB of "<p>a</p>" took 50 s of CPU. The
# pages of ../shared/data hold at most 19,629.
MAX_TAGS = 40_000
_HEAVY_TAGS = (b"script", b"style")
_OPENING_TAG = 500  # bytes of a <script ...> where its type is looked for
# JSON-LD kept when scripts go, after the page (the body first): a page's own is a few KB.
MAX_JSON_LD = 64 * 1024
# Babel's table of language aliases, ISO 639-2 codes among them.
_LANGUAGE_ALIASES: dict[str, str] = get_global("language_aliases")
_HTML_LANG = re.compile(rb"<html[^>]*\blang\s*=\s*[\"']?([A-Za-z]{2,3})", re.IGNORECASE)


_WORD = re.compile(r"\w+")


def extract_page(page: bytes | str, url: str) -> ExtractedPage:
    """Run trafilatura on one page. Raises ExtractError when no main text is found."""
    raw = page.encode("utf-8", "replace") if isinstance(page, str) else page
    if not raw.strip():
        raise ExtractError(url, "the page is empty")
    if b"\x00" in raw[:2048]:
        raise ExtractError(url, "the page is binary, not HTML")
    raw = fit_markup(raw)
    try:
        # One parse for metadata and text: bare_extraction works on a copy of the tree.
        tree = load_html(raw)
        if tree is None:
            raise ExtractError(url, "the page is not HTML")
        metadata = _metadata(tree, url)
        document = bare_extraction(tree, _extractor())
    except ExtractError:
        raise  # a ValueError too, and already the reason
    except (ValueError, TypeError, lxml.etree.LxmlError) as error:
        raise ExtractError(url, f"trafilatura failed: {error}") from None
    if document is None or document.body is None:
        raise ExtractError(url, "trafilatura found no main text")
    found = _blocks(document.body)
    if len(found) == 1 and len(found[0].text) < FULL_CASCADE_BELOW:
        found = _structured(tree, found)
    blocks = _with_lead(tree, found)
    if not blocks:
        raise ExtractError(url, "trafilatura found no main text")
    canonical = one_token(metadata.url) if metadata.url else None
    return ExtractedPage(
        url=url,
        title=collapse(metadata.title) if metadata.title else None,
        author=collapse(metadata.author) if metadata.author else None,
        published=_parse_date(metadata.date),
        language=_markup_language(raw),
        # og:url is the page's bytes, taken as written: one token, as a feed's links are.
        canonical_url=canonical if canonical and canonical.startswith("http") else None,
        blocks=blocks,
    )


def _structured(tree: lxml.html.HtmlElement, found: list[Block]) -> list[Block]:
    """The blocks of a short page whose extraction came out as one run of text.

    On a short page trafilatura's cascade may settle on its baseline, which takes the whole
    <article> as one paragraph: headline, byline and date run into the text that opens the
    summary ("Lumora eröffnet Vertriebszentrale in Wien dpa/tb · 05.12.2026 18:32 Der
    spanische..."). Its precision mode keeps the page's blocks; its blocks are taken when
    they are several and hold most of the run's words and no other."""
    try:
        precise = bare_extraction(tree, _extractor(precision=True))
    except (ValueError, TypeError, lxml.etree.LxmlError):
        return found
    if precise is None or precise.body is None:
        return found
    blocks = _blocks(precise.body)
    run = _WORD.findall(found[0].text.lower())
    words = [w for block in blocks for w in _WORD.findall(block.text.lower())]
    if len(blocks) < 2 or not set(words) <= set(run) or len(words) < len(run) / 2:
        return found
    return blocks


def _extractor(precision: bool = False) -> Extractor:
    """trafilatura's options, as bench/extraction_quality.py measures them: balanced mode,
    because favor_precision cuts must-have text; no comments, which carry more boilerplate
    than article. The full cascade, which _cascade.bare_extraction keeps for short extractions.

    No URL: trafilatura would only use it to make each link's target absolute, which costs
    7% of the extraction and which the digest never reads (links are kept only to measure
    each block's link density, teasers and related lists)."""
    return Extractor(
        output_format="python",
        fast=False,
        precision=precision,
        comments=False,
        tables=True,
        links=True,
        dedup=False,
        with_metadata=False,
    )


def fit_markup(raw: bytes, limit: int = MAX_MARKUP, most_tags: int = MAX_TAGS) -> bytes:
    """`raw` without <script> and <style> elements, then cut to `limit` bytes and before its
    `most_tags`-th tag, when it is longer or holds more. Its JSON-LD, where a page may give
    its date and author alone, is kept, MAX_JSON_LD bytes of it at most, within `limit`
    but outside the count of tags (a script's "<" are text, not elements). Linear in the
    page size, whatever tags a hostile page repeats."""
    if len(raw) <= limit and raw.count(b"<") <= most_tags:
        return raw
    page, linked = _without_heavy(raw, limit)
    page = page[: limit - len(linked)]
    position = -1
    for _ in range(most_tags):
        position = page.find(b"<", position + 1)
        if position < 0:
            break
    else:
        page = page[:position]
    # Before the page's closing tags (libxml2 drops what follows </html>), or at its end.
    lower = page.lower()
    closing = [at for at in (lower.rfind(b"</body"), lower.rfind(b"</html")) if at >= 0]
    end = closing[0] if closing else len(page)
    return page[:end] + linked + page[end:]


def _without_heavy(raw: bytes, limit: int) -> tuple[bytes, bytes]:
    """(`raw` without its <script> and <style> elements, as far as `limit` bytes are kept;
    its JSON-LD scripts, MAX_JSON_LD bytes of them at most)."""
    lower = raw.lower()
    parts: list[bytes] = []
    linked: list[bytes] = []
    kept = linked_size = 0
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
        after = len(raw) if close < 0 else close + 1
        opening = lower[start : start + _OPENING_TAG]  # its attributes, within reason
        json_ld = b"ld+json" in opening[: opening.find(b">") + 1]
        if json_ld and linked_size + after - start <= MAX_JSON_LD:
            linked.append(raw[start:after])
            linked_size += after - start
        position = after
        if kept > limit:
            break
    return b"".join(parts), b"".join(linked)


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
    # A line break inside a paragraph (<br>, trafilatura's <lb/>) has no text of its own:
    # joined as they are, the lines around it would run into one word ("bestelltAxel").
    for line_break in body.iter("lb"):
        line_break.tail = "\n" + (line_break.tail or "")
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
        if moment.tzinfo is None or moment.time() == time(0, 0):
            # A day written without its time, or as midnight where the page is ("T00:00:00
            # +01:00", what many CMSs write for a bare day), is that day: UTC midnight,
            # which publication_date reads as a day without a time.
            moment = moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC)
    return None


def _markup_language(raw: bytes) -> str | None:
    """The page's <html lang>, as the ISO 639-1 code the digest speaks where there is one
    ("deu" and "ger" are "de")."""
    match = _HTML_LANG.search(raw[:4096])
    if not match:
        return None
    code = match.group(1).decode("ascii").lower()
    return _LANGUAGE_ALIASES.get(code, code) if len(code) == 3 else code


# A lead (intro, teaser, standfirst) between the headline and the first body paragraph is
# article text that trafilatura often drops: sites put it outside the body container, or
# call it a "teaser", which trafilatura discards as a link to another story. It is looked
# for in the tree already parsed, between the <h1> and the first paragraph extracted.
LEAD_MIN_CHARS, LEAD_MAX_CHARS = 50, 1500
# Body paragraphs at least this long anchor the search.
LEAD_ANCHOR_MIN_CHARS = 80
LEAD_KEY_WORDS = 5
# The word searched for must be this long to be rare on the page.
LEAD_KEY_MIN_CHARS = 5
LEAD_MAX_LINK_SHARE = 0.3
# More elements than this between the headline and the body: not one article's header.
LEAD_MAX_ELEMENTS = 300
LEAD_MAX_BLOCKS = 2
# How sites name a lead in their markup, in several languages; an element or one of its
# nearest ancestors must say so, or prose near the headline (a press-release quote box, a
# key-points list) would be taken for one.
_LEAD_NAME = re.compile(
    r"lead|teaser|intro|chapo|excerpt|abstract|summary|standfirst|\bdek\b|\bdeck\b|desc"
    r"|sumario|incipit|einleitung|subline|sub-?title|sub-?headline",
)
_LEAD_NAME_LEVELS = 3
# Names of what is not a lead though it sits there: captions, bylines, dates, sharing.
_NOT_LEAD_NAME = re.compile(
    r"caption|credit|byline|author|date|time|meta|photo|image|gallery|media|share|social"
    r"|related|advert",
)
_CONTAINER_TAGS = frozenset(
    "div p section article header main aside footer h1 h2 h3 h4 h5 h6 ul ol li dl table"
    " figure figcaption blockquote form nav".split()
)
_NEVER_LEAD_TAGS = frozenset("li figure figcaption aside nav form button a".split())
_INLINE_TAGS = frozenset("a span strong b em i u mark small sup sub abbr time".split())
_HEADING_TAGS = frozenset("h2 h3 h4 h5 h6".split())
# The descendant axis from <body>: "//body//text()" would build and sort a node-set twice
# the size.
_TEXT_WITH = lxml.etree.XPath("descendant::text()[contains(., $key)]")
_HEADLINE = lxml.etree.XPath("preceding::h1[1]")
_SUBHEADLINE = lxml.etree.XPath("preceding::*[self::h2 or self::h3][1]")
_VISIBLE_TEXT = lxml.etree.XPath(
    ".//text()[not(ancestor::script or ancestor::style or ancestor::noscript)]"
)


def _with_lead(tree: lxml.html.HtmlElement, blocks: list[Block]) -> tuple[Block, ...]:
    """`blocks` with the page's lead put back before the first body paragraph, when
    trafilatura left it out."""
    first = next(
        (i for i, b in enumerate(blocks) if b.kind == "p" and len(b.text) >= LEAD_ANCHOR_MIN_CHARS),
        None,
    )
    if first is None:
        return tuple(blocks)
    anchor = _find_paragraph(tree, blocks[first].text)
    if anchor is None:
        return tuple(blocks)
    # Some sites title the article with a lower heading when the <h1> is the site's name.
    headline = _HEADLINE(anchor) or _SUBHEADLINE(anchor)
    if not headline:
        return tuple(blocks)
    extracted = " ".join(_fold(b.text) for b in blocks)
    between = _between(headline[0], anchor) or []
    found: list[tuple[int, Block]] = []
    for position, element in enumerate(between):
        text = _lead_text(element)
        if text and _fold(text) not in extracted and all(text != b.text for _, b in found):
            kind = "head" if element.tag in _HEADING_TAGS else "p"
            found.append((position, Block(text=text, kind=kind)))
    found = found[-LEAD_MAX_BLOCKS:]
    if not found:
        return tuple(blocks)
    # Extracted blocks that come after the lead on the page (a sign-up box between the
    # standfirst and the body) stay after it.
    later = _fold(" ".join(t for e in between[found[0][0] + 1 :] for t in (e.text, e.tail) if t))
    at = first
    while at > 0 and _fold(blocks[at - 1].text) in later:
        at -= 1
    return (*blocks[:at], *(block for _, block in found), *blocks[at:])


def _find_paragraph(tree: lxml.html.HtmlElement, text: str) -> lxml.etree._Element | None:
    """The element holding the opening words of `text`. Text nodes are searched for one
    long word (no white space to normalise, so the search stays in lxml's C code), then the
    few elements found are checked for the opening words."""
    words = text.split()
    opening = _fold(" ".join(words[:LEAD_KEY_WORDS]))
    key = max(words[:LEAD_KEY_WORDS], key=len)
    if len(key) < LEAD_KEY_MIN_CHARS:
        return None
    body = tree.find("body")
    body = tree if body is None else body
    # Most body paragraphs are <p>: a look at their own first text settles it cheaply.
    for paragraph in body.iter("p"):
        if paragraph.text and key in paragraph.text and opening in _fold(paragraph.text_content()):
            return paragraph
    for node in _TEXT_WITH(body, key=key):
        parent = node.getparent()
        element = parent.getparent() if node.is_tail else parent
        # A word inside a link or emphasis: the paragraph is the block around it.
        while element is not None and element.tag in _INLINE_TAGS:
            element = element.getparent()
        if element is None or element.tag in ("script", "style", "title"):
            continue
        if opening in _fold(element.text_content()):
            return element
    return None


def _between(
    headline: lxml.etree._Element, anchor: lxml.etree._Element
) -> list[lxml.etree._Element] | None:
    """Elements after the headline (not inside it) and before the anchor, in page order;
    None when there are too many to be one article's header. Only what follows the
    headline is walked: the siblings after it, then after each of its ancestors."""
    anchor_line = {anchor, *anchor.iterancestors()}
    elements: list[lxml.etree._Element] = []
    node = headline
    while node is not None and node not in anchor_line:
        for sibling in node.itersiblings():
            for element in sibling.iter():
                if element is anchor:
                    return elements
                if isinstance(element.tag, str):
                    elements.append(element)
                    if len(elements) > LEAD_MAX_ELEMENTS:
                        return None
        node = node.getparent()
    return None


def _lead_text(element: lxml.etree._Element) -> str | None:
    """The element's text when it reads as a lead: a block of prose with no blocks inside,
    named like a lead, not a caption or a list of links."""
    if element.tag not in _CONTAINER_TAGS or element.tag in _NEVER_LEAD_TAGS:
        return None
    # Cheapest tests first: most elements near a headline are not named like a lead.
    names = " ".join(
        _names(e) for e in (element, *islice(element.iterancestors(), _LEAD_NAME_LEVELS))
    ).lower()
    if not _LEAD_NAME.search(names) or _NOT_LEAD_NAME.search(names):
        return None
    if any(d.tag in _CONTAINER_TAGS for d in element.iterdescendants()):
        return None
    if next(element.iterancestors(*_NEVER_LEAD_TAGS), None) is not None:
        return None
    text = unicodedata.normalize("NFC", collapse(" ".join(_VISIBLE_TEXT(element))))
    if not LEAD_MIN_CHARS <= len(text) <= LEAD_MAX_CHARS:
        return None
    if not text.rstrip("\"'”’)»").endswith((".", "!", "?")):
        return None
    linked = sum(len(collapse(link.text_content())) for link in element.iter("a"))
    return None if linked > LEAD_MAX_LINK_SHARE * len(text) else text


def _names(element: lxml.etree._Element) -> str:
    return f"{element.get('class') or ''} {element.get('id') or ''}"


def _fold(text: str) -> str:
    return " ".join(text.lower().split())
