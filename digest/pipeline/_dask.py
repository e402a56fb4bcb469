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

import asyncio
import logging
import socket
import threading
import time
import warnings
from collections.abc import Callable
from concurrent.futures import (
    BrokenExecutor,
    CancelledError,
    Executor,
    Future,
    InvalidStateError,
)
from contextlib import suppress
from typing import TYPE_CHECKING, Any

from ..version import code_identity

if TYPE_CHECKING:
    from distributed import Client

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
# Once tasks have been waiting this long with none finished, while a worker has not been
# heard from (its heartbeat to the scheduler) for SILENT_AFTER, they are given up the same
# way: a worker that stopped (SIGSTOP, a hung machine) keeps its tasks until the scheduler's
# own check drops it, 5 minutes by default, and meanwhile held the run, and every digest
# of the storage waiting for its turn. A busy worker still beats: however long a queue of
# other digests' tasks makes ours wait, that is no stall.
STALL_GRACE = 120.0
SILENT_AFTER = 30.0  # the scheduler hears from each worker every 0.5-6 s, by cluster size
# While connecting, the scheduler is asked this often whether it has a worker yet.
WAIT_FOR_WORKER_EVERY = 0.2
# A port that says nothing this long after taking the connection is sent an empty line:
# a Dask scheduler has sent its first message by then, an HTTP server waits for a request.
NUDGE_AFTER = 1.0
# Closing a client waits for the scheduler's goodbye this long at most.
CLOSE_TIMEOUT = 5.0
# The workers' code check gets at least this long, even when the connection used up most
# of its timeout waiting for a worker.
CODE_CHECK_MIN = 5.0


