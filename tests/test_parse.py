from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import SHARED_DATA

from digest.errors import FeedError
from digest.feeds import _parse
from digest.feeds._parse import parse_feed, shares_page

SHARED_FEEDS = SHARED_DATA / "feeds"
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
# Skipped without ../shared/data on a developer's machine; under CI its absence stops the run
# (conftest.py).
needs_shared = pytest.mark.shared_data


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
            {"id": "1", "url": "https://news.example/a", "title": "Duplicate id and link"},
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


def test_future_dates_are_clamped_and_duplicate_entries_dropped():
    rss = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>
    <item><title>Later</title><link>https://n.example/1</link><guid isPermaLink="false">g1</guid>
      <pubDate>Mon, 01 Jan 2035 00:00:00 +0000</pubDate></item>
    <item><title>Again</title><link>https://n.example/1?utm_source=x</link>
      <guid isPermaLink="false">g1</guid></item>
    </channel></rss>"""
    parsed = parse(rss)
    assert [e.title for e in parsed.entries] == ["Later"]
    assert parsed.entries[0].published == NOW
    assert [dropped.reason for dropped in parsed.dropped] == ["duplicate entry id 'g1'"]


def test_sentences_most_of_a_feeds_entries_repeat_are_dropped_from_each():
    own = {
        "Ferry back": "The harbour ferry resumed after a week of repairs.",
        "Cycle lane": "Council approved the new cycle lane on Mill Road.",
        "Heron again": "A heron has nested on the museum roof again.",
        "Night buses": "Night buses will run every half hour from Friday.",
    }
    item = (
        "<item><title>{title}</title><link>https://n.example/{n}</link><description>"
        "&lt;p&gt;{text} This is another post in our Local Notes series.&lt;/p&gt;"
        "&lt;p&gt;Read more ({n}/12/2026 - 1{n}h05)&lt;/p&gt;"
        "&lt;p&gt;The post {title} appeared first on Harbour News.&lt;/p&gt;</description></item>"
    )
    items = [item.format(n=n, title=t, text=text) for n, (t, text) in enumerate(own.items())]
    feed = '<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>{}</channel></rss>'
    entries = parse(feed.format("".join(items)).encode()).entries
    assert [entry.summary for entry in entries] == list(own.values())
    # Two entries are no pattern: what they share stays.
    for entry in parse(feed.format("".join(items[:2])).encode()).entries:
        assert "Local Notes" in entry.summary and "appeared first" in entry.summary


def test_text_a_feeds_entries_share_as_news_or_as_their_own_titles_stays():
    feed = '<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>{}</channel></rss>'
    # Untitled posts: each title is made of the post's own text.
    posts = ["Snow closed the pass at dawn.", "The ferry is late again.", "Markets opened flat."]
    untitled = "".join(
        f"<item><link>https://n.example/{n}</link><description>{text}</description></item>"
        for n, text in enumerate(posts)
    )
    assert [entry.summary for entry in parse(feed.format(untitled).encode()).entries] == posts
    # A feed of readings: what tells its entries apart is in their numbers.
    quakes = "".join(
        f"<item><title>Quake {n}</title><link>https://q.example/{n}</link><description>"
        f"Magnitude 4.{n} earthquake at depth 1{n} km.</description></item>"
        for n in range(4)
    )
    entries = parse(feed.format(quakes).encode()).entries
    assert [entry.summary for entry in entries] == [
        f"Magnitude 4.{n} earthquake at depth 1{n} km." for n in range(4)
    ]
    # Three updates of one story among six entries share their lead: it is news.
    lead = "The river broke its banks at Selby overnight, the Environment Agency said."
    mixed = "".join(
        f"<item><title>Item {n}</title><link>https://r.example/{n}</link><description>"
        f"{lead if n < 3 else 'Another story.'} Update {n} of the day.</description></item>"
        for n in range(6)
    )
    entries = parse(feed.format(mixed).encode()).entries
    assert all(entry.summary.startswith(lead) for entry in entries[:3])


def test_one_story_linked_twice_is_one_entry_the_straight_one(monkeypatch):
    item = "<item><title>{}</title><link>{}</link><pubDate>{}</pubDate></item>"
    at_eight = "Mon, 23 Nov 2026 08:00:00 +0000"
    direct = "https://n.example/2026/11/tram-line-closes"
    wrapped = f"https://go.n.example/r/*{direct}"

    def urls(*items: str) -> list[str]:
        rss = f'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>{"".join(items)}'
        return [entry.url for entry in parse(f"{rss}</channel></rss>".encode()).entries]

    for first, second in ((direct, wrapped), (wrapped, direct)):
        closes = [item.format("Tram line closes", link, at_eight) for link in (first, second)]
        reopens = item.format("Tram reopens", "https://n.example/2026/11/reopens", at_eight)
        assert urls(*closes, reopens) == [direct, "https://n.example/2026/11/reopens"]
    # Three copies in any order; a redirector that percent-encodes the address.
    encoded = "https://t.example/?u=" + direct.replace(":", "%3A").replace("/", "%2F")
    closes = [item.format("Tram line closes", link, at_eight) for link in (wrapped, encoded)]
    straight = item.format("Tram line closes", direct, at_eight)
    assert urls(*closes, straight) == urls(straight, *closes) == [direct]
    # A flood of one headline at one time costs no pairwise comparison (30,000 took hours).
    compared = []
    wraps = _parse._wraps
    monkeypatch.setattr(_parse, "_wraps", lambda *pair: compared.append(1) or wraps(*pair))
    flood = [item.format("Update", f"https://r.example/*https://n.example/{n}", at_eight)
             for n in range(200)]  # fmt: skip
    assert len(urls(*flood)) == 200
    assert not compared
    # One address the start of another is no redirector's ("/p/1" and "/p/10").
    updates = (item.format("Update", f"https://n.example/p/{n}", at_eight) for n in (1, 10, 11))
    assert len(urls(*updates)) == 3
    # One headline and time, other links and no text in common: two stories (a generator
    # that dates and titles every item alike), as are a weekly column's days and events
    # dated ahead (clamped to the fetch, as every such entry is).
    assert len(urls(*(item.format("News", f"https://n.example/{n}", at_eight) for n in "ab"))) == 2
    for when in ("Mon, 23 Nov 2026", "Mon, 04 Jan 2038 09:00:00 +0000"):
        assert (
            len(urls(*(item.format("Letters", f"https://n.example/{n}", when) for n in "ab"))) == 2
        )


def test_entries_sharing_an_id_or_a_link_each_keep_an_address_of_their_own():
    item = "<item><title>{}</title><link>{}</link>{}</item>".format
    guid = "<guid isPermaLink='false'>{}</guid>".format
    rss = (
        "<?xml version='1.0'?><rss version='2.0'><channel><title>T</title>"
        # A podcast that gives every episode the id "latest"
        + item("Episode 2", "https://n.example/ep2", guid("latest"))
        + item("Episode 1", "https://n.example/ep1", guid("latest"))
        # Advisories that all link to one page, ids of their own
        + item("Advisory 7", "https://n.example/upcoming/", guid("ZDI-CAN-7"))
        + item("Advisory 6", "https://n.example/upcoming/", guid("ZDI CAN/6?"))
        # A changelog's anchors, no ids
        + item("Release 4.2", "https://n.example/log.html#v4-2", "")
        + item("Release 4.1", "https://n.example/log.html#v4-1", "")
        # Two anchors alike: the ids tell them apart
        + item("Fix A", "https://n.example/fixes#top", guid("a" * 70))
        + item("Fix B", "https://n.example/fixes#top", guid("b"))
        + "</channel></rss>"
    )
    parsed = parse(rss.encode())
    assert not parsed.dropped
    urls = {entry.title: entry.url for entry in parsed.entries}
    assert urls == {
        "Episode 2": "https://n.example/ep2",
        "Episode 1": "https://n.example/ep1",
        "Advisory 7": "https://n.example/upcoming/#entry-ZDI-CAN-7",
        "Advisory 6": "https://n.example/upcoming/#entry-ZDI%20CAN/6%3F",
        "Release 4.2": "https://n.example/log.html#v4-2",
        "Release 4.1": "https://n.example/log.html#v4-1",
        "Fix A": "https://n.example/fixes#entry-" + hashlib.sha1(b"a" * 70).hexdigest()[:16],
        "Fix B": "https://n.example/fixes#entry-b",
    }
    shared = {entry.title for entry in parsed.entries if shares_page(entry)}
    assert shared == set(urls) - {"Episode 1", "Episode 2"}


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


# -- per-entry recovery --


def rss(*items: str, encoding: str = "utf-8") -> str:
    body = "".join(
        f"<item><title>{title}</title><link>https://n.example/{index}</link>"
        f"<guid isPermaLink='false'>g{index}</guid></item>"
        for index, title in enumerate(items)
    )
    return (
        f'<?xml version="1.0" encoding="{encoding}"?><rss version="2.0"><channel>'
        f"<title>News</title>{body}</channel></rss>"
    )


def all_text_encodes(parsed) -> bool:
    texts = [parsed.title] + [
        value
        for entry in parsed.entries
        for value in (entry.guid, entry.link, entry.url, entry.title, entry.summary,
                      entry.content, entry.author or "")
    ]  # fmt: skip
    return all(text.encode("utf-8") for text in texts if text)


@pytest.mark.parametrize(
    "reference",
    ["&#xD800;", "&#xdfff;", "&#55296;", "&#xD800", "&#1;", "&#0;", "&#x0;", "&#xFFFE;",
     "&#x110000;", "&#99999999999;", "&#" + "9" * 5000 + ";", "\x01", "\x1f"],
    ids=lambda r: r[:12],
)  # fmt: skip
def test_a_character_xml_forbids_costs_no_entry(reference):
    parsed = parse(rss("Harbour ferry", f"Orchard {reference}opens", "Village bakery").encode())
    assert [e.title for e in parsed.entries] == ["Harbour ferry", "Orchard opens", "Village bakery"]
    assert parsed.dropped == ()
    assert all_text_encodes(parsed)
    # Not malformed once the character is gone; the one line names the entry it was in.
    assert "malformed" not in parsed.warning
    assert "removed 1 character that XML forbids" in parsed.warning
    assert "from entry 'Orchard opens'" in parsed.warning


def test_forbidden_references_are_found_in_utf16_feeds_too():
    text = rss("Harbour ferry", "Orchard &#xD800;opens", encoding="utf-16")
    for codec in ("utf-16", "utf-16-le", "utf-16-be"):
        parsed = parse(text.encode(codec))
        assert [e.title for e in parsed.entries] == ["Harbour ferry", "Orchard opens"], codec
        assert "from entry 'Orchard opens'" in parsed.warning


def test_allowed_references_and_the_feeds_own_fields():
    body = rss("Caf&#233; &#x1F600; tab&#9;here", "Plain").replace(
        "<title>News</title>", "<title>News &#xD800;Desk</title>"
    )
    parsed = parse(body.encode())
    assert parsed.title == "News Desk"
    assert parsed.entries[0].title == "Café 😀 tab here"
    assert parsed.warning == (
        "removed 1 character that XML forbids (&#xD800;) from the feed's own fields; "
        "the rest was kept"
    )


def test_one_entry_that_fails_to_convert_is_dropped_alone(monkeypatch):
    # Fault injection: whatever one entry's conversion raises, the feed keeps the others.
    from digest.feeds import _parse

    real = _parse.canonical_url

    def failing_for_one(link: str) -> str:
        if link.endswith("/1"):
            raise RuntimeError("boom")
        return real(link)

    monkeypatch.setattr(_parse, "canonical_url", failing_for_one)
    parsed = parse(rss("Harbour ferry", "Orchard opens", "Village bakery").encode())
    assert [e.title for e in parsed.entries] == ["Harbour ferry", "Village bakery"]
    (dropped,) = parsed.dropped
    assert dropped.stage == "entry" and dropped.feed == "News"
    assert dropped.reason == "entry 'Orchard opens' could not be read (RuntimeError: boom)"


def test_an_entry_with_text_that_cannot_be_encoded_never_leaves_the_parser():
    from digest.feeds._parse import _verified
    from digest.models import FeedEntry

    entry = FeedEntry("News", "g\ud800", "https://n.example/1", "https://n.example/1", "T",
                      "", "", None)  # fmt: skip
    with pytest.raises(UnicodeEncodeError):
        _verified(entry)


def json_feed(*items: dict, **fields) -> bytes:
    return json.dumps(
        {"version": "https://jsonfeed.org/version/1.1", "title": "Bytes", "items": list(items),
         **fields}
    ).encode()  # fmt: skip


def test_a_5000_digit_number_costs_no_json_item():
    digits = "9" * 5000  # int() refuses more than 4,300 digits: ValueError
    body = json_feed(
        {"id": "1", "url": "https://n.example/1", "title": "Harbour ferry"},
        {"id": "2", "url": "https://n.example/2", "title": "Orchard", "_views": 0},
        {"id": 7, "url": "https://n.example/3", "title": "Village bakery"},
    ).replace(b'"_views": 0', b'"_views": ' + digits.encode() + b', "_r": 1.' + digits.encode())
    big_id = body.replace(b'"id": 7', b'"id": ' + digits.encode())
    parsed = parse(body)
    assert [e.title for e in parsed.entries] == ["Harbour ferry", "Orchard", "Village bakery"]
    assert parsed.entries[2].guid == "7"  # a number id is coerced to text, as the spec says
    # A number too long to read is no id: the item is known by its link.
    assert parse(big_id).entries[2].guid == "https://n.example/3"


def test_lone_surrogates_and_control_characters_in_json_strings_are_removed():
    body = (
        b'{"version": "https://jsonfeed.org/version/1", "title": "By\\ud800tes", "items": ['
        b'{"id": "a\\udc00", "url": "https://n.example/1", "title": "Harbour \\ud800ferry",'
        b' "summary": "Raw \x01control", "authors": [{"name": "Ann\\udfff"}]},'
        b'{"id": "b", "url": "https://n.example/2\\ud800", "title": "Broken link"},'
        b'{"id": "c", "url": "https://n.example/3", "title": "Village bakery"}]}'
    )
    parsed = parse(body)
    assert parsed.title == "Bytes"
    first, last = parsed.entries
    assert (first.guid, first.title, first.summary, first.author) == (
        "a", "Harbour ferry", "Raw control", "Ann")  # fmt: skip
    assert last.title == "Village bakery"
    assert all_text_encodes(parsed)
    (dropped,) = parsed.dropped
    assert dropped.reason == "item 'Broken link' has no usable http(s) url"


# -- non-string JSON Feed fields --


def test_json_fields_that_are_not_strings_are_missing_never_python_text():
    body = json_feed(
        {
            "id": {"key": 1},
            "url": {"href": "https://elsewhere.example/"},
            "external_url": "https://n.example/1",
            "title": {"a": 1},
            "summary": ["not", "text"],
            "content_html": {"html": "<p>x</p>"},
            "content_text": "Harbour ferry adds two crossings.",
            "authors": [{"name": {"first": "Ann"}}, "Bob"],
            "date_published": {"when": "2026-11-23T08:00:00Z"},
            "date_modified": "2026-11-23T07:00:00Z",
        },
        {"id": True, "url": "https://n.example/2", "title": ["A", "list"], "author": 5,
         "summary": "Village bakery wins a prize.", "date_published": 1732345200},
        title={"name": "Bytes"},
        version=["https://jsonfeed.org/version/1.1"],
    )  # fmt: skip
    with pytest.raises(FeedError, match="not a JSON Feed"):
        parse(body)  # a version that is a list is no version
    parsed = parse(body.replace(b'["https://jsonfeed.org/version/1.1"]', b'"1.1 jsonfeed.org"'))
    first, second = parsed.entries
    assert parsed.title == ""
    assert (first.link, first.guid, first.author) == ("https://n.example/1",) * 2 + ("Bob",)
    assert first.title == "Harbour ferry adds two crossings."
    assert first.published == datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
    assert (second.guid, second.title, second.author, second.published) == (
        "https://n.example/2", "Village bakery wins a prize.", None, None)  # fmt: skip
    shown = repr(parsed)
    assert "{'" not in shown and "['" not in shown


# -- credentials in links --


def test_credentials_are_stripped_from_every_link_a_feed_gives():
    rss_body = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>
    <link>http://ann:pw@n.example/</link>
    <item><title>One</title><link>http://ann:pw@N.example/a?x=1&amp;utm_source=y#!/one</link></item>
    <item><title>Two</title><guid>https://tok@n.example/two</guid></item>
    <item><title>Three</title><link>/three</link></item>
    </channel></rss>"""
    parsed = parse(rss_body, url="https://reader:secret@n.example/feed")
    assert [(e.link, e.url) for e in parsed.entries] == [
        ("http://N.example/a?x=1&utm_source=y#!/one", "http://n.example/a?x=1#!/one"),
        ("https://n.example/two", "https://n.example/two"),
        ("https://n.example/three", "https://n.example/three"),
    ]
    body = json_feed(
        {"id": "1", "url": "https://ann:pw@n.example/1", "title": "One"},
        {"id": "2", "external_url": "https://@n.example/2?q#f", "title": "Two"},
    )
    assert [(e.link, e.url) for e in parse(body).entries] == [
        ("https://n.example/1", "https://n.example/1"),
        ("https://n.example/2?q#f", "https://n.example/2?q"),
    ]


