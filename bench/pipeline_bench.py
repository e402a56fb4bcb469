"""End-to-end benchmark: a generated corpus served on loopback, the real pipeline cold and again.

    python bench/pipeline_bench.py             # 200 outlets x 100 articles = 20,000 articles
    python bench/pipeline_bench.py --small     # 20 x 100 = 2,000 articles
    python bench/pipeline_bench.py --cluster   # clustering alone on 10,000 and 100,000 texts
    python bench/pipeline_bench.py --dask      # the local pool, then Dask with 1 and 2 workers
    python bench/pipeline_bench.py --storage postgresql://USER@HOST:PORT/DB   # on PostgreSQL

The corpus (corpus.py, newsgen.py) is written to a temporary folder and served by a separate
process, one loopback address per outlet. The pipeline runs through `digest.run` with a config
written next to it (file outbox), exactly as `digest run` would, first cold, then again with
nothing new. In the same invocation, bare `trafilatura.extract` runs over the same pages with
the same number of processes, before and after the cold run, and the ratio is taken to the
mean of the two, so that it holds on a busy machine and on one whose speed drifts.

Peak memory is the largest sum of RSS over this process and its descendants (the extraction
workers and their fork server), sampled every 50 ms; the HTTP server is left out.

`--dask` runs the same corpus cold three times, each from an empty state, in one
invocation: on the local process pool (`workers: auto`), then with `workers:` naming a Dask
scheduler started here on 127.0.0.1 with 1 and with 2 worker processes (one thread each). It
prints where the limits are (docs/scaling.md) and what they make of a bigger cluster.
"""

from __future__ import annotations

import argparse
import gzip
import json
import logging
import multiprocessing
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import corpus  # noqa: E402  (bench/ is on sys.path when run as a script)

import digest  # noqa: E402
from digest.models import Article  # noqa: E402
from digest.pipeline._pool import worker_count  # noqa: E402

PAGE_SIZE = 4096  # bytes per page for /proc/<pid>/statm


class PeakMemory(threading.Thread):
    """Samples the summed RSS of this process and its descendants, but `excluded` pids."""

    def __init__(self, excluded: set[int]):
        super().__init__(daemon=True)
        self.excluded = excluded
        self.peak = 0
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.wait(0.05):
            self.peak = max(self.peak, self.sample())

    def stop(self) -> int:
        self._done.set()
        self.join()
        self.peak = max(self.peak, self.sample())
        return self.peak

    def sample(self) -> int:
        total = 0
        for pid in _tree(os.getpid(), self.excluded):
            try:
                with open(f"/proc/{pid}/statm") as statm:
                    total += int(statm.read().split()[1]) * PAGE_SIZE
            except (OSError, IndexError, ValueError):
                continue  # the process ended between listing and reading
        return total


def _tree(root: int, excluded: set[int]) -> list[int]:
    pids, stack = [], [root]
    while stack:
        pid = stack.pop()
        if pid in excluded:
            continue
        pids.append(pid)
        try:
            for task in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{task}/children") as children:
                    stack.extend(int(c) for c in children.read().split())
        except OSError:
            continue
    return pids


def _cpu_of(pid: int) -> float:
    """User + system CPU seconds of one process so far."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _free_port(outlets: int) -> int:
    """A port free on every outlet's loopback address."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind((corpus.outlet_address(0), 0))
            port = probe.getsockname()[1]
        sockets = []
        try:
            for outlet in range(outlets):
                sock = socket.socket()
                sockets.append(sock)
                sock.bind((corpus.outlet_address(outlet), port))
            return port
        except OSError:
            continue
        finally:
            for sock in sockets:
                sock.close()
    raise SystemExit("no port free on every outlet address")


def _bare_extract(task: tuple[str, str]) -> float:
    import trafilatura

    path, url = task
    start = time.process_time()
    trafilatura.extract(gzip.decompress(Path(path).read_bytes()), url=url)
    return time.process_time() - start


def bare_extraction(pages: list[tuple[str, str]], workers: int) -> tuple[float, float]:
    """Wall and CPU seconds of trafilatura.extract over `pages` with `workers` processes."""
    context = multiprocessing.get_context("forkserver")
    start = time.perf_counter()
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        cpu = sum(pool.map(_bare_extract, pages, chunksize=8))
    return time.perf_counter() - start, cpu


