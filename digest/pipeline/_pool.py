"""Extract and clean article pages in worker processes, fed as the pages arrive.

trafilatura and langdetect hold the GIL, so threads would keep one core busy; a process pool
sized to the cores keeps them all busy while the fetcher's threads bring the next pages in.
The work is a pure function of (page bytes, URL) returning plain dataclasses, so it pickles,
and a worker never sees the run's database, HTTP client or threads.

A page is cleaned in the worker without the site's memory of repeated blocks (only the run
knows every page of a site). The worker also returns what that memory needs, so that the run
does no more than set lookups for it: each block's fingerprints, and the page's scores
(`clean.ScoredBlocks`), from which a page that does repeat site blocks is decided again
without being scored again.

With `workers` naming a Dask scheduler, the same functions run on its workers (_dask.py):
the feeds one task each, the pages in batches.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import pickle
import signal
import time
import zlib
from collections.abc import Iterable, Iterator
from concurrent.futures import (
    FIRST_COMPLETED,
    BrokenExecutor,
    Executor,
    Future,
    ProcessPoolExecutor,
    wait,
)
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from ..config import FetchSettings
from ..crash_points import crash_point
from ..errors import ExtractError, FetchError
from ..feeds import ParsedFeed, decode_body, parse_fetched
from ..models import CleanedText, ExtractedPage, FetchResult, Skipped
from ..pages import (
    LanguageDetector,
    ScoredBlocks,
    block_fingerprints,
    decide,
    extract_page,
    score_page,
)
from ._dask import DaskWorkers

log = logging.getLogger("digest")

Key = TypeVar("Key")
# Starting a worker imports trafilatura (about a second); below this many pages the run's
# own process is faster than a pool (workers: auto only; a number is obeyed).
POOL_MIN_PAGES = 64
# Pages handed to the pool but not yet done, per worker: enough to never leave a worker
# idle, few enough that fetched pages do not pile up in memory when fetching outruns them.
QUEUED_PER_WORKER = 4
# On a Dask cluster pages go in batches, one task each: a task costs the scheduler and the
# network a round trip, a page some 15 ms of a core. A batch is sent once it holds this
# many pages, or at once while a worker thread has nothing to do.
PAGES_PER_TASK = 16
# Batches handed to the cluster but not yet done, per worker thread.
QUEUED_PER_THREAD = 2


@dataclass(frozen=True)
class PageWork:
    """One page extracted and cleaned (without site memory), or why it could not be."""

    url: str
    page: ExtractedPage | None
    cleaned: CleanedText | None
    skipped: Skipped | None = None  # why `page` and `cleaned` are None
    scored: ScoredBlocks | None = None  # the signals `cleaned` was decided from
    prints: tuple[tuple[str, ...], ...] = ()  # each block's fingerprints
    cpu: float = 0.0  # CPU seconds the worker spent on this page
    peers: tuple[tuple[str, str], ...] = ()  # its fetch's hops (FetchResult.peers)


def process_page(
    raw: bytes, url: str, encoding: str | None = None, max_bytes: int = FetchSettings.max_bytes
) -> PageWork:
    """Extract and clean one page; never raises for a bad page (its failure is the result).
    A body kept as the server encoded it (`encoding`, FetchRequest.keep_encoding) is decoded
    first, to at most `max_bytes` (fetch.max_bytes)."""
    start = time.process_time()
    try:
        page = extract_page(decode_body(url, raw, encoding, max_bytes), url)
    except (ExtractError, FetchError) as error:
        reason = error.reason
    # As for feeds: a page that breaks the extractor costs this page only.
    except Exception as error:
        reason = f"extraction failed ({type(error).__name__}: {error})"[:300]
    else:
        scored = score_page(page, LanguageDetector())
        prints = block_fingerprints(page.blocks)
        return PageWork(url, page, decide(scored, set()), None, scored, prints,
                        time.process_time() - start)  # fmt: skip
    return PageWork(url, None, None, Skipped("page", url, reason), cpu=time.process_time() - start)


def run_start_method() -> str:
    """How a run starts worker processes. Not fork: the run has fetch threads and an open
    SQLite connection, which a forked child would inherit mid-operation, and a forked child
    shows the run's whole memory as its own. forkserver children start clean.

    The fork server is told to import this module (and with it the package, trafilatura
    included) before it forks anything: its children then start with it, where each of them
    imported it on its own, 0.7 s a process and a pool (the server's own preloading of the
    main script does not take: Python hands it no path to preload). A daemon's fork server
    outlives its runs, so later runs' pools start at once."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return "spawn"
    multiprocessing.set_forkserver_preload([__name__])
    return "forkserver"


