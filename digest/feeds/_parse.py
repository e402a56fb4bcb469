"""Parse feed bytes into FeedEntry values: RSS 0.9x/1.0/2.0 and Atom via feedparser, JSON Feed
via the json module (feedparser 6 does not read it)."""

from __future__ import annotations

import calendar
import hashlib
import json
import math
import re
from bisect import bisect_right
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import feedparser

from ..errors import FeedError
from ..models import FeedEntry, FetchResult, Skipped, day_only
from ..text import collapse, html_to_text, plural, printable, split_sentences, truncate
from ._dates import NUMERIC_DATE, DateReader, century_fixed, not_in_future
from ._urls import canonical_url, usable_link

_MAX_TITLE = 300
# A feed's skipped entries named one by one; the rest are counted in one more. Ten
# megabytes of empty `<item/>` are 1.4 million entries without a link: a line and a stored
# problem each filled stderr and the state on every run.
ENTRY_SKIPS_NAMED = 5
# Where feedparser keeps a date's text, and its own reading of it: an entry's publication
# first, then its last update (RSS dc:date, Atom updated), then its creation.
_DATE_KEYS = (("published", "published_parsed"), ("updated", "updated_parsed"),
              ("created", "created_parsed"))  # fmt: skip


@dataclass(frozen=True)
class ParsedFeed:
    title: str
    entries: tuple[FeedEntry, ...]
    warning: str | None = None  # e.g. malformed XML from which entries were recovered
    dropped: tuple[Skipped, ...] = ()  # one per entry that could not be used
    # The feed's own date (RSS pubDate or lastBuildDate, Atom updated), the later one.
    updated: datetime | None = None

    @property
    def newest(self) -> datetime | None:
        """The newest date the feed states, its entries' or its own: the latest an undated
        entry of it can be, when the feed is read for the first time."""
        dates = [entry.published for entry in self.entries if entry.published is not None]
        if self.updated is not None:
            dates.append(self.updated)
        return max(dates, default=None)


def parse_feed(
    body: bytes, feed_name: str, feed_url: str, now: datetime, content_type: str | None = None
) -> ParsedFeed:
    """Parse a feed body. Raises FeedError when the bytes hold no feed at all."""
    stripped = body.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not stripped:
        raise FeedError(feed_name, "the feed is empty (0 bytes of content)")
    if stripped[:1] == b"{":
        return _parse_json_feed(stripped, feed_name, feed_url, now)
    return _parse_xml_feed(body, feed_name, feed_url, now, content_type)


def parse_fetched(result: FetchResult, feed_name: str, now: datetime) -> ParsedFeed | Skipped:
    """parse_feed on a fetch result, or its failure as a value.

    This is the boundary of "one broken feed never breaks the digest": whatever a parser
    raises on hostile bytes is turned into this feed's reason, so the run goes on.
    """
    try:
        return parse_feed(result.body or b"", feed_name, result.final_url, now, result.content_type)
    except FeedError as error:
        reason = error.reason
    except Exception as error:
        reason = f"the feed could not be parsed ({type(error).__name__}: {error})"[:300]
    return Skipped("feed", result.final_url, reason, feed_name, status=result.status)


