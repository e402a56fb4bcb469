"""Fetching as a feed's server and the operator see it: the conditional GET headers sent and
the validators kept, the redirects followed and the moves recorded, the limits on bodies,
the waits a server asks for, and what each refusal says. Written for bench/mutation.sh's
run over digest/feeds/_fetch.py (the branches no other in-process test reached); servers on
127.0.0.1 only."""

from __future__ import annotations

import gzip
import os
import ssl
import threading
import time
import tracemalloc
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, formatdate

import pytest
from conftest import DEMO_SITES, respond
from sites import LocalSite
from test_mutants_netguard import RawServer, read_request, tls_files  # noqa: F401 (a fixture)

from digest.config._loader import FetchSettings
from digest.errors import FetchError
from digest.feeds._fetch import FEED_ACCEPT, Fetcher, FetchRequest

FEED = b'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title></channel></rss>'


@pytest.fixture(scope="module")
def one_site() -> Iterator[LocalSite]:
    with LocalSite(DEMO_SITES, port=0) as server:
        yield server


@pytest.fixture
def site(one_site: LocalSite) -> LocalSite:
    """One server for the module (stopping one takes half a second), cleared for each test."""
    one_site.overrides, one_site.requests = {}, []
    return one_site


@pytest.fixture
def fetcher():
    with Fetcher(FetchSettings(timeout=1.0, max_bytes=4096, user_agent="digest-test/1")) as f:
        yield f


def recording(answer, seen: list[dict[str, str]]):
    """A route that notes the request's headers, then answers as `answer` does."""

    def handler(request):
        seen.append(dict(request.headers.items()))
        answer(request)

    return handler


def answer(status: int, body: bytes = b"", **headers: str):
    def handler(request):
        request.send_response(status)
        for name, value in headers.items():
            request.send_header(name.replace("_", "-"), value)
        request.send_header("Content-Length", str(len(body)))
        request.end_headers()
        request.wfile.write(body)

    return handler


def failure(fetcher: Fetcher, request: FetchRequest) -> FetchError:
    with pytest.raises(FetchError) as caught:
        fetcher.fetch(request)
    return caught.value


# -- conditional GET ---------------------------------------------------------------------------


def test_a_conditional_get_sends_both_validators_and_the_feed_accept_header(site, fetcher):
    seen: list[dict[str, str]] = []
    site.overrides = {"/f.xml": recording(answer(304), seen)}
    request = FetchRequest(
        f"{site.base_url}/f.xml", etag='"v1"', last_modified="Mon, 23 Nov 2026 08:00:00 GMT",
        accept=FEED_ACCEPT,
    )  # fmt: skip
    result = fetcher.fetch(request)
    assert seen[0]["If-None-Match"] == '"v1"'
    assert seen[0]["If-Modified-Since"] == "Mon, 23 Nov 2026 08:00:00 GMT"
    assert seen[0]["Accept"] == FEED_ACCEPT
    assert seen[0]["User-Agent"] == "digest-test/1"
    # A 304 without validators of its own keeps the ones we sent.
    assert (result.status, result.body, result.not_modified) == (304, None, True)
    assert (result.etag, result.last_modified) == ('"v1"', "Mon, 23 Nov 2026 08:00:00 GMT")
    assert result.final_url == request.url


def test_a_304_with_new_validators_gives_those(site, fetcher):
    site.overrides = {"/f.xml": answer(304, ETag='"v2"', Last_Modified="Tue, 24 Nov 2026")}
    result = fetcher.fetch(FetchRequest(f"{site.base_url}/f.xml", etag='"v1"'))
    assert (result.etag, result.last_modified) == ('"v2"', "Tue, 24 Nov 2026")


def test_a_304_whose_validators_cannot_go_back_keeps_the_ones_sent(site, fetcher):
    """A 304 naming an ETag or date of non-ASCII text was kept, and building the next run's
    request from it failed: every run after it died (an attacker's trial)."""
    seen: list[dict[str, str]] = []
    site.overrides = {
        "/f.xml": recording(answer(304, ETag='"caf\xe9"', Last_Modified="Mon, 07 D\xe9c"), seen)
    }
    sent = FetchRequest(f"{site.base_url}/f.xml", etag='"v1"', last_modified="Mon, 07 Dec")
    result = fetcher.fetch(sent)
    assert (result.status, result.etag, result.last_modified) == (304, '"v1"', "Mon, 07 Dec")
    # A state written before this check holds such values: they are not sent.
    again = fetcher.fetch(FetchRequest(sent.url, etag='"caf\xe9"', last_modified="D\xe9c"))
    assert again.status == 304
    assert "If-None-Match" not in seen[-1] and "If-Modified-Since" not in seen[-1]


def test_a_first_get_sends_no_validator(site, fetcher):
    seen: list[dict[str, str]] = []
    site.overrides = {"/f.xml": recording(answer(200, FEED, ETag='"v1"'), seen)}
    result = fetcher.fetch(FetchRequest(f"{site.base_url}/f.xml"))
    assert "If-None-Match" not in seen[0] and "If-Modified-Since" not in seen[0]
    assert seen[0]["Accept"].startswith("text/html")  # a page's Accept unless told otherwise
    assert (result.status, result.body, result.etag) == (200, FEED, '"v1"')


def test_validators_that_cannot_go_back_as_ascii_headers_are_dropped(site, fetcher):
    site.overrides = {
        "/f.xml": answer(200, FEED, ETag='"v1\t"', Last_Modified="Mon, 23 Nov 2026",
                         Content_Type="application/rss+xml")
    }  # fmt: skip
    result = fetcher.fetch(FetchRequest(f"{site.base_url}/f.xml"))
    assert (result.etag, result.last_modified) == (None, "Mon, 23 Nov 2026")
    assert result.content_type == "application/rss+xml"


# -- redirects ---------------------------------------------------------------------------------


def test_a_permanent_redirect_records_the_move_and_a_temporary_one_does_not(site, fetcher):
    base = site.base_url
    site.overrides = {
        "/a.xml": answer(301, Location="/b.xml"),
        "/b.xml": answer(302, Location=f"{base}/c.xml"),
        "/c.xml": answer(200, FEED),
        "/t.xml": answer(307, Location="  /c.xml "),
        "/p.xml": answer(308, Location="/c.xml"),
    }
    moved = fetcher.fetch(FetchRequest(f"{base}/a.xml"))
    # A -301-> B -302-> C: A now lives at B, which only lends C.
    assert (moved.url, moved.final_url, moved.moved_to) == (
        f"{base}/a.xml", f"{base}/c.xml", f"{base}/b.xml",
    )  # fmt: skip
    assert moved.body == FEED
    temporary = fetcher.fetch(FetchRequest(f"{base}/t.xml"))
    assert (temporary.final_url, temporary.moved_to) == (f"{base}/c.xml", None)
    assert fetcher.fetch(FetchRequest(f"{base}/p.xml")).moved_to == f"{base}/c.xml"


