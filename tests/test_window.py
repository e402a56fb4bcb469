"""The window over real feeds, through the real CLI: nothing old goes out as news, every
entry outside the window is counted (`digest check`, `digest run -v`) and kept, and a wider
window brings the kept entries in on the next run although every feed answers 304.

The feeds are the real-world captures of ../shared/data/feeds (years old), served on
127.0.0.1 from a temporary copy, with one feed of our own dated around now. Article pages
are not fetched for the captures (their links go to the real sites).
"""

from __future__ import annotations

import contextlib
import re
import shutil
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from conftest import SHARED_DATA, run_cli
from sites import LocalSite

pytestmark = pytest.mark.shared_data

CAPTURES = SHARED_DATA / "feeds"
NOT_A_FEED = {"unrecognized.rss"}  # an HTML "Document Moved" page: no window to speak of
PT_DAYS = ["Seg", "Ter", "Qua", "Qui", "Sex", "Sáb", "Dom"]
PT_MONTHS = ["Jan", "Fev", "Mar", "Abr", "Mai", "Jun", "Jul", "Ago", "Set", "Out", "Nov", "Dez"]
BRASILIA = timezone(timedelta(hours=-3))
CHECK_LINE = re.compile(r"^ok   (\S+): (\d+) entr(?:y|ies), (\d+) outside the (\S+) window", re.M)
LOG_LINE = re.compile(
    r"feed '([^']+)' \([^)]*\): (\d+ entr(?:y|ies)|not modified), (\d+) new, (\d+) "
    r"(?:kept )?outside the (\S+) window"
)


def portuguese(moment: datetime) -> str:
    """RFC 822 as a Brazilian feed writes it: 'Seg, 24 Set 2018 19:35:07 -0300'."""
    local = moment.astimezone(BRASILIA)
    day, month = PT_DAYS[local.weekday()], PT_MONTHS[local.month - 1]
    return f"{day}, {local.day:02d} {month} {local.year} {local:%H:%M:%S} -0300"


def item(title: str, slug: str, date: str | None) -> str:
    dated = f"<pubDate>{date}</pubDate>" if date else ""
    return (
        f"<item><title>{title}</title><link>http://127.0.0.1:9/{slug}</link>"
        f"<guid>{slug}</guid>{dated}<description>{title}, in the words of the desk "
        f"that wrote it.</description></item>"
    )


@contextlib.contextmanager
def captures(root: Path) -> Iterator[tuple[LocalSite, datetime]]:
    """The captures and our own feed `fresh.xml` (its dates written now, returned), served
    from `root`."""
    root.mkdir()
    for path in sorted(CAPTURES.iterdir()):
        if path.suffix in (".rss", ".atom") and path.name not in NOT_A_FEED:
            shutil.copy(path, root / path.name)
    written = datetime.now(UTC).replace(microsecond=0)
    items = [
        item("Ponte reaberta ao trânsito", "ponte", portuguese(written - timedelta(hours=3))),
        item("Cheia no rio Doce", "cheia", portuguese(datetime(2099, 1, 1, tzinfo=UTC))),
        item("Feira do livro abre", "feira", "{{now-5h:rfc822}}"),
        item("Arquivo de 2002", "arquivo", "03 Apr 02 1500 GMT"),
        item("Eleição de 2018", "eleicao", "Seg, 24 Set 18 19:35:07 -0300"),
        item("Sem data", "sem-data", None),
    ]
    (root / "fresh.xml").write_text(
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        "<title>Diário</title><language>pt-br</language>" + "".join(items) + "</channel></rss>",
        encoding="utf-8",
    )
    with LocalSite(root) as site:
        yield site, written


