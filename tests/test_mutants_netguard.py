"""The fetcher's connections as a feed reader meets them: what a refusal names, which
address a connection goes to, and how long a slow or silent server may hold a request.
Written against the mutants bench/mutation.sh found alive in digest/feeds/_netguard.py;
every server here listens on 127.0.0.0/8."""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from certificates import write_certificates
from conftest import REPO
from sites import LocalSite

from digest.config._loader import FetchSettings
from digest.errors import FetchError
from digest.feeds._fetch import Fetcher, FetchRequest
from digest.feeds._netguard import GuardedBackend, address_kind

TIMEOUT = 0.3  # fetch.timeout of these tests: a request's budget is 3 x 0.3 s
FEED = b'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title></channel></rss>'
OK_HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\n"


class RawServer:
    """A TCP server on 127.0.0.1 that runs `serve(connection, stop)` for each connection, on
    a thread of its own; `stop` is set when the test leaves the server."""

    def __init__(self, serve: Callable[[socket.socket, threading.Event], None]):
        self.serve = serve
        self.stop = threading.Event()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.threads: list[threading.Thread] = []

    def __enter__(self) -> RawServer:
        accepting = threading.Thread(target=self._accept, daemon=True)
        accepting.start()
        self.threads.append(accepting)
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.listener.shutdown(socket.SHUT_RDWR)  # wakes the thread waiting in accept()
        self.listener.close()
        for thread in self.threads:
            thread.join(timeout=5)

    def _accept(self) -> None:
        while not self.stop.is_set():
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            worker = threading.Thread(target=self._run, args=(connection,), daemon=True)
            worker.start()
            self.threads.append(worker)

    def _run(self, connection: socket.socket) -> None:
        # OSError: the client hung up, which is what these servers are for.
        with connection, contextlib.suppress(OSError):
            self.serve(connection, self.stop)


def read_request(connection: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = connection.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


def drip(head: bytes, dripped: bytes) -> Callable[[socket.socket, threading.Event], None]:
    """Answer `head` at once, then one byte of `dripped` every 50 ms (each byte well inside
    the per-read timeout, so only the request's budget can end it), for 3 s at most."""

    def serve(connection: socket.socket, stop: threading.Event) -> None:
        read_request(connection)
        connection.sendall(head)
        hang_up = time.monotonic() + 3
        for byte in dripped:
            if stop.wait(0.05) or time.monotonic() > hang_up:
                return
            connection.sendall(bytes([byte]))

    return serve


def silent(connection: socket.socket, stop: threading.Event) -> None:
    read_request(connection)
    stop.wait(3)


def fetch_failure(url: str, backend: GuardedBackend | None = None, **request) -> FetchError:
    with (
        Fetcher(FetchSettings(timeout=TIMEOUT), backend=backend) as fetcher,
        pytest.raises(FetchError) as caught,
    ):
        fetcher.fetch(FetchRequest(url, **request))
    return caught.value


# -- what a refused address is called --------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("fe80::1%eth0", "link-local"),  # an address with its zone index, as getaddrinfo gives
        ("::ffff:10.0.0.1%2", "private"),
        ("64:ff9b::a9fe:a9fe%1", "link-local"),
        ("::2", "private"),  # IPv4-compatible ::0.0.0.2, inside 0.0.0.0/8
        ("4000::1", "reserved"),  # IPv6 space not yet assigned
    ],
)
def test_a_refused_address_is_named_for_what_it_is(address, kind):
    assert address_kind(address) == kind


# -- which address a connection goes to --------------------------------------------------------


def test_the_name_is_looked_up_for_the_url_s_own_port():
    asked = []

    def resolver(host, port):
        asked.append((host, port))
        return ["127.0.0.1"]

    answer = OK_HEAD + f"Content-Length: {len(FEED)}\r\n\r\n".encode() + FEED
    with RawServer(drip(answer, b"")) as s:
        url = f"http://feed.test:{s.port}/feed.xml"
        with Fetcher(FetchSettings(timeout=1), backend=GuardedBackend(resolver)) as fetcher:
            result = fetcher.fetch(FetchRequest(url))
    assert result.status == 200 and asked == [("feed.test", s.port)]


def test_a_name_whose_first_address_is_dead_is_reached_on_the_next():
    site = LocalSite(REPO / "config" / "demo" / "sites")
    with site:
        # Nothing listens on 127.0.0.9: that connection is refused and the next one is tried.
        backend = GuardedBackend(lambda host, port: ["127.0.0.9", "127.0.0.1"])
        url = f"http://feed.test:{site.port}/techwire/feed.xml"
        with Fetcher(FetchSettings(timeout=1), backend=backend) as fetcher:
            result = fetcher.fetch(FetchRequest(url))
    assert result.status == 200


