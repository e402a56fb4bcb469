"""None lost, none hidden: every story a run fetched is sent, listed under the story it
reports, or said to have fallen out of the window. Real parts: feeds and pages written here
and served on 127.0.0.1, the file outbox or an aiosmtpd server, a SQLite state."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest
from conftest import DEMO_FEEDS, Mailbox, _free_port, run_cli, smtp_delivery, write_config
from sites import LocalSite

import digest

STORIES = {
    "vaccine": (
        "Regulator approves first malaria vaccine for adults in Norland",
        "The Norland Medicines Agency approved the first malaria vaccine for adults on "
        "Sunday, after a trial of 8,400 volunteers showed 77 percent protection. Health "
        "minister Oskar Brandt said the first doses from Halvard Pharma would reach clinics "
        "in March.",
    ),
    "rates": (
        "Central bank of Ostria raises interest rate to 4.75 percent",
        "The central bank of Ostria raised its main interest rate by a quarter point to 4.75 "
        "percent on Sunday, citing inflation of 6.1 percent. Governor Petra Lind said further "
        "increases were possible. Markets in Velden fell 1.2 percent after the decision.",
    ),
    "chess": (
        "Teenager Mira Solberg wins Arden chess open with round to spare",
        "Sixteen-year-old Mira Solberg won the Arden chess open on Sunday with a round to "
        "spare, beating grandmaster Tomas Reyes in 41 moves. Solberg becomes the youngest "
        "winner of the tournament in its 60-year history.",
    ),
}


def _page(outlet: str, slug: str) -> str:
    title, text = STORIES[slug]
    paragraphs = "".join(
        f"<p>{text} ({outlet} report, paragraph {n}.) Residents and officials went on "
        "discussing what happened and what it means for the region.</p>"
        for n in range(4)
    )
    return (
        f"<!doctype html><html lang=en><head><title>{title}</title></head><body>"
        f"<article><h1>{title}</h1>{paragraphs}</article></body></html>"
    )


def _publish(root: Path, base: str, outlet: str, pieces: list[tuple[str, str, datetime]]) -> None:
    """Write `outlet`'s RSS feed and pages: (slug of the page, story, published)."""
    (root / outlet).mkdir(parents=True, exist_ok=True)
    items = ""
    for slug, story, published in pieces:
        (root / outlet / f"{slug}.html").write_text(_page(outlet, story), encoding="utf-8")
        url = f"{base}/{outlet}/{slug}.html"
        title, text = STORIES[story]
        items += (
            f"<item><title>{title}</title><link>{url}</link><guid>{url}</guid>"
            f"<pubDate>{format_datetime(published)}</pubDate>"
            f"<description>{text}</description></item>"
        )
    (root / outlet / "feed.xml").write_text(
        f"<?xml version='1.0'?><rss version='2.0'><channel><title>{outlet}</title>"
        f"<link>{base}/{outlet}/</link>{items}</channel></rss>",
        encoding="utf-8",
    )


@pytest.fixture
def outlets(tmp_path):
    root = tmp_path / "site"
    root.mkdir()
    with LocalSite(root) as site:
        yield root, site.base_url


@pytest.fixture
def outlet_site(tmp_path):
    root = tmp_path / "site"
    root.mkdir()
    with LocalSite(root) as site:
        yield root, site


FEEDS = [("Alpha Times", "alpha/feed.xml", ""), ("Beta Herald", "beta/feed.xml", "")]


def _statuses(config: digest.Config) -> dict[str, str]:
    with sqlite3.connect(config.storage) as db:
        return dict(db.execute("SELECT url, status FROM articles").fetchall())