@pytest.mark.parametrize(
    ("link", "expected"),
    [
        ("http://ann:pw@n.example/a", "http://n.example/a"),
        ("http://ann@n.example:8080/a?b=c@d#e@f", "http://n.example:8080/a?b=c@d#e@f"),
        ("https://a:b@c@n.example", "https://n.example"),
        ("http://ann:pw@[::1]:81/x", "http://[::1]:81/x"),
        ("http://n.example/path@with-at", "http://n.example/path@with-at"),
        ("http://n.example/\ud800", None),
        ("http://n.example/\x01", None),
    ],
)
def test_usable_link_keeps_the_url_but_its_credentials(link, expected):
    from digest.feeds._urls import canonical_url, usable_link

    assert usable_link(link, "https://n.example/feed") == expected
    if expected:
        assert "@" not in canonical_url(link).split("/")[2]


def test_a_link_cannot_carry_a_line_break_into_logs_or_the_email():
    from digest.feeds._urls import usable_link

    forged = "https://news.example/a\nfeed 'Bank' (https://bank.example/feed): moved permanently"
    link = usable_link(forged, "http://news.example/feed")
    assert link is not None and "\n" not in link and " " not in link
    assert usable_link(" https://news.example/a b\t", "http://x.example/") == (
        "https://news.example/a%20b"
    )


