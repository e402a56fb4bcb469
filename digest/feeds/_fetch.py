"""Fetch feeds and pages: concurrent HTTP with limits, conditional GET, and local files.

The fetcher never decides what a failure means for the run: a batch gives a FetchResult or a
Skipped per request (`Fetcher.fetch` alone raises FetchError), and the runner records each
failure.
"""

from __future__ import annotations

import logging
import re
import threading
import time
import zlib
from collections import Counter, defaultdict, deque
from collections.abc import Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from email.utils import formatdate, parsedate_to_datetime
from http.cookiejar import Cookie, CookieJar, CookiePolicy
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit
from urllib.request import url2pathname

import httpx

from ..config import FetchSettings
from ..errors import FetchError
from ..models import FetchResult, Skipped
from ..text import one_token
from ._netguard import (
    CONNECTING,
    READING_BODY,
    READING_HEADERS,
    WAITING,
    BlockedAddress,
    GuardedBackend,
    GuardedTransport,
    RequestClock,
    address_kind,
    timed,
)
from ._urls import host_of

log = logging.getLogger("digest")

FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, application/json;q=0.9, "
    "application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"
)
PAGE_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.5"
_MAX_REDIRECTS = 5
# The most one request may take, from its start to its last byte, redirects included, in
# units of fetch.timeout (which bounds each wait for the network: connecting, each read).
REQUEST_BUDGET = 3
# After this many page requests to one host timed out (or arrived whole only after
# fetch.timeout), when they are also SLOW_SHARE of its answers in this run, the run asks
# that host for no more pages: a server that drips every page up to the limit would
# otherwise hold the run for pages x timeout / fetch.per_host (a feed of 100 such pages: 50
# minutes at the defaults). Counted over the run, not in a row: a host that answers every
# other page at once held a run for 25 minutes; a share, not a count alone: a big site with
# three slow pages among sixty lost the other thirty. Past FEED_TIMEOUTS of one feed's
# pages, over all their hosts, at that share, its pages are not asked either: a feed can
# link to a hundred dripping hosts. Feeds, which the operator named one by one, are each
# asked.
HOST_TIMEOUTS = 3
FEED_TIMEOUTS = 10
SLOW_SHARE = 0.25
_REDIRECTS = (301, 302, 303, 307, 308)
_PERMANENT = (301, 308)
# The Content-Encodings _CappedDecoder decodes, so those a body may be kept in
# (FetchRequest.keep_encoding).
_GZIP = ("gzip", "x-gzip")
_ENCODINGS = (*_GZIP, "deflate")
# A Retry-After further out than this is a misconfigured server, not a request to wait.
MAX_RETRY_AFTER = 7 * 86400


# Content-Types tried as an article page beside text/*: a page whose server names another
# (a PDF, an image) keeps the feed's text without going to the extractor. octet-stream says
# only that the server does not know the type: the extractor looks (and names binary).
# RFC 6838's type/subtype names, at most 127 characters each.
_MEDIA_TYPE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]{0,126}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}")
_HTML_TYPES = (
    "application/xhtml+xml",
    "application/xml",
    "application/html",
    "application/octet-stream",
)


def not_html(content_type: str | None) -> str | None:
    """The media type a page's Content-Type names when it is not a page of text (a PDF, an
    image, an archive), else None: text of any kind, or no type said, is tried as HTML."""
    media = (content_type or "").partition(";")[0].strip().lower()
    # Only a well-formed type is named: the header is the server's bytes, and the reason
    # reaches the terminal, `digest status` and alert emails.
    if not _MEDIA_TYPE.fullmatch(media) or media.startswith("text/") or media in _HTML_TYPES:
        return None
    return media