def test_another_outlets_copy_under_a_sent_headline_is_listed_not_hidden(tmp_path, outlets):
    root, base = outlets
    now = datetime.now(UTC).replace(microsecond=0)
    vaccine = ("vaccine", "vaccine", now - timedelta(hours=2))
    chess = ("chess", "chess", now - timedelta(hours=2))
    _publish(root, base, "alpha", [vaccine])
    _publish(root, base, "beta", [chess])
    config = digest.load_config(write_config(tmp_path, base, feeds=FEEDS))
    first = digest.run(config)
    assert first.digest is not None and len(first.digest.items) == 2

    # Beta runs the wire copy of Alpha's story under its headline; Alpha publishes its own
    # piece again at another address.
    again = ("vaccine-again", "vaccine", now - timedelta(hours=1))
    _publish(root, base, "beta", [chess, ("wire-vaccine", "vaccine", now - timedelta(hours=1))])
    _publish(root, base, "alpha", [vaccine, again])
    second = digest.run(config)
    assert second.articles_new == 2
    assert second.digest is not None and not second.digest.items
    (follow_up,) = second.digest.follow_ups
    assert follow_up.story.headline == STORIES["vaccine"][0]
    # Beta now covers the story: its copy is listed under it, in the digest sent.
    assert [(s.name, s.url) for s in follow_up.sources] == [
        ("Beta Herald", f"{base}/beta/wire-vaccine.html")
    ]
    (text,) = [Path(f).read_text() for f in second.outbox_files if f.endswith(".txt")]
    text = " ".join(text.split())  # the text part wraps its lines
    assert "Beta Herald" in text and f"{base}/beta/wire-vaccine.html" in text
    # Alpha's own repeat says nothing new: kept with its story, listed nowhere.
    assert f"{base}/alpha/vaccine-again.html" not in text
    assert len(follow_up.repeated_ids) == 1
    statuses = _statuses(config)
    assert statuses[f"{base}/beta/wire-vaccine.html"] == "joined"
    assert statuses[f"{base}/alpha/vaccine-again.html"] == "joined"
    assert "pending" not in statuses.values()

    # A repeat alone sends nothing, and is recorded with its story at once: not left
    # pending, as if it were to go out, until it expires "unsent".
    _publish(root, base, "alpha", [vaccine, again, ("vaccine-3", "vaccine", now)])
    third = digest.run(config)
    assert third.articles_new == 1 and third.digest is None and third.pending_left == 0
    assert _statuses(config)[f"{base}/alpha/vaccine-3.html"] == "joined"


def _window_config(tmp_path: Path, base: str, delivery: str | None = None) -> Path:
    return write_config(
        tmp_path,
        base,
        feeds=[*FEEDS, ("Gamma Wire", "gamma/feed.xml", "")],
        delivery=delivery,
    )


def _one_window(path: Path, max_items: int | None = None) -> None:
    text = path.read_text().replace("window: 72h", "window: 1h")
    if max_items is not None:
        text = text.replace("max_items: 30", f"max_items: {max_items}")
    path.write_text(text)


def _three_stories(root: Path, base: str, published: datetime) -> None:
    for outlet, story in (("alpha", "vaccine"), ("beta", "rates"), ("gamma", "chess")):
        _publish(root, base, outlet, [(story, story, published)])


def test_stories_held_back_by_max_items_get_a_window_from_when_they_were_fetched(tmp_path, outlets):
    root, base = outlets
    now = datetime.now(UTC).replace(microsecond=0)
    # Published 50 minutes before the first run of a 1h window, two of three held back by
    # the cap: counted from their publication they would expire before the next run.
    _three_stories(root, base, now - timedelta(minutes=50))
    path = _window_config(tmp_path, base)
    _one_window(path, max_items=1)
    config = digest.load_config(path)
    first = digest.run(config, now=now)
    assert first.digest is not None and len(first.digest.items) == 1
    assert first.pending_left == 2
    second = digest.run(config, now=now + timedelta(minutes=25))
    assert second.digest is not None and len(second.digest.items) == 1
    assert second.articles_expired == 0

    # The last one waits past a window from when it was fetched: it expires, and says so.
    third = digest.run(config, now=now + timedelta(minutes=70))
    assert third.digest is None and third.pending_left == 0
    assert third.articles_expired == 1
    (line,) = [w for w in third.warnings if "fell out of" in w]
    (left,) = [url for url, status in _statuses(config).items() if status == "expired"]
    story = left.rsplit("/", 1)[1].removesuffix(".html")
    assert line.startswith("1 article fell out of the 1h window unsent: ")
    assert STORIES[story][0] in line
    status = run_cli("status", "--config", str(path))
    assert status.returncode == 0, status.stderr
    assert "1 article fell out of the 1h window unsent" in status.stdout