def test_one_json_item_nested_past_any_sense_costs_that_item_only():
    deep = "[" * 100_000 + "]" * 100_000
    body = (
        '{"version": "https://jsonfeed.org/version/1.1", "title": "T", "items": ['
        '{"id": "1", "url": "https://news.example/1", "title": "Harbour ferry"},'
        f'{{"id": "2", "url": "https://news.example/2", "title": "Deep", "tags": {deep}}},'
        '{"id": "3", "url": "https://news.example/3", "title": "Comet \\"[[\\" seen"}]}'
    ).encode()
    titles = [entry.title for entry in parse(body).entries]
    assert "Harbour ferry" in titles and 'Comet "[[" seen' in titles


@pytest.mark.parametrize("kind", ["rss", "json"])
def test_a_flood_of_unusable_entries_is_named_five_times_then_counted(kind):
    # Ten megabytes of empty items are over a million entries without a link: one line
    # (and one stored problem) each filled stderr and the state on every run.
    if kind == "rss":
        body = ("<rss version='2.0'><channel>" + "<item/>" * 20_000 + "</channel></rss>").encode()
    else:
        body = json.dumps({"version": "https://jsonfeed.org/version/1.1", "items": [{}] * 20_000})
        body = body.encode()
    parsed = parse_feed(body, "Flood", "https://flood.example/feed", NOW)
    assert parsed.entries == ()
    assert len(parsed.dropped) == 6
    assert all(skip.feed == "Flood" for skip in parsed.dropped)
    assert parsed.dropped[-1].reason.startswith("19,995 more entries (the last: ")


