"""Fetch feeds and pages: concurrent HTTP with limits, conditional GET, and local files.

The fetcher never decides what a failure means for the run: it returns a FetchResult or a
FetchError per request, in request order, and the runner records each failure as Skipped.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import defaultdict
from collections.abc import Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from email.utils import formatdate, parsedate_to_datetime
from pathlib import Path
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

import httpx

from .config import FetchSettings
from .errors import FetchError
from .models import FetchResult
from .urls import host_of

FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, application/json;q=0.9, "
    "application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"
)
PAGE_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.5"
_MAX_REDIRECTS = 5


@dataclass(frozen=True)
class FetchRequest:
    url: str
    etag: str | None = None
    last_modified: str | None = None
    accept: str = PAGE_ACCEPT


class Fetcher:
    """One HTTP client shared by a run. Use as a context manager."""

    def __init__(self, settings: FetchSettings):
        self.settings = settings
        self._client = httpx.Client(
            timeout=httpx.Timeout(settings.timeout),
            follow_redirects=True,
            max_redirects=_MAX_REDIRECTS,
            headers={"User-Agent": settings.user_agent, "Accept-Encoding": "gzip, deflate"},
        )
        self._host_slots: dict[str, threading.Semaphore] = defaultdict(
            lambda: threading.Semaphore(settings.per_host)
        )
        self._slots_lock = threading.Lock()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._client.close()

    def fetch_many(self, requests: Sequence[FetchRequest]) -> list[FetchResult | FetchError]:
        """Fetch all requests concurrently; results come back in request order."""
        if not requests:
            return []
        workers = min(self.settings.concurrency, len(requests))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="fetch") as pool:
            return list(pool.map(self._fetch_or_error, requests))

    def fetch_each(
        self, requests: Sequence[FetchRequest]
    ) -> Iterator[tuple[int, FetchResult | FetchError]]:
        """Yield (request index, outcome) as each fetch completes, so the caller can work on
        a page while the next ones arrive. Hosts take turns, so that one site's per-host limit
        does not hold up the others; and no more bodies wait than there are fetch threads:
        the caller's pace bounds the memory."""
        if not requests:
            return
        by_host: dict[str, list[int]] = defaultdict(list)
        for index, request in enumerate(requests):
            by_host[host_of_or_empty(request.url)].append(index)
        queues = [iter(indexes) for indexes in by_host.values()]
        order = [i for turn in itertools.zip_longest(*queues) for i in turn if i is not None]
        upcoming = iter(order)
        workers = min(self.settings.concurrency, len(requests))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="fetch") as pool:
            running: dict[Future[FetchResult | FetchError], int] = {}
            for index in itertools.islice(upcoming, workers):
                running[pool.submit(self._fetch_or_error, requests[index])] = index
            while running:
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    index = running.pop(future)
                    yield index, future.result()
                    following = next(upcoming, None)
                    if following is not None:
                        running[pool.submit(self._fetch_or_error, requests[following])] = following

    def _fetch_or_error(self, request: FetchRequest) -> FetchResult | FetchError:
        try:
            return self.fetch(request)
        except FetchError as error:
            return error

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
            return self._get(request)

    def _slot(self, host: str) -> threading.Semaphore:
        with self._slots_lock:
            return self._host_slots[host]

    def _get(self, request: FetchRequest) -> FetchResult:
        headers = {"Accept": request.accept}
        if request.etag:
            headers["If-None-Match"] = request.etag
        if request.last_modified:
            headers["If-Modified-Since"] = request.last_modified
        url = request.url
        try:
            with self._client.stream("GET", url, headers=headers) as response:
                if response.status_code == 304:
                    return FetchResult(
                        url=url,
                        status=304,
                        body=None,
                        final_url=str(response.url),
                        etag=response.headers.get("ETag") or request.etag,
                        last_modified=response.headers.get("Last-Modified")
                        or request.last_modified,
                    )
                if response.status_code >= 400:
                    raise FetchError(
                        url,
                        f"HTTP {response.status_code} {response.reason_phrase}".strip(),
                        status=response.status_code,
                    )
                body = self._read_capped(url, response)
                return FetchResult(
                    url=url,
                    status=response.status_code,
                    body=body,
                    final_url=str(response.url),
                    etag=_ascii(response.headers.get("ETag")),
                    last_modified=_ascii(response.headers.get("Last-Modified")),
                    content_type=response.headers.get("Content-Type"),
                )
        except httpx.TooManyRedirects:
            raise FetchError(url, f"more than {_MAX_REDIRECTS} redirects") from None
        except httpx.TimeoutException:
            raise FetchError(url, f"timed out after {self.settings.timeout:g}s") from None
        except httpx.DecodingError as error:
            raise FetchError(url, f"bad content encoding: {error}") from None
        except (httpx.InvalidURL, httpx.UnsupportedProtocol, ValueError, UnicodeError) as error:
            raise FetchError(url, f"invalid URL: {error}") from None
        except httpx.HTTPError as error:
            raise FetchError(url, _describe(error)) from None

    def _read_capped(self, url: str, response: httpx.Response) -> bytes:
        limit = self.settings.max_bytes
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > limit:
            raise FetchError(url, f"body of {int(declared):,} bytes exceeds the {limit:,} limit")
        # The per-read timeout does not bound a server that drips bytes forever.
        deadline = time.monotonic() + self.settings.timeout * 3
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_bytes():  # decoded: a gzip bomb is capped here too
            size += len(chunk)
            if size > limit:
                raise FetchError(url, f"body exceeds the {limit:,} byte limit")
            if time.monotonic() > deadline:
                raise FetchError(url, f"body still arriving after {self.settings.timeout * 3:g}s")
            chunks.append(chunk)
        return b"".join(chunks)


def host_of_or_empty(url: str) -> str:
    try:
        return host_of(url)
    except ValueError:
        return ""


def _ascii(value: str | None) -> str | None:
    """A validator we can send back: HTTP headers go out as ASCII."""
    return value if value and value.isascii() and value.isprintable() else None


def _describe(error: httpx.HTTPError) -> str:
    text = str(error) or type(error).__name__
    if isinstance(error, httpx.ConnectError):
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
        if stat.st_size > max_bytes:
            raise FetchError(request.url, f"file of {stat.st_size:,} bytes exceeds the limit")
        body = path.read_bytes()
    except FileNotFoundError:
        raise FetchError(request.url, "no such file") from None
    except IsADirectoryError:
        raise FetchError(request.url, "is a directory, not a file") from None
    except OSError as error:
        raise FetchError(request.url, f"cannot read: {error.strerror or error}") from None
    return FetchResult(request.url, 200, body, request.url, last_modified=last_modified)


def _same_time(a: str, b: str) -> bool:
    try:
        return parsedate_to_datetime(a) == parsedate_to_datetime(b)
    except (TypeError, ValueError):
        return False
