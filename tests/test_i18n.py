"""The digest in its `language`: the demo digest in French and German through the real CLI
carries no English fixed text and local dates; the catalogs hold every text of the
templates, translated; times carry a year only when it is not this year; the text part's
layout holds without a summary; the archive index links its headlines.

The English check is a word list: every word of the English catalog's texts that the other
language's catalog does not also use (such as "sources" in French), and the English month
and weekday names. The feeds' own text (headlines, summaries, outlet names, links) and the
config's (title, section names) are taken out of each part first: what is left is what the
templates wrote.
"""

from __future__ import annotations

import html
import json
import logging
import re
from datetime import UTC, datetime
from email import message_from_bytes, policy
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from conftest import REPO, run_cli, write_config

from digest.mail._archive import ArchivedDigest, index_page
from digest.mail._render import catalog, render_digest
from digest.models import Digest, DigestItem, FollowUp, SentStory, Source, SourceArticle

LOCALE = REPO / "digest" / "mail" / "locale"
LANGUAGES = ("en", "fr", "de", "es", "it", "pt")
DATE_FORMAT = "date format"  # the msgctxt of the long date's CLDR pattern: not words

MONTHS = {
    "en": "January February March April May June July August September October November December",
    "fr": "janvier février mars avril mai juin juillet août septembre octobre novembre décembre",
    "de": "Januar Februar März April Mai Juni Juli August September Oktober November Dezember",
}
WEEKDAYS = {
    "en": "Monday Tuesday Wednesday Thursday Friday Saturday Sunday",
    "fr": "lundi mardi mercredi jeudi vendredi samedi dimanche",
    "de": "Montag Dienstag Mittwoch Donnerstag Freitag Samstag Sonntag",
}
ENGLISH_SHORT_NAMES = "Jan Feb Mar Apr Jun Jul Aug Sep Sept Oct Nov Dec Mon Tue Wed Thu Fri Sat Sun"
WORD = re.compile(r"[^\W\d_]{2,}")


def read_catalog(language: str) -> Catalog:
    with (LOCALE / language / "LC_MESSAGES" / "digest.po").open("rb") as source:
        return read_po(source, locale=language, domain="digest")


def _texts(message) -> list[str]:
    return list(message.string) if isinstance(message.string, tuple) else [message.string]


def catalog_words(language: str) -> set[str]:
    """The words of a catalog's texts, without the %(name)s fields and the date pattern."""
    words: set[str] = set()
    for message in read_catalog(language):
        if not message.id or message.context == DATE_FORMAT:
            continue
        for text in _texts(message):
            words |= {w.lower() for w in WORD.findall(re.sub(r"%\(\w+\)s", " ", text))}
    return words


def names(language: str) -> set[str]:
    return {w.lower() for w in f"{MONTHS[language]} {WEEKDAYS[language]}".split()}


def english_words(against: str) -> set[str]:
    """English words a digest in `against` must not show: the English catalog's and the
    English month and day names, less the words the other language writes the same."""
    english = catalog_words("en") | names("en") | {w.lower() for w in ENGLISH_SHORT_NAMES.split()}
    return english - catalog_words(against) - names(against)