class DaskWorkers(Executor):
    """A Dask scheduler's workers as a concurrent.futures Executor for the run's stages.

    `submit` returns a plain Future; `threads` is how many tasks the cluster runs at once.
    Should every worker be gone for NO_WORKER_GRACE seconds, no task finish for STALL_GRACE
    seconds while some wait and a worker is silent, or the scheduler be lost, the pending
    futures fail and `submit` raises BrokenExecutor: callers then do the work in the run's
    process, as they do when a local pool breaks.
    """

    def __init__(self, address: str, timeout: float | None = None):
        """Connect to the scheduler at `address` and wait for its first worker; raises
        OSError, its message one line that names what to fix, when there is no scheduler,
        no worker or no worker running this digest by `timeout` (default CONNECT_TIMEOUT),
        whatever the other end does meanwhile."""
        from distributed.utils import LoopRunner, sync

        timeout = CONNECT_TIMEOUT if timeout is None else timeout
        self.address = address
        # A batch of big pages is a "large graph" to Dask, whose warning (six lines of advice
        # to load the data with Dask, which pages the run holds cannot be) went to the
        # operator's log. Ignored for good, not around each submit: the daemon's digests
        # submit from threads of their own, and warnings.catch_warnings is not thread-safe.
        warnings.filterwarnings("ignore", "Sending large graph", UserWarning, "distributed")
        deadline = time.monotonic() + timeout
        _refuse_a_wrong_address(address, timeout, deadline)
        # The client gets an event loop of its own, in a thread this object stops: a Client
        # made the usual way connects in its constructor, whose handshake waits for the
        # scheduler's first message without a deadline (a hung scheduler, or a service that
        # accepts and never writes, held the run forever, and then its exit for 40 s). Made
        # in that loop, the client exists before it connects, so it can be closed however
        # far the connection got.
        self._runner = LoopRunner()
        self._runner.start()
        made: list[Client] = []
        try:
            # A second bound over _connect's own (the deadline, then at most CODE_CHECK_MIN
            # for the workers' code check): should the loop hang in a way none of them
            # sees, this one still ends the wait.
            self.threads = sync(
                self._runner.loop,
                _connect,
                address,
                timeout,
                deadline,
                made,
                callback_timeout=timeout + CODE_CHECK_MIN + 5,
            )
        except BaseException as error:
            if made:
                _close_quietly(made[0])
            self._runner.stop()
            if isinstance(error, TimeoutError):  # the second bound
                raise OSError(_no_answer(timeout)) from None
            raise
        self._client = made[0]
        self._lock = threading.Lock()
        self._pending: set[Future[Any]] = set()
        # When a task last finished, or the first of the pending ones was handed over.
        self._progress = time.monotonic()
        # Per worker: its last heartbeat as the scheduler gave it, and when (our clock)
        # that value last changed.
        self._heard: dict[str, tuple[float, float]] = {}
        self._broken: str | None = None
        # Set by the watcher while the scheduler answers that it has no worker: a task's
        # result that never comes is then the workers' loss, not the scheduler's.
        self._no_workers = False
        self._stop = threading.Event()
        self._watch = threading.Thread(target=self._watch_workers, name="dask-watch", daemon=True)
        self._watch.start()

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        with self._lock:
            if self._broken is not None:
                raise BrokenExecutor(self._broken)
            relay: Future[Any] = Future()
            if not self._pending:  # time spent with nothing to do is no stall
                self._progress = time.monotonic()
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
                self._progress = time.monotonic()
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
                    # The run cancels nothing: the scheduler is gone, and its tasks with it;
                    # or, waited for in vain, the workers that held the result are.
                    self._lost(type(error).__name__, isinstance(error, TimeoutError))
                    relay.set_exception(BrokenExecutor(self._broken))
                except BaseException as error:  # the task's error, KilledWorker
                    relay.set_exception(error)

        task.add_done_callback(settle)
        return relay

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self._stop.set()
        self._give_up("the run stopped using the cluster", say=False)
        _close_quietly(self._client)
        self._runner.stop()

    def _watch_workers(self) -> None:
        idle_since: float | None = None
        while not self._stop.wait(WATCH_EVERY):
            # Asked with a deadline: a scheduler that stopped (SIGSTOP, a hung machine) never
            # answers, and the run waited for it with no end.
            answered = True
            try:
                threads = sum(self._client.nthreads(callback_timeout=CONNECT_TIMEOUT).values())
            except TimeoutError:
                threads, self._no_workers, answered = 0, False, False
            except Exception:  # the scheduler is gone: as good as no worker
                threads, self._no_workers = 0, False
            else:
                self._no_workers = not threads
            if threads:
                self.threads, idle_since = threads, None
                with self._lock:
                    waiting = len(self._pending)
                    stalled = waiting and time.monotonic() - self._progress >= STALL_GRACE
                silent = self._silent_workers() if waiting else []
                if stalled and silent:
                    self._give_up(
                        f"no Dask task finished in {STALL_GRACE:.0f}s while {waiting} waited, "
                        f"and worker {silent[0]} has not been heard from in "
                        f"{SILENT_AFTER:.0f}s (stopped or hung?)"
                    )
                    return
                continue
            now = time.monotonic()
            idle_since = now if idle_since is None else idle_since
            if now - idle_since >= NO_WORKER_GRACE:
                self._give_up(
                    f"no Dask worker at {self.address} for {NO_WORKER_GRACE:.0f}s"
                    if answered
                    else f"the Dask scheduler {self.address} has not answered for "
                    f"{NO_WORKER_GRACE:.0f}s (stopped or hung?)"
                )
                return

    def _silent_workers(self) -> list[str]:
        """The workers whose heartbeat the scheduler has not had for SILENT_AFTER, by our
        clock (the scheduler's may differ from ours): its value has not changed since."""
        try:
            # (scheduler_info() takes no deadline; this is the call it makes)
            workers = self._client.sync(
                self._client.scheduler.identity, n_workers=-1, callback_timeout=CONNECT_TIMEOUT
            )["workers"]
        except Exception:  # the scheduler is gone or hung: the loss is noticed elsewhere
            return []
        now = time.monotonic()
        silent = []
        for address, worker in workers.items():
            seen = float(worker.get("last_seen") or 0.0)
            before = self._heard.get(address)
            if before is None or before[0] != seen:
                self._heard[address] = (seen, now)
            elif now - before[1] >= SILENT_AFTER:
                silent.append(address)
        return silent

    def _lost(self, what: str, waited: bool = False) -> None:
        """Give up on the cluster: its scheduler is gone, or (`waited` for a result in
        vain, while the scheduler said it had no worker) every worker is."""
        lost = (
            f"every Dask worker at {self.address} is gone"
            if waited and self._no_workers
            else f"lost the Dask scheduler {self.address}"
        )
        self._give_up(f"{lost} ({what})", say=not self._stop.is_set())

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