def test_a_redirect_loop_stops_after_five_hops(site, fetcher):
    site.overrides = {"/loop.xml": answer(302, Location="/loop.xml")}
    error = failure(fetcher, FetchRequest(f"{site.base_url}/loop.xml"))
    assert error.reason == "more than 5 redirects"
    assert sum(1 for r in site.requests if r[1] == "/loop.xml") == 6


def test_five_redirects_are_followed(site, fetcher):
    site.overrides = {f"/{n}.xml": answer(302, Location=f"/{n + 1}.xml") for n in range(5)}
    site.overrides["/5.xml"] = answer(200, FEED)
    assert fetcher.fetch(FetchRequest(f"{site.base_url}/0.xml")).body == FEED


def test_a_redirect_without_location_is_an_error_naming_it(site, fetcher):
    site.overrides = {"/r.xml": answer(301)}
    error = failure(fetcher, FetchRequest(f"{site.base_url}/r.xml"))
    assert error.reason == "HTTP 301 Moved Permanently without a Location"
    assert error.status == 301


def test_a_redirect_to_another_scheme_is_refused(site, fetcher):
    site.overrides = {"/r.xml": answer(302, Location="ftp://files.example/feed.xml")}
    error = failure(fetcher, FetchRequest(f"{site.base_url}/r.xml"))
    assert error.reason == "redirected to a non-http(s) URL 'ftp://files.example/feed.xml'"
    assert error.url == f"{site.base_url}/r.xml"


# -- what a server asks for, and what a failure says --------------------------------------------


@pytest.mark.parametrize(
    ("status", "phrase"), [(429, "Too Many Requests"), (503, "Service Unavailable")]
)
def test_retry_after_in_seconds_is_kept_and_shown(site, fetcher, status, phrase):
    site.overrides = {"/f.xml": answer(status, Retry_After=" 120 ")}
    error = failure(fetcher, FetchRequest(f"{site.base_url}/f.xml"))
    assert (error.status, error.retry_after) == (status, 120.0)
    assert error.reason == f"HTTP {status} {phrase} (Retry-After: 120s)"


def test_retry_after_as_a_date_is_the_time_until_then_and_capped_at_a_week(site, fetcher):
    later = format_datetime(datetime.now(UTC) + timedelta(hours=1), usegmt=True)
    years = format_datetime(datetime.now(UTC) + timedelta(days=400), usegmt=True)
    past = format_datetime(datetime.now(UTC) - timedelta(hours=1), usegmt=True)
    site.overrides = {
        "/later": answer(429, Retry_After=later),
        "/years": answer(503, Retry_After=years),
        "/past": answer(503, Retry_After=past),
        "/junk": answer(503, Retry_After="soon"),
        "/other": answer(500, Retry_After="60"),
    }
    wait = failure(fetcher, FetchRequest(f"{site.base_url}/later")).retry_after
    assert 3590 <= wait <= 3600
    assert failure(fetcher, FetchRequest(f"{site.base_url}/years")).retry_after == 7 * 86400
    assert failure(fetcher, FetchRequest(f"{site.base_url}/past")).retry_after == 0.0
    junk = failure(fetcher, FetchRequest(f"{site.base_url}/junk"))
    assert (junk.retry_after, junk.reason) == (None, "HTTP 503 Service Unavailable")
    other = failure(fetcher, FetchRequest(f"{site.base_url}/other"))
    assert other.reason == "HTTP 500 Internal Server Error"  # only 429 and 503 ask to wait


@pytest.mark.parametrize(
    "value",
    [
        "01 Jan 2026 00:00:00 +99999999999999999999",  # an offset past any C int
        "01 Jan 10000000000000000000 00:00:00 GMT",
        "\xb2",  # a digit to str.isdigit(), not to float()
    ],
)
def test_a_retry_after_past_reading_is_no_wait_and_no_crash(site, fetcher, value):
    site.overrides = {"/f.xml": answer(503, Retry_After=value)}
    error = failure(fetcher, FetchRequest(f"{site.base_url}/f.xml"))
    assert (error.status, error.retry_after) == (503, None)
    assert error.reason == "HTTP 503 Service Unavailable"


def test_a_retry_after_of_more_digits_than_a_week_is_a_week(site, fetcher):
    site.overrides = {"/f.xml": answer(503, Retry_After="9" * 40)}
    assert failure(fetcher, FetchRequest(f"{site.base_url}/f.xml")).retry_after == 7 * 86400


def test_whatever_reading_an_answer_raises_costs_that_url_only(
    site, fetcher, monkeypatch, digest_log
):
    """The boundary parsing and extraction have too: a surprise of the HTTP stack or of our
    reading of a server's headers is this URL's failure, not the run's."""
    import digest.feeds._fetch as fetching

    def surprise(value):
        raise RuntimeError("a reading no test foresaw")

    monkeypatch.setattr(fetching, "_retry_after", surprise)
    site.overrides = {"/f.xml": answer(503, Retry_After="60")}
    error = failure(fetcher, FetchRequest(f"{site.base_url}/f.xml"))
    assert error.reason == (
        "the fetch failed unexpectedly (RuntimeError: a reading no test foresaw)"
    )
    # It may be our own bug: its traceback is in the log, not only its one line.
    logged = [r for r in digest_log.records if "failed unexpectedly" in r.getMessage()]
    assert logged and all(r.levelname == "WARNING" and r.exc_info for r in logged)


def test_unsupported_schemes_and_bad_urls_say_so(fetcher):
    assert failure(fetcher, FetchRequest("ftp://files.example/f")).reason == (
        "unsupported URL scheme 'ftp'"
    )
    assert failure(fetcher, FetchRequest("http://[::1/f")).reason.startswith("invalid URL: ")


# -- limits ------------------------------------------------------------------------------------


def test_a_body_declared_over_the_limit_is_refused_before_reading(site, fetcher):
    site.overrides = {"/big": respond(200, b"x" * 5000)}
    error = failure(fetcher, FetchRequest(f"{site.base_url}/big"))
    assert error.reason == "body of 5,000 bytes exceeds the 4,096 limit"


