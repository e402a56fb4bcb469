"""A run against 40+ broken and hostile feeds and pages, served by a misbehaving loopback
server: the digest still goes out, and each failure is one stderr line naming its feed or URL.

Fixture feeds and pages live in tests/fixtures/hostile/ (written for this suite); binary and
huge bodies are generated here, streamed lazily so the suite stays fast. Only 127.0.0.1 and
127.0.0.2 are ever connected to.
"""

from __future__ import annotations

import base64
import contextlib
import gzip
import json
import os
import re
import shutil
import socket
import sqlite3
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from conftest import DEMO_FEEDS, REPO, respond, run_cli, stall, stderr_lines, write_config
from sites import LocalSite, fill_placeholders

import digest
from digest.pages._extract import MAX_MARKUP, MAX_TAGS, extract_page, fit_markup

HOSTILE = REPO / "tests" / "fixtures" / "hostile"
Handler = Callable[[BaseHTTPRequestHandler], None]
MB = 1024 * 1024


@dataclass
class Servers:
    main: LocalSite  # 127.0.0.1: the feeds, and pages on the feeds' own host
    second: LocalSite  # 127.0.0.2: a "private" host that feed links must not reach


@pytest.fixture
def servers() -> Iterator[Servers]:
    main = LocalSite(HOSTILE, port=0)
    second = LocalSite(HOSTILE, port=0, host="127.0.0.2")
    for site in (main, second):
        site.rewrite = {
            "http://hostile.test": main.base_url,
            "http://second.test": second.base_url,
            "SECONDPORT": str(second.port),
        }
    with main, second:
        yield Servers(main, second)


# -- misbehaving routes ------------------------------------------------------------------


def _quiet(write: Callable[[], None]) -> None:
    with contextlib.suppress(OSError):  # the client gave up, as it should
        write()


def fixture_file(site: LocalSite, name: str, content_type: str, **headers: str) -> Handler:
    """A fixture file with its placeholders filled, served with the given headers."""

    def handler(request: BaseHTTPRequestHandler) -> None:
        data = (HOSTILE / name).read_bytes()
        if not name.endswith(".bin"):
            text = fill_placeholders(data.decode("utf-8"), site.now)
            for old, new in site.rewrite.items():
                text = text.replace(old, new)
            data = text.encode("utf-8")
        else:
            stamp = site.now.strftime("%a, %d %b %Y %H:%M:%S +0000").encode()
            data = data.replace(b"PUBDATE", stamp)
            for old, new in site.rewrite.items():
                data = data.replace(old.encode(), new.encode())
        request.send_response(200)
        request.send_header("Content-Type", content_type)
        for key, value in headers.items():
            request.send_header(key.replace("_", "-"), value)
        request.send_header("Content-Length", str(len(data)))
        request.end_headers()
        request.wfile.write(data)

    return handler


def redirect(status: int, location: str) -> Handler:
    def handler(request: BaseHTTPRequestHandler) -> None:
        request.send_response(status)
        request.send_header("Location", location)
        request.send_header("Content-Length", "0")
        request.end_headers()

    return handler


def with_headers(status: int, **headers: str) -> Handler:
    def handler(request: BaseHTTPRequestHandler) -> None:
        request.send_response(status)
        for key, value in headers.items():
            request.send_header(key.replace("_", "-"), value)
        request.send_header("Content-Length", "0")
        request.end_headers()

    return handler


def endless(
    chunk: bytes,
    declared: int | None = None,
    limit: int = 60 * MB,
    content_type: str = "application/rss+xml",
) -> Handler:
    """A body streamed until the client hangs up (or `limit`): generated, never stored."""

    def handler(request: BaseHTTPRequestHandler) -> None:
        request.send_response(200)
        request.send_header("Content-Type", content_type)
        if declared is not None:
            request.send_header("Content-Length", str(declared))
        request.end_headers()

        def write() -> None:
            sent = 0
            while sent < limit:
                request.wfile.write(chunk)
                sent += len(chunk)

        _quiet(write)

    return handler


def encoded(body: bytes, encoding: str, content_type: str = "application/rss+xml") -> Handler:
    def handler(request: BaseHTTPRequestHandler) -> None:
        request.send_response(200)
        request.send_header("Content-Type", content_type)
        request.send_header("Content-Encoding", encoding)
        request.send_header("Content-Length", str(len(body)))
        request.end_headers()
        _quiet(lambda: request.wfile.write(body))

    return handler


def stall_mid_body(seconds: float, content_type: str = "application/rss+xml") -> Handler:
    def handler(request: BaseHTTPRequestHandler) -> None:
        request.send_response(200)
        request.send_header("Content-Type", content_type)
        request.send_header("Content-Length", "100000")
        request.end_headers()
        _quiet(lambda: request.wfile.write(b'<?xml version="1.0"?><rss version="2.0"><channel>'))
        time.sleep(seconds)

    return handler


def drip(interval: float, total: float) -> Handler:
    """One byte every `interval` seconds: never idle long enough for a read timeout."""

    def handler(request: BaseHTTPRequestHandler) -> None:
        request.send_response(200)
        request.send_header("Content-Type", "application/rss+xml")
        request.end_headers()

        def write() -> None:
            deadline = time.monotonic() + total
            while time.monotonic() < deadline:
                request.wfile.write(b" ")
                request.wfile.flush()
                time.sleep(interval)

        _quiet(write)

    return handler


def raw_bytes(data: bytes) -> Handler:
    """Not HTTP at all, or a connection cut before any answer."""

    def handler(request: BaseHTTPRequestHandler) -> None:
        request.close_connection = True
        _quiet(lambda: request.wfile.write(data))

    return handler


def binary_page(request: BaseHTTPRequestHandler) -> None:
    data = bytes(range(256)) * 400
    request.send_response(200)
    request.send_header("Content-Type", "application/octet-stream")
    request.send_header("Content-Length", str(len(data)))
    request.end_headers()
    request.wfile.write(data)


# -- the cases ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    name: str  # the feed's name in the config
    path: str  # its route on the main server
    expect: str  # a regex one stderr line must match after "feed 'NAME' (URL): "; "" = no line
    kind: str = "feed"  # "feed": the feed failed; "warning"; "entry": entries skipped