@dataclass(frozen=True)
class FetchRequest:
    url: str
    etag: str | None = None
    last_modified: str | None = None
    accept: str = PAGE_ACCEPT
    # For an article link: the URL of its feed, or "" (a feed read from a file, say). On the
    # feed's own origin (scheme, host and port) the link may use the addresses the feed's
    # fetch by this Fetcher connected to, private or not; everything else is checked.
    # None: `url` is the operator's own (a feed), fetched wherever its host resolves to.
    trusted_feed: str | None = None
    stage: str = "page"  # what a failure is recorded as (models.Skipped.stage)
    # Read only this many (decoded) bytes and ignore the rest, where a longer body would
    # otherwise fail (robots.txt). None: fetch.max_bytes, and a longer body fails.
    read_first: int | None = None
    # Keep a gzip or deflate body as the server sent it (FetchResult.content_encoding), for
    # `decode_body` where the page work runs: a worker then gets a fifth of the bytes, and
    # the run's process does not inflate pages it only hands on. The compressed body is
    # held to fetch.max_bytes here; the decoded one to the same limit by decode_body.
    keep_encoding: bool = False
    # The feed's own headers (feeds[].auth_env, headers_env: secrets, kept out of repr).
    # Sent only to the origin of `credentials_for`, the feed's URL as configured, and never
    # again once a redirect has left it (`carries_credentials`).
    credentials: tuple[tuple[str, str], ...] = field(default=(), repr=False)
    credentials_for: str = ""
    # An article page: a body whose Content-Type names no page of text (a PDF, audio, an
    # image: `not_html`) is not read, and the fetch fails saying what it is. A podcast's
    # episode or a report's PDF would otherwise be read to fetch.max_bytes, then dropped.
    html_only: bool = False


