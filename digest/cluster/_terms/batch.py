"""A batch's article terms held column-wise, and computed in worker processes when big.

`features.article_terms` describes one article as dictionaries. A batch of 100,000 articles
holds some 15 million such entries: pickled back from the workers as dictionaries they cost
the run more time to unpickle than to cluster, and the clusterer wanted them as arrays
anyway. So a worker turns its chunk into flat arrays of term numbers (`TermsBatch`), sends
each term's string once (the first time it meets it, `WorkerChunk`), and the run joins the
chunks by looking up those new terms only, not every entry.
"""

from __future__ import annotations

import gc
import logging
import multiprocessing
import os
import signal
import time
from collections import defaultdict
from collections.abc import Hashable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass, replace
from itertools import chain, count, islice
from operator import itemgetter

import numpy as np

from .features import ArticleTerms, article_terms

# What `article_terms` reads of an article: (title, text) or (title, text, language).
ArticleText = tuple[str, str] | tuple[str, str, str | None]

log = logging.getLogger("digest")

# Terms of a big batch are computed in worker processes (article_terms holds the GIL): below
# POOL_MIN_ARTICLES starting the workers (a fraction of a second) costs more than it saves,
# and each task carries TERMS_CHUNK articles so that pickling stays a small part of it.
POOL_MIN_ARTICLES = 3000
TERMS_CHUNK = 250


def row_positions(indptr: np.ndarray, rows: Sequence[int] | np.ndarray) -> np.ndarray:
    """The positions in a CSR matrix's cell arrays of the cells of `rows`, row after row."""
    picked = np.asarray(rows, dtype=np.int64)
    starts, stops = indptr[picked], indptr[picked + 1]
    lengths = stops - starts
    ends = np.cumsum(lengths)
    return np.repeat(stops - ends, lengths) + np.arange(int(ends[-1]) if len(ends) else 0)


def _csr(lengths: Iterable[int], size: int) -> np.ndarray:
    indptr = np.zeros(size + 1, dtype=np.int64)
    np.cumsum(np.fromiter(lengths, dtype=np.int64, count=size), out=indptr[1:])
    return indptr


