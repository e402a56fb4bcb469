"""The run's own logic between the stages: windows, late coverage, the library API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from conftest import write_config

import digest
from digest.models import FeedEntry
from digest.pages._clean import LanguageDetector, clean_blocks
from digest.pages._extract import extract_page
from digest.pipeline._runner import _assemble
from digest.store._state import NewArticle, Store

SITES = Path(__file__).resolve().parent.parent / "config" / "demo" / "sites"
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def stored(path: str, feed: str, published: datetime) -> NewArticle:
    url = f"http://127.0.0.1:8765/{path}"
    page = extract_page((SITES / path).read_bytes(), url)
    text = clean_blocks(page.blocks, LanguageDetector(), None, page.language).text
    entry = FeedEntry(feed, url, url, url, page.title or path, "", "", published)
    return NewArticle(entry, page.title or path, text, "page", "en", None, published)


def test_an_outlet_reporting_a_delivered_story_days_later_joins_it(tmp_path, expectations):
    first, late = expectations["events"]["meta-compute"][:2]
    config = digest.load_config(write_config(tmp_path, "http://127.0.0.1:9"))
    assert config.window == timedelta(hours=72)
    store = Store.open(config.storage)
    store.add_articles([stored(first, "Techwire", NOW)], NOW)
    digest_items, _ = _assemble(config, store, NOW)
    store.stage_digest("S", digest_items.items, [], None, NOW)

    four_days_later = NOW + timedelta(days=4)  # beyond the 72h window
    store.add_articles([stored(late, "Circuit Post", four_days_later)], four_days_later)
    again, joined = _assemble(config, store, four_days_later)
    # Not a new story: the late report is listed under the story sent before, and counts
    # as shown once that digest is staged.
    assert again is not None and not again.items and joined == 1
    (follow_up,) = again.follow_ups
    assert follow_up.story.headline == digest_items.items[0].headline
    assert [s.name for s in follow_up.sources] == ["Circuit Post"]
    assert store.count("joined") == 0
    store.stage_digest("S2", again.items, [], None, four_days_later, again.follow_ups)
    assert store.count("joined") == 1 and store.count("pending") == 0
    store.close()


def test_preview_then_run_sends_what_preview_showed(tmp_path, site):
    config = digest.load_config(write_config(tmp_path, site.base_url))
    shown = digest.preview(config)
    assert shown.digest is not None and not shown.delivered_to
    sent = digest.run(config)
    assert sent.digest is not None
    assert [i.headline for i in sent.digest.items] == [i.headline for i in shown.digest.items]
    assert sent.delivered_to == ["reader@localhost"]
    assert digest.run(config).digest is None


def test_a_feed_taken_out_of_the_config_sends_nothing_more(tmp_path, expectations):
    kept, dropped = (paths[0] for paths in list(expectations["events"].values())[:2])
    config = digest.load_config(write_config(tmp_path, "http://127.0.0.1:9"))
    store = Store.open(config.storage)
    store.add_articles([stored(kept, "Techwire", NOW)], NOW)
    store.add_articles([stored(dropped, "Old Feed", NOW)], NOW)
    shown, _ = _assemble(config, store, NOW)
    assert shown is not None
    assert {s.name for item in shown.items for s in item.sources} == {"Techwire"}
    assert store.count("pending") == 2  # kept, should the feed come back
    store.close()


def test_a_renamed_feed_keeps_what_waits_to_be_sent(tmp_path, expectations):
    waiting = next(iter(expectations["events"].values()))[0]
    config = digest.load_config(write_config(tmp_path, "http://127.0.0.1:9"))
    techwire = next(feed for feed in config.feeds if feed.name == "Techwire")
    store = Store.open(config.storage)
    # Fetched (by a preview, or before SMTP went down) while the feed had another name.
    store.add_articles([stored(waiting, "Tech Wire", NOW)], NOW)
    store.feed_succeeded(techwire.url, "Tech Wire", 200, None, None, NOW)
    assert store.follow_renames([(f.url, f.name) for f in config.feeds]) == [
        ("Tech Wire", "Techwire")
    ]
    shown, _ = _assemble(config, store, NOW)
    assert shown is not None
    assert [s.name for item in shown.items for s in item.sources] == ["Techwire"]
    store.close()


def test_same_site_is_a_host_or_its_subdomain_never_a_suffix_of_an_address():
    from digest.pipeline._ingest import same_site

    assert same_site("https://www.example.com/a", "https://example.com/feed")
    assert same_site("https://news.example.com/a", "https://example.com/rss")
    # Sibling hosts are not matched: without the public-suffix list, a.co.uk and b.co.uk
    # would be one site. Such an article keeps the first feed's entry, as before.
    assert not same_site("https://news.example.com/a", "https://feeds.example.com/rss")
    assert not same_site("https://badexample.com/a", "https://example.com/feed")
    assert same_site("http://1.2.3.4/a", "http://1.2.3.4:8080/feed")
    assert not same_site("http://1.2.3.4/a", "http://2.3.4/feed")
    assert not same_site("http://[::1]/a", "http://1/feed")
    assert not same_site("a.xml", "b.xml")


def _written(feed: str, slug: str, title: str, text: str, published: datetime) -> NewArticle:
    url = f"https://{feed.lower().replace(' ', '')}.example/{slug}"
    entry = FeedEntry(feed, url, url, url, title, "", "", published)
    return NewArticle(entry, title, text, "feed-summary", "en", None, published)


QUAKE_TEXT = (
    "A magnitude 5.1 earthquake shook the port town of Orlavik on Sunday morning; the civil "
    "protection agency said no injuries were reported and the harbour stayed open. "
)


def test_a_republished_piece_and_an_excluded_report_are_not_listed_as_follow_ups(tmp_path):
    config = digest.load_config(
        write_config(tmp_path, "http://127.0.0.1:9", extra="filters:\n  exclude: [skarnes]\n")
    )
    store = Store.open(config.storage)
    title = "Magnitude 5.1 quake shakes Orlavik, no injuries reported"
    store.add_articles([_written("Techwire", "quake", title, QUAKE_TEXT * 2, NOW)], NOW)
    first, _ = _assemble(config, store, NOW)
    store.stage_digest("S", first.items, [], None, NOW)
    later = NOW + timedelta(hours=5)
    store.add_articles(
        [
            # The same piece again at another address: nothing new to list.
            _written("Techwire", "quake-2", title.upper(), QUAKE_TEXT * 2, later),
            # A real development, and one the digest's filters refuse.
            _written("Circuit Post", "bridge", "Orlavik quake: old harbour bridge closed",
                     QUAKE_TEXT + "Engineers closed the old harbour bridge after finding "
                     "cracks in two of its piers.", later),
            _written("Circuit Post", "ferry", "Orlavik quake: ferry timetable changes",
                     QUAKE_TEXT + "The ferry to Skarnes sails from the new quay until the "
                     "harbour is checked.", later),
        ],
        later,
    )  # fmt: skip
    second, joined = _assemble(config, store, later)
    assert second is not None and not second.items and joined == 1
    (follow_up,) = second.follow_ups
    listed = [piece.title for source in follow_up.sources for piece in source.articles]
    assert listed == ["Orlavik quake: old harbour bridge closed"]
    assert len(follow_up.repeated_ids) == 1
    store.stage_digest("S2", (), [], None, later, second.follow_ups)
    # The repeat is kept with its story; the refused report waits as filtered articles do.
    assert store.count("joined") == 2 and store.count("pending") == 1
    # A repeat alone is no reason to send a digest.
    store.add_articles([_written("Techwire", "quake-3", title, QUAKE_TEXT * 2, later)], later)
    alone, _ = _assemble(config, store, later + timedelta(minutes=5))
    assert alone is None
    store.close()
