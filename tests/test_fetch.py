from __future__ import annotations

import contextlib
import gzip
import os
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from conftest import respond, stall

from digest.config._loader import FetchSettings
from digest.errors import FetchError
from digest.feeds._fetch import Fetcher, FetchRequest, HostTurns, decode_body


def redirect_to(location: str):
    def handler(request):
        request.send_response(302)
        request.send_header("Location", location)
        request.end_headers()

    return handler


@pytest.fixture
def fetcher():
    with Fetcher(FetchSettings(timeout=1.0, max_bytes=200_000, user_agent="digest-test/1")) as f:
        yield f


def test_conditional_get_gives_304_without_a_body(site, fetcher):
    url = f"{site.base_url}/techwire/feed.xml"
    first = fetcher.fetch(FetchRequest(url))
    assert first.status == 200 and first.body and first.etag
    second = fetcher.fetch(FetchRequest(url, etag=first.etag))
    assert second.not_modified and second.body is None and second.etag == first.etag


def test_gzip_bodies_are_decoded(site, fetcher):
    result = fetcher.fetch(FetchRequest(f"{site.base_url}/techwire/feed.xml"))
    assert result.body.lstrip().startswith(b"<?xml")
    assert ("GET", "/techwire/feed.xml", 200) in site.requests


def test_a_page_kept_as_sent_decodes_to_the_page_the_fetcher_would_have_decoded(site, fetcher):
    url = f"{site.base_url}/techwire/articles/ipad-pro-m5-launch.html"
    decoded = fetcher.fetch(FetchRequest(url))
    kept = fetcher.fetch(FetchRequest(url, keep_encoding=True))
    assert decoded.content_encoding is None and decoded.body.lstrip().startswith(b"<!")
    assert kept.content_encoding == "gzip" and len(kept.body) < len(decoded.body) / 2
    assert decode_body(url, kept.body, kept.content_encoding, 10**6) == decoded.body
    with pytest.raises(FetchError, match="decompressed body exceeds the 1,000 byte limit"):
        decode_body(url, kept.body, kept.content_encoding, 1000)
    assert decode_body(url, b"<p>plain</p>", None, 4) == b"<p>plain</p>"  # nothing to decode


def test_http_errors_name_the_url_and_status(site, fetcher):
    site.overrides = {"/gone": respond(410, b"gone")}
    with pytest.raises(FetchError) as caught:
        fetcher.fetch(FetchRequest(f"{site.base_url}/gone"))
    assert caught.value.status == 410
    assert str(caught.value) == f"{site.base_url}/gone: HTTP 410 Gone"


def test_a_stalled_server_times_out(site, fetcher):
    site.overrides = {"/slow": stall(3)}
    with pytest.raises(FetchError, match="timed out after 1s"):
        fetcher.fetch(FetchRequest(f"{site.base_url}/slow"))


def test_redirects_are_followed_and_loops_stopped(site, fetcher):
    site.overrides = {
        "/old": redirect_to("/techwire/feed.xml"),
        "/loop-a": redirect_to("/loop-b"),
        "/loop-b": redirect_to("/loop-a"),
    }
    moved = fetcher.fetch(FetchRequest(f"{site.base_url}/old"))
    assert moved.final_url == f"{site.base_url}/techwire/feed.xml"
    with pytest.raises(FetchError, match="more than 5 redirects"):
        fetcher.fetch(FetchRequest(f"{site.base_url}/loop-a"))


def test_bodies_over_the_cap_are_refused_even_when_compressed(site, fetcher):
    bomb = gzip.compress(b"<" * 5_000_000)

    def gzip_bomb(request):
        request.send_response(200)
        request.send_header("Content-Encoding", "gzip")
        request.send_header("Content-Length", str(len(bomb)))
        request.end_headers()
        request.wfile.write(bomb)

    site.overrides = {"/big": respond(200, b"x" * 300_000), "/bomb": gzip_bomb}
    with pytest.raises(FetchError, match="exceeds the 200,000 limit"):
        fetcher.fetch(FetchRequest(f"{site.base_url}/big"))
    with pytest.raises(FetchError, match="exceeds the 200,000 byte limit"):
        fetcher.fetch(FetchRequest(f"{site.base_url}/bomb"))