def _parse_xml_feed(
    body: bytes, feed_name: str, feed_url: str, now: datetime, content_type: str | None
) -> ParsedFeed:
    body, removed = _drop_forbidden_characters(body)
    # A local feed's links are resolved here (`usable_link`), not by feedparser: it reads
    # "file:///srv/news/feed.xml" as a file on the host "srv" and resolved "/srv/a.html"
    # against that to "file://srv/srv/a.html".
    headers = {} if feed_url.startswith("file:") else {"content-location": feed_url}
    if content_type:
        headers["content-type"] = content_type
    parsed = feedparser.parse(body, response_headers=headers)
    problem = parsed.get("bozo_exception") if parsed.get("bozo") else None
    if problem is not None and _harmless(problem):
        problem = None
    if not parsed.get("version") and not parsed.entries:
        head = body[:512].lower()
        if any(tag in head for tag in (b"<html", b"<!doctype html", b"<head", b"<body")):
            raise FeedError(feed_name, "got an HTML page, not a feed (check the feed URL)")
        reason = _describe_problem(problem) if problem else "no RSS, Atom or JSON Feed found"
        raise FeedError(feed_name, f"not a feed: {reason}")
    if problem and not parsed.entries:
        raise FeedError(
            feed_name, f"malformed feed, no entries readable: {_describe_problem(problem)}"
        )
    warning = None
    if problem:
        warning = (
            f"malformed feed ({_describe_problem(problem)}); "
            f"{plural(len(parsed.entries), 'entry', 'entries')} recovered"
        )
    taken = _Entries(feed_url, feed_name, now)
    names: list[str] = []  # each entry's name, in document order
    dates = DateReader(now, _languages(parsed.feed))
    dates.learn_order(dict.get(raw, key) for raw in parsed.entries for key, _ in _DATE_KEYS)
    for index, raw in enumerate(parsed.entries):
        name = _entry_name(raw.get("title"), raw.get("id"), index)
        try:
            entry, reason = _xml_entry(raw, feed_name, feed_url, dates)
            entry = entry and _verified(entry)
        except Exception as error:  # one entry's surprise costs that entry, not the feed
            entry, reason = None, _unreadable(name, error)
        names.append(entry.title if entry else name)
        taken.add(entry, reason)
    if removed:
        note = _removal_note(removed, names)
        warning = f"{warning}; {note}" if warning else note
    title = collapse(parsed.feed.get("title", "") or "")
    own = [_feed_date(parsed.feed, key, dates) for key in _DATE_KEYS]
    updated = max((date for date in own if date is not None), default=None)
    entries = without_repeated_text(taken.distinct())
    return ParsedFeed(title, entries, warning, taken.skipped(), updated)


# XML 1.0 allows tab, LF, CR and U+0020 on, but not the surrogates, U+FFFE and U+FFFF. A
# character reference to anything else (&#xD800;, &#1;, &#x110000;) makes expat give up and
# feedparser's fallback parser raise, which would lose every entry of the feed; a raw control
# byte sends the whole feed to the fallback parser. Both are dropped before parsing. ESC is
# kept: ISO-2022-JP text is made of it. The fallback parser reads a reference without its
# ";" too, so the pattern does.
_FORBIDDEN = re.compile(
    rb"&#(?:[xX]([0-9a-fA-F]+)|([0-9]+));?|[\x00-\x08\x0b\x0c\x0e-\x1a\x1c-\x1f]"
)
_ENTRY_START = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?(?:item|entry)[\s/>]")
_WIDE_BOMS = (
    (b"\x00\x00\xfe\xff", "utf-32"),
    (b"\xff\xfe\x00\x00", "utf-32"),
    (b"\xfe\xff", "utf-16"),
    (b"\xff\xfe", "utf-16"),
)


@dataclass(frozen=True)
class _Removed:
    entry: int  # the entry it was in, counted in document order; -1: the feed's own fields
    text: str  # the reference as written, or U+XXXX for a raw control character


def _drop_forbidden_characters(body: bytes) -> tuple[bytes, list[_Removed]]:
    """`body` without the characters XML forbids (see _FORBIDDEN), and where each one was."""
    codec = _wide_codec(body)
    if codec is None:  # ASCII-compatible: the markup and the references are ASCII bytes
        return _drop_forbidden_bytes(body)
    try:
        text = body.decode(codec)
    except UnicodeDecodeError:
        return body, []  # not that encoding after all: feedparser decides what it is
    cleaned, removed = _drop_forbidden_bytes(text.encode("utf-8"))
    return (cleaned.decode("utf-8").encode(codec) if removed else body), removed


def _wide_codec(body: bytes) -> str | None:
    """UTF-16 or UTF-32, told by the byte order mark or by the zero bytes of a first "<"."""
    for mark, codec in _WIDE_BOMS:
        if body.startswith(mark):
            return codec
    head = body[:4]
    if len(head) < 4 or b"\x00" not in head:
        return None
    if head[:3] == b"\x00\x00\x00":
        return "utf-32-be"
    if head[1:] == b"\x00\x00\x00":
        return "utf-32-le"
    if head[0] == 0:
        return "utf-16-be"
    return "utf-16-le" if head[1] == 0 else None


def _drop_forbidden_bytes(data: bytes) -> tuple[bytes, list[_Removed]]:
    found: list[tuple[int, str]] = []

    def drop(match: re.Match[bytes]) -> bytes:
        hex_digits, digits = match.group(1), match.group(2)
        if hex_digits is None and digits is None:
            found.append((match.start(), f"U+{match[0][0]:04X}"))
            return b""
        number = (hex_digits or digits).lstrip(b"0") or b"0"
        # More than 8 digits is beyond U+10FFFF; int() of 5,000 digits would raise.
        if len(number) <= 8 and _xml_allows(int(number, 16 if hex_digits else 10)):
            return match[0]
        reference = match[0].decode("ascii")
        found.append((match.start(), reference if len(reference) <= 16 else reference[:15] + "…"))
        return b""

    cleaned = _FORBIDDEN.sub(drop, data)
    if not found:
        return data, []
    starts = [match.start() for match in _ENTRY_START.finditer(data)]
    return cleaned, [_Removed(bisect_right(starts, at) - 1, text) for at, text in found]