def test_a_body_of_exactly_the_limit_is_read(site, fetcher):
    site.overrides = {"/full": respond(200, b"x" * 4096)}
    assert len(fetcher.fetch(FetchRequest(f"{site.base_url}/full")).body) == 4096


def chunked(body: bytes, encoding: str = ""):
    """A route that sends `body` without a Content-Length (chunks of 1000 bytes)."""

    def handler(request):
        request.send_response(200)
        request.send_header("Transfer-Encoding", "chunked")
        if encoding:
            request.send_header("Content-Encoding", encoding)
        request.end_headers()
        for start in range(0, len(body), 1000):
            piece = body[start : start + 1000]
            request.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
        request.wfile.write(b"0\r\n\r\n")

    return handler


def test_bodies_without_a_length_are_cut_off_at_the_limit(site, fetcher):
    site.overrides = {
        "/plain": chunked(b"x" * 5000),
        "/gzip": chunked(gzip.compress(b"x" * 5000), "gzip"),
        "/deflate": chunked(zlib.compress(b"x" * 5000), "deflate"),
        "/fits": chunked(gzip.compress(b"y" * 4096), "x-gzip"),
        "/raw-deflate": chunked(zlib.compress(b"z" * 3000)[2:-4], "Deflate"),
    }
    plain = failure(fetcher, FetchRequest(f"{site.base_url}/plain"))
    assert plain.reason == "body exceeds the 4,096 byte limit"
    for path in ("/gzip", "/deflate"):
        error = failure(fetcher, FetchRequest(f"{site.base_url}{path}"))
        assert error.reason == "decompressed body exceeds the 4,096 byte limit"
    assert fetcher.fetch(FetchRequest(f"{site.base_url}/fits")).body == b"y" * 4096
    # Raw deflate, as some servers send "deflate".
    assert fetcher.fetch(FetchRequest(f"{site.base_url}/raw-deflate")).body == b"z" * 3000


def test_read_first_keeps_the_start_of_a_long_body(site, fetcher):
    site.overrides = {
        "/robots.txt": respond(200, b"a" * 3000 + b"b" * 3000, "text/plain"),
        "/zipped": chunked(gzip.compress(b"c" * 9000), "gzip"),
    }
    first = fetcher.fetch(FetchRequest(f"{site.base_url}/robots.txt", read_first=3001))
    assert first.body == b"a" * 3000 + b"b"
    zipped = fetcher.fetch(FetchRequest(f"{site.base_url}/zipped", read_first=5000))
    assert zipped.body == b"c" * 5000


def test_a_body_in_an_unknown_or_broken_encoding_is_refused(site, fetcher):
    site.overrides = {
        "/br": chunked(b"whatever", "br"),
        "/broken": chunked(b"not gzip at all", "gzip"),
    }
    assert failure(fetcher, FetchRequest(f"{site.base_url}/br")).reason == (
        "unsupported content encoding 'br'"
    )
    assert failure(fetcher, FetchRequest(f"{site.base_url}/broken")).reason.startswith(
        "bad content encoding: "
    )


# -- feeds read from files ------------------------------------------------------------------------


def test_a_local_feed_is_read_with_its_mtime_as_last_modified(tmp_path, fetcher):
    path = tmp_path / "feed.xml"
    path.write_bytes(FEED)
    os.utime(path, (1_700_000_000, 1_700_000_000))
    stamp = formatdate(1_700_000_000, usegmt=True)
    url = path.as_uri()
    first = fetcher.fetch(FetchRequest(url))
    assert (first.status, first.body, first.last_modified) == (200, FEED, stamp)
    again = fetcher.fetch(FetchRequest(url, last_modified=stamp))
    assert (again.status, again.body, again.last_modified) == (304, None, stamp)
    older = formatdate(1_600_000_000, usegmt=True)
    assert fetcher.fetch(FetchRequest(url, last_modified=older)).status == 200
    assert fetcher.fetch(FetchRequest(url, last_modified="not a date")).status == 200


def test_a_local_feed_that_is_missing_too_big_or_a_folder_says_so(tmp_path, fetcher):
    (tmp_path / "big.xml").write_bytes(b"x" * 5000)
    (tmp_path / "exact.xml").write_bytes(b"x" * 4096)
    reasons = {
        name: failure(fetcher, FetchRequest((tmp_path / name).as_uri())).reason
        for name in ("missing.xml", "big.xml")
    }
    assert reasons["missing.xml"] == "no such file"
    assert reasons["big.xml"] == "file of 5,000 bytes exceeds the limit"
    assert failure(fetcher, FetchRequest(tmp_path.as_uri())).reason == (
        "is a directory, not a file"
    )
    assert fetcher.fetch(FetchRequest((tmp_path / "exact.xml").as_uri())).status == 200


# -- robots.txt, credentials and cookies ----------------------------------------------------------


ROBOTS = b"User-agent: digest\nDisallow: /private/\n\nUser-agent: *\nDisallow: /\n"


def test_robots_txt_is_read_once_per_site_and_keeps_digest_off_what_it_disallows(site, fetcher):
    from digest.feeds._robots import disallowed

    site.overrides = {"/robots.txt": respond(200, ROBOTS, "text/plain")}
    base = site.base_url
    pages = [(f"{base}/private/a.html", None), (f"{base}/news/b.html", None),
             (f"{base}/private/c.html", None), ("file:///srv/page.html", None)]  # fmt: skip
    reasons = disallowed(fetcher, pages)
    assert reasons == {
        f"{base}/private/a.html": "disallowed by robots.txt",
        f"{base}/private/c.html": "disallowed by robots.txt",
    }
    assert [r for r in site.requests if r[1] == "/robots.txt"] == [("GET", "/robots.txt", 200)]


@pytest.mark.parametrize(
    ("route", "reason"),
    [
        (respond(404, b"none"), None),  # no robots.txt: every page may be fetched
        (respond(410, b"gone"), None),
        (respond(400, b"bad"), None),
        (respond(500, b"oops"), "robots.txt unavailable ({base}/robots.txt: HTTP 500 Internal "
                                "Server Error), so the site is not crawled this run"),
        (respond(503, b"down"), "robots.txt unavailable ({base}/robots.txt: HTTP 503 Service "
                                "Unavailable), so the site is not crawled this run"),
        (respond(200, b"User-agent: *\x00", "text/plain"),
         "robots.txt unavailable ({base}/robots.txt is not text: a NUL byte at offset 13), so "
         "the site is not crawled this run"),
    ],
)  # fmt: skip
def test_a_missing_robots_txt_allows_all_and_a_broken_one_keeps_the_site_off(
    site, fetcher, route, reason
):
    from digest.feeds._robots import disallowed

    site.overrides = {"/robots.txt": route}
    page = f"{site.base_url}/news/b.html"
    expected = {} if reason is None else {page: reason.format(base=site.base_url)}
    assert disallowed(fetcher, [(page, None)]) == expected