def process_pages(pages: list[tuple[bytes, str, str | None]], max_bytes: int) -> bytes:
    """process_page for a batch of (page bytes, URL, encoding), on a cluster's worker: the
    results pickled and compressed (zlib's fastest level, in the worker's time), as they
    cross the network to the run."""
    works = [process_page(raw, url, encoding, max_bytes) for raw, url, encoding in pages]
    return zlib.compress(pickle.dumps(works, protocol=pickle.HIGHEST_PROTOCOL), 1)


def unpack_pages(packed: bytes) -> list[PageWork]:
    """What process_pages returned, as PageWork values again."""
    works: list[PageWork] = pickle.loads(zlib.decompress(packed))
    return works


@contextmanager
def run_pool(setting: int | str | None) -> Iterator[Executor | None]:
    """The workers for the run's stages, by the `workers` setting: a Dask scheduler's when
    it names one (a local pool should it not answer), else a pool of local processes (None
    for 0). Shut down on exit with what is still queued cancelled: a run stopped mid-stage
    does not wait for it."""
    if isinstance(setting, str):
        try:
            cluster = DaskWorkers(setting)
        except (OSError, TimeoutError) as error:
            log.warning("Dask scheduler %s: %s; using %d local worker processes instead",
                        setting, error, cores())  # fmt: skip
        else:
            try:
                yield cluster
            finally:
                cluster.shutdown()
            return
    workers = worker_count(setting)
    if workers <= 0:
        yield None
        return
    pool = start_pool(workers)
    try:
        yield pool
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def start_pool(workers: int) -> ProcessPoolExecutor:
    """A pool of `workers` processes started the run's way (run_start_method). A process
    starts when the pool is first given work, not before."""
    return ProcessPoolExecutor(
        workers, mp_context=multiprocessing.get_context(run_start_method()),
        initializer=_ignore_interrupts,
    )  # fmt: skip