def feed_cases(site: LocalSite, second: LocalSite) -> tuple[list[Case], dict[str, Handler]]:
    bomb = gzip.compress(b"\0" * 40 * MB, compresslevel=9)  # ~40 KB that inflates to 40 MB
    rss = "application/rss+xml"
    routes: dict[str, Handler] = {
        "/f/malformed.xml": fixture_file(site, "malformed-recoverable.xml", rss),
        "/f/broken.xml": fixture_file(site, "broken.xml", rss),
        "/f/latin1.xml": fixture_file(site, "latin1-undeclared.xml.bin", "text/xml"),
        "/f/wrong-charset.xml": fixture_file(
            site, "latin1-undeclared.xml.bin", "application/rss+xml; charset=utf-8"
        ),
        "/f/html.xml": fixture_file(site, "html-instead.html", "text/html; charset=utf-8"),
        "/f/zero.xml": respond(200, b"", rss),
        "/f/whitespace.xml": respond(200, b"\n\n   \n", rss),
        "/f/empty-channel.xml": fixture_file(site, "empty-channel.xml", rss),
        "/f/duplicates.xml": fixture_file(site, "duplicate-guids.xml", rss),
        "/f/no-dates.xml": fixture_file(site, "no-dates.xml", rss),
        "/f/future.xml": fixture_file(site, "future-dates.xml", "application/atom+xml"),
        "/f/long-title.xml": fixture_file(site, "long-title.xml", rss),
        "/f/laughs.xml": fixture_file(site, "entity-expansion.xml", rss),
        "/f/xxe.xml": fixture_file(site, "external-entity.xml", rss),
        "/f/bad-links.xml": fixture_file(site, "bad-links.xml", rss),
        "/f/malformed.json": fixture_file(site, "malformed.json", "application/feed+json"),
        "/f/not-feed.json": fixture_file(site, "not-a-jsonfeed.json", "application/json"),
        "/f/deep.json": respond(200, b"[" * 100_000 + b"]" * 100_000, "application/json"),
        "/f/binary.xml": binary_page,
        "/f/404.xml": respond(404, b"nope", "text/plain"),
        "/f/410.xml": respond(410, b"gone", "text/plain"),
        "/f/429.xml": with_headers(429, Retry_After="3600"),
        "/f/500.xml": respond(500, b"oops", "text/plain"),
        "/f/503.xml": with_headers(503, Retry_After="Wed, 21 Oct 2099 07:28:00 GMT"),
        "/f/loop-a.xml": redirect(302, "/f/loop-b.xml"),
        "/f/loop-b.xml": redirect(302, "/f/loop-a.xml"),
        "/f/moved.xml": redirect(301, "/f/new-home.xml"),
        "/f/new-home.xml": fixture_file(site, "no-dates.xml", rss),
        "/f/to-file.xml": redirect(302, "file:///etc/passwd"),
        "/f/to-second.xml": redirect(302, f"{second.base_url}/f/anything.xml"),
        "/f/no-location.xml": with_headers(302),
        "/f/stall-headers.xml": stall(3),
        "/f/stall-body.xml": stall_mid_body(3),
        "/f/drip.xml": drip(0.2, 5),
        "/f/50mb-declared.xml": endless(b"<item>" * 10_000, declared=50 * MB),
        "/f/50mb-chunked.xml": endless(b"<item>" * 10_000),
        "/f/gzip-bomb.xml": encoded(bomb, "gzip"),
        "/f/bad-gzip.xml": encoded(b"this is not gzip at all", "gzip"),
        "/f/brotli.xml": encoded(b"\x0b\x02\x80hello\x03", "br"),
        "/f/not-http.xml": raw_bytes(b"SSH-2.0-OpenSSH_9.6\r\n"),
        "/f/hang-up.xml": raw_bytes(b""),
        "/f/bad-pages.xml": fixture_file(site, "bad-pages.xml", rss),
        # Article pages of the "Page Trouble" feed.
        "/bad/binary": binary_page,
        "/bad/empty": respond(200, b"", "text/html"),
        "/bad/huge.html": endless(b"<div><p>markup " * 4000, 10 * MB, 10 * MB, "text/html"),
        "/bad/stall": stall_mid_body(3, "text/html"),
        "/bad/to-second": redirect(302, f"{second.base_url}/pages/private-note.html"),
    }
    cases = [
        Case("Sloppy Herald", "/f/malformed.xml", r"malformed feed \(.*\); \d+ entries recovered",
             "warning"),
        Case("Shattered", "/f/broken.xml", r"(not a feed|malformed feed, no entries readable)"),
        Case("Cafe Latin", "/f/latin1.xml", ""),
        Case("Cafe Mislabelled", "/f/wrong-charset.xml", ""),
        Case("Not A Feed", "/f/html.xml", r"got an HTML page, not a feed"),
        Case("Zero Bytes", "/f/zero.xml", r"the feed is empty"),
        Case("Only Spaces", "/f/whitespace.xml", r"the feed is empty"),
        Case("Quiet Gazette", "/f/empty-channel.xml", ""),
        Case("Echo Times", "/f/duplicates.xml", r"entry skipped: duplicate entry id '\S*same-id'",
             "entry"),
        Case("Timeless Courier", "/f/no-dates.xml", ""),
        Case("Tomorrow Today", "/f/future.xml", ""),
        Case("Verbose Voice", "/f/long-title.xml", ""),
        Case("Laughing Post", "/f/laughs.xml", r"malformed feed \(.*undefined entity", "warning"),
        Case("Prying Press", "/f/xxe.xml", r"malformed feed \(.*\); 1 entry recovered",
             "warning"),
        Case("Crooked Links", "/f/bad-links.xml", r"entry skipped: entry '(Script|Data|Mail) "
             r"link' has no http\(s\) link", "entry"),
        Case("Half JSON", "/f/malformed.json", r"malformed JSON at line \d+"),
        Case("API Answer", "/f/not-feed.json", r"not a JSON Feed"),
        Case("Deep JSON", "/f/deep.json", r"(JSON too deep|not a JSON Feed|not a feed)"),
        Case("Binary Noise", "/f/binary.xml", r"not a feed"),
        Case("Missing", "/f/404.xml", r"HTTP 404 Not Found"),
        Case("Gone For Good", "/f/410.xml", r"HTTP 410 Gone; feed deactivated"),
        Case("Too Eager", "/f/429.xml", r"HTTP 429 Too Many Requests \(Retry-After: 3600s\); "
             r"next attempt after"),
        Case("Server Error", "/f/500.xml", r"HTTP 500 Internal Server Error"),
        Case("Maintenance", "/f/503.xml", r"HTTP 503 Service Unavailable \(Retry-After: "
             r"604800s\); next attempt after"),
        Case("Redirect Loop", "/f/loop-a.xml", r"more than 5 redirects"),
        Case("Moved House", "/f/moved.xml", r"moved permanently to .*/f/new-home.xml; fetched "
             r"there from now on", "warning"),
        Case("File Redirect", "/f/to-file.xml", r"redirected to a non-http\(s\) URL"),
        Case("Private Redirect", "/f/to-second.xml", r"not fetched: 127\.0\.0\.2 is a loopback "
             r"address; feed links to private networks are refused"),
        Case("Lost Location", "/f/no-location.xml", r"HTTP 302 Found without a Location"),
        Case("Silent Server", "/f/stall-headers.xml", r"timed out after 1s"),
        Case("Stalls Mid-Body", "/f/stall-body.xml", r"timed out after 1s"),
        Case("Dripping Tap", "/f/drip.xml", r"body still arriving after 3s"),
        Case("Fifty Megs", "/f/50mb-declared.xml", r"body of 52,428,800 bytes exceeds the "
             r"2,097,152 limit"),
        Case("Fifty Megs Chunked", "/f/50mb-chunked.xml", r"body exceeds the 2,097,152 byte "
             r"limit"),
        Case("Gzip Bomb", "/f/gzip-bomb.xml", r"decompressed body exceeds the 2,097,152 byte "
             r"limit"),
        Case("Bad Gzip", "/f/bad-gzip.xml", r"bad content encoding"),
        Case("Brotli", "/f/brotli.xml", r"unsupported content encoding 'br'"),
        Case("Not HTTP", "/f/not-http.xml", r"server broke the connection"),
        Case("Hangs Up", "/f/hang-up.xml", r"server broke the connection"),
        Case("Page Trouble", "/f/bad-pages.xml", ""),
    ]  # fmt: skip
    return cases, routes


def test_forty_hostile_feeds_one_line_each_and_the_digest_goes_out(tmp_path: Path, servers):
    site, second = servers.main, servers.second
    cases, routes = feed_cases(site, second)
    site.overrides = routes
    second.overrides = routes
    tls = Case("TLS Mismatch", "", r"TLS error: .*(WRONG_VERSION_NUMBER|wrong version|record)")
    refused = Case("Nobody Home", "", r"cannot connect")
    urls = {c.name: f"{site.base_url}{c.path}" for c in cases}
    urls[tls.name] = f"https://127.0.0.1:{site.port}/f/no-dates.xml"  # plain HTTP answers
    urls[refused.name] = f"http://127.0.0.1:{_closed_port()}/feed.xml"
    cases += [tls, refused]
    feeds = "".join(f"  - name: {c.name}\n    url: {urls[c.name]}\n" for c in cases)
    config = tmp_path / "hostile.yaml"
    config.write_text(
        "title: Hostile Brief\nwindow: 72h\nmax_items: 50\nstorage: state.db\n"
        "fetch:\n  timeout: 1\n  max_bytes: 2MB\n  concurrency: 24\n  per_host: 24\n"
        "delivery:\n  method: file\n  outbox: outbox\n"
        f"feeds:\n{feeds}",
        encoding="utf-8",
    )
    started = time.monotonic()
    result = run_cli("run", "--config", str(config), timeout=60)
    elapsed = time.monotonic() - started
    print(result.stderr)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    lines = stderr_lines(result.stderr)  # each line's UTC time taken off
    assert all(line.startswith("digest: ") for line in lines), result.stderr

    failed = [c for c in cases if c.expect and c.kind == "feed"]
    assert len(cases) >= 40 and len(failed) >= 25
    for case in cases:
        prefix = f"feed {case.name!r} ({urls[case.name]}): "
        mine = [line for line in lines if prefix in line]
        if not case.expect:
            assert mine == [], (case.name, mine)
            continue
        matching = [
            line for line in mine if re.search(re.escape(prefix) + ".*?" + case.expect, line)
        ]
        if case.kind == "feed":  # the feed gave nothing: exactly one line says why
            assert len(matching) == 1 and len(mine) == 1, (case.name, mine)
        elif case.kind == "warning":  # recovered: one line, beside any skipped entries
            assert len(matching) == 1, (case.name, mine)
        else:
            assert matching, (case.name, mine)

    # The article pages of "Page Trouble": each failure one line naming the page's URL.
    pages = {
        "/bad/binary": r"the page is binary, not HTML",
        "/bad/empty": r"the page is empty",
        "/bad/huge.html": r"body of 10,485,760 bytes exceeds the 2,097,152 limit",
        "/bad/missing.html": r"HTTP 404 Not Found",
        "/bad/stall": r"timed out after 1s",
        "/private/members-only.html": r"disallowed by robots.txt",
    }
    for path, reason in pages.items():
        prefix = f"page {site.base_url}{path} (feed 'Page Trouble'): "
        assert any(re.search(re.escape(prefix) + ".*?" + reason, line) for line in lines), (
            path,
            lines,
        )
    loopback = r"not fetched: .*127\.0\.0\.2.* is a loopback address"
    for link in (
        f"{second.base_url}/pages/private-note.html",
        f"{site.base_url}/bad/to-second",
        f"http://2130706434:{second.port}/pages/private-note.html",
        f"http://[::ffff:127.0.0.2]:{second.port}/pages/private-note.html",
    ):
        prefix = f"page {link} (feed 'Page Trouble'): "
        assert any(re.search(re.escape(prefix) + loopback, line) for line in lines), link

    # Nothing reached the second loopback host: refused before any connection.
    assert second.requests == []
    text = next((tmp_path / "outbox").glob("*.txt")).read_text(encoding="utf-8")
    for headline in (
        "Harbour ferry",  # recovered from malformed XML
        "Café owners in Besançon",  # Latin-1 without a declaration, and mislabelled UTF-8
        "Council approves budget for new library wing",  # the first of the duplicates
        "Lighthouse keeper retires",  # no date
        "Observatory spots comet",  # a date in 2099, dated now
        "Endless headline0",  # absurd title, cut
        "Ordinary headline about the county fair",  # XXE not expanded
        "Port dredging starts",  # binary page: the feed's own text
        "Orchard opens its gates",
    ):
        assert headline in text, headline
    assert "Internal note that must never be fetched" not in text
    assert "Members-only briefing" not in text
    assert "root:" not in text and "headline19999" not in text
    assert max(len(line) for line in text.splitlines()) < 400
    assert elapsed < 30, elapsed


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_page_of_10_mb_markup_is_cut_to_what_extraction_can_take():
    story = b"The harbour authority published a winter timetable with two more crossings. "
    page = (
        b"<html><head><script>var blob = '" + b"j" * 4 * MB + b"';</script><style>"
        + b"s" * MB + b"</style></head><body><article><h1>Harbour</h1><p>" + story * 20
        + b"</p></article>" + b"<div><p>filler paragraph of the page</p></div>\n" * 150_000
        + b"</body></html>"
    )  # fmt: skip
    assert len(page) > 10 * MB
    extracted = extract_page(page, "http://127.0.0.1/harbour.html")
    assert any(block.text.startswith("The harbour authority") for block in extracted.blocks)
    for hostile in (b"<script" * 1_000_000, b"<style><script></style>" * 300_000):
        assert len(fit_markup(hostile)) <= MAX_MARKUP


def test_a_page_of_a_hundred_thousand_tiny_paragraphs_is_cut_before_extraction():
    """Under 1 MB, 131,000 "<p>a</p>" cost trafilatura 50 s of CPU (its time grows with the
    square of the paragraphs): a 2 KB gzip body could hold a run's pages for minutes."""
    story = b"<p>The ferry line adds two winter crossings between Kelvik and Tarrow.</p>"
    page = b"<html><body><article><h1>Ferries</h1>" + story + b"<p>a</p>" * 131_000
    page += b"</article></body></html>"
    assert len(page) < MAX_MARKUP
    fitted = fit_markup(page)
    assert fitted.count(b"<") <= MAX_TAGS and fitted.startswith(page[:1000])
    extracted = extract_page(page, "http://127.0.0.1/ferries.html")
    assert any("two winter crossings" in block.text for block in extracted.blocks)


