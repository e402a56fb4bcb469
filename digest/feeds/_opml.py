"""The config's feed list, edited in place: OPML in and out (a feed reader's
subscriptions), and `digest feeds add|remove`.

Edits keep the operator's YAML: ruamel.yaml's round trip finds where each feed is (its
lines) and writes new entries in the file's own indentation, and only those lines change,
so every comment, blank line and key stays where it was. (Dumping the whole round trip
moved the comments that sit between two feeds, or before the key after `feeds:`, which
ruamel keeps on the feed above them: they went with a removed feed, or ended up above an
appended one.) An OPML folder becomes the `section` of the feeds in it. The new text is
validated as a config before it replaces the file (atomically), so a bad edit never breaks
the config. A config without feeds (no `feeds:`, or `feeds: []`) gets the list written.

An OPML file is someone else's text: its names are folded to one line without the
characters that reorder a line (bidi controls), and a feed at a non-public address
(loopback, private, link-local such as the cloud metadata 169.254.169.254) is skipped
unless the operator says otherwise (`allow_private`). A configured feed URL is trusted to
reach the local network (the fetcher does not guard it), so an imported file must not
bring one in unseen.
"""

from __future__ import annotations

import io
import ipaddress
import re
import socket
import threading
import time
import unicodedata
import xml.etree.ElementTree as ET
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from ..config import Config, FeedConfig, feed_key, feed_url, parse_config
from ..errors import ConfigError, Invalid
from ..files import write_atomically
from ..text import MAX_URL, one_line, one_token
from ._netguard import address_kind, an_address, system_resolver

# Host names looked up at once on import, and how long all lookups may take (seconds).
LOOKUPS = 16
LOOKUP_WAIT = 10.0
# The longest feed name taken from an OPML file (a name shows in every digest's sources).
MAX_NAME = 120


@dataclass(frozen=True)
class OpmlFeed:
    name: str
    url: str
    section: str | None


@dataclass
class ImportResult:
    added: list[OpmlFeed] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # one line each: what and why


