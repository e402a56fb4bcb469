"""What the `digest` command writes on stderr, and how it shows a run as it goes.

Every stderr line comes out in one of three forms (`--log-format`, default `auto`):

- `terminal` (auto, when stderr is a terminal): lines `digest: ...`, and while a run or a
  preview works, a live display of its stages: feeds fetched, unchanged and failed; pages
  fetched, extracted and failed, with counts, the rate and the time so far (rich).
- `timestamped` (auto, otherwise: cron, a redirect to a file): each line starts with the
  UTC time, ISO 8601 (`2026-12-06T07:00:03Z digest: ...`); a run writes one line per stage
  when it ends, and a count every 10 seconds during a long one.
- `plain` (auto, when stderr goes to the systemd journal, which dates each line itself):
  the lines of `timestamped` without the time.

The pipeline prints nothing: it tells a `pipeline.Progress` observer (LiveDisplay or
LogProgress here) how its stages go.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import IO, TYPE_CHECKING, Any

from ..models import StageTiming
from ..text import plural

if TYPE_CHECKING:
    from ..pipeline import StageCount

LOG_FORMATS = ("auto", "terminal", "timestamped", "plain")
# A stage that runs longer than this gets a line with its counts so far, in a log.
LOG_EVERY = 10.0
# Outcomes in the order they are shown, whatever order they first happened in.
_ORDER = ("fetched", "unchanged", "read from the pool", "extracted", "failed")
# What a stage's `items` counts, for its line ("store: 42 articles").
_ITEM = {"feeds": "feed", "pages": "page", "clean": "page", "store": "article",
         "cluster": "article", "rank": "item", "render": "item",
         "deliver": "accepted message"}  # fmt: skip


def items_and_follow_ups(items: int, follow_ups: int, follow_up_note: str = "") -> str:
    """What a digest held, as the run, daemon and status lines say it: "3 items", "3 items
    and 2 follow-ups", "2 follow-ups" (late reports on stories sent before, and
    `follow_up_note` after them)."""
    if not follow_ups:
        return plural(items, "item")
    said = plural(follow_ups, "follow-up") + follow_up_note
    return f"{plural(items, 'item')} and {said}" if items else said


def choose_format(requested: str, stream: IO[str] | None = None) -> str:
    """The form of the stderr lines: `requested`, or for "auto" what stderr is."""
    if requested != "auto":
        return requested
    stream = stream or sys.stderr
    if _is_terminal(stream):
        return "terminal"
    if _is_journal(stream):
        return "plain"
    return "timestamped"


def _is_terminal(stream: IO[str]) -> bool:
    try:
        return stream.isatty() and os.environ.get("TERM", "") != "dumb"
    except (AttributeError, ValueError):  # no file behind it, or closed
        return False


def _is_journal(stream: IO[str]) -> bool:
    """systemd sets JOURNAL_STREAM=device:inode to the journal's socket on a service's
    stdout and stderr; stderr is that socket unless something redirected it since."""
    device, _, inode = os.environ.get("JOURNAL_STREAM", "").partition(":")
    try:
        status = os.fstat(stream.fileno())
        return (status.st_dev, status.st_ino) == (int(device), int(inode))
    except (AttributeError, ValueError, OSError):
        return False


class Lines:
    """Formats the command's stderr lines: `digest: ...`, dated in the timestamped form."""

    timestamped = False
    # Set when stderr's reader has left (`digest run 2>&1 | head`, a log pipe that died) or
    # it cannot be written (a log file on a full disk, as cron's `>> log 2>&1` makes it):
    # the run goes on unheard rather than fail on a line nobody reads, its outcome kept in
    # `digest status`.
    reader_gone = False

    def format(self, message: str, when: float | None = None) -> str:
        if not self.timestamped:
            return f"digest: {message}"
        moment = time.gmtime(time.time() if when is None else when)
        return f"{time.strftime('%Y-%m-%dT%H:%M:%SZ', moment)} digest: {message}"

    def say(self, message: str) -> None:
        """One line on stderr (sys.stderr as it is now: a live display may stand in)."""
        if self.reader_gone:
            return
        try:
            print(self.format(message), file=sys.stderr, flush=True)
        except OSError:  # a closed pipe, a full disk
            self.reader_gone = True


LINES = Lines()


class LineFormatter(logging.Formatter):
    """Log records as the command's lines; `named` adds the logger's name (a library's)."""

    def __init__(self, named: bool = False):
        super().__init__()
        self.named = named

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        if self.named:
            message = f"{record.name}: {message}"
        if record.exc_info:
            message += "\n" + self.formatException(record.exc_info)
        return LINES.format(message, record.created)


class StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to sys.stderr as it is at each record, so that a live display that stands in
    for it (rich redirects it to print above itself) gets the lines too."""

    def __init__(self) -> None:
        super().__init__()

    @property  # type: ignore[override]
    def stream(self) -> IO[str]:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        pass

    def emit(self, record: logging.LogRecord) -> None:
        if not LINES.reader_gone:
            super().emit(record)

    def handleError(self, record: logging.LogRecord) -> None:
        if isinstance(sys.exc_info()[1], OSError):
            LINES.reader_gone = True  # see Lines.reader_gone
        else:
            super().handleError(record)


def describe(stage: StageCount) -> str:
    """`80/180 pages, 85 fetched, 75 extracted, 5 failed, 8.0/s` (as far as known)."""
    parts = []
    if stage.total is not None:
        unit = stage.stage if stage.stage in ("feeds", "pages") else "done"
        parts.append(f"{stage.done}/{stage.total} {unit}")
    parts += _counts(stage)
    elapsed = stage.elapsed
    if stage.done and elapsed >= 0.5:
        parts.append(f"{stage.done / elapsed:.1f}/s")
    return ", ".join(parts)


def finished_line(stage: StageCount, timing: StageTiming, cpu: bool) -> str:
    """`pages: 180 pages in 22.5s (178 fetched, 170 extracted, 10 failed)`."""
    noun = _ITEM.get(stage.stage)
    line = f"stage {stage.stage}: "
    line += f"{plural(timing.items, noun)} in " if noun and timing.items else ""
    line += f"{timing.wall:.1f}s"
    counts = _counts(stage)
    if counts:
        line += f" ({', '.join(counts)})"
    if stage.stopped:
        line += ", stopped"  # the error that stopped it is the command's last line
    if cpu:
        line += f", {timing.cpu:.1f}s CPU"
        if timing.workers_cpu:
            line += f" ({timing.workers_cpu:.1f}s in worker processes)"
    return line


def _counts(stage: StageCount) -> list[str]:
    """`["85 fetched", "75 extracted", "5 failed"]`, in _ORDER (then any other outcome)."""
    counts = dict(stage.counts)  # a copy: the run's thread may add an outcome meanwhile
    ordered = sorted(counts, key=lambda o: _ORDER.index(o) if o in _ORDER else len(_ORDER))
    return [f"{counts[outcome]} {outcome}" for outcome in ordered]


class LogProgress:
    """A run in a log: a line when each stage ends, and every `every` seconds one with the
    counts of the stage still running (a hung stage shows as the same counts, later)."""

    def __init__(self, emit: Callable[[str], None], *, cpu: bool = False,
                 every: float = LOG_EVERY, prefix: str = ""):  # fmt: skip
        self.emit = emit
        self.cpu = cpu  # -v: the stages' CPU seconds too
        self.every = every
        self.prefix = prefix  # the daemon names the digest: its runs may overlap
        self._lock = threading.Lock()
        self._running: StageCount | None = None
        self._last_line = time.monotonic()
        self._stop = threading.Event()
        self._ticker = threading.Thread(target=self._tick, name="progress-log", daemon=True)

    def __enter__(self) -> LogProgress:
        self._ticker.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._ticker.join()

    def stage_started(self, stage: StageCount) -> None:
        with self._lock:
            self._running = stage

    def stage_advanced(self, stage: StageCount) -> None:
        pass  # the ticker reads the counts when a line is due

    def stage_finished(self, stage: StageCount, timing: StageTiming) -> None:
        with self._lock:
            self._running = None
            self._last_line = time.monotonic()
            line = finished_line(stage, timing, self.cpu)
        self.emit(self.prefix + line)

    def _tick(self) -> None:
        while not self._stop.wait(min(1.0, self.every)):
            with self._lock:
                stage = self._running
                due = stage is not None and time.monotonic() - self._last_line >= self.every
                if not due or stage is None:
                    continue
                self._last_line = time.monotonic()
                counts = describe(stage)
                line = f"stage {stage.stage}: {counts or 'running'}, {stage.elapsed:.0f}s so far"
            self.emit(self.prefix + line)


class LiveDisplay:
    """A run on a terminal: one row per stage, redrawn in place (rich), which stays on the
    screen when the run ends. Lines written to stderr meanwhile print above it."""

    def __init__(self) -> None:
        # Imported here: a run in a log never loads it.
        from rich.console import Console
        from rich.progress import BarColumn, SpinnerColumn, TextColumn, TimeElapsedColumn
        from rich.progress import Progress as Bars
        from rich.text import Text

        class Mark(SpinnerColumn):
            """A spinner while the stage runs, then ✓, or ✗ for a stage an error stopped."""

            def render(self, task: Any) -> Any:
                return (
                    Text("✗", style="red") if task.fields.get("stopped") else super().render(task)
                )

        self.bars = Bars(
            Mark(finished_text="[green]✓[/]"),
            TextColumn("{task.description:<8}"),
            BarColumn(bar_width=24),
            TextColumn("{task.fields[detail]}"),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            redirect_stdout=False,  # stdout may be a pipe (`preview --json | jq`)
            refresh_per_second=8,
        )
        self._tasks: dict[str, Any] = {}

    def __enter__(self) -> LiveDisplay:
        self.bars.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.bars.stop()

    def stage_started(self, stage: StageCount) -> None:
        self._tasks[stage.stage] = self.bars.add_task(stage.stage, total=stage.total, detail="")

    def stage_advanced(self, stage: StageCount) -> None:
        task = self._tasks.get(stage.stage)
        if task is not None:
            self.bars.update(task, total=stage.total, completed=stage.done, detail=describe(stage))

    def stage_finished(self, stage: StageCount, timing: StageTiming) -> None:
        task = self._tasks.pop(stage.stage, None)
        if task is None:
            return
        total = stage.total or 1
        noun = _ITEM.get(stage.stage)
        detail = describe(stage) or (plural(timing.items, noun) if noun and timing.items else "")
        if stage.stopped:
            detail = f"{detail}, stopped" if detail else "stopped"
        self.bars.update(task, total=total, completed=total, detail=detail, stopped=stage.stopped)
        self.bars.stop_task(task)


@contextlib.contextmanager
def watching(log_format: str, verbose: bool) -> Iterator[None]:
    """Show the runs made in the block: a live display on a terminal, else log lines."""
    from .. import pipeline  # here: see digest/cli/_commands.py on what it pulls in

    terminal = log_format == "terminal"
    observer = LiveDisplay() if terminal else LogProgress(LINES.say, cpu=verbose)
    with observer, pipeline.reporting_progress(observer):
        yield