def _xml_allows(code: int) -> bool:
    return (
        code in (0x9, 0xA, 0xD)
        or 0x20 <= code <= 0xD7FF
        or 0xE000 <= code <= 0xFFFD
        or 0x10000 <= code <= 0x10FFFF
    )


def _removal_note(removed: list[_Removed], names: list[str]) -> str:
    """One line for the operator: what was removed, from which entries."""
    samples = list(dict.fromkeys(item.text for item in removed))
    shown = ", ".join(samples[:3]) + (", …" if len(samples) > 3 else "")
    places = list(dict.fromkeys(item.entry for item in removed))
    where = [
        "the feed's own fields" if index < 0
        else f"entry {names[index]!r}" if index < len(names)
        else f"entry #{index + 1}"
        for index in places[:3]
    ]  # fmt: skip
    more = f" and {len(places) - 3} more entries" if len(places) > 3 else ""
    return (
        f"removed {plural(len(removed), 'character')} that XML forbids ({shown}) from "
        f"{', '.join(where)}{more}; the rest was kept"
    )


def _entry_name(title: object, fallback: object, index: int) -> str:
    """How an entry is named in a line: its title, else its id, else its place in the feed."""
    for value in (title, fallback):
        if isinstance(value, str) and (text := collapse(value)):
            return text[:120]
    return f"#{index + 1}"


def _unreadable(name: str, error: Exception) -> str:
    detail = collapse(str(error)) or "no detail"
    return f"entry {name!r} could not be read ({type(error).__name__}: {detail})"[:300]


def _verified(entry: FeedEntry) -> FeedEntry:
    """`entry`, if all its text can be written as UTF-8 (to the store, into the email). A
    lone surrogate that got this far raises here, and costs this entry only."""
    for field in fields(entry):
        value = getattr(entry, field.name)
        if isinstance(value, str):
            value.encode("utf-8")
    return entry


def _harmless(problem: Exception) -> bool:
    # feedparser flags these although it read the feed fully: a declared/actual encoding
    # mismatch, a missing Content-Type (local files), white space before the XML declaration.
    if type(problem).__name__ in ("CharacterEncodingOverride", "NonXMLContentType"):
        return True
    return "declaration not at start" in str(problem)


def _describe_problem(problem: Exception) -> str:
    text = str(problem) or type(problem).__name__
    line = getattr(problem, "getLineNumber", None)
    if callable(line):
        # A SAX error's str() starts with "<unknown>:2:72:" (it was given bytes, not a
        # file): its own message, and where, instead.
        message = getattr(problem, "getMessage", None)
        column = getattr(problem, "getColumnNumber", None)
        text = message() if callable(message) else text
        text = f"{text} at line {line()}" + (f", column {column()}" if callable(column) else "")
    return collapse(text)[:200]


def _xml_entry(
    raw: Any, feed_name: str, feed_url: str, dates: DateReader
) -> tuple[FeedEntry | None, str]:
    link = _pick_link(raw, feed_url)
    title = _clean_title(raw.get("title", ""), _kind(raw, "title"))
    if not link:
        return None, f"entry {title or raw.get('id', '?')!r} has no http(s) link"
    content, content_kind = "", "text/html"
    for part in raw.get("content", []) or []:
        value = part.get("value", "")
        if value and len(value) > len(content):
            content, content_kind = value, part.get("type") or "text/html"
    summary = _text(raw.get("summary", "") or "", _kind(raw, "summary"))
    content_text = _text(content, content_kind)
    if content_text == summary:
        content_text = ""
    published = _entry_date(raw, dates)
    guid = printable(str(raw.get("id") or "")) or link
    author = collapse(raw.get("author", "") or "") or None
    if not title:
        title = _title_from_text(summary or content_text)
    return (
        FeedEntry(
            feed=feed_name,
            guid=str(guid)[:1000],
            link=link,
            url=canonical_url(link),
            title=title,
            summary=summary,
            content=content_text,
            published=published,
            author=author,
        ),
        "",
    )