def _ignore_interrupts() -> None:
    """In a worker: Ctrl-C is the run's to answer. A terminal sends SIGINT to every process
    of its foreground group, and workers that died of it printed a traceback each and broke
    the pool under a run that was still finishing its digest."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def parse_feed_in_worker(
    result: FetchResult, feed_name: str, now: datetime
) -> tuple[ParsedFeed | Skipped, float]:
    """parse.parse_fetched in a worker, with the CPU seconds it took. Importing this module
    there also imports the page extractor (about a second), so the run's first pages find
    the workers ready."""
    start = time.process_time()
    crash_point("feed-worker")
    return parse_fetched(result, feed_name, now), time.process_time() - start


def worker_count(setting: int | str | None) -> int:
    """Local processes for `workers` from the config: None means one per core this process
    may use, and so does a Dask scheduler's address (for work done here, or should the
    cluster not answer)."""
    return setting if isinstance(setting, int) else cores()


def local_workers(setting: int | str | None) -> int | None:
    """`workers` for the stages that run on this machine only (clustering's terms): a Dask
    scheduler's address counts as auto here."""
    return None if isinstance(setting, str) else setting


@dataclass(frozen=True)
class _Page(Generic[Key]):
    """A page handed to PagePool: on a cluster its bytes are kept to redo a lost batch."""

    key: Key
    raw: bytes
    url: str
    encoding: str | None


class PagePool(Generic[Key]):
    """Hand pages to worker processes as they arrive; collect results as they finish.

    With `workers` = 0 the pages are processed in this process, one at a time. Use as a
    context manager; `submit` blocks while enough pages are already queued. On a Dask
    cluster (`executor` a DaskWorkers) pages go in batches (PAGES_PER_TASK), and a batch
    whose task fails for good (its workers kept dying, or the cluster is gone) is processed
    in this process: a lost worker costs no page.
    """

    def __init__(
        self,
        workers: int,
        executor: Executor | None = None,
        max_bytes: int = FetchSettings.max_bytes,
    ):
        """`executor`, when given, is a pool of `workers` processes, or a Dask cluster, that
        the caller owns (and shuts down); otherwise a pool is started here and stopped on
        exit. `max_bytes` bounds a page body submitted with its encoding, once decoded."""
        self.workers = workers
        self.max_bytes = max_bytes
        self._executor: Executor | None = executor if workers > 0 else None
        self._owned = executor is None
        self._cluster = executor if isinstance(executor, DaskWorkers) else None
        # Each task's pages: the key, and on a cluster the bytes, kept to redo a lost batch.
        self._running: dict[Future[PageWork | bytes], list[_Page[Key]]] = {}
        self._batch: list[_Page[Key]] = []
        self._done: list[tuple[Key, PageWork]] = []
        self.bytes_sent = 0  # page bytes handed to the cluster's workers
        self.bytes_received = 0  # their results, as they came back (compressed)

    def __enter__(self) -> PagePool[Key]:
        if self.workers > 0 and self._executor is None:
            self._executor = start_pool(self.workers)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._executor is not None and self._owned:
            self._executor.shutdown(wait=True, cancel_futures=True)
        if self.bytes_sent:
            log.info("pages: %.1f MB sent to the Dask workers, %.1f MB of results back",
                     self.bytes_sent / 1e6, self.bytes_received / 1e6)  # fmt: skip

    def submit(self, key: Key, raw: bytes, url: str, encoding: str | None = None) -> None:
        """Page work for the body `raw` of `url`, as the server encoded it when `encoding`
        (a Content-Encoding kept by FetchRequest.keep_encoding) is given."""
        if self._executor is None:
            self._done.append((key, process_page(raw, url, encoding, self.max_bytes)))
            return
        if self._cluster is not None:
            self._batch.append(_Page(key, raw, url, encoding))
            if len(self._batch) >= PAGES_PER_TASK or len(self._running) < self._cluster.threads:
                self._send_batch(self._cluster)
            return
        while len(self._running) >= self.workers * QUEUED_PER_WORKER:
            self._collect(wait(self._running, return_when=FIRST_COMPLETED).done)
        future = self._executor.submit(process_page, raw, url, encoding, self.max_bytes)
        self._running[future] = [_Page(key, b"", url, None)]

    def finished(self) -> Iterator[tuple[Key, PageWork]]:
        """Results that are ready, without waiting for the others."""
        self._collect([future for future in self._running if future.done()])
        done, self._done = self._done, []
        yield from done

    def drain(self) -> Iterator[tuple[Key, PageWork]]:
        """Every remaining result, waiting for each."""
        if self._batch and self._cluster is not None:
            self._send_batch(self._cluster)
        if self._running:
            self._collect(wait(self._running).done)
        done, self._done = self._done, []
        yield from done

    def _send_batch(self, cluster: DaskWorkers) -> None:
        while len(self._running) >= cluster.threads * QUEUED_PER_THREAD:
            self._collect(wait(self._running, return_when=FIRST_COMPLETED).done)
        batch, self._batch = self._batch, []
        pages = [(page.raw, page.url, page.encoding) for page in batch]
        try:
            future = cluster.submit(process_pages, pages, self.max_bytes)
        except BrokenExecutor:
            self._process_here(batch)
            return
        self.bytes_sent += sum(len(page.raw) for page in batch)
        self._running[future] = batch

    def _process_here(self, batch: list[_Page[Key]]) -> None:
        self._done += [
            (page.key, process_page(page.raw, page.url, page.encoding, self.max_bytes))
            for page in batch
        ]

    def _collect(self, futures: Iterable[Future[PageWork | bytes]]) -> None:
        for future in list(futures):
            batch = self._running.pop(future)
            try:
                result = future.result()
            except Exception as error:
                if self._cluster is None:  # a local worker died (out of memory, killed)
                    reason = f"extraction worker failed ({error})"[:300]
                    url = batch[0].url
                    self._done.append(
                        (batch[0].key, PageWork(url, None, None, Skipped("page", url, reason)))
                    )
                    continue
                if isinstance(error, BrokenExecutor):  # the cluster is gone, said once
                    self._process_here(batch)
                    continue
                what = " ".join(f"{type(error).__name__}: {error}".split())[:200]
                log.warning("a Dask task failed (%s): its %d pages are processed here",
                            what, len(batch))  # fmt: skip
                self._process_here(batch)
                continue
            if isinstance(result, PageWork):
                self._done.append((batch[0].key, result))
                continue
            self.bytes_received += len(result)
            works = unpack_pages(result)
            self._done += [(page.key, work) for page, work in zip(batch, works, strict=True)]


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1