def test_fetch_many_keeps_order_and_isolates_failures(site, fetcher):
    site.overrides = {"/broken": respond(500)}
    urls = [
        f"{site.base_url}/techwire/feed.xml",
        f"{site.base_url}/broken",
        f"{site.base_url}/bytebeat/feed.json",
    ]
    results = fetcher.fetch_many([FetchRequest(u) for u in urls])
    assert [type(r).__name__ for r in results] == ["FetchResult", "Skipped", "FetchResult"]
    assert results[2].body.lstrip().startswith(b"{")


def test_fetch_each_yields_every_request_once_with_hosts_taking_turns(site, fetcher):
    site.overrides = {"/broken": respond(500)}
    base, other = site.base_url, site.base_url.replace("127.0.0.1", "localhost")
    urls = [f"{base}/techwire/feed.xml", f"{base}/broken", f"{base}/bytebeat/feed.json"]
    urls.append(f"{other}/techwire/feed.xml")
    outcomes = dict(fetcher.fetch_each([FetchRequest(u) for u in urls]))
    assert sorted(outcomes) == [0, 1, 2, 3]
    assert [type(outcomes[i]).__name__ for i in range(4)] == [
        "FetchResult", "Skipped", "FetchResult", "FetchResult",
    ]  # fmt: skip
    assert outcomes[3].body == outcomes[0].body and outcomes[3].final_url.startswith(other)


def test_local_files_use_mtime_as_last_modified(tmp_path, fetcher):
    path = tmp_path / "feed.xml"
    path.write_bytes(b"<rss/>")
    first = fetcher.fetch(FetchRequest(path.as_uri()))
    assert first.body == b"<rss/>" and first.last_modified
    again = fetcher.fetch(FetchRequest(path.as_uri(), last_modified=first.last_modified))
    assert again.not_modified
    os.utime(path, (1, 1))
    assert fetcher.fetch(FetchRequest(path.as_uri(), last_modified=first.last_modified)).body
    with pytest.raises(FetchError, match="no such file"):
        fetcher.fetch(FetchRequest((tmp_path / "missing.xml").as_uri()))


def test_the_user_agent_names_the_project(site, fetcher):
    seen = {}

    def echo(request):
        seen["ua"] = request.headers.get("User-Agent")
        respond(200, b"ok")(request)

    site.overrides = {"/ua": echo}
    fetcher.fetch(FetchRequest(f"{site.base_url}/ua"))
    assert seen["ua"] == "digest-test/1"


def _turns(by_host: dict[str, list[int]], per_host: int, window: int) -> HostTurns:
    return HostTurns({host: deque(i) for host, i in by_host.items()}, per_host, window)


def test_host_turns_keep_a_window_of_hosts_taking_turns():
    turns = _turns({"a": [0, 1, 2], "b": [3, 4], "c": [5]}, per_host=9, window=2)
    order = []
    while (turn := turns.next()) is not None:
        order.append(turn)
        turns.finished(turn[1])
    # c waits until a or b has nothing left, so a's and b's connections stay in use
    assert order == [(0, "a"), (3, "b"), (1, "a"), (4, "b"), (2, "a"), (5, "c")]


def test_host_turns_pass_over_a_busy_host_and_let_another_in_when_all_are_busy():
    turns = _turns({"slow": [0, 1, 2, 3], "b": [4, 5], "c": [6]}, per_host=1, window=2)
    assert [turns.next(), turns.next()] == [(0, "slow"), (4, "b")]
    assert turns.next() == (6, "c")  # slow and b are both at their limit
    assert turns.next() is None  # every host with requests left is at its limit
    turns.finished("b")
    assert turns.next() == (5, "b")  # not slow's next request: slow is still busy
    turns.finished("slow")
    assert turns.next() == (1, "slow")


def test_fetch_each_reuses_connections_across_many_hosts():
    """30 hosts, 4 pages each: hosts taking turns a window at a time keep their connections
    alive. With every host taking turns at once, each request opened a new connection."""
    connections = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            connections.append(self.client_address)
            super().setup()

        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: object) -> None:
            pass

    servers = [ThreadingHTTPServer((f"127.0.0.{n}", 0), Handler) for n in range(2, 32)]
    for server in servers:
        # A short poll: each shutdown() below waits out one poll of serve_forever.
        threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        ).start()
    try:
        urls = [
            f"http://127.0.0.{n}:{server.server_port}/page{page}"
            for page in range(4)
            for n, server in zip(range(2, 32), servers, strict=True)
        ]
        settings = FetchSettings(timeout=5.0, concurrency=8, per_host=2, user_agent="t/1")
        with Fetcher(settings) as fetcher:
            outcomes = dict(fetcher.fetch_each([FetchRequest(url) for url in urls]))
        assert all(outcomes[i].body == b"ok" for i in range(len(urls)))
        assert len(connections) <= 2 * len(servers)  # at most per_host to each host
    finally:
        fetcher.close()
        for server in servers:
            server.shutdown()
            server.server_close()