def _pick_link(raw: Any, feed_url: str) -> str | None:
    candidates = [raw.get("link")]
    for link in raw.get("links", []) or []:
        if link.get("rel", "alternate") == "alternate":
            candidates.append(link.get("href"))
    # A guid stands in for a missing link only when it is itself an absolute http(s) URL:
    # "item-42" resolved against the feed's URL is no article.
    if str(raw.get("id", "")).startswith(("http://", "https://")):
        candidates.append(raw.get("id"))
    # Last, what it carries: a podcast's episode without a page of its own is its audio
    # (whose body no page fetch reads: FetchRequest.html_only).
    candidates.extend(
        link.get("href") for link in raw.get("links", []) or [] if link.get("rel") == "enclosure"
    )
    for candidate in candidates:
        link = usable_link(_unmangled(str(candidate), feed_url), feed_url) if candidate else None
        if link:
            return link
    return None


def _unmangled(link: str, feed_url: str) -> str:
    """`link` as the feed wrote it, where feedparser made "file:///srv/a.html"
    "file://srv/a.html": a link to the host "srv". A local feed's file links are local
    paths (`usable_link`)."""
    if (
        feed_url.startswith("file:")
        and link.startswith("file://")
        and not link.startswith(("file:///", "file://localhost/"))
    ):
        return "file:///" + link[len("file://") :]
    return link


# Markup left in text that was already decoded once: the publisher escaped its HTML twice
# ("&amp;lt;b&amp;gt;"). Read as text it would show tags, or a <script>, to the reader.
_LEFTOVER_MARKUP = re.compile(
    r"<\s*(script|style|iframe|object|embed|svg|math|img|a|b|i|u|em|strong|span|p|div|br|font)"
    r"\b[^>]*>|</\s*[a-z][a-z0-9]*\s*>",
    re.IGNORECASE,
)
# Markup in a field typed as plain text, once its entities are decoded (`_text`): a closing
# tag, or one of the tags that have none. "<Object>" alone is text ("List<Object>").
_MARKUP_IN_TEXT = re.compile(r"</\s*[a-z][a-z0-9]*\s*>|<\s*(?:br|hr|img|wbr)\b[^>]*>", re.I)


def _plain(fragment: str) -> str:
    """Plain text of a feed's HTML field, decoded twice when it was escaped twice."""
    text = html_to_text(fragment)
    if _LEFTOVER_MARKUP.search(text):
        text = html_to_text(text.replace("\n\n", "<br><br>"))
    return text


def _text(value: str, kind: str) -> str:
    """Plain text of a feed's field that feedparser typed `kind`: a field in plain text (an
    Atom text construct, an RSS title feedparser found no markup in, a JSON Feed title)
    keeps what only looks like a tag ("List<Object>", "the <marquee> element"), unless,
    its entities decoded, it holds markup after all (a closing tag, or "<br>" or "<img>",
    which have none): generators write HTML into Atom's default type too, escaped once or
    twice. Entities are decoded either way: "AT&amp;T" escaped twice is still AT&T."""
    if kind == "text/plain":
        text = html_to_text(value.replace("<", "&lt;"))
        if not _MARKUP_IN_TEXT.search(text):
            return text
    return _plain(value)


def _kind(raw: Any, key: str) -> str:
    """feedparser's type of an entry's field (`title_detail` for "title")."""
    detail = dict.get(raw, f"{key}_detail")
    kind = detail.get("type") if isinstance(detail, dict) else None
    return kind if isinstance(kind, str) else "text/html"


def _clean_title(value: str, kind: str = "text/html") -> str:
    title = collapse(_text(value or "", kind))
    return title if len(title) <= _MAX_TITLE else truncate(title, _MAX_TITLE - 1)


def _title_from_text(text: str) -> str:
    """A headline for an entry without one (a microblog post): its first sentences, as
    many whole ones as fit in _DERIVED_TITLE characters. When those are under a quarter of
    that ("Wow!", "Am 4." before "Dezember", an abbreviation taken for an end), the text
    itself, cut at a word with an ellipsis."""
    # The whole text, not its first paragraph: a post writes each line as one ("Wow!").
    paragraph = collapse(text)
    title = ""
    for sentence in split_sentences(paragraph):
        longer = f"{title} {sentence}".strip()
        if len(longer) > _DERIVED_TITLE:
            break
        title = longer
    if len(title) * 4 < _DERIVED_TITLE:
        title = truncate(paragraph, _DERIVED_TITLE)
    return title