class _Visible(HTMLParser):
    """The text a reader sees (and hears: title attributes), without <style> and <script>."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("style", "script"):
            self._hidden += 1
        self.parts += [value for name, value in attrs if name in ("title", "alt") and value]

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "script"):
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)


def visible(markup: str) -> str:
    parser = _Visible()
    parser.feed(markup)
    return " ".join(" ".join(parser.parts).split())


def fold(text: str) -> str:
    return " ".join(text.split())


def without(text: str, strings: set[str]) -> str:
    """`text` with every one of `strings` taken out, whitespace folded (the text part wraps)."""
    text = fold(text)
    for string in sorted({fold(s) for s in strings if s.strip()}, key=len, reverse=True):
        text = text.replace(string, " ")
    return text


def feed_and_config_text(items: list[dict], config_text: set[str]) -> set[str]:
    strings = set(config_text)
    for item in items:
        strings |= {item["headline"], item["summary"], item["url"]}
        for source in item["sources"]:
            strings |= {source["name"], source["title"], source["url"]}
            for piece in source["articles"]:
                strings |= {piece["title"], piece["url"]}
    return strings


def _demo_digest(tmp_path: Path, base_url: str, language: str) -> dict:
    """The demo digest as `digest run` delivers it in `language`: the parts of the .eml, its
    subject, the archive's page and index, and the items (from `digest preview --json`,
    which picks the same stories the run then sends)."""
    extra = (
        f"language: {language}\ntimezone: Europe/Paris\n"
        "archive:\n  dir: archive\n  url: https://news.example.org/brief\n"
    )
    delivery = (
        "delivery:\n  method: file\n  outbox: outbox\n"
        "  unsubscribe: https://news.example.org/unsubscribe?who={recipient}\n"
    )
    config = write_config(tmp_path, base_url, delivery=delivery, extra=extra)
    preview = run_cli("preview", "--config", str(config), "--json")
    assert preview.returncode == 0, preview.stderr
    items = json.loads(preview.stdout)["items"]
    run = run_cli("run", "--config", str(config))
    assert run.returncode == 0, run.stderr
    eml = next((tmp_path / "outbox").glob("*.eml"))
    message = message_from_bytes(eml.read_bytes(), policy=policy.default)
    archive = tmp_path / "archive"
    sections = {"Technology", "Business", "World", "Science"}
    return {
        "items": items,
        "subject": str(message["Subject"]),
        "text": message.get_body(("plain",)).get_content(),
        "html": message.get_body(("html",)).get_content(),
        "page": next(archive.glob("20*.html")).read_text(encoding="utf-8"),
        "index": (archive / "index.html").read_text(encoding="utf-8"),
        "content": feed_and_config_text(
            items,
            {"Test Brief", *sections, "https://news.example.org/brief/", "{recipient}"}
            | {"https://news.example.org/unsubscribe?who=reader%40localhost"},
        ),
    }


def _fixed_text(digest: dict) -> dict[str, str]:
    """What the templates wrote in each part: the feeds' and the config's text taken out."""
    content = digest["content"]
    return {
        "html": without(visible(digest["html"]), content),
        "text": without(digest["text"], content),
        "archive page": without(visible(digest["page"]), content),
        "archive index": without(visible(digest["index"]), content),
    }


def _english_in(parts: dict[str, str], against: str) -> dict[str, set[str]]:
    forbidden = english_words(against)
    found = {
        name: {w.lower() for w in WORD.findall(part)} & forbidden for name, part in parts.items()
    }
    return {name: words for name, words in found.items() if words}


@pytest.mark.parametrize("language", ["fr", "de"])
def test_the_demo_digest_in_french_or_german_has_no_english_fixed_text(tmp_path, site, language):
    digest = _demo_digest(tmp_path, site.base_url, language)
    parts = _fixed_text(digest)
    assert not _english_in(parts, language)
    # The subject: "{title} · {date}: {headline}" (French: " : "), the date in the language,
    # no leading zero.
    colon = " : " if language == "fr" else ": "
    date, _, headline = digest["subject"].removeprefix("Test Brief · ").partition(colon)
    assert digest["items"][0]["headline"].startswith(headline.rstrip("…"))
    month = re.fullmatch(r"[1-9]\d?\.? (\w+)\.? \d{4}", date).group(1)
    assert any(name.startswith(month) for name in MONTHS[language].split()), date
    assert not {w.lower() for w in WORD.findall(date)} & english_words(language)
    # The long date at the top of both parts and in the archive index: a month and a
    # weekday of the language, the day without a leading zero.
    for name in ("html", "text", "archive index"):
        part = parts[name]
        assert any(m in part.split() for m in MONTHS[language].split()), (name, part[:200])
        assert re.search(rf"\b({'|'.join(WEEKDAYS[language].split())})\b", part), name
        assert not re.search(
            r"(?<![\d.:])0\d\.? (" + MONTHS[language].replace(" ", "|") + ")", part
        )
    # The same counts in both parts: "15 sujets de 8 flux" in the HTML and in the text.
    counts = fold(digest["text"]).split(" · ")[1]  # "15 sujets de 8 flux"
    assert counts.startswith(f"{len(digest['items'])} ") and counts in visible(digest["html"])
    assert f'<html lang="{language}"' in digest["html"]
    # The archive index: each top headline links to its story on the digest's page.
    links = re.findall(r'<li><a href="([^"#]+)#(story-\d+)">([^<]+)</a></li>', digest["index"])
    assert [anchor for _, anchor, _ in links] == ["story-1", "story-2", "story-3"]
    assert [visible(text) for _, _, text in links] == [i["headline"] for i in digest["items"][:3]]
    for _, anchor, _ in links:
        target = re.search(rf'id="{anchor}"[^>]*>(?:<a [^>]*>)?([^<]+)<', digest["page"])
        assert (
            target and visible(target.group(1)) == digest["items"][int(anchor[6:]) - 1]["headline"]
        )


def test_the_word_check_finds_the_english_texts_of_an_english_digest(tmp_path, site):
    """The check above can fail: on the English digest it finds the templates' words."""
    digest = _demo_digest(tmp_path, site.base_url, "en")
    found = _english_in(_fixed_text(digest), "fr")
    assert {"stories", "feeds", "reported", "unsubscribe"} <= found["text"]
    assert {"stories", "browser", "reported", "unsubscribe"} <= found["html"]
    assert {"digests", "newest"} <= found["archive index"]
    header = digest["text"].splitlines()[1]
    assert re.fullmatch(
        r"\w+ [1-9]\d? \w+ \d{4} · \d+ stories from 8 feeds · times in CES?T", header
    ), header
    assert header in visible(digest["html"])


