"""The web archive, written by the real CLI after delivery: pages, index, Atom feed."""

from __future__ import annotations

import json
import os
import re
import threading
from dataclasses import asdict
from email import message_from_bytes, policy

import feedparser
import pytest
from conftest import DEMO_FEEDS, run_cli, smtp_delivery, write_config

from digest.config._loader import ArchiveConfig
from digest.mail._archive import ArchivedDigest, ArchiveError, index_page, write_archive

ARCHIVE = "archive:\n  dir: public\n  url: https://news.example.org/brief\n"
UNSUBSCRIBE = "  unsubscribe: https://news.example.org/unsubscribe?who={recipient}\n"


def _pages(folder) -> list[str]:
    return sorted(p.name for p in folder.glob("20*.html"))


def test_each_delivered_digest_gets_a_page_the_index_and_the_feed_list_newest_first(tmp_path, site):
    delivery = "delivery:\n  method: file\n  outbox: outbox\n" + UNSUBSCRIBE
    config = write_config(tmp_path, site.base_url, delivery=delivery, extra=ARCHIVE,
                          feeds=DEMO_FEEDS[:3])  # fmt: skip
    assert run_cli("run", "--config", str(config)).returncode == 0
    write_config(tmp_path, site.base_url, delivery=delivery, extra=ARCHIVE)
    second = run_cli("run", "--config", str(config))
    assert second.returncode == 0, second.stderr

    public = tmp_path / "public"
    older, newer = _pages(public)
    assert (public / "index.html").exists() and (public / "feed.atom").exists()
    index = (public / "index.html").read_text(encoding="utf-8")
    assert index.index(f'href="{newer}"') < index.index(f'href="{older}"')
    assert '<html lang="en">' in index and 'name="color-scheme"' in index

    feed = feedparser.parse((public / "feed.atom").read_bytes())
    assert not feed.bozo, feed.bozo_exception
    assert feed.version == "atom10"
    assert [entry.link for entry in feed.entries] == [
        f"https://news.example.org/brief/{newer}",
        f"https://news.example.org/brief/{older}",
    ]
    assert feed.entries[0].title.startswith("Test Brief")
    assert "<li><a href=" in feed.entries[0].content[0].value

    # The email's "View in browser" is its own archive page; the page is public, so it never
    # carries a reader's unsubscribe link.
    eml = sorted((tmp_path / "outbox").glob("*.eml"))[-1]
    message = message_from_bytes(eml.read_bytes(), policy=policy.default)
    assert message["List-Unsubscribe"].strip() == (
        "<https://news.example.org/unsubscribe?who=reader%40localhost>"
    )
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    email = sorted((tmp_path / "outbox").glob("*.html"))[-1].read_text(encoding="utf-8")
    assert f'href="https://news.example.org/brief/{newer}"' in email
    assert "unsubscribe?who=" in email
    page = (public / newer).read_text(encoding="utf-8")
    assert "unsubscribe" not in page.lower() and 'href="index.html"' in page
    headlines = re.findall(r'class="hl"', page)
    assert len(headlines) == len(re.findall(r'class="hl"', email)) > 0


def test_preview_writes_no_archive_and_neither_does_a_failed_delivery(tmp_path, site, smtp_server):
    closed = smtp_delivery(smtp_server).replace(str(smtp_server.port), "1")
    config = write_config(tmp_path, site.base_url, delivery=closed, extra=ARCHIVE,
                          feeds=DEMO_FEEDS[:2])  # fmt: skip
    assert run_cli("preview", "--config", str(config)).returncode == 0
    assert not (tmp_path / "public").exists()
    assert run_cli("run", "--config", str(config)).returncode == 1
    assert not (tmp_path / "public").exists()

    write_config(tmp_path, site.base_url, delivery=smtp_delivery(smtp_server), extra=ARCHIVE,
                 feeds=DEMO_FEEDS[:2])  # fmt: skip
    assert run_cli("run", "--config", str(config)).returncode == 0
    assert len(_pages(tmp_path / "public")) == 1
    message = smtp_server.messages[0]
    assert message["List-Unsubscribe"] is None  # none configured, none sent
    plain = message.get_body(("plain",)).get_content()
    assert "View in browser: https://news.example.org/brief/20" in plain


def test_preview_links_no_archive_page_it_never_writes_and_fills_in_the_reader(tmp_path, site):
    """preview showed "View in browser" to a page only a run writes (another name, later),
    and the unsubscribe link with its raw {recipient}."""
    delivery = "delivery:\n  method: file\n  outbox: outbox\n  to: ana@example.org\n" + UNSUBSCRIBE
    config = write_config(tmp_path, site.base_url, delivery=delivery, extra=ARCHIVE,
                          feeds=DEMO_FEEDS[:2])  # fmt: skip
    shown = run_cli("preview", "--config", str(config))
    assert shown.returncode == 0, shown.stderr
    assert "https://news.example.org/brief/20" not in shown.stdout
    assert "https://news.example.org/unsubscribe?who=ana%40example.org" in shown.stdout
    assert "{recipient}" not in shown.stdout


def test_an_unwritable_archive_is_a_warning_and_the_digest_still_counts_as_sent(tmp_path, site):
    (tmp_path / "public").write_text("a file where the folder should be")
    config = write_config(tmp_path, site.base_url, extra=ARCHIVE, feeds=DEMO_FEEDS[:2])
    result = run_cli("run", "--config", str(config))
    assert result.returncode == 0, result.stderr
    assert re.search(r"archive \S+public: cannot write", result.stderr)
    eml = next((tmp_path / "outbox").glob("*.eml"))
    assert message_from_bytes(eml.read_bytes(), policy=policy.default)["To"]
    again = run_cli("run", "--config", str(config))
    assert "nothing new" in again.stdout  # delivered once, not again