@pytest.mark.parametrize(
    "bad_line",
    ["Crawl-delay: \u00b2", "Request-rate: 1/\u00b2", "Disallow: //[", "Allow: http://[::1"],
)
def test_a_robots_txt_line_urllib_cannot_read_is_ignored_and_the_rest_obeyed(
    site, fetcher, bad_line
):
    """urllib's parser raised on these, and the run died (an attacker's trial); RFC 9309
    has a crawler ignore what it cannot parse."""
    from digest.feeds._robots import disallowed

    body = f"User-agent: *\n{bad_line}\nDisallow: /private/\n".encode()
    site.overrides = {"/robots.txt": respond(200, body, "text/plain")}
    private, news = f"{site.base_url}/private/a.html", f"{site.base_url}/news/b.html"
    assert disallowed(fetcher, [(private, None), (news, None)]) == {
        private: "disallowed by robots.txt"
    }


def test_a_page_robots_txt_cannot_be_asked_for_says_why(fetcher):
    from digest.feeds._robots import disallowed

    # A feed's link to a private address: the policy refuses robots.txt, and the page.
    page = "http://127.0.0.1:9/news/b.html"
    reasons = disallowed(fetcher, [(page, "https://feed.example/feed.xml")])
    assert reasons[page].startswith("not fetched: 127.0.0.1 is a loopback address")


def test_robots_txt_cut_at_500_kib_drops_its_unfinished_last_line():
    from digest.feeds._robots import robots_text

    body = (b"# " + b"x" * 100 + b"\n") * 5069 + b"Disallow: /a"
    text = robots_text(body[: 500 * 1024])
    assert "Disallow: /a" not in text and text.splitlines()[-1] == "# " + "x" * 100
    assert len(text.splitlines()) == 500 * 1024 // 103  # every complete line is kept
    assert robots_text(b"\xef\xbb\xbfUser-agent: *\nDisallow: /x") == (
        "User-agent: *\nDisallow: /x"
    )
    with pytest.raises(ValueError, match="a control byte at offset 3"):
        robots_text(b"abc\x01")


def test_feed_credentials_go_to_the_feed_s_origin_only(site):
    seen: list[dict[str, str]] = []
    other = LocalSite(DEMO_SITES, port=0)
    # allow_private: the other origin is on loopback too.
    settings = FetchSettings(timeout=1.0, allow_private=True)
    with other, Fetcher(settings) as fetcher:
        other.overrides = {"/story": recording(answer(200, FEED), seen)}
        site.overrides = {
            "/feed.xml": recording(answer(200, FEED), seen),
            "/away": recording(answer(302, Location=f"{other.base_url}/story"), seen),
        }
        credentials = (("Authorization", "Basic dTpw"),)
        feed = f"{site.base_url}/feed.xml"
        for url in (feed, f"{site.base_url}/away"):
            fetcher.fetch(FetchRequest(url, credentials=credentials, credentials_for=feed))
    assert [h.get("Authorization") for h in seen] == ["Basic dTpw", "Basic dTpw", None]


def test_a_cookie_one_response_sets_is_never_sent_back(site, fetcher):
    seen: list[dict[str, str]] = []
    site.overrides = {
        "/set": answer(200, FEED, Set_Cookie="session=abc; Path=/"),
        "/next": recording(answer(200, FEED), seen),
    }
    fetcher.fetch(FetchRequest(f"{site.base_url}/set"))
    fetcher.fetch(FetchRequest(f"{site.base_url}/next"))
    assert "Cookie" not in seen[0]


def test_fetch_many_keeps_the_order_of_the_requests_and_turns_failures_into_skips(site, fetcher):
    site.overrides = {"/gone": respond(410, b"gone")}
    results = fetcher.fetch_many(
        [FetchRequest(f"{site.base_url}/techwire/feed.xml", stage="feed"),
         FetchRequest(f"{site.base_url}/gone", stage="feed")]
    )  # fmt: skip
    assert results[0].status == 200
    skipped = results[1]
    assert (skipped.stage, skipped.target, skipped.status) == ("feed", f"{site.base_url}/gone", 410)
    assert skipped.reason == "HTTP 410 Gone"
    assert fetcher.fetch_many([]) == []


# -- https ---------------------------------------------------------------------------------------


def test_an_https_url_redirected_to_plain_http_is_refused_and_to_https_followed(
    tls_files,  # noqa: F811 (the fixture imported above)
    monkeypatch,
):
    monkeypatch.setenv("SSL_CERT_FILE", str(tls_files["ca"]))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(tls_files["cert"], tls_files["key"])
    answers = {
        b"/feed.xml": b"HTTP/1.1 302 Found\r\nLocation: http://localhost/feed.xml\r\n",
        b"/moved.xml": b"HTTP/1.1 301 Moved\r\nLocation: /feed2.xml\r\n",
        b"/long.xml": b"HTTP/1.1 302 Found\r\nLocation: http://localhost/%s\r\n" % (b"a" * 300),
        b"/feed2.xml": b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n" % len(FEED),
    }

    def serve(connection, stop) -> None:
        with context.wrap_socket(connection, server_side=True) as tls:
            path = read_request(tls).split(b" ")[1]
            if path == b"/feed2.xml":
                tls.sendall(answers[path] + b"\r\n" + FEED)
            else:
                tls.sendall(answers[path] + b"Content-Length: 0\r\n\r\n")

    with RawServer(serve) as server, Fetcher(FetchSettings(timeout=1.0)) as fetcher:
        base = f"https://localhost:{server.port}"
        fixes = {"feed": "if plain http is really intended, use the http URL in the config",
                 "page": "an https link is fetched over https only"}  # fmt: skip
        for stage, fix in fixes.items():
            error = failure(fetcher, FetchRequest(f"{base}/feed.xml", stage=stage))
            assert error.reason == (
                f"redirected from https to plain http ({base}/feed.xml -> "
                f"http://localhost/feed.xml): refused; {fix}"
            )
            assert error.url == f"{base}/feed.xml"
        long = failure(fetcher, FetchRequest(f"{base}/long.xml", stage="page"))
        shown = ("http://localhost/" + "a" * 300)[:200]
        assert long.reason == (
            f"redirected from https to plain http ({base}/long.xml -> {shown}): refused; "
            "an https link is fetched over https only"
        )
        moved = fetcher.fetch(FetchRequest(f"{base}/moved.xml"))
    assert (moved.body, moved.moved_to) == (FEED, f"{base}/feed2.xml")


