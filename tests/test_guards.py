"""Behaviour users rely on that small deliberate bugs (a dropped header, a flipped
comparison, a moved constant) once slipped past: each test here fails on such a bug."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import subprocess
import sys
import threading
from datetime import UTC, datetime
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from conftest import REPO, _free_port, run_cli, wait_for, write_config
from sites import LocalSite
from test_clean import ARTICLE as CLEAN_ARTICLE

import digest
from digest.config import parse_config
from digest.errors import ConfigError
from digest.mail._message import build_message
from digest.models import Block, RenderedDigest
from digest.pages._clean import LanguageDetector, SiteMemory, clean_blocks, fingerprint
from digest.store import Store

HOSTILE = REPO / "tests" / "fixtures" / "hostile"
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
RSS = (
    '<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>'
    "<item><title>Harbour ferry timetable changes for winter</title>"
    "<link>{base}/pages/orchard.html</link><guid>g1</guid><pubDate>{date}</pubDate>"
    "<description>The harbour authority published a winter timetable.</description>"
    "</item></channel></rss>"
)


def _config(tmp_path: Path, feeds: list[tuple[str, str]], extra: str = "") -> Path:
    listed = "".join(f"  - name: {name}\n    url: {url}\n" for name, url in feeds)
    path = tmp_path / "digest.yaml"
    path.write_text(
        "title: Guards\nwindow: 72h\nstorage: state.db\nfetch:\n  timeout: 2\n  pages: false\n"
        f"{extra}delivery:\n  method: file\n  outbox: outbox\nfeeds:\n{listed}",
        encoding="utf-8",
    )
    return path


# -- conditional GET: If-Modified-Since -------------------------------------------------


def test_a_feed_with_last_modified_only_is_asked_if_modified_since(tmp_path):
    stamp = formatdate(usegmt=True)
    asked: list[str | None] = []

    def feed(request: BaseHTTPRequestHandler) -> None:
        asked.append(request.headers.get("If-Modified-Since"))
        if request.headers.get("If-Modified-Since") == stamp:
            request.send_response(304)
            request.end_headers()
            return
        body = RSS.format(base=site.base_url, date=stamp).encode()
        request.send_response(200)
        request.send_header("Content-Type", "application/rss+xml")
        request.send_header("Last-Modified", stamp)  # and no ETag
        request.send_header("Content-Length", str(len(body)))
        request.end_headers()
        request.wfile.write(body)

    site = LocalSite(HOSTILE, overrides={"/feed.xml": feed})
    with site:
        config = digest.load_config(_config(tmp_path, [("LM", f"{site.base_url}/feed.xml")]))
        first = digest.run(config)
        second = digest.run(config)
    assert asked == [None, stamp]
    assert first.feeds_fetched == 1 and second.feeds_not_modified == 1


# -- redirects: only an all-permanent chain moves a feed ---------------------------------


@pytest.mark.parametrize(
    ("chain", "moved"),
    [((301, 302), "/b.xml"), ((301, 301), "/c.xml"), ((302, 301), None)],
)
def test_a_feed_moves_only_as_far_as_its_redirects_are_permanent(tmp_path, chain, moved):
    def hop(status: int, target: str):
        def handler(request: BaseHTTPRequestHandler) -> None:
            request.send_response(status)
            request.send_header("Location", target)
            request.send_header("Content-Length", "0")
            request.end_headers()

        return handler

    def final(request: BaseHTTPRequestHandler) -> None:
        body = RSS.format(base=site.base_url, date=formatdate(usegmt=True)).encode()
        request.send_response(200)
        request.send_header("Content-Type", "application/rss+xml")
        request.send_header("Content-Length", str(len(body)))
        request.end_headers()
        request.wfile.write(body)

    site = LocalSite(HOSTILE)
    site.overrides = {"/a.xml": hop(chain[0], "/b.xml"), "/b.xml": hop(chain[1], "/c.xml"),
                      "/c.xml": final}  # fmt: skip
    url = f"{site.base_url}/a.xml"
    with site:
        report = digest.run(digest.load_config(_config(tmp_path, [("Mover", url)])))
    assert report.feeds_fetched == 1
    store = Store.open(tmp_path / "state.db")
    try:
        moved_to = store.feed_state(url).moved_to
    finally:
        store.close()
    assert moved_to == (f"{site.base_url}{moved}" if moved else None)


# -- the outbox row is `sending` before the end of the message goes out ------------------


class SlowToAnswer:
    """Takes a message, then holds its 250 until `release` is set."""

    def __init__(self) -> None:
        self.received = threading.Event()
        self.release = threading.Event()
        self.count = 0

    async def handle_DATA(self, server, session, envelope) -> str:
        self.count += 1
        self.received.set()
        while not self.release.is_set():
            await asyncio.sleep(0.05)
        return "250 queued"


def test_a_run_killed_between_the_end_of_data_and_the_reply_resends_and_says_so(tmp_path):
    handler = SlowToAnswer()
    port = _free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    site = LocalSite(REPO / "config" / "demo" / "sites")
    site.rewrite = {"http://127.0.0.1:8765": site.base_url}
    try:
        with site:
            delivery = (
                f"delivery:\n  method: smtp\n  host: 127.0.0.1\n  port: {port}\n"
                "  security: none\n  from: G <g@example.org>\n  to: reader@example.org\n"
                "  timeout: 30\n"
            )
            config = write_config(
                tmp_path, site.base_url, delivery=delivery,
                feeds=[("Techwire", "techwire/feed.xml", "Technology")],
            )  # fmt: skip
            process = subprocess.Popen(
                [sys.executable, "-m", "digest", "run", "--config", str(config)],
                cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
            try:
                # The server has the whole message and has not answered: kill the run now.
                assert handler.received.wait(60)
            finally:
                process.send_signal(signal.SIGKILL)
                process.wait()
            with sqlite3.connect(tmp_path / "state" / "digest.db") as db:
                (status,) = db.execute("SELECT status FROM queued_messages").fetchone()
            assert status == "sending"  # so the next run knows the server may have it
            handler.release.set()
            rerun = run_cli("run", "--config", str(config))
    finally:
        controller.stop()
    assert rerun.returncode == 0, rerun.stderr
    assert "sent again with the same Message-ID" in rerun.stderr
    assert wait_for(lambda: handler.count == 2)


# -- one-click unsubscribe only over https ----------------------------------------------


@pytest.mark.parametrize(
    ("links", "one_click"),
    [
        (["https://news.example/unsubscribe?u={recipient}"], True),
        (["http://news.example/unsubscribe?u={recipient}"], False),
        (["mailto:leave@news.example"], False),
        (["mailto:leave@news.example", "https://news.example/u"], True),
    ],
)
def test_one_click_unsubscribe_is_offered_for_an_https_link_only(links, one_click):
    rendered = RenderedDigest(subject="S", html="<p>x</p>", text="x")
    message = build_message(rendered, "d@news.example", "r@example.org", "en", NOW, links)
    assert message["List-Unsubscribe"]
    assert (message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click") is one_click


# -- the config refuses what cannot work, and keeps what it accepts ---------------------

BASE = "title: T\ndelivery:\n  method: file\n  outbox: out\n"


@pytest.mark.parametrize(
    "url", ["http:///feed.xml", "https://", "http://:80/feed", "https://news.example:99999/f"]
)
def test_a_feed_url_without_a_host_or_with_a_bad_port_is_refused(tmp_path, url):
    with pytest.raises(ConfigError, match=r"digest\.yaml:\d+: .*url"):
        parse_config(f"{BASE}feeds:\n  - name: F\n    url: {url}\n", tmp_path / "digest.yaml")


@pytest.mark.parametrize(("port", "ok"), [(0, False), (1, True), (65535, True), (65536, False)])
def test_smtp_ports_outside_1_to_65535_are_refused(tmp_path, port, ok):
    text = (
        "title: T\ndelivery:\n  method: smtp\n  host: mail.example\n"
        f"  port: {port}\n  from: a@b.example\n  to: c@d.example\n"
        "feeds:\n  - name: F\n    url: https://news.example/feed\n"
    )
    if ok:
        assert parse_config(text, tmp_path / "digest.yaml").delivery.port == port
    else:
        with pytest.raises(ConfigError, match="port number from 1 to 65535"):
            parse_config(text, tmp_path / "digest.yaml")


# -- a block repeated across the site goes wherever it sits -----------------------------

ARTICLE = [
    *CLEAN_ARTICLE,
    "A public meeting on the timetable is set for the Kirkstall library on 4 December.",
    "The cooperative expects the battery store to hold enough power for an evening peak, "
    "and plans to sell any surplus to the grid under a ten-year contract.",
    "Work on the turbine hall roof will be done in stages so that a bat colony found in the "
    "eaves during a survey last year is not disturbed before it leaves in autumn.",
    "The council's decision can still be called in by the planning committee within 21 days.",
]


def test_a_block_seen_on_other_pages_of_the_site_goes_from_the_middle_too():
    chrome = "Kirkstall Ward Forum meets on the first Thursday of each month at the library."
    # Far from both edges (the first two and last three blocks), where position adds nothing.
    page = tuple(Block(text) for text in [*ARTICLE[:4], chrome, *ARTICLE[4:]])
    detector = LanguageDetector()
    alone = clean_blocks(page, detector, SiteMemory({}))
    assert chrome in [block.text for block in alone.kept]  # on its own, a plain sentence
    known = clean_blocks(page, detector, SiteMemory({fingerprint(chrome): 2}))
    assert [(r.reason, r.text) for r in known.removed] == [("repeated-on-site", chrome)]
    assert [block.text for block in known.kept] == ARTICLE