class Fetcher:
    """The HTTP clients of a run. Use as a context manager.

    Each origin gets its own client (its own connection pool) for each address policy it is
    fetched under (_netguard.py): "named" for the URLs the operator named (a feed), which
    connect wherever the name resolves and remember the addresses they connected to;
    "home" for a feed's links on the feed's own origin, which may use those addresses and
    public ones; "guarded" for every other origin and hop, public addresses only; "open"
    for all with `fetch.allow_private`. One pool for all hosts was slower the more hosts a
    run had: httpcore looks at every pooled connection, several times, for each request
    (1.5 ms of CPU a request with 20 hosts; bench/pipeline_bench.py has 200).

    No cookies are kept: feeds and pages are public and read without a session, and a jar
    shared by all feeds let one feed's cookies (hundreds of them, or one set for a parent
    domain) ride on the requests to other sites. The clients share one TLS context.
    """

    def __init__(self, settings: FetchSettings, backend: GuardedBackend | None = None):
        self.settings = settings
        self._backend = backend or GuardedBackend()
        self._ssl_context = httpx.create_ssl_context()
        self._clients: dict[tuple[str, str, str], httpx.Client] = {}
        # A URL the operator named (a feed) -> the addresses of the connections that gave its
        # answer (2xx or 304). Kept per feed, not per origin: another feed on the same origin,
        # whose name the same publisher may resolve elsewhere, must not widen this feed's
        # exemption; nor may a connection that only failed or redirected.
        self._home_addresses: dict[str, set[str]] = defaultdict(set)
        self._host_slots: dict[str, threading.Semaphore] = defaultdict(
            lambda: threading.Semaphore(settings.per_host)
        )
        self._slots_lock = threading.Lock()
        # Per host and per feed (of pages): [slow answers and timeouts, all answers].
        self._pace_by_host: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        self._pace_by_feed: dict[str, list[int]] = defaultdict(lambda: [0, 0])

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        with self._slots_lock:
            clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            client.close()

    def fetch_many(self, requests: Sequence[FetchRequest]) -> list[FetchResult | Skipped]:
        """Fetch all requests concurrently; results come back in request order."""
        if not requests:
            return []
        workers = min(self.settings.concurrency, len(requests))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="fetch") as pool:
            return list(pool.map(self._fetch_or_skip, requests))

    def fetch_each(
        self, requests: Sequence[FetchRequest]
    ) -> Iterator[tuple[int, FetchResult | Skipped]]:
        """Yield (request index, outcome) as each fetch completes, so the caller can work on
        a page while the next ones arrive. Hosts take turns (`HostTurns`), so that one site's
        per-host limit does not hold up the others; and no more bodies wait than there are
        fetch threads: the caller's pace bounds the memory."""
        if not requests:
            return
        by_host: dict[str, deque[int]] = defaultdict(deque)
        for index, request in enumerate(requests):
            by_host[host_of_or_empty(request.url)].append(index)
        workers = min(self.settings.concurrency, len(requests))
        turns = HostTurns(by_host, self.settings.per_host, window=workers)
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="fetch") as pool:
            running: dict[Future[FetchResult | Skipped], tuple[int, str]] = {}

            def start_more() -> None:
                while len(running) < workers and (turn := turns.next()) is not None:
                    index, host = turn
                    running[pool.submit(self._fetch_or_skip, requests[index])] = (index, host)

            start_more()
            while running:
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    index, host = running.pop(future)
                    turns.finished(host)
                    yield index, future.result()
                    start_more()

    def _fetch_or_skip(self, request: FetchRequest) -> FetchResult | Skipped:
        """The fetch, or its failure as a value (the target is the URL that failed, which
        may be a redirect's)."""
        try:
            return self.fetch(request)
        except FetchError as error:
            return Skipped(
                request.stage,
                error.url,
                error.reason,
                status=error.status,
                retry_after=error.retry_after,
                blocked=error.blocked,
            )

    def fetch(self, request: FetchRequest) -> FetchResult:
        """Fetch one URL or file. Raises FetchError naming the URL and the reason."""
        try:
            scheme = urlsplit(request.url).scheme
            host = host_of(request.url)
        except ValueError as error:
            raise FetchError(request.url, f"invalid URL: {error}") from None
        if scheme == "file":
            return read_local(request, self.settings.max_bytes)
        if scheme not in ("http", "https"):
            raise FetchError(request.url, f"unsupported URL scheme {scheme!r}")
        with self._slot(host):
            try:
                return self._get(request)
            except FetchError:
                raise
            except Exception as error:
                # As parsing and extraction do: whatever a server's bytes make the HTTP
                # stack or our reading of its headers raise costs this URL, not the run.
                # It may be our bug as well as the server's doing: its traceback is logged.
                log.warning("fetching %s failed unexpectedly", request.url, exc_info=True)
                reason = f"the fetch failed unexpectedly ({type(error).__name__}: {error})"
                raise FetchError(request.url, reason[:300]) from None

    def _slot(self, host: str) -> threading.Semaphore:
        with self._slots_lock:
            return self._host_slots[host]

    def _client_for(self, url: str, feed: str, named: bool) -> httpx.Client:
        """The client for `url` on a request trusted as far as the feed at `feed` is (the
        operator's URL; `named`: the request is that URL's own fetch)."""
        origin = origin_of(url)
        key = ""
        if self.settings.allow_private:
            policy = "open"
        elif origin and origin == origin_of(feed):
            # Named fetches share a pool per origin; a feed's links get a pool of their own,
            # exempting that feed's addresses only.
            policy, key = ("named", "") if named else ("home", feed)
        else:
            policy = "guarded"
        with self._slots_lock:
            client = self._clients.get((origin, policy, key))
            if client is None:
                if policy == "named":
                    backend = self._backend.unchecked()
                elif policy == "home":
                    backend = self._backend.trusting(exempt=self._home_addresses[feed])
                elif policy == "open":
                    backend = self._backend.unchecked()
                else:
                    backend = self._backend
                client = self._clients[(origin, policy, key)] = self._new_client(backend)
            return client

    def _new_client(self, backend: GuardedBackend) -> httpx.Client:
        return httpx.Client(
            timeout=httpx.Timeout(self.settings.timeout),
            follow_redirects=False,  # each hop is checked and may change the pool
            headers={"User-Agent": self.settings.user_agent, "Accept-Encoding": "gzip, deflate"},
            cookies=CookieJar(policy=_NoCookies()),
            transport=GuardedTransport(backend, self._ssl_context),
            trust_env=False,  # every connection goes through the address policy, no proxy
        )

    def _get(self, request: FetchRequest) -> FetchResult:
        headers = {"Accept": request.accept}
        # _ascii again: a state written before the 304's validators were checked may hold any.
        if _ascii(request.etag):
            headers["If-None-Match"] = request.etag
        if _ascii(request.last_modified):
            headers["If-Modified-Since"] = request.last_modified
        secret = request.credentials
        named = request.trusted_feed is None
        feed = request.url if named else request.trusted_feed or ""
        home = origin_of(feed)
        url = request.url
        moved_to: str | None = None
        permanent = True
        peers: list[tuple[str, str]] = []
        # One budget for the request and all its redirects: a chain of slow hops is one
        # slow request.
        with timed(RequestClock(self.settings.timeout * REQUEST_BUDGET)) as clock:
            for _ in range(_MAX_REDIRECTS + 1):
                clock.stage = CONNECTING
                hop_started = time.monotonic()  # each hop's host answers for its own time
                sent = httpx.Headers(headers)
                if secret and carries_credentials(request.credentials_for, url):
                    sent.update(dict(secret))
                else:
                    secret = ()  # a redirect left the feed's origin: not even back there
                try:
                    if request.stage == "page":
                        self._refuse_if_silent(url, request.trusted_feed)
                    client = self._client_for(url, feed, named)
                    with client.stream("GET", url, headers=sent) as response:
                        status = response.status_code
                        peers.append((origin_of(url), _peer_of(response)))
                        location = response.headers.get("Location")
                        if status in _REDIRECTS and location:
                            if request.stage == "page":
                                self._note_answer(
                                    url, request.trusted_feed, hop_started, redirect=True
                                )
                            url = _redirect_target(request, url, location)
                            # A -301-> B -302-> C: A now lives at B, which is only lent to C.
                            permanent = permanent and status in _PERMANENT
                            moved_to = url if permanent else moved_to
                            continue
                        clock.stage = READING_BODY
                        peer = None
                        if named and (status < 300 or status == 304) and origin_of(url) == home:
                            peer = self._remember_address(feed, response)
                        # Read to its end, or refused for its status or size: an answer. A
                        # body that stalls raises httpx's timeout instead, counted below.
                        try:
                            result = self._response(request, url, response, moved_to)
                        except FetchError:
                            if request.stage == "page":
                                self._note_answer(url, request.trusted_feed, hop_started)
                            raise
                        if request.stage == "page":
                            self._note_answer(url, request.trusted_feed, hop_started)
                        homes = (peer,) if peer else ()
                        return replace(result, home_addresses=homes, peers=tuple(peers))
                except BlockedAddress as refused:
                    reason = _refusal(refused, home)
                    if url != request.url and request.stage != "robots":  # names its target
                        reason += f"; a redirect led there ({origin_of(url) or url})"
                    raise FetchError(url, reason, blocked=True) from None
                except httpx.TimeoutException:
                    if request.stage == "page":
                        self._note_pace(url, request.trusted_feed, slow=True)
                    raise FetchError(url, self._stalled(clock), timed_out=True) from None
                except (httpx.InvalidURL, httpx.UnsupportedProtocol, ValueError, UnicodeError) as e:
                    raise FetchError(url, f"invalid URL: {e}") from None
                except httpx.HTTPError as error:
                    raise FetchError(url, _describe(error)) from None
        raise FetchError(request.url, f"more than {_MAX_REDIRECTS} redirects")

    def _refuse_if_silent(self, url: str, feed: str | None) -> None:
        """Raise FetchError when HOST_TIMEOUTS page requests to `url`'s host (at any hop: a
        redirector's targets count as theirs), or FEED_TIMEOUTS of its `feed`'s, got no
        answer in time, or one that took longer than fetch.timeout to arrive whole, and they
        are SLOW_SHARE of its answers."""
        host = host_of_or_empty(url)
        with self._slots_lock:
            slow, asked = self._pace_by_host[host]
            feed_slow, feed_asked = self._pace_by_feed[feed] if feed else (0, 0)
        # The reasons name no count: the run says the pages not asked for one reason in one
        # line (cli/_problems.py), whichever count each refusal saw.
        if slow >= HOST_TIMEOUTS and slow >= SLOW_SHARE * asked:
            raise FetchError(
                url,
                f"not asked: {host} did not answer in time {HOST_TIMEOUTS} times or more in "
                f"this run, for {SLOW_SHARE:.0%} or more of its pages",
            )
        if feed_slow >= FEED_TIMEOUTS and feed_slow >= SLOW_SHARE * feed_asked:
            raise FetchError(
                url,
                f"not asked: {FEED_TIMEOUTS} or more of this feed's pages did not answer in "
                f"time in this run, {SLOW_SHARE:.0%} or more of them",
            )

    def _note_pace(self, url: str, feed: str | None, slow: bool) -> None:
        with self._slots_lock:
            paces = [self._pace_by_host[host_of_or_empty(url)]]
            if feed:
                paces.append(self._pace_by_feed[feed])
            for pace in paces:
                pace[0] += slow
                pace[1] += 1

    def _note_answer(
        self, url: str, feed: str | None, hop_started: float, redirect: bool = False
    ) -> None:
        """An answer (an error status too) that took longer than fetch.timeout (since
        `hop_started`: this hop's time alone) counts as a timeout. A host that drips each
        page out just within the request's budget (3 x fetch.timeout) would otherwise hold
        the run for pages x budget / per-host slots: 100 pages, 49 minutes. A fast
        `redirect` is no answer to the share: four fast hops before each slow page made
        every page slow a fifth of the answers."""
        slow = time.monotonic() - hop_started > self.settings.timeout
        if slow or not redirect:
            self._note_pace(url, feed, slow)

    def _stalled(self, clock: RequestClock) -> str:
        """Why a request timed out: a silence longer than fetch.timeout, or a request that
        kept trickling in past its whole budget; and the stage it was in."""
        if not clock.expired():
            return f"timed out after {self.settings.timeout:g}s {clock.stage}"
        still = {
            CONNECTING: "still connecting",
            WAITING: "still waiting for headers",
            READING_HEADERS: "headers still arriving",
            READING_BODY: "body still arriving",
        }[clock.stage]
        return (
            f"{still} after {clock.budget:g}s, the most one request may take "
            f"({REQUEST_BUDGET} x fetch.timeout; raise fetch.timeout for a slow server)"
        )

    def trust_pooled_feed(self, feed: str, pooled: FetchResult) -> None:
        """For a feed this run read from the store's pool (another digest fetched it this
        cycle), at `feed` (the URL this run would have fetched): its links on its own origin
        may use the addresses that feed's answer came from, as after a fetch of its own.
        Only those: the name may resolve elsewhere by now, and a feed whose body came from a
        public address must not lend its links an internal one."""
        if pooled.home_addresses and origin_of(pooled.final_url) == origin_of(feed):
            with self._slots_lock:
                self._home_addresses[feed].update(pooled.home_addresses)

    def _remember_address(self, feed: str, response: httpx.Response) -> str | None:
        """Note the address the feed's answer came from (returned): its links may use it."""
        peer = _peer_of(response)
        if not peer:
            return None
        with self._slots_lock:
            self._home_addresses[feed].add(peer)
        return peer

    def may_reuse(self, trusted_feed: str, peers: Sequence[tuple[str, str]]) -> bool:
        """Whether this run's fetch of a link of the feed at `trusted_feed` would have been
        let through to every hop of another digest's fetch of that link (`peers`,
        FetchResult.peers): a public address, or with fetch.allow_private any, or on the
        feed's own origin an address its answer came from. Else this digest fetches the
        page itself, under its own policy: another digest of the store may be let into an
        internal site this one's feeds must not reach. No peers known: not reused."""
        if not peers:
            return False
        if peers == _LOCAL_PEERS:  # a file's links are followed from a local feed only
            return urlsplit(trusted_feed).scheme == "file"
        if self.settings.allow_private:
            return True
        home = origin_of(trusted_feed)
        with self._slots_lock:
            exempt = set(self._home_addresses[trusted_feed])
        return all(
            address and (address_kind(address) is None or (origin == home and address in exempt))
            for origin, address in peers
        )

    def _response(
        self, request: FetchRequest, url: str, response: httpx.Response, moved_to: str | None
    ) -> FetchResult:
        status = response.status_code
        if status == 304:
            return FetchResult(
                url=request.url,
                status=304,
                body=None,
                final_url=url,
                # As a 200's are: sent back on the next fetch, they must be ASCII, else
                # building that request fails, on every run after.
                etag=_ascii(response.headers.get("ETag")) or request.etag,
                last_modified=_ascii(response.headers.get("Last-Modified"))
                or request.last_modified,
                moved_to=moved_to,
            )
        if status >= 400 or status in _REDIRECTS:
            # The standard phrase of the code, not the server's own: that is any bytes the
            # server chose (terminal escapes, a made-up verdict), and it reaches the
            # terminal, `digest status` and alert emails.
            phrase = f"HTTP {status} {httpx.codes.get_reason_phrase(status)}".strip()
            if status in _REDIRECTS:
                phrase += " without a Location"
            wait = _retry_after(response.headers.get("Retry-After"))
            if wait is not None and status in (429, 503):
                phrase += f" (Retry-After: {wait:.0f}s)"
            raise FetchError(url, phrase, status=status, retry_after=wait)
        if request.html_only and (media := not_html(response.headers.get("Content-Type"))):
            raise FetchError(url, f"the page is {media}, not HTML")
        encoding = response.headers.get("Content-Encoding", "").strip().lower()
        if request.keep_encoding and encoding in _ENCODINGS and request.read_first is None:
            body, kept = self._read_capped(url, response, None, decode=False), encoding
        else:
            body, kept = self._read_capped(url, response, request.read_first), None
        return FetchResult(
            url=request.url,
            status=status,
            body=body,
            final_url=url,
            etag=_ascii(response.headers.get("ETag")),
            last_modified=_ascii(response.headers.get("Last-Modified")),
            content_type=response.headers.get("Content-Type"),
            moved_to=moved_to,
            content_encoding=kept,
        )

    def _read_capped(
        self, url: str, response: httpx.Response, read_first: int | None, decode: bool = True
    ) -> bytes:
        """The decoded body (the body as sent, when not `decode`), at most `read_first`
        bytes of it when given (the rest is not read), else failing beyond fetch.max_bytes.
        The request's clock bounds the time."""
        limit = self.settings.max_bytes if read_first is None else read_first
        declared = response.headers.get("Content-Length", "")
        encoding = response.headers.get("Content-Encoding", "") if decode else ""
        if read_first is None and declared.isdigit() and int(declared) > limit and not encoding:
            raise FetchError(url, f"body of {int(declared):,} bytes exceeds the {limit:,} limit")
        decoder = _CappedDecoder(url, encoding, limit, cut=read_first is not None)
        chunks: list[bytes] = []
        for raw in response.iter_raw():
            chunks.append(decoder.decode(raw))
            if decoder.full:
                return b"".join(chunks)
        chunks.append(decoder.flush())
        return b"".join(chunks)