# -- what the rest of the mutation run asked for --------------------------------------------------


def test_every_failure_of_a_batch_names_the_url_that_failed(site, fetcher):
    base = site.base_url
    site.overrides = {
        "/big": respond(200, b"x" * 5000),
        "/to-big": answer(302, Location="/big"),
        "/long": chunked(b"x" * 5000),
        "/bomb": chunked(gzip.compress(b"x" * 9000), "gzip"),
        "/br": chunked(b"whatever", "br"),
        "/broken": chunked(b"not gzip at all", "gzip"),
        "/busy": answer(429, Retry_After="120"),
    }
    paths = ["/big", "/to-big", "/long", "/bomb", "/br", "/broken", "/busy"]
    skipped = fetcher.fetch_many([FetchRequest(f"{base}{path}") for path in paths])
    # A failure after a redirect names the URL redirected to: the one that failed.
    assert [s.target for s in skipped] == [
        f"{base}/big", f"{base}/big", f"{base}/long", f"{base}/bomb", f"{base}/br",
        f"{base}/broken", f"{base}/busy",
    ]  # fmt: skip
    assert skipped[-1].retry_after == 120.0 and skipped[-1].status == 429


def test_a_local_feed_s_result_and_failures_name_its_url(tmp_path, fetcher):
    path = tmp_path / "feed.xml"
    path.write_bytes(FEED)
    url = path.as_uri()
    first = fetcher.fetch(FetchRequest(url))
    assert (first.url, first.final_url) == (url, url)
    again = fetcher.fetch(FetchRequest(url, last_modified=first.last_modified))
    assert (again.status, again.url, again.final_url) == (304, url, url)
    (tmp_path / "big.xml").write_bytes(b"x" * 5000)
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    urls = [(tmp_path / n).as_uri() for n in ("missing.xml", "big.xml")] + [
        tmp_path.as_uri(), (blocker / "feed.xml").as_uri(),
    ]  # fmt: skip
    skipped = fetcher.fetch_many([FetchRequest(u, stage="feed") for u in urls])
    assert [s.target for s in skipped] == urls
    assert skipped[3].reason == "cannot read: Not a directory"


def test_a_304_reached_through_a_permanent_redirect_records_the_move(site, fetcher):
    base = site.base_url
    site.overrides = {"/old.xml": answer(301, Location="/new.xml"), "/new.xml": answer(304)}
    result = fetcher.fetch(FetchRequest(f"{base}/old.xml", etag='"v1"'))
    assert (result.status, result.url, result.final_url) == (
        304, f"{base}/old.xml", f"{base}/new.xml"
    )  # fmt: skip
    assert result.moved_to == f"{base}/new.xml"


def test_http_400_is_an_error_naming_its_status(site, fetcher):
    site.overrides = {"/bad": respond(400, b"no")}
    error = failure(fetcher, FetchRequest(f"{site.base_url}/bad"))
    assert (error.reason, error.status) == ("HTTP 400 Bad Request", 400)


def test_identity_is_no_encoding_and_deflate_that_is_neither_kind_is_refused(site, fetcher):
    site.overrides = {
        "/identity": chunked(FEED, "identity"),
        "/junk": chunked(b"\xff" * 64, "deflate"),
    }
    assert fetcher.fetch(FetchRequest(f"{site.base_url}/identity")).body == FEED
    error = failure(fetcher, FetchRequest(f"{site.base_url}/junk"))
    assert error.reason.startswith("bad content encoding: ")


def test_read_first_over_many_pieces_keeps_exactly_the_start(site, fetcher):
    text = bytes(range(32, 127)) * 100  # 9,500 bytes in pieces of 1,000
    site.overrides = {"/plain": chunked(text), "/zipped": chunked(gzip.compress(text), "gzip")}
    for path in ("/plain", "/zipped"):
        result = fetcher.fetch(FetchRequest(f"{site.base_url}{path}", read_first=2500))
        assert result.body == text[:2500], path


def test_read_first_does_not_wait_for_the_rest_of_the_body(site, fetcher):
    def first_then_stall(request):
        request.send_response(200)
        request.send_header("Content-Length", "100000")
        request.end_headers()
        request.wfile.write(b"a" * 3000)
        request.wfile.flush()
        time.sleep(3)  # the rest never comes within fetch.timeout

    site.overrides = {"/slow": first_then_stall}
    started = time.monotonic()
    result = fetcher.fetch(FetchRequest(f"{site.base_url}/slow", read_first=2000))
    assert result.body == b"a" * 2000
    assert time.monotonic() - started < 0.9  # fetch.timeout is 1s


def test_a_gzip_bomb_is_never_inflated_past_the_limit_in_memory(site, fetcher):
    bomb = gzip.compress(bytes(64 * 1024 * 1024), compresslevel=9)  # 64 MB of zeros
    site.overrides = {"/bomb": answer(200, bomb, Content_Encoding="gzip")}
    tracemalloc.start()
    try:
        error = failure(fetcher, FetchRequest(f"{site.base_url}/bomb"))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert error.reason == "decompressed body exceeds the 4,096 byte limit"
    assert peak < 8 * 1024 * 1024


@pytest.mark.parametrize(
    ("feed", "url", "carries"),
    [
        ("http://a.example/feed", "https://a.example/story", True),  # moved to TLS
        ("http://a.example:80/feed", "https://a.example:443/x", True),
        ("https://a.example/feed", "https://a.example/story", True),
        ("http://a.example/feed", "http://a.example/story", True),
        ("https://a.example/feed", "http://a.example/story", False),  # never back to plain
        ("http://a.example/feed", "https://a.example:8443/x", False),
        ("http://a.example:8080/feed", "https://a.example/x", False),
        ("http://a.example/feed", "https://b.example/x", False),
        ("http://a.example/feed", "https://a.example.net/x", False),
        ("", "https://a.example/x", False),
        ("http://a.example/feed", "ftp://a.example/x", False),
    ],
)
def test_feed_credentials_go_to_its_origin_and_its_https_twin_only(feed, url, carries):
    from digest.feeds._fetch import carries_credentials

    assert carries_credentials(feed, url) is carries
    if feed:
        assert carries_credentials(feed, "") is False