def test_a_latin1_robots_txt_is_read_and_a_binary_one_is_not():
    from digest.feeds._robots import robots_text

    latin1 = "# Über uns\nUser-agent: *\nDisallow: /privé/\n".encode("latin-1")
    assert "Disallow: /privé/" in robots_text(latin1).splitlines()
    with pytest.raises(ValueError, match="a NUL byte at offset 3"):
        robots_text(b"abc\x00def")


def test_a_servers_own_reason_phrase_is_not_repeated(site, fetcher):
    def escape(request):
        request.send_response(500, "Boom \x1b[2J\x1b]0;pwned\x07; feed deactivated")
        request.send_header("Content-Length", "0")
        request.end_headers()

    site.overrides = {"/boom": escape, "/teapot": respond(599)}
    with pytest.raises(FetchError) as caught:
        fetcher.fetch(FetchRequest(f"{site.base_url}/boom"))
    assert str(caught.value) == f"{site.base_url}/boom: HTTP 500 Internal Server Error"
    with pytest.raises(FetchError) as caught:
        fetcher.fetch(FetchRequest(f"{site.base_url}/teapot"))
    assert str(caught.value) == f"{site.base_url}/teapot: HTTP 599"


def test_a_host_that_times_out_three_times_in_a_row_is_not_asked_again_this_run(site, fetcher):
    site.overrides = {f"/drip{n}": stall(3) for n in range(5)}
    for n in range(3):
        with pytest.raises(FetchError, match="timed out after 1s"):
            fetcher.fetch(FetchRequest(f"{site.base_url}/drip{n}"))
    with pytest.raises(FetchError) as caught:
        fetcher.fetch(FetchRequest(f"{site.base_url}/techwire/feed.xml"))
    assert caught.value.reason == (
        "not asked: 127.0.0.1 did not answer in time 3 times or more in this run, for 25% or "
        "more of its pages"
    )
    assert ("GET", "/techwire/feed.xml", 200) not in site.requests
    # A feed the operator named is still asked, and the next run's fetcher asks again.
    feed = FetchRequest(f"{site.base_url}/techwire/feed.xml", stage="feed")
    assert fetcher.fetch(feed).status == 200
    with Fetcher(FetchSettings(timeout=1.0, max_bytes=200_000, user_agent="t/1")) as fresh:
        assert fresh.fetch(FetchRequest(f"{site.base_url}/techwire/feed.xml")).status == 200


def test_a_host_answering_every_other_page_at_once_is_not_asked_after_three_timeouts(site, fetcher):
    """Counted in a row, a fast answer between the drips reset the count: a host dripping
    every other page held an attacker's run for 25 minutes. Counted alone, three slow pages
    among sixty of a big site cost it the other thirty: the slow ones must also be a
    quarter of its pages."""
    site.overrides = {f"/drip{n}": stall(3) for n in range(4)}
    for n in range(3):
        with pytest.raises(FetchError, match="timed out"):
            fetcher.fetch(FetchRequest(f"{site.base_url}/drip{n}"))
        if n < 2:
            assert fetcher.fetch(FetchRequest(f"{site.base_url}/techwire/feed.xml")).status == 200
    with pytest.raises(FetchError) as caught:
        fetcher.fetch(FetchRequest(f"{site.base_url}/techwire/feed.xml"))
    assert caught.value.reason.startswith("not asked: 127.0.0.1 did not answer in time 3 times")

    # Three slow among twenty pages of a big site: the site is still asked.
    with Fetcher(FetchSettings(timeout=1.0, max_bytes=200_000, user_agent="t/1")) as busy:
        for n in range(3):
            for _ in range(6):
                assert busy.fetch(FetchRequest(f"{site.base_url}/techwire/feed.xml")).status == 200
            with pytest.raises(FetchError, match="timed out"):
                busy.fetch(FetchRequest(f"{site.base_url}/drip{n}"))
        assert busy.fetch(FetchRequest(f"{site.base_url}/techwire/feed.xml")).status == 200


