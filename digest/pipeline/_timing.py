"""Wall and CPU seconds per pipeline stage, kept in the run's report and told, with each
stage's start, to whoever watches the run (digest/pipeline/_progress.py).

Stages that hand work to other processes (page extraction) add those processes' CPU time
to their own, so that a stage's CPU seconds above its wall seconds show the cores it kept
busy.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from ..models import StageTiming
from . import _progress


@dataclass
class StageTimer:
    """Collects one StageTiming per stage name, in the order stages first ran."""

    stages: list[StageTiming] = field(default_factory=list)

    @contextmanager
    def stage(self, name: str, total: int | None = None) -> Iterator[StageTiming]:
        """Time the block; the caller may set `items` and add workers' CPU to `cpu`.
        `total`: the inputs the stage will handle, when known before it starts.

        Each stage is one block per run: a watcher hears it start and finish once (a block
        entered again is timed on, but told as a stage of its own)."""
        timing = self._get(name)
        wall, cpu = time.perf_counter(), time.process_time()
        _progress.stage_started(name, total)
        stopped = True  # until the block ends well: an error or a signal stopped it
        try:
            yield timing
            stopped = False
        finally:
            timing.wall += time.perf_counter() - wall
            timing.cpu += time.process_time() - cpu
            _progress.stage_finished(timing, stopped=stopped)

    def _get(self, name: str) -> StageTiming:
        for timing in self.stages:
            if timing.stage == name:
                return timing
        timing = StageTiming(name)
        self.stages.append(timing)
        return timing