def _refuse_a_wrong_address(address: str, timeout: float, deadline: float) -> None:
    """OSError at once for a `tcp://HOST:PORT` whose host name does not resolve, where
    nothing listens, or that sends what a Dask scheduler does not; by `deadline` (`timeout`
    from the start) for one that takes no connection or sends nothing. Dask's client
    would retry until its own timeout, or wait for the scheduler's first message forever."""
    host, _, port_text = address.removeprefix("tcp://").rpartition(":")
    host = host.strip("[]")
    try:
        port = int(port_text)
    except ValueError:
        raise OSError(f"{port_text!r} is not a port; check `workers` in the config") from None
    # In a daemon thread: a resolver that hangs cannot hold the run (nor its exit).
    resolved: list[OSError | None] = []
    lookup = threading.Thread(
        target=lambda: resolved.append(_resolve(host, port)), name="dask-resolve", daemon=True
    )
    lookup.start()
    lookup.join(deadline - time.monotonic())
    if not resolved:
        raise OSError(
            f"the host name {host} did not resolve within {timeout:g} s; check `workers` "
            "in the config, and the machine's DNS"
        )
    if resolved[0] is not None:
        raise OSError(f"the host name {host} does not resolve; check `workers` in the config")
    try:
        left = max(0.1, deadline - time.monotonic())
        with socket.create_connection((host, port), timeout=left) as probe:
            greeting = _greeting(probe, deadline)
    except ConnectionRefusedError:
        raise OSError("connection refused: nothing listens there; check `workers`") from None
    except TimeoutError:
        raise OSError(
            f"no connection within {timeout:g} s; check `workers` in the config, and that "
            f"the host is up and lets port {port} through"
        ) from None
    except OSError as error:
        raise OSError(
            f"cannot connect ({error.strerror or error}); check `workers` in the config"
        ) from None
    if greeting is None:
        raise OSError(_no_answer(timeout))
    # A Dask message starts with its length, 8 bytes little-endian: a real one's high bytes
    # are 0, where a text protocol's first bytes (`HTTP/1.0`, `SSH-2.0-`) make terabytes.
    if len(greeting) < 8 or int.from_bytes(greeting[:8], "little") >= 1 << 32:
        first_line = greeting.split(b"\n")[0].strip()[:40].decode("ascii", "replace")
        what = f"it sent {first_line!r}" if greeting else "it closed the connection"
        raise OSError(
            f"it did not answer as a Dask scheduler ({what}); check `workers` in the config"
        )


def _greeting(probe: socket.socket, deadline: float) -> bytes | None:
    """The first bytes the service at `probe` sends (b"" should it close the connection
    at once), None when it sends nothing by `deadline`. A Dask scheduler speaks first;
    services that wait for their client to (HTTP) are sent an empty line after
    NUDGE_AFTER seconds, which a scheduler takes as the start of a message that never
    comes, as from any port check."""
    nudged = False
    received = b""
    while len(received) < 8:
        left = deadline - time.monotonic()
        if left <= 0:
            return received or None
        probe.settimeout(left if nudged else min(left, NUDGE_AFTER))
        try:
            chunk = probe.recv(64)
        except TimeoutError:
            if nudged:
                return received or None
            try:
                probe.sendall(b"\r\n\r\n")
            except OSError:  # it hung up meanwhile
                return received
            nudged = True
            continue
        except ConnectionResetError:
            return received
        if not chunk:
            return received
        received += chunk
    return received