def test_the_cut_keeps_a_pages_json_ld_and_cuts_no_tag_for_a_scripts_angle_brackets():
    """An app script holding 40,004 "<" made the cut strip every script, JSON-LD too: the
    page lost its date and author, though it held 44 tags. (A code review's page.)"""
    ld = (
        b'<script type="application/ld+json">{"@context":"https://schema.org","@type":'
        b'"NewsArticle","datePublished":"2026-11-30T08:15:00Z","author":{"@type":"Person",'
        b'"name":"Maria Okafor"}}</script>'
    )
    body = b"".join(
        b"<p>The ferry line adds two winter crossings between Kelvik and Tarrow, paragraph %d, "
        b"officials said on Monday.</p>" % n
        for n in range(12)
    )
    app = b"<script>var rows=[" + b",".join(b'"<tr><td>%d</td></tr>"' % n for n in range(10_001))
    page = (
        b"<html><head><title>Ferries</title>" + ld + b"</head><body><article><h1>Ferries</h1>"
        + body + b"</article>" + app + b"];</script></body></html>"
    )  # fmt: skip
    assert page.count(b"<") > MAX_TAGS
    fitted = fit_markup(page)
    assert ld in fitted and body in fitted and b"var rows" not in fitted
    extracted = extract_page(page, "https://news.example/ferries")
    assert extracted.author == "Maria Okafor" and extracted.published is not None
    # Past 1 MB too, the JSON-LD stays while the rest is cut.
    big = page.replace(b"</article>", b"</article>" + b"<div>x</div>" * 100_000)
    assert len(big) > MAX_MARKUP and ld in fit_markup(big)
    # But metadata never crowds out the text: a 1.1 MB description, or an articleBody of
    # 40,002 "<", ahead of the article (a review's pages, "no main text" when kept whole).
    for filler in (b"d" * 1_100_000, b"<p>x</p>" * 20_001):
        crowding = b'<script type="application/ld+json">{"description":"' + filler + b'"}</script>'
        heavy = page.replace(ld, crowding)
        assert any(
            "paragraph 11" in b.text for b in extract_page(heavy, "https://n.example/f").blocks
        )


def test_a_tls_server_with_a_self_signed_certificate_is_one_line(tmp_path, site, load):

    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is not installed (needed to make a certificate)")
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    tls = LocalSite(HOSTILE, port=0)
    tls._server.socket = context.wrap_socket(tls._server.socket, server_side=True)
    url = f"https://127.0.0.1:{tls.port}/no-dates.xml"
    with tls:
        feeds = [DEMO_FEEDS[0], ("Self Signed", url, "World")]
        config = load(write_config(tmp_path, site.base_url, feeds=feeds))
        report = digest.run(config)
    (problem,) = [s for s in report.skipped if s.feed == "Self Signed"]
    assert problem.target == url
    assert problem.reason.startswith("TLS error: [SSL: CERTIFICATE_VERIFY_FAILED]")
    assert report.digest is not None and report.digest.items


# -- per-entry recovery --


def _run_hostile(tmp_path: Path, feeds: dict[str, str], extra: str = "") -> tuple[str, str]:
    """One run of the real CLI over `feeds` (name: URL on loopback): its stderr, and the
    text of every file it wrote to the outbox (and the archive, when `extra` configures it)."""
    listed = "".join(f"  - name: {name}\n    url: {url}\n" for name, url in feeds.items())
    config = tmp_path / "hostile.yaml"
    config.write_text(
        "title: Hostile Brief\nwindow: 72h\nmax_items: 50\nstorage: state.db\n"
        "fetch:\n  timeout: 5\n"
        "delivery:\n  method: file\n  outbox: outbox\n" + extra + f"feeds:\n{listed}",
        encoding="utf-8",
    )
    result = run_cli("run", "--config", str(config), timeout=90)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    written = sorted(
        p for folder in ("outbox", "archive") if (tmp_path / folder).is_dir()
        for p in (tmp_path / folder).iterdir()
    )  # fmt: skip
    assert any(p.suffix == ".txt" for p in written), written
    # Strict UTF-8: a lone surrogate that got this far would have failed the write or the read.
    texts = [p.read_text(encoding="utf-8") for p in written]
    for eml in (p for p in written if p.suffix == ".eml"):  # its parts may be encoded
        message = message_from_bytes(eml.read_bytes(), policy=policy.default)
        texts += [
            part.get_content() for part in message.walk() if part.get_content_maintype() == "text"
        ]
    return result.stderr, "\n".join(texts)


def test_a_lone_surrogate_in_one_rss_title_loses_no_other_entry(tmp_path: Path, servers):
    site = servers.main
    url = f"{site.base_url}/surrogate-entry.xml"
    stderr, written = _run_hostile(tmp_path, {"Surrogate Sentinel": url})
    for headline in ("Harbour ferry", "Village bakery", "Orchard opens its gates"):
        assert headline in written, headline
    assert "\ufffd" not in written and "&#xD800;" not in written
    mine = [line for line in stderr.splitlines() if "Surrogate Sentinel" in line]
    assert len(mine) == 1, stderr
    assert "entry 'Orchard opens its gates for the apple harvest'" in mine[0], mine
    assert "&#xD800;" in mine[0], mine


def test_a_5000_digit_number_in_one_json_item_loses_no_other_item(tmp_path: Path, servers):
    site = servers.main
    digits = "9" * 5000  # more digits than int() reads by default (4,300): ValueError
    dated = (site.now - timedelta(hours=1)).isoformat()
    items = [
        f'{{"id": "bomb-1", "url": "{site.base_url}/pages/lighthouse.html", '
        f'"title": "Lighthouse keeper retires", "date_published": "{dated}"}}',
        f'{{"id": "bomb-2", "url": "{site.base_url}/pages/library.html", "_views": {digits}, '
        f'"title": "Council approves budget for new library wing", "date_published": "{dated}"}}',
        # Lone surrogates as JSON escapes: json.loads gives them back as they are.
        f'{{"id": "bomb-3\\ud800", "url": "{site.base_url}/pages/fair.html", '
        f'"title": "County fair \\udc00returns", "authors": [{{"name": "Ann \\ud800"}}], '
        f'"date_published": "{dated}"}}',
    ]
    body = (
        '{"version": "https://jsonfeed.org/version/1.1", "title": "Digit Bomb", "items": ['
        + ", ".join(items)
        + "]}"
    ).encode()
    site.overrides = {"/f/digits.json": respond(200, body, "application/feed+json")}
    stderr, written = _run_hostile(tmp_path, {"Digit Bomb": f"{site.base_url}/f/digits.json"})
    for headline in ("Lighthouse keeper", "library wing", "County fair returns"):
        assert headline in written, (headline, stderr)
    assert not [line for line in stderr.splitlines() if "Digit Bomb" in line], stderr


# -- non-string JSON Feed fields --


def test_json_objects_in_text_fields_never_show_as_python_text(tmp_path: Path, servers):
    site = servers.main
    dated = (site.now - timedelta(hours=1)).isoformat()
    feed = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": {"name": "Object Feed"},
        "items": [
            {
                "id": {"key": 1},
                "url": f"{site.base_url}/pages/ferry.html",
                "title": {"a": 1},
                "summary": ["not", "text"],
                "content_html": {"html": "<p>nested</p>"},
                "content_text": "Harbour ferry timetable adds two crossings.",
                "authors": [{"name": {"first": "Ann"}}],
                "date_published": {"when": dated},
                "date_modified": dated,
            },
            {
                "id": 42,
                "url": {"href": "http://elsewhere.invalid/"},
                "external_url": f"{site.base_url}/pages/bakery.html",
                "title": ["Village", "bakery"],
                "summary": "Village bakery wins regional bread prize.",
                "author": ["Bob"],
                "date_published": dated,
            },
        ],
    }
    site.overrides = {
        "/f/objects.json": respond(200, json.dumps(feed).encode(), "application/feed+json")
    }
    stderr, written = _run_hostile(tmp_path, {"Object Feed": f"{site.base_url}/f/objects.json"})
    assert "Harbour ferry" in written and "Village bakery" in written, stderr
    # Python's text for a dict or a list, as is or HTML-escaped.
    for python_text in ("{'", "['", "{&#x27;", "[&#x27;", "{&#39;", "[&#39;"):
        assert python_text not in written, python_text


# -- credentials in links --


def test_credentials_in_feed_links_reach_no_email_and_no_archive(tmp_path: Path, servers):
    site = servers.main
    # The fixtures' links carry user:pass@ before the test host; point them at this server.
    site.rewrite["user:pass@hostile.test"] = f"user:pass@127.0.0.1:{site.port}"
    feeds = {
        "Leaky Links": f"{site.base_url}/credentials.xml",
        "Leaky JSON": f"{site.base_url}/credentials.json",
    }
    archive = "archive:\n  dir: archive\n  url: https://news.example.org/brief\n"
    stderr, written = _run_hostile(tmp_path, feeds, extra=archive)
    assert (tmp_path / "archive" / "feed.atom").is_file(), stderr
    for headline in ("bright comet", "County fair", "Lighthouse keeper", "library wing"):
        assert headline in written, (headline, stderr)
    assert "user:pass" not in written and "pass@" not in written
    # The rest of the link is kept as the feed gave it: the query, the #! route.
    assert f"{site.base_url}/pages/comet.html?id=7#!/comet" in written


# -- Email header injection --

# What a hostile title's encoded words decode to: a Subject that ends early, then headers of
# the attacker's (a reply address, a content type) and the start of a body of theirs.
_INJECTION = "Hi\r\nReply-To: boss@evil.test\r\nContent-Type: text/html\r\n\r\n<b>pwned</b>"
_SHORT_INJECTION = "Hi\r\nReply-To: boss@evil.test"
_DIGEST_HEADERS = sorted(
    "Subject From To Date Message-ID MIME-Version Auto-Submitted List-Id Content-Type "
    "Content-Language".split()
)
_NOT_IN_A_HEADER = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _encoded_word(encoding: str, text: str) -> str:
    """`text` as one RFC 2047 encoded word, B (base64) or Q (quoted-printable-like)."""
    data = text.encode()
    if encoding == "b":
        return f"=?utf-8?b?{base64.b64encode(data).decode()}?="
    quoted = "".join(chr(byte) if chr(byte).isalnum() else f"={byte:02X}" for byte in data)
    return f"=?utf-8?q?{quoted}?="


