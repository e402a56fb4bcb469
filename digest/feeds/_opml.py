"""OPML in and out: bring a feed reader's subscriptions, or hand ours to one.

Import edits the YAML config in place with ruamel.yaml's round trip, so the operator's
comments, key order and other feeds stay as they were; new feeds are appended to `feeds:`.
An OPML folder becomes the `section` of the feeds in it. The new text is validated as a
config before it replaces the file (atomically), so a bad import never breaks the config.
"""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from urllib.parse import urlsplit

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from ..config import Config, parse_config
from ..errors import ConfigError
from ..files import write_atomically


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

    def walk(outline: ET.Element, section: str | None) -> None:
        for child in outline.findall("outline"):
            label = (child.get("title") or child.get("text") or "").strip()
            url = (child.get("xmlUrl") or "").strip()
            if url:
                feeds.append(OpmlFeed(label or urlsplit(url).hostname or url, url, section))
            walk(child, label or section if not url else section)

    walk(root.find("body"), None)  # type: ignore[arg-type]
    return feeds


def import_opml(config: Config, opml_path: Path) -> ImportResult:
    """Append the OPML's feeds that the config does not list yet; returns what happened."""
    found = read_opml(opml_path)
    source = config.path.read_text(encoding="utf-8")
    yaml = _yaml()
    data = yaml.load(source)
    feeds = data.get("feeds")
    if not isinstance(feeds, CommentedSeq):
        raise ConfigError("feeds: expected a list to add to", path=str(config.path))
    urls = {str(entry.get("url", "")).strip() for entry in feeds if isinstance(entry, dict)}
    urls |= {feed.url for feed in config.feeds}
    names = {str(entry.get("name", "")).strip() for entry in feeds if isinstance(entry, dict)}
    result = ImportResult()
    for feed in found:
        if urlsplit(feed.url).scheme not in ("http", "https"):
            result.skipped.append(f"{feed.name}: {feed.url!r} is not an http(s) URL")
            continue
        if feed.url in urls:
            result.skipped.append(f"{feed.name}: {feed.url} is already listed")
            continue
        name = feed.name
        number = 2
        while name in names:
            name, number = f"{feed.name} ({number})", number + 1
        entry = CommentedMap(name=name, url=feed.url)
        if feed.section:
            entry["section"] = feed.section
        feeds.append(entry)
        urls.add(feed.url)
        names.add(name)
        result.added.append(OpmlFeed(name, feed.url, feed.section))
    if result.added:
        buffer = io.StringIO()
        yaml.dump(data, buffer)
        text = buffer.getvalue()
        parse_config(text, config.path)  # never write a config that would not load
        write_atomically(config.path, text.encode("utf-8"), mode=config.path.stat().st_mode & 0o777)
    return result


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
