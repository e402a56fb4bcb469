"""The run's feed parsing and page work on a Dask cluster (`workers: tcp://HOST:PORT`).

Only this module imports dask, and only when a run's `workers` names a scheduler: a run on
the local pool never loads it (nor needs it installed: it is the `cluster` extra).

What runs on the cluster is what runs in the local pool (_pool.py): pure functions of the
fetched bytes, returning plain dataclasses. Fetching, robots.txt and `fetch.per_host` stay
in the run's process, so the politeness limits hold for the whole cluster; and only the
run's process writes the store, from the results it gathered, so a task that the scheduler
runs again after its worker died is stored once like any other.
"""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Callable
from concurrent.futures import (
    BrokenExecutor,
    CancelledError,
    Executor,
    Future,
    InvalidStateError,
)
from contextlib import suppress
from typing import Any

from ..version import code_identity

log = logging.getLogger("digest")

# A scheduler that does not answer, or has no worker, within this is not used: the run
# falls back to its local pool rather than wait for a cluster that may never come.
CONNECT_TIMEOUT = 20.0
# The scheduler is asked this often how many worker threads it has: PagePool keeps that
# many batches busy, and a cluster whose workers are all gone is noticed.
WATCH_EVERY = 2.0
# Once the cluster has had no worker for this long, its tasks are given up (their work is
# then done in the run's process): a lost worker's tasks wait for another, not forever.
NO_WORKER_GRACE = 30.0


class DaskWorkers(Executor):
    """A Dask scheduler's workers as a concurrent.futures Executor for the run's stages.

    `submit` returns a plain Future; `threads` is how many tasks the cluster runs at once.
    Should every worker be gone for NO_WORKER_GRACE seconds (or the scheduler be lost), the
    pending futures fail and `submit` raises BrokenExecutor: callers then do the work in
    the run's process, as they do when a local pool breaks.
    """

    def __init__(self, address: str, timeout: float | None = None):
        """Connect to the scheduler at `address` and wait for its first worker; raises
        OSError (or TimeoutError) when there is no scheduler or no worker by `timeout`
        (default CONNECT_TIMEOUT)."""
        from distributed import Client

        timeout = CONNECT_TIMEOUT if timeout is None else timeout
        self.address = address
        _refuse_if_nothing_listens(address, timeout)
        self._client = Client(address, timeout=timeout, set_as_default=False)
        try:
            self._client.wait_for_workers(1, timeout=timeout)
            self._check_workers_code()
        except BaseException:
            self._client.close()
            raise
        self._lock = threading.Lock()
        self._pending: set[Future[Any]] = set()
        self._broken: str | None = None
        self.threads = max(1, sum(self._client.nthreads().values()))
        self._stop = threading.Event()
        self._watch = threading.Thread(target=self._watch_workers, name="dask-watch", daemon=True)
        self._watch.start()

    def _check_workers_code(self) -> None:
        """Raise OSError unless every worker runs this run's digest: a worker without it
        fails every task, one with other code extracts and cleans pages otherwise (or
        fails every task on a changed signature), each batch then redone in the run."""
        try:
            found = self._client.run(code_identity)
        except Exception as error:
            raise OSError(
                f"its workers cannot run digest's tasks ({type(error).__name__}: {error}"[:300]
                + "); install this run's digest on every worker, then restart the workers"
            ) from None
        ours = code_identity()
        for worker, theirs in sorted(found.items()):
            if theirs != ours:
                raise OSError(
                    f"worker {worker} runs digest {theirs}, this run digest {ours}; install "
                    "the same digest on every worker, then restart the workers"
                )

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        with self._lock:
            if self._broken is not None:
                raise BrokenExecutor(self._broken)
            relay: Future[Any] = Future()
            self._pending.add(relay)
        try:
            # pure=False: identical arguments are still separate work, and Dask does not
            # hash a batch's megabytes to name its task.
            task = self._client.submit(fn, *args, pure=False, **kwargs)
        except Exception as error:  # the client closed: it gave up on the scheduler
            self._lost(type(error).__name__)
            raise BrokenExecutor(self._broken) from None

        def settle(done: Any) -> None:
            with self._lock:
                self._pending.discard(relay)
            # InvalidStateError: given up on already (_give_up), which stands.
            with suppress(InvalidStateError):
                # Dask runs every client's callbacks in one thread, and result() goes
                # through the client's event loop: after shutdown (or with the scheduler
                # gone) it could wait forever, and hold up every callback after it.
                if self._stop.is_set() or done.status == "cancelled":
                    self._lost(done.status)
                    relay.set_exception(BrokenExecutor(self._broken))
                    return
                try:
                    relay.set_result(done.result(timeout=CONNECT_TIMEOUT))
                except InvalidStateError:
                    raise
                except (CancelledError, TimeoutError) as error:
                    # The run cancels nothing: the scheduler is gone, and its tasks with it.
                    self._lost(type(error).__name__)
                    relay.set_exception(BrokenExecutor(self._broken))
                except BaseException as error:  # the task's error, KilledWorker
                    relay.set_exception(error)

        task.add_done_callback(settle)
        return relay

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self._stop.set()
        self._give_up("the run stopped using the cluster", say=False)
        self._client.close()

    def _watch_workers(self) -> None:
        idle_since: float | None = None
        elapsed = 0.0
        while not self._stop.wait(WATCH_EVERY):
            elapsed += WATCH_EVERY
            try:
                threads = sum(self._client.nthreads().values())
            except Exception:  # the scheduler is gone: as good as no worker
                threads = 0
            if threads:
                self.threads, idle_since = threads, None
                continue
            idle_since = elapsed if idle_since is None else idle_since
            if elapsed - idle_since >= NO_WORKER_GRACE:
                self._give_up(f"no Dask worker at {self.address} for {NO_WORKER_GRACE:.0f}s")
                return

    def _lost(self, what: str) -> None:
        self._give_up(
            f"lost the Dask scheduler {self.address} ({what})", say=not self._stop.is_set()
        )

    def _give_up(self, reason: str, say: bool = True) -> None:
        """Fail every pending task with BrokenExecutor(reason), callers then doing their
        work in the run's process; said in one warning the first time, when `say`."""
        with self._lock:
            first = self._broken is None
            self._broken = self._broken or reason
            pending, self._pending = self._pending, set()
        if first and say:
            log.warning("%s: the rest of the work is done in this process", reason)
        for relay in pending:
            with suppress(InvalidStateError):
                relay.set_exception(BrokenExecutor(reason))


def _refuse_if_nothing_listens(address: str, timeout: float) -> None:
    """OSError at once when nothing listens at the scheduler's `tcp://HOST:PORT`: Dask's
    client would retry until its timeout, and a port typo cost every run that wait."""
    host, _, port = address.removeprefix("tcp://").rpartition(":")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout).close()
    except ConnectionRefusedError:
        raise OSError("connection refused: nothing listens there; check `workers`") from None
    except (OSError, ValueError):
        return  # a slow or unreachable host: Dask's own connect says what it finds
