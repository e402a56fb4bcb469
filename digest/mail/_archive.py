"""The web archive: every delivered digest as a standalone page, an index of past digests
(newest first) and an Atom feed of the digests, in `archive.dir`.

The folder keeps its own record, `digests.json`, so the index and the feed are rebuilt from
the folder alone (copy it to any static host). Only `digest run` writes here, after the
digest was delivered; `digest preview` never does.
"""

from __future__ import annotations

import contextlib
import fcntl
import html
import json
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from xml.etree import ElementTree
from zoneinfo import ZoneInfo

from babel.dates import format_time
from babel.numbers import format_decimal

from ..config import ArchiveConfig
from ..errors import DigestError
from ..files import write_atomically
from ..models import Digest
from ._render import (
    Links,
    catalog,
    date_and_time,
    digest_locale,
    long_date,
    safe_url,
    zone_name,
)

RECORD = "digests.json"
INDEX = "index.html"
FEED = "feed.atom"
FEED_ENTRIES = 50  # the index lists every digest; the feed, the newest
# Held while the record is rewritten; a dot file, which web servers commonly do not serve.
LOCK = ".digests.lock"
ATOM = "http://www.w3.org/2005/Atom"


class ArchiveError(DigestError):
    """The archive folder could not be written; the digest itself was delivered."""


@dataclass(frozen=True)
class ArchivedDigest:
    page: str  # file name in the archive folder
    title: str
    subject: str
    created: str  # ISO 8601, UTC
    item_count: int
    headlines: list[tuple[str, str]]  # (headline, url) of each item
    follow_up_count: int = 0  # late reports on stories sent before (none in older records)


def page_name(created: datetime) -> str:
    """'2026-11-23-090000.html', by UTC time; with the milliseconds when it has any, so that
    two digests sent within one second do not share (and overwrite) one page."""
    moment = created.astimezone(UTC)
    fraction = f"-{moment.microsecond // 1000:03d}" if moment.microsecond else ""
    return moment.strftime("%Y-%m-%d-%H%M%S") + fraction + ".html"


def _public(archive: ArchiveConfig, name: str) -> str:
    return f"{archive.url.rstrip('/')}/{name}" if archive.url else ""


def email_links(archive: ArchiveConfig | None, created: datetime, unsubscribe: str) -> Links:
    """The links the email carries: its archive page and the index, when public."""
    if archive is None or not archive.url:
        return Links(unsubscribe=unsubscribe)
    return Links(
        archive_page=_public(archive, page_name(created)),
        archive_index=_public(archive, ""),
        unsubscribe=unsubscribe,
    )


def page_links() -> Links:
    """Links on an archive page: relative, so the folder works wherever it is served."""
    return Links(archive_index=INDEX)


def archive_page(digest: Digest, page_html: str, subject: str) -> str:
    """What the archive keeps of one digest (its page, its entry in the index and the feed,
    the index's title, language and zone), as text: staged with the digest, since the run
    that sends its first message, and so writes its page, may be a later one."""
    entry = ArchivedDigest(
        page=page_name(digest.created),
        title=digest.title,
        subject=subject,
        # To the millisecond, like the page name: two digests of one second stay in order.
        created=digest.created.astimezone(UTC).isoformat(timespec="milliseconds"),
        item_count=len(digest.items),
        headlines=[(item.headline, safe_url(item.url)) for item in digest.items],
        follow_up_count=digest.follow_up_count,
    )
    return json.dumps(
        {
            "entry": asdict(entry),
            "html": page_html,
            "language": digest.language,
            "timezone": digest.timezone,
        },
        ensure_ascii=False,
    )


