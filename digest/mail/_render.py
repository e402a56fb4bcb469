"""Render a Digest: Jinja2 -> MJML -> HTML (mjml-python), and a plain-text part.

Everything from a feed reaches the templates as plain text and is escaped by Jinja2's
autoescape; links pass `safe_url`, which lets only http(s) through, so a `javascript:` or
`data:` link in a feed becomes no link at all.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import jinja2
from mjml import mjml2html

from ..config import DEFAULT_SUBJECT
from ..errors import RenderError
from ..files import slug
from ..models import Digest, DigestItem, RenderedDigest
from ..text import one_line, printable

HTML_TEMPLATE = "digest.mjml.j2"
TEXT_TEMPLATE = "digest.txt.j2"


def default_template_dir() -> Path:
    """templates/ inside the installed package, or at the repository root when run from source."""
    package = Path(__file__).resolve().parents[1]
    packaged = package / "templates"
    return packaged if packaged.is_dir() else package.parent / "templates"


def safe_url(url: str | None) -> str:
    if not url:
        return ""
    parts = urlsplit(url.strip())
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return ""
    return url.strip()


def wrap(text: str, width: int = 78, first: str = "", rest: str = "") -> str:
    """Fold plain text at `width` columns, keeping URLs whole."""
    return textwrap.fill(
        text,
        width=width,
        initial_indent=first,
        subsequent_indent=rest,
        break_long_words=False,
        break_on_hyphens=False,
    )


def _environment(folder: Path, autoescape: bool) -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(folder)),
        autoescape=autoescape,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    environment.filters["wrap"] = wrap
    return environment


def _format_time(moment: datetime, zone: ZoneInfo, today: datetime) -> str:
    local = moment.astimezone(zone)
    if local.date() == today.astimezone(zone).date():
        return local.strftime("%H:%M")
    return local.strftime("%d %b, %H:%M").lstrip("0")


@dataclass(frozen=True)
class Links:
    """Links around the digest: its archive page, the archive's index, unsubscribing."""

    archive_page: str = ""  # this digest on the web ("view in browser")
    archive_index: str = ""  # the list of past digests
    unsubscribe: str = ""  # https URL or mailto:; may hold {recipient}, filled per message


def template_context(
    digest: Digest,
    feed_count: int | None = None,
    links: Links | None = None,
    web: bool = False,
    show_why: bool = False,
) -> dict[str, Any]:
    """The variables a template receives (documented in docs/email.md, "Templates")."""
    links = links or Links()
    zone = ZoneInfo(digest.timezone)
    order = {name: index for index, name in enumerate(digest.sections)}
    grouped: dict[str | None, list[DigestItem]] = {}
    for item in digest.items:
        grouped.setdefault(item.section, []).append(item)
    # Unsectioned items lead; sections follow in config order, then any the config lacks.
    names = sorted(grouped, key=lambda n: (n is not None, order.get(n or "", len(order)), n or ""))
    sections: list[dict[str, Any]] = []
    number = 0
    for name in names:
        stories = []
        for item in grouped[name]:
            number += 1
            stories.append(_item_context(item, number, zone, digest, show_why))
        sections.append(
            {
                "name": name,
                "anchor": "section-" + slug(name or "", limit=200, empty="x"),
                "count": len(stories),
                "stories": stories,
            }
        )
    named = [section for section in sections if section["name"]]
    outlets = {s.name for item in digest.items for s in item.sources}
    headlines = [item.headline for item in digest.items[:3]]
    return {
        "digest": {
            "title": digest.title,
            "date": digest.created.astimezone(zone).strftime("%A %d %B %Y"),
            "timezone": digest.created.astimezone(zone).strftime("%Z"),
            "language": digest.language,
            "item_count": len(digest.items),
            "source_count": sum(
                max(len(source.articles), 1) for item in digest.items for source in item.sources
            ),
            "feed_count": feed_count if feed_count is not None else len(outlets),
        },
        "sections": sections,
        # A table of contents only helps when there is more than one section to jump to.
        "toc": named if len(named) > 1 else [],
        "preheader": printable(" · ".join(headlines)),
        "web": web,
        "links": {
            "archive_page": _operator_link(links.archive_page),
            "archive_index": _operator_link(links.archive_index),
            # The archive page is public: it never carries a reader's unsubscribe link.
            "unsubscribe": "" if web else _operator_link(links.unsubscribe),
        },
    }


