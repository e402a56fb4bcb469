"""Real parts for the tests: the demo sites on a loopback HTTP server, an aiosmtpd server on
loopback, configs written to tmp_path as an operator would write them."""

from __future__ import annotations

import json
import logging
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sites import LocalSite

from digest.cluster._thresholds import Thresholds
from digest.config._loader import Config, load_config

REPO = Path(__file__).resolve().parent.parent
# Real labelled data beside the repository (read-only, written by others); see its README.
SHARED_DATA = REPO.parent / "shared" / "data"
DEMO_SITES = REPO / "config" / "demo" / "sites"
DEMO_BASE = "http://127.0.0.1:8765"

DEMO_FEEDS = [
    ("Techwire", "techwire/feed.xml", "Technology"),
    ("Circuit Post", "circuitpost/atom.xml", "Technology"),
    ("ByteBeat", "bytebeat/feed.json", "Technology"),
    ("The Daily Ledger", "dailyledger/feed.xml", "Business"),
    ("Market Pulse", "marketpulse/atom.xml", "Business"),
    ("Global Brief", "globalbrief/atom.xml", "World"),
    ("Northstar News", "northstar/feed.json", "World"),
    ("Science Desk", "sciencedesk/rss.rdf", "Science"),
]


@pytest.fixture(scope="session")
def expectations() -> dict[str, Any]:
    return json.loads((REPO / "tests" / "fixtures" / "demo_expectations.json").read_text())


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def stall(seconds: float) -> Callable[[BaseHTTPRequestHandler], None]:
    """A route that answers nothing for `seconds` (a hung server)."""

    def handler(request: BaseHTTPRequestHandler) -> None:
        time.sleep(seconds)
        try:
            request.send_response(200)
            request.end_headers()
        except OSError:
            pass

    return handler


def respond(status: int, body: bytes = b"", content_type: str = "application/xml", **headers: str):
    """A route answering `status` with `body`; `headers` beside Content-Type and
    Content-Length, `_` in a name sent as `-` (Content_Encoding="gzip")."""

    def handler(request: BaseHTTPRequestHandler) -> None:
        request.send_response(status)
        request.send_header("Content-Type", content_type)
        for name, value in headers.items():
            request.send_header(name.replace("_", "-"), value)
        request.send_header("Content-Length", str(len(body)))
        request.end_headers()
        request.wfile.write(body)

    return handler


@pytest.fixture
def site() -> Iterator[LocalSite]:
    """The demo sites on a free loopback port, their links rewritten to that port."""
    server = LocalSite(DEMO_SITES, port=0)
    server.rewrite = {DEMO_BASE: server.base_url}
    with server:
        yield server


@dataclass
class Mailbox:
    host: str
    port: int
    messages: list[EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)  # recipients answered with 550
    defer: set[str] = field(default_factory=set)  # recipients answered with 451 (greylisting)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if address in self.refuse:
            return "550 5.1.1 No such user here"
        if address in self.defer:
            return "451 4.7.1 Greylisted, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.original_content, policy=policy.default))
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 Message accepted for delivery"