def write_archive(archive: ArchiveConfig, page: str) -> list[Path]:
    """Add one digest's page (`archive_page`) and rewrite the index and the feed. Returns
    the files written."""
    folder = archive.folder
    kept = json.loads(page)
    entry = _entry(kept["entry"])
    try:
        folder.mkdir(parents=True, exist_ok=True)
        # The record is read, added to and written whole: two runs writing one archive at
        # once (two digests of a daemon, or by hand) each lost the other's entry.
        with _locked(folder / LOCK):
            kept_entries, damaged = _read_record(folder)
            entries = [e for e in kept_entries if e.page != entry.page] + [entry]
            entries.sort(key=lambda e: datetime.fromisoformat(e.created), reverse=True)
            files = {
                folder / entry.page: kept["html"],
                folder / RECORD: json.dumps(
                    [asdict(e) for e in entries], ensure_ascii=False, indent=1
                ),
                folder / INDEX: index_page(
                    entries, entry.title, kept["language"], archive, kept["timezone"]
                ),
                folder / FEED: atom_feed(entries, entry.title, archive),
            }
            for path, text in files.items():
                # The web server must read the archive (mkstemp makes files private).
                write_atomically(path, text.encode("utf-8"), mode=0o644)
    except OSError as error:
        raise ArchiveError(f"archive {folder}: cannot write: {error.strerror or error}") from None
    if damaged:  # said once the page is written: the email's "View in browser" link works
        raise ArchiveError(damaged)
    return list(files)


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Hold flock(LOCK_EX) on `path` for the block (a filesystem without locks: none). A
    lock file another account made (a run by hand with sudo) is opened to read: flock
    needs no more, and the archive's files are replaced by rename, not written in place."""
    try:
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except PermissionError:
        descriptor = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        with contextlib.suppress(OSError):
            fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)


def _entry(row: dict) -> ArchivedDigest:
    """An entry read back from JSON, where its (headline, url) pairs became lists; its
    `created` must be a time with its zone, which the index sorts by and shows."""
    entry = ArchivedDigest(**{**row, "headlines": [tuple(pair) for pair in row["headlines"]]})
    if datetime.fromisoformat(entry.created).tzinfo is None:
        raise ValueError(f"created {entry.created!r} has no time zone")
    return entry


def _read_record(folder: Path) -> tuple[list[ArchivedDigest], str]:
    """The record's entries, and what was wrong with it ("" when nothing). A damaged
    record is copied aside for the operator, and its readable entries kept: one bad entry
    hid every digest from the index before, and lost the page being written."""
    path = folder / RECORD
    if not path.exists():
        return [], ""
    entries: list[ArchivedDigest] = []
    problem = None
    try:
        rows = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(rows, list):
            raise TypeError("not a list of entries")
    except (ValueError, TypeError) as error:
        rows, problem = [], f"unreadable ({type(error).__name__}: {error})"
    bad = 0
    for row in rows:
        try:
            entries.append(_entry(row))
        except (ValueError, TypeError, KeyError) as error:
            bad += 1
            problem = problem or f"{type(error).__name__}: {error}"
    if problem is None:
        return entries, ""
    kept = path.with_name(f"{RECORD}.broken-{datetime.now(UTC):%Y%m%d%H%M%S}")
    write_atomically(kept, path.read_bytes(), mode=0o600)
    left_out = f"{bad} of its {len(rows)} entries left out" if rows else "started again"
    return entries, f"archive {path}: {problem}; {left_out}, a copy kept as {kept.name}"


def _when(entry: ArchivedDigest, zone: ZoneInfo, language: str) -> str:
    """When a digest went out, in the digest's own timezone and language, as the email dated
    it: 'Monday 23 November 2026, 17:00 JST', 'lundi 23 novembre 2026, 09:00 CET'."""
    local = datetime.fromisoformat(entry.created).astimezone(zone)
    time = format_time(local, "short", locale=digest_locale(language))
    moment = date_and_time(long_date(local, language), time, language, "medium")
    return f"{moment} {zone_name(local, language)}"


