"""A run you can watch: a live display of its stages on a terminal (the real CLI on a
pseudo-terminal), dated lines in a log, and the counts the pipeline reports on the way."""

from __future__ import annotations

import fcntl
import os
import re
import select
import struct
import subprocess
import sys
import termios
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from itertools import pairwise
from pathlib import Path

from conftest import DEMO_FEEDS, DEMO_SITES, REPO, respond, run_cli, write_config
from sites import Handler, LocalSite

import digest
from digest import pipeline
from digest.cli._progress import LogProgress
from digest.models import StageTiming
from digest.pipeline import StageCount

PAGES = sorted(DEMO_SITES.glob("*/articles/*.html"))
STAMP = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ) digest: ")
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def _slow_pages(site: LocalSite, seconds: float) -> None:
    """Every demo article page answers after `seconds`, so the pages stage lasts a while."""

    def slow(request: BaseHTTPRequestHandler) -> None:
        time.sleep(seconds)
        super(type(request), request).do_GET()  # the demo site's own answer

    site.overrides = {f"/{page.parent.parent.name}/articles/{page.name}": slow for page in PAGES}


def _run_on_a_terminal(args: list[str], timeout: float = 120) -> tuple[int, str, str]:
    """The real `digest` command with its stderr on a pseudo-terminal (stdout a pipe, as in
    `digest preview --json | jq`): its exit code, stdout, and what the terminal got."""
    controller, terminal = os.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 160, 0, 0))
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "160"}
    for knob in ("NO_COLOR", "TTY_INTERACTIVE", "TTY_COMPATIBLE", "JOURNAL_STREAM"):
        env.pop(knob, None)  # rich's and ours: as a person's terminal has them
    child = subprocess.Popen(
        [sys.executable, "-m", "digest", *args],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=terminal, cwd=REPO, env=env,
    )  # fmt: skip
    os.close(terminal)
    screen = bytearray()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([controller], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # EIO: the child closed its end
                break
            if not chunk:
                break
            screen += chunk
        elif child.poll() is not None:
            break
    os.close(controller)
    out, _ = child.communicate(timeout=30)
    code = child.returncode
    return code, out.decode(), screen.decode("utf-8", "replace")


def test_a_run_on_a_terminal_shows_the_pages_stage_as_it_goes(tmp_path: Path, site: LocalSite):
    _slow_pages(site, 0.1)  # 28 pages, two at a time: about 1.5 s of pages
    config = write_config(tmp_path, site.base_url)
    code, out, screen = _run_on_a_terminal(["run", "--config", str(config)])
    assert code == 0, screen
    assert "delivered" in out
    text = ANSI.sub("", screen)
    # Each redraw writes the pages row again: its count climbs while the pages come in.
    shown = [int(done) for done in re.findall(r"pages\s+\S*\s*(\d+)/28 pages", text)]
    assert shown and shown[-1] == 28, text[-2000:]
    climbing = sorted(set(shown) - {0, 28})
    assert len(climbing) >= 3, shown
    assert shown == sorted(shown), shown  # never backwards
    rows = re.findall(r"pages\s+\S*\s*\d+/28 pages, (\d+) fetched, (\d+) extracted", text)
    assert rows[-1] == ("28", "28"), rows[-5:]
    assert "feeds" in text and "8/8 feeds, 8 fetched" in text
    assert not STAMP.search(text)  # a person at a terminal gets no dates


def test_without_a_terminal_every_line_is_dated_in_utc(tmp_path: Path, site: LocalSite):
    site.overrides = {"/techwire/articles/ipad-pro-m5-launch.html": respond(404, b"gone")}
    config = write_config(tmp_path, site.base_url)
    before = datetime.now(UTC).replace(microsecond=0)
    result = run_cli("run", "--config", str(config))  # stderr a pipe, as under cron
    after = datetime.now(UTC)
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    assert lines and all(STAMP.match(line) for line in lines), result.stderr
    for line in lines:
        moment = datetime.strptime(STAMP.match(line)[1], "%Y-%m-%dT%H:%M:%SZ")  # type: ignore[index]
        assert before <= moment.replace(tzinfo=UTC) <= after, line
    # One line per stage, each once (the store stage used to be told twice).
    ends = [line for line in lines if " digest: stage " in line and "so far" not in line]
    stages = [re.sub(STAMP, "", line).split(":")[0] for line in ends]
    names = ("feeds", "pages", "clean", "store", "cluster", "rank", "render", "deliver", "archive")
    assert stages == [f"stage {name}" for name in names]
    pages = next(line for line in lines if " digest: stage pages: " in line)
    assert "28 pages in " in pages and "(27 fetched, 27 extracted, 1 failed)" in pages, pages
    problem = next(line for line in lines if "ipad-pro-m5-launch" in line)
    assert re.sub(STAMP, "", problem).startswith(f"page {site.base_url}/techwire/"), problem

    # The journal dates each line itself: `plain` (what auto picks there) leaves the date out.
    plain = run_cli("run", "--log-format", "plain", "--config", str(config))
    assert plain.returncode == 0, plain.stderr
    lines = plain.stderr.splitlines()
    assert lines[0].startswith("digest: stage feeds: 8 feeds in "), lines
    assert all(line.startswith("digest: ") for line in lines), plain.stderr


def test_the_pages_line_counts_pages_robots_txt_kept_off_in_its_total(
    tmp_path: Path, site: LocalSite
):
    """Pages robots.txt keeps off failed, and are pages of the stage: the line's total is
    every page it considered, extracted + failed (it used to count only those asked for:
    "stage pages: 0.0s (28 failed)" when robots.txt kept the whole site off)."""

    def pages_line(robots: Handler, run: str) -> str:
        site.overrides = {
            "/robots.txt": robots,
            "/techwire/articles/ipad-pro-m5-launch.html": respond(404, b"gone"),
        }
        (tmp_path / run).mkdir()
        result = run_cli("run", "--log-format", "plain", "--config",
                         str(write_config(tmp_path / run, site.base_url)))  # fmt: skip
        assert result.returncode == 0, result.stderr
        return next(line for line in result.stderr.splitlines() if "stage pages:" in line)

    # Circuit Post's four pages, which robots.txt disallows, and the one that is gone.
    disallow = respond(200, b"User-agent: *\nDisallow: /circuitpost/articles/\n", "text/plain")
    line = pages_line(disallow, "some")
    assert line.startswith("digest: stage pages: 28 pages in "), line
    assert line.endswith("s (23 fetched, 23 extracted, 5 failed)"), line
    # robots.txt unreachable: not one page asked for, all 28 of them still the stage's.
    line = pages_line(respond(503, b"down", "text/plain"), "none")
    assert line.startswith("digest: stage pages: 28 pages in "), line
    assert line.endswith("s (28 failed)"), line


class _Recorder:
    """Every progress event of a run, as (event, stage, done, total, counts)."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str, int, int | None, dict[str, int]]] = []

    def _note(self, event: str, stage: StageCount) -> None:
        self.events.append((event, stage.stage, stage.done, stage.total, dict(stage.counts)))

    def stage_started(self, stage: StageCount) -> None:
        self._note("started", stage)

    def stage_advanced(self, stage: StageCount) -> None:
        self._note("advanced", stage)

    def stage_finished(self, stage: StageCount, timing: StageTiming) -> None:
        self._note("finished", stage)


def test_the_pipeline_counts_each_feed_and_page_as_it_goes(tmp_path: Path, site: LocalSite):
    site.overrides = {
        "/broken/feed.xml": respond(500, b"oops", "text/plain"),
        "/techwire/articles/ipad-pro-m5-launch.html": respond(404, b"gone"),
    }
    feeds = [*DEMO_FEEDS, ("Broken", f"{site.base_url}/broken/feed.xml", "World")]
    config = digest.load_config(write_config(tmp_path, site.base_url, feeds=feeds))
    recorder = _Recorder()
    with pipeline.reporting_progress(recorder):
        report = digest.run(config)
    assert report.digest is not None
    started = [stage for event, stage, *_ in recorder.events if event == "started"]
    finished = [stage for event, stage, *_ in recorder.events if event == "finished"]
    assert started == finished == [s.stage for s in report.stages]  # each stage told once
    feeds_seen = [e for e in recorder.events if e[1] == "feeds" and e[0] == "advanced"]
    assert [done for _, _, done, _, _ in feeds_seen] == list(range(1, 10))  # one by one
    assert feeds_seen[-1][3:] == (9, {"fetched": 8, "failed": 1})
    pages = [e for e in recorder.events if e[1] == "pages"]
    assert pages[-1][2:] == (28, 28, {"fetched": 27, "extracted": 27, "failed": 1})
    assert len([e for e in pages if e[0] == "advanced"]) >= 28 + 27  # each fetch, each result
    told = len(recorder.events)
    assert digest.run(config).digest is None  # outside the block: nobody is told
    assert len(recorder.events) == told


def test_a_long_stage_gets_a_line_with_its_counts_every_so_often(tmp_path: Path, site: LocalSite):
    _slow_pages(site, 0.15)  # about 2 s of pages
    config = digest.load_config(write_config(tmp_path, site.base_url))
    lines: list[tuple[float, str]] = []
    progress = LogProgress(lambda line: lines.append((time.monotonic(), line)), every=0.4)
    with progress, pipeline.reporting_progress(progress):
        digest.run(config)
    during = [(at, line) for at, line in lines if re.match(r"stage pages: \d+/28 pages", line)]
    assert len(during) >= 2, lines
    counts = [int(re.match(r"stage pages: (\d+)/", line)[1]) for _, line in during]  # type: ignore[index]
    assert counts == sorted(counts) and counts[0] < 28, counts
    assert all(later - earlier >= 0.35 for (earlier, _), (later, _) in pairwise(during))
    assert during[0][1].endswith("s so far"), during
    final = [line for _, line in lines if line.startswith("stage pages: 28 pages in ")]
    assert len(final) == 1, lines
