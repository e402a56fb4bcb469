"""Configs naming one storage share its article pool: two `digest run` on two configs at the
same instant fetch each feed and each page once between them (counted by the test's HTTP
server), and each digest still sends its own digest of its own feeds. On PostgreSQL and on
a SQLite file alike; and an older SQLite state becomes the unnamed digest of a shared one."""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest
from conftest import DEMO_FEEDS, REPO, run_cli, smtp_delivery, stall, write_config

from digest.cli._schedule import load_digests
from digest.store._migrations import MIGRATIONS
from digest.store._state import Store

READERS = {"news-a": "ana@example.org", "news-b": "bo@example.org"}
FEEDS = {"news-a": DEMO_FEEDS[:4], "news-b": DEMO_FEEDS[1:5]}  # three feeds in common


def _configs(tmp_path: Path, site, smtp_server, storage: str) -> dict[str, Path]:
    configs = {}
    for digest, reader in READERS.items():
        path = write_config(
            tmp_path, site.base_url, delivery=smtp_delivery(smtp_server, to=reader),
            feeds=FEEDS[digest], name=f"{digest}.yaml",
            # Feeds and pages on loopback, without allow_private: a digest whose feed came
            # from the pool still fetches that feed's pages on its own origin.
            extra=f"id: {digest}\n",
        )  # fmt: skip
        path.write_text(path.read_text().replace("storage: state/digest.db", storage))
        configs[digest] = path
    return configs


def _run_together(configs: dict[str, Path]) -> None:
    """Both runs started at the same instant, as the daemon's jobs of one cron minute are."""
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "digest", "run", "--config", str(path)],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for path in configs.values()
    ]
    for process in processes:
        _, err = process.communicate(timeout=180)
        assert process.returncode == 0, err


def _gets(site) -> Counter:
    return Counter(
        path.split("?")[0] for method, path, status in site.requests
        if method == "GET" and status == 200 and not path.endswith("robots.txt")
    )  # fmt: skip


def _stories(message) -> set[str]:
    text = message.get_body(("plain",)).get_content()
    return {line.strip() for line in text.splitlines() if "/articles/" in line}


@pytest.fixture(params=["postgresql", "sqlite"])
def storage(request, tmp_path) -> str:
    if request.param == "sqlite":
        return "storage: shared/digests.db"
    server = request.getfixturevalue("postgres_server")
    return f"storage: {server.database()}"


@pytest.mark.postgres
def test_two_digests_sharing_a_store_fetch_each_feed_and_page_once(
    storage, tmp_path, site, smtp_server
):
    configs = _configs(tmp_path, site, smtp_server, storage)
    _run_together(configs)

    gets = _gets(site)
    feeds = {f"/{path}" for feeds in FEEDS.values() for _, path, _ in feeds}
    assert {path: gets[path] for path in feeds} == dict.fromkeys(feeds, 1)
    pages = {path: count for path, count in gets.items() if "/articles/" in path}
    assert pages and set(pages.values()) == {1}, pages

    by_reader = {
        rcpts[0]: m
        for m, (_, rcpts) in zip(smtp_server.messages, smtp_server.envelopes, strict=True)
    }
    assert sorted(by_reader) == sorted(READERS.values())  # one digest each
    first, second = (_stories(by_reader[reader]) for reader in READERS.values())
    assert first & second  # the feeds they share: the same stories, each digest's own
    assert first != second

    # Within the cycle, a second round reads both digests' feeds from the pool, and says
    # so: it asked no feed, so none was "unchanged" or "fetched".
    for path in configs.values():
        again = run_cli("run", "--config", str(path))
        assert again.returncode == 0 and "nothing new" in again.stdout, again.stderr
        assert "0 feeds unchanged, 4 feeds read from the store's pool" in again.stdout
    assert _gets(site) == gets
    assert len(smtp_server.messages) == 2

    # A third digest of the same feeds, new to the store: its articles are new to it, but
    # this run fetched none of them (it said "this run fetched 12 new articles").
    (tmp_path / "third").mkdir()
    third = write_config(
        tmp_path / "third", site.base_url, delivery=smtp_delivery(smtp_server, to="c@example.org"),
        feeds=FEEDS[next(iter(FEEDS))], extra="id: third\n",
    )  # fmt: skip
    third.write_text(third.read_text().replace("storage: state/digest.db", storage))
    if "shared/" in storage:  # the SQLite store, relative to each config's folder
        third.write_text(third.read_text().replace("shared/", f"{tmp_path}/shared/"))
    fresh = run_cli("run", "--config", str(third))
    assert fresh.returncode == 0, fresh.stderr
    assert "this run fetched" not in fresh.stdout, fresh.stdout
    assert re.search(r"\d+ articles new to this digest, 4 feeds read from the store's pool",
                     fresh.stdout), fresh.stdout  # fmt: skip