def _entry_date(raw: Any, dates: DateReader) -> datetime | None:
    """The entry's date: feedparser's reading of it, else the text read in the entry's and
    the feed's languages (_dates.py); None when the entry states no date that can be read."""
    for key in _DATE_KEYS:
        moment = _feed_date(raw, key, dates)
        if moment is not None:
            return moment
    return None


def _feed_date(raw: Any, keys: tuple[str, str], dates: DateReader) -> datetime | None:
    """One date field of an entry or of the feed, never later than the fetch (give or take
    the tolerance). dict.get skips feedparser's deprecated key mappings (and their warning)."""
    text_key, parsed_key = keys
    text = dict.get(raw, text_key)
    text = text if isinstance(text, str) else ""
    # feedparser's reading of a date in numbers only is not trusted (_dates.NUMERIC_DATE).
    numeric = NUMERIC_DATE.match(" ".join(text.split()))
    moment = None if numeric else _struct_time(dict.get(raw, parsed_key))
    if moment is not None:
        moment = century_fixed(moment, text, dates.now)  # feedparser reads "89" as 2089
    elif text:
        moment = dates.read(text, _languages(raw))
    return not_in_future(moment, dates.now) if moment is not None else None


def _languages(raw: Any) -> list[str]:
    """The languages an entry or a feed declares (RSS <language>, dc:language, xml:lang)."""
    found = [dict.get(raw, "language")]
    for key in ("title_detail", "summary_detail"):
        detail = dict.get(raw, key)
        if isinstance(detail, dict):
            found.append(detail.get("language"))
    return [tag for tag in found if isinstance(tag, str) and tag.strip()]


def _struct_time(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(value), tz=UTC)
    except (OverflowError, ValueError, TypeError, OSError):
        return None


def _iso_time(value: Any, dates: DateReader, languages: Sequence[str] = ()) -> datetime | None:
    """A JSON Feed date: RFC 3339 by the spec, though some feeds write RFC 822 or their own
    language's dates there (read as an XML feed's are)."""
    if not isinstance(value, str) or not value.strip():
        return None
    moment = dates.read(value, languages)
    return not_in_future(moment, dates.now) if moment is not None else None


# No JSON Feed field nests deeper than a few levels; past this, a value is replaced by null.
_JSON_DEPTH = 32
_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def _flatten_deep(text: str) -> str:
    """`text` with every array or object opened deeper than _JSON_DEPTH replaced by null.
    Only for a body json.loads cannot read for its nesting (a hostile item), so the scan's
    cost is paid by that feed alone."""
    parts: list[str] = []
    depth = 0
    cut_from: int | None = None  # where the value being replaced starts
    kept_to = 0
    for token in _JSON_TOKEN.finditer(text):
        mark = token.group()
        if mark[0] == '"':
            continue
        if mark in "[{":
            depth += 1
            if depth == _JSON_DEPTH + 1 and cut_from is None:
                cut_from = token.start()
        else:
            depth -= 1
            if depth == _JSON_DEPTH and cut_from is not None:
                parts += [text[kept_to:cut_from], "null"]
                kept_to, cut_from = token.end(), None
    if cut_from is not None:  # never closed: the JSON is malformed anyway
        parts += [text[kept_to:cut_from], "null"]
        return "".join(parts)
    return "".join(parts) + text[kept_to:]


def _parse_json_feed(body: bytes, feed_name: str, feed_url: str, now: datetime) -> ParsedFeed:
    try:
        text = body.decode("utf-8-sig")
        # strict=False: a raw control character inside one string is removed with the other
        # unprintable characters (_json_text), rather than costing the whole feed.
        try:
            data = json.loads(text, parse_int=_json_int, strict=False)
        except RecursionError:
            # One item nested past any sense: it becomes null (and is dropped as an item),
            # the others are read.
            data = json.loads(_flatten_deep(text), parse_int=_json_int, strict=False)
    except UnicodeDecodeError as error:
        raise FeedError(feed_name, f"JSON Feed is not UTF-8: {error.reason}") from None
    except json.JSONDecodeError as error:
        raise FeedError(feed_name, f"malformed JSON at line {error.lineno}: {error.msg}") from None
    except (RecursionError, ValueError) as error:  # absurd nesting
        raise FeedError(feed_name, f"JSON too deep or too large to read: {error}") from None
    if not isinstance(data, dict) or "jsonfeed.org" not in _json_text(data.get("version")):
        raise FeedError(feed_name, "JSON without a jsonfeed.org version: not a JSON Feed")
    items = data.get("items")
    if not isinstance(items, list):
        raise FeedError(feed_name, "JSON Feed has no items list")
    taken = _Entries(feed_url, feed_name, now)
    dates = DateReader(now, [_json_text(data.get("language"))])  # JSON Feed 1.1
    dates.learn_order(
        item.get(key)
        for item in items
        if isinstance(item, dict)
        for key in ("date_published", "date_modified")
    )
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            taken.add(None, f"item {index} is not an object")
            continue
        name = _entry_name(_json_text(item.get("title")), _json_id(item.get("id")), index)
        try:
            entry, reason = _json_entry(item, name, feed_name, feed_url, dates)
            entry = entry and _verified(entry)
        except Exception as error:  # one item's surprise costs that item, not the feed
            entry, reason = None, _unreadable(name, error)
        taken.add(entry, reason)
    title = collapse(_json_text(data.get("title")))
    return ParsedFeed(title, without_repeated_text(taken.distinct()), None, taken.skipped())