def _message_keys(messages) -> dict[tuple[str | None, str], object]:
    return {(m.context, m.id if isinstance(m.id, str) else m.id[0]): m for m in messages if m.id}


def test_every_catalog_holds_every_text_of_the_templates_translated():
    with (LOCALE / "babel.cfg").open(encoding="utf-8") as mapping:
        method_map, options_map = parse_mapping_cfg(mapping)
    extracted = {
        (context, message if isinstance(message, str) else message[0]): message
        for _, _, message, _, context in extract_from_dir(str(REPO), method_map, options_map)
    }
    assert len(extracted) >= 20  # the texts of both templates, the index and the date
    assert sorted(p.parent.parent.name for p in LOCALE.glob("*/LC_MESSAGES/digest.po")) == sorted(
        LANGUAGES
    )
    for language in LANGUAGES:
        messages = read_catalog(language)
        keys = _message_keys(messages)
        assert set(keys) == set(extracted), f"{language}: catalog and templates differ"
        for key, message in keys.items():
            texts = _texts(message)
            assert all(t.strip() for t in texts), f"{language}: {key} untranslated"
            assert len(texts) == (messages.num_plurals if message.pluralizable else 1), key
            assert not message.fuzzy, f"{language}: {key} is fuzzy"
            if language != "en" and message.context != DATE_FORMAT:
                assert texts != _texts_of_id(message), f"{language}: {key} left in English"
        problems = [(m.id, errors) for m, errors in messages.check()]
        assert not problems, f"{language}: {problems}"  # the %(name)s fields match


def _texts_of_id(message) -> list[str]:
    return list(message.id) if isinstance(message.id, tuple) else [message.id]


NEW_YEAR = datetime(2027, 1, 1, 9, 0, tzinfo=UTC)


def _source(name: str, published: datetime) -> Source:
    return Source(name, f"https://{name.lower()}.example/a", "t", published)


def _digest(
    *sources: Source, zone: str = "Europe/Paris", language: str = "en", summary: str = "S."
) -> Digest:
    item = DigestItem("Harbour reopens", sources[0].url, summary, "en", None, sources, (1,))
    return Digest("Brief", NEW_YEAR, (item,), zone, language)