def test_stories_held_up_by_an_smtp_outage_go_out_after_it(tmp_path, outlets, smtp_server):
    root, base = outlets
    now = datetime.now(UTC).replace(microsecond=0)
    _three_stories(root, base, now - timedelta(minutes=50))
    down = Mailbox("127.0.0.1", _free_port())  # nothing listens there
    path = _window_config(tmp_path, base, delivery=smtp_delivery(down))
    _one_window(path)
    with pytest.raises(digest.DigestError):
        digest.run(digest.load_config(path), now=now)
    assert set(_statuses(digest.load_config(path)).values()) == {"pending"}

    path.write_text(path.read_text().replace(f"port: {down.port}", f"port: {smtp_server.port}"))
    config = digest.load_config(path)
    after = digest.run(config, now=now + timedelta(minutes=25))
    assert after.digest is not None and len(after.digest.items) == 3
    assert after.articles_expired == 0
    (message,) = smtp_server.messages
    body = message.get_body(("plain",)).get_content()
    assert all(title in body for title, _ in STORIES.values())


def test_articles_the_digest_s_include_never_lets_in_expire_without_a_warning(tmp_path, site):
    # The filter is working as configured: no line about them on every run.
    extra = "filters:\n  include: [zzqx-never-mentioned]\n"
    path = write_config(tmp_path, site.base_url, feeds=DEMO_FEEDS[:2], extra=extra)
    config = digest.load_config(path)
    start = datetime.now(UTC)
    assert digest.run(config, now=start).pending_left > 0
    later = digest.run(config, now=start + timedelta(hours=80))
    assert later.articles_expired == 0
    assert not [w for w in later.warnings if "fell out of" in w]


def test_a_headline_stored_with_a_bidi_override_is_the_same_headline_after_the_upgrade():
    # Stored titles kept U+202E until printable() dropped it: the same piece republished at a
    # new URL must still be a repeat of it, not a new piece listed under its story.
    from datetime import UTC, datetime

    from digest.models import Article
    from digest.pipeline._runner import _repeat_key

    when = datetime(2026, 11, 23, tzinfo=UTC)
    stored = Article(id=1, feed="Pub", url="https://pub.example/a",
                     title="Pay invoice \u202egnp.exe now", text="", published=when)  # fmt: skip
    again = Article(id=2, feed="Pub", url="https://pub.example/b",
                    title="Pay  invoice GNP.exe now", text="", published=when)  # fmt: skip
    assert _repeat_key(stored) == _repeat_key(again)


def _one_page_feed(root: Path, base: str, stories: list[str], now: datetime) -> str:
    """Alpha's feed of `stories` (newest first), each with an id of its own and every one
    linking to one page, as a list of upcoming advisories or a podcast's home page does."""
    page = f"{base}/alpha/upcoming.html"
    (root / "alpha").mkdir(exist_ok=True)
    listing = "".join(
        f"<p>Advisory {n} of the quarter is listed here: a flaw in a "
        f"router's firmware, vendor contacted, details withheld.</p>"
        for n in range(12)
    )
    (root / "alpha" / "upcoming.html").write_text(
        f"<!doctype html><html lang=en><head><title>Upcoming advisories</title></head><body>"
        f"<article><h1>Upcoming advisories</h1>{listing}</article></body></html>",
        encoding="utf-8",
    )
    items = "".join(
        f"<item><title>{STORIES[story][0]}</title><link>{page}</link>"
        f"<guid isPermaLink='false'>ADV-{story}</guid>"
        f"<pubDate>{format_datetime(now - timedelta(minutes=10 * n))}</pubDate>"
        f"<description>{STORIES[story][1]}</description></item>"
        for n, story in enumerate(stories)
    )
    (root / "alpha" / "feed.xml").write_text(
        f"<?xml version='1.0'?><rss version='2.0'><channel><title>Alpha</title>{items}"
        "</channel></rss>",
        encoding="utf-8",
    )
    return page


