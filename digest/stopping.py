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

import time
from collections.abc import Iterator
from contextlib import contextmanager


class Stopped(KeyboardInterrupt):
    """SIGTERM (`kill`, `systemctl stop`): unwound like Ctrl-C, so the run records why it
    ended ("stopped by SIGTERM") instead of vanishing with its row still open."""


class _Stop:
    held = 0  # steps under way that a stop waits for (nested: counted)
    asked: str | None = None  # a stop asked for while one was under way
    asked_at = 0.0  # when (time.monotonic)
    # A long step's patience (`held(patience=...)`): seconds a stop waits for it.
    patience: float | None = None
    hurried = False  # a second stop asked: no long step is waited for


@contextmanager
def held(patience: float | None = None) -> Iterator[None]:
    """A step a stop waits for (see the module's note). With `patience` (seconds), a long
    step made of held steps (an SMTP session over many readers): a stop asked during it
    waits for it as long as that, then is raised as the step within under way ends; a
    second stop asked does not wait for it at all."""
    if _Stop.asked is not None and (not _Stop.held or _out_of_patience()):
        _raise_asked()
    _Stop.held += 1
    outer = _Stop.patience
    if patience is not None:
        _Stop.patience = patience
    try:
        yield
    finally:
        _Stop.held -= 1
        _Stop.patience = outer
    if _Stop.asked is not None and (not _Stop.held or _out_of_patience()):
        _raise_asked()


def reset() -> None:
    """Forget a stop asked for: each run of the process starts without one (a step that
    failed leaves the stop it was asked unraised)."""
    _Stop.asked, _Stop.hurried, _Stop.patience, _Stop.held = None, False, None, 0


def _out_of_patience() -> bool:
    if _Stop.patience is None:
        return False
    return _Stop.hurried or time.monotonic() - _Stop.asked_at >= _Stop.patience


def stop(reason: str) -> None:
    """Stop the run now, raising Stopped, or when the held step under way ends."""
    if _Stop.held:
        if _Stop.asked is not None:
            _Stop.hurried = True  # asked twice: the long step is not waited for
        else:
            _Stop.asked, _Stop.asked_at = reason, time.monotonic()
        return
    raise Stopped(reason)


def _raise_asked() -> None:
    reason, _Stop.asked, _Stop.hurried = _Stop.asked or "", None, False
    raise Stopped(reason)