def test_six_unusable_entries_are_each_named():
    body = ("<rss version='2.0'><channel>" + "<item/>" * 6 + "</channel></rss>").encode()
    parsed = parse_feed(body, "Few", "https://few.example/feed", NOW)
    assert len(parsed.dropped) == 6
    assert not any("more entries" in skip.reason for skip in parsed.dropped)


def test_a_link_s_bidi_override_is_percent_encoded_not_shown():
    # ".../\u202emoc.knab-ruoy.www//:sptth" reads as "https://www.your-bank.com".
    from digest.feeds._urls import usable_link

    link = usable_link("/bidi/\u202emoc.knab-ruoy.www//:sptth", "https://pub.example/feed")
    assert link == "https://pub.example/bidi/%E2%80%AEmoc.knab-ruoy.www//:sptth"
    assert usable_link("/a\u2066b\u2069", "https://pub.example/") == (
        "https://pub.example/a%E2%81%A6b%E2%81%A9"
    )


def test_a_link_cannot_hide_words_or_another_host_in_invisible_or_look_alike_characters():
    from digest.feeds._urls import usable_link

    base = "https://pub.example/feed"
    # A run of blank Braille cells made the words after it read as a line of their own.
    padded = usable_link("/r\u2800\u2800Unsubscribe:\u2800https://evil.example/u", base)
    assert (
        padded
        == "https://pub.example/r%E2%A0%80%E2%A0%80Unsubscribe:%E2%A0%80https://evil.example/u"
    )
    hidden = usable_link("/a\u00adb\u2060c\U000e0041d\u3164e", base)
    assert hidden == "https://pub.example/a%C2%ADb%E2%81%A0c%F3%A0%81%81d%E3%85%A4e"
    # A non-ASCII host shows as it is sent (IDNA 2008, as httpx sends it); one that IDNA
    # refuses, a slash look-alike in it, is no link.
    assert (
        usable_link("https://www.b\u0430nk.com/login", base) == "https://www.xn--bnk-6cd.com/login"
    )
    assert usable_link("http://M\u00dcnchen.de:8080/a?b#c", base) == (
        "http://xn--mnchen-3ya.de:8080/a?b#c"
    )
    assert usable_link("https://www.paypal.com\u2215signin.evil.example/x", base) is None
    assert usable_link("http://m\u00adnchen.de/", base) is None  # an invisible soft hyphen
    # The path as httpx sends it: one identity with the publisher's "%C3%A9t%C3%A9".
    assert usable_link("/\u00e9t\u00e9", base) == "https://pub.example/%C3%A9t%C3%A9"
    # A backslash in the host showed a bank's subdomain and opened evil.example, as a browser
    # reads it (an attacker's trial): the link is kept as the browser reads it.
    assert usable_link("https://evil.example\\.bank.example/signin", base) == (
        "https://evil.example/.bank.example/signin"
    )
    assert usable_link("\\\\evil.example/x", base) == "https://evil.example/x"
    assert usable_link("/a\\b?q=\\x", base) == "https://pub.example/a/b?q=\\x"