def test_entries_that_link_to_one_page_are_each_sent_once(tmp_path, outlet_site):
    root, site = outlet_site
    now = datetime.now(UTC).replace(microsecond=0)
    page = _one_page_feed(root, site.base_url, ["vaccine"], now)
    config = digest.load_config(write_config(tmp_path, site.base_url, feeds=FEEDS[:1]))
    first = digest.run(config)
    assert first.digest is not None
    assert [item.headline for item in first.digest.items] == [STORIES["vaccine"][0]]

    # Two more entries on the same page: each is an article of its own, sent once.
    _one_page_feed(root, site.base_url, ["chess", "rates", "vaccine"], now)
    site.requests.clear()
    second = digest.run(config)
    assert second.articles_new == 2
    assert second.digest is not None
    shown = {item.headline: item for item in second.digest.items}
    assert set(shown) == {STORIES["chess"][0], STORIES["rates"][0]}
    assert shown[STORIES["chess"][0]].url == f"{page}#entry-ADV-chess"
    # Each keeps its own text: the page tells none of them alone and is never fetched.
    assert shown[STORIES["chess"][0]].summary.startswith("Sixteen-year-old Mira Solberg")
    assert not [path for _, path, _ in site.requests if path.endswith("upcoming.html")]
    third = digest.run(config)
    assert third.articles_new == 0 and third.digest is None


def _undated_feed(root: Path, base: str, titles: list[str], built: str = "") -> None:
    """Alpha's feed of `titles`, newest first, with no date on its items, and none on
    itself unless `built` (its lastBuildDate)."""
    items = "".join(
        f"<item><title>{title}</title><link>{base}/alpha/{title.split()[2]}.html</link>"
        f"<description>{title}, in the words of the desk that wrote it.</description></item>"
        for title in titles
    )
    (root / "alpha").mkdir(exist_ok=True)
    (root / "alpha" / "feed.xml").write_text(
        f"<?xml version='1.0'?><rss version='2.0'><channel><title>Alpha</title>"
        f"{f'<lastBuildDate>{built}</lastBuildDate>' if built else ''}{items}</channel></rss>",
        encoding="utf-8",
    )


@pytest.mark.parametrize("built_hours_ago", [None, 1], ids=["no date", "built an hour ago"])
def test_a_feed_that_dates_no_entry_sends_its_latest_not_its_archive(
    tmp_path, outlets, built_hours_ago
):
    root, base = outlets
    now = datetime.now(UTC)
    built = format_datetime(now - timedelta(hours=built_hours_ago)) if built_hours_ago else ""
    archive = [f"Archived column n{n} on the harbour's history" for n in range(25)]
    _undated_feed(root, base, archive, built)
    path = write_config(tmp_path, base, feeds=FEEDS[:1])
    config = digest.load_config(path)
    assert config.fair_share == 10
    check = run_cli("check", "--config", str(path))
    assert "25 entries, 15 outside the 72h window (15 undated: on a first run" in check.stdout
    first = run_cli("run", "-v", "--config", str(path))
    assert first.returncode == 0, first.stderr
    assert "25 entries, 10 new, 15 outside the 72h window; 15 of them undated" in first.stderr
    with sqlite3.connect(config.storage) as db:
        stored = {title for (title,) in db.execute("SELECT title FROM articles")}
    assert stored == set(archive[:10])  # the top of the feed: its latest

    # Listed from now on: news, dated when first seen.
    _undated_feed(root, base, ["Council elects-new mayor after tied vote in Velden", *archive],
                  built)  # fmt: skip
    second = digest.run(config)
    assert second.articles_new == 1
    assert second.digest is not None
    assert [item.headline for item in second.digest.items] == [
        "Council elects-new mayor after tied vote in Velden"
    ]


