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
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from ..crash_points import crash_point
from ..errors import ExtractError
from ..feeds import ParsedFeed, parse_fetched
from ..models import CleanedText, ExtractedPage, FetchResult, Skipped
from ..pages import (
    LanguageDetector,
    ScoredBlocks,
    block_fingerprints,
    decide,
    extract_page,
    score_page,
)

Key = TypeVar("Key")
# Starting a worker imports trafilatura (about a second); below this many pages the run's
# own process is faster than a pool (workers: auto only; a number is obeyed).
POOL_MIN_PAGES = 64
# Pages handed to the pool but not yet done, per worker: enough to never leave a worker
# idle, few enough that fetched pages do not pile up in memory when fetching outruns them.
QUEUED_PER_WORKER = 4


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


def process_page(raw: bytes, url: str) -> PageWork:
    """Extract and clean one page; never raises for a bad page (its failure is the result)."""
    start = time.process_time()
    try:
        page = extract_page(raw, url)
    except ExtractError as error:
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


@contextmanager
def run_pool(workers: int) -> Iterator[ProcessPoolExecutor | None]:
    """A pool of `workers` processes for the run's stages (None for 0), shut down on exit
    with what is still queued cancelled: a run stopped mid-stage does not wait for it."""
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
    return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context(run_start_method()))


def parse_feed_in_worker(
    result: FetchResult, feed_name: str, now: datetime
) -> tuple[ParsedFeed | Skipped, float]:
    """parse.parse_fetched in a worker, with the CPU seconds it took. Importing this module
    there also imports the page extractor (about a second), so the run's first pages find
    the workers ready."""
    start = time.process_time()
    crash_point("feed-worker")
    return parse_fetched(result, feed_name, now), time.process_time() - start


def worker_count(setting: int | None) -> int:
    """`workers` from the config: None means one per core this process may use."""
    return cores() if setting is None else setting


class PagePool(Generic[Key]):
    """Hand pages to worker processes as they arrive; collect results as they finish.

    With `workers` = 0 the pages are processed in this process, one at a time. Use as a
    context manager; `submit` blocks while enough pages are already queued.
    """

    def __init__(self, workers: int, executor: ProcessPoolExecutor | None = None):
        """`executor`, when given, is a pool of `workers` processes that the caller owns
        (and shuts down); otherwise the pool is started here and stopped on exit."""
        self.workers = workers
        self._executor: ProcessPoolExecutor | None = executor if workers > 0 else None
        self._owned = executor is None
        self._running: dict[Future[PageWork], Key] = {}
        self._done: list[tuple[Key, PageWork]] = []

    def __enter__(self) -> PagePool[Key]:
        if self.workers > 0 and self._executor is None:
            self._executor = start_pool(self.workers)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._executor is not None and self._owned:
            self._executor.shutdown(wait=True, cancel_futures=True)

    def submit(self, key: Key, raw: bytes, url: str) -> None:
        if self._executor is None:
            self._done.append((key, process_page(raw, url)))
            return
        while len(self._running) >= self.workers * QUEUED_PER_WORKER:
            self._collect(wait(self._running, return_when=FIRST_COMPLETED).done)
        self._running[self._executor.submit(process_page, raw, url)] = key

    def finished(self) -> Iterator[tuple[Key, PageWork]]:
        """Results that are ready, without waiting for the others."""
        self._collect([future for future in self._running if future.done()])
        done, self._done = self._done, []
        yield from done

    def drain(self) -> Iterator[tuple[Key, PageWork]]:
        """Every remaining result, waiting for each."""
        if self._running:
            self._collect(wait(self._running).done)
        done, self._done = self._done, []
        yield from done

    def _collect(self, futures: Iterable[Future[PageWork]]) -> None:
        for future in list(futures):
            key = self._running.pop(future)
            try:
                work = future.result()
            except Exception as error:  # a worker died (out of memory, killed)
                work = PageWork("", None, None, f"extraction worker failed ({error})"[:300])
            self._done.append((key, work))


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1