def test_a_time_shows_its_year_only_when_it_is_not_this_year_in_the_digests_timezone():
    sources = (
        _source("Old", datetime(2018, 1, 31, 21, 0, tzinfo=UTC)),
        _source("Eve", datetime(2026, 12, 31, 22, 0, tzinfo=UTC)),  # 23:00 in Paris
        _source("Midnight", datetime(2026, 12, 31, 23, 30, tzinfo=UTC)),  # 1 Jan in Paris
    )
    rendered = render_digest(_digest(*sources)).text
    # A date and its time never wrap apart (no-break spaces), in the text part too.
    assert "- Old, 31\u00a0Jan\u00a02018,\u00a022:00" in rendered
    text = rendered.replace("\u00a0", " ")
    assert "- Old, 31 Jan 2018, 22:00" in text
    assert "- Eve, 31 Dec 2026, 23:00" in text
    assert "- Midnight, 00:30" in text  # today in Paris: the time alone
    assert "first reported by Old, 31 Jan 2018, 22:00" in text
    in_utc = render_digest(_digest(*sources, zone="UTC")).text.replace("\u00a0", " ")
    assert "- Midnight, 31 Dec 2026, 23:30" in in_utc  # still last year in UTC
    this_year = _digest(_source("Jan", datetime(2027, 1, 5, 8, 0, tzinfo=UTC)))
    later = Digest("Brief", datetime(2027, 3, 9, 9, 0, tzinfo=UTC), this_year.items, "UTC")
    rendered = render_digest(later)
    assert "- Jan, 5 Jan, 08:00" in rendered.text.replace("\u00a0", " ")  # no year, no 0
    assert rendered.text.splitlines()[1].startswith("Tuesday 9 March 2027 · ")
    assert rendered.subject.startswith("Brief · 9 Mar 2027")
    french = render_digest(_digest(*sources, language="fr")).text.replace("\u00a0", " ")
    assert "- Old, 31 janv. 2018 22:00" in french and "- Midnight, 00:30" in french


def test_an_item_without_a_summary_leaves_one_blank_line_not_three():
    two = (
        _source("Wire", datetime(2027, 1, 1, 7, 0, tzinfo=UTC)),
        _source("Post", datetime(2027, 1, 1, 8, 0, tzinfo=UTC)),
    )
    rendered = render_digest(_digest(*two, summary=""))
    assert (
        "1. Harbour reopens\n"
        "   https://wire.example/a\n"
        "\n"
        "   2 sources · first reported by Wire, 08:00\n"
        "   - Wire, 08:00\n"
        "     https://wire.example/a\n"
        "   - Post, 09:00\n"
        "     https://post.example/a\n"
        "\n-- \n"  # the signature separator mail readers know (RFC 3676)
    ) in rendered.text
    assert "\n\n\n" not in rendered.text
    single = render_digest(_digest(two[0], summary="")).text
    assert "   https://wire.example/a\n\n   - Wire, 08:00\n     https://wire.example/a\n" in single
    with_summary = render_digest(_digest(two[0], summary="The harbour is open.")).text
    assert (
        "   https://wire.example/a\n\n   The harbour is open.\n\n   - Wire, 08:00\n" in with_summary
    )
    assert '<p class="ink" style="margin:0 0 8px;color:#1f2328;"></p>' not in rendered.html


def test_items_are_tagged_with_their_language_only_where_it_differs_from_the_digests():
    source = _source("Wire", datetime(2027, 1, 1, 7, 0, tzinfo=UTC))
    english = DigestItem("Harbour reopens", source.url, "S.", "en", None, (source,), (1,))
    french = DigestItem("Le port rouvre", source.url, "S.", "fr", None, (source,), (2,))
    rendered = render_digest(Digest("Brief", NEW_YEAR, (english, french), "UTC", "fr"))
    assert "1. Harbour reopens [EN]" in rendered.text
    assert "2. Le port rouvre\n" in rendered.text
    assert re.search(r'<span class="mute" lang="en" title="anglais"[^>]*>EN</span>', rendered.html)
    assert 'lang="fr" title' not in rendered.html