# (case, where the hostile text is: the entry's title in an RSS or JSON feed, or the <title>
# of the entry's page; the text as the feed holds it, XML-escaped where it sits in XML; what
# the reader must see of it in the Subject). An encoded word must reach the reader as the
# characters the feed wrote, never decoded.
_HOSTILE_TITLES = [
    ("rss-b", "rss", _encoded_word("b", _INJECTION), _encoded_word("b", _INJECTION)),
    (
        "rss-q",
        "rss",
        "Markets " + _encoded_word("q", _SHORT_INJECTION),
        "Markets " + _encoded_word("q", _SHORT_INJECTION),
    ),
    (  # decoders join adjacent encoded words: the break sits between two of them
        "rss-split",
        "rss",
        _encoded_word("q", "Hi\r\n") + " " + _encoded_word("b", "Reply-To: boss@evil.test"),
        _encoded_word("q", "Hi\r\n") + " " + _encoded_word("b", "Reply-To: boss@evil.test"),
    ),
    (  # (feedparser reads a NEL as the "…" it is in windows-1252: the JSON case has one)
        "rss-breaks-bidi",
        "rss",
        "Invoice \u202egpj.exe\u202c paid&#13;&#10;Reply-To: boss@evil.test&#x2028;Bcc: spy",
        "Invoice gpj.exe paid Reply-To: boss@evil.test Bcc: spy",
    ),
    (
        "json-breaks-bidi",
        "json",
        "Hi\r\nReply-To: boss@evil.test\u2029Bcc: \u2067spy\u2069\u2028Cc:\x85\u202bx\u202c",
        "Hi Reply-To: boss@evil.test Bcc: spy Cc:",
    ),
    ("page-title", "page", _encoded_word("b", _INJECTION), _encoded_word("b", _INJECTION)),
]


def _hostile_title_feed(kind: str, title: str, base_url: str) -> tuple[str, bytes, str]:
    """(path, body, content type) of a feed of one entry carrying `title` as `kind` says:
    in a JSON Feed, or in RSS (as the entry's title, or for "page" as the page's only)."""
    page, dated = f"{base_url}/p/story.html", "{{now-1h:rfc822}}"
    if kind == "json":
        item = {"id": "h1", "url": page, "title": title, "date_published": "{{now-1h:iso}}"}
        feed = {"version": "https://jsonfeed.org/version/1.1", "title": "Hostile"}
        body = json.dumps({**feed, "items": [{**item, "content_text": "Harbour ferry."}]})
        return "/f/hostile.json", body.encode(), "application/feed+json"
    # The page case: an entry with neither title nor text takes its page's <title>.
    entry = "" if kind == "page" else f"<title>{title}</title><description>Ferry.</description>"
    body = (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Hostile'
        f"</title><link>{base_url}/</link><item>{entry}<link>{page}</link><guid>{page}</guid>"
        f"<pubDate>{dated}</pubDate></item></channel></rss>"
    )
    return "/f/hostile.xml", body.encode(), "application/rss+xml"


def _received_raw(mailbox) -> list[bytes]:
    """The messages `mailbox` takes from now on, as the bytes that came over SMTP."""
    raw: list[bytes] = []
    parse = mailbox.handle_DATA

    async def handle_DATA(server, session, envelope):
        raw.append(envelope.original_content)
        return await parse(server, session, envelope)

    mailbox.handle_DATA = handle_DATA  # read by each new SMTP session
    return raw


@pytest.mark.parametrize(
    ("kind", "title", "seen"),
    [case[1:] for case in _HOSTILE_TITLES],
    ids=[case[0] for case in _HOSTILE_TITLES],
)
def test_a_hostile_title_writes_no_header_of_its_own(
    tmp_path: Path, servers, smtp_server, kind, title, seen
):
    site = servers.main
    path, body, content_type = _hostile_title_feed(kind, title, site.base_url)
    page_title = title if kind == "page" else "Harbour ferry gets new winter routes"
    story = (
        f'<html lang="en"><head><meta charset="utf-8"><title>{page_title}</title></head><body>'
        "<article><p>The harbour authority has published a winter timetable that adds two "
        "crossings to the northern islands. Ferries will leave every ninety minutes from the "
        "main quay between November and March, with one more boat at ten past seven.</p>"
        "</article></body></html>"
    )
    site.overrides = {
        path: respond(200, fill_placeholders(body.decode(), site.now).encode(), content_type),
        "/p/story.html": respond(200, story.encode(), "text/html; charset=utf-8"),
    }
    raw = _received_raw(smtp_server)
    config = tmp_path / "headers.yaml"
    config.write_text(
        "title: Header Brief\nwindow: 72h\nstorage: state.db\nfetch:\n  timeout: 5\n"
        f"delivery:\n  method: smtp\n  host: {smtp_server.host}\n  port: {smtp_server.port}\n"
        "  security: none\n  from: Header Brief <digest@example.org>\n"
        "  to: reader@example.org\n"
        f"feeds:\n  - name: Hostile Titles\n    url: {site.base_url}{path}\n",
        encoding="utf-8",
    )
    result = run_cli("run", "--config", str(config), timeout=90)
    assert result.returncode == 0, result.stderr
    (data,) = raw

    # On the wire: the header block ends at the first empty line and holds our headers only,
    # each once, every line break in it a CRLF that folds (is followed by white space).
    head = data.split(b"\r\n\r\n", 1)[0]
    assert b"\r" not in head.replace(b"\r\n", b"") and b"\n" not in head.replace(b"\r\n", b"")
    names = [line.split(b":", 1)[0].decode() for line in head.split(b"\r\n")]
    names = [name for name in names if not name[:1].isspace()]
    assert sorted(names) == _DIGEST_HEADERS, head.decode("utf-8", "replace")
    assert b"Content-Type: multipart/alternative;" in head

    # What the reader's client shows: the title's text, on one line, as the feed had it.
    message = message_from_bytes(data, policy=policy.default)
    kinds = [part.get_content_type() for part in message.walk()]
    assert kinds == ["multipart/alternative", "text/plain", "text/html"]
    subject = str(message["Subject"])
    assert seen in subject, (subject, result.stderr)
    assert not _NOT_IN_A_HEADER.search(subject), subject
    assert message["Reply-To"] is None


# -- run lock across PID namespaces --


def _held_feed(release: threading.Event) -> Handler:
    """A feed route that answers nothing until `release` is set (or 30 s have passed)."""

    def handler(request: BaseHTTPRequestHandler) -> None:
        release.wait(30)
        with contextlib.suppress(OSError):
            request.send_response(200)
            request.end_headers()

    return handler


def _slow_run_config(tmp_path: Path, site: LocalSite, release: threading.Event) -> Path:
    """A digest whose run is held up by a stalled feed until `release` is set."""
    site.overrides = {"/slow/feed.xml": _held_feed(release)}
    feeds = [*DEMO_FEEDS[:1], ("Slow", f"{site.base_url}/slow/feed.xml", "World")]
    config = write_config(tmp_path, site.base_url, feeds=feeds)
    config.write_text(config.read_text().replace("timeout: 2", "timeout: 40"))
    return config


def _open_run(state: Path) -> tuple[int, str] | None:
    """(pid, token) of the run row without `finished`, once there is one."""
    try:
        with sqlite3.connect(state) as db:
            row = db.execute("SELECT pid, token FROM runs WHERE finished IS NULL").fetchone()
    except sqlite3.Error:
        return None
    return tuple(row) if row else None


def _hold_a_run(
    tmp_path: Path, site: LocalSite, release: threading.Event, prefix: tuple[str, ...] = ()
) -> tuple[subprocess.Popen, Path, Path]:
    """A real `digest run` (under `prefix`, e.g. unshare) that has taken its run lock and
    waits for a feed until `release` is set."""
    from conftest import wait_for

    config = _slow_run_config(tmp_path, site, release)
    state = tmp_path / "state" / "digest.db"
    first = subprocess.Popen(
        [*prefix, sys.executable, "-m", "digest", "run", "--config", str(config)],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert wait_for(lambda: _open_run(state) is not None, timeout=30)
    return first, config, state


def _rewrite_open_run(state: Path, pid: int, token: str | None = None) -> None:
    """Make the open run's pid record read as another PID namespace's would: a pid that
    names no process here (or this very process), and no token this process holds."""
    with sqlite3.connect(state) as db:
        db.execute("UPDATE runs SET pid = ?, token = ? WHERE finished IS NULL", (pid, token))


def _pid_of_no_process() -> int:
    """A pid no process has here, as a run's pid in another container looks from here."""
    pid = int(Path("/proc/sys/kernel/pid_max").read_text()) - 1
    while Path(f"/proc/{pid}").exists() or pid == os.getpid():
        pid -= 1
    return pid


def test_a_run_whose_pid_row_names_no_process_here_still_keeps_a_second_out(tmp_path, site):
    release = threading.Event()
    first, config, state = _hold_a_run(tmp_path, site, release)
    try:
        foreign = _pid_of_no_process()
        _rewrite_open_run(state, foreign)
        second = run_cli("run", "--config", str(config), timeout=60)
        # What `digest status` can tell: the pid says dead, the lock file says running.
        from datetime import UTC, datetime

        from digest.store import holder_alive

        with contextlib.closing(sqlite3.connect(state)) as db:
            db.row_factory = sqlite3.Row
            row = db.execute("SELECT * FROM runs WHERE finished IS NULL").fetchone()
        assert not holder_alive(row, datetime.now(UTC))
        assert holder_alive(row, datetime.now(UTC), state)
    finally:
        release.set()
        _, err = first.communicate(timeout=60)
    assert first.returncode == 0, err
    assert second.returncode == 1, second.stdout + second.stderr
    message = second.stderr.strip()
    assert "\n" not in message, message
    assert f"another run of this digest (pid {foreign} in another PID namespace" in message
    assert "holds digest.db.lock" in message
    with sqlite3.connect(state) as db:  # the second left no trace, the first ended well
        runs = [tuple(row) for row in db.execute("SELECT pid, outcome FROM runs")]
    assert runs == [(foreign, "ok")]


def test_a_run_row_showing_this_process_s_own_pid_still_keeps_it_out(tmp_path, site):
    release = threading.Event()
    first, config, state = _hold_a_run(tmp_path, site, release)
    try:
        _rewrite_open_run(state, os.getpid())  # two containers: both runs are pid 1
        with pytest.raises(digest.RunLocked, match=r"holds digest\.db\.lock"):
            digest.run(digest.load_config(config))
    finally:
        release.set()
        _, err = first.communicate(timeout=60)
    assert first.returncode == 0, err


def test_two_threads_of_one_process_on_one_state_file_exclude_each_other(tmp_path, site):
    """The daemon's case: runs in threads of one process. The first run's row is made
    unrecognisable, so that only the lock file can keep the second out: a lock of the
    process (POSIX lockf) would let it in, one of the open file (flock) does not."""
    from conftest import wait_for

    release = threading.Event()
    config = _slow_run_config(tmp_path, site, release)
    state = tmp_path / "state" / "digest.db"
    results: list[object] = []
    first = threading.Thread(
        target=lambda: results.append(digest.run(digest.load_config(config))), daemon=True
    )
    first.start()
    try:
        assert wait_for(lambda: _open_run(state) is not None, timeout=30)
        _rewrite_open_run(state, _pid_of_no_process())
        with pytest.raises(digest.RunLocked, match=r"holds digest\.db\.lock"):
            digest.run(digest.load_config(config))
    finally:
        release.set()
        first.join(timeout=60)
    assert len(results) == 1 and isinstance(results[0], digest.RunReport)


def test_two_runs_in_separate_pid_namespaces_exclude_each_other(tmp_path, site):
    """Both runs are pid 1 of their own PID namespace, as in two containers."""
    prefix = ("unshare", "--pid", "--fork", "--mount-proc")
    if shutil.which("unshare") is None:
        pytest.skip("unshare (util-linux) is not installed")
    probe = subprocess.run([*prefix, "true"], capture_output=True, text=True, check=False)
    if probe.returncode != 0:
        pytest.skip(f"unshare --pid is not permitted here: {probe.stderr.strip()}")
    release = threading.Event()
    first, config, state = _hold_a_run(tmp_path, site, release, prefix)
    try:
        assert _open_run(state)[0] == 1
        second = subprocess.run(
            [*prefix, sys.executable, "-m", "digest", "run", "--config", str(config)],
            cwd=REPO, capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
    finally:
        release.set()
        _, err = first.communicate(timeout=60)
    assert first.returncode == 0, err
    assert second.returncode == 1, second.stdout + second.stderr
    message = second.stderr.strip()
    assert "another run of this digest (pid 1 in another PID namespace" in message, message
    assert "holds digest.db.lock" in message


# -- stories held back by max_items --

# The demo without Market Pulse and Science Desk: 12 events, each reported by one or more of
# these six outlets (tests/fixtures/demo_expectations.json).
TWELVE_EVENT_FEEDS = [f for f in DEMO_FEEDS if f[0] not in ("Market Pulse", "Science Desk")]


def _events_in(text: str, expectations: dict) -> set[str]:
    """The demo events whose article links appear in a digest's plain text."""
    return {
        event
        for event, paths in expectations["events"].items()
        if any(f"/{path}" in text for path in paths)
    }


def test_stories_beyond_max_items_go_out_in_the_next_runs_with_no_feed_changing(
    tmp_path: Path, site, expectations
):
    import sqlite3

    from digest.store import count_pending

    config = write_config(tmp_path, site.base_url, feeds=TWELVE_EVENT_FEEDS)
    config.write_text(config.read_text().replace("max_items: 30", "max_items: 5"))
    feed_paths = {"/" + path for _, path, _ in TWELVE_EVENT_FEEDS}
    sent: list[set[str]] = []
    waiting: list[int] = []  # pending articles after each run, as `digest status` can read
    for number in range(1, 5):
        asked = len(site.requests)
        result = run_cli("run", "-v", "--config", str(config))
        assert result.returncode == 0, result.stderr
        if number > 1:  # no feed changed: each answered 304, no page was asked for
            later = site.requests[asked:]
            assert {status for _, path, status in later if path in feed_paths} == {304}, later
            assert not [path for _, path, _ in later if "/articles/" in path], later
        state = f"file:{tmp_path / 'state' / 'digest.db'}?mode=ro"
        with contextlib.closing(sqlite3.connect(state, uri=True)) as db:
            waiting.append(count_pending(db, site.now - timedelta(hours=72)))
        texts = sorted((tmp_path / "outbox").glob("*.txt"))
        if number < 4:
            assert f"delivered {min(5, 12 - 5 * (number - 1))} items" in result.stdout, (
                result.stdout + result.stderr
            )
            sent.append(_events_in(texts[-1].read_text(encoding="utf-8"), expectations))
        else:
            assert "nothing new to deliver" in result.stdout, result.stdout
            # Nothing was left that could go out: the pending articles were not weighed again.
            assert "nothing came in since the last digest" in result.stderr, result.stderr
            assert len(texts) == 3
    assert [len(events) for events in sent] == [5, 5, 2]
    assert waiting[0] > waiting[1] > waiting[2] == waiting[3] == 0, waiting
    assert set().union(*sent) == set(expectations["events"]) - {"jwst-exoplanet",
        "arctic-sea-ice", "airfrance-sas"}  # fmt: skip


def test_stories_held_back_still_go_out_after_a_run_died_once_its_digest_was_staged(
    tmp_path: Path, site, expectations
):
    """A run killed after staging never lowered the watermark over what max_items held
    back: the next runs said "nothing new to deliver" while `digest status` counted those
    articles as going out in the next runs, and they expired unsent (an operator's trial,
    PostgreSQL stopped while sending)."""
    config = write_config(tmp_path, site.base_url, feeds=TWELVE_EVENT_FEEDS)
    config.write_text(config.read_text().replace("max_items: 30", "max_items: 5"))
    died = run_cli("run", "--config", str(config), env={"DIGEST_TEST_CRASH_AT": "after-stage"})
    assert died.returncode != 0
    resumed = run_cli("run", "--config", str(config))  # sends the staged digest
    assert resumed.returncode == 0, resumed.stderr
    texts = []
    for _ in range(3):
        later = run_cli("run", "--config", str(config))
        assert later.returncode == 0, later.stderr
        texts = sorted((tmp_path / "outbox").glob("*.txt"))
    sent = [_events_in(t.read_text(encoding="utf-8"), expectations) for t in texts]
    assert [len(events) for events in sent] == [5, 5, 2], sent


def test_articles_no_digest_can_take_are_not_weighed_again_on_every_run(tmp_path: Path, site):
    feeds = [f for f in DEMO_FEEDS if f[0] != "Science Desk"]
    config = write_config(tmp_path, site.base_url, feeds=feeds)
    first = run_cli("run", "--config", str(config))
    assert first.returncode == 0 and "delivered" in first.stdout, first.stderr
    # A feed added later whose every article its own filter drops: they stay pending.
    with config.open("a", encoding="utf-8") as out:
        out.write(
            f"  - name: Science Desk\n    url: {site.base_url}/sciencedesk/rss.rdf\n"
            "    filters:\n      include: [no outlet writes this phrase]\n"
        )
    second = run_cli("run", "-v", "--config", str(config))
    assert second.returncode == 0 and "nothing new to deliver" in second.stdout, second.stderr
    assert "3 new articles" in second.stdout, second.stdout
    third = run_cli("run", "-v", "--config", str(config))
    assert third.returncode == 0 and "nothing new to deliver" in third.stdout, third.stderr
    assert "nothing came in since the last digest" in third.stderr, third.stderr


# -- a bound on the pages fetched per feed --


def _generated_feed(folder: Path, name: str, count: int) -> None:
    """An RSS feed of `count` entries a minute apart, newest first, each linking a page of
    its own whose text no other page shares."""
    pages = folder / name
    pages.mkdir(parents=True)
    words = ["harbour", "orchard", "glacier", "violin", "tractor", "comet", "bakery", "ferry"]
    items = []
    for index in range(count):
        topic = f"{words[index % len(words)]} {index}"
        body = " ".join(
            f"Report {index} on the {topic}: paragraph {line} with figure {index * 7 + line}."
            for line in range(12)
        )
        (pages / f"a{index}.html").write_text(
            f"<html><head><title>Item {index}</title></head><body><article>"
            f"<h1>Item {index} about the {topic}</h1><p>{body}</p></article></body></html>",
            encoding="utf-8",
        )
        items.append(
            f"<item><guid>{name}-{index}</guid><title>Item {index} about the {topic}</title>"
            f"<link>http://gen.test/{name}/a{index}.html</link>"
            f"<description>Short text of item {index} about the {topic}.</description>"
            f"<pubDate>{{{{now-{index}m:rfc822}}}}</pubDate></item>"
        )
    (folder / f"{name}.xml").write_text(
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>{name}</title><link>http://gen.test/</link>{''.join(items)}</channel></rss>",
        encoding="utf-8",
    )


def test_a_feed_of_hundreds_of_new_entries_costs_a_bounded_number_of_page_requests(
    tmp_path: Path,
):
    root = tmp_path / "site"
    _generated_feed(root, "flood", 300)
    _generated_feed(root, "small", 12)
    site = LocalSite(root, port=0)
    site.rewrite = {"http://gen.test": site.base_url}
    config = tmp_path / "bounded.yaml"
    config.write_text(
        "title: Bounded Brief\nwindow: 72h\nmax_items: 10\nstorage: state.db\nworkers: 0\n"
        "fetch:\n  timeout: 5\n  pages_per_feed: 20\n"
        "delivery:\n  method: file\n  outbox: outbox\n"
        f"feeds:\n  - name: Flood\n    url: {site.base_url}/flood.xml\n"
        f"  - name: Small\n    url: {site.base_url}/small.xml\n    pages_per_run: 3\n",
        encoding="utf-8",
    )
    with site:
        first = run_cli("run", "--config", str(config))
        asked = len(site.requests)
        second = run_cli("run", "--config", str(config))
    assert first.returncode == 0, first.stderr
    pages = [path for _, path, _ in site.requests[:asked] if path.endswith(".html")]
    # The newest entries' pages, and no more.
    assert sorted(pages) == sorted(
        [f"/flood/a{i}.html" for i in range(20)] + [f"/small/a{i}.html" for i in range(3)]
    )
    lines = first.stderr.splitlines()
    flood = [line for line in lines if f"feed 'Flood' ({site.base_url}/flood.xml)" in line]
    small = [line for line in lines if f"feed 'Small' ({site.base_url}/small.xml)" in line]
    assert len(flood) == 1 and "280 more new entries than fetch.pages_per_feed (20)" in flood[0]
    assert len(small) == 1 and "9 more new entries than its pages_per_run (3)" in small[0]
    # The rest came in with the feed's own text: nothing the feed announced is lost.
    with sqlite3.connect(tmp_path / "state.db") as db:
        sources = dict(db.execute("SELECT text_source, COUNT(*) FROM articles GROUP BY 1"))
    assert sources.get("page") == 23 and sum(sources.values()) == 312, sources
    # The next run asks for no page: the entries beyond the bound are in the store already.
    assert second.returncode == 0, second.stderr
    assert not [p for _, p, _ in site.requests[asked:] if p.endswith(".html")]
    assert "more new entries than" not in second.stderr


# -- a digest every recipient deferred --


def test_a_digest_its_only_recipient_deferred_exits_1_and_waits_in_the_outbox(
    tmp_path: Path, site, smtp_server
):
    from conftest import smtp_delivery

    config = write_config(
        tmp_path, site.base_url, delivery=smtp_delivery(smtp_server), feeds=DEMO_FEEDS[:2]
    )
    smtp_server.defer = {"reader@example.org"}
    # The digest staged in the outbox, then the run killed before it could send it.
    killed = run_cli("run", "--config", str(config), env={"DIGEST_TEST_CRASH_AT": "after-stage"})
    assert killed.returncode == -9, killed.stderr
    waiting = run_cli("run", "--config", str(config))
    assert waiting.returncode == 1, waiting.stdout + waiting.stderr
    assert smtp_server.messages == []
    (line,) = [line for line in waiting.stderr.splitlines() if "waits in the outbox" in line]
    assert "reader@example.org" in line and "451 4.7.1 Greylisted" in line, line
    assert "sent again on the next run" in line, line

    smtp_server.defer = set()
    sent = run_cli("run", "--config", str(config))
    assert sent.returncode == 0, sent.stderr
    assert "sent the queued digest to 1 recipient (reader@example.org)" in sent.stdout
    assert len(smtp_server.messages) == 1


# -- outbox retention --


def _outbox_rows(state: Path) -> dict[str, dict[str, object]]:
    """recipient -> its outbox row, with `bytes`: the length of its message still kept."""
    with contextlib.closing(sqlite3.connect(state)) as db:
        db.row_factory = sqlite3.Row
        rows = db.execute(
            "SELECT q.*, length(b.message) AS bytes FROM queued_messages AS q "
            "LEFT JOIN message_bytes AS b USING (id) ORDER BY q.id"
        ).fetchall()
    return {row["recipient"]: dict(row) for row in rows}


def test_sent_messages_lose_their_bytes_after_keep_sent_and_keep_their_record(
    tmp_path: Path, site, smtp_server
):
    from datetime import UTC, datetime

    from conftest import smtp_delivery

    to = "[ana@example.org, bo@example.org]"
    delivery = smtp_delivery(smtp_server, to=to) + "  retries: 0\n  keep_sent: 3d\n"
    config = write_config(tmp_path, site.base_url, delivery=delivery, feeds=DEMO_FEEDS[:2])
    state = tmp_path / "state" / "digest.db"
    smtp_server.defer = {"bo@example.org"}  # greylisted: his message waits in the outbox
    start = datetime.now(UTC)
    report = digest.run(digest.load_config(config), now=start)
    assert report.delivered_to == ["ana@example.org"] and "bo@example.org" in report.deferred
    staged = _outbox_rows(state)
    assert staged["ana@example.org"]["status"] == "sent"
    assert staged["bo@example.org"]["status"] == "queued"
    assert all(row["bytes"] > 1000 for row in staged.values())

    # A day later, within keep_sent: every message keeps its bytes; bo's is tried again.
    retried = digest.run(digest.load_config(config), now=start + timedelta(days=1))
    assert "451 4.7.1 Greylisted" in retried.deferred["bo@example.org"]
    day_one = _outbox_rows(state)
    assert [row["bytes"] for row in day_one.values()] == [row["bytes"] for row in staged.values()]

    # Four days later: ana's message is past keep_sent, and only its bytes are gone.
    smtp_server.defer = set()
    digest.run(digest.load_config(config), now=start + timedelta(days=4))
    later = _outbox_rows(state)
    ana, bo = later["ana@example.org"], later["bo@example.org"]
    assert ana["bytes"] is None and ana["pruned"]
    kept = ("status", "message_id", "queued", "sent", "answered", "attempts", "method")
    assert {key: ana[key] for key in kept} == {key: staged["ana@example.org"][key] for key in kept}
    with contextlib.closing(sqlite3.connect(state)) as db:
        deliveries = db.execute(
            "SELECT recipient, status, detail FROM deliveries ORDER BY id"
        ).fetchall()
    assert ("ana@example.org", "sent", "250 Message accepted for delivery") in deliveries
    # Bo's message, waiting all along, went out as staged on day one: same Message-ID.
    assert bo["status"] == "sent" and not bo["pruned"]
    received = [m["Message-ID"] for m in smtp_server.messages if m["To"] == "bo@example.org"]
    assert received == [staged["bo@example.org"]["message_id"]]


# -- the private-network exemption: the feed's own origin, at the addresses it came from --


def _net_rss(links: list[tuple[str, str]]) -> bytes:
    """An RSS feed of (title, link) items published now."""
    stamp = time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime())
    items = "".join(
        f"<item><title>{title}</title><link>{link}</link><guid>{link}</guid>"
        f"<pubDate>{stamp}</pubDate><description>The feed's own short text about "
        f"{title.lower()}.</description></item>"
        for title, link in links
    )
    return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>{items}'
            "</channel></rss>").encode()  # fmt: skip