def test_a_link_longer_than_servers_take_is_no_link():
    # A 100 KB link was a 100 KB line in every message that named the entry or its page.
    from digest.feeds._urls import usable_link
    from digest.text import MAX_URL

    base = "https://pub.example/"
    assert usable_link("a" * (MAX_URL - len(base)), base) == base + "a" * (MAX_URL - len(base))
    assert usable_link("a" * (MAX_URL - len(base) + 1), base) is None


def test_bidi_overrides_in_a_feed_s_text_are_dropped_where_it_enters():
    # Unclosed, U+202E turned the rest of a headline around in the email's body, the archive
    # and preview --json ("Pay invoice won exe.png"); only the Subject lost it.
    body = (
        "<rss version='2.0'><channel><title>Pub\u202eX</title><item>"
        "<title>Pay invoice \u202egnp.exe now</title><link>https://pub.example/a</link>"
        "<description>Your refund \u2066is\u2069 ready \u200d\U0001f469\u200d\U0001f52c"
        "</description></item></channel></rss>"
    ).encode()
    parsed = parse_feed(body, "Pub", "https://pub.example/feed", NOW)
    (entry,) = parsed.entries
    assert entry.title == "Pay invoice gnp.exe now"
    assert entry.summary == "Your refund is ready \u200d\U0001f469\u200d\U0001f52c"  # ZWJ kept
    assert parsed.title == "PubX"