def read_opml(path: Path) -> list[OpmlFeed]:
    """The feeds of an OPML file, in document order. Raises ConfigError naming file/line."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ConfigError(f"cannot read: {error.strerror or error}", path=str(path)) from None
    try:
        root = ET.fromstring(data)
    except ET.ParseError as error:
        line = error.position[0] if error.position else None
        reason = str(error).split(":")[0]
        raise ConfigError(f"not valid OPML (XML): {reason}", path=str(path), line=line) from None
    if root.tag != "opml" or root.find("body") is None:
        raise ConfigError("not OPML: expected <opml> with a <body>", path=str(path))
    feeds: list[OpmlFeed] = []
    # Depth first in document order, with a stack of its own: a file nesting outlines a
    # thousand deep ended Python's recursion with a traceback.
    stack: list[tuple[Iterator[ET.Element], str | None]] = [
        (iter(root.find("body").findall("outline")), None)  # type: ignore[union-attr]
    ]
    while stack:
        children, section = stack[-1]
        child = next(children, None)
        if child is None:
            stack.pop()
            continue
        label = _short(one_line(child.get("title") or child.get("text") or ""))
        url = (child.get("xmlUrl") or "").strip()
        if url:
            feeds.append(OpmlFeed(label or _host(url) or url, url, section))
        stack.append((iter(child.findall("outline")), label or section if not url else section))
    return feeds


def _short(name: str) -> str:
    """`name` in MAX_NAME characters at most, an ellipsis last, cut between whole characters
    as a reader sees them: not after half a flag, before an accent or inside an emoji
    joined with ZWJ."""
    if len(name) <= MAX_NAME:
        return name
    cut = MAX_NAME - 1
    while cut > 0 and _joins(name, cut):
        cut -= 1
    return name[:cut].rstrip() + "…"


def _joins(text: str, at: int) -> bool:
    """Whether `text[at]` belongs with the character before it (a cut there splits one)."""
    here, before = text[at], text[at - 1]
    if unicodedata.combining(here) or here in "\u200d\ufe0e\ufe0f" or before == "\u200d":
        return True
    if "\U0001f3fb" <= here <= "\U0001f3ff":  # a skin tone, with the emoji before it
        return True
    flags = 0  # regional indicators pair up into flags: an odd run before `at` is half one
    while at - flags - 1 >= 0 and "\U0001f1e6" <= text[at - flags - 1] <= "\U0001f1ff":
        flags += 1
    return flags % 2 == 1 and "\U0001f1e6" <= here <= "\U0001f1ff"


def import_opml(config: Config, opml_path: Path, *, allow_private: bool = False) -> ImportResult:
    """Append the OPML's feeds that the config does not list yet; returns what happened.
    Feeds at a non-public address are skipped unless `allow_private`."""
    found = read_opml(opml_path)
    hosts = {_host(feed.url) for feed in found}
    addresses = (
        {} if allow_private else _resolved((h for h in hosts if h and not _literal(h)), LOOKUP_WAIT)
    )
    source, data, feeds = _feed_list(config)
    # Compared as the config compares them (feed_key: no #fragment, the host in any case).
    urls = {feed_key(_normalized(str(e.get("url", "")), config.path)) for e in _entries(feeds)}
    urls |= {feed_key(feed.url) for feed in config.feeds}
    names = {str(entry.get("name", "")).strip() for entry in _entries(feeds)}
    numbered: dict[str, int] = {}  # per name, the next "(N)" to try
    result = ImportResult()
    added: list[CommentedMap] = []
    for feed in found:
        try:
            scheme = urlsplit(feed.url).scheme
        except ValueError as error:  # the URL is not shown: it may hold a password
            result.skipped.append(f"{feed.name}: its URL does not parse ({error})")
            continue
        if scheme not in ("http", "https"):
            shown = _without_userinfo(feed.url)
            result.skipped.append(f"{feed.name}: {shown!r} is not an http(s) URL")
            continue
        try:
            checked = feed_url(feed.url, config.path)
        except Invalid as error:  # a password in the URL, say: never echoed
            result.skipped.append(f"{feed.name}: {error}")
            continue
        # An OPML file is someone else's bytes: its URL goes into the config and the output
        # as one plain token, as a feed's links do. (A URL the operator wrote in the config
        # is kept as written: the feed's state is filed under it.)
        url = one_token(checked)
        if url is None:
            result.skipped.append(
                f"{feed.name}: its URL holds a control character or is over {MAX_URL:,} characters"
            )
            continue
        if "%" in _host(url):  # an invisible character in the host, encoded: no such name
            result.skipped.append(f"{feed.name}: {url} has an invisible character in its host")
            continue
        if feed_key(url) in urls or feed_key(checked) in urls:
            result.skipped.append(f"{feed.name}: {url} is already listed")
            continue
        where = None if allow_private else _not_public(_host(url), addresses)
        if where is not None:
            result.skipped.append(
                f"{feed.name}: {url} {where}; an imported feed may not reach the local "
                "network (--allow-private imports it)"
            )
            continue
        name = feed.name
        number = numbered.get(feed.name, 2)
        while name in names:  # from where the last feed of this name stopped: no rescans
            name, number = f"{feed.name} ({number})", number + 1
        numbered[feed.name] = number
        entry = CommentedMap(name=name, url=url)
        if feed.section:
            entry["section"] = feed.section
        added.append(entry)
        urls.add(feed_key(url))
        names.add(name)
        result.added.append(OpmlFeed(name, url, feed.section))
    if added:
        _save(config, source, data, feeds, added=added)
    return result


def add_feed(
    config: Config,
    url: str,
    name: str | None = None,
    section: str | None = None,
    auth_env: str | None = None,
) -> OpmlFeed:
    """Append one feed to the config's `feeds:`. Raises ConfigError, one line, when the URL
    is not one the config takes, or a feed already has this URL or this name."""
    try:
        wanted = feed_url(url, config.path)
    except Invalid as error:
        raise ConfigError(f"cannot add the feed: {error}", path=str(config.path)) from None
    source, data, feeds = _feed_list(config)
    if name is None:
        name = urlsplit(wanted).hostname or Path(urlsplit(wanted).path).stem or url
    for entry in _entries(feeds):
        listed = str(entry.get("name", "")).strip()
        if feed_key(_normalized(str(entry.get("url", "")), config.path)) == feed_key(wanted):
            raise ConfigError(f"{url} is already listed, as feed {listed!r}", path=str(config.path))
        if listed == name.strip():
            raise ConfigError(
                f"a feed named {listed!r} is already listed ({entry.get('url')}); give this one "
                "another --name",
                path=str(config.path),
            )
    entry = CommentedMap(name=name.strip(), url=url.strip())
    if section:
        entry["section"] = section.strip()
    if auth_env:
        entry["auth_env"] = auth_env.strip()
    _save(config, source, data, feeds, added=[entry])
    return OpmlFeed(name.strip(), url.strip(), section)


def remove_feed(config: Config, name_or_url: str) -> OpmlFeed:
    """Take the feed with this name (else this URL) out of the config's `feeds:`. Its
    stored articles stay in the state, unsent, should it come back. Raises ConfigError when
    no feed matches, or when it is the only one."""
    source, data, feeds = _feed_list(config)
    entries = _entries(feeds)
    names = [str(entry.get("name", "")).strip() for entry in entries]
    try:
        wanted = feed_url(name_or_url, config.path)
    except Invalid:
        wanted = None
    index = next((i for i, name in enumerate(names) if name == name_or_url.strip()), None)
    if index is None and wanted is not None:
        index = next(
            (i for i, entry in enumerate(entries)
             if _normalized(str(entry.get("url", "")), config.path) == wanted),
            None,
        )  # fmt: skip
    if index is None:
        raise ConfigError(
            f"no feed named or at {_without_userinfo(name_or_url)!r}; "
            + (f"feeds: {', '.join(names)}" if names else "the config lists no feeds"),
            path=str(config.path),
        )
    if len(entries) == 1:
        raise ConfigError(
            f"{names[0]!r} is the only feed and a digest needs one; add another first",
            path=str(config.path),
        )
    entry = entries[index]
    _save(config, source, data, feeds, removed=index)
    return OpmlFeed(names[index], str(entry.get("url", "")), entry.get("section"))


def _host(url: str) -> str:
    """The host of an http(s) `url`, "" for another URL or one that does not split."""
    try:
        parts = urlsplit(url)
        return (parts.hostname or "") if parts.scheme in ("http", "https") else ""
    except ValueError:  # "http://[::1": not a URL; the import says so for itself
        return ""


def _literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _resolved(hosts: Iterable[str], wait: float) -> dict[str, list[str]]:
    """The addresses of each host name, looked up LOOKUPS at a time: [] for a name that
    does not resolve, none for one not looked up within `wait` seconds in all."""
    pending = deque(hosts)
    answers: dict[str, list[str]] = {}
    lock = threading.Lock()  # a late answer may come in while the answers are copied

    def look_up() -> None:
        while True:
            with lock:
                if not pending:
                    return
                host = pending.popleft()
            try:
                addresses = system_resolver(host, 443)
            except socket.gaierror as error:
                # Only "no such name" is an answer; a failure (SERVFAIL, EAI_AGAIN: what a
                # name server made slow on purpose gives) leaves the name unchecked.
                if error.errno not in (socket.EAI_NONAME, getattr(socket, "EAI_NODATA", None)):
                    continue
                addresses = []
            except (OSError, UnicodeError):
                continue
            with lock:
                answers[host] = addresses

    # Daemon threads: a name server that never answers holds up neither the import nor exit.
    # LOOKUPS of them, not one per host: 40,000 hosts could start no more threads.
    threads = [threading.Thread(target=look_up, daemon=True) for _ in range(LOOKUPS)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + wait
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    with lock:
        pending.clear()  # what was not looked up in time stays unchecked
        return dict(answers)


def _not_public(host: str, addresses: dict[str, list[str]]) -> str | None:
    """Why `host` is refused: at a non-public address ("is at a link-local address
    (169.254.169.254), not a public one"), or not checked in time; else None. A name counts by
    every address it resolves to. One not looked up in time (its name server made slow, or
    a file of thousands of names) could be anywhere, and a run trusts a configured feed's
    address; one that does not resolve at all is taken, as broken as its fetch will say."""
    if not _literal(host) and host not in addresses:
        return f"could not be checked: {host} did not resolve in time"
    for address in [host] if _literal(host) else addresses[host]:
        kind = address_kind(address)
        if kind is not None:
            shown = address if address == host else f"{host}, {address}"
            return f"is at {an_address(kind)} ({shown}), not a public one"
    return None


def _without_userinfo(url: str) -> str:
    """`url` without the user name and password a URL may hold, for showing it."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl()


def _feed_list(config: Config) -> tuple[str, CommentedMap, CommentedSeq]:
    """The config's text, its round trip and its `feeds:` list; an empty list, not yet in
    the round trip, when the config has no `feeds:` or a null one."""
    source = config.path.read_text(encoding="utf-8")
    data = _yaml().load(source)
    feeds = data.get("feeds") if isinstance(data, CommentedMap) else None
    if feeds is None and isinstance(data, CommentedMap):
        return source, data, CommentedSeq()
    if not isinstance(feeds, CommentedSeq):
        raise ConfigError("feeds: expected a list to edit", path=str(config.path))
    return source, data, feeds


def _entries(feeds: CommentedSeq) -> list[Any]:
    return [entry if isinstance(entry, dict) else {} for entry in feeds]


def _normalized(url: str, config_path: Path) -> str:
    try:
        return feed_url(url.strip(), config_path)
    except Invalid:
        return url.strip()


def _save(
    config: Config,
    source: str,
    data: CommentedMap,
    feeds: CommentedSeq,
    *,
    added: list[CommentedMap] | None = None,
    removed: int | None = None,
) -> None:
    """Write the config with `added` appended to `feeds:`, or the feed at `removed` taken
    out, once the new text is known to load as the same config with just that change."""
    kept = [feed for index, feed in enumerate(config.feeds) if index != removed]
    names = [str(entry["name"]) for entry in added or ()]
    text = _spliced(source, data, feeds, added or [], removed)
    if text is None or not _edited(text, config, kept, names):
        # A layout the line splice does not handle (a flow list, "-" alone on its line):
        # the whole round trip, whose comments near the edit may move.
        if removed is not None:
            del feeds[removed]
        if not feeds:
            feeds.fa.set_block_style()  # `feeds: []` becomes a list of one entry a line
        feeds.extend(added or [])
        if data.get("feeds") is not feeds:
            data["feeds"] = feeds
        buffer = io.StringIO()
        _yaml().dump(data, buffer)
        text = buffer.getvalue()
        # Never write a config that would not load (the SMTP password aside: editing
        # feeds sends no mail, and an admin's shell may lack it).
        parse_config(text, config.path, delivering=False)
        if not _edited(text, config, kept, names):
            raise ConfigError(
                "could not edit feeds: as asked; edit it by hand", path=str(config.path)
            )
    write_atomically(config.path, text.encode("utf-8"), mode=config.path.stat().st_mode & 0o777)


def _edited(text: str, config: Config, kept: list[FeedConfig], added: list[str]) -> bool:
    """Whether `text` loads as `config` with the feeds `kept`, then the feeds named `added`."""
    try:
        loaded = parse_config(text, config.path, delivering=False)
    except ConfigError:
        return False
    feeds = list(loaded.feeds)
    return (
        feeds[: len(kept)] == kept
        and [feed.name for feed in feeds[len(kept) :]] == added
        and replace(loaded, feeds=config.feeds) == config
    )


def _spliced(
    source: str,
    data: CommentedMap,
    feeds: CommentedSeq,
    added: list[CommentedMap],
    removed: int | None,
) -> str | None:
    """`source` with the lines of feed `removed` taken out, or `added` written after the last
    feed, every other line as it was; None for a layout this does not handle."""
    if not feeds and removed is None:
        return _first_feeds(source, data, added)
    if feeds.fa.flow_style() or not feeds:
        return None
    lines = source.splitlines(keepends=True)
    keys = list(data)
    after = keys.index("feeds") + 1
    list_end = data.lc.key(keys[after])[0] if after < len(keys) else len(lines)
    starts = [feeds.lc.item(index)[0] for index in range(len(feeds))] + [list_end]
    if any(not lines[start].lstrip().startswith("-") for start in starts[:-1]):
        return None

    def content_end(index: int) -> int:
        """The line after feed `index`'s last line; the comment and blank lines that follow
        it belong to what comes next."""
        end = starts[index + 1]
        while end > starts[index] + 1 and (
            not lines[end - 1].strip() or lines[end - 1].lstrip().startswith("#")
        ):
            end -= 1
        return end

    if removed is not None:
        del lines[starts[removed] : content_end(removed)]
        return "".join(lines)
    last = len(feeds) - 1
    at = content_end(last)
    dash = len(lines[starts[last]]) - len(lines[starts[last]].lstrip())
    if not lines[at - 1].endswith("\n"):  # the file's last line, without a line break
        lines[at - 1] += "\n"
    lines[at:at] = _rendered(added, dash)
    return "".join(lines)


def _rendered(added: list[CommentedMap], dash: int) -> list[str]:
    """The lines of a block list of `added`, its "-" at column `dash`."""
    buffer = io.StringIO()
    _yaml().dump(CommentedSeq(added), buffer)
    rendered = buffer.getvalue().splitlines()
    # Rendered with its "-" at column `indent`: moved to the file's column.
    indent = len(rendered[0]) - len(rendered[0].lstrip())
    return [" " * dash + line[indent:] + "\n" for line in rendered]


# What may follow the key of an empty `feeds:`: nothing, or `[]`, and a comment.
_EMPTY_FEEDS = re.compile(r":[ \t]*(?:\[[ \t]*\])?[ \t]*(#.*)?\r?\n?")


def _first_feeds(source: str, data: CommentedMap, added: list[CommentedMap]) -> str | None:
    """`source` with a list of `added` as its feeds, for a config with none: under its
    `feeds:` (empty, or `[]`), else as a new key at the end; every other line as it was.
    None for a layout this does not handle."""
    lines = source.splitlines(keepends=True)
    if "feeds" not in data:
        if lines and not lines[-1].endswith("\n"):
            lines[-1] += "\n"
        return "".join([*lines, "feeds:\n", *_rendered(added, 2)])
    row, column = data.lc.key("feeds")
    found = _EMPTY_FEEDS.fullmatch(lines[row], column + len("feeds"))
    if found is None:
        return None
    comment = f"  {found.group(1)}" if found.group(1) else ""
    lines[row] = f"{lines[row][:column]}feeds:{comment}\n"
    lines[row + 1 : row + 1] = _rendered(added, column + 2)
    return "".join(lines)


def export_opml(config: Config, now: datetime | None = None) -> str:
    """OPML 2.0 of the config's feeds; sections become folders, in config order."""
    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = config.title
    ET.SubElement(head, "dateCreated").text = format_datetime(now or datetime.now(UTC))
    body = ET.SubElement(root, "body")
    folders: dict[str, ET.Element] = {}
    for feed in config.feeds:
        parent = body
        if feed.section:
            if feed.section not in folders:
                folders[feed.section] = ET.SubElement(
                    body, "outline", text=feed.section, title=feed.section
                )
            parent = folders[feed.section]
        ET.SubElement(parent, "outline", type="rss", text=feed.name, title=feed.name,
                      xmlUrl=feed.url)  # fmt: skip
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, "unicode") + "\n"


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096  # never fold a long line the operator wrote on one
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml
