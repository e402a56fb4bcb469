"""A run against 40+ broken and hostile feeds and pages, served by a misbehaving loopback
server: the digest still goes out, and each failure is one stderr line naming its feed or URL.

Fixture feeds and pages live in tests/fixtures/hostile/ (written for this suite); binary and
huge bodies are generated here, streamed lazily so the suite stays fast. Only 127.0.0.1 and
127.0.0.2 are ever connected to.
"""

from __future__ import annotations

import contextlib
import gzip
import re
import shutil
import socket
import ssl
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from conftest import DEMO_FEEDS, REPO, respond, run_cli, stall, write_config
from sites import LocalSite, fill_placeholders

import digest
from digest.pages._extract import MAX_MARKUP, extract_page, fit_markup

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


def stall_mid_body(seconds: float) -> Handler:
    def handler(request: BaseHTTPRequestHandler) -> None:
        request.send_response(200)
        request.send_header("Content-Type", "application/rss+xml")
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
        "/bad/stall": stall_mid_body(3),
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
        Case("Prying Press", "/f/xxe.xml", r"malformed feed \(.*\); 1 entries recovered",
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
    lines = result.stderr.splitlines()
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
