"""How far a run has got, told as it goes: the pipeline counts, the caller shows.

The library prints nothing. A caller that wants to watch a run hands an observer to
`reporting_progress` for the length of the run:

    with pipeline.reporting_progress(observer):
        report = pipeline.run(config)

and the observer hears each stage start and finish (StageTimer, digest/pipeline/_timing.py)
and, in between, each input the stage finished with its outcome: a feed fetched, unchanged
or failed; a page fetched, then extracted or failed. `digest run` shows that as a live
display on a terminal and as a line per stage in a log (digest/cli/_progress.py).

The observer is found the way a logger is, through a context variable, so that the stages
report with one call (`count("pages", "failed")`) and no run function takes a parameter it
only passes on. A context variable belongs to its thread: the daemon's runs, each in its
own thread, each report to their own observer. Counting happens in the run's own thread
(fetch threads and worker processes hand their results back to it first).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Protocol

from ..models import StageTiming


@dataclass
class StageCount:
    """One stage as it runs: how many inputs it has (when known), how many it finished, and
    how each ended. `counts` keeps outcomes in the order they first happened."""

    stage: str
    total: int | None = None  # feeds or pages the stage will handle; None: not known
    done: int = 0  # inputs finished, whatever their outcome
    counts: dict[str, int] = field(default_factory=dict)  # outcome -> how many
    started: float = field(default_factory=time.monotonic)
    stopped: bool = False  # finished by an error (or Ctrl-C, SIGTERM), not by its end

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started


class Progress(Protocol):
    """Hears a run's stages. Called in the run's thread; a slow observer slows the run."""

    def stage_started(self, stage: StageCount) -> None: ...
    def stage_advanced(self, stage: StageCount) -> None: ...
    def stage_finished(self, stage: StageCount, timing: StageTiming) -> None: ...


class _Tracker:
    """The stages of the runs watched by one observer, by name, while they run."""

    def __init__(self, observer: Progress):
        self.observer = observer
        self.open: dict[str, StageCount] = {}


_tracker: ContextVar[_Tracker | None] = ContextVar("digest_progress", default=None)


@contextlib.contextmanager
def reporting_progress(observer: Progress) -> Iterator[None]:
    """Tell `observer` the progress of the runs made in this thread within the block."""
    token = _tracker.set(_Tracker(observer))
    try:
        yield
    finally:
        _tracker.reset(token)


def stage_started(stage: str, total: int | None = None) -> None:
    tracker = _tracker.get()
    if tracker is None:
        return
    count = StageCount(stage, total)
    tracker.open[stage] = count
    tracker.observer.stage_started(count)


def stage_finished(timing: StageTiming, *, stopped: bool = False) -> None:
    tracker = _tracker.get()
    if tracker is None:
        return
    count = tracker.open.pop(timing.stage, None) or StageCount(timing.stage)
    count.stopped = stopped
    tracker.observer.stage_finished(count, timing)


def expect(stage: str, total: int) -> None:
    """The open `stage` will handle `total` inputs (known once it has looked at them)."""
    tracker = _tracker.get()
    if tracker is None or (count := tracker.open.get(stage)) is None:
        return
    count.total = total
    tracker.observer.stage_advanced(count)


def count(stage: str, outcome: str, *, finished: bool = True) -> None:
    """One input of the open `stage` reached `outcome`; `finished=False` for a step on its
    way (a page fetched, not yet extracted), which does not count it done."""
    tracker = _tracker.get()
    if tracker is None or (stage_count := tracker.open.get(stage)) is None:
        return
    stage_count.counts[outcome] = stage_count.counts.get(outcome, 0) + 1
    if finished:
        stage_count.done += 1
    tracker.observer.stage_advanced(stage_count)