def _operator_link(link: str) -> str:
    """Links from the config (not from feeds): http(s), mailto: or a relative path."""
    parts = urlsplit(link)
    if parts.scheme.lower() == "mailto" or (not parts.scheme and not parts.netloc):
        return link
    return safe_url(link)


def _item_context(
    item: DigestItem, number: int, zone: ZoneInfo, digest: Digest, show_why: bool = False
) -> dict[str, Any]:
    first = item.sources[0]
    count = len(item.sources)
    # One source needs no coverage line: the source line below says it all.
    coverage = ""
    if count > 1:
        first_time = _format_time(first.published, zone, digest.created)
        coverage = f"{count} sources · first reported by {first.name}, {first_time}"
    language_tag = (
        item.language.upper() if item.language and item.language != digest.language else ""
    )
    return {
        "number": number,
        "indent": " " * (len(str(number)) + 2),
        # printable(): one control character from a feed would stop MJML and the digest.
        "headline": printable(item.headline),
        "url": safe_url(item.url),
        "summary": printable(item.summary),
        "section": item.section,
        "language_tag": language_tag,
        "coverage": coverage,
        # show_why: the terms that grouped the sources, for operators checking the clusterer.
        "why": ", ".join(printable(term) for term in item.why) if show_why and count > 1 else "",
        "sources": [
            {
                "name": printable(source.name),
                "url": safe_url(source.url),
                "title": printable(source.title),
                "time": _format_time(source.published, zone, digest.created),
                # Every piece the outlet has in the item: a follow-up, a translation, or a
                # story merged by mistake is listed under its outlet, never hidden.
                "count": max(len(source.articles), 1),
                "more": [
                    {
                        "url": safe_url(piece.url),
                        "title": printable(piece.title),
                        "time": _format_time(piece.published, zone, digest.created),
                    }
                    for piece in source.articles[1:]
                ],
            }
            for source in item.sources
        ],
    }


def subject_line(digest: Digest, pattern: str = DEFAULT_SUBJECT) -> str:
    """The subject from the config's pattern; {headline} is the top item's headline."""
    zone = ZoneInfo(digest.timezone)
    fields = {
        "title": digest.title,
        "date": digest.created.astimezone(zone).strftime("%d %b %Y").lstrip("0"),
        "headline": digest.items[0].headline if digest.items else "",
        "count": str(len(digest.items)),
    }
    # One line without controls or bidi overrides, as build_message makes every header: the
    # length is then measured on what the reader sees.
    subject = one_line(pattern.format(**fields)).rstrip(" :·")
    return subject if len(subject) <= 140 else subject[:139].rsplit(" ", 1)[0] + "…"


def render_digest(
    digest: Digest,
    template_dir: Path | None = None,
    feed_count: int | None = None,
    *,
    subject: str = DEFAULT_SUBJECT,
    links: Links | None = None,
    web: bool = False,
    show_why: bool = False,
) -> RenderedDigest:
    """The email (or, with `web`, the archive page: no unsubscribe link, no hidden preheader)."""
    folder = template_dir or default_template_dir()
    context = template_context(digest, feed_count, links, web, show_why)
    try:
        mjml_source = _environment(folder, True).get_template(HTML_TEMPLATE).render(context)
        text = _environment(folder, False).get_template(TEXT_TEMPLATE).render(context)
    except jinja2.TemplateNotFound as error:
        raise RenderError(f"{folder}: template {error.name} not found") from None
    except jinja2.TemplateSyntaxError as error:
        raise RenderError(f"{error.filename or folder}:{error.lineno}: {error.message}") from None
    except Exception as error:  # an operator's template can fail in any way; name it
        raise RenderError(f"{folder}: template failed: {type(error).__name__}: {error}") from None
    try:
        # fonts={}: no web-font <link>; the email must not call out to a font host.
        html = mjml2html(mjml_source, disable_comments=True, fonts={})
    except Exception as error:  # mrml raises its own error types from Rust
        raise RenderError(f"{HTML_TEMPLATE}: MJML could not be rendered: {error}") from None
    return RenderedDigest(subject=subject_line(digest, subject), html=html, text=text)