def _resolve(host: str, port: int) -> OSError | None:
    """getaddrinfo's error for `host`, None when it resolves."""
    try:
        socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as error:
        return error
    return None


async def _connect(address: str, timeout: float, deadline: float, made: list[Client]) -> int:
    """Connect a client to `address` (appended to `made` first, for the caller to close
    on failure), wait for a worker and check the workers' code, all by `deadline` (which
    is `timeout` from the start); return how many worker threads the scheduler has."""
    from distributed import Client

    def left() -> float:
        return max(0.1, deadline - time.monotonic())

    # The client keeps `timeout` as its window to reconnect during the run; the deadline
    # below bounds this first connection.
    client = Client(address, asynchronous=True, timeout=timeout, set_as_default=False)
    made.append(client)
    try:
        await asyncio.wait_for(_started(client), left())
    except TimeoutError:
        raise OSError(_no_answer(timeout)) from None
    # It closed the connection, or sent what Dask cannot read (distributed's handshake then
    # raises what its decoder does: struct.error, a msgpack error...).
    except Exception as error:
        what = "it closed the connection" if _closed(error) else f"{type(error).__name__}: {error}"
        raise OSError(
            f"it did not answer as a Dask scheduler ({what[:200]}); check `workers` in the config"
        ) from None
    # Called from the run's threads from now on: there the client is to wait for its
    # loop's answer, not hand back an awaitable should that loop have stopped meanwhile.
    client._asynchronous = False
    while True:
        try:
            threads = sum((await asyncio.wait_for(client.nthreads(), left())).values())
        except TimeoutError:
            raise OSError(f"the scheduler stopped answering; {_CHECK_SCHEDULER}") from None
        if threads:
            break
        if time.monotonic() >= deadline:
            raise OSError(f"the scheduler has no worker; start one with `dask worker {address}`")
        await asyncio.sleep(min(WAIT_FOR_WORKER_EVERY, left()))
    # A worker that joined just before the deadline still gets time to say its code.
    await _check_workers_code(client, timeout, max(left(), CODE_CHECK_MIN))
    return max(1, threads)


def _closed(error: Exception) -> bool:
    from distributed.comm import CommClosedError

    return isinstance(error, CommClosedError)


async def _started(client: Client) -> None:
    await client


async def _check_workers_code(client: Client, timeout: float, left: float) -> None:
    """Raise OSError unless every worker runs this run's digest (answering within `left`
    seconds; `timeout` is the whole connection's, which the message names): a worker
    without it fails every task, one with other code extracts and cleans pages otherwise
    (or fails every task on a changed signature), each batch then redone in the run."""
    try:
        found = await asyncio.wait_for(client.run(code_identity), left)
    except TimeoutError:
        raise OSError(
            f"its workers did not answer within {timeout:g} s; restart the workers"
        ) from None
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


_CHECK_SCHEDULER = "check `workers` in the config, and restart the scheduler if it is hung"


def _no_answer(timeout: float) -> str:
    return (
        f"it took the connection but did not answer as a Dask scheduler within "
        f"{timeout:g} s; {_CHECK_SCHEDULER}"
    )


def _close_quietly(client: Client) -> None:
    """Close `client` within CLOSE_TIMEOUT: a client still open at exit would try again
    from its finalizer, for twice its timeout, with a traceback."""
    with suppress(Exception):
        client.close(timeout=CLOSE_TIMEOUT)
    # Closed or not, nothing is to be done with it any more, by its finalizer neither.
    client.status = "closed"
    # A client that closed itself (its handshake failed) returns from close() at once,
    # still holding the loop it was made on: without this, that loop's thread outlived
    # the run (one more per failed connection in `digest schedule`).
    with suppress(Exception):
        client._loop_runner.stop()