def test_the_index_dates_each_digest_in_the_digests_timezone(tmp_path):
    entry = ArchivedDigest(
        page="2026-11-23-080000.html",
        title="Morning Brief",
        subject="Morning Brief · 23 Nov",
        created="2026-11-23T08:00:00+00:00",
        item_count=1,
        headlines=[("Harbour reopens", "https://example.org/harbour")],
    )
    index = index_page([entry], "Morning Brief", "en", ArchiveConfig(tmp_path), "Asia/Tokyo")
    assert "Monday 23 November 2026, 17:00 JST" in index
    assert "08:00" not in index


def test_the_index_counts_a_digest_of_follow_ups_alone_by_its_follow_ups(tmp_path):
    entry = ArchivedDigest(
        page="2026-11-24-080000.html",
        title="Morning Brief",
        subject="Morning Brief · 24 Nov: Harbour to reopen",
        created="2026-11-24T08:00:00+00:00",
        item_count=0,
        headlines=[],
        follow_up_count=2,
    )
    index = index_page([entry], "Morning Brief", "de", ArchiveConfig(tmp_path))
    assert "· 2 Nachträge" in index and "0 Meldungen" not in index


def test_two_digests_sent_within_one_second_get_two_archive_pages():
    from datetime import UTC, datetime

    from digest.mail._archive import page_name

    first = datetime(2026, 11, 23, 9, 0, 5, 100_000, tzinfo=UTC)
    assert page_name(first) == "2026-11-23-090005-100.html"
    assert page_name(first.replace(microsecond=900_000)) != page_name(first)
    assert page_name(first.replace(microsecond=0)) == "2026-11-23-090005.html"


def _page(number: int, created: str = "") -> str:
    entry = ArchivedDigest(
        page=f"2026-11-23-{number:06d}.html",
        title="Morning Brief",
        subject=f"Morning Brief {number}",
        created=created or f"2026-11-23T08:00:00.{number:06d}+00:00",
        item_count=1,
        headlines=[("Harbour reopens", "https://example.org/harbour")],
    )
    kept = {"entry": asdict(entry), "html": "<html></html>", "language": "en", "timezone": "UTC"}
    return json.dumps(kept)


def test_two_runs_writing_one_archive_at_once_lose_no_entry(tmp_path):
    # The record is read, added to and written whole: two writers at once kept 242 of 400
    # entries (an attacker's trial, two digests of a daemon sharing an archive folder).
    archive = ArchiveConfig(tmp_path / "public")

    def write(first: int) -> None:
        for number in range(first, first + 100):
            write_archive(archive, _page(number))

    writers = [threading.Thread(target=write, args=(first,)) for first in (0, 100)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join()
    record = json.loads((tmp_path / "public" / "digests.json").read_text())
    assert len(record) == 200


def test_an_entry_without_a_readable_date_is_a_warning_not_a_crash(tmp_path):
    # A record whose "created" was not a time with its zone crashed every later run; then
    # one bad entry hid every digest from the index and lost the page being written.
    archive = ArchiveConfig(tmp_path / "public")
    write_archive(archive, _page(1))
    write_archive(archive, _page(2))
    record = tmp_path / "public" / "digests.json"
    record.write_text(record.read_text().replace("2026-11-23T08:00:00.000001+00:00", "garbage"))
    with pytest.raises(ArchiveError, match=r"garbage.*1 of its 2 entries left out, a copy kept"):
        write_archive(archive, _page(3))
    assert (tmp_path / "public" / "2026-11-23-000003.html").exists()
    assert [e["page"] for e in json.loads(record.read_text())] == [
        "2026-11-23-000003.html", "2026-11-23-000002.html",
    ]  # fmt: skip
    assert len(list((tmp_path / "public").glob("digests.json.broken-*"))) == 1
    write_archive(archive, _page(4))  # the next run says nothing more


def test_the_atom_feed_holds_the_newest_digests_only(tmp_path):
    # Every digest in it made a 36 MB feed after a year of hourly digests.
    from digest.mail._archive import FEED_ENTRIES, atom_feed

    entries = [ArchivedDigest(**json.loads(_page(n))["entry"]) for n in range(FEED_ENTRIES + 5)]
    parsed = feedparser.parse(atom_feed(entries, "Morning Brief", ArchiveConfig(tmp_path)))
    assert len(parsed.entries) == FEED_ENTRIES
    assert parsed.entries[0].title == "Morning Brief 0"


def test_a_lock_file_another_account_made_does_not_stop_the_archive(tmp_path, monkeypatch):
    # A run by hand with sudo left .digests.lock root's: opening it to write failed, and
    # every later run's archive with it (files are replaced by rename, the lock needs no
    # write). The tests run as root, which may open anything: the refusal is played here.
    from digest.mail import _archive

    archive = ArchiveConfig(tmp_path / "public")
    write_archive(archive, _page(1))
    opened = _archive.os.open

    def as_another_user(path, flags, *mode):
        if str(path).endswith(".digests.lock") and flags & os.O_RDWR:
            raise PermissionError(13, "Permission denied", str(path))
        return opened(path, flags, *mode)

    monkeypatch.setattr(_archive.os, "open", as_another_user)
    write_archive(archive, _page(2))
    assert len(json.loads((tmp_path / "public" / "digests.json").read_text())) == 2
