"""No story hidden inside an item: every article weighed for a digest is shown exactly once,
under its outlet, in the email's two parts, the web archive and `preview --json`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.utils import format_datetime
from pathlib import Path

import pytest
from conftest import REPO, run_cli, write_config
from sites import LocalSite

FOLLOWUP = REPO / "tests" / "fixtures" / "followup"
FEEDS = [("Harbourline", "harbourline.xml", "Business"), ("Coast Post", "coastpost.xml", "")]
HEADLINES = {
    "Ferry operator Norsund Lines orders three electric ferries for the Kelvik crossing",
    "Kelvik ferry order: Tarrow shipyard to hire 300 welders for Norsund Lines deal",
    "Norsund Lines bets on batteries with 84 million euro order for Kelvik ferries",
    "Storm closes Bripelkel airport for a second day",
}


@pytest.fixture
def followup_site() -> Iterator[LocalSite]:
    site = LocalSite(FOLLOWUP, port=0)
    site.rewrite = {"http://followup.test": site.base_url}
    with site:
        yield site


def _articles_shown(preview: dict) -> list[tuple[str, str]]:
    return [
        (source["name"], article["url"])
        for item in preview["items"]
        for source in item["sources"]
        for article in source["articles"]
    ]


def test_a_second_piece_by_one_outlet_is_listed_under_it(tmp_path, followup_site):
    config = write_config(tmp_path, followup_site.base_url, feeds=FEEDS)
    result = run_cli("preview", "--config", str(config), "--json")
    assert result.returncode == 0, result.stderr
    preview = json.loads(result.stdout)
    shown = _articles_shown(preview)
    # Every article considered is shown, once: 4 entries, 4 articles, no URL twice.
    assert len(shown) == 4 and len(set(shown)) == 4
    (ferries,) = [item for item in preview["items"] if len(item["sources"]) > 1]
    by_outlet = {source["name"]: source for source in ferries["sources"]}
    assert [len(by_outlet[name]["articles"]) for name in ("Harbourline", "Coast Post")] == [2, 1]
    harbourline = by_outlet["Harbourline"]
    # The outlet's own link is its first article; the follow-up is listed after it.
    assert harbourline["articles"][0]["url"] == harbourline["url"]
    titles = {article["title"] for source in ferries["sources"] for article in source["articles"]}
    assert titles == HEADLINES - {"Storm closes Bripelkel airport for a second day"}


def test_the_email_and_the_archive_show_every_article(tmp_path, followup_site):
    config = write_config(
        tmp_path, followup_site.base_url, feeds=FEEDS, extra="archive:\n  dir: archive\n"
    )
    result = run_cli("run", "--config", str(config))
    assert result.returncode == 0, result.stderr
    text = next((tmp_path / "outbox").glob("*.txt")).read_text(encoding="utf-8")
    html = next((tmp_path / "outbox").glob("*.html")).read_text(encoding="utf-8")
    archive = [
        page.read_text(encoding="utf-8")
        for page in (tmp_path / "archive").rglob("*.html")
        if page.name != "index.html"
    ]
    assert len(archive) == 1
    base = followup_site.base_url
    urls = [f"{base}/harbourline/ferries.html", f"{base}/harbourline/ferries-jobs.html",
            f"{base}/coastpost/norsund.html", f"{base}/coastpost/storm.html"]  # fmt: skip
    for url in urls:
        assert url in text and url in html and url in archive[0], url
    # An outlet with two pieces shows both headlines under its name, the first one too.
    assert "- Harbourline (2)\n" in text and ">Harbourline</span> (2): " in html
    first = "Ferry operator Norsund Lines orders three electric ferries"
    followup = "Tarrow shipyard to hire 300 welders"
    for headline in (first, followup):
        assert headline in text and headline in html and headline in archive[0], headline


def _feed(*entries: tuple[str, str, str]) -> str:
    stamp = format_datetime(datetime.now(UTC))
    items = "".join(
        f"<item><title>{title}</title><link>{link}</link><guid>{link}</guid>"
        f"<pubDate>{stamp}</pubDate><description>{text}</description></item>"
        for title, link, text in entries
    )
    return f"<rss version='2.0'><channel><title>F</title>{items}</channel></rss>"


QUAKE = (
    "Magnitude 5.1 quake shakes Orlavik, no injuries reported",
    "https://a.example/quake",
    "A magnitude 5.1 earthquake shook the port town of Orlavik on Sunday morning; the civil "
    "protection agency said no injuries were reported and the harbour stayed open.",
)
QUAKE_LATE = (
    "Orlavik quake: engineers close the old harbour bridge after finding cracks",
    "https://b.example/orlavik-bridge",
    "A day after the magnitude 5.1 earthquake in Orlavik, engineers of the civil protection "
    "agency closed the old harbour bridge after finding cracks in two of its piers.",
)
FESTIVAL = (
    "Brennmoor film festival names Ida Varga jury president",
    "https://b.example/festival",
    "The Brennmoor film festival named the director Ida Varga president of its jury for the "
    "March edition, the festival's board said in a statement.",
)


def _quake_sent(tmp_path: Path, extra: str = "") -> Path:
    """A digest "R" over feeds A (the quake) and B (nothing yet), run once: the quake is
    sent. Returns its config; B's feed is tmp_path / "b.xml"."""
    (tmp_path / "a.xml").write_text(_feed(QUAKE))
    (tmp_path / "b.xml").write_text(_feed())
    config = tmp_path / "digest.yaml"
    config.write_text(
        f"title: R\nstorage: state.db\nfetch:\n  pages: false\n{extra}"
        "delivery:\n  method: file\n  outbox: outbox\n"
        "feeds:\n  - name: A\n    url: a.xml\n  - name: B\n    url: b.xml\n"
    )
    assert run_cli("run", "--config", str(config)).returncode == 0
    return config