def index_page(
    entries: list[ArchivedDigest],
    title: str,
    language: str,
    archive: ArchiveConfig,
    timezone: str = "UTC",
) -> str:
    """The list of past digests, newest first, with each one's top headlines, each a link to
    that story on the digest's archived page (the page shows its sources and summary)."""
    escape = html.escape
    zone = ZoneInfo(timezone)
    texts = catalog(language)
    locale = digest_locale(language)
    rows = []
    for entry in entries:
        # The headlines are the digest's first items in rank order; its page marks item n
        # with id="story-n" (an older page without the ids still opens at its top).
        tops = "".join(
            f'<li><a href="{escape(entry.page)}#story-{rank}">{escape(headline)}</a></li>'
            for rank, (headline, _) in enumerate(entry.headlines[:3], 1)
        )
        more = entry.item_count - min(3, len(entry.headlines))
        stories = texts.ngettext("%(num)s story", "%(num)s stories", entry.item_count) % {
            "num": format_decimal(entry.item_count, locale=locale)
        }
        if entry.follow_up_count:
            count = entry.follow_up_count
            follow_ups = texts.ngettext("%(num)s follow-up", "%(num)s follow-ups", count) % {
                "num": format_decimal(count, locale=locale)
            }
            stories = f"{stories} · {follow_ups}" if entry.item_count else follow_ups
        rest = texts.ngettext("and %(num)s more", "and %(num)s more", more) % {
            "num": format_decimal(more, locale=locale)
        }
        rows.append(
            f'<li class="d"><a href="{escape(entry.page)}">{escape(_when(entry, zone, language))}'
            f'</a> <span class="m">· {escape(stories)}</span>'
            f"{f'<ul>{tops}</ul>' if tops else ''}"
            f"{f'<p class=m>{escape(rest)}</p>' if more > 0 else ''}</li>"
        )
    heading = texts.gettext("Past digests, newest first")
    atom = texts.gettext("Atom feed")
    page_title = texts.gettext("%(title)s: past digests") % {"title": title}
    feed = escape(_public(archive, FEED) or FEED)
    return f"""<!doctype html>
<html lang="{escape(language)}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>{escape(page_title)}</title>
<link rel="alternate" type="application/atom+xml" title="{escape(title)}" href="{feed}">
<style>
body {{ margin: 0; background: #eef0f3; color: #1f2328; line-height: 1.5;
  font-family: -apple-system, BlinkMacSystemFont, 'Segoe UI', Roboto, Helvetica, Arial,
  sans-serif; }}
main {{ max-width: 600px; margin: 0 auto; padding: 24px 16px;
  overflow-wrap: anywhere; word-break: break-word; }}
h1 {{ font-size: 28px; margin: 0 0 4px; }}
a {{ color: #0b57d0; }} .m {{ color: #57606a; }}
ol {{ list-style: none; padding: 0; }}
.d {{ background: #fff; border-radius: 10px; padding: 14px 20px; margin: 10px 0; }}
.d > a {{ font-weight: 600; font-size: 18px; text-decoration: none; }}
.d ul {{ margin: 6px 0 0; padding-left: 20px; }} .d p {{ margin: 4px 0 0; }}
.d li a {{ text-decoration: none; }} .d li a:hover {{ text-decoration: underline; }}
@media (prefers-color-scheme: dark) {{
  body {{ background: #111418; color: #e6e8eb; }} .d {{ background: #1c2128; }}
  a {{ color: #8ab4f8; }} .m {{ color: #a9b3be; }}
}}
</style>
</head>
<body>
<main>
<h1>{escape(title)}</h1>
<p class="m">{escape(heading)} · <a href="{feed}">{escape(atom)}</a></p>
<ol>
{chr(10).join(rows)}
</ol>
</main>
</body>
</html>
"""


def atom_feed(entries: list[ArchivedDigest], title: str, archive: ArchiveConfig) -> str:
    """An Atom feed (RFC 4287) with one entry per digest, newest first: the FEED_ENTRIES
    newest (a year of hourly digests made a 36 MB feed, fetched whole by every reader)."""
    ElementTree.register_namespace("", ATOM)

    def add(parent: ElementTree.Element, tag: str, text: str = "", **attributes: str):
        element = ElementTree.SubElement(parent, f"{{{ATOM}}}{tag}", attributes)
        element.text = text or None
        return element

    base = _public(archive, "")
    feed = ElementTree.Element(f"{{{ATOM}}}feed")
    add(feed, "title", title)
    add(feed, "id", base or _urn(title, ""))
    add(feed, "updated", entries[0].created if entries else "1970-01-01T00:00:00+00:00")
    add(add(feed, "author"), "name", title)
    add(feed, "link", rel="alternate", type="text/html", href=base + INDEX)
    add(feed, "link", rel="self", type="application/atom+xml", href=base + FEED)
    for entry in entries[:FEED_ENTRIES]:
        node = add(feed, "entry")
        add(node, "title", entry.subject)
        add(node, "id", base + entry.page if base else _urn(title, entry.page))
        add(node, "updated", entry.created)
        add(node, "published", entry.created)
        add(node, "link", rel="alternate", type="text/html", href=base + entry.page)
        items = "".join(
            f'<li><a href="{html.escape(url)}">{html.escape(headline)}</a></li>'
            if url
            else f"<li>{html.escape(headline)}</li>"
            for headline, url in entry.headlines
        )
        # A digest of follow-ups alone has no headlines of its own: its subject names its
        # first new report.
        content = f"<ol>{items}</ol>" if items else f"<p>{html.escape(entry.subject)}</p>"
        add(node, "content", content, type="html")
    return ElementTree.tostring(feed, encoding="unicode", xml_declaration=True) + "\n"


def _urn(title: str, page: str) -> str:
    """A stable id when the archive has no public URL."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"digest:{title}/{page}").urn
