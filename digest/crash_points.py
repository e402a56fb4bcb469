"""Where the SIGKILL tests kill a real run, to prove crash safety for real.

With DIGEST_TEST_CRASH_AT=<point> in its environment, the process SIGKILLs itself the first
time it reaches that point; unset (always, outside the tests), a point costs one environment
look-up. The points are the state database's named commits, `before-<step>` (nothing of the
step written yet) and `after-<step>` (committed), and `feed-worker` (a worker process
parsing a feed). The steps:

    problems  the run's skipped feeds and pages, recorded right after ingest
    stage     the digest staged: its stories marked delivered, its messages in the outbox
    sending   a message marked `sending`, just before the SMTP end-of-data (or the file write)
    sent      a message marked `sent`, right after the server's 250 (or the files written)

Only the store's transactions (`StateDB.transaction`) and the worker pool call this module.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager

CRASH_VARIABLE = "DIGEST_TEST_CRASH_AT"


def crash_point(name: str) -> None:
    if os.environ.get(CRASH_VARIABLE) == name:
        os.kill(os.getpid(), signal.SIGKILL)


@contextmanager
def around(step: str | None) -> Iterator[None]:
    """The points before and after the block, which commits `step` (None: no points)."""
    if step is None:
        yield
        return
    crash_point(f"before-{step}")
    yield
    crash_point(f"after-{step}")