class HostTurns:
    """The order in which a batch's requests start. `window` hosts take turns at a time, and
    when one has no requests left the next host joins. A host with `per_host` requests in
    flight is passed over; when every host taking turns is (a slow site), one more joins, so
    no fetch thread waits on a busy host while other hosts have work.

    All hosts of a run taking turns at once would come back to each host only after all the
    others, long after its kept-alive connection closed: with 200 hosts, nearly every request
    opened a new connection (on the real web, a new TLS handshake)."""

    def __init__(self, by_host: dict[str, deque[int]], per_host: int, window: int):
        self.waiting = deque(by_host.items())
        self.turning: deque[tuple[str, deque[int]]] = deque()
        self.in_flight: Counter[str] = Counter()
        self.per_host = per_host
        self.window = window

    def next(self) -> tuple[int, str] | None:
        """(request index, host) to start now, or None when none may start yet."""
        while self.waiting and len(self.turning) < self.window:
            self.turning.append(self.waiting.popleft())
        for _ in range(len(self.turning)):
            self.turning.rotate(-1)
            if self.in_flight[self.turning[-1][0]] < self.per_host:
                return self._take()
        if self.waiting:
            self.turning.append(self.waiting.popleft())
            return self._take()
        return None

    def finished(self, host: str) -> None:
        self.in_flight[host] -= 1

    def _take(self) -> tuple[int, str]:
        host, queue = self.turning[-1]
        index = queue.popleft()
        if not queue:
            self.turning.pop()
        self.in_flight[host] += 1
        return index, host