class _Warnings(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def test_a_language_without_texts_falls_back_to_english_with_a_warning():
    catalog.cache_clear()  # the warning comes with the first use of a language
    # On the module's own logger: the CLI sets its "digest" logger to errors only, without -v.
    logger = logging.getLogger("digest.mail._render")
    handler, level = _Warnings(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.WARNING)
    try:
        source = _source("Wire", datetime(2026, 12, 30, 7, 0, tzinfo=UTC))
        rendered = render_digest(_digest(source, language="nl"))
        render_digest(_digest(source, language="nl"))
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    warnings = handler.lines
    assert len(warnings) == 1 and "language 'nl'" in warnings[0] and "English" in warnings[0]
    assert "\n" not in warnings[0]
    assert "1 story from 1 feed" in rendered.text  # English texts ...
    assert "- Wire, 30 dec 2026, 08:00" in rendered.text.replace("\u00a0", " ")  # ... Dutch dates
    assert rendered.text.splitlines()[1].startswith("vrijdag 1 januari 2027 · ")


@pytest.mark.parametrize(
    ("language", "date"),
    [
        # the English pattern in their words gave "金曜日 1 1月 2027", "יום שישי 1 ינואר 2027"
        ("ja", "2027年1月1日金曜日"),
        ("he", "יום שישי, 1 בינואר 2027"),
        ("nl", "vrijdag 1 januari 2027"),
    ],
)
def test_a_language_without_texts_gets_its_own_full_date(language, date):
    source = _source("Wire", datetime(2026, 12, 30, 7, 0, tzinfo=UTC))
    rendered = render_digest(_digest(source, language=language))
    assert rendered.text.splitlines()[1].startswith(f"{date} · ")


def test_a_language_code_cldr_does_not_know_is_a_config_error(tmp_path, site):
    config = write_config(tmp_path, site.base_url, extra="language: xx\n")
    result = run_cli("preview", "--config", str(config))
    assert result.returncode == 1
    assert "language: 'xx' is not a language CLDR knows" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_the_archive_index_links_each_headline_to_the_story_on_its_page(tmp_path):
    from digest.config import ArchiveConfig

    entry = ArchivedDigest(
        page="2026-11-23-080000.html",
        title="Brief",
        subject="Brief · 23 Nov",
        created="2026-11-23T08:00:00+00:00",
        item_count=5,
        headlines=[
            ('Bridge <script>alert("x")</script> opens', "javascript:alert(1)"),
            ("Chip & pin", "https://b.example/2"),
            ("Third", ""),
            ("Fourth", "https://d.example/4"),
        ],
    )
    index = index_page([entry], "Brief", "fr", ArchiveConfig(tmp_path), "Europe/Paris")
    assert (
        '<li><a href="2026-11-23-080000.html#story-1">Bridge &lt;script&gt;alert(&quot;x&quot;)'
        "&lt;/script&gt; opens</a></li>"
    ) in index
    assert '<a href="2026-11-23-080000.html#story-2">Chip &amp; pin</a>' in index
    assert '<a href="2026-11-23-080000.html#story-3">Third</a>' in index
    assert "Fourth" not in index and "javascript:" not in index and "<script>" not in index
    assert "lundi 23 novembre 2026, 09:00 CET" in index
    assert "· 5 sujets" in index and "et 2 autres" in index
    assert "Éditions précédentes, de la plus récente à la plus ancienne" in index


@pytest.mark.parametrize("language", ["fr", "de"])
def test_follow_ups_are_written_in_the_digests_language(language):
    # March: its short name differs from the English one in both languages, so that a
    # date is never taken for English text.
    sent = datetime(2027, 3, 3, 9, 0, tzinfo=UTC)
    story = SentStory(7, "Harbour closes", "https://old.example/harbour", sent)
    published = datetime(2027, 3, 4, 8, 0, tzinfo=UTC)
    piece = SourceArticle("https://late.example/a", "Harbour to reopen Friday", published)
    late = Source("Late", piece.url, piece.title, published, (piece,))
    digest = Digest(
        "Brief",
        datetime(2027, 3, 4, 9, 0, tzinfo=UTC),
        (),
        "UTC",
        language,
        follow_ups=(FollowUp(story, (late,), (2,)),),
    )
    rendered = render_digest(digest)
    content = {"Brief", story.headline, story.url, late.name, late.title, late.url}
    parts = {
        "html": without(visible(rendered.html), content),
        "text": without(rendered.text, content),
    }
    assert not _english_in(parts, language)
    heading = read_catalog(language).get("More on earlier stories").string
    assert heading in rendered.text and html.escape(heading, quote=False) in rendered.html
    for part in (rendered.text, rendered.html):
        assert late.url in part and story.url in part