def _net_feed_route(links: list[tuple[str, str]]) -> Handler:
    return respond(200, _net_rss(links), "application/rss+xml")


def _net_config(tmp_path: Path, feeds: list[tuple[str, str]], fetch: str = "timeout: 2") -> Path:
    listed = "".join(f"  - name: {name}\n    url: {url}\n" for name, url in feeds)
    path = tmp_path / "digest.yaml"
    path.write_text(
        f"title: T\nwindow: 72h\nstorage: state.db\nfetch:\n  {fetch}\n"
        f"delivery:\n  method: file\n  outbox: outbox\nfeeds:\n{listed}",
        encoding="utf-8",
    )
    return path


def _net_reasons(report: digest.RunReport, stage: str) -> dict[str, str]:
    return {s.target: s.reason for s in report.skipped if s.stage == stage}


def test_a_feed_on_one_loopback_port_reaches_no_other_port(tmp_path: Path, load):
    main, other = LocalSite(HOSTILE), LocalSite(HOSTILE)  # 127.0.0.1, two ports
    with main, other:
        own, elsewhere = main.base_url, f"{other.base_url}/pages/private-note.html"
        main.overrides = {
            "/feed.xml": _net_feed_route([
                ("Orchard opens its gates", f"{own}/pages/orchard.html"),
                ("Internal note", elsewhere),
                ("Bounced note", f"{own}/bounce"),
            ]),
            "/bounce": redirect(302, elsewhere),
            "/hop.xml": redirect(302, f"{other.base_url}/feed.xml"),
        }  # fmt: skip
        feeds = [("Local", f"{own}/feed.xml"), ("Hop", f"{own}/hop.xml")]
        report = digest.run(load(_net_config(tmp_path, feeds)))
    assert other.requests == []  # not even robots.txt
    assert ("GET", "/pages/orchard.html", 200) in main.requests  # the feed's own origin
    refused = "not fetched: 127.0.0.1 is a loopback address; feed links to private networks"
    except_own = f"except on the feed's own origin (http://127.0.0.1:{main.port})"
    pages = _net_reasons(report, "page")
    assert sorted(pages) == sorted([elsewhere, f"{own}/bounce"])
    assert pages[elsewhere].startswith(refused), pages  # its robots.txt, refused first
    assert pages[f"{own}/bounce"].startswith(f"{refused} are refused {except_own}"), pages
    # The refused hop is named: the page's own origin is the feed's, its redirect's is not.
    led = f"; a redirect led there (http://127.0.0.1:{other.port})"
    assert pages[f"{own}/bounce"].endswith(led), pages
    (hop,) = [s for s in report.skipped if s.feed == "Hop"]
    assert hop.reason.startswith(f"{refused} are refused {except_own}"), hop.reason


@pytest.mark.parametrize("page_answer", [["127.0.0.2"], ["127.0.0.2", "127.0.0.1"]])
def test_a_feed_name_answering_another_address_for_its_pages_reaches_only_the_feed_s(
    tmp_path: Path, load, monkeypatch, page_answer
):
    """The publisher runs the DNS of the feed's name: 127.0.0.1 for the feed's fetch, then
    127.0.0.2 (standing in for 169.254.169.254) for its pages, on the same origin."""
    main = LocalSite(HOSTILE)
    inside = LocalSite(HOSTILE, port=main.port, host="127.0.0.2")
    real_getaddrinfo = socket.getaddrinfo
    lookups = []

    def publisher_dns(host, port, *args, **kwargs):
        if host != "feed.test":
            return real_getaddrinfo(host, port, *args, **kwargs)
        lookups.append(host)
        answer = ["127.0.0.1"] if len(lookups) == 1 else page_answer
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port)) for a in answer]

    monkeypatch.setattr(socket, "getaddrinfo", publisher_dns)
    with main, inside:
        own = f"http://feed.test:{main.port}"
        page = f"{own}/pages/orchard.html"
        route = _net_feed_route([("Orchard opens its gates", page)])
        main.overrides = inside.overrides = {"/feed.xml": route}
        report = digest.run(load(_net_config(tmp_path, [("Rebound", f"{own}/feed.xml")])))
    assert inside.requests == []  # nothing reached 127.0.0.2
    assert len(lookups) >= 2
    pages = _net_reasons(report, "page")
    if page_answer == ["127.0.0.2"]:
        assert pages[page].startswith(
            "not fetched: feed.test (127.0.0.2) is a loopback address; feed links to private "
            f"networks are refused except on the feed's own origin (http://feed.test:{main.port})"
            ", at the addresses the feed came from"
        ), pages
    else:  # the name's other address is the feed's own: the page comes from there
        assert pages == {}
        assert ("GET", "/pages/orchard.html", 200) in main.requests