def test_a_refused_link_says_where_private_addresses_are_allowed(fetcher):
    home = failure(
        fetcher, FetchRequest("http://127.0.0.1:9/a", trusted_feed="https://feed.example/f")
    )
    assert home.blocked and home.reason.startswith("not fetched: 127.0.0.1 is a loopback")
    assert home.reason.endswith(
        "; feed links to private networks are refused except on the feed's own origin "
        "(https://feed.example:443), at the addresses the feed came from (fetch.allow_private)"
    )
    nowhere = failure(fetcher, FetchRequest("http://127.0.0.1:9/a", trusted_feed=""))
    assert nowhere.reason.endswith(
        "; feed links to private networks are refused (fetch.allow_private)"
    )


def test_a_feed_s_link_to_another_private_origin_is_refused_after_the_feed_is_fetched(
    site, fetcher
):
    other = LocalSite(DEMO_SITES, port=0)
    with other:
        other.overrides = {"/page": answer(200, b"<p>page</p>")}
        site.overrides = {"/feed.xml": answer(200, FEED), "/page": answer(200, b"<p>own</p>")}
        feed = f"{site.base_url}/feed.xml"
        assert fetcher.fetch(FetchRequest(feed)).status == 200
        own = fetcher.fetch(FetchRequest(f"{site.base_url}/page", trusted_feed=feed))
        assert own.body == b"<p>own</p>"  # the feed's own origin, at its own address
        error = failure(fetcher, FetchRequest(f"{other.base_url}/page", trusted_feed=feed))
    assert error.blocked and other.requests == []


def test_a_request_whose_redirects_used_up_its_budget_says_it_was_waiting(site):
    def slow_redirect(to: str):
        def handler(request):
            time.sleep(0.3)
            answer(302, Location=to)(request)

        return handler

    site.overrides = {
        "/r0": slow_redirect("/r1"),
        "/r1": slow_redirect("/r2"),
        "/r2": slow_redirect("/r3"),
        "/r3": slow_redirect("/r4"),
        "/r4": lambda request: time.sleep(2),
    }
    with Fetcher(FetchSettings(timeout=0.4)) as fetcher:
        error = failure(fetcher, FetchRequest(f"{site.base_url}/r0"))
    assert error.reason == (
        "still waiting for headers after 1.2s, the most one request may take "
        "(3 x fetch.timeout; raise fetch.timeout for a slow server)"
    )


def test_host_turns_rotate_through_the_hosts_in_order():
    from collections import deque

    from digest.feeds._fetch import HostTurns

    turns = HostTurns(
        {"a": deque([0, 1]), "b": deque([2, 3]), "c": deque([4, 5])}, per_host=2, window=3
    )
    order = [turns.next() for _ in range(6)]
    assert order == [(0, "a"), (2, "b"), (4, "c"), (1, "a"), (3, "b"), (5, "c")]
    assert turns.next() is None


def test_host_turns_count_each_host_s_requests_in_flight():
    from collections import deque

    from digest.feeds._fetch import HostTurns

    turns = HostTurns({"a": deque(range(5))}, per_host=2, window=1)
    assert [turns.next(), turns.next(), turns.next()] == [(0, "a"), (1, "a"), None]
    turns.finished("a")
    assert [turns.next(), turns.next()] == [(2, "a"), None]
    turns.finished("a")
    turns.finished("a")
    assert [turns.next(), turns.next(), turns.next()] == [(3, "a"), (4, "a"), None]


class Concurrency:
    """A route that notes how many requests it serves at once."""

    def __init__(self, pause: float = 0.15):
        self.pause, self.now, self.most = pause, 0, 0
        self.lock = threading.Lock()

    def __call__(self, request) -> None:
        with self.lock:
            self.now += 1
            self.most = max(self.most, self.now)
        time.sleep(self.pause)
        with self.lock:
            self.now -= 1
        answer(200, FEED)(request)


def test_fetch_concurrency_bounds_the_requests_in_flight(site):
    counter = Concurrency()
    site.overrides = {f"/{n}": counter for n in range(6)}
    settings = FetchSettings(timeout=2.0, concurrency=2, per_host=8)
    with Fetcher(settings) as fetcher:
        requests = [FetchRequest(f"{site.base_url}/{n}") for n in range(6)]
        assert [r.status for r in fetcher.fetch_many(requests)] == [200] * 6
        assert counter.most == 2
        counter.most = 0
        assert sorted(index for index, _ in fetcher.fetch_each(requests)) == list(range(6))
        assert counter.most == 2


def test_fetch_each_lets_two_hosts_of_one_server_run_side_by_side(site):
    counter = Concurrency()
    site.overrides = {f"/{n}": counter for n in range(4)}
    port = site.base_url.rsplit(":", 1)[1]
    urls = [f"http://{host}:{port}/{n}" for n in range(2) for host in ("127.0.0.1", "localhost")]
    with Fetcher(FetchSettings(timeout=2.0, concurrency=2, per_host=1)) as fetcher:
        done = list(fetcher.fetch_each([FetchRequest(u) for u in urls]))
    assert sorted(index for index, _ in done) == [0, 1, 2, 3]
    assert counter.most == 2  # one per host, both hosts at once


def test_fetch_each_yields_a_fast_answer_before_a_slow_one_ends(site):
    site.overrides = {"/slow": Concurrency(pause=1.0), "/fast": answer(200, FEED)}
    requests = [FetchRequest(f"{site.base_url}/slow"), FetchRequest(f"{site.base_url}/fast")]
    with Fetcher(FetchSettings(timeout=2.0, concurrency=2, per_host=2)) as fetcher:
        started = time.monotonic()
        outcomes = fetcher.fetch_each(requests)
        first, _ = next(outcomes)
        waited = time.monotonic() - started
        rest = list(outcomes)
    assert first == 1 and waited < 0.7 and [index for index, _ in rest] == [0]


def test_robots_txt_is_asked_for_as_text_and_read_past_fetch_max_bytes(site, fetcher):
    from digest.feeds._robots import disallowed

    seen: list[dict[str, str]] = []
    long_robots = b"# padding\n" * 1000 + b"User-agent: *\nDisallow: /private/\n"  # 10 KB
    site.overrides = {"/robots.txt": recording(respond(200, long_robots, "text/plain"), seen)}
    base = site.base_url
    reasons = disallowed(fetcher, [(f"{base}/private/a", None), (f"{base}/news/b", None)])
    assert reasons == {f"{base}/private/a": "disallowed by robots.txt"}
    assert seen[0]["Accept"] == "text/plain"