def test_a_name_whose_every_address_refuses_says_the_connection_was_refused():
    with RawServer(silent) as s:
        port = s.port
    error = fetch_failure(
        f"http://feed.test:{port}/feed.xml", GuardedBackend(lambda h, p: ["127.0.0.9"])
    )
    assert error.reason.startswith("cannot connect: ") and "Connection refused" in error.reason
    assert error.reason.endswith("nothing listens there; check the URL's host and port")


def test_a_name_that_cannot_be_looked_up_gives_the_resolver_s_reason():
    def resolver(host, port):
        raise socket.gaierror(-2, "Name or service not known")

    error = fetch_failure("http://nowhere.test/feed.xml", GuardedBackend(resolver))
    assert error.reason == (
        "cannot connect: cannot resolve nowhere.test: [Errno -2] Name or service not known"
    )


def test_a_name_with_no_address_says_so():
    error = fetch_failure("http://nowhere.test/feed.xml", GuardedBackend(lambda h, p: []))
    assert error.reason == "cannot connect: nowhere.test resolves to no address"


def test_a_checked_address_is_the_one_connected_to():
    """The guard connects to the address it checked and let through, not to whatever a
    missing address would default to (localhost)."""
    site = LocalSite(REPO / "config" / "demo" / "sites", host="127.0.0.2")
    with site:
        backend = GuardedBackend(lambda h, p: ["127.0.0.2"], refuse=lambda a: None)
        url = f"http://pages.test:{site.port}/techwire/feed.xml"
        with Fetcher(FetchSettings(timeout=1), backend=backend) as fetcher:
            result = fetcher.fetch(FetchRequest(url, trusted_feed="http://feed.example/f"))
    assert result.status == 200


def _only_127_0_0_2_is_private(address: str) -> str | None:
    # In these tests 127.0.0.1 stands in for a public server.
    return "private" if address == "127.0.0.2" else None


def test_a_feed_s_link_reaches_the_address_the_feed_came_from_beside_a_refused_one():
    """The feed's name answers 127.0.0.2 (refused, nothing listens) and 127.0.0.1; the feed
    came from 127.0.0.1, so its page goes there and the refused address is skipped."""
    site = LocalSite(REPO / "config" / "demo" / "sites")
    asked = []

    def resolver(host, port):
        asked.append(host)
        return ["127.0.0.2", "127.0.0.1"]

    with site:
        backend = GuardedBackend(resolver, refuse=_only_127_0_0_2_is_private)
        feed = f"http://feed.test:{site.port}/techwire/feed.xml"
        page = f"http://feed.test:{site.port}/techwire/articles/ipad-pro-m5-launch.html"
        with Fetcher(FetchSettings(timeout=1), backend=backend) as fetcher:
            assert fetcher.fetch(FetchRequest(feed)).status == 200
            result = fetcher.fetch(FetchRequest(page, trusted_feed=feed))
    assert result.status == 200 and asked == ["feed.test", "feed.test"]


def test_a_feed_s_link_to_an_address_the_feed_did_not_use_is_refused():
    site = LocalSite(REPO / "config" / "demo" / "sites")
    answers = iter([["127.0.0.1"], ["127.0.0.2"]])
    with site:
        backend = GuardedBackend(lambda h, p: next(answers), refuse=_only_127_0_0_2_is_private)
        feed = f"http://feed.test:{site.port}/techwire/feed.xml"
        page = f"http://feed.test:{site.port}/techwire/articles/ipad-pro-m5-launch.html"
        with Fetcher(FetchSettings(timeout=1), backend=backend) as fetcher:
            assert fetcher.fetch(FetchRequest(feed)).status == 200
            with pytest.raises(FetchError) as caught:
                fetcher.fetch(FetchRequest(page, trusted_feed=feed))
    assert caught.value.blocked
    assert "feed.test (127.0.0.2) is a private address" in caught.value.reason


# -- how long a request may take ---------------------------------------------------------------


def test_a_silent_server_times_out_after_fetch_timeout_waiting_for_headers():
    with RawServer(silent) as s:
        started = time.monotonic()
        error = fetch_failure(f"http://127.0.0.1:{s.port}/feed.xml")
        elapsed = time.monotonic() - started
    assert error.reason == "timed out after 0.3s waiting for headers"
    assert elapsed < 0.8