def test_a_late_report_is_shown_once_as_a_follow_up_of_its_story(tmp_path):
    config = _quake_sent(tmp_path, extra="archive:\n  dir: archive\n")
    (tmp_path / "b.xml").write_text(_feed(QUAKE_LATE, FESTIVAL))
    result = run_cli("preview", "--config", str(config), "--json")
    assert result.returncode == 0, result.stderr
    preview = json.loads(result.stdout)
    # The two new articles, each shown once: the festival as a story, the bridge as a
    # follow-up of the quake sent before.
    shown = _articles_shown(preview) + [
        (source["name"], article["url"])
        for follow_up in preview["follow_ups"]
        for source in follow_up["sources"]
        for article in source["articles"]
    ]
    assert sorted(shown) == [("B", FESTIVAL[1]), ("B", QUAKE_LATE[1])]
    (follow_up,) = preview["follow_ups"]
    assert (follow_up["story"]["headline"], follow_up["story"]["url"]) == QUAKE[:2]
    # A preview changes nothing: the run lists the same follow-up, and says so.
    sent = run_cli("run", "--config", str(config))
    assert sent.returncode == 0, sent.stderr
    assert "R: delivered 1 item and 1 follow-up on stories sent before (" in sent.stdout
    newest = sorted((tmp_path / "outbox").glob("*.txt"))[-1].stem
    text = (tmp_path / "outbox" / f"{newest}.txt").read_text(encoding="utf-8")
    html = (tmp_path / "outbox" / f"{newest}.html").read_text(encoding="utf-8")
    pages = sorted(p for p in (tmp_path / "archive").rglob("*.html") if p.name != "index.html")
    archive = pages[-1].read_text(encoding="utf-8")
    for part in (text, html, archive):
        assert QUAKE_LATE[1] in part and FESTIVAL[1] in part
        assert "More on earlier stories" in part and QUAKE[0] in part
    # The text part: the story as it was sent, then the new report under it.
    listed = text[text.index("== More on earlier stories ==") :]
    assert f"* {QUAKE[0]} (sent" in listed
    assert f"  + {QUAKE_LATE[0][:40]}" in listed and f"    {QUAKE_LATE[1]}" in listed
    assert "1 story from 1 feed · 1 follow-up · times in UTC" in text
    status = run_cli("status", "--config", str(config))
    assert "  1 item and 1 follow-up to " in status.stdout, status.stdout
    # Listed once: the next run has nothing to send.
    again = run_cli("run", "--config", str(config))
    assert again.stdout.startswith("R: nothing new to deliver"), again.stdout


def test_a_hostile_late_report_title_in_the_subject_stays_one_header_line(tmp_path):
    # A digest of follow-ups alone takes its subject from the first new report's title:
    # feed text, which must not add a header to the message.
    config = _quake_sent(tmp_path)
    hostile = ("Orlavik quake:&#13;&#10;Bcc: spy@evil.test&#13;&#10;bridge closed",
               *QUAKE_LATE[1:])  # fmt: skip
    (tmp_path / "b.xml").write_text(_feed(hostile))
    second = run_cli("run", "--config", str(config))
    assert "R: delivered 1 follow-up on stories sent before" in second.stdout, second.stdout
    newest = sorted((tmp_path / "outbox").glob("*.eml"))[-1]
    message = message_from_bytes(newest.read_bytes(), policy=policy.default)
    assert message["Bcc"] is None and "spy@evil.test" not in str(message.keys())
    assert message["Subject"].startswith("R · ") and "Bcc: spy@evil.test" in message["Subject"]
    assert "\n" not in message["Subject"] and "\r" not in message["Subject"]


def test_a_feed_back_in_the_config_or_a_filter_taken_out_sends_what_it_held(
    tmp_path, followup_site
):
    """Articles held back by the config (their feed taken out, a filter) are kept "should it
    come back", and `digest status` promised them to the next runs; but with nothing new
    fetched those runs said "nothing new to deliver", and a quiet digest let them expire."""
    both = write_config(tmp_path, followup_site.base_url, feeds=FEEDS)
    assert run_cli("preview", "--config", str(both)).returncode == 0  # all four stored
    text = both.read_text()
    without = text[: text.index("  - name: Coast Post")]
    both.write_text(without)
    first = run_cli("run", "--config", str(both))
    assert "Test Brief: delivered 1 item (1 source;" in first.stdout, first.stdout
    assert "held back: articles of 'Coast Post'" in first.stderr
    both.write_text(text)
    back = run_cli("run", "--config", str(both))
    assert back.returncode == 0, back.stderr
    assert "delivered 1 item and 1 follow-up on stories sent before" in back.stdout, back.stdout

    (tmp_path / "f").mkdir()
    filtered = write_config(
        tmp_path / "f", followup_site.base_url, feeds=FEEDS,
        extra="filters:\n  exclude: [airport]\n",
    )  # fmt: skip
    sent = run_cli("run", "--config", str(filtered))
    assert "delivered 1 item (" in sent.stdout, sent.stdout
    assert "nothing new" in run_cli("run", "--config", str(filtered)).stdout
    filtered.write_text(filtered.read_text().replace("filters:\n  exclude: [airport]\n", ""))
    unfiltered = run_cli("run", "--config", str(filtered))
    assert "delivered 1 item (" in unfiltered.stdout, unfiltered.stdout
    newest = sorted((tmp_path / "f" / "outbox").glob("*.txt"))[-1].read_text(encoding="utf-8")
    assert "Storm closes Bripelkel airport for a second day" in newest