def test_robots_txt_on_a_feed_s_own_origin_is_read_at_the_feed_s_address(site, fetcher):
    from digest.feeds._robots import disallowed

    site.overrides = {"/feed.xml": answer(200, FEED), "/robots.txt": respond(200, ROBOTS)}
    feed = f"{site.base_url}/feed.xml"
    fetcher.fetch(FetchRequest(feed))
    pages = [(f"{site.base_url}/private/a", feed), (f"{site.base_url}/news/b", feed),
             (f"{site.base_url}/news/c", None)]  # fmt: skip
    assert disallowed(fetcher, pages) == {f"{site.base_url}/private/a": "disallowed by robots.txt"}
    # Once for the feed's links, once for the operator's own URL: two address policies.
    assert [r for r in site.requests if r[1] == "/robots.txt"] == [("GET", "/robots.txt", 200)] * 2


def test_robots_txt_is_read_once_for_the_links_of_several_feeds_of_one_site(site, fetcher):
    """Thirty feeds of one site read its robots.txt thirty times a run (an operator's trial)."""
    from digest.feeds._robots import disallowed

    site.overrides = {"/world.xml": answer(200, FEED), "/sport.xml": answer(200, FEED),
                      "/robots.txt": respond(200, ROBOTS)}  # fmt: skip
    feeds = [f"{site.base_url}/world.xml", f"{site.base_url}/sport.xml"]
    for feed in feeds:
        fetcher.fetch(FetchRequest(feed))
    pages = [(f"{site.base_url}/private/a", feeds[0]), (f"{site.base_url}/news/b", feeds[1])]
    assert disallowed(fetcher, pages) == {f"{site.base_url}/private/a": "disallowed by robots.txt"}
    assert [r for r in site.requests if r[1] == "/robots.txt"] == [("GET", "/robots.txt", 200)]


def test_a_private_link_s_reason_is_the_same_with_robots_txt_read_first(site, fetcher):
    """With fetch.robots on, the robots.txt request's refusal was the reason given, and it
    left out the exception docs/feeds.md quotes (a helper's check of the docs)."""
    from digest.feeds._robots import disallowed

    site.overrides = {"/feed.xml": answer(200, FEED)}
    feed = f"{site.base_url}/feed.xml"
    fetcher.fetch(FetchRequest(feed))
    assert disallowed(fetcher, [("http://10.0.0.5/a.html", feed)]) == {
        "http://10.0.0.5/a.html": "not fetched: 10.0.0.5 is a private address; feed links to "
        f"private networks are refused except on the feed's own origin ({site.base_url}), at "
        "the addresses the feed came from (fetch.allow_private)"
    }


def test_robots_txt_is_read_once_for_the_links_of_feeds_on_other_origins(site):
    from digest.feeds._robots import disallowed

    site.overrides = {"/robots.txt": respond(200, ROBOTS)}
    pages = [(f"{site.base_url}/news/a", "https://one.example/feed"),
             (f"{site.base_url}/private/b", "https://two.example/feed")]  # fmt: skip
    with Fetcher(FetchSettings(timeout=1.0, allow_private=True)) as fetcher:
        assert disallowed(fetcher, pages) == {
            f"{site.base_url}/private/b": "disallowed by robots.txt"
        }
    assert [r for r in site.requests if r[1] == "/robots.txt"] == [("GET", "/robots.txt", 200)]


def test_robots_txt_text_keeps_a_whole_last_line_and_reads_a_cut_character_as_latin1():
    from digest.feeds._robots import robots_text

    whole_lines = (b"# " + b"x" * 1021 + b"\n") * 500  # exactly 500 KiB, ending a line
    assert len(robots_text(whole_lines).splitlines()) == 500
    assert robots_text(b"Disallow: /caf\xc3") == "Disallow: /caf\xc3"  # as Latin-1


def test_https_to_a_plain_http_server_is_a_tls_error_and_a_closed_port_cannot_connect(
    site, fetcher
):
    port = site.base_url.rsplit(":", 1)[1]
    error = failure(fetcher, FetchRequest(f"https://127.0.0.1:{port}/f.xml"))
    assert error.reason.startswith("TLS error: [SSL")
    assert "certificate" not in error.reason.lower()
    closed = failure(fetcher, FetchRequest("http://127.0.0.1:9/f.xml"))
    assert closed.reason.startswith("cannot connect: ")


def test_a_redirect_to_a_long_non_http_url_shows_its_first_200_characters(site, fetcher):
    target = "ftp://files.example/" + "a" * 300
    site.overrides = {"/r.xml": answer(302, Location=target)}
    error = failure(fetcher, FetchRequest(f"{site.base_url}/r.xml"))
    assert error.reason == f"redirected to a non-http(s) URL {target[:200]!r}"


def test_requests_ask_for_gzip_or_deflate_and_ignore_proxy_variables(site, monkeypatch):
    seen: list[dict[str, str]] = []
    proxy = LocalSite(DEMO_SITES, port=0)
    with proxy:
        proxy.overrides = {}
        # A proxy from the environment would see (and could answer) what the address
        # policy is there to check: the fetcher connects itself, always.
        for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "all_proxy"):
            monkeypatch.setenv(name, proxy.base_url)
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        site.overrides = {"/f.xml": recording(answer(200, FEED), seen)}
        with Fetcher(FetchSettings(timeout=1.0)) as fetcher:
            assert fetcher.fetch(FetchRequest(f"{site.base_url}/f.xml")).body == FEED
    assert proxy.requests == []
    assert seen[0]["Accept-Encoding"] == "gzip, deflate"


@pytest.mark.parametrize(
    ("url", "origin"),
    [
        ("HTTP://Example.com/a", "http://example.com:80"),
        ("https://News.Example/a", "https://news.example:443"),
        ("https://[::1]:8443/", "https://[::1]:8443"),
        ("http://127.0.0.1:8080/x", "http://127.0.0.1:8080"),
        ("http://[::1", ""),  # not a URL
        ("http:///path-only", ""),  # no host
        ("ftp://files.example/f", ""),
        ("feed.xml", ""),
    ],
)
def test_an_origin_is_scheme_host_and_port_always_written(url, origin):
    from digest.feeds._fetch import origin_of

    assert origin_of(url) == origin