@pytest.mark.postgres
def test_a_run_killed_during_its_turn_at_the_pool_does_not_hold_up_the_others(
    storage, tmp_path, site, smtp_server
):
    asked = threading.Event()

    def slow_feed(request) -> None:  # noted when asked, before it hangs
        asked.set()
        stall(20)(request)

    site.overrides = {"/slow/feed.xml": slow_feed}
    configs = _configs(tmp_path, site, smtp_server, storage)
    slow = [("Slow", f"{site.base_url}/slow/feed.xml", "World"), *DEMO_FEEDS[:1]]
    stuck = write_config(
        tmp_path, site.base_url, feeds=slow, name="stuck.yaml",
        extra="  allow_private: true\nid: stuck\n",
    )  # fmt: skip
    stuck.write_text(stuck.read_text().replace("timeout: 2", "timeout: 30")
                     .replace("storage: state/digest.db", storage))  # fmt: skip
    process = subprocess.Popen(
        [sys.executable, "-m", "digest", "run", "--config", str(stuck)],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:  # its turn at the pool taken, waiting for the slow feed
        assert asked.wait(30)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    started = time.monotonic()
    done = run_cli("run", "--config", str(configs["news-a"]))
    assert done.returncode == 0, done.stderr
    assert time.monotonic() - started < 15  # not the 20 s the dead run's fetch would take
    assert len(smtp_server.messages) == 1


_REMEMBER = """
import sys, time
from datetime import UTC, datetime
from digest.store._state import Store
url, name, start_at = sys.argv[1], sys.argv[2], float(sys.argv[3])
store = Store.open(url, name)
# One site's chrome, the same blocks on its pages, seen by both digests' runs at once.
prints = {f"https://news.example/{page}": [f"fp{i:05d}" for i in range(1500)] for page in "ab"}
try:
    while time.time() < start_at:
        time.sleep(0.005)
    with store.errors_named(), store.transaction():
        store.remember_blocks("news.example", prints, datetime.now(UTC))
finally:
    store.close()
"""


@pytest.mark.postgres
def test_two_digests_remembering_one_site_s_blocks_at_once_do_not_deadlock(postgres_server):
    """A run gone on without its turn at the pool cleans pages beside the run that has it.
    Each inserted the site's blocks in its own set order (a hash seed per process), and on
    PostgreSQL two of three such pairs died: 'deadlock detected' (a code review)."""
    url = postgres_server.database()
    Store.open(url, "morning").close()  # the tables, made once
    for trial in range(3):
        start_at = time.time() + 1.5
        runs = [
            subprocess.Popen(
                [sys.executable, "-c", _REMEMBER, url, name, str(start_at)],
                cwd=REPO, stderr=subprocess.PIPE, text=True,
                env={**os.environ, "PYTHONHASHSEED": str(seed)},
            )
            for name, seed in (("morning", 2 * trial + 1), ("evening", 2 * trial + 2))
        ]  # fmt: skip
        errors = [run.communicate(timeout=60)[1] for run in runs]
        assert [run.returncode for run in runs] == [0, 0], errors


def test_configs_sharing_a_storage_need_their_own_id(tmp_path):
    for name, extra in (("a.yaml", "id: a\n"), ("b.yaml", "id: b\n"), ("c.yaml", "id: b\n")):
        write_config(tmp_path, "http://127.0.0.1:9", extra=f"schedule: 0 7 * * *\n{extra}",
                     name=name)  # fmt: skip
    digests, problems = load_digests(tmp_path)
    assert [d.config.path.name for d in digests] == ["a.yaml", "b.yaml"]
    (problem,) = problems
    assert "c.yaml" in str(problem) and "its own `id`" in str(problem)


def test_an_older_sqlite_state_becomes_the_unnamed_digest_of_a_shared_store(tmp_path):
    path = tmp_path / "old.db"
    old = sqlite3.connect(path, isolation_level=None)
    old.execute("CREATE TABLE migrations (name TEXT PRIMARY KEY, applied TEXT NOT NULL)")
    for name, script in MIGRATIONS:
        if name >= "012":
            break
        old.executescript(script)
        old.execute("INSERT INTO migrations VALUES (?, '2026-11-01T00:00:00+00:00')", (name,))
    now = datetime.now(UTC).isoformat(timespec="seconds")
    old.execute("INSERT INTO feeds (url, name, etag) VALUES ('https://a.example/f', 'A', 'e1')")
    old.execute(
        "INSERT INTO articles (url, feed, guid, link, title, text, text_source, published, "
        "first_seen) VALUES ('https://a.example/1', 'A', 'g1', 'https://a.example/1', 'One', "
        "'Text', 'feed-summary', ?, ?)",
        (now, now),
    )
    old.close()
    unnamed, named = Store.open(path), Store.open(path, "news-b")
    try:
        assert unnamed.count("pending") == 1 and unnamed.feed_state("https://a.example/f").etag
        assert named.count("pending") == 0
        assert named.feed_state("https://a.example/f").etag is None
        (row,) = unnamed.db.execute("SELECT sql FROM sqlite_master WHERE name = 'articles'")
        assert "UNIQUE (digest, url)" in row[0]
    finally:
        unnamed.close()
        named.close()


def _narrow_and_wide(tmp_path: Path, feed: str) -> dict[str, Path]:
    """Two digests of one SQLite store on `feed`: "narrow" (a 1 h window, which takes none
    of the 3 h old entries, so it fetches the feed and no page) and "wide" (48 h)."""
    configs = {}
    for name, window in (("narrow", "1h"), ("wide", "48h")):
        configs[name] = tmp_path / f"{name}.yaml"
        configs[name].write_text(
            f"title: {name}\nid: {name}\nwindow: {window}\nstorage: shared.db\n"
            f"delivery:\n  method: file\n  outbox: out-{name}\n"
            f"feeds:\n  - name: Local\n    url: {feed}\n"
        )
    return configs


def _feed(base: str, count: int) -> str:
    """An RSS feed of `count` items of three hours ago, item n linking {base}/p/{n}.html."""
    stamp = format_datetime(datetime.now(UTC).replace(microsecond=0) - timedelta(hours=3))
    items = "".join(
        f"<item><title>Story {n}</title><link>{base}/p/{n}.html</link>"
        f"<guid>{base}/p/{n}.html</guid><pubDate>{stamp}</pubDate>"
        f"<description>Feed text {n}.</description></item>"
        for n in range(count)
    )
    return f"<rss version='2.0'><channel>{items}</channel></rss>"


def test_a_feed_read_from_the_pool_still_gets_its_pages_on_its_own_loopback_origin(tmp_path):
    # No allow_private: the pages are on the feed's own origin, on loopback. The first
    # digest's window takes none of the entries, so it fetches the feed but no page; the
    # second reads the feed from the pool and must still be let fetch the pages.
    from sites import LocalSite

    root = tmp_path / "site"
    (root / "p").mkdir(parents=True)
    with LocalSite(root, port=0) as server:
        base = server.base_url
        for n in range(3):
            (root / "p" / f"{n}.html").write_text(
                f"<html><head><title>Story {n}</title></head><body><article><h1>Story {n}"
                "</h1>"
                + f"<p>Paragraph {n} of the page, long enough to be the text.</p>" * 4
                + "</article></body></html>"
            )
        (root / "feed.xml").write_text(_feed(base, 3))
        configs = _narrow_and_wide(tmp_path, f"{base}/feed.xml")
        assert run_cli("run", "--config", str(configs["narrow"])).returncode == 0
        wide = run_cli("run", "--config", str(configs["wide"]))
        feed_gets = [p for m, p, status in server.requests if p == "/feed.xml"]
        page_gets = sorted(p for m, p, status in server.requests if p.startswith("/p/"))
    assert wide.returncode == 0, wide.stderr
    assert len(feed_gets) == 1  # the second digest read the feed from the pool
    assert page_gets == ["/p/0.html", "/p/1.html", "/p/2.html"], wide.stderr
    assert "refused" not in wide.stderr


# The publisher's DNS, as the digest process sees it: socket.getaddrinfo answers the names
# of DNS_FILE (JSON {name: address}), read at each lookup, and leaves every other name alone.
_DNS_STAND_IN = """
import json, os, socket
_real = socket.getaddrinfo
def _getaddrinfo(host, port, *args, **kwargs):
    with open(os.environ["DIGEST_TEST_DNS_FILE"]) as handle:
        names = json.load(handle)
    return _real(names.get(host, host), port, *args, **kwargs)
socket.getaddrinfo = _getaddrinfo
"""


def test_a_pooled_feed_lends_its_links_only_the_address_its_body_came_from(tmp_path):
    # A publisher's name answers 127.0.0.1 while one digest fetches the feed, then 127.0.0.2
    # (standing for an internal service) when a second digest of the store reads that feed
    # from the pool and fetches its pages: the pages must not reach 127.0.0.2.
    import json

    from sites import LocalSite

    (tmp_path / "dns").mkdir()
    (tmp_path / "dns" / "sitecustomize.py").write_text(_DNS_STAND_IN)
    dns = tmp_path / "dns.json"
    env = {"PYTHONPATH": str(tmp_path / "dns"), "DIGEST_TEST_DNS_FILE": str(dns)}
    public, internal = tmp_path / "public", tmp_path / "internal"
    (public / "p").mkdir(parents=True)
    (internal / "p").mkdir(parents=True)
    with LocalSite(public, port=0) as server:
        port = server.base_url.rsplit(":", 1)[1]
        base = f"http://pub.test:{port}"
        (public / "feed.xml").write_text(_feed(base, 2))
        for n in range(2):
            (internal / "p" / f"{n}.html").write_text(
                "<html><body><article>" + "<p>SECRET internal paragraph.</p>" * 4
                + "</article></body></html>"
            )  # fmt: skip
        with LocalSite(internal, port=int(port), host="127.0.0.2") as inside:
            configs = _narrow_and_wide(tmp_path, f"{base}/feed.xml")
            dns.write_text(json.dumps({"pub.test": "127.0.0.1"}))
            narrow = run_cli("run", "--config", str(configs["narrow"]), env=env)
            assert narrow.returncode == 0, narrow.stderr
            dns.write_text(json.dumps({"pub.test": "127.0.0.2"}))
            wide = run_cli("run", "--config", str(configs["wide"]), env=env)
            reached = list(inside.requests)
    assert wide.returncode == 0, wide.stderr
    assert [p for _, p, _ in server.requests] == ["/feed.xml"]  # read from the pool after
    assert reached == [], wide.stderr
    assert "(127.0.0.2) is a loopback address" in wide.stderr
    sent = "".join(p.read_text() for p in (tmp_path / "out-wide").rglob("*.eml"))
    assert "Feed text 0" in sent and "SECRET" not in sent


def test_a_page_one_digest_may_reach_is_not_handed_to_a_digest_that_may_not(tmp_path):
    """An intranet digest's page, on its feed's own loopback origin, was handed from the
    pool to another digest whose (hostile) feed on another origin listed the same URL: its
    text reached that digest's email and public archive, though its own fetch is refused
    (an attacker's trial). A digest takes a pooled page only where its own fetch would go."""
    from sites import LocalSite

    intranet, hostile = tmp_path / "intranet", tmp_path / "hostile"
    (intranet / "a").mkdir(parents=True)
    hostile.mkdir()
    (intranet / "a" / "secret.html").write_text(
        "<html><head><title>Payroll</title></head><body><article><h1>Payroll</h1>"
        + "<p>CONFIDENTIAL: the admin password is hunter2, rotated each month.</p>" * 4
        + "</article></body></html>"
    )
    stamp = format_datetime(datetime.now(UTC).replace(microsecond=0) - timedelta(hours=3))
    with LocalSite(intranet, port=0) as inside, LocalSite(hostile, port=0) as outside:
        page = f"{inside.base_url}/a/secret.html"
        (intranet / "feed.xml").write_text(_feed(inside.base_url, 0).replace(
            "<channel>", f"<channel><item><title>Payroll</title><link>{page}</link>"
            f"<pubDate>{stamp}</pubDate></item>"))  # fmt: skip
        (hostile / "feed.xml").write_text(
            f"<rss version='2.0'><channel><item><title>Look</title><link>{page}</link>"
            f"<pubDate>{stamp}</pubDate></item></channel></rss>"
        )
        configs = {}
        for name, feed in (("intranet", inside.base_url), ("public", outside.base_url)):
            configs[name] = tmp_path / f"{name}.yaml"
            configs[name].write_text(
                f"title: {name}\nid: {name}\nwindow: 48h\nstorage: shared.db\n"
                f"delivery:\n  method: file\n  outbox: out-{name}\n"
                f"feeds:\n  - name: {name.title()}\n    url: {feed}/feed.xml\n"
            )
        first = run_cli("run", "--config", str(configs["intranet"]))
        assert first.returncode == 0, first.stderr
        second = run_cli("run", "--config", str(configs["public"]))
        reached = [path for _, path, _ in inside.requests if path != "/robots.txt"]
    assert "CONFIDENTIAL" in "".join(
        p.read_text() for p in (tmp_path / "out-intranet").rglob("*.eml")
    )
    sent = "".join(p.read_text() for p in (tmp_path / "out-public").rglob("*.eml"))
    assert "CONFIDENTIAL" not in sent and "hunter2" not in sent
    assert "is a loopback address" in second.stderr, second.stderr
    assert reached == ["/feed.xml", "/a/secret.html"]  # the public digest's fetch refused


def test_a_pooled_feed_kept_from_before_the_upgrade_regains_its_address_on_a_304(tmp_path):
    # A pool row written before the pool kept addresses has none, and a feed that answers
    # 304 keeps its row: its links on a loopback origin were refused for as long as the
    # feed did not change.
    from sites import LocalSite

    root = tmp_path / "site"
    (root / "p").mkdir(parents=True)
    with LocalSite(root, port=0) as server:
        base = server.base_url
        (root / "p" / "0.html").write_text(
            "<html><body><article>" + "<p>A paragraph of the page, long enough.</p>" * 4
            + "</article></body></html>"
        )  # fmt: skip
        (root / "feed.xml").write_text(_feed(base, 1))
        configs = _narrow_and_wide(tmp_path, f"{base}/feed.xml")
        assert run_cli("run", "--config", str(configs["narrow"])).returncode == 0
        with sqlite3.connect(tmp_path / "shared.db") as db:
            db.execute("UPDATE pool_feeds SET addresses = '', fetched = '2000-01-01T00:00:00'")
        assert run_cli("run", "--config", str(configs["narrow"])).returncode == 0
        wide = run_cli("run", "--config", str(configs["wide"]))
        statuses = [(p, status) for m, p, status in server.requests if p == "/feed.xml"]
    assert statuses == [("/feed.xml", 200), ("/feed.xml", 304)]
    assert "refused" not in wide.stderr and "loopback" not in wide.stderr, wide.stderr
    assert ("GET", "/p/0.html", 200) in server.requests