def write_config(
    folder: Path, manifest: dict, workers: int | str | None, storage: str | None = None
) -> Path:
    lines = [
        "title: Bench Digest",
        "window: 48h",
        "max_items: 20",
        f"storage: {storage or 'state/digest.db'}",
        f"workers: {'auto' if workers is None else workers}",
        "delivery:",
        "  method: file",
        "  outbox: outbox",
        "feeds:",
    ]
    for feed in manifest["feeds"]:
        lines += [f"  - name: {json.dumps(feed['name'])}", f"    url: {feed['url']}"]
    path = folder / "bench.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def timed_run(config: digest.Config, now: datetime, server_pid: int) -> dict:
    sampler = PeakMemory({server_pid})
    sampler.start()
    server_cpu = _cpu_of(server_pid)
    wall, cpu = time.perf_counter(), time.process_time()
    report = digest.run(config, now=now)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    peak = sampler.stop()
    workers_cpu = sum(stage.workers_cpu for stage in report.stages)
    return {
        "report": report,
        "wall": wall,
        "cpu": cpu + workers_cpu,
        "peak": peak,
        "server_cpu": _cpu_of(server_pid) - server_cpu,
    }


@contextmanager
def served_corpus(args: argparse.Namespace) -> Iterator[tuple[Path, dict, int, int]]:
    """The corpus built in a temporary folder and served by its own process: yields the
    folder, the manifest, the server's pid and the number of articles."""
    outlets, per_outlet = (20, 100) if args.small else (args.outlets, args.per_outlet)
    folder = Path(tempfile.mkdtemp(prefix="digest-bench-", dir=args.tmp))
    try:
        now = datetime.now(UTC).replace(microsecond=0)
        port = _free_port(outlets)
        start = time.perf_counter()
        manifest = corpus.build(folder / "sites", outlets, per_outlet, port, now)
        manifest["now"] = now
        built = time.perf_counter() - start
        total = outlets * per_outlet
        print(f"corpus: {outlets} outlets x {per_outlet} = {total:,} articles, "
              f"{manifest['page_bytes'] / total / 1024:.0f} KB HTML per page on average, "
              f"{manifest['templates']} page templates; built in {built:.1f}s",
              flush=True)  # fmt: skip
        server = subprocess.Popen(
            [sys.executable, str(Path(__file__).with_name("corpus.py")), "serve",
             str(folder / "sites"), str(outlets), str(port)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            if server.stdout is None or server.stdout.readline().strip() != "ready":
                raise SystemExit("the corpus server did not start")
            yield folder, manifest, server.pid, total
        finally:
            if server.stdin:
                server.stdin.close()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
    finally:
        if args.keep:
            print(f"kept {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)


def pipeline_mode(args: argparse.Namespace) -> None:
    workers = worker_count(args.workers)
    with served_corpus(args) as (folder, manifest, server_pid, total):
        now = manifest["now"]
        pages = [
            (str(path), f"http://{corpus.outlet_address(int(path.parts[-3]))}:"
             f"{manifest['port']}/news/" + path.name.removesuffix(".gz"))
            for path in sorted((folder / "sites").glob("*/news/*.html.gz"))
        ]  # fmt: skip
        # Bare extraction is timed before and after the cold run, and the ratio taken to
        # their mean: this machine's speed drifts by some 5% over minutes, as much as the
        # ratio's margin, and a drift between one bare pass and the run moved it.
        bare = [bare_extraction(pages, workers)]
        print(f"bare trafilatura.extract: {bare[0][0]:.1f}s wall with {workers} processes",
              flush=True)  # fmt: skip
        _empty_storage(args.storage)
        config = digest.load_config(write_config(folder, manifest, args.workers, args.storage))
        cold = timed_run(config, now + timedelta(minutes=5), server_pid)
        print(f"cold run: {cold['wall']:.1f}s wall", flush=True)
        bare.append(bare_extraction(pages, workers))
        print(f"bare trafilatura.extract again: {bare[1][0]:.1f}s wall", flush=True)
        again = timed_run(config, now + timedelta(minutes=10), server_pid)
    _print_table(total, workers, bare, len(pages), cold, again)


def _print_table(
    total: int, workers: int, bare: list[tuple[float, float]], pages: int, cold: dict,
    again: dict,
) -> None:  # fmt: skip
    bare_wall = sum(wall for wall, _ in bare) / len(bare)
    bare_cpu = sum(cpu for _, cpu in bare) / len(bare)
    report = cold["report"]
    print()
    print(f"{'stage (cold run)':<26}{'wall s':>9}{'CPU s':>9}{'items':>9}{'items/s':>10}")
    for stage in report.stages:
        rate = stage.items / stage.wall if stage.wall > 0 else 0.0
        print(f"{stage.stage:<26}{stage.wall:>9.2f}{stage.cpu:>9.2f}{stage.items:>9,}"
              f"{rate:>10,.0f}")  # fmt: skip
    other = cold["wall"] - sum(stage.wall for stage in report.stages)
    print(f"{'(between stages)':<26}{other:>9.2f}")
    for label, run in (("whole cold run", cold), ("rerun, nothing new", again)):
        rate = total / run["wall"]
        print(f"{label:<26}{run['wall']:>9.2f}{run['cpu']:>9.2f}{total:>9,}{rate:>10,.0f}")
    labels = ("bare extract, before", "bare extract, after")
    for label, (wall, cpu) in zip(labels, bare, strict=True):
        print(f"{label:<26}{wall:>9.2f}{cpu:>9.2f}{pages:>9,}{pages / wall:>10,.0f}")
    print(f"{'bare extract, mean':<26}{bare_wall:>9.2f}{bare_cpu:>9.2f}{pages:>9,}"
          f"{pages / bare_wall:>10,.0f}")  # fmt: skip
    print()
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"machine: {os.cpu_count()} cores, load average {load} (1, 5, 15 min) at the end")
    digest_items = len(report.digest.items) if report.digest else 0
    sources = sum(len(i.sources) for i in report.digest.items) if report.digest else 0
    print(f"cold run: {report.articles_new:,} new articles, {len(report.skipped)} skipped, "
          f"digest of {digest_items} items from {sources} sources; rerun: "
          f"{again['report'].feeds_not_modified} feeds unchanged, "
          f"{again['report'].articles_new} new articles")  # fmt: skip
    print(f"HTTP server (separate process, not counted above): {cold['server_cpu']:.1f} CPU s "
          f"cold, {again['server_cpu']:.1f} rerun")  # fmt: skip
    pages_stage = next((s for s in report.stages if s.stage == "pages"), None)
    ratio = cold["wall"] / bare_wall
    rerun_share = again["wall"] / cold["wall"]
    peak_mb = max(cold["peak"], again["peak"]) / 1024**2
    print()
    _target(f"cold run / bare extraction, mean ({workers} procs)", f"{ratio:.2f}x",
            ratio <= 1.25, "<= 1.25x")  # fmt: skip
    _target("rerun / cold run", f"{rerun_share:.1%}", rerun_share <= 0.05, "<= 5%")
    _target("peak RSS (run + workers)", f"{peak_mb:,.0f} MB", peak_mb < 1536, "< 1.5 GB")
    if pages_stage is not None and pages_stage.wall > 0:
        # On a shared machine neither gets all cores; bare extraction's pool, timed in the
        # same invocation, shows how many the machine gave at best.
        busy, bare_busy = pages_stage.cpu / pages_stage.wall, bare_cpu / bare_wall
        _target("cores busy while fetching + extracting", f"{busy:.2f} of {workers}",
                busy >= 0.8 * workers or busy >= 0.9 * bare_busy,
                f">= {0.8 * workers:.1f} or 90% of bare's {bare_busy:.2f}")  # fmt: skip


def _target(label: str, value: str, met: bool, goal: str) -> None:
    print(f"{label:<44}{value:>14}   target {goal} {'MET' if met else 'MISSED'}")


def _empty_storage(storage: str | None) -> None:
    """A PostgreSQL storage is emptied before each cold run (give the bench a scratch
    database); a SQLite one is a new file in each run's folder."""
    if storage is None or "://" not in storage:
        return
    import psycopg

    password = os.environ.get("DIGEST_STORAGE_PASSWORD")
    with psycopg.connect(storage, password=password, autocommit=True) as db:
        db.execute("DROP SCHEMA public CASCADE")
        db.execute("CREATE SCHEMA public")


def _loopback_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def dask_cluster(workers: int) -> Iterator[tuple[str, list[int]]]:
    """A Dask scheduler on 127.0.0.1 and `workers` worker processes of one thread each, as
    an operator would start them (the `dask` CLI's modules): yields the scheduler's address
    and the pids of the scheduler and the workers. The workers import the page extractor
    as they start (--preload), as the local pool's fork server does."""
    from distributed import Client

    address = f"tcp://127.0.0.1:{_loopback_port()}"
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
    }
    processes = [subprocess.Popen(
        [sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
         "--port", address.rpartition(":")[2], "--no-dashboard"], env=env, **quiet,
    )]  # fmt: skip
    for _ in range(workers):
        processes.append(subprocess.Popen(
            [sys.executable, "-m", "distributed.cli.dask_worker", address, "--nthreads", "1",
             "--no-nanny", "--host", "127.0.0.1", "--no-dashboard", "--memory-limit", "0",
             "--preload", "digest.pipeline._pool"], env=env, **quiet,
        ))  # fmt: skip
    try:
        with Client(address, timeout=120) as client:
            client.wait_for_workers(workers, timeout=120)
        yield address, [process.pid for process in processes]
    finally:
        for group in (processes[1:], processes[:1]):
            for process in group:
                process.terminate()
            for process in group:
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


class _ShippedBytes(logging.Handler):
    """The run's line on the bytes its pages took to the Dask workers and back."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.sent = self.received = 0.0

    def emit(self, record: logging.LogRecord) -> None:
        if record.msg.startswith("pages: %.1f MB sent to the Dask workers"):
            self.sent, self.received = record.args  # type: ignore[misc]


def dask_mode(args: argparse.Namespace) -> None:
    """The corpus cold on the local pool, then on Dask with 1 and 2 workers."""
    logger = logging.getLogger("digest")
    logger.setLevel(logging.INFO)
    shipped = _ShippedBytes()
    logger.addHandler(shipped)
    runs: dict[str, dict] = {}
    with served_corpus(args) as (folder, manifest, server_pid, total):
        now = manifest["now"]
        variants: list[tuple[str, int | None]] = [
            (f"process pool ({worker_count(args.workers)} procs)", None),
            ("Dask, 1 worker", 1),
            ("Dask, 2 workers", 2),
        ]
        for index, (label, dask_workers) in enumerate(variants):
            run_folder = folder / f"run-{index}"
            run_folder.mkdir()
            _empty_storage(args.storage)
            shipped.sent = shipped.received = 0.0
            if dask_workers is None:
                path = write_config(run_folder, manifest, args.workers, args.storage)
                run = timed_run(digest.load_config(path), now + timedelta(minutes=5), server_pid)
                run["helpers_cpu"] = 0.0
            else:
                with dask_cluster(dask_workers) as (address, pids):
                    path = write_config(run_folder, manifest, address, args.storage)
                    before = [_cpu_of(pid) for pid in pids]
                    run = timed_run(digest.load_config(path), now + timedelta(minutes=5),
                                    server_pid)  # fmt: skip
                    used = [_cpu_of(pid) - cpu for pid, cpu in zip(pids, before, strict=True)]
                    run["scheduler_cpu"], run["helpers_cpu"] = used[0], sum(used[1:])
            run["sent"], run["received"] = shipped.sent, shipped.received
            runs[label] = run
            print(f"{label}: {run['wall']:.1f}s wall", flush=True)
    _print_scaling(total, runs)


def _print_scaling(total: int, runs: dict[str, dict]) -> None:
    print()
    print(f"{'cold run':<26}{'wall s':>9}{'pages s':>9}{'store s':>9}{'run CPU':>9}"
          f"{'wrk CPU':>9}{'sched CPU':>10}")  # fmt: skip
    for label, run in runs.items():
        stages = {stage.stage: stage for stage in run["report"].stages}
        own = run["cpu"] - sum(stage.workers_cpu for stage in run["report"].stages)
        workers = run["helpers_cpu"] or sum(stage.workers_cpu for stage in stages.values())
        print(f"{label:<26}{run['wall']:>9.1f}{stages['pages'].wall:>9.1f}"
              f"{stages['store'].wall:>9.2f}{own:>9.1f}{workers:>9.1f}"
              f"{run.get('scheduler_cpu', 0.0):>10.1f}")  # fmt: skip
    print("(run CPU: the run's own process; wrk CPU: the worker processes, Dask's included; "
          "sched CPU: the Dask scheduler)")  # fmt: skip
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"machine: {os.cpu_count()} cores, load average {load} (1, 5, 15 min) at the end")
    pool, one, two = runs.values()
    for label, run in runs.items():
        report = run["report"]
        print(f"{label}: {report.articles_new:,} new articles, {len(report.skipped)} skipped")
    # The limits, per article, from the 2-worker run.
    stages = {stage.stage: stage for stage in two["report"].stages}
    pages = stages["pages"]
    run_cpu = (pages.cpu - pages.workers_cpu) / total  # fetching and handing out, one process
    worker_cpu = two["helpers_cpu"] / total
    sent, back = two["sent"] * 1e6 / total, two["received"] * 1e6 / total
    store = stages["store"].wall / total
    print()
    print("per article (Dask, 2 workers):")
    print(f"  run's own process, fetching + handing out pages: {run_cpu * 1e3:.2f} ms CPU "
          f"-> one run process feeds at most {1 / run_cpu:,.0f} pages/s")  # fmt: skip
    print(f"  worker CPU, extraction + cleaning + Dask: {worker_cpu * 1e3:.1f} ms")
    print(f"  bytes to the workers: {sent / 1024:.1f} KB, results back: {back / 1024:.1f} KB "
          f"(compressed)")  # fmt: skip
    print(f"  store stage: {store * 1e3:.3f} ms ({1 / store:,.0f} articles/s)")
    local = sum(stages[name].wall for name in ("feeds", "clean", "cluster") if name in stages)
    print(f"  feeds + clean + cluster stages, on the run's machine: {local / total * 1e3:.2f} ms")
    day, machines, cores = 86400, 20, os.cpu_count() or 1
    per_day = 1_000_000
    print()
    print(f"projection: {per_day:,} articles a day on {machines} machines of {cores} cores "
          "like this one")  # fmt: skip
    capacity = machines * cores * day / worker_cpu
    print(f"  workers: {capacity:,.0f} articles/day of extraction capacity, "
          f"{per_day / capacity:.1%} of it used")  # fmt: skip
    print(f"  one run process fetching: {day / run_cpu:,.0f} articles/day at most, "
          f"{per_day * run_cpu / day:.1%} of its core used")  # fmt: skip
    print(f"  network to the workers: {per_day * sent / day / 1e6:.2f} MB/s on average, "
          f"{per_day * (sent + back) / 1e9:.0f} GB a day both ways")  # fmt: skip
    print(f"  store stage: {per_day * store / 3600:.1f} h a day of database writes "
          f"({per_day * store / day:.1%} of the day)")  # fmt: skip
    print(f"  feeds + clean + cluster on the run's machine: {per_day * local / total / 3600:.1f} "
          f"h a day ({per_day * local / total / day:.1%} of the day)")  # fmt: skip
    speedup = one["wall"] / two["wall"]
    versus_pool = two["wall"] / pool["wall"]
    _print_packing_bound(one, two)
    print()
    _target("Dask: 1 worker / 2 workers, wall", f"{speedup:.2f}x", speedup >= 1.7, ">= 1.7x")
    _target("Dask 2 workers / process pool, wall", f"{versus_pool:.2f}x", versus_pool <= 1.15,
            "<= 1.15x")  # fmt: skip


def _print_packing_bound(one: dict, two: dict) -> None:
    """The fastest the 2-worker run could be on this machine with the CPU it used: every
    process of it (the run's own, the workers, the scheduler, the corpus server) shares this
    machine's cores for the whole run, so its wall time is at least their CPU time over the
    cores, however the work were spread."""
    cores = os.cpu_count() or 1
    run_own = two["cpu"] - sum(stage.workers_cpu for stage in two["report"].stages)
    spent = {
        "run's process": run_own,
        "workers": two["helpers_cpu"],
        "scheduler": two["scheduler_cpu"],
        "corpus server": two["server_cpu"],
    }
    fastest = sum(spent.values()) / cores
    print()
    print(f"packing bound, Dask with 2 workers on {cores} cores: "
          + ", ".join(f"{name} {cpu:.1f}" for name, cpu in spent.items())
          + f" CPU s; no spread of that work takes less than {fastest:.1f} s here, so 2 "
          f"workers are at most {one['wall'] / fastest:.2f}x faster than 1 on this machine "
          f"(measured {one['wall'] / two['wall']:.2f}x)")  # fmt: skip


def _cluster_child(size: int, seed: int, connection: Any) -> None:
    from digest.cluster._clusterer import cluster_articles

    articles = generated_articles(size, seed)
    steps: dict[str, float] = {}
    start = time.perf_counter()
    clusters = cluster_articles(articles, step_seconds=steps)
    connection.send((time.perf_counter() - start, len(clusters), steps))


def generated_articles(size: int, seed: int) -> list[Article]:
    """`size` article texts: about 10% of the stories told by 2-8 outlets in their words."""
    now = datetime(2026, 11, 23, 9, tzinfo=UTC)
    outlets = 200
    plans = corpus.plan(outlets, -(-size // outlets), seed, now)
    articles = []
    for outlet_articles in plans:
        for item in outlet_articles:
            articles.append(
                Article(
                    id=len(articles) + 1, feed=f"Outlet {item.outlet}",
                    url=f"https://outlet{item.outlet}.example{item.path}", title=item.title,
                    text="\n\n".join(item.paragraphs), published=item.published,
                )
            )  # fmt: skip
    return articles[:size]


def cluster_mode(args: argparse.Namespace) -> None:
    sizes = (2_000, 20_000) if args.small else (10_000, 100_000)
    context = multiprocessing.get_context("forkserver")
    times = {}
    for size in sizes:
        receiver, sender = context.Pipe(duplex=False)
        child = context.Process(target=_cluster_child, args=(size, 8, sender))
        child.start()
        if receiver.poll(args.cluster_timeout):
            seconds, clusters, steps = receiver.recv()
            times[size] = seconds
            print(f"cluster_articles on {size:>7,} texts: {seconds:8.1f}s, {clusters:,} clusters",
                  flush=True)  # fmt: skip
            print("    " + ", ".join(f"{step} {took:.1f}s" for step, took in steps.items()))
        else:
            child.terminate()
            print(f"cluster_articles on {size:>7,} texts: still running after "
                  f"{args.cluster_timeout:.0f}s; stopped", flush=True)  # fmt: skip
        child.join()
    small, large = sizes
    if small in times and large in times:
        growth = times[large] / times[small]
        _target(f"t({large:,}) / t({small:,})", f"{growth:.1f}", growth < 15, "< 15")
        _target(f"clustering {large:,} texts", f"{times[large]:.1f}s", times[large] < 60, "< 60 s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--small", action="store_true", help="2,000 articles (or 2k/20k texts)")
    parser.add_argument("--cluster", action="store_true", help="time clustering alone")
    parser.add_argument("--outlets", type=int, default=200)
    parser.add_argument("--per-outlet", type=int, default=100)
    parser.add_argument("--workers", type=int, default=None, help="default: one per core")
    parser.add_argument("--tmp", default=None, help="folder for the corpus (default: system tmp)")
    parser.add_argument("--keep", action="store_true", help="keep the corpus and state")
    parser.add_argument("--cluster-timeout", type=float, default=600.0)
    parser.add_argument(
        "--dask",
        action="store_true",
        help="the local pool, then a Dask cluster of 1 and of 2 workers",
    )
    parser.add_argument(
        "--storage",
        default=None,
        help="the config's storage (default: a SQLite file per run); a "
        "postgresql:// database is emptied before each cold run",
    )
    args = parser.parse_args()
    if args.cluster:
        cluster_mode(args)
    elif args.dask:
        dask_mode(args)
    else:
        pipeline_mode(args)


if __name__ == "__main__":
    main()
