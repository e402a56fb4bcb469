"""Parse feed bytes into FeedEntry values: RSS 0.9x/1.0/2.0 and Atom via feedparser, JSON Feed
via the json module (feedparser 6 does not read it)."""

from __future__ import annotations

import calendar
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import feedparser

from ..errors import FeedError
from ..models import FeedEntry, FetchResult, Skipped
from ..text import collapse, html_to_text
from ._urls import canonical_url, usable_link

# A feed date more than this far ahead of the fetch is a publisher's clock or timezone bug;
# such entries are dated at the fetch instead of floating to the top for days.
_FUTURE_TOLERANCE = timedelta(hours=2)
_MAX_TITLE = 300


@dataclass(frozen=True)
class ParsedFeed:
    title: str
    entries: tuple[FeedEntry, ...]
    warning: str | None = None  # e.g. malformed XML from which entries were recovered
    dropped: tuple[Skipped, ...] = ()  # one per entry that could not be used


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
    headers = {"content-location": feed_url}
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
            f"{len(parsed.entries)} entries recovered"
        )
    entries, dropped = [], []
    seen: set[str] = set()
    for raw in parsed.entries:
        entry, reason = _xml_entry(raw, feed_name, feed_url, now)
        if entry is None:
            dropped.append(Skipped("entry", feed_url, reason, feed_name))
        elif entry.guid in seen:
            dropped.append(
                Skipped("entry", feed_url, f"duplicate entry id {entry.guid!r}", feed_name)
            )
        else:
            seen.add(entry.guid)
            entries.append(entry)
    title = collapse(parsed.feed.get("title", "") or "")
    return ParsedFeed(title, tuple(entries), warning, tuple(dropped))


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
        text = f"{text} at line {line()}"
    return collapse(text)[:200]


def _xml_entry(
    raw: Any, feed_name: str, feed_url: str, now: datetime
) -> tuple[FeedEntry | None, str]:
    link = _pick_link(raw, feed_url)
    title = _clean_title(raw.get("title", ""))
    if not link:
        return None, f"entry {title or raw.get('id', '?')!r} has no http(s) link"
    content = ""
    for part in raw.get("content", []) or []:
        value = part.get("value", "")
        if value and len(value) > len(content):
            content = value
    summary = _plain(raw.get("summary", "") or "")
    content_text = _plain(content)
    if content_text == summary:
        content_text = ""
    # dict.get skips feedparser's deprecated published->updated key mapping (and its warning).
    published = _struct_time(
        dict.get(raw, "published_parsed") or dict.get(raw, "updated_parsed"), now
    )
    guid = raw.get("id") or link
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
    for candidate in candidates:
        link = usable_link(str(candidate), feed_url) if candidate else None
        if link:
            return link
    return None


# Markup left in text that was already decoded once: the publisher escaped its HTML twice
# ("&amp;lt;b&amp;gt;"). Read as text it would show tags, or a <script>, to the reader.
_LEFTOVER_MARKUP = re.compile(
    r"<\s*(script|style|iframe|object|embed|svg|math|img|a|b|i|u|em|strong|span|p|div|br|font)"
    r"\b[^>]*>|</\s*[a-z][a-z0-9]*\s*>",
    re.IGNORECASE,
)


def _plain(fragment: str) -> str:
    """Plain text of a feed's HTML field, decoded twice when it was escaped twice."""
    text = html_to_text(fragment)
    if _LEFTOVER_MARKUP.search(text):
        text = html_to_text(text.replace("\n\n", "<br><br>"))
    return text


def _clean_title(value: str) -> str:
    title = collapse(_plain(value or ""))
    if len(title) > _MAX_TITLE:
        title = title[: _MAX_TITLE - 1].rsplit(" ", 1)[0] + "…"
    return title


def _title_from_text(text: str) -> str:
    first = text.split("\n", 1)[0]
    return _clean_title(first[:120])


def _struct_time(value: Any, now: datetime) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromtimestamp(calendar.timegm(value), tz=UTC)
    except (OverflowError, ValueError, TypeError, OSError):
        return None
    return _not_in_future(moment, now)


def _iso_time(value: Any, now: datetime) -> datetime | None:
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip().replace("Z", "+00:00")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        moment = moment.astimezone(UTC)
    except OverflowError:  # year 1 or 9999 with an offset
        return None
    return _not_in_future(moment, now)


def _not_in_future(moment: datetime, now: datetime) -> datetime:
    """A date far ahead of the fetch is a publisher's clock bug: date the entry now."""
    return now if moment - now > _FUTURE_TOLERANCE else moment


def _parse_json_feed(body: bytes, feed_name: str, feed_url: str, now: datetime) -> ParsedFeed:
    try:
        data = json.loads(body.decode("utf-8-sig"))
    except UnicodeDecodeError as error:
        raise FeedError(feed_name, f"JSON Feed is not UTF-8: {error.reason}") from None
    except json.JSONDecodeError as error:
        raise FeedError(feed_name, f"malformed JSON at line {error.lineno}: {error.msg}") from None
    except (RecursionError, ValueError) as error:  # absurd nesting, 5000-digit numbers
        raise FeedError(feed_name, f"JSON too deep or too large to read: {error}") from None
    if not isinstance(data, dict) or "jsonfeed.org" not in str(data.get("version", "")):
        raise FeedError(feed_name, "JSON without a jsonfeed.org version: not a JSON Feed")
    items = data.get("items")
    if not isinstance(items, list):
        raise FeedError(feed_name, "JSON Feed has no items list")
    entries, dropped = [], []
    seen: set[str] = set()
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            dropped.append(Skipped("entry", feed_url, f"item {index} is not an object", feed_name))
            continue
        raw_link = item.get("url") or item.get("external_url")
        link = usable_link(raw_link, feed_url) if isinstance(raw_link, str) else None
        title = _clean_title(str(item.get("title") or ""))
        if not link:
            reason = f"item {title or index!r} has no usable http(s) url"
            dropped.append(Skipped("entry", feed_url, reason, feed_name))
            continue
        summary = _plain(str(item.get("summary") or ""))
        content = _plain(str(item.get("content_html") or "")) or html_to_text(
            str(item.get("content_text") or "").replace("<", "&lt;")
        )
        if not summary and content:
            summary = content.split("\n\n", 1)[0]
        if content == summary:
            content = ""
        author = _json_author(item.get("authors") or item.get("author"))
        guid = str(item.get("id") or link)
        if guid in seen:
            dropped.append(Skipped("entry", feed_url, f"duplicate entry id {guid!r}", feed_name))
            continue
        seen.add(guid)
        entries.append(
            FeedEntry(
                feed=feed_name,
                guid=guid[:1000],
                link=link,
                url=canonical_url(link),
                title=title or _title_from_text(summary or content),
                summary=summary,
                content=content,
                published=_iso_time(item.get("date_published") or item.get("date_modified"), now),
                author=author,
            )
        )
    return ParsedFeed(collapse(str(data.get("title") or "")), tuple(entries), None, tuple(dropped))


def _json_author(value: Any) -> str | None:
    """JSON Feed 1.1 `authors` is a list of objects; 1.0 `author` an object; some send text."""
    first = value[0] if isinstance(value, list) and value else value
    if isinstance(first, dict):
        first = first.get("name")
    return collapse(first) or None if isinstance(first, str) else None
