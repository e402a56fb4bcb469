"""No story hidden inside an item: every article weighed for a digest is shown exactly once,
under its outlet, in the email's two parts, the web archive and `preview --json`."""

from __future__ import annotations

import json
from collections.abc import Iterator

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
    assert "Harbourline (2)" in text and "Harbourline</a> <span" in html
    assert "(2)</span>" in html
    # The follow-up's headline is shown under its outlet in both parts.
    followup = "Tarrow shipyard to hire 300 welders"
    assert followup in text and followup in html
