"""Hard cases of our own for clustering, through the real `digest preview --json` against
feeds served on 127.0.0.1 (tests/fixtures/hardcases, one folder per case, one feed per
outlet, every entry linking to an article page on the same local site):

- brief: a brief about another event of the same industry, naming the main story's
  companies, stays its own item;
- launches: two launches by one company in one week, told in English and French, part by
  launch, the French piece with the English piece of its own launch;
- followup: a same-outlet follow-up a day later joins its event, listed under its outlet;
- translation: a German close translation of an English story joins the English coverage.

Each case is one run with a fresh state; the grouping is compared as sets of headlines per
item, and every entry of the feeds must be shown exactly once."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from conftest import REPO, run_cli, write_config
from sites import LocalSite

HARDCASES = REPO / "tests" / "fixtures" / "hardcases"
# The fixture files are written for this origin; the server rewrites it to its own port.
ORIGIN = "http://hardcases.test"


@pytest.fixture
def hardcases_site() -> Iterator[LocalSite]:
    site = LocalSite(HARDCASES, port=0)
    site.rewrite = {ORIGIN: site.base_url}
    with site:
        yield site


def _feeds(case: str, outlets: dict[str, str], section: str) -> list[tuple[str, str, str]]:
    return [(name, f"{case}/{slug}.xml", section) for slug, name in outlets.items()]


def _page_paths(case: str) -> set[str]:
    return {"/" + str(page.relative_to(HARDCASES)) for page in (HARDCASES / case).rglob("*.html")}


def _preview(tmp_path: Path, site: LocalSite, case: str, feeds: list[tuple[str, str, str]]) -> dict:
    config = write_config(tmp_path, site.base_url, feeds=feeds)
    result = run_cli("preview", "--config", str(config), "--json", timeout=60)
    assert result.returncode == 0, result.stderr
    # The groups are built from the pages' text: every article page was fetched.
    fetched = {path for method, path, status in site.requests if method == "GET" and status == 200}
    assert _page_paths(case) <= fetched
    return json.loads(result.stdout)


def _grouping(preview: dict) -> set[frozenset[str]]:
    return {
        frozenset(article["title"] for source in item["sources"] for article in source["articles"])
        for item in preview["items"]
    }


def _assert_nothing_hidden(preview: dict, case: str) -> None:
    shown = [
        article["url"]
        for item in preview["items"]
        for source in item["sources"]
        for article in source["articles"]
    ]
    # One page per feed entry: each entry shown once, and none left out.
    assert len(shown) == len(set(shown))
    assert {urlsplit(url).path for url in shown} == _page_paths(case)


def test_a_brief_about_another_event_of_the_industry_stays_its_own_item(tmp_path, hardcases_site):
    outlets = {
        "ledgerline": "Ledgerline",
        "circuitdaily": "Circuit Daily",
        "siliconreview": "The Silicon Review",
        "boursewire": "Bourse Wire",
        "dcnotes": "Datacenter Notes",
    }
    preview = _preview(tmp_path, hardcases_site, "brief", _feeds("brief", outlets, "Technology"))
    _assert_nothing_hidden(preview, "brief")
    earnings = frozenset(
        {
            "Veltrion beats forecasts as data-centre chip sales jump 38%",
            "Veltrion revenue hits $14.2bn on AI demand, shares climb after hours",
            "Veltrion's quarter: record sales, a thinner margin and a warning shot at Arkon",
            "Veltrion shares rise 6% as chipmaker lifts guidance to $15.5 billion",
        }
    )
    # Names Veltrion, Arkon and Nimbus, but tells of another event: Nimbus's own chip.
    brief = frozenset({"Nimbus unveils Stratus, its first in-house AI training chip"})
    tram = frozenset({"Arlow council approves 4 km tram extension to the university"})
    assert _grouping(preview) == {earnings, brief, tram}


def test_two_launches_of_one_company_part_across_languages(tmp_path, hardcases_site):
    outlets = {
        "byteledger": "The Byte Ledger",
        "modelwatch": "Modelwatch",
        "signalnoise": "Signal and Noise",
        "echonumerique": "L'Écho numérique",
    }
    preview = _preview(
        tmp_path, hardcases_site, "launches", _feeds("launches", outlets, "Technology")
    )
    _assert_nothing_hidden(preview, "launches")
    orca_3 = frozenset(
        {
            "Pelagic releases Orca 3, a 400-billion-parameter model aimed at coding",
            "Orca 3 arrives: Pelagic bets on long context and low prices",
            "Pelagic launches Orca 3 and ends open weights for its largest model",
        }
    )
    # Three days later; shares only the company and the family's name with Orca 3.
    orca_mini = frozenset(
        {
            "Pelagic dévoile Orca Mini, un modèle qui tourne sur les téléphones",
            "Orca Mini: Pelagic's 3-billion-parameter model runs offline on phones",
        }
    )
    quarry = frozenset({"Quarry database 2.0 adds vector search and drops its Java client"})
    assert _grouping(preview) == {orca_3, orca_mini, quarry}


def test_a_follow_up_by_one_outlet_joins_its_event_under_that_outlet(tmp_path, hardcases_site):
    outlets = {
        "valleycourier": "Valley Courier",
        "northerndispatch": "Northern Dispatch",
        "lenneradio": "Lenne Radio",
    }
    preview = _preview(tmp_path, hardcases_site, "followup", _feeds("followup", outlets, "News"))
    _assert_nothing_hidden(preview, "followup")
    spill = frozenset(
        {
            "Solvent spill in the Lenne cuts Harvik's tap water",
            "Chemical leak from Coldane plant forces Harvik to shut river water intake",
            "Harvik residents told not to drink tap water after Lenne pollution",
            # A day later, by Valley Courier: the cause and the reopening, same event.
            "Coldane blames cracked valve for Lenne spill; Harvik water to return Thursday",
        }
    )
    orchestra = frozenset({"Northern Philharmonic names Julia Marsh as chief conductor"})
    assert _grouping(preview) == {spill, orchestra}
    (item,) = [item for item in preview["items"] if len(item["sources"]) > 1]
    by_outlet = {
        source["name"]: [article["title"] for article in source["articles"]]
        for source in item["sources"]
    }
    assert sorted(by_outlet["Valley Courier"]) == [
        "Coldane blames cracked valve for Lenne spill; Harvik water to return Thursday",
        "Solvent spill in the Lenne cuts Harvik's tap water",
    ]
    assert sorted(by_outlet) == ["Lenne Radio", "Northern Dispatch", "Valley Courier"]


def test_a_translated_story_joins_the_coverage_it_translates(tmp_path, hardcases_site):
    outlets = {
        "orbitreport": "Orbit Report",
        "globalwire": "Global Wire",
        "sciencepost": "Science Post",
        "raumfahrtaktuell": "Raumfahrt Aktuell",
    }
    preview = _preview(
        tmp_path, hardcases_site, "translation", _feeds("translation", outlets, "Science")
    )
    _assert_nothing_hidden(preview, "translation")
    launch_failure = frozenset(
        {
            "Kestrel 2 rocket fails after launch, weather satellite lost",
            # A close German translation of Orbit Report's story.
            "Kestrel-2-Rakete versagt nach dem Start, Wettersatellit verloren",
            "European weather satellite Brisa-1 lost as Kestrel rocket fails",
            "Second-stage failure dooms Kestrel 2 flight and Brisa-1 satellite",
        }
    )
    coffee = frozenset({"Drought cuts Valdora coffee harvest by a fifth"})
    assert _grouping(preview) == {launch_failure, coffee}
    (item,) = [item for item in preview["items"] if len(item["sources"]) > 1]
    assert sorted(source["name"] for source in item["sources"]) == sorted(outlets.values())