def _json_entry(
    item: dict[str, Any],
    name: str,
    feed_name: str,
    feed_url: str,
    dates: DateReader,
) -> tuple[FeedEntry | None, str]:
    link = None
    for key in ("url", "external_url"):
        candidate = _json_str(item.get(key)).strip()
        link = usable_link(candidate, feed_url) if candidate else None
        if link:
            break
    if not link:
        return None, f"item {name!r} has no usable http(s) url"
    # JSON Feed's title and summary are plain text; content_html is HTML.
    title = _clean_title(_json_text(item.get("title")), "text/plain")
    summary = _text(_json_text(item.get("summary")), "text/plain")
    content = _plain(_json_text(item.get("content_html"))) or html_to_text(
        _json_text(item.get("content_text")).replace("<", "&lt;")
    )
    if not summary and content:
        summary = content.split("\n\n", 1)[0]
    if content == summary:
        content = ""
    languages = [_json_text(item.get("language"))]
    published = _iso_time(item.get("date_published"), dates, languages) or _iso_time(
        item.get("date_modified"), dates, languages
    )
    author = _json_author(item.get("authors")) or _json_author(item.get("author"))
    guid = _json_id(item.get("id")) or link
    entry = FeedEntry(
        feed=feed_name,
        guid=guid[:1000],
        link=link,
        url=canonical_url(link),
        title=title or _title_from_text(summary or content),
        summary=summary,
        content=content,
        published=published,
        author=author,
    )
    return entry, ""


def _json_int(digits: str) -> int | float:
    """A JSON integer; one too long for int() (4,300 digits) is read as a float, which is
    inf that long, rather than raising and losing the whole feed."""
    try:
        return int(digits)
    except ValueError:
        return float(digits)


def _json_str(value: Any) -> str:
    """A JSON Feed field that must be a string: anything else (an object, a list, a number)
    is treated as missing, never shown as Python's text for it."""
    return value if isinstance(value, str) else ""


def _json_text(value: Any) -> str:
    """A JSON text field without what no reader should get: JSON's "\\ud800" escapes give
    lone surrogates, which SQLite and the email could not encode."""
    return printable(_json_str(value))