def host_of_or_empty(url: str) -> str:
    try:
        return host_of(url)
    except ValueError:
        return ""


class _CappedDecoder:
    """Content-Encoding decoding that stops at `limit` decoded bytes, whatever the ratio:
    a 10 KB gzip bomb never gets to allocate its 10 GB. Beyond the limit it fails, or with
    `cut` keeps the first `limit` bytes and says it is `full`."""

    def __init__(self, url: str, encoding: str, limit: int, cut: bool = False):
        self.url = url
        self.limit = limit
        self.cut = cut
        self.full = False
        self.size = 0
        name = encoding.strip().lower()
        self.deflate = name == "deflate"
        if name in ("", "identity"):
            self.inflater = None
        elif name in _GZIP:
            self.inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif self.deflate:
            self.inflater = zlib.decompressobj()
        else:
            raise FetchError(url, f"unsupported content encoding {encoding!r}")

    def decode(self, data: bytes) -> bytes:
        if self.inflater is None:
            return self._count(data)
        room = self.limit - self.size + 1
        try:
            out = self.inflater.decompress(data, room)
        except zlib.error as error:
            if not (self.deflate and self.size == 0):
                raise FetchError(self.url, f"bad content encoding: {error}") from None
            self.deflate = False  # "deflate" that is raw deflate, as some servers send
            self.inflater = zlib.decompressobj(-zlib.MAX_WBITS)
            return self.decode(data)
        return self._count(out)

    def flush(self) -> bytes:
        return self._count(self.inflater.flush()) if self.inflater is not None else b""

    def _count(self, data: bytes) -> bytes:
        if self.cut and self.size + len(data) > self.limit:
            data = data[: self.limit - self.size]
            self.full = True
        self.size += len(data)
        if self.size > self.limit:
            what = "decompressed body" if self.inflater is not None else "body"
            raise FetchError(self.url, f"{what} exceeds the {self.limit:,} byte limit")
        return data