@pytest.mark.parametrize(
    ("head", "dripped", "still"),
    [
        (b"", b"HTTP/1.1 200 " + b"x" * 200, "headers still arriving"),
        (OK_HEAD + b"Content-Length: 5000\r\n\r\n", FEED * 40, "body still arriving"),
    ],
)
def test_a_server_dripping_its_answer_is_cut_off_at_the_request_s_budget(head, dripped, still):
    with RawServer(drip(head, dripped)) as s:
        started = time.monotonic()
        error = fetch_failure(f"http://127.0.0.1:{s.port}/feed.xml")
        elapsed = time.monotonic() - started
    assert error.reason.startswith(f"{still} after 0.9s, the most one request may take")
    assert elapsed < 1.5


def test_a_slow_name_server_costs_one_fetch_timeout():
    looked_up = threading.Event()

    def resolver(host, port):
        looked_up.wait(3)  # a name server that does not answer in time
        return ["127.0.0.1"]

    started = time.monotonic()
    error = fetch_failure("http://slow-dns.test/feed.xml", GuardedBackend(resolver))
    elapsed = time.monotonic() - started
    looked_up.set()
    assert error.reason == "timed out after 0.3s connecting"
    assert elapsed < 0.8


@pytest.fixture
def full_backlog() -> Iterator[int]:
    """A port whose listener accepts nothing and whose queue is full: a connection to it
    hangs in its handshake, as to a host that drops packets."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    queued = []
    for _ in range(4):
        client = socket.socket()
        client.setblocking(False)
        client.connect_ex(("127.0.0.1", port))
        queued.append(client)
    time.sleep(0.05)
    # After 3 s the port closes and a connection still trying is refused: no test hangs.
    closing = threading.Timer(3, listener.close)
    closing.start()
    yield port
    closing.cancel()
    for client in queued:
        client.close()
    listener.close()


def test_a_host_that_never_answers_the_connection_costs_one_fetch_timeout(full_backlog):
    started = time.monotonic()
    error = fetch_failure(f"http://127.0.0.1:{full_backlog}/feed.xml")
    assert error.reason == "timed out after 0.3s connecting"
    assert time.monotonic() - started < 0.8


# -- HTTPS -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory) -> dict[str, Path]:
    """A private CA and a certificate for localhost that it signed."""
    return write_certificates(tmp_path_factory.mktemp("tls"))


def test_a_feed_over_https_is_fetched_with_its_certificate_checked(tls_files, monkeypatch):
    # The CA the operator's system trusts (SSL_CERT_FILE, as OpenSSL reads it).
    monkeypatch.setenv("SSL_CERT_FILE", str(tls_files["ca"]))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(tls_files["cert"], tls_files["key"])
    answer = OK_HEAD + f"Content-Length: {len(FEED)}\r\n\r\n".encode() + FEED

    def serve(connection: socket.socket, stop: threading.Event) -> None:
        with context.wrap_socket(connection, server_side=True) as tls:
            read_request(tls)
            tls.sendall(answer)

    with RawServer(serve) as s:
        backend = GuardedBackend(lambda host, port: ["127.0.0.1"])
        with Fetcher(FetchSettings(timeout=1), backend=backend) as fetcher:
            result = fetcher.fetch(FetchRequest(f"https://localhost:{s.port}/feed.xml"))
    assert result.status == 200 and result.body == FEED


def test_a_server_that_never_finishes_the_tls_handshake_costs_one_fetch_timeout():
    with RawServer(silent) as s:  # takes the connection, never answers the ClientHello
        started = time.monotonic()
        error = fetch_failure(f"https://127.0.0.1:{s.port}/feed.xml")
        elapsed = time.monotonic() - started
    assert error.reason == "timed out after 0.3s connecting"
    assert elapsed < 0.8


def test_a_feed_on_a_loopback_address_may_link_its_own_pages_there_and_only_there():
    """The feed's own fetch connected to 127.0.0.1: its pages on the same origin may go
    there too (the address is remembered), while the policy refuses 127.0.0.1 otherwise."""
    site = LocalSite(REPO / "config" / "demo" / "sites")
    with site:
        backend = GuardedBackend(lambda h, p: ["127.0.0.1"])  # the real address policy
        feed = f"http://feed.test:{site.port}/techwire/feed.xml"
        page = f"http://feed.test:{site.port}/techwire/articles/ipad-pro-m5-launch.html"
        with Fetcher(FetchSettings(timeout=1), backend=backend) as fetcher:
            assert fetcher.fetch(FetchRequest(feed)).status == 200
            assert fetcher.fetch(FetchRequest(page, trusted_feed=feed)).status == 200
            elsewhere = fetch_failure(page, backend, trusted_feed="http://other.test/feed")
    assert elsewhere.blocked