# -- a deadline for the whole request, status line to trailer --


def _net_drip(
    head: bytes, dripped: bytes, hung_up: dict[str, float], key: str, tail: bytes = b""
) -> Handler:
    """`head` at once, then `dripped` a byte every 0.1 s, then `tail`; records in
    `hung_up[key]` how long after the request the client hung up."""

    def handler(request: BaseHTTPRequestHandler) -> None:
        request.close_connection = True
        started = time.monotonic()
        try:
            request.wfile.write(head)
            for byte in dripped:
                request.wfile.write(bytes([byte]))
                time.sleep(0.1)
            request.wfile.write(tail)
        except OSError:
            hung_up[key] = time.monotonic() - started

    return handler


def test_a_server_dripping_any_part_of_its_answer_is_cut_off_at_the_request_budget(
    tmp_path: Path, load
):
    hung_up: dict[str, float] = {}
    ok = b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\n"
    chunked = ok + b"Transfer-Encoding: chunked\r\n\r\n"
    forever = b"x" * 200  # 20 s of bytes: far beyond the budget
    # Two hops of 1.7 s each: the redirect shares the request's budget, so the second fails.
    feed = _net_rss([("Orchard opens its gates", "http://127.0.0.1/o.html")])
    hop_one = b"HTTP/1.1 302 Found\r\nLocation: /hop-two.xml\r\nContent-Length: 0\r\n"
    hop_two = ok + f"Content-Length: {len(feed)}\r\n".encode()
    slow_header, end = b"X-Pad: " + b"x" * 8 + b"\r\n", b"\r\n"
    site, robots_site = LocalSite(HOSTILE), LocalSite(HOSTILE)
    stages = {
        "/status.xml": (b"", b"HTTP/1.1 200 " + forever, "headers still arriving"),
        "/headers.xml": (ok, b"X-Slow: " + forever, "headers still arriving"),
        "/chunks.xml": (chunked, b"5;" + forever, "body still arriving"),
        "/trailer.xml": (chunked + b"5\r\n<rss>\r\n0\r\n", b"X-T: " + forever,
                         "body still arriving"),
    }  # fmt: skip
    with site, robots_site:
        site.overrides = {
            path: _net_drip(head, dripped, hung_up, path)
            for path, (head, dripped, _) in stages.items()
        }
        site.overrides["/hop-one.xml"] = _net_drip(hop_one, slow_header, hung_up, "one", end)
        site.overrides["/hop-two.xml"] = _net_drip(hop_two, slow_header, hung_up, "two", end + feed)
        page = f"{robots_site.base_url}/pages/orchard.html"
        robots_site.overrides = {
            "/feed.xml": _net_feed_route([("Orchard opens its gates", page)]),
            "/robots.txt": _net_drip(ok, b"X-Slow: " + forever, hung_up, "/robots.txt"),
        }
        feeds = [(path, f"{site.base_url}{path}") for path in [*stages, "/hop-one.xml"]]
        feeds.append(("Slow Robots", f"{robots_site.base_url}/feed.xml"))
        started = time.monotonic()
        config = _net_config(tmp_path, feeds, fetch="timeout: 1\n  per_host: 8")
        report = digest.run(load(config))
        elapsed = time.monotonic() - started
        assert _net_wait_for(hung_up, [*stages, "/robots.txt", "two"])
    budget = 3  # 3 x fetch.timeout
    feeds_failed = _net_reasons(report, "feed")
    stages["/hop-one.xml"] = (b"", b"", "headers still arriving")
    for path, (_, _, still) in stages.items():
        reason = feeds_failed[f"{site.base_url}{path}"]
        assert reason.startswith(f"{still} after 3s, the most one request may take"), reason
        assert hung_up.get(path, 0) < budget + 1.5, (path, hung_up)
    assert "one" not in hung_up and hung_up["two"] < budget + 1.5 - 1.7
    reason = _net_reasons(report, "page")[page]
    assert reason.startswith(
        f"robots.txt unavailable ({robots_site.base_url}/robots.txt: headers still arriving "
        "after 3s"
    ), reason
    assert hung_up["/robots.txt"] < budget + 1.5
    assert not any(r[1] == "/pages/orchard.html" for r in robots_site.requests)
    assert elapsed < 2 * budget + 6, elapsed  # the feeds, then robots.txt: two budgets


def _net_wait_for(seen: dict[str, float], keys: list[str], timeout: float = 3.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not all(key in seen for key in keys):
        time.sleep(0.05)
    return all(key in seen for key in keys)


# -- no cookie jar shared between feeds --


def test_cookies_one_feed_sets_reach_no_other_site(tmp_path: Path, load, monkeypatch):
    """Feed A sets 200 cookies, one of them for the parent domain .blog.test; feed B, on
    b.blog.test, and its pages receive none (nor do A's own pages: no cookies are kept)."""
    real_getaddrinfo = socket.getaddrinfo

    def blog_dns(host, port, *args, **kwargs):
        if not host.endswith(".blog.test"):
            return real_getaddrinfo(host, port, *args, **kwargs)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]

    monkeypatch.setattr(socket, "getaddrinfo", blog_dns)
    cookies_seen: list[str | None] = []
    site_a, site_b = LocalSite(HOSTILE), LocalSite(HOSTILE)

    def recorded(handler: Handler) -> Handler:
        def record(request: BaseHTTPRequestHandler) -> None:
            cookies_seen.append(request.headers.get("Cookie"))
            handler(request)

        return record

    with site_a, site_b:
        a, b = f"http://a.blog.test:{site_a.port}", f"http://b.blog.test:{site_b.port}"
        feed_a = _net_rss([("Orchard opens its gates", f"{a}/pages/orchard.html")])

        def cookie_monster(request: BaseHTTPRequestHandler) -> None:
            request.send_response(200)
            request.send_header("Content-Type", "application/rss+xml")
            for n in range(200):
                request.send_header("Set-Cookie", f"c{n}={'v' * 40}; Path=/")
            request.send_header("Set-Cookie", "parent=1; Domain=.blog.test; Path=/")
            request.send_header("Content-Length", str(len(feed_a)))
            request.end_headers()
            request.wfile.write(feed_a)

        site_a.overrides = {"/feed.xml": cookie_monster}
        site_a.overrides["/pages/orchard.html"] = recorded(
            fixture_file(site_a, "pages/orchard.html", "text/html")
        )
        site_b.overrides = {
            "/feed.xml": _net_feed_route(
                [("Lighthouse keeper retires", f"{b}/pages/lighthouse.html")]
            ),
            "/pages/lighthouse.html": recorded(
                fixture_file(site_b, "pages/lighthouse.html", "text/html")
            ),
        }
        feeds = [("Cookie Monster", f"{a}/feed.xml"), ("Neighbour", f"{b}/feed.xml")]
        report = digest.run(load(_net_config(tmp_path, feeds)))
    assert _net_reasons(report, "page") == {}
    assert cookies_seen == [None, None]


# -- no redirect from https down to http --


def _net_tls_site(tmp_path: Path) -> Callable[[], LocalSite]:
    """A maker of HTTPS LocalSites with a certificate for 127.0.0.1 that the fetcher trusts
    through SSL_CERT_FILE (set by the caller)."""
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is not installed (needed to make a certificate)")
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
         "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)

    def make() -> LocalSite:
        site = LocalSite(HOSTILE)
        site._server.socket = context.wrap_socket(site._server.socket, server_side=True)
        return site

    return make


def test_a_redirect_from_https_to_http_is_refused_for_feeds_pages_and_robots(
    tmp_path: Path, load, monkeypatch
):
    make = _net_tls_site(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "cert.pem"))
    plain, secure, secure_robots = LocalSite(HOSTILE), make(), make()
    with plain, secure, secure_robots:
        s, r = f"https://127.0.0.1:{secure.port}", f"https://127.0.0.1:{secure_robots.port}"
        down = f"{plain.base_url}/pages/orchard.html"
        secure.overrides = {
            "/down.xml": redirect(301, f"{plain.base_url}/feed.xml"),
            "/feed.xml": _net_feed_route([
                ("Orchard opens its gates", f"{s}/pages/orchard.html"),
                ("Lighthouse keeper retires", f"{s}/moved"),
            ]),
            "/moved": redirect(302, down),
        }  # fmt: skip
        secure_robots.overrides = {
            "/feed.xml": _net_feed_route([("Comet", f"{r}/pages/comet.html")]),
            "/robots.txt": redirect(302, f"{plain.base_url}/robots.txt"),
        }
        feeds = [("Downgraded", f"{s}/down.xml"), ("Secure", f"{s}/feed.xml"),
                 ("Secure Robots", f"{r}/feed.xml")]  # fmt: skip
        report = digest.run(load(_net_config(tmp_path, feeds)))
    assert plain.requests == []
    assert ("GET", "/pages/orchard.html", 200) in secure.requests  # https works
    (feed,) = [s for s in report.skipped if s.feed == "Downgraded"]
    assert feed.reason.startswith(
        f"redirected from https to plain http ({s}/down.xml -> {plain.base_url}/feed.xml): "
        "refused; if plain http is really intended, use the http URL in the config"
    ), feed.reason
    pages = _net_reasons(report, "page")
    assert pages[f"{s}/moved"] == (
        f"redirected from https to plain http ({s}/moved -> {down}): refused; an https link "
        "is fetched over https only"
    )
    assert pages[f"{r}/pages/comet.html"] == (
        f"robots.txt unavailable ({r}/robots.txt: redirected from https to plain http "
        f"({r}/robots.txt -> {plain.base_url}/robots.txt): refused; an https link is fetched "
        "over https only), so the site is not crawled this run"
    )
    assert len(pages) == 2


# -- robots.txt: its first 500 KiB, and text only --