def decode_body(url: str, body: bytes, encoding: str | None, limit: int) -> bytes:
    """`body` as fetched with FetchRequest.keep_encoding, decoded: at most `limit` bytes of
    it, whatever the compression ratio, or FetchError naming `url`."""
    if not encoding:
        return body
    decoder = _CappedDecoder(url, encoding, limit)
    return decoder.decode(body) + decoder.flush()


def _redirect_target(request: FetchRequest, url: str, location: str) -> str:
    # The Location header is the server's bytes, read as Latin-1: C1 controls (0x9B is a
    # terminal's CSI) would reach every message naming the next hop.
    target = one_token(urljoin(url, location.strip()))
    if target is None:
        raise FetchError(
            url, "redirected to a URL holding control characters or too long to fetch: refused"
        )
    scheme = urlsplit(target).scheme
    if scheme not in ("http", "https"):
        raise FetchError(request.url, f"redirected to a non-http(s) URL {target[:200]!r}")
    if scheme == "http" and urlsplit(url).scheme == "https":
        # What was asked for over TLS would come back readable and alterable on the way.
        fix = (
            "if plain http is really intended, use the http URL in the config"
            if request.stage == "feed"
            else "an https link is fetched over https only"
        )
        raise FetchError(
            url, f"redirected from https to plain http ({url} -> {target[:200]}): refused; {fix}"
        )
    return target