@dataclass(frozen=True)
class TermsBatch:
    """The `article_terms` of a batch, article i in row i of flat arrays.

    Columns number the `vocabulary` in the order the batch first used each term (the order
    the clusterer's matrix gives its columns); each row lists its terms in the order
    article_terms wrote them.
    """

    vocabulary: list[str]  # column -> 'w:word', 'n:name' or 'x:figure'
    indptr: np.ndarray  # row i's terms: columns[indptr[i]:indptr[i + 1]]
    columns: np.ndarray  # int32
    counts: np.ndarray  # float64, the weighted counts
    title_indptr: np.ndarray  # row i's headline names (ArticleTerms.title_names)
    title_columns: np.ndarray
    label_indptr: np.ndarray  # row i's names and figures as first written
    label_columns: np.ndarray
    label_texts: list[str]
    brief: np.ndarray  # bool, ArticleTerms.brief
    workers_cpu: float = 0.0  # CPU seconds spent in worker processes

    def __len__(self) -> int:
        return len(self.brief)

    @classmethod
    def of(cls, terms: Sequence[ArticleTerms], workers_cpu: float = 0.0) -> TermsBatch:
        column: defaultdict[str, int] = defaultdict(count().__next__)
        batch = cls._numbered(terms, column, workers_cpu)
        return replace(batch, vocabulary=list(column))

    @classmethod
    def _numbered(
        cls, terms: Sequence[ArticleTerms], column: defaultdict[str, int], workers_cpu: float
    ) -> TermsBatch:
        """The batch of `terms` with its columns numbered by `column`, which numbers new
        terms as it meets them; its vocabulary is left empty (`column` holds it)."""
        # A term's column is given on first sight, inside the C loops of map and fromiter: a
        # defaultdict whose factory is a counter's __next__ runs no Python code per term.
        size = len(terms)
        indptr = _csr((len(t.counts) for t in terms), size)
        columns = np.fromiter(
            chain.from_iterable(map(column.__getitem__, t.counts) for t in terms),
            dtype=np.int32,
            count=int(indptr[-1]),
        )
        counts = np.fromiter(
            chain.from_iterable(t.counts.values() for t in terms),
            dtype=np.float64,
            count=int(indptr[-1]),
        )
        # Headline names and labels are among an article's counted terms: no new columns.
        title_indptr = _csr((len(t.title_names) for t in terms), size)
        title_columns = np.fromiter(
            chain.from_iterable(map(column.__getitem__, t.title_names) for t in terms),
            dtype=np.int32,
            count=int(title_indptr[-1]),
        )
        label_indptr = _csr((len(t.labels) for t in terms), size)
        label_columns = np.fromiter(
            chain.from_iterable(map(column.__getitem__, t.labels) for t in terms),
            dtype=np.int32,
            count=int(label_indptr[-1]),
        )
        label_texts = list(chain.from_iterable(t.labels.values() for t in terms))
        brief = np.fromiter((t.brief for t in terms), dtype=bool, count=size)
        return cls(
            [],
            indptr,
            columns,
            counts,
            title_indptr,
            title_columns,
            label_indptr,
            label_columns,
            label_texts,
            brief,
            workers_cpu,
        )

    @classmethod
    def joined(cls, parts: Iterable[TermsBatch]) -> TermsBatch:
        """The batches one after another, with one vocabulary (in order of first sight)."""
        # Each part numbered on its own: as from a worker that met every term first there.
        return cls._joined(
            WorkerChunk(at, 0, part.vocabulary, part) for at, part in enumerate(parts)
        )

    @classmethod
    def _joined(cls, chunks: Iterable[WorkerChunk]) -> TermsBatch:
        """The chunks' batches one after another, with one vocabulary (in order of first
        sight), each chunk's columns numbered by its worker (`WorkerChunk`).

        Each chunk's new terms are looked up as the chunk comes, so that when the chunks
        come from workers (an iterator over their results) most of the joining is done while
        the last ones are still being computed."""
        column: defaultdict[str, int] = defaultdict(count().__next__)
        kept: list[TermsBatch] = []
        sources: list[Hashable] = []
        # Per worker, the batch's column of each of the worker's own numbers.
        columns_of: dict[Hashable, list[np.ndarray]] = defaultdict(list)
        numbered: defaultdict[Hashable, int] = defaultdict(int)
        for chunk in chunks:
            # A worker's chunks must come in the order it numbered them (pool.map keeps the
            # tasks' order, and a worker takes its tasks in that order).
            if chunk.known != numbered[chunk.worker]:
                raise RuntimeError(f"term chunks of worker {chunk.worker} came out of order")
            size = len(chunk.new_terms)
            numbered[chunk.worker] += size
            kept.append(chunk.batch)
            sources.append(chunk.worker)
            columns_of[chunk.worker].append(
                np.fromiter(map(column.__getitem__, chunk.new_terms), np.int32, size)
            )
        maps = {worker: np.concatenate(parts) for worker, parts in columns_of.items()}
        if len(kept) < 2:  # one chunk's own numbering is the batch's
            return replace(kept[0], vocabulary=list(column)) if kept else cls.of([])

        def rows(name: str) -> np.ndarray:
            pointers = [getattr(part, name) for part in kept]
            offsets = np.cumsum([0] + [int(p[-1]) for p in pointers[:-1]])
            shifted = [p[1:] + offset for p, offset in zip(pointers, offsets, strict=True)]
            return np.concatenate([pointers[0][:1], *shifted])

        def cells(name: str) -> np.ndarray:
            sourced = zip(kept, sources, strict=True)
            arrays = [maps[worker][getattr(part, name)] for part, worker in sourced]
            return np.concatenate(arrays) if arrays else np.zeros(0, np.int32)

        return cls(
            list(column),
            rows("indptr"),
            cells("columns"),
            np.concatenate([part.counts for part in kept]),
            rows("title_indptr"),
            cells("title_columns"),
            rows("label_indptr"),
            cells("label_columns"),
            list(chain.from_iterable(part.label_texts for part in kept)),
            np.concatenate([part.brief for part in kept]),
            sum(part.workers_cpu for part in kept),
        )

    def rows(self, picked: Sequence[int]) -> TermsBatch:
        """The batch of rows `picked`, in that order, its columns renumbered in order of
        first sight there: the same batch as `of` gives for those articles' terms."""
        rows = np.asarray(picked, dtype=np.int64)

        def gather(indptr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            new_indptr = np.zeros(len(rows) + 1, dtype=np.int64)
            np.cumsum(indptr[rows + 1] - indptr[rows], out=new_indptr[1:])
            return new_indptr, row_positions(indptr, rows)

        indptr, at = gather(self.indptr)
        old = self.columns[at]
        used, first = np.unique(old, return_index=True)
        order = used[np.argsort(first, kind="stable")]
        renumber = np.zeros(len(self.vocabulary), dtype=np.int32)
        renumber[order] = np.arange(len(order), dtype=np.int32)
        title_indptr, title_at = gather(self.title_indptr)
        label_indptr, label_at = gather(self.label_indptr)
        return TermsBatch(
            [self.vocabulary[c] for c in order.tolist()],
            indptr,
            renumber[old],
            self.counts[at],
            title_indptr,
            renumber[self.title_columns[title_at]],
            label_indptr,
            renumber[self.label_columns[label_at]],
            [self.label_texts[i] for i in label_at.tolist()],
            self.brief[rows],
        )

    def counted(self, row: int) -> dict[str, float]:
        """Row `row`'s terms with their weighted counts: ArticleTerms.counts."""
        start, stop = int(self.indptr[row]), int(self.indptr[row + 1])
        if stop - start < 2:  # itemgetter of one key gives the item, not a tuple
            return {
                self.vocabulary[c]: n
                for c, n in zip(
                    self.columns[start:stop].tolist(), self.counts[start:stop].tolist(), strict=True
                )
            }
        terms = itemgetter(*self.columns[start:stop].tolist())(self.vocabulary)
        return dict(zip(terms, self.counts[start:stop].tolist(), strict=True))


@dataclass(frozen=True)
class WorkerChunk:
    """A chunk of a batch's terms as a worker sends it back: its columns numbered by the
    worker (`worker`, which numbers a term on first sight over all the chunks it does), and
    only the terms that are new to that worker, in the order it numbered them. A term is sent
    once a worker, not once a chunk: at 100,000 generated articles 5 terms an article
    instead of 24, and so many fewer strings to pickle, unpickle and look up."""

    worker: Hashable
    known: int  # how many terms the worker had numbered before this chunk
    new_terms: list[str]
    batch: TermsBatch  # its vocabulary left empty


def batch_terms(
    texts: Sequence[ArticleText], workers: int | None = None, start_method: str = "fork"
) -> TermsBatch:
    """`article_terms` of each (title, text, language); in `workers` processes when the
    batch is big.

    `workers` None means one per core this process may use; 0 or 1 means in this process;
    a batch under POOL_MIN_ARTICLES is always done here. The result is the same either way.

    `start_method` fork suits a library caller: a forkserver or spawn worker imports the
    caller's script again, and a script without a __main__ guard would then run whole in
    every worker, while a forked worker starts at once and runs only article_terms (pure
    text work that touches none of the parent's threads, connections or locks). The
    pipeline passes its own method (its worker pool's `run_start_method`). Where the method
    is not available, the terms are computed in this process.
    """
    count = pool_size(workers, start_method)
    if len(texts) < POOL_MIN_ARTICLES:
        count = 0  # starting the pool would cost more than it saves, whatever `workers` says
    if count < 2 or not texts:
        return _here(texts)
    bounds = [(at, min(at + TERMS_CHUNK, len(texts))) for at in range(0, len(texts), TERMS_CHUNK)]
    forked = start_method == "fork"
    try:
        context = multiprocessing.get_context(start_method)
        if forked:
            # A forked worker has the texts already, in the memory it shares with the caller:
            # pickling 100,000 texts (370 MB) to the workers cost the caller 5 CPU s, most of
            # it copying pages that its own reference counting wrote to after the fork, and
            # those seconds were taken from the workers.
            pool = ProcessPoolExecutor(
                count, mp_context=context, initializer=_start_worker, initargs=(texts,)
            )
            work, tasks = _inherited_terms, bounds
        else:
            pool = ProcessPoolExecutor(count, mp_context=context, initializer=_start_worker)
            work, tasks = _chunk_terms, [texts[a:b] for a, b in bounds]
        with pool:
            with heap_frozen(forked):  # a fork pool starts all its workers on the first submit
                results = pool.map(work, tasks)
            return TermsBatch._joined(results)
    # No worker could start (a process limit, no memory): the same terms, computed here.
    except (BrokenProcessPool, OSError, RuntimeError) as error:
        log.warning("term workers failed (%s); computing the terms in this process", error)
        return _here(texts)


@contextmanager
def heap_frozen(forking: bool = True) -> Iterator[None]:
    """While processes are forked: the caller's objects frozen out of garbage collection.

    A forked child's collections would walk the caller's whole heap, touching its pages (and
    copying them); frozen objects are skipped (the gc.freeze documentation's advice for
    fork). Only a freeze of our own is lifted, since unfreeze() would undo the caller's too.
    """
    freeze = forking and gc.get_freeze_count() == 0
    if freeze:
        gc.freeze()
    try:
        yield
    finally:
        if freeze:
            gc.unfreeze()


def _here(texts: Sequence[ArticleText]) -> TermsBatch:
    return TermsBatch.of([article_terms(*text) for text in texts])


# In a term worker only: the texts it inherited (when forked), and its own numbering of the
# terms it has met (WorkerChunk), both set when it starts (_start_worker).
_inherited_texts: Sequence[ArticleText] = ()
_worker_columns: defaultdict[str, int] = defaultdict(count().__next__)


def _start_worker(texts: Sequence[ArticleText] = ()) -> None:
    global _inherited_texts, _worker_columns
    # Ctrl-C is the caller's to answer: a terminal sends SIGINT to the whole process group.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _inherited_texts = texts
    _worker_columns = defaultdict(count().__next__)


def _chunk_terms(texts: Sequence[ArticleText]) -> WorkerChunk:
    start = time.process_time()
    known = len(_worker_columns)
    terms = [article_terms(*text) for text in texts]
    batch = TermsBatch._numbered(terms, _worker_columns, 0.0)
    # The terms numbered last, which a dict gives from its end at no cost for the others.
    new_terms = list(islice(reversed(_worker_columns), len(_worker_columns) - known))[::-1]
    cpu = time.process_time() - start
    return WorkerChunk(os.getpid(), known, new_terms, replace(batch, workers_cpu=cpu))


def _inherited_terms(bounds: tuple[int, int]) -> WorkerChunk:
    start, stop = bounds
    return _chunk_terms(_inherited_texts[start:stop])


def pool_size(workers: int | None, start_method: str) -> int:
    """How many worker processes `workers` asks for (None: one per core), or 0 where none
    can start `start_method`'s way: the method is not available here, or this process is
    daemonic (a multiprocessing worker), which may not start processes."""
    if start_method not in multiprocessing.get_all_start_methods():
        return 0
    if multiprocessing.current_process().daemon:
        return 0
    return cores() if workers is None else workers


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1
