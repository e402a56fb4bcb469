"""A polite stop (SIGTERM) that waits for the one step it must not cut.

The CLI turns SIGTERM (`kill`, `systemctl stop`) into `Stopped` wherever the signal lands,
and the run unwinds as from Ctrl-C, recording why it ended. One step must not be cut so: a
message the SMTP server is taking, its end of data sent and the server's reply not yet read
and recorded. Cut there, the server may have taken the message while the state says it was
being handed over, and the next run sends it again. That step runs under `held()`, and a
stop asked for during it is raised as it ends; should the step fail, the stop is raised as
the next held step begins, or the run ends as it would have.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


class Stopped(KeyboardInterrupt):
    """SIGTERM (`kill`, `systemctl stop`): unwound like Ctrl-C, so the run records why it
    ended ("stopped by SIGTERM") instead of vanishing with its row still open."""


class _Stop:
    held = 0  # steps under way that a stop waits for (nested: counted)
    asked: str | None = None  # a stop asked for while one was under way


@contextmanager
def held() -> Iterator[None]:
    """A step a stop waits for (see the module's note)."""
    if _Stop.asked is not None and not _Stop.held:
        _raise_asked()
    _Stop.held += 1
    try:
        yield
    finally:
        _Stop.held -= 1
    if _Stop.asked is not None and not _Stop.held:
        _raise_asked()


def stop(reason: str) -> None:
    """Stop the run now, raising Stopped, or when the held step under way ends."""
    if _Stop.held:
        _Stop.asked = reason
        return
    raise Stopped(reason)


def _raise_asked() -> None:
    reason, _Stop.asked = _Stop.asked or "", None
    raise Stopped(reason)