@pytest.fixture
def digest_log(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """caplog for the "digest" logger, handler attached to it: the CLI's main(), which other
    tests run in this process, stops that logger from propagating to the root (a filter
    test saw no record when a CLI test had run before it in its worker)."""
    logger = logging.getLogger("digest")
    logger.addHandler(caplog.handler)
    caplog.set_level("INFO", logger="digest")
    try:
        yield caplog
    finally:
        logger.removeHandler(caplog.handler)


@pytest.fixture
def smtp_server() -> Iterator[Mailbox]:
    mailbox = Mailbox("127.0.0.1", _free_port())
    controller = Controller(mailbox, hostname=mailbox.host, port=mailbox.port)
    controller.start()
    try:
        yield mailbox
    finally:
        controller.stop()


def demo_feeds_yaml(base_url: str, feeds: list[tuple[str, str, str]] | None = None) -> str:
    lines = ["feeds:"]
    for name, path, section in feeds if feeds is not None else DEMO_FEEDS:
        url = path if "://" in path else f"{base_url}/{path}"
        lines += [f"  - name: {name}", f"    url: {url}", f"    section: {section}"]
    return "\n".join(lines) + "\n"


def write_config(
    tmp_path: Path,
    base_url: str,
    *,
    delivery: str | None = None,
    feeds: list[tuple[str, str, str]] | None = None,
    extra: str = "",
    name: str = "digest.yaml",
) -> Path:
    """A digest config in tmp_path: state and outbox beside it, feeds on the test server."""
    text = (
        "title: Test Brief\n"
        "window: 72h\n"
        "max_items: 30\n"
        "storage: state/digest.db\n"
        "fetch:\n  timeout: 2\n"
        + extra
        + (delivery or "delivery:\n  method: file\n  outbox: outbox\n")
        + demo_feeds_yaml(base_url, feeds)
    )
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def smtp_delivery(mailbox: Mailbox, to: str = "reader@example.org") -> str:
    return (
        "delivery:\n  method: smtp\n"
        f"  host: {mailbox.host}\n  port: {mailbox.port}\n  security: none\n"
        f"  from: Test Brief <digest@example.org>\n  to: {to}\n"
        "  retry_delay: 0.05s\n"
    )


@pytest.fixture
def load() -> Callable[[Path], Config]:
    return load_config


def run_cli(
    *args: str, cwd: Path | None = None, timeout: float = 120, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """The real `digest` command, as cron would call it (`env` adds variables)."""
    return subprocess.run(
        [sys.executable, "-m", "digest", *args],
        capture_output=True,
        text=True,
        cwd=cwd or REPO,
        timeout=timeout,
        check=False,
        env={**os.environ, **env} if env else None,
    )


# Without a terminal (as `run_cli` runs it) each stderr line starts with its UTC time.
_STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ (?=digest: )")


def stderr_lines(stderr: str) -> list[str]:
    """The lines of a `run_cli` stderr as `digest: ...`, the time that starts each taken off
    (see "Watching a run" in docs/commands.md)."""
    return [_STAMP.sub("", line) for line in stderr.splitlines()]


def problems(stderr: str) -> list[str]:
    """`stderr_lines` but the run's progress (`digest: stage feeds: ...`, one per stage):
    what went wrong or needs a look."""
    return [line for line in stderr_lines(stderr) if not line.startswith("digest: stage ")]


def wait_for(predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests of real data need ../shared/data: without it they are skipped on a developer's
    machine, and the suite fails at once under CI (CI=true), where the data must be there."""
    if SHARED_DATA.is_dir():
        return
    if os.environ.get("CI", "").lower() in ("true", "1", "yes"):
        raise pytest.UsageError(
            f"the real-data tests need ../shared/data, looked for {SHARED_DATA}: clone the "
            "repository beside shared/ as CI does"
        )
    skip = pytest.mark.skip(reason=f"../shared/data is absent (looked for {SHARED_DATA})")
    for item in items:
        if "shared_data" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[Any]:
    """A real PostgreSQL server on 127.0.0.1 (tests/pg_server.py), once per session. Without
    initdb it skips, with the reason; under CI (CI=true), where .ci/run installs PostgreSQL,
    it fails in one line instead."""
    from pg_server import start_server

    try:
        server = start_server()
    except (FileNotFoundError, RuntimeError) as error:
        if os.environ.get("CI", "").lower() in ("true", "1", "yes"):
            pytest.fail(f"PostgreSQL tests cannot run under CI: {error}", pytrace=False)
        pytest.skip(f"no PostgreSQL server for the tests: {error}")
    try:
        yield server
    finally:
        server.stop()


# The clusterer's mechanics are tested at fixed thresholds (the values the rules were first
# written for), not at the fitted ones, which move whenever bench/fit_cluster.py is rerun.
RULES = Thresholds(
    merge_at=0.08,
    size_margin=0.0,
    min_shared_facts=2,
    distinctive_idf=1.5,
    no_facts_factor=0.5,
    subject_conflict_factor=0.25,
    split_at=0.06,
    min_event_part=4,
    event_fact_share=0.6,
    event_fact_elsewhere=0.25,
    event_subject_share=0.9,
    event_subject_elsewhere=0.1,
    headline_split_at=0.09,
    headline_event_part=3,
    stray_shared_facts=-1,
)