def _json_id(value: Any) -> str:
    """JSON Feed says a reader coerces a number id to a string; other non-strings are none."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else ""
    return _json_text(value)


def _json_author(value: Any) -> str | None:
    """JSON Feed 1.1 `authors` is a list of objects; 1.0 `author` an object; some send text.
    The first one with a name in text is the author."""
    for candidate in value if isinstance(value, list) else [value]:
        name = candidate.get("name") if isinstance(candidate, dict) else candidate
        if text := collapse(_json_text(name)):
            return text
    return None


def shares_page(entry: FeedEntry) -> bool:
    """Whether the entry's link is one page that other entries of its feed link to as well
    (a list of upcoming advisories, a changelog's anchors): its URL is then that link with
    a fragment of the entry's own (`_Entries.distinct`), and the page, which tells none of
    them alone, is not fetched. Read off the entry itself, so it holds for an entry the
    state kept too."""
    return canonical_url(entry.link) != entry.url


# The longest headline made of an untitled entry's text (`_title_from_text`).
_DERIVED_TITLE = 120
# An id longer than this becomes a digest of itself in a fragment (see _fragment_of).
_FRAGMENT_MAX = 64


def _fragment_of(guid: str, hashed: bool = False) -> str:
    """A URL fragment for an entry's id: "entry-" and the id, percent-encoded, when short
    and readable ("entry-ZDI-CAN-22550"), else 16 hex digits of its SHA-1. The prefix keeps
    it apart from a page's own anchors, which a later entry of the feed may link to."""
    fragment = quote(guid, safe="-._~:@/")
    if hashed or not guid or len(fragment) > _FRAGMENT_MAX:
        fragment = hashlib.sha1(guid.encode("utf-8")).hexdigest()[:16]
    return f"entry-{fragment}"


# A sentence in at least REPEATED_SHARE of a feed's entries, and in REPEATED_MIN_ENTRIES of
# them at least, is the feed's own boilerplate ("This post is part of our series…", "Read
# more (24/09/2018 - 19h22)", "The post <its title> appeared first on <site>."), not news:
# told apart by its dates and times or its entry's title only, it is one sentence. Most
# entries, not half: three updates of a developing story in a feed of six share their lead.
# Other numbers tell sentences apart: a quake feed's "Magnitude 4.1 at depth 11 km." is news.
REPEATED_SHARE = 0.8
REPEATED_MIN_ENTRIES = 3
_DATE_OR_TIME = re.compile(
    r"\d{4}-\d{1,2}-\d{1,2}|\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}|\d{1,2}[:h]\d{2}(?::\d{2})?"
)
_TITLE_MASK = "\x00"


def without_repeated_text(entries: Sequence[FeedEntry]) -> tuple[FeedEntry, ...]:
    """`entries` without the sentences most of them repeat. Pages lose such text to the
    clean stage, which sees a site's pages side by side; a feed's text, used where a page
    fails, would otherwise lead an item's summary with it and join a feed's unrelated
    entries on it."""
    if len(entries) < REPEATED_MIN_ENTRIES:
        return tuple(entries)
    held: Counter[str] = Counter()
    for entry in entries:
        text = f"{entry.summary}\n{entry.content}"
        held.update({_sentence_key(s, entry.title) for s in split_sentences(text)})
    needed = max(REPEATED_MIN_ENTRIES, math.ceil(REPEATED_SHARE * len(entries)))
    # A sentence that is its entry's title and no more (a summary that repeats the title,
    # or an untitled entry whose title was made of its text) is that entry's own.
    repeated = {
        key
        for key, count in held.items()
        if count >= needed and any(c.isalnum() for c in key.replace(_TITLE_MASK, ""))
    }
    if not repeated:
        return tuple(entries)
    return tuple(
        replace(
            entry,
            summary=_without_sentences(entry.summary, entry.title, repeated),
            content=_without_sentences(entry.content, entry.title, repeated),
        )
        for entry in entries
    )


def _sentence_key(sentence: str, title: str) -> str:
    """A sentence with its dates, times and its entry's title masked."""
    key = sentence.casefold()
    if title.strip():
        key = key.replace(title.casefold(), _TITLE_MASK)
    return _DATE_OR_TIME.sub("0", key)


def _without_sentences(text: str, title: str, repeated: set[str]) -> str:
    """`text` without the sentences whose key is in `repeated`, its paragraphs kept."""
    paragraphs = []
    for paragraph in text.split("\n\n"):
        lines = []
        for line in paragraph.split("\n"):
            sentences = split_sentences(line)
            kept = [s for s in sentences if _sentence_key(s, title) not in repeated]
            if len(kept) == len(sentences):
                lines.append(line)
            elif kept:
                lines.append(" ".join(kept))
        if any(line.strip() for line in lines):
            paragraphs.append("\n".join(lines))
    return "\n\n".join(paragraphs)


# The most entries of one headline and time `_Entries._one_per_story` compares link by link.
MAX_COPIES = 8


def _wraps(link: str, entry: FeedEntry) -> bool:
    """Whether `link` is a redirector's link to `entry`: its address (as the feed gave it,
    or its canonical form) inside the link after its start, percent-encoded or not, and
    running to the link's end or to a parameter or fragment ("/p/1" is not in "/p/10")."""
    haystack = unquote(link).casefold()
    for address in {entry.link.casefold(), entry.url.casefold()}:
        at = haystack.find(address, 1)
        while at > 0:
            end = at + len(address)
            if end == len(haystack) or haystack[end] in "&#":
                return True
            at = haystack.find(address, at + 1)
    return False


class _Entries:
    """One feed's entries as they are read: each kept unless it could not be read or its id
    came before; the skipped ones, the first ENTRY_SKIPS_NAMED named and the rest counted
    (with the last reason) as they come, so a flood of them costs no memory either."""

    def __init__(self, feed_url: str, feed_name: str, now: datetime) -> None:
        self.feed_url, self.feed_name, self.now = feed_url, feed_name, now
        self.entries: list[FeedEntry] = []
        self.seen: set[tuple[str, str]] = set()
        self.first: list[Skipped] = []
        self.more = 0
        self.last: Skipped | None = None

    def add(self, entry: FeedEntry | None, reason: str) -> None:
        """`entry`, or, when None, an entry skipped for `reason`. An id that came before
        with another link is another entry: some feeds give every entry one id ("latest")."""
        if entry is not None and (entry.guid, entry.url) not in self.seen:
            self.seen.add((entry.guid, entry.url))
            self.entries.append(entry)
            return
        if entry is not None:
            reason = f"duplicate entry id {entry.guid!r}"
        self._skip(reason)

    def _skip(self, reason: str) -> None:
        skipped = Skipped("entry", self.feed_url, reason, self.feed_name)
        if len(self.first) < ENTRY_SKIPS_NAMED:
            self.first.append(skipped)
        else:
            self.more += 1
            self.last = skipped

    def _one_per_story(self) -> None:
        """A story the feed lists more than once, straight and through its redirector, or
        with the same text, is one entry, the straight one: listed twice, the digest showed
        the outlet's one story as two pieces. Only entries of one headline at one time
        stated to the minute are compared: not a bare day, nor a date ahead clamped to the
        fetch (`not_in_future`), which a weekly column's or an events feed's share."""
        stories: dict[tuple[str, datetime], list[int]] = defaultdict(list)
        for index, entry in enumerate(self.entries):
            published = entry.published
            if entry.title and published and published != self.now and not day_only(published):
                stories[(entry.title.casefold(), published)].append(index)
        dropped: dict[int, str] = {}
        for members in stories.values():
            if len(members) < 2:
                continue
            # Links are compared pair by pair; more copies than MAX_COPIES are a generator's
            # items titled and dated alike, and a hostile feed's 30,000 would cost hours.
            for index in members if len(members) <= MAX_COPIES else ():
                link = self.entries[index].link
                if any(_wraps(link, self.entries[other]) for other in members if other != index):
                    dropped[index] = f"the same story as another entry, linked again ({link})"
            texts: set[tuple[str, str]] = set()
            for index in (member for member in members if member not in dropped):
                entry = self.entries[index]
                text = (entry.summary, entry.content)
                if any(text) and text in texts:
                    dropped[index] = (
                        f"the same headline, time and text as an earlier entry ({entry.link})"
                    )
                texts.add(text)
        for index in sorted(dropped):
            self._skip(dropped[index])
        if dropped:
            self.entries = [e for index, e in enumerate(self.entries) if index not in dropped]

    def distinct(self) -> tuple[FeedEntry, ...]:
        """The entries, each with a URL of its own. Entries that link to one page (a list of
        upcoming advisories, a podcast's home, a changelog's anchors) are told apart by a
        fragment: the link's own where no other of them has it ("#v4-2"), else one made of
        the entry's id. Without it, the URL, which is an article's identity, would make them
        one article, and the entries after the first would never be sent. A story listed
        twice is one entry first (`_one_per_story`)."""
        self._one_per_story()
        sharing = Counter(entry.url for entry in self.entries)
        if len(sharing) == len(self.entries):
            return tuple(self.entries)
        own = Counter((entry.url, urlsplit(entry.link).fragment) for entry in self.entries)
        taken = set(sharing)
        result = []
        for entry in self.entries:
            # A fragment that routes a single-page site ("#!/story/12") is the page already.
            if sharing[entry.url] == 1 or urlsplit(entry.url).fragment:
                result.append(entry)
                continue
            fragment = urlsplit(entry.link).fragment
            if not fragment or own[(entry.url, fragment)] > 1:
                fragment = _fragment_of(entry.guid)
            url = f"{entry.url}#{fragment}"
            if url in taken:  # an id written as another entry's anchor: its digest then
                url = f"{entry.url}#{_fragment_of(entry.guid, hashed=True)}"
            taken.add(url)
            result.append(replace(entry, url=url))
        return tuple(result)

    def skipped(self) -> tuple[Skipped, ...]:
        """The first skipped, then one that counts the rest (when more than one is left)."""
        if self.last is None:
            return tuple(self.first)
        if self.more == 1:
            return (*self.first, self.last)
        reason = f"{self.more:,} more entries (the last: {self.last.reason})"
        return (*self.first, Skipped("entry", self.last.target, reason, self.last.feed))
