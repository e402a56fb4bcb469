"""The private-network policy: classification (no connection), the guard inside the
connection (resolve once, connect to what was checked), and a live refusal between two
loopback hosts. Connections go to 127.0.0.0/8 only."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import pytest
from conftest import respond, write_config
from sites import LocalSite

import digest
from digest.config._loader import FetchSettings
from digest.errors import FetchError
from digest.feeds._fetch import Fetcher, FetchRequest
from digest.feeds._netguard import GuardedBackend, address_kind

REFUSED = {
    "127.0.0.1": "loopback",
    "127.255.255.254": "loopback",
    "10.0.0.1": "private",
    "172.16.0.1": "private",
    "172.31.255.255": "private",
    "192.168.1.1": "private",
    "169.254.169.254": "link-local",  # cloud metadata endpoints
    "0.0.0.0": "unspecified",
    "100.64.0.1": "shared (carrier-grade NAT)",
    "224.0.0.1": "multicast",
    "::1": "loopback",
    "::": "unspecified",
    "fc00::1": "private",
    "fd12:3456::1": "private",
    "fe80::1": "link-local",
    "fec0::1": "site-local",  # deprecated, yet routed inside some networks
    "::ffff:127.0.0.1": "loopback",  # IPv4-mapped
    "::ffff:10.1.2.3": "private",
    "::127.0.0.1": "loopback",  # IPv4-compatible
    "64:ff9b::a9fe:a9fe": "link-local",  # NAT64 of 169.254.169.254
    "2002:c0a8:0101::1": "private",  # 6to4 of 192.168.1.1
    "192.0.2.10": "private",  # documentation range: not routable either
    "240.0.0.1": "private",
}
PUBLIC = ["9.9.9.9", "93.184.216.34", "172.32.0.1", "100.128.0.1", "2606:4700::1111"]


@pytest.mark.parametrize("address", sorted(REFUSED))
def test_non_public_addresses_are_classified(address):
    assert address_kind(address) == REFUSED[address]


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_pass(address):
    assert address_kind(address) is None


def test_a_name_resolving_to_a_private_address_is_refused_before_connecting():
    asked = []

    def resolver(host, port):
        asked.append(host)
        return ["93.184.216.34", "10.0.0.7"]  # one bad answer is enough

    fetcher = Fetcher(FetchSettings(timeout=1), backend=GuardedBackend(resolver=resolver))
    with fetcher, pytest.raises(FetchError) as caught:
        fetcher.fetch(
            FetchRequest("http://news.example/a.html", trusted_feed="http://feed.example/feed")
        )
    assert caught.value.blocked
    assert "news.example (10.0.0.7) is a private address" in caught.value.reason
    assert asked == ["news.example"]


def test_the_connection_goes_to_the_address_that_was_checked(site):
    """DNS rebinding: a name that answers one address to the check and another to the
    connection. The guard resolves once per connection and connects to what it checked."""
    answers = iter(["127.0.0.1", "127.0.0.2", "127.0.0.2"])
    asked = []

    def resolver(host, port):
        asked.append(host)
        return [next(answers)]

    # In this test only 127.0.0.2 counts as private, so that 127.0.0.1 can stand in for a
    # public server.
    backend = GuardedBackend(
        resolver=resolver, refuse=lambda a: "private" if a == "127.0.0.2" else None
    )
    url = f"http://rebind.test:{site.port}/techwire/feed.xml"
    with Fetcher(FetchSettings(timeout=1), backend=backend) as fetcher:
        result = fetcher.fetch(FetchRequest(url, trusted_feed="http://feed.example/feed"))
    assert result.status == 200 and asked == ["rebind.test"]


@pytest.fixture
def second_host():
    server = LocalSite(site_root(), port=0, host="127.0.0.2")
    with server:
        yield server


def site_root():
    from conftest import REPO

    return REPO / "tests" / "fixtures" / "hostile"


def _page_feed(base: str, links: list[tuple[str, str]]) -> bytes:
    items = "".join(
        f"<item><title>{title}</title><link>{link}</link><guid>{link}</guid>"
        f"<pubDate>{datetime.now(UTC):%a, %d %b %Y %H:%M:%S +0000}</pubDate>"
        f"<description>The feed's own short text about {title.lower()}.</description></item>"
        for title, link in links
    )
    return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>Mixed</title>{items}'
            "</channel></rss>").encode()  # fmt: skip


@pytest.mark.parametrize("allow_private", [False, True])
def test_a_feed_on_localhost_cannot_reach_another_loopback_host(
    tmp_path, second_host, load, allow_private
):
    main = LocalSite(site_root(), port=0)
    with main:
        local = f"http://localhost:{main.port}"
        feed = _page_feed(local, [
            ("Orchard opens its gates", f"{local}/pages/orchard.html"),
            ("Internal note", f"{second_host.base_url}/pages/private-note.html"),
        ])  # fmt: skip
        main.overrides = {"/feed.xml": respond(200, feed, "application/rss+xml")}
        path = write_config(tmp_path, local, feeds=[("Mixed", f"{local}/feed.xml", "World")])
        allow = f"  allow_private: {'true' if allow_private else 'false'}\n"
        path.write_text(path.read_text().replace("  timeout: 2\n", "  timeout: 2\n" + allow))
        report = digest.run(load(path))
    fetched_second = [r for r in second_host.requests if r[1] == "/pages/private-note.html"]
    pages = {s.target: s.reason for s in report.skipped if s.stage == "page"}
    assert ("GET", "/pages/orchard.html", 200) in main.requests  # the feed's own host
    if allow_private:
        assert fetched_second and pages == {}
    else:
        assert second_host.requests == []  # not even robots.txt: nothing was sent
        note = f"{second_host.base_url}/pages/private-note.html"
        assert pages[note].startswith("not fetched: 127.0.0.2 is a loopback address")
        headlines = [item.headline for item in report.digest.items]
        assert "Internal note" in headlines  # the feed's own text stands in


def test_requests_to_one_host_respect_per_host(site):
    in_flight = {"now": 0, "most": 0}
    lock = threading.Lock()

    def slow(request):
        with lock:
            in_flight["now"] += 1
            in_flight["most"] = max(in_flight["most"], in_flight["now"])
        time.sleep(0.2)
        with lock:
            in_flight["now"] -= 1
        respond(200, b"ok")(request)

    site.overrides = {f"/slow/{n}": slow for n in range(6)}
    settings = FetchSettings(timeout=2, concurrency=6, per_host=2)
    with Fetcher(settings) as fetcher:
        results = fetcher.fetch_many([FetchRequest(f"{site.base_url}/slow/{n}") for n in range(6)])
    assert all(r.status == 200 for r in results)
    assert in_flight["most"] == 2


def test_the_user_agent_names_project_version_and_contact(tmp_path, site, load):
    seen = []

    def echo(request):
        seen.append(request.headers.get("User-Agent"))
        respond(200, b"ok")(request)

    site.overrides = {"/ua": echo}
    path = write_config(tmp_path, site.base_url, extra="contact_url: https://ops.example/digest\n")
    config = load(path)
    with Fetcher(config.fetch) as fetcher:
        fetcher.fetch(FetchRequest(f"{site.base_url}/ua"))
    assert seen == [f"digest/{digest.__version__} (+https://ops.example/digest)"]


@pytest.mark.parametrize("robots", [True, False])
def test_robots_txt_is_read_once_per_host_and_can_be_turned_off(tmp_path, load, robots):
    main = LocalSite(site_root(), port=0)
    with main:
        base = main.base_url
        feed = _page_feed(base, [
            ("Members-only briefing", f"{base}/private/members-only.html"),
            ("Orchard opens its gates", f"{base}/pages/orchard.html"),
            ("Lighthouse keeper retires", f"{base}/pages/lighthouse.html"),
        ])  # fmt: skip
        main.overrides = {"/feed.xml": respond(200, feed, "application/rss+xml")}
        path = write_config(tmp_path, base, feeds=[("Mixed", f"{base}/feed.xml", "World")])
        if not robots:
            path.write_text(path.read_text().replace("  timeout: 2\n", "  timeout: 2\n"
                                                     "  robots: false\n"))  # fmt: skip
        report = digest.run(load(path))
    pages = {s.target: s.reason for s in report.skipped if s.stage == "page"}
    members = f"{base}/private/members-only.html"
    robots_reads = [r for r in main.requests if r[1] == "/robots.txt"]
    if robots:
        assert pages == {members: "disallowed by robots.txt"}
        assert len(robots_reads) == 1
        assert not any(r[1] == "/private/members-only.html" for r in main.requests)
    else:
        assert pages == {} and robots_reads == []
        assert ("GET", "/private/members-only.html", 200) in main.requests


@pytest.mark.parametrize(
    ("address", "says"),
    [("0.0.0.0", "is an unspecified address"), ("127.0.0.1", "is a loopback address")],
)
def test_the_refusal_reads_as_english(address, says):
    fetcher = Fetcher(
        FetchSettings(timeout=1), backend=GuardedBackend(resolver=lambda host, port: [address])
    )
    with fetcher, pytest.raises(FetchError) as caught:
        fetcher.fetch(
            FetchRequest("http://news.example/a.html", trusted_feed="http://feed.example/feed")
        )
    assert f"news.example ({address}) {says}" in caught.value.reason


def redirect_to(location: str):
    def handler(request):
        request.send_response(302)
        request.send_header("Location", location)
        request.send_header("Content-Length", "0")
        request.end_headers()

    return handler


def test_a_robots_txt_redirecting_to_a_private_host_is_named_as_the_reason(
    tmp_path, second_host, load
):
    # The page is on the feed's own origin (allowed); its site's robots.txt redirects to
    # another loopback host, which is refused: the reason must say it was the robots.txt.
    main = LocalSite(site_root(), port=0)
    with main:
        local = f"http://localhost:{main.port}"
        page = f"{local}/pages/orchard.html"
        main.overrides = {
            "/feed.xml": respond(200, _page_feed(local, [("Orchard opens", page)]),
                                 "application/rss+xml"),
            "/robots.txt": redirect_to(f"{second_host.base_url}/robots.txt"),
        }  # fmt: skip
        path = write_config(tmp_path, local, feeds=[("Mixed", f"{local}/feed.xml", "World")])
        report = digest.run(load(path))
    assert second_host.requests == []
    (reason,) = [s.reason for s in report.skipped if s.stage == "page"]
    assert reason.startswith(
        f"not fetched: its robots.txt redirects to {second_host.base_url}/robots.txt, and "
        "127.0.0.2 is a loopback address"
    ), reason