@pytest.mark.parametrize("kind", ["rss", "atom"])
def test_a_local_feed_s_file_links_stay_local_paths(kind):
    """feedparser made "file:///srv/news/a.html" "file://srv/news/a.html", a file on the host
    "srv", and the page was never read: docs/feeds.md says a local feed's file links are
    followed (a helper's check of the docs)."""
    if kind == "rss":
        body = (b'<rss version="2.0"><channel><title>Local</title>'
                b"<item><title>One</title><link>file:///srv/news/a.html</link></item>"
                b"<item><title>Two</title><link>b.html</link></item>"
                b"<item><title>Three</title><link>/abs/d.html</link></item>"
                b"</channel></rss>")  # fmt: skip
    else:
        body = (b'<feed xmlns="http://www.w3.org/2005/Atom"><title>Local</title>'
                b'<entry><title>One</title><link href="file:///srv/news/a.html"/><id>1</id></entry>'
                b'<entry><title>Two</title><link href="b.html"/><id>2</id></entry>'
                b'<entry><title>Three</title><link href="/abs/d.html"/><id>3</id></entry>'
                b"</feed>")  # fmt: skip
    links = [entry.url for entry in parse(body, "file:///srv/news/feed.xml").entries]
    # a root-relative link was resolved by feedparser against "file://srv/news/feed.xml"
    assert links == ["file:///srv/news/a.html", "file:///srv/news/b.html", "file:///abs/d.html"]


