"""Wall and CPU seconds per pipeline stage, kept in the run's report and logged with -v.

Stages that hand work to other processes (page extraction) add those processes' CPU time
to their own, so that a stage's CPU seconds above its wall seconds show the cores it kept
busy.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from ..models import StageTiming

log = logging.getLogger("digest")


@dataclass
class StageTimer:
    """Collects one StageTiming per stage name, in the order stages first ran."""

    stages: list[StageTiming] = field(default_factory=list)

    @contextmanager
    def stage(self, name: str) -> Iterator[StageTiming]:
        """Time the block; the caller may set `items` and add workers' CPU to `cpu`."""
        timing = self._get(name)
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            yield timing
        finally:
            timing.wall += time.perf_counter() - wall
            timing.cpu += time.process_time() - cpu
            log.info(
                "stage %s: %.2fs wall, %.2fs CPU, %d items",
                name, timing.wall, timing.cpu, timing.items,
            )  # fmt: skip

    def _get(self, name: str) -> StageTiming:
        for timing in self.stages:
            if timing.stage == name:
                return timing
        timing = StageTiming(name)
        self.stages.append(timing)
        return timing
