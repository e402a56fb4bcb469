"""Fetching as a feed's server and the operator see it: the conditional GET headers sent and
the validators kept, the redirects followed and the moves recorded, the limits on bodies,
the waits a server asks for, and what each refusal says. Written for bench/mutation.sh's
run over digest/feeds/_fetch.py (the branches no other in-process test reached); servers on
127.0.0.1 only."""

from __future__ import annotations

import gzip
import os
import ssl
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
        moved = fetcher.fetch(FetchRequest(f"{base}/moved.xml"))
    assert (moved.body, moved.moved_to) == (FEED, f"{base}/feed2.xml")