def test_fields_in_plain_text_keep_what_only_looks_like_a_tag():
    atom = b"""<?xml version='1.0'?><feed xmlns='http://www.w3.org/2005/Atom'><title>F</title>
    <entry><title type='text'>Generics: List&lt;String&gt; vs List&lt;Object&gt;</title>
      <link href='https://n.example/1'/>
      <summary type='text'>Java coders mix up List&lt;String&gt; and List&lt;Object&gt;.</summary>
    </entry>
    <entry><title>Why the &lt;marquee&gt; element refuses to die</title>
      <link href='https://n.example/2'/></entry>
    <entry><title>Written as HTML: &lt;b&gt;bold&lt;/b&gt; AT&amp;amp;T</title>
      <link href='https://n.example/3'/></entry>
    <entry><title type='html'>Said so: &lt;b&gt;bold&lt;/b&gt; it&amp;rsquo;s</title>
      <link href='https://n.example/4'/></entry>
    </feed>"""
    entries = parse(atom).entries
    assert [entry.title for entry in entries] == [
        "Generics: List<String> vs List<Object>",
        "Why the <marquee> element refuses to die",
        "Written as HTML: bold AT&T",  # Atom's default type, HTML all the same
        "Said so: bold it\u2019s",
    ]
    assert entries[0].summary == "Java coders mix up List<String> and List<Object>."
    rss = (
        "<?xml version='1.0'?><rss version='2.0'><channel><title>T</title>"
        "<item><title>Rust: Vec&lt;T&gt; or &amp;[T]?</title><link>https://n.example/5</link></item>"
        "<item><title>&lt;i&gt;Breaking&lt;/i&gt; news</title><link>https://n.example/6</link></item>"
        "<item><title>&lt;script&gt;alert(1)&lt;/script&gt;Quiet</title>"
        "<link>https://n.example/7</link></item>"
        "</channel></rss>"
    )
    assert [entry.title for entry in parse(rss.encode()).entries] == [
        "Rust: Vec<T> or &[T]?",
        "Breaking news",
        "Quiet",
    ]
    # Markup written as text all the same, escaped once or twice, is read as markup.
    atom = b"""<?xml version='1.0'?><feed xmlns='http://www.w3.org/2005/Atom'><title>F</title>
    <entry><title>Twice &amp;lt;b&amp;gt;escaped&amp;lt;/b&amp;gt; &amp;lt;script&amp;gt;x()
      &amp;lt;/script&amp;gt;title</title><link href='https://n.example/9'/>
      <summary>&lt;p class=MsoNormal&gt;Word's markup&lt;o:p&gt;&lt;/o:p&gt;&lt;/p&gt;</summary>
    </entry>
    <entry><title>Breaking&lt;br/&gt;Storm</title><link href='https://n.example/10'/></entry>
    </feed>"""
    entries = parse(atom).entries
    assert [entry.title for entry in entries] == ["Twice escaped title", "Breaking Storm"]
    assert entries[0].summary == "Word's markup"
    feed = json_feed(
        {"id": "1", "url": "/8", "title": "Kotlin: List<String> vs MutableList<String>",
         "summary": "Which <T> to pick"},
    )  # fmt: skip
    (entry,) = parse(feed).entries
    assert (entry.title, entry.summary) == (
        "Kotlin: List<String> vs MutableList<String>",
        "Which <T> to pick",
    )


