"""Serve a folder of sites on 127.0.0.1 for the length of a run (the bundled demo).

The demo must go through the production path (HTTP fetch, conditional GET, extraction), so
its feeds and pages are served by a real HTTP server rather than read from disk. Files may
hold date placeholders, filled at serving time so that the demo always looks fresh:

    {{now:iso}}          now, as 2026-11-23T08:00:00+00:00
    {{now-5h:rfc822}}    five hours ago, as Mon, 23 Nov 2026 03:00:00 +0000
    {{now-30m:iso}}      thirty minutes ago

"now" is fixed when the server starts, rounded down to the hour, so that one file gives one
body (and one ETag) for the whole hour.

The files are written for SERVED_ORIGIN (http://127.0.0.1:8765, `serve.port`'s default).
On another port (8765 taken on a shared machine), `serve_root` rewrites that origin in
every body it serves, and the config's feed URLs follow (`follow_serve_port`), so links
and feeds keep pointing at this server.
"""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
import re
import threading
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

from ..config import SERVED_ORIGIN, served_origin

_PLACEHOLDER = re.compile(r"\{\{now(?:-(\d+)([hm]))?:(iso|rfc822)\}\}")
_TYPES = {
    ".xml": "application/rss+xml; charset=utf-8",
    ".rdf": "application/rdf+xml; charset=utf-8",
    ".atom": "application/atom+xml; charset=utf-8",
    ".json": "application/feed+json; charset=utf-8",
    ".html": "text/html; charset=utf-8",
}


def serve_root(root: Path, port: int) -> DemoSite:
    """The server for `serve.root`: links to SERVED_ORIGIN in its files follow `port`."""
    rewrite = {SERVED_ORIGIN: served_origin(port)} if port != 8765 else {}
    return DemoSite(root, port, rewrite=rewrite)


def fill_placeholders(text: str, now: datetime) -> str:
    def replace(match: re.Match[str]) -> str:
        amount, unit, style = match.groups()
        moment = now
        if amount:
            moment -= (
                timedelta(hours=int(amount)) if unit == "h" else timedelta(minutes=int(amount))
            )
        return moment.isoformat(timespec="seconds") if style == "iso" else format_datetime(moment)

    return _PLACEHOLDER.sub(replace, text)


class _Server(ThreadingHTTPServer):
    # The default backlog of 5 drops connections when a run opens dozens at once.
    request_queue_size = 128


class DemoSite:
    """A static HTTP server on 127.0.0.1 with ETag / Last-Modified and gzip.

    `rewrite` replaces text in every served body (the demo on another port than its files
    were written for rewrites its base URL).
    """

    def __init__(
        self,
        root: Path,
        port: int = 0,
        now: datetime | None = None,
        rewrite: dict[str, str] | None = None,
        host: str = "127.0.0.1",
    ):
        self.root = root.resolve()
        moment = now or datetime.now(UTC)
        self.now = moment.replace(minute=0, second=0, microsecond=0)
        self.rewrite = rewrite or {}
        self._server = _Server((host, port), self._handler_class())
        self._server.daemon_threads = True
        # serve_forever() sees shutdown() only between polls: at its default 0.5 s, closing
        # the site would keep the run (and every test that serves a site) waiting.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://{self._server.server_address[0]}:{self.port}"

    def __enter__(self) -> DemoSite:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def body_for(self, path: Path) -> bytes:
        data = path.read_bytes()
        if path.suffix in _TYPES:
            text = fill_placeholders(data.decode("utf-8"), self.now)
            for old, new in self.rewrite.items():
                text = text.replace(old, new)
            data = text.encode("utf-8")
        return data

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        site = self

        class Handler(BaseHTTPRequestHandler):
            server_version = "digest-localsite"

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                return  # the run's own log says what was fetched

            def do_GET(self) -> None:
                site._serve_file(self, unquote(urlsplit(self.path).path))

        return Handler

    def _serve_file(self, handler: BaseHTTPRequestHandler, path: str) -> None:
        target = (self.root / path.lstrip("/")).resolve()
        if target.is_dir():
            target = target / "index.html"
        if not target.is_relative_to(self.root) or not target.is_file():
            handler.send_error(404, "Not Found")
            return
        body = self.body_for(target)
        # The ETag follows the file, not the filled-in dates: an unchanged demo site answers
        # 304 to the next run even when that run starts in another hour.
        etag = '"' + hashlib.sha1(target.read_bytes()).hexdigest()[:20] + '"'
        last_modified = formatdate(target.stat().st_mtime, usegmt=True)
        if handler.headers.get("If-None-Match") == etag:
            handler.send_response(304)
            handler.send_header("ETag", etag)
            handler.end_headers()
            return
        content_type = _TYPES.get(target.suffix) or mimetypes.guess_type(target.name)[0]
        if "gzip" in handler.headers.get("Accept-Encoding", ""):
            body = gzip.compress(body)
            encoding = "gzip"
        else:
            encoding = None
        handler.send_response(200)
        handler.send_header("Content-Type", content_type or "application/octet-stream")
        handler.send_header("Content-Length", str(len(body)))
        handler.send_header("ETag", etag)
        handler.send_header("Last-Modified", last_modified)
        if encoding:
            handler.send_header("Content-Encoding", encoding)
        handler.end_headers()
        handler.wfile.write(body)
