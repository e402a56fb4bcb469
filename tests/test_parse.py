from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from digest.errors import FeedError
from digest.feeds._parse import parse_feed

SHARED_FEEDS = Path(__file__).resolve().parents[2] / "shared" / "data" / "feeds"
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
needs_shared = pytest.mark.skipif(not SHARED_FEEDS.is_dir(), reason="../shared/data is absent")


def parse(body: bytes, url: str = "https://news.example/feed"):
    return parse_feed(body, "News", url, NOW)


@needs_shared
@pytest.mark.parametrize(
    "path",
    sorted(p for p in SHARED_FEEDS.glob("*") if p.suffix in (".rss", ".atom")),
    ids=lambda p: p.name,
)
def test_real_world_feeds_parse_or_fail_with_a_reason(path):
    body = path.read_bytes()
    if path.name == "unrecognized.rss":
        with pytest.raises(FeedError, match="got an HTML page, not a feed"):
            parse(body)
        return
    parsed = parse(body)
    for entry in parsed.entries:
        assert entry.link.startswith(("http://", "https://"))
        assert entry.title
        assert entry.published is None or entry.published <= NOW
    if path.name in ("missing-fields.atom", "incomplete-fields.atom"):
        assert not parsed.entries and parsed.dropped
    else:
        assert parsed.entries and parsed.warning is None, parsed.warning


@needs_shared
def test_latin1_feeds_are_decoded():
    titles = [e.title for e in parse((SHARED_FEEDS / "encoding.rss").read_bytes()).entries]
    assert "Mãe de utente é a nova presidente da Raríssimas" in titles
    uol = parse((SHARED_FEEDS / "uolNoticias.rss").read_bytes()).entries
    assert any("ã" in e.title or "ç" in e.title for e in uol)


def test_json_feed_items_become_entries():
    feed = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "Bytes",
        "items": [
            {
                "id": "1",
                "url": "/a?utm_source=x",
                "title": "A &amp; B",
                "content_html": "<p>First.</p><script>alert(1)</script><p>Second.</p>",
                "date_published": "2026-11-23T08:00:00Z",
                "authors": [{"name": "Ann"}],
            },
            {"id": "1", "url": "https://news.example/dup", "title": "Duplicate id"},
            {"id": "3", "title": "No link"},
        ],
    }
    parsed = parse(json.dumps(feed).encode())
    (entry,) = parsed.entries
    assert entry.link == "https://news.example/a?utm_source=x"
    assert entry.url == "https://news.example/a"
    assert entry.title == "A & B"
    assert entry.content == "First.\n\nSecond." or entry.summary == "First.\n\nSecond."
    assert "alert" not in entry.summary + entry.content
    assert entry.published == datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
    assert entry.author == "Ann"
    assert len(parsed.dropped) == 2


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "the feed is empty"),
        (b"<?xml version='1.0'?><rss><channel><titl", "malformed feed"),
        (b"<html><body>Moved</body></html>", "got an HTML page"),
        (b'{"items": []}', "not a JSON Feed"),
        (b'{"version": "https://jsonfeed.org/version/1", "items": [', "malformed JSON at line 1"),
        (b"\x00\x01\x02 binary", "not a feed"),
    ],
)
def test_broken_feeds_raise_feed_error_with_a_reason(body, reason):
    with pytest.raises(FeedError, match=reason) as caught:
        parse(body)
    assert str(caught.value).startswith("feed 'News': ")


def test_future_dates_are_clamped_and_duplicate_guids_dropped():
    rss = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>
    <item><title>Later</title><link>https://n.example/1</link><guid isPermaLink="false">g1</guid>
      <pubDate>Mon, 01 Jan 2035 00:00:00 +0000</pubDate></item>
    <item><title>Again</title><link>https://n.example/2</link>
      <guid isPermaLink="false">g1</guid></item>
    </channel></rss>"""
    parsed = parse(rss)
    assert [e.title for e in parsed.entries] == ["Later"]
    assert parsed.entries[0].published == NOW
    assert [dropped.reason for dropped in parsed.dropped] == ["duplicate entry id 'g1'"]


def test_recovered_xml_errors_are_reported_as_warnings():
    rss = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>
    <item><title>One</title><link>https://n.example/1</link></item>
    <item><title>Two</title><link>https://n.example/2</link></item></channel>"""
    parsed = parse(rss)
    assert len(parsed.entries) == 2
    assert parsed.warning and "2 entries recovered" in parsed.warning


def test_demo_feeds_all_parse():
    sites = Path(__file__).resolve().parent.parent / "config" / "demo" / "sites"
    feeds = [p for p in sites.glob("*/*") if p.is_file()]
    assert len(feeds) == 8
    for path in feeds:
        assert parse(path.read_bytes(), "http://127.0.0.1:8765/").entries, path