def test_an_untitled_entry_is_headed_by_its_first_sentences_cut_at_a_word():
    post = (
        "Mount Tarel erupted at dawn, sending a column of ash eight kilometres into the sky "
        "over the valley and the villages below it. Aviation authorities closed the airspace."
    )
    rss = (
        "<?xml version='1.0'?><rss version='2.0'><channel><title>T</title>"
        f"<item><link>https://n.example/1</link><description>{post}</description></item>"
        "<item><link>https://n.example/2</link><description>&lt;p&gt;Wow!&lt;/p&gt;&lt;p&gt;"
        "The tram vote passed 9-2! Work starts in spring.&lt;/p&gt;</description></item>"
        "<item><link>https://n.example/3</link><description>Am 4. Dezember beginnt der Umbau "
        "des Bahnhofs. Die Arbeiten am Gleis sieben und am Vorplatz dauern nach Angaben der "
        "Stadt zwei Jahre.</description></item></channel></rss>"
    )
    titles = [entry.title for entry in parse(rss.encode()).entries]
    assert titles == [
        "Mount Tarel erupted at dawn, sending a column of ash eight kilometres into the sky "
        "over the valley and the villages…",
        "Wow! The tram vote passed 9-2! Work starts in spring.",
        "Am 4. Dezember beginnt der Umbau des Bahnhofs.",
    ]