def test_robots_txt_is_read_to_500_kib_whatever_max_bytes_and_binary_is_unavailable(
    tmp_path: Path, load
):
    rules = b"User-agent: *\nDisallow: /private/\n"
    padding = b"# " + b"-" * 97 + b"\n"  # 100 bytes a line
    big = rules + padding * 5200 + b"Disallow: /\n"  # 520 KB: the last rule lies beyond
    binary = bytes(range(256)) * 40
    big_site, binary_site = LocalSite(HOSTILE), LocalSite(HOSTILE)
    with big_site, binary_site:
        b, n = big_site.base_url, binary_site.base_url
        big_site.overrides = {
            "/feed.xml": _net_feed_route([
                ("Orchard opens its gates", f"{b}/pages/orchard.html"),
                ("Members-only briefing", f"{b}/private/members-only.html"),
            ]),
            "/robots.txt": respond(200, big, "text/plain"),
        }  # fmt: skip
        binary_site.overrides = {
            "/feed.xml": _net_feed_route([("Comet", f"{n}/pages/comet.html")]),
            "/robots.txt": respond(200, binary, "text/plain"),
        }
        feeds = [("Big Robots", f"{b}/feed.xml"), ("Binary Robots", f"{n}/feed.xml")]
        report = digest.run(load(_net_config(tmp_path, feeds, fetch="max_bytes: 100KB")))
    assert len(big) > 500 * 1024 > 100 * 1024
    pages = _net_reasons(report, "page")
    assert pages[f"{b}/private/members-only.html"] == "disallowed by robots.txt"
    assert ("GET", "/pages/orchard.html", 200) in big_site.requests
    assert pages[f"{n}/pages/comet.html"] == (
        f"robots.txt unavailable ({n}/robots.txt is not text: a NUL byte at offset 0), so "
        "the site is not crawled this run"
    )
    assert not any(r[1] == "/pages/comet.html" for r in binary_site.requests)
    assert len(pages) == 2


def test_a_state_that_kept_every_message_keeps_the_bytes_it_may_still_need(
    tmp_path: Path, site, smtp_server
):
    """Upgrading a state from before the retention: a message still waiting keeps its bytes
    (and goes out as staged), one sent within the default keep_sent too, an older one not."""
    from datetime import UTC, datetime

    from conftest import smtp_delivery

    from digest.store._migrations import MIGRATIONS

    # The waiting message's reader is still subscribed (else it is cancelled, not sent).
    delivery = smtp_delivery(smtp_server, to="waiting@example.org")
    config = write_config(tmp_path, site.base_url, delivery=delivery, feeds=DEMO_FEEDS[:1])
    state = tmp_path / "state" / "digest.db"
    state.parent.mkdir()
    now = datetime.now(UTC)
    with contextlib.closing(sqlite3.connect(state, isolation_level=None)) as old:
        old.execute("CREATE TABLE migrations (name TEXT PRIMARY KEY, applied TEXT NOT NULL)")
        before = [(n, s) for n, s in MIGRATIONS if n < "010"]
        for name, script in before:
            old.executescript(script)
            old.execute("INSERT INTO migrations VALUES (?, ?)", (name, now.isoformat()))
        old.execute("INSERT INTO digests (id, created, subject, status, item_count) "
                    "VALUES (1, ?, 'Old', 'delivered', 1)", (now.isoformat(),))  # fmt: skip
        for recipient, status, days_ago in [
            ("old@example.org", "sent", 10),
            ("recent@example.org", "sent", 1),
            ("waiting@example.org", "queued", 1),
        ]:
            at = (now - timedelta(days=days_ago)).isoformat(timespec="seconds")
            message = f"Subject: old\r\nMessage-ID: <{recipient}>\r\nTo: {recipient}\r\n\r\nx"
            old.execute(
                "INSERT INTO queued_messages (digest_id, recipient, message, queued, status, "
                "sent, message_id) VALUES (1, ?, ?, ?, ?, ?, ?)",
                (recipient, message.encode(), at, status, at if status == "sent" else None,
                 f"<{recipient}>"),
            )  # fmt: skip
    digest.run(digest.load_config(config))
    rows = _outbox_rows(state)
    assert rows["old@example.org"]["bytes"] is None and rows["old@example.org"]["pruned"]
    assert rows["recent@example.org"]["bytes"] and not rows["recent@example.org"]["pruned"]
    assert rows["waiting@example.org"]["status"] == "sent"
    resent = [m for m in smtp_server.messages if m["Message-ID"] == "<waiting@example.org>"]
    assert len(resent) == 1 and resent[0]["To"] == "waiting@example.org"


# -- the exemption belongs to one feed, and a moved feed earns none --


def test_a_second_feed_on_the_same_origin_does_not_widen_the_first_s_exemption(
    tmp_path: Path, load, monkeypatch
):
    """The publisher answers 127.0.0.1 for the first feed's fetch and 127.0.0.2 (standing in
    for an internal host) for the second's and for the pages: the first feed's links may
    use 127.0.0.1 only, whatever the second feed's fetch connected to."""
    main = LocalSite(HOSTILE)
    inside = LocalSite(HOSTILE, port=main.port, host="127.0.0.2")
    real_getaddrinfo = socket.getaddrinfo
    lookups: list[str] = []

    def publisher_dns(host, port, *args, **kwargs):
        if host != "news.test":
            return real_getaddrinfo(host, port, *args, **kwargs)
        lookups.append(host)
        answer = "127.0.0.1" if len(lookups) == 1 else "127.0.0.2"
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (answer, port))]

    monkeypatch.setattr(socket, "getaddrinfo", publisher_dns)
    with main, inside:
        own = f"http://news.test:{main.port}"
        secret = f"{own}/private/members-only.html"
        tech = _net_feed_route([("Quarterly report on orchard yields", secret)])
        world = _net_feed_route([("Storm closes the airport", f"{own}/pages/orchard.html")])
        main.overrides = inside.overrides = {"/tech.xml": tech, "/world.xml": world}
        config = _net_config(tmp_path, [("Tech", f"{own}/tech.xml"), ("World", f"{own}/world.xml")])
        config.write_text(
            config.read_text().replace("  timeout: 2\n", "  timeout: 2\n  concurrency: 1\n")
        )
        report = digest.run(load(config))
    assert not any(r[1] == "/private/members-only.html" for r in inside.requests)
    assert _net_reasons(report, "page")[secret].startswith("not fetched: news.test (127.0.0.2)")


def test_a_feed_that_moved_to_another_origin_is_fetched_there_under_the_address_check(
    tmp_path: Path, load
):
    """Run 1 (private addresses allowed) follows the feed's 301 to a second origin and keeps
    it. Run 2 (not allowed) fetches the feed there: that origin was the publisher's choice,
    not the operator's, so its private address is refused and nothing is sent to it."""
    main, inside = LocalSite(HOSTILE), LocalSite(HOSTILE, host="127.0.0.2")
    with main, inside:
        moved_to = f"{inside.base_url}/feed.xml"

        def moved(request: BaseHTTPRequestHandler) -> None:
            request.send_response(301)
            request.send_header("Location", moved_to)
            request.send_header("Content-Length", "0")
            request.end_headers()

        main.overrides = {"/feed.xml": moved}
        inside.overrides = {"/feed.xml": _net_feed_route([("Storm", f"{inside.base_url}/x")])}
        path = _net_config(tmp_path, [("Mover", f"{main.base_url}/feed.xml")],
                           fetch="timeout: 2\n  allow_private: true")  # fmt: skip
        first = digest.run(load(path))
        assert first.feeds_fetched == 1 and any("moved permanently" in w for w in first.warnings)
        served = len(inside.requests)
        path.write_text(path.read_text().replace("  allow_private: true\n", ""))
        second = digest.run(load(path))
    assert len(inside.requests) == served  # nothing more reached 127.0.0.2
    assert second.feeds_failed == ["Mover"]
    (problem,) = [s for s in second.skipped if s.stage == "feed"]
    assert "127.0.0.2 is a loopback address" in problem.reason


def test_a_slow_name_server_is_inside_the_request_s_deadline(tmp_path: Path, load, monkeypatch):
    real_getaddrinfo = socket.getaddrinfo
    slow = threading.Event()

    def slow_dns(host, port, *args, **kwargs):
        if host == "slow.test":
            slow.wait(10)  # a name server that takes its time
        return real_getaddrinfo("127.0.0.1" if host == "slow.test" else host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", slow_dns)
    config = load(_net_config(tmp_path, [("Slow", "http://slow.test:9/feed.xml")], "timeout: 1"))
    started = time.monotonic()
    report = digest.run(config)
    elapsed = time.monotonic() - started
    slow.set()
    (problem,) = [s for s in report.skipped if s.stage == "feed"]
    assert "connecting" in problem.reason, problem.reason
    assert elapsed < 6, elapsed  # fetch.timeout 1: one wait of 1 s, not the resolver's 10


# -- an SMTP server that never finishes its greeting --


@pytest.mark.parametrize("pause", [0.2, 0.0])
def test_an_smtp_server_dripping_an_endless_reply_costs_one_timeout(tmp_path, site, pause):
    """A greeting of endless "220-" lines, slowly (each read within delivery.timeout) or as
    fast as it can (memory): the run gives up after delivery.timeout, with one line."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                listener.settimeout(0.2)
                connection, _ = listener.accept()
            except OSError:
                continue
            with contextlib.suppress(OSError), connection:
                while not stop.is_set():
                    connection.sendall(b"220-still greeting you " + b"x" * 200 + b"\r\n")
                    time.sleep(pause)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    port = listener.getsockname()[1]
    delivery = (
        f"delivery:\n  method: smtp\n  host: 127.0.0.1\n  port: {port}\n"
        "  security: none\n  from: T <t@example.org>\n  to: r@example.org\n"
        "  timeout: 1\n  retries: 0\n"
    )
    config = write_config(tmp_path, site.base_url, delivery=delivery, feeds=DEMO_FEEDS[:1])
    try:
        started = time.monotonic()
        result = run_cli("run", "--config", str(config), timeout=60)
        elapsed = time.monotonic() - started
    finally:
        stop.set()
        listener.close()
    assert result.returncode == 1, result.stderr
    assert f"SMTP 127.0.0.1:{port}: " in result.stderr
    assert elapsed < 20, elapsed  # one delivery.timeout, not for ever