def test_a_live_page_dated_by_its_url_alone_is_news_while_its_feed_updates_it(tmp_path, outlets):
    root, base = outlets
    now = datetime.now(UTC).replace(microsecond=0)
    started = now - timedelta(days=4)  # beyond the 72h window
    slug = f"live/{started:%Y/%m/%d}/vaccine-live"
    (root / "alpha" / "live" / f"{started:%Y/%m/%d}").mkdir(parents=True)
    (root / "alpha" / f"{slug}.html").write_text(_page("alpha", "vaccine"), encoding="utf-8")
    title, text = STORIES["vaccine"]
    (root / "alpha" / "feed.xml").write_text(
        f"<?xml version='1.0'?><rss version='2.0'><channel><title>Alpha</title><item>"
        f"<title>Live: {title}</title><link>{base}/alpha/{slug}.html</link>"
        f"<pubDate>{format_datetime(now - timedelta(hours=1))}</pubDate>"
        f"<description>{text}</description></item></channel></rss>",
        encoding="utf-8",
    )
    config = digest.load_config(write_config(tmp_path, base, feeds=FEEDS[:1]))
    ran = digest.run(config)
    assert ran.digest is not None
    (item,) = ran.digest.items
    assert item.headline == f"Live: {title}"
    assert item.sources[0].published == now - timedelta(hours=1)  # the feed's time


SHELL = (
    "<!doctype html><html lang=en><head><title>Mastodon</title></head><body>"
    "<div id='mastodon' data-props='{}'></div><noscript><p>To use the Mastodon web "
    "application, please enable JavaScript. Alternatively, try one of the native apps for "
    "Mastodon for your platform.</p></noscript></body></html>"
)
POSTS = {
    "tram": "The harbour tram vote passed 9-2! Construction starts in spring.",
    "bakery": "Anyone know a good bakery near Lyon station? Asking for a friend.",
    "storm": "Storm warning for the coast tonight: ferries to the islands cancelled.",
}


def _posts(root: Path, base: str, slugs: list[str]) -> None:
    """A Mastodon account's feed: items without titles, each post's page the app's shell."""
    (root / "alpha").mkdir(exist_ok=True)
    items = ""
    for slug in slugs:
        (root / "alpha" / slug).write_text(SHELL, encoding="utf-8")
        items += (
            f"<item><link>{base}/alpha/{slug}</link><guid>{base}/alpha/{slug}</guid>"
            f"<description>&lt;p&gt;{POSTS[slug]}&lt;/p&gt;</description></item>"
        )
    (root / "alpha" / "feed.xml").write_text(
        f"<?xml version='1.0'?><rss version='2.0'><channel><title>Ana</title>{items}"
        "</channel></rss>",
        encoding="utf-8",
    )


def test_posts_whose_pages_are_an_apps_shell_keep_their_own_words(tmp_path, outlets):
    root, base = outlets
    _posts(root, base, ["tram", "bakery"])
    config = digest.load_config(write_config(tmp_path, base, feeds=FEEDS[:1]))
    first = digest.run(config)
    assert first.digest is not None
    # Two items, each headed by its post (an untitled entry's headline is its text).
    headlines = sorted(item.headline for item in first.digest.items)
    assert headlines == sorted([POSTS["bakery"], POSTS["tram"]])
    assert not [item for item in first.digest.items if "JavaScript" in item.summary]

    # One post a run: no other page of the site to compare with, and still not the shell.
    _posts(root, base, ["storm", "tram", "bakery"])
    second = digest.run(config)
    assert second.digest is not None and not second.digest.follow_ups
    (item,) = second.digest.items
    assert item.headline == POSTS["storm"]
    assert "JavaScript" not in item.summary
    with sqlite3.connect(config.storage) as db:
        texts = [text for (text,) in db.execute("SELECT text FROM articles")]
    assert sorted(texts) == sorted(POSTS.values())


def test_entries_on_one_page_kept_outside_the_window_come_in_each_with_its_own_text(
    tmp_path, outlet_site
):
    root, site = outlet_site
    now = datetime.now(UTC).replace(microsecond=0)
    _one_page_feed(root, site.base_url, ["chess", "rates"], now - timedelta(days=5))
    path = write_config(tmp_path, site.base_url, feeds=FEEDS[:1])
    first = digest.run(digest.load_config(path))
    assert first.digest is None  # both kept: dated before the 72h window

    path.write_text(path.read_text().replace("window: 72h", "window: 240h"))
    site.requests.clear()
    second = digest.run(digest.load_config(path))
    assert second.digest is not None
    assert sorted(item.headline for item in second.digest.items) == sorted(
        [STORIES["chess"][0], STORIES["rates"][0]]
    )
    assert not [path for _, path, _ in site.requests if path.endswith("upcoming.html")]


