"""digest/stopping.py: a SIGTERM waits for the steps it must not cut, and no longer."""

from __future__ import annotations

import time

import pytest

from digest.stopping import Stopped, held, reset, stop


def test_a_stop_during_a_held_step_is_raised_as_it_ends():
    done = []
    with pytest.raises(Stopped, match="stopped by SIGTERM"), held():
        stop("stopped by SIGTERM")
        done.append("the reply read and recorded")
    assert done == ["the reply read and recorded"]


def test_a_long_step_is_waited_for_as_long_as_its_patience_then_cut_between_steps():
    reached = []
    with pytest.raises(Stopped), held(patience=0.3):
        for reader in range(100):
            with held():
                if reader == 0:
                    stop("stopped by SIGTERM")
                time.sleep(0.05)
            reached.append(reader)
    # Past the patience, the step under way ended and the next was not begun.
    assert 4 <= len(reached) <= 8, reached
    with held():  # nothing left asked
        pass


def test_a_second_stop_does_not_wait_for_the_long_step():
    reached = []
    with pytest.raises(Stopped), held(patience=60):
        for reader in range(10):
            with held():
                if reader == 2:
                    stop("stopped by SIGTERM")
                if reader == 4:
                    stop("stopped by SIGTERM")
            reached.append(reader)
    assert reached == [0, 1, 2, 3]


def test_a_stop_due_is_raised_before_the_next_step_begins_and_forgotten_by_reset():
    reached = []
    with pytest.raises(Stopped), held(patience=60):
        with held():
            stop("stopped by SIGTERM")
        stop("stopped by SIGTERM")  # asked again between two steps (a login)
        with held():
            reached.append("a message begun")
    assert reached == []
    # A step that failed leaves its stop unraised; the next run must not inherit it.
    with pytest.raises(OSError), held():
        stop("stopped by SIGTERM")
        raise OSError("connection reset")
    reset()
    with held():
        reached.append("the next run's message")
    assert reached == ["the next run's message"]
