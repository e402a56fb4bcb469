"""Feed dates as real feeds write them: what feedparser reads, and what it gives up on (other
languages, odd RFC 822, two-digit years), read by digest/feeds/_dates.py."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from digest.feeds._dates import MAX_FAILED_DETECTIONS, DateReader, century_fixed, parse_date
from digest.feeds._parse import parse_feed

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "languages", "expected"),
    [
        # Portuguese, as uolNoticias writes it (no language declared, and with one)
        ("Seg, 24 Set 2018 19:35:07 -0300", (), utc(2018, 9, 24, 22, 35, 7)),
        ("Seg, 24 Set 2018 19:35:07 -0300", ("pt-BR",), utc(2018, 9, 24, 22, 35, 7)),
        ("Sáb, 06 Out 2018 08:00:00 -0300", ("pt",), utc(2018, 10, 6, 11, 0)),
        # two-digit years: the latest such year not in the future
        ("03 Apr 02 1500 GMT", (), utc(2002, 4, 3, 15, 0)),
        ("Wed, 03 Apr 02 15:00:00 GMT", (), utc(2002, 4, 3, 15, 0)),
        ("Mon, 03 Apr 89 15:00 GMT", (), utc(1989, 4, 3, 15, 0)),
        ("Fri, 31 Dec 99 23:00 -0500", (), utc(2000, 1, 1, 4, 0)),
        ("Seg, 24 Set 18 19:35:07 -0300", ("pt",), utc(2018, 9, 24, 22, 35, 7)),
        ("01 Jan 30 12:00 GMT", (), utc(1930, 1, 1, 12, 0)),  # 2030 is ahead of NOW
        # RFC 822 variants
        ("Tue 11 Jan 2011 01:30:00 GMT", (), utc(2011, 1, 11, 1, 30)),
        ("07 Nov 2015 12:00:00 EST", (), utc(2015, 11, 7, 17, 0)),
        ("Tue, 17 Nov 2015 15:45:00 PST", (), utc(2015, 11, 17, 23, 45)),
        ("Thu, 04 May 2017 16:14:22 +0530", (), utc(2017, 5, 4, 10, 44, 22)),
        ("4 May 2017 16:14 +0000", (), utc(2017, 5, 4, 16, 14)),
        ("Fri, 20 Feb 2015 09:51:15 UTC", (), utc(2015, 2, 20, 9, 51, 15)),
        ("Fri,  20  Feb 2015\n09:51:15 UT", (), utc(2015, 2, 20, 9, 51, 15)),
        ("Sat, 24 Sep 2018 1935 GMT", (), utc(2018, 9, 24, 19, 35)),
        # ISO 8601 / RFC 3339
        ("2018-09-24T19:35:07Z", (), utc(2018, 9, 24, 19, 35, 7)),
        ("2018-09-24T19:35:07.123-03:00", (), utc(2018, 9, 24, 22, 35, 7, 123000)),
        ("2018-09-24 19:35", (), utc(2018, 9, 24, 19, 35)),
        ("2018-09-24", (), utc(2018, 9, 24)),
        # German, French, Spanish month and day names
        ("Mo, 24 Sep 2018 10:00:00 +0200", ("de",), utc(2018, 9, 24, 8, 0)),
        ("Dienstag, 3. März 2020 14:05", (), utc(2020, 3, 3, 14, 5)),
        ("lun., 14 mai 2018 08:00:00 +0200", ("fr-FR",), utc(2018, 5, 14, 6, 0)),
        ("mardi 3 mars 2020 14h05", (), utc(2020, 3, 3, 14, 5)),
        ("mié, 04 abr 2018 10:00:00 +0200", ("es",), utc(2018, 4, 4, 8, 0)),
        ("martes, 3 de marzo de 2020 14:05", (), utc(2020, 3, 3, 14, 5)),
        # a date in the future is returned as written: the parser clamps it (below)
        ("01 Jan 2099 00:00:00 GMT", (), utc(2099, 1, 1)),
    ],
)
def test_dates_are_read_in_their_language_and_century(text, languages, expected):
    assert parse_date(text, NOW, languages) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "not a date at all",
        "12345",  # not taken for a Unix time
        "1732345200",
        "yesterday",  # relative to when the publisher wrote it, which nobody knows
        "2 hours ago",
        "2018",
        "Sept 2018",  # no day
        "2018-13-45",
        "32 Jan 2018 10:00 GMT",
        "Mon, 24 Sep 2018 " + "10:00:00 GMT " * 20,  # too long to be a date
        "Version 3.2.1",
    ],
)
def test_what_is_not_a_date_is_none(text):
    assert parse_date(text, NOW) is None


def test_a_language_the_feed_declares_wrongly_or_unknown_still_reads():
    assert parse_date("Seg, 24 Set 2018 19:35:07 -0300", NOW, ("en-US", "x-klingon", "")) == utc(
        2018, 9, 24, 22, 35, 7
    )


def test_feedparser_reading_a_two_digit_year_is_put_in_its_century():
    read = utc(2089, 4, 3, 15, 0)  # feedparser: years below 90 are 20xx
    assert century_fixed(read, "Mon, 03 Apr 89 15:00 GMT", NOW) == utc(1989, 4, 3, 15, 0)
    four = utc(2002, 4, 3, 15, 0)
    assert century_fixed(four, "Wed, 03 Apr 2002 15:00 GMT", NOW) == four
    ahead = utc(2027, 9, 24, 19, 35)  # a four-digit year opening a compact date stays
    assert century_fixed(ahead, "20270924T193507Z", NOW) == ahead


def rss(*items: str, language: str = "", channel: str = "") -> bytes:
    lang = f"<language>{language}</language>" if language else ""
    body = "".join(
        f"<item><title>Item {n}</title><link>https://n.example/{n}</link>{date}</item>"
        for n, date in enumerate(items)
    )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>{lang}{channel}'
        f"{body}</channel></rss>"
    ).encode()


def test_the_feed_parser_reads_what_feedparser_cannot():
    parsed = parse_feed(
        rss(
            "<pubDate>Seg, 24 Set 2018 19:35:07 -0300</pubDate>",
            "<pubDate>Mon, 03 Apr 89 15:00 GMT</pubDate>",
            "<pubDate>Qui, 01 Jan 2099 00:00:00 -0300</pubDate>",  # ahead: dated now
            "<pubDate>not a date at all</pubDate>",
            "",
            language="pt-br",
            channel="<lastBuildDate>03 Apr 02 1500 GMT</lastBuildDate>",
        ),
        "News",
        "https://n.example/feed.xml",
        NOW,
    )
    assert [entry.published for entry in parsed.entries] == [
        utc(2018, 9, 24, 22, 35, 7),
        utc(1989, 4, 3, 15, 0),
        NOW,
        None,
        None,
    ]
    assert parsed.updated == utc(2002, 4, 3, 15, 0)
    assert parsed.newest == NOW


def test_the_feed_s_own_date_bounds_undated_entries():
    parsed = parse_feed(
        rss("", "", channel="<pubDate>03 Apr 02 1500 GMT</pubDate>"),
        "News",
        "https://n.example/feed.xml",
        NOW,
    )
    assert [entry.published for entry in parsed.entries] == [None, None]
    assert parsed.newest == utc(2002, 4, 3, 15, 0)


def test_a_json_feed_date_in_rfc_822_or_another_language_is_read():
    feed = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "J",
        "language": "pt-BR",
        "items": [
            {"id": "1", "url": "https://j.example/1", "title": "One",
             "date_published": "2018-09-24T19:35:07-03:00"},
            {"id": "2", "url": "https://j.example/2", "title": "Two",
             "date_published": "Seg, 24 Set 2018 19:35:07 -0300"},
            {"id": "3", "url": "https://j.example/3", "title": "Three",
             "date_published": "Mon, 24 Sep 2018 22:35:07 GMT"},
            {"id": "4", "url": "https://j.example/4", "title": "Four",
             "date_published": "soon"},
        ],
    }  # fmt: skip
    parsed = parse_feed(json.dumps(feed).encode(), "J", "https://j.example/feed.json", NOW)
    assert [entry.published for entry in parsed.entries] == [utc(2018, 9, 24, 22, 35, 7)] * 3 + [
        None
    ]


def test_a_feed_of_unreadable_dates_stops_costing_a_language_detection_each():
    now = datetime(2026, 11, 23, tzinfo=UTC)
    reader = DateReader(now)
    portuguese = "Seg, 24 Set 2018 19:35:07 -0300"
    assert DateReader(now).read(portuguese) is not None  # found by detecting its language
    for number in range(1, 1 + MAX_FAILED_DETECTIONS):
        assert reader.read(f"{number} Qzx {number} Wibble") is None
    # Past the limit no language is detected any more for this feed...
    assert reader.read(portuguese) is None
    # ...while English, and the languages the feed declares, are still read.
    assert reader.read("Mon, 23 Nov 2026 08:00:00 GMT") == datetime(2026, 11, 23, 8, tzinfo=UTC)
    declared = DateReader(now, ["pt-BR"])
    for number in range(1, 1 + MAX_FAILED_DETECTIONS):
        declared.read(f"{number} Qzx {number} Wibble")
    assert declared.read(portuguese) == datetime(2018, 9, 24, 22, 35, 7, tzinfo=UTC)


def test_a_language_detected_before_the_limit_keeps_being_read():
    now = datetime(2026, 11, 23, tzinfo=UTC)
    reader = DateReader(now)
    assert reader.read("Seg, 24 Set 2018 19:35:07 -0300") is not None
    for number in range(1, 1 + MAX_FAILED_DETECTIONS):
        reader.read(f"{number} Qzx {number} Wibble")
    assert reader.read("Ter, 25 Set 2018 10:00:00 -0300") == datetime(2018, 9, 25, 13, tzinfo=UTC)


def _published(*dates: str, now: datetime) -> list[datetime | None]:
    pub_dates = [f"<pubDate>{date}</pubDate>" for date in dates]
    parsed = parse_feed(rss(*pub_dates), "News", "https://n.example/feed.xml", now)
    return [entry.published for entry in parsed.entries]


def test_a_date_in_numbers_is_read_as_the_feed_writes_it():
    now = utc(2026, 12, 6, 12, 0)
    # Day first ("06/12/2026", a British or Indian feed), month first ("12/06/2026"), year
    # first; feedparser read "06-12-2026" as 20 December 2006 and "2026/12/06" as 1 December,
    # and English day-first dates as June: today's news fell outside the window unsaid.
    assert _published(
        "06/12/2026 08:30", "12/06/2026 08:30", "06-12-2026", "2026/12/06", "6.12.26 08:30 +0100",
        now=now,
    ) == [utc(2026, 12, 6, 8, 30), utc(2026, 12, 6, 8, 30), utc(2026, 12, 6),
          utc(2026, 12, 6), utc(2026, 12, 6, 7, 30)]  # fmt: skip


def test_the_feed_s_unambiguous_dates_decide_the_order_of_its_others():
    now = utc(2026, 6, 6, 12, 0)
    # Alone, "05/06/2026" is read as the day nearest the fetch (5 June); beside a date that
    # can only be month first, it is 6 May, as the feed writes its dates.
    assert _published("05/06/2026", now=now) == [utc(2026, 6, 5)]
    assert _published("05/31/2026", "05/06/2026", now=now) == [utc(2026, 5, 31), utc(2026, 5, 6)]
    assert _published("31/05/2026", "05/06/2026", now=now) == [utc(2026, 5, 31), utc(2026, 6, 5)]
    # Numbers that make no date are no date.
    assert _published("31/31/2026", "2026/13/40", now=now) == [None, None]