def test_a_feed_built_before_the_window_sends_none_of_its_undated_entries(tmp_path, outlets):
    root, base = outlets
    built = format_datetime(datetime.now(UTC) - timedelta(days=10))
    _undated_feed(root, base, ["Harbour fete-old planned for the summer"], built)
    ran = digest.run(digest.load_config(write_config(tmp_path, base, feeds=FEEDS[:1])))
    assert ran.articles_new == 0 and ran.digest is None


def test_a_shell_naming_its_post_met_once_is_not_the_post(tmp_path, outlets):
    root, base = outlets
    (root / "alpha").mkdir()
    (root / "alpha" / "7").write_text(
        "<!doctype html><html lang=en><body><noscript><p>Post 7 by @ana cannot be shown "
        "here. To see post 7, please enable JavaScript in your browser.</p></noscript>"
        "</body></html>",
        encoding="utf-8",
    )
    (root / "alpha" / "feed.xml").write_text(
        "<?xml version='1.0'?><rss version='2.0'><channel><title>Ana</title><item>"
        f"<link>{base}/alpha/7</link><guid>{base}/alpha/7</guid>"
        f"<description>{POSTS['storm']}</description></item></channel></rss>",
        encoding="utf-8",
    )
    ran = digest.run(digest.load_config(write_config(tmp_path, base, feeds=FEEDS[:1])))
    with sqlite3.connect(tmp_path / "state" / "digest.db") as db:
        assert db.execute("SELECT text FROM articles").fetchall() == [(POSTS["storm"],)]
    assert ran.digest is not None


def test_short_briefs_of_one_template_keep_their_pages(tmp_path, outlets):
    root, base = outlets
    opening = (
        "Police are asking for the public's help in finding a missing person last seen "
        "in the town centre"
    )
    who = {
        "m1": "on Friday evening: Jonas Berg, 34, wears a green jacket and walks with a stick.",
        "m2": "on Saturday morning: Ilse Marr, 71, wears a red coat and may seem confused.",
    }
    (root / "alpha").mkdir()
    items = ""
    for slug, tail in who.items():
        (root / "alpha" / f"{slug}.html").write_text(
            f"<!doctype html><html lang=en><body><h1>Missing: {slug}</h1><article><p>{opening} "
            f"{tail}</p></article></body></html>",
            encoding="utf-8",
        )
        items += (
            f"<item><title>Missing person {slug}</title><link>{base}/alpha/{slug}.html</link>"
            "<description>Police ask for help.</description></item>"
        )
    (root / "alpha" / "feed.xml").write_text(
        f"<?xml version='1.0'?><rss version='2.0'><channel><title>Police</title>{items}"
        "</channel></rss>",
        encoding="utf-8",
    )
    digest.run(digest.load_config(write_config(tmp_path, base, feeds=FEEDS[:1])))
    with sqlite3.connect(tmp_path / "state" / "digest.db") as db:
        sources = dict(db.execute("SELECT link, text_source FROM articles").fetchall())
    assert set(sources.values()) == {"page"}, sources


def test_a_podcast_episode_without_a_page_is_its_audio(tmp_path, outlet_site):
    root, site = outlet_site
    base = site.base_url
    (root / "alpha").mkdir()
    (root / "alpha" / "ep12.mp3").write_bytes(b"ID3" + b"\xff\xfb" * 5000)
    (root / "alpha" / "feed.xml").write_text(
        "<?xml version='1.0'?><rss version='2.0'><channel><title>Harbour Talk</title><item>"
        "<title>Episode 12: the tram vote</title><guid isPermaLink='false'>ep12</guid>"
        f"<enclosure url='{base}/alpha/ep12.mp3' length='10003' type='audio/mpeg'/>"
        f"<description>{POSTS['tram']}</description></item></channel></rss>",
        encoding="utf-8",
    )
    ran = digest.run(digest.load_config(write_config(tmp_path, base, feeds=FEEDS[:1])))
    assert ran.digest is not None
    (item,) = ran.digest.items
    assert (item.headline, item.url) == ("Episode 12: the tram vote", f"{base}/alpha/ep12.mp3")
    [skipped] = [s for s in ran.skipped if s.stage == "page"]
    assert skipped.reason.startswith("the page is audio/")