def origin_of(url: str) -> str:
    """scheme://host:port of an http(s) URL, the port always written; "" for anything else.

    >>> origin_of("HTTP://Example.com/a"), origin_of("https://[::1]:8443/"), origin_of("x")
    ('http://example.com:80', 'https://[::1]:8443', '')
    """
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return ""
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if scheme not in ("http", "https") or not host:
        return ""
    if ":" in host:
        host = f"[{host}]"
    return f"{scheme}://{host}:{port or (443 if scheme == 'https' else 80)}"


def carries_credentials(feed_url: str, url: str) -> bool:
    """Whether a request to `url` may carry the headers a feed's operator set for the feed at
    `feed_url`: on the feed's origin only, or on its https twin (http://host redirecting to
    https://host is the same site, moved to TLS; the other way round is refused anyway).

    >>> carries_credentials("http://a.example/feed", "https://a.example/story")
    True
    >>> carries_credentials("https://a.example/feed", "https://a.example.net/story")
    False
    """
    hop, credentials_origin = origin_of(url), origin_of(feed_url)
    if not hop or not credentials_origin:
        return False
    if hop == credentials_origin:
        return True
    host = credentials_origin.removeprefix("http://").removesuffix(":80")
    return credentials_origin == f"http://{host}:80" and hop == f"https://{host}:443"