def write_config(path: Path, site: LocalSite, window: str, *, pages: bool = False) -> None:
    feeds = sorted(p.name for p in site.root.iterdir() if p.is_file())
    lines = [
        "title: Window Brief",
        f"window: {window}",
        "max_items: 40",
        "storage: state/digest.db",
        "fetch:",
        "  timeout: 5",
        f"  pages: {'true' if pages else 'false'}",
        "delivery:",
        "  method: file",
        "  outbox: outbox",
        "feeds:",
    ]
    for name in feeds:
        lines += [f"  - name: {name}", f"    url: {site.base_url}/{name}"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def state(tmp_path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(tmp_path / "state" / "digest.db")
    db.row_factory = sqlite3.Row
    return db


@dataclass
class FirstRun:
    """`digest check`, then a first `digest run -v`, over the captures with a 48h window."""

    site: LocalSite
    written: datetime  # when fresh.xml's dates were written
    config: Path  # the digest's folder holds its state/ and outbox/
    checked: subprocess.CompletedProcess
    ran: subprocess.CompletedProcess
    started: datetime
    finished: datetime
    after: Path  # a copy of state/ and outbox/ as the first run left them


@pytest.fixture(scope="module")
def first_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FirstRun]:
    # A run over 31 feeds takes seconds: the tests that start from this one share it. Each
    # reads `after`, the copy the run left; only the wider-window test runs on from it.
    folder = tmp_path_factory.mktemp("window")
    with captures(folder / "site") as (site, written):
        config = folder / "digest.yaml"
        write_config(config, site, "48h")
        checked = run_cli("check", "--config", str(config))
        started = datetime.now(UTC).replace(microsecond=0)
        ran = run_cli("run", "-v", "--config", str(config))
        finished = datetime.now(UTC)
        after = folder / "after-first-run"
        for part in ("state", "outbox"):
            if (folder / part).exists():
                shutil.copytree(folder / part, after / part)
        yield FirstRun(site, written, config, checked, ran, started, finished, after)


def when(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_nothing_old_goes_out_and_every_entry_outside_the_window_is_counted(first_run):
    site, written, started, finished = (first_run.site, first_run.written, first_run.started,
                                        first_run.finished)  # fmt: skip
    checked, ran = first_run.checked, first_run.ran
    assert checked.returncode == 0, checked.stdout + checked.stderr
    by_check = {m[0]: (int(m[1]), int(m[2])) for m in CHECK_LINE.findall(checked.stdout)}
    assert len(by_check) == sum(1 for p in site.root.iterdir() if p.is_file())

    assert ran.returncode == 0, ran.stderr
    by_log = {m[0]: m[1:] for m in LOG_LINE.findall(ran.stderr)}
    assert by_log.keys() == by_check.keys(), ran.stderr

    # Every feed's line says what the parser returned and how much of it lies outside the
    # window, as `digest check` did; what is not outside came in, and nothing else did.
    db = state(first_run.after)
    came_in = db.execute("SELECT COUNT(*) FROM articles").fetchone()[0]
    for name, (entries, outside) in by_check.items():
        listed, new, logged_outside, span = by_log[name]
        assert (int(listed.split()[0]), int(logged_outside), span) == (entries, outside, "48h")
        assert int(new) == entries - outside, name
        if name != "fresh.xml":  # the captures are years old: every entry is outside
            assert outside == entries, name
    total = sum(entries for entries, _ in by_check.values())
    assert sum(outside for _, outside in by_check.values()) == total - came_in
    statuses = {row[0] for row in db.execute("SELECT status FROM articles")}
    assert statuses <= {"pending", "delivered"}

    # What went out is this run's news, dated truly: the Portuguese date as written, the one
    # in 2099 clamped to the fetch, the undated entry of a first fetch not at all.
    delivered = {
        row["title"]: row for row in db.execute("SELECT * FROM articles WHERE status = 'delivered'")
    }
    assert set(delivered) == {"Ponte reaberta ao trânsito", "Cheia no rio Doce",
                              "Feira do livro abre"}  # fmt: skip
    for title, row in delivered.items():
        published, first_seen = when(row["published"]), when(row["first_seen"])
        assert started - timedelta(hours=48) <= published <= finished, title
        assert started <= first_seen <= finished, title
    assert when(delivered["Ponte reaberta ao trânsito"]["published"]) == written - timedelta(
        hours=3
    )
    clamped = delivered["Cheia no rio Doce"]
    assert clamped["published"] == clamped["first_seen"]
    text = next((first_run.after / "outbox").glob("*.txt")).read_text(encoding="utf-8")
    assert "Ponte reaberta" in text and "Feira do livro" in text
    for old in ("Arquivo de 2002", "Eleição de 2018", "Sem data"):
        assert old not in text, old

    # The entries outside the window are kept with their own dates.
    kept = {row["url"]: row for row in db.execute("SELECT * FROM kept_entries")}
    by_title = {row["title"]: row for row in kept.values()}
    assert by_title["Arquivo de 2002"]["published"] == "2002-04-03T15:00:00+00:00"
    assert by_title["Eleição de 2018"]["published"] == "2018-09-24T22:35:07+00:00"
    assert (by_title["Sem data"]["backlog"], by_title["Sem data"]["published"]) == (
        1,
        clamped["published"],  # the feed's newest date: the entry is no newer, and not news
    )
    herald = [row for row in kept.values() if row["feed"] == "heraldsun.rss"]
    assert [row["published"] for row in herald] == ["2002-04-03T15:00:00+00:00"] * 2
    uol = sorted(row["published"] for row in kept.values() if row["feed"] == "uolNoticias.rss")
    # 15 entries, one of them the same story linked again through the site's redirector.
    assert len(uol) == 14 and uol[0] >= "2018-09-24T" and uol[-1] < "2018-09-25T"
    assert all(started <= when(row["first_seen"]) <= finished for row in kept.values())


def test_a_wider_window_brings_the_kept_entries_in_although_every_feed_answers_304(
    first_run,
):
    site, config, first = first_run.site, first_run.config, first_run.ran
    assert first.returncode == 0, first.stderr
    db = state(first_run.after)
    kept = {row["url"]: row for row in db.execute("SELECT * FROM kept_entries")}
    waiting = {url: row for url, row in kept.items() if not row["backlog"]}
    before = db.execute("SELECT COUNT(*) FROM articles").fetchone()[0]
    db.close()

    # The operator widens the window (back to 1994) and runs again: every feed answers 304.
    config.write_text(config.read_text().replace("window: 48h", "window: 12000d"))
    site.requests.clear()
    start = time.monotonic()
    second = run_cli("run", "-v", "--config", str(config))
    elapsed = time.monotonic() - start
    assert second.returncode == 0, second.stderr
    feeds = sorted(f"/{p.name}" for p in site.root.iterdir() if p.is_file())
    assert sorted(path for _, path, _ in site.requests) == feeds
    assert {status for _, _, status in site.requests} == {304}

    db = state(config.parent)
    articles = {row["url"]: row for row in db.execute("SELECT * FROM articles")}
    assert len(articles) == before + len(waiting)
    for url, row in waiting.items():  # in, with the date and first sighting they were kept with
        article = articles[url]
        assert article["status"] in ("pending", "delivered"), url
        assert (article["published"], article["first_seen"]) == (
            row["published"],
            row["first_seen"],
        )
    # Only the undated entry of a first fetch stays out: it was never news.
    assert [row["title"] for row in db.execute("SELECT title FROM kept_entries")] == ["Sem data"]
    lines = LOG_LINE.findall(second.stderr)
    assert {listed for _, listed, _, _, _ in lines} == {"not modified"}
    assert sum(int(new) for _, _, new, _, _ in lines) == len(waiting)
    assert sum(int(outside) for _, _, _, outside, _ in lines) == 1
    assert {span for *_, span in lines} == {"12000d"}
    # The digest of this run took the first 40 stories of them; the rest wait, pending.
    delivered = sum(row["status"] == "delivered" for row in articles.values())
    assert delivered >= before + 40
    assert elapsed < 120, elapsed


# Four unrelated stories (slug: title, text), so that each is a story of its own.
STORIES = {
    "fresh": ("Ferry timetable adds crossings", "The harbour authority published a winter "
              "timetable with two more ferry crossings on weekdays and a later last boat."),
    "old": ("Seal count reaches a record", "Volunteers counted four hundred grey seals on "
            "the northern sandbanks, the highest number since the survey began."),
    "undated": ("Library lends telescopes", "The county library lends telescopes to its "
                "members for a fortnight, with a star chart and a booklet on the planets."),
    "late": ("Bakery wins the rye prize", "A bakery in the market square won the regional "
             "prize for its rye loaf, baked overnight in a wood-fired oven."),
}  # fmt: skip


def page(slug: str) -> str:
    title, text = STORIES[slug]
    return (
        f"<html><head><title>{title}</title></head><body><article><h1>{title}</h1>"
        + f"<p>{text}</p>" * 3
        + "</article></body></html>"
    )


def test_an_entry_outside_the_window_costs_no_page_until_a_run_covers_it(tmp_path):
    root = tmp_path / "site"
    (root / "pages").mkdir(parents=True)
    for slug in STORIES:
        (root / "pages" / f"{slug}.html").write_text(page(slug))

    def feed(*extra: str) -> str:
        dates = {"fresh": "{{now-2h:rfc822}}", "old": "{{now-240h:rfc822}}"}
        items = ""
        for slug in ("fresh", "old", "undated", *extra):
            title = STORIES[slug][0]
            date = f"<pubDate>{dates[slug]}</pubDate>" if slug in dates else ""
            items += (
                f"<item><title>{title}</title><link>http://harbour.test/pages/{slug}.html"
                f"</link><guid>{slug}</guid>{date}<description>{title}.</description></item>"
            )
        head = '<?xml version="1.0"?><rss version="2.0"><channel><title>Harbour</title>'
        return f"{head}{items}</channel></rss>"

    (root / "feed.xml").write_text(feed())
    config = tmp_path / "digest.yaml"
    site = LocalSite(root)
    site.rewrite = {"http://harbour.test": site.base_url}
    with site:
        config.write_text(
            "title: Harbour Brief\nwindow: 48h\nstorage: state/digest.db\n"
            "fetch:\n  timeout: 5\ndelivery:\n  method: file\n  outbox: outbox\n"
            f"feeds:\n  - name: Harbour\n    url: {site.base_url}/feed.xml\n"
        )
        first = run_cli("run", "-v", "--config", str(config))
        assert first.returncode == 0, first.stderr
        assert "1 new, 2 outside the 48h window" in first.stderr
        pages = {path for _, path, _ in site.requests if path.startswith("/pages/")}
        assert pages == {"/pages/fresh.html"}  # the old and the undated ones cost nothing

        config.write_text(config.read_text().replace("window: 48h", "window: 30d"))
        site.requests.clear()
        second = run_cli("run", "-v", "--config", str(config))
        assert second.returncode == 0, second.stderr
        assert ("GET", "/feed.xml", 304) in site.requests
        assert ("GET", "/pages/old.html", 200) in site.requests  # fetched now it is news
        assert "/pages/undated.html" not in {path for _, path, _ in site.requests}

        # A later fetch lists a new undated entry: it is dated when first seen.
        (root / "feed.xml").write_text(feed("late"))
        site.requests.clear()
        third = run_cli("run", "--config", str(config))
        assert third.returncode == 0, third.stderr
        assert ("GET", "/feed.xml", 200) in site.requests
        assert "/pages/undated.html" not in {path for _, path, _ in site.requests}

    db = state(tmp_path)
    rows = {row["title"]: row for row in db.execute("SELECT * FROM articles")}
    assert set(rows) == {STORIES[slug][0] for slug in ("fresh", "old", "late")}
    assert {row["status"] for row in rows.values()} == {"delivered"}
    old = rows[STORIES["old"][0]]
    assert old["text_source"] == "page"
    late = rows[STORIES["late"][0]]
    assert when(old["first_seen"]) < when(late["first_seen"])
    assert when(old["published"]) < when(old["first_seen"]) - timedelta(days=9)
    assert late["published"] == late["first_seen"]
    kept = [tuple(row) for row in db.execute("SELECT title, backlog FROM kept_entries")]
    assert kept == [(STORIES["undated"][0], 1)]