BAD_IDNA = "http://ex\u00e4mple\u200b.com/x"  # a zero-width space: no IDNA name


def test_a_failure_anywhere_on_the_way_names_the_url_that_failed(site):
    base = site.base_url
    site.overrides = {
        "/loop": answer(302, Location="/loop"),
        "/stall": lambda request: time.sleep(1.5),
        "/to-closed": answer(302, Location="http://127.0.0.1:9/gone"),
    }
    requests = [
        FetchRequest(BAD_IDNA),
        FetchRequest(f"{base}/loop"),
        FetchRequest(f"{base}/stall"),
        FetchRequest(f"{base}/to-closed"),
        FetchRequest("http://127.0.0.1:9/link", trusted_feed="https://feed.example/f"),
        FetchRequest("http://127.0.0.1:9/closed"),
    ]
    with Fetcher(FetchSettings(timeout=0.5, allow_private=False)) as fetcher:
        skipped = fetcher.fetch_many(requests)
    assert [s.target for s in skipped] == [
        BAD_IDNA, f"{base}/loop", f"{base}/stall", "http://127.0.0.1:9/gone",
        "http://127.0.0.1:9/link", "http://127.0.0.1:9/closed",
    ]  # fmt: skip
    assert skipped[0].reason.startswith("invalid URL: ")
    assert skipped[1].reason == "more than 5 redirects"
    assert skipped[2].reason.startswith("timed out after 0.5s")
    # A feed redirected to another private origin: the hop is the operator's no longer.
    assert skipped[3].blocked and skipped[4].blocked
    assert skipped[5].reason.startswith("cannot connect: ")


@pytest.mark.parametrize(("status", "exempt"), [(500, False), (300, False), (304, True)])
def test_a_feed_s_address_is_trusted_for_its_links_only_after_a_good_answer(
    site, fetcher, status, exempt
):
    site.overrides = {"/feed.xml": answer(status), "/story": answer(200, b"<p>story</p>")}
    feed = f"{site.base_url}/feed.xml"
    fetcher.fetch_many([FetchRequest(feed, etag='"v1"')])
    link = fetcher.fetch_many([FetchRequest(f"{site.base_url}/story", trusted_feed=feed)])[0]
    if exempt:
        assert link.body == b"<p>story</p>"
    else:
        assert link.blocked and link.reason.startswith("not fetched: 127.0.0.1")


def test_a_url_that_cannot_be_fetched_at_all_is_named_in_its_skip(fetcher):
    urls = ["http://[::1/f", "ftp://files.example/f"]
    skipped = fetcher.fetch_many([FetchRequest(url) for url in urls])
    assert [s.target for s in skipped] == urls
    assert skipped[0].reason.startswith("invalid URL: ")
    assert skipped[1].reason == "unsupported URL scheme 'ftp'"


@pytest.mark.parametrize(
    ("url", "host"),
    [("https://News.Example:8443/a", "news.example"), ("feed.xml", ""), ("http://[::1]/", "::1")],
)
def test_a_host_is_the_url_s_name_in_lower_case(url, host):
    from digest.feeds._urls import host_of

    assert host_of(url) == host


def pieces(*parts: bytes, encoding: str = "gzip"):
    """A route that sends `parts` as chunks of their own (the body's last bytes apart)."""

    def handler(request):
        request.send_response(200)
        request.send_header("Transfer-Encoding", "chunked")
        request.send_header("Content-Encoding", encoding)
        request.end_headers()
        for part in parts:
            request.wfile.write(f"{len(part):x}\r\n".encode() + part + b"\r\n")
            request.wfile.flush()
            time.sleep(0.05)
        request.wfile.write(b"0\r\n\r\n")

    return handler


def test_a_gzip_body_of_exactly_the_limit_is_read_whole_when_its_end_comes_apart(site, fetcher):
    body = os.urandom(4096)  # incompressible: every byte is in the stream as it comes
    packed = gzip.compress(body)
    site.overrides = {"/exact": pieces(packed[:-8], packed[-8:])}  # the trailer alone
    assert fetcher.fetch(FetchRequest(f"{site.base_url}/exact")).body == body


def test_a_local_file_over_the_limit_is_refused_without_being_read(tmp_path, fetcher):
    huge = tmp_path / "huge.xml"
    with huge.open("wb") as handle:
        handle.truncate(64 * 1024 * 1024)  # sparse: 64 MB that take no disk
    tracemalloc.start()
    try:
        error = failure(fetcher, FetchRequest(huge.as_uri()))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert error.reason == "file of 67,108,864 bytes exceeds the limit"
    assert peak < 8 * 1024 * 1024


def test_a_pooled_page_stands_for_a_fetch_only_where_that_fetch_would_have_gone(site, fetcher):
    """Fetcher.may_reuse: every hop of another digest's fetch must be one this digest's own
    policy lets through (a public address; on the feed's own origin, an address its answer
    came from; anything with allow_private). Unknown hops: fetched again."""
    feed = f"{site.base_url}/f.xml"
    other = "http://127.0.0.1:9"
    public = ("https://news.example", "93.184.216.34")
    assert not fetcher.may_reuse(feed, ())
    assert fetcher.may_reuse(feed, (public,))
    assert not fetcher.may_reuse(feed, ((site.base_url, "127.0.0.1"),))  # not yet its address
    site.overrides = {"/f.xml": answer(200, FEED, Content_Type="application/rss+xml")}
    fetcher.fetch(FetchRequest(feed))  # the feed's own fetch: its address is its links' now
    assert fetcher.may_reuse(feed, ((site.base_url, "127.0.0.1"), public))
    assert not fetcher.may_reuse(feed, ((other, "127.0.0.1"),))  # another origin
    assert not fetcher.may_reuse(feed, ((site.base_url, "127.0.0.1"), (other, "10.0.0.5")))
    assert not fetcher.may_reuse(feed, ((site.base_url, ""),))  # the address was not seen
    # A local file read has no hop: its links are a local feed's own, which a remote feed
    # can never list (usable_link), and which only a local feed's digest takes.
    local = (("file", ""),)
    assert fetcher.may_reuse("file:///srv/feed.xml", local)
    assert not fetcher.may_reuse(feed, local)
    settings = FetchSettings(timeout=1.0, allow_private=True)
    with Fetcher(settings) as open_fetcher:
        assert open_fetcher.may_reuse(feed, ((other, "10.0.0.5"),))
