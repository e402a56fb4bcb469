"""A test hook that kills the process at a named point, to prove crash safety for real.

With DIGEST_TEST_CRASH_AT=after-smtp-accept in its environment, the process SIGKILLs itself
the first time it reaches `crash_point("after-smtp-accept")`; unset (always, outside the
tests), `crash_point` only reads one environment variable. Points: after-ingest,
after-stage, before-data-end, after-smtp-accept, after-sent, after-file-write, and
feed-worker (in a worker process parsing a feed).
"""

from __future__ import annotations

import os
import signal

CRASH_VARIABLE = "DIGEST_TEST_CRASH_AT"


def crash_point(name: str) -> None:
    if os.environ.get(CRASH_VARIABLE) == name:
        os.kill(os.getpid(), signal.SIGKILL)
