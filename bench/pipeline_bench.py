"""End-to-end benchmark: a generated corpus served on loopback, the real pipeline cold and again.

    python bench/pipeline_bench.py             # 200 outlets x 100 articles = 20,000 articles
    python bench/pipeline_bench.py --small     # 20 x 100 = 2,000 articles
    python bench/pipeline_bench.py --cluster   # clustering alone on 10,000 and 100,000 texts

The corpus (corpus.py, newsgen.py) is written to a temporary folder and served by a separate
process, one loopback address per outlet. The pipeline runs through `digest.run` with a config
written next to it (file outbox), exactly as `digest run` would, first cold, then again with
nothing new. In the same invocation, bare `trafilatura.extract` runs over the same pages with
the same number of processes, before and after the cold run, and the ratio is taken to the
mean of the two, so that it holds on a busy machine and on one whose speed drifts.

Peak memory is the largest sum of RSS over this process and its descendants (the extraction
workers and their fork server), sampled every 50 ms; the HTTP server is left out.
"""

from __future__ import annotations

import argparse
import gzip
import json
import multiprocessing
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
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


def write_config(folder: Path, manifest: dict, workers: int | None) -> Path:
    lines = [
        "title: Bench Digest",
        "window: 48h",
        "max_items: 20",
        "storage: state/digest.db",
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


def pipeline_mode(args: argparse.Namespace) -> None:
    outlets, per_outlet = (20, 100) if args.small else (args.outlets, args.per_outlet)
    workers = worker_count(args.workers)
    folder = Path(tempfile.mkdtemp(prefix="digest-bench-", dir=args.tmp))
    try:
        now = datetime.now(UTC).replace(microsecond=0)
        port = _free_port(outlets)
        start = time.perf_counter()
        manifest = corpus.build(folder / "sites", outlets, per_outlet, port, now)
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
            pages = [
                (str(path), f"http://{corpus.outlet_address(int(path.parts[-3]))}:{port}/news/"
                 + path.name.removesuffix(".gz"))
                for path in sorted((folder / "sites").glob("*/news/*.html.gz"))
            ]  # fmt: skip
            # Bare extraction is timed before and after the cold run, and the ratio taken to
            # their mean: this machine's speed drifts by some 5% over minutes, as much as the
            # ratio's margin, and a drift between one bare pass and the run moved it.
            bare = [bare_extraction(pages, workers)]
            print(f"bare trafilatura.extract: {bare[0][0]:.1f}s wall with {workers} processes",
                  flush=True)  # fmt: skip
            config = digest.load_config(write_config(folder, manifest, args.workers))
            cold = timed_run(config, now + timedelta(minutes=5), server.pid)
            print(f"cold run: {cold['wall']:.1f}s wall", flush=True)
            bare.append(bare_extraction(pages, workers))
            print(f"bare trafilatura.extract again: {bare[1][0]:.1f}s wall", flush=True)
            again = timed_run(config, now + timedelta(minutes=10), server.pid)
        finally:
            if server.stdin:
                server.stdin.close()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        _print_table(total, workers, bare, len(pages), cold, again)
    finally:
        if args.keep:
            print(f"kept {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)


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
                    id=len(articles) + 1, feed=f"Outlet {item.outlet}", section=None, weight=1.0,
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
    args = parser.parse_args()
    if args.cluster:
        cluster_mode(args)
    else:
        pipeline_mode(args)


if __name__ == "__main__":
    main()