def _refusal(refused: BlockedAddress, home: str) -> str:
    own = (
        f" except on the feed's own origin ({home}), at the addresses the feed came from"
        if home
        else ""
    )
    return (
        f"not fetched: {refused}; feed links to private networks are refused{own} "
        "(fetch.allow_private)"
    )


class _NoCookies(CookiePolicy):
    """A cookie policy that stores no cookie and sends none."""

    netscape = True
    rfc2965 = False
    hide_cookie2 = True

    def set_ok(self, cookie: Cookie, request: object) -> bool:
        return False

    def return_ok(self, cookie: Cookie, request: object) -> bool:
        return False

    def domain_return_ok(self, domain: str, request: object) -> bool:
        return False

    def path_return_ok(self, path: str, request: object) -> bool:
        return False


_SECONDS = re.compile(r"[0-9]+")


def _retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (seconds or an HTTP date), or None."""
    if not value:
        return None
    text = value.strip()
    if _SECONDS.fullmatch(text):  # ASCII digits: "²" is a digit to str.isdigit()
        seconds = float(text)
    else:
        try:
            seconds = (parsedate_to_datetime(text) - datetime.now(UTC)).total_seconds()
        except (TypeError, ValueError, IndexError, OverflowError):  # a year or offset of 20 digits
            return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


# The peers of a local file read (read_local): no hop, no address.
_LOCAL_PEERS = (("file", ""),)


def _peer_of(response: httpx.Response) -> str:
    """The address the answer came from, or "" where the stream does not say."""
    stream = response.extensions.get("network_stream")
    peer = stream.get_extra_info("server_addr") if stream is not None else None
    return str(peer[0]) if peer else ""


def _ascii(value: str | None) -> str | None:
    """A validator we can send back: HTTP headers go out as ASCII."""
    return value if value and value.isascii() and value.isprintable() else None


def _describe(error: httpx.HTTPError) -> str:
    text = str(error) or type(error).__name__
    if isinstance(error, httpx.ConnectError):
        if "SSL" in text or "certificate" in text.lower():
            return f"TLS error: {text}"
        if "Connection refused" in text:  # as an SMTP port that refuses is said
            return f"cannot connect: {text}: nothing listens there; check the URL's host and port"
        return f"cannot connect: {text}"
    if isinstance(error, httpx.RemoteProtocolError):
        return f"server broke the connection: {text}"
    return text


def local_path(url: str) -> Path:
    """The filesystem path of a file:// URL."""
    parts = urlsplit(url)
    return Path(url2pathname(unquote(parts.path)))


def read_local(request: FetchRequest, max_bytes: int) -> FetchResult:
    """Read a file:// URL, with its mtime standing in for Last-Modified."""
    path = local_path(request.url)
    try:
        stat = path.stat()
        last_modified = formatdate(stat.st_mtime, usegmt=True)
        if request.last_modified and _same_time(request.last_modified, last_modified):
            return FetchResult(request.url, 304, None, request.url, last_modified=last_modified)
        too_big = stat.st_size > max_bytes
        body = b"" if too_big else path.read_bytes()
    except FileNotFoundError:
        raise FetchError(request.url, "no such file") from None
    except IsADirectoryError:
        raise FetchError(request.url, "is a directory, not a file") from None
    except OSError as error:
        raise FetchError(request.url, f"cannot read: {error.strerror or error}") from None
    # Outside the try: FetchError is an OSError, and the handler above would reword it.
    if too_big:
        raise FetchError(request.url, f"file of {stat.st_size:,} bytes exceeds the limit")
    return FetchResult(
        request.url, 200, body, request.url, last_modified=last_modified, peers=_LOCAL_PEERS
    )


def _same_time(a: str, b: str) -> bool:
    try:
        return parsedate_to_datetime(a) == parsedate_to_datetime(b)
    except (TypeError, ValueError):
        return False
