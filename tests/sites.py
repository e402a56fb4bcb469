"""The test suite's HTTP server: the demo's static server, plus routes that misbehave on
purpose (`overrides`) and a record of every request, kept out of the library."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import unquote, urlsplit

from digest.pipeline._demo_site import DemoSite, fill_placeholders

__all__ = ["LocalSite", "fill_placeholders"]

Handler = Callable[[BaseHTTPRequestHandler], None]


class LocalSite(DemoSite):
    """`overrides` maps a path to a handler for a misbehaving route; `requests` lists
    (method, path, status) of every response sent."""

    def __init__(
        self,
        root: Path,
        port: int = 0,
        now: datetime | None = None,
        rewrite: dict[str, str] | None = None,
        overrides: dict[str, Handler] | None = None,
        host: str = "127.0.0.1",
    ):
        self.overrides = overrides or {}
        self.requests: list[tuple[str, str, int]] = []
        super().__init__(root, port, now=now, rewrite=rewrite, host=host)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        site = self
        served = super()._handler_class()

        class Recorded(served):  # type: ignore[misc,valid-type]
            def send_response(self, code: int, message: str | None = None) -> None:
                site.requests.append((self.command, getattr(self, "path", ""), code))
                super().send_response(code, message)

            def do_GET(self) -> None:
                override = site.overrides.get(unquote(urlsplit(self.path).path))
                if override is not None:
                    override(self)
                else:
                    super().do_GET()

        return Recorded