def test_fast_redirects_before_each_slow_page_do_not_dilute_the_slow_share(site, fetcher):
    """Four fast redirects before each slow page made every page slow a fifth of the host's
    answers, under the quarter: a host slow on every page was never stopped (a review)."""
    base = site.base_url
    site.overrides = {}
    for n in range(4):
        for hop in range(4):
            target = f"{base}/hop{n}/{hop + 1}"
            site.overrides[f"/hop{n}/{hop}"] = respond(302, b"", "text/plain", Location=target)
        site.overrides[f"/hop{n}/4"] = stall(3)
    for n in range(3):
        with pytest.raises(FetchError, match="timed out"):
            fetcher.fetch(FetchRequest(f"{base}/hop{n}/0"))
    with pytest.raises(FetchError, match=r"not asked: 127\.0\.0\.1 did not answer in time"):
        fetcher.fetch(FetchRequest(f"{base}/hop3/0"))


def test_a_feed_whose_pages_time_out_on_many_hosts_is_not_asked_for_more():
    """A feed may link to a hundred hosts, each dripping: past FEED_TIMEOUTS of its pages,
    its other pages are not asked, whichever host they are on."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from digest.feeds._fetch import FEED_TIMEOUTS, HOST_TIMEOUTS

    class Silent(BaseHTTPRequestHandler):
        def do_GET(self):
            time.sleep(3)

        def log_message(self, *args):
            pass

    servers = [ThreadingHTTPServer((f"127.0.0.{n}", 0), Silent) for n in range(2, 6)]
    for server in servers:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    feed = "https://many-hosts.example/rss"
    settings = FetchSettings(timeout=1.0, max_bytes=200_000, user_agent="t/1", allow_private=True)
    fetcher = Fetcher(settings)
    try:
        bases = [f"http://127.0.0.{n}:{server.server_port}" for n, server in enumerate(servers, 2)]
        asked = 0
        while asked < FEED_TIMEOUTS:  # round the hosts: none reaches HOST_TIMEOUTS first
            with pytest.raises(FetchError, match="timed out"):
                fetcher.fetch(FetchRequest(f"{bases[asked % 4]}/p{asked}", trusted_feed=feed))
            asked += 1
        assert FEED_TIMEOUTS < 4 * HOST_TIMEOUTS
        with pytest.raises(FetchError) as caught:
            fetcher.fetch(FetchRequest(f"{bases[3]}/last", trusted_feed=feed))
        assert caught.value.reason == (
            f"not asked: {FEED_TIMEOUTS} or more of this feed's pages did not answer in time in "
            "this run, 25% or more of them"
        )
        # Another feed's page on those hosts is still asked (and times out on its own).
        with pytest.raises(FetchError, match="timed out"):
            fetcher.fetch(FetchRequest(f"{bases[3]}/other", trusted_feed="https://b.example/"))
    finally:
        fetcher.close()
        for server in servers:
            server.shutdown()
            server.server_close()


def drip_body(seconds: float):
    """Headers at once, then a body that does not come."""

    def handler(request):
        request.send_response(200)
        request.send_header("Content-Length", "1000")
        request.end_headers()
        request.wfile.write(b"<html>")
        request.wfile.flush()
        time.sleep(seconds)

    return handler


def test_pages_whose_body_stalls_count_as_timeouts_of_their_host(site, fetcher):
    site.overrides = {f"/slow{n}": drip_body(3) for n in range(3)}
    for n in range(3):
        with pytest.raises(FetchError, match="timed out"):
            fetcher.fetch(FetchRequest(f"{site.base_url}/slow{n}"))
    with pytest.raises(FetchError, match=r"not asked: 127\.0\.0\.1 did not answer in time"):
        fetcher.fetch(FetchRequest(f"{site.base_url}/techwire/feed.xml"))


def drip_whole(seconds: float, pieces: int = 5):
    """A whole page, trickled out over `seconds`, each gap well within fetch.timeout."""

    def handler(request):
        body = b"<html><body><p>" + b"x" * 95 * pieces + b"</p></body></html>"
        request.send_response(200)
        request.send_header("Content-Length", str(len(body)))
        request.end_headers()
        step = -(-len(body) // pieces)
        for start in range(0, len(body), step):
            request.wfile.write(body[start : start + step])
            request.wfile.flush()
            time.sleep(seconds / pieces)

    return handler


def test_a_host_that_drips_each_page_out_within_the_budget_is_not_asked_a_fourth_time(
    site, fetcher
):
    # Each answer arrives whole, in 1.5 s of a 3 s budget (fetch.timeout 1): no timeout
    # ever fires, and 100 such pages held a run for 100 x 1.5 s / per-host slots.
    site.overrides = {f"/drip{n}": drip_whole(1.5) for n in range(4)}
    for n in range(3):
        assert fetcher.fetch(FetchRequest(f"{site.base_url}/drip{n}")).status == 200
    with pytest.raises(FetchError, match=r"not asked: 127\.0\.0\.1 did not answer in time"):
        fetcher.fetch(FetchRequest(f"{site.base_url}/drip3"))
    assert ("GET", "/drip3", 200) not in site.requests


def test_timeouts_behind_a_redirector_count_against_the_slow_host_not_the_redirector(site):
    # Feeds whose links all go through one redirector (news aggregators): three slow
    # publishers must not stop the redirector's other links. "localhost" is the slow host,
    # 127.0.0.1 the redirector and a fast publisher.
    slow = f"http://localhost:{site.port}"
    site.overrides = {
        **{f"/r/slow{n}": redirect_to(f"{slow}/slow{n}") for n in range(3)},
        **{f"/slow{n}": stall(3) for n in range(3)},
        "/r/fast": redirect_to(f"{site.base_url}/techwire/feed.xml"),
    }
    settings = FetchSettings(timeout=1.0, max_bytes=200_000, user_agent="t/1", allow_private=True)
    with Fetcher(settings) as fetcher:
        for n in range(3):
            with pytest.raises(FetchError, match="timed out"):
                fetcher.fetch(FetchRequest(f"{site.base_url}/r/slow{n}"))
        assert fetcher.fetch(FetchRequest(f"{site.base_url}/r/fast")).status == 200
        with pytest.raises(FetchError, match="not asked: localhost did not answer in time"):
            fetcher.fetch(FetchRequest(f"{slow}/techwire/feed.xml"))


def test_a_redirect_holding_a_c1_control_is_refused_without_echoing_it(site, fetcher):
    # httpx reads the Location header as Latin-1: 0x9B is a terminal's CSI, 0x85 a line end.
    site.overrides = {"/moved": redirect_to("/next\x9b2K\x9b1A\x85.xml")}
    with pytest.raises(FetchError) as raised:
        fetcher.fetch(FetchRequest(f"{site.base_url}/moved"))
    message = str(raised.value)
    assert "redirected to a URL holding control characters or too long to fetch" in message
    assert not any(c in message for c in "\x9b\x85")


def test_a_slow_redirector_s_time_is_not_charged_to_the_host_behind_it(site):
    # "localhost" takes 0.7 s to redirect to 127.0.0.1, which answers in 0.4 s: each
    # request takes longer than fetch.timeout (1 s), no hop of 127.0.0.1 does.
    def slow_redirect(request):
        time.sleep(0.7)
        redirect_to(f"{site.base_url}/page")(request)

    def page(request):
        time.sleep(0.4)
        respond(200, b"<html><body><p>the page</p></body></html>")(request)

    site.overrides = {"/page": page, **{f"/hop{n}": slow_redirect for n in range(4)}}
    hops = site.base_url.replace("127.0.0.1", "localhost")
    settings = FetchSettings(timeout=1.0, max_bytes=200_000, user_agent="t/1", allow_private=True)
    with Fetcher(settings) as fetcher:
        for n in range(4):
            assert fetcher.fetch(FetchRequest(f"{hops}/hop{n}")).status == 200
        assert fetcher.fetch(FetchRequest(f"{site.base_url}/techwire/feed.xml")).status == 200


def test_a_page_that_names_another_media_type_is_not_read(site, fetcher):
    def episode(request: BaseHTTPRequestHandler) -> None:
        """An audio file sent without a length, its bytes after a long pause."""
        request.send_response(200)
        request.send_header("Content-Type", "audio/mpeg")
        request.end_headers()
        request.wfile.flush()
        time.sleep(5)
        with contextlib.suppress(OSError):
            request.wfile.write(b"\xff\xfb" * 400_000)

    site.overrides = {"/episode-12.mp3": episode}
    url = f"{site.base_url}/episode-12.mp3"
    started = time.monotonic()
    with pytest.raises(FetchError, match=r"the page is audio/mpeg, not HTML$"):
        fetcher.fetch(FetchRequest(url, html_only=True))
    assert time.monotonic() - started < 4  # its headers are enough; the body is not awaited
    # Asked for anything (a feed), the same answer is read, to the limit.
    with pytest.raises(FetchError, match=r"timed out|exceeds the 200,000 byte limit"):
        fetcher.fetch(FetchRequest(url))
