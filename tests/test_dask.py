"""Feeds and pages on a real Dask cluster: a scheduler and two workers, each its own process
on 127.0.0.1, started here (`workers: dask://HOST:PORT`)."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import sqlite3
import struct
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import distributed
import pytest
from conftest import (
    DEMO_SITES,
    REPO,
    _free_port,
    run_cli,
    stderr_lines,
    wait_for,
    write_config,
)

import digest
from digest.config import load_config
from digest.crash_points import CRASH_VARIABLE
from digest.errors import ConfigError
from digest.pipeline import _dask
from digest.pipeline._pool import PAGES_PER_TASK, PagePool, cores, process_page, run_pool

START_TIMEOUT = 60.0


@dataclass
class Cluster:
    """A scheduler and its workers, each a process of its own."""

    address: str
    scheduler: subprocess.Popen
    workers: list[subprocess.Popen] = field(default_factory=list)

    def add_worker(self, env: dict[str, str] | None = None, cwd: Path = REPO) -> subprocess.Popen:
        """A worker of one thread, without a nanny: killed, it stays dead (a nanny would
        start it again, the same crash point in its environment). `python -m` puts `cwd`
        first on its path."""
        worker = subprocess.Popen(
            [sys.executable, "-m", "distributed.cli.dask_worker", self.address,
             "--nthreads", "1", "--no-nanny", "--host", "127.0.0.1", "--no-dashboard"],
            cwd=cwd, env={**_environment(), **(env or {})},
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        self.workers.append(worker)
        return worker

    def wait_for(self, count: int) -> None:
        with distributed.Client(self.address, timeout=START_TIMEOUT) as client:
            client.wait_for_workers(count, timeout=START_TIMEOUT)

    def stop(self) -> None:
        # The workers first: one whose scheduler is gone tries to reach it again, slowly.
        for group in (self.workers, [self.scheduler]):
            for process in group:
                if process.poll() is None:
                    process.terminate()
            for process in group:
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


def _environment() -> dict[str, str]:
    """This checkout first on the path, so the workers unpickle the tests' own code."""
    path = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p)
    return {**os.environ, "PYTHONPATH": path}


def _demo_pages(count: int, rounds: int) -> list[tuple[str, bytes, str]]:
    """(key, body, url): the first `count` demo article pages, `rounds` times over, each
    time under keys of its own."""
    pages = sorted(DEMO_SITES.glob("*/articles/*.html"))[:count]
    return [(f"{n}-{path.name}", path.read_bytes(), f"http://127.0.0.1/{path.name}")
            for n in range(rounds) for path in pages]  # fmt: skip


def _digest_warnings(log: pytest.LogCaptureFixture) -> set[str]:
    """The warnings digest logged, each once: a record may reach caplog's handler twice (on
    the "digest" logger and on the root), and distributed's own, of clients an earlier test
    in this process left, are not ours."""
    return {r.getMessage() for r in log.records if r.levelname == "WARNING" and r.name == "digest"}


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    """A scheduler on a free port of 127.0.0.1 and no worker yet. Without a dashboard it
    still serves HTTP (health, metrics) on the dashboard's address, :8787 unless told:
    a port of its own, or two schedulers of parallel tests collide."""
    port = _free_port()
    scheduler = subprocess.Popen(
        [sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
         "--port", str(port), "--no-dashboard", "--dashboard-address", "127.0.0.1:0"],
        cwd=REPO, env=_environment(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    cluster = Cluster(f"tcp://127.0.0.1:{port}", scheduler)
    try:
        yield cluster
    finally:
        cluster.stop()


def _config_text(tmp_path: Path, workers: str) -> digest.Config:
    path = tmp_path / "digest.yaml"
    path.write_text(
        f"title: T\nworkers: {workers}\nfeeds:\n  - name: A\n    url: http://127.0.0.1:9/a.xml\n"
    )
    return load_config(path)


def test_workers_names_a_scheduler_as_dask_or_tcp(tmp_path):
    assert _config_text(tmp_path, "dask://10.0.0.5:8786").workers == "tcp://10.0.0.5:8786"
    assert _config_text(tmp_path, "tcp://sched.local:8786").workers == "tcp://sched.local:8786"
    assert _config_text(tmp_path, "auto").workers is None
    assert _config_text(tmp_path, "3").workers == 3
    for wrong in ("http://10.0.0.5:8786", "dask://10.0.0.5", "dask://:8786", "dask://h:99999"):
        with pytest.raises(ConfigError, match=r"Dask scheduler|port"):
            _config_text(tmp_path, wrong)


def test_a_run_on_the_local_pool_never_imports_dask(tmp_path, site):
    config = write_config(tmp_path, site.base_url, extra="workers: 2\n")
    script = (
        "import sys, digest\n"
        f"report = digest.run(digest.load_config({str(config)!r}))\n"
        "assert report.articles_new > 0, report\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed'))\n"
        "print('loaded:', loaded)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True,
                            text=True, timeout=120, check=False)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "loaded: []" in result.stdout


def _articles(config_path: Path) -> dict[str, tuple[str, str]]:
    """Each stored article's URL, with its text and where the text came from."""
    with sqlite3.connect(config_path.parent / "state" / "digest.db") as db:
        rows = db.execute("SELECT url, text, text_source FROM articles").fetchall()
    assert len(rows) == len({url for url, _, _ in rows})
    return {url: (text, source) for url, text, source in rows}


def test_a_run_on_the_cluster_stores_what_the_local_run_stores(tmp_path, site, cluster, digest_log):
    cluster.add_worker()
    cluster.add_worker()
    cluster.wait_for(2)
    (tmp_path / "local").mkdir()
    local = write_config(tmp_path / "local", site.base_url, extra="workers: 0\n")
    (tmp_path / "dask").mkdir()
    remote = write_config(tmp_path / "dask", site.base_url, extra=f"workers: {cluster.address}\n")
    report = digest.run(digest.load_config(remote))
    digest.run(digest.load_config(local))
    stages = {stage.stage: stage for stage in report.stages}
    assert report.articles_new >= 27 and report.digest is not None
    assert stages["pages"].workers_cpu > 0 and stages["feeds"].workers_cpu > 0
    assert "MB sent to the Dask workers" in digest_log.text
    assert _articles(remote) == _articles(local)
    assert sum(source == "page" for _, source in _articles(remote).values()) >= 20


def test_a_dask_worker_killed_mid_run_loses_nothing(tmp_path, site, cluster):
    # One worker SIGKILLs itself on the first feed it is given to parse; the scheduler gives
    # that feed to the other worker, and the run stores every article, each once.
    (tmp_path / "local").mkdir()
    local = write_config(tmp_path / "local", site.base_url, extra="workers: 0\n")
    reference = run_cli("run", "--config", str(local))
    assert reference.returncode == 0, reference.stderr
    doomed = cluster.add_worker(env={CRASH_VARIABLE: "feed-worker"})
    cluster.add_worker()
    cluster.wait_for(2)
    (tmp_path / "dask").mkdir()
    config = write_config(tmp_path / "dask", site.base_url, extra=f"workers: {cluster.address}\n")
    result = run_cli("-v", "run", "--config", str(config))
    assert doomed.wait(timeout=30) == -signal.SIGKILL  # it did die mid-run
    assert result.returncode == 0, result.stderr
    assert "delivered 15 items" in result.stdout + result.stderr, result.stdout
    assert "feed workers failed" not in result.stderr  # rescheduled, not given up on
    assert _articles(config) == _articles(local)


def test_a_page_batch_whose_worker_is_killed_is_done_again(cluster):
    # Pages in flight on a worker that is SIGKILLed come back all the same, each once: the
    # scheduler runs the lost batch again on the other worker.
    cluster.add_worker()
    cluster.add_worker()
    cluster.wait_for(2)
    items = _demo_pages(12, rounds=8)
    with distributed.Client(cluster.address) as client:
        pids = client.run(os.getpid)
    with run_pool(cluster.address) as executor, PagePool[str](2, executor) as pool:
        for key, raw, url in items:
            pool.submit(key, raw, url)
        with distributed.Client(cluster.address) as client:
            deadline = time.monotonic() + 30
            busy: list[str] = []
            while not busy and time.monotonic() < deadline:
                busy = [w for w, tasks in client.processing().items() if tasks]
                time.sleep(0.01)
            assert busy, "no worker ever had a batch to run"
            os.kill(pids[busy[0]], signal.SIGKILL)
        done = dict(pool.drain())
    assert len(items) > PAGES_PER_TASK * 4  # batches in flight on both workers
    assert set(done) == {key for key, _, _ in items}
    for key, raw, url in items[:: 12 + 1]:  # a different page of each round
        assert done[key].cleaned == process_page(raw, url).cleaned
    assert sum(worker.poll() is not None for worker in cluster.workers) == 1


def test_a_port_where_nothing_listens_leaves_the_run_to_the_local_pool(tmp_path, site, digest_log):
    port = _free_port()
    config = write_config(tmp_path, site.base_url, extra=f"workers: dask://127.0.0.1:{port}\n")
    started = time.monotonic()
    with run_pool(f"tcp://127.0.0.1:{port}") as executor:
        assert not isinstance(executor, _dask.DaskWorkers)
    # Refused at once, where Dask's client would retry for CONNECT_TIMEOUT (20 s).
    assert time.monotonic() - started < 5
    assert (
        f"Dask scheduler tcp://127.0.0.1:{port}: connection refused: nothing listens there; "
        "check `workers`; using"
    ) in digest_log.text
    report = digest.run(digest.load_config(config))
    assert report.articles_new >= 27 and report.digest is not None
    assert "local worker processes instead" in digest_log.text
    assert sum(source == "page" for _, source in _articles(config).values()) >= 20


@dataclass
class SilentPort:
    """A port on 127.0.0.1 (_silent_port) that takes every connection, sends it the
    greeting given (none by default) and then never writes a byte: a hung scheduler, as
    the kernel still accepts for a process that no longer answers."""

    address: str
    taken: threading.Event


@contextmanager
def _silent_port(greeting: bytes = b"") -> Iterator[SilentPort]:
    listener = socket.create_server(("127.0.0.1", 0))
    port = SilentPort(f"tcp://127.0.0.1:{listener.getsockname()[1]}", threading.Event())
    held: list[socket.socket] = []

    def take() -> None:
        with suppress(OSError):  # the listener closed: the test is over
            while True:
                held.append(listener.accept()[0])
                held[-1].sendall(greeting)
                port.taken.set()

    threading.Thread(target=take, daemon=True).start()
    try:
        yield port
    finally:
        listener.close()
        for connection in held:
            connection.close()


@pytest.fixture
def silent_port() -> Iterator[SilentPort]:
    with _silent_port() as port:
        yield port


def _short_connect_timeout(tmp_path: Path, seconds: float) -> dict[str, str]:
    """The environment for `run_cli` whose runs give up on a scheduler after `seconds`, not
    CONNECT_TIMEOUT (20 s): a sitecustomize, which Python imports at start, sets it."""
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "sitecustomize.py").write_text(
        f"from digest.pipeline import _dask\n_dask.CONNECT_TIMEOUT = {seconds}\n"
    )
    path = os.pathsep.join([str(tmp_path / "site"), str(REPO)])
    return {"PYTHONPATH": path}


def test_a_scheduler_that_never_answers_leaves_the_run_to_the_local_pool(
    tmp_path, site, silent_port
):
    # What blocked: the Dask client's handshake waits for the scheduler's first message
    # without a deadline, so `digest run` waited forever, and then 40 s more at exit.
    config = write_config(tmp_path, site.base_url, extra=f"workers: {silent_port.address}\n")
    started = time.monotonic()
    result = run_cli("run", "--config", str(config), env=_short_connect_timeout(tmp_path, 1))
    # A bound on a hang (for ever, then 40 s at exit), not a speed target: a run on a busy
    # two-core machine took 19.6 s against the 15 s this said before.
    assert time.monotonic() - started < 35
    assert result.returncode == 0, result.stderr
    assert silent_port.taken.is_set()
    assert "Traceback" not in result.stderr, result.stderr
    [warning] = [line for line in stderr_lines(result.stderr) if "Dask" in line]
    assert warning == (
        f"digest: Dask scheduler {silent_port.address}: it took the connection but did not "
        "answer as a Dask scheduler within 1 s; check `workers` in the config, and restart the "
        f"scheduler if it is hung; using {cores()} local worker processes instead"
    )
    assert "delivered 15 items" in result.stdout + result.stderr, result.stdout
    assert sum(source == "page" for _, source in _articles(config).values()) >= 20


def test_check_of_a_scheduler_that_never_answers_fails_in_time(tmp_path, site, silent_port):
    config = write_config(tmp_path, site.base_url, extra=f"workers: {silent_port.address}\n")
    started = time.monotonic()
    checked = run_cli("check", "--config", str(config), env=_short_connect_timeout(tmp_path, 1))
    assert time.monotonic() - started < 15
    assert checked.returncode != 0
    assert (
        f"FAIL workers: Dask scheduler {silent_port.address}: it took the connection but did "
        "not answer as a Dask scheduler within 1 s; check `workers` in the config, and restart "
        "the scheduler if it is hung; a run would use local worker processes instead"
    ) in checked.stdout, checked.stdout
    assert "Traceback" not in checked.stderr, checked.stderr


def test_a_run_stopped_while_it_waits_for_a_scheduler_exits_at_once(tmp_path, site, silent_port):
    config = write_config(tmp_path, site.base_url, extra=f"workers: {silent_port.address}\n")
    run = subprocess.Popen(
        [sys.executable, "-m", "digest", "run", "--config", str(config)],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert silent_port.taken.wait(30), "the run never tried the scheduler"
        time.sleep(0.5)
        stopped = time.monotonic()
        run.terminate()
        _, stderr = run.communicate(timeout=30)
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
    assert time.monotonic() - stopped < 5
    assert run.returncode != 0
    assert "Traceback" not in stderr and "TimeoutError" not in stderr, stderr


def _fallback_warning(address: str, digest_log: pytest.LogCaptureFixture) -> tuple[str, float]:
    """The one warning of a run given `address` for `workers`, and how long it took."""
    digest_log.clear()
    started = time.monotonic()
    with run_pool(address) as executor:
        assert not isinstance(executor, _dask.DaskWorkers)
    took = time.monotonic() - started
    [warning] = _digest_warnings(digest_log)
    assert "\n" not in warning
    return warning, took


def test_a_wrong_address_is_refused_at_once_with_what_to_fix(site, digest_log):
    # The demo sites' HTTP server: it waits for a request, is sent an empty line after
    # NUDGE_AFTER, and hangs up.
    http_server = "tcp://" + site.base_url.removeprefix("http://")
    warning, took = _fallback_warning(http_server, digest_log)
    assert warning.startswith(
        f"Dask scheduler {http_server}: it did not answer as a Dask scheduler (it closed the "
        "connection); check `workers` in the config; using "
    ), warning
    assert took < _dask.NUDGE_AFTER + 3
    warning, took = _fallback_warning("tcp://127.0.0.l:8786", digest_log)
    assert warning.startswith(
        "Dask scheduler tcp://127.0.0.l:8786: the host name 127.0.0.l does not resolve; check "
        "`workers` in the config; using "
    ), warning
    assert took < 3  # not CONNECT_TIMEOUT (20 s), which Dask's client would retry for


def test_a_scheduler_without_worker_says_how_to_start_one(cluster, digest_log, monkeypatch):
    _wait_for_scheduler(cluster.address)
    monkeypatch.setattr(_dask, "CONNECT_TIMEOUT", 1.0)
    warning, took = _fallback_warning(cluster.address, digest_log)
    assert warning.startswith(
        f"Dask scheduler {cluster.address}: the scheduler has no worker; start one with "
        f"`dask worker {cluster.address}`; using "
    ), warning
    assert took < 4


def test_a_scheduler_that_hangs_after_its_first_message_is_given_up_in_time(
    cluster, digest_log, monkeypatch
):
    # Past the port check (a real scheduler's first message), the Dask client's own
    # connection: its handshake and first questions are bounded as well.
    _wait_for_scheduler(cluster.address)
    host, port = cluster.address.removeprefix("tcp://").split(":")
    with socket.create_connection((host, int(port)), timeout=START_TIMEOUT) as probe:
        greeting = probe.recv(8)
        while len(greeting) < 8 + int.from_bytes(greeting[:8], "little"):
            greeting += probe.recv(4096)
    monkeypatch.setattr(_dask, "CONNECT_TIMEOUT", 1.0)
    with _silent_port(greeting) as hung:
        warning, took = _fallback_warning(hung.address, digest_log)
    assert warning.startswith(
        f"Dask scheduler {hung.address}: it took the connection but did not answer as a Dask "
        "scheduler within 1 s; check `workers` in the config, and restart the scheduler if it "
        "is hung; using "
    ), warning
    assert took < 4


def _wait_for_scheduler(address: str) -> None:
    with distributed.Client(address, timeout=START_TIMEOUT):
        pass


def test_check_says_the_cluster_a_run_would_use(tmp_path, site, cluster):
    cluster.add_worker()
    cluster.wait_for(1)
    config = write_config(tmp_path, site.base_url, extra=f"workers: {cluster.address}\n")
    checked = run_cli("check", "--config", str(config), timeout=120)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    expected = f"ok   workers: Dask scheduler {cluster.address}: 1 worker thread, running digest "
    assert expected in checked.stdout


def test_workers_running_another_digest_leave_the_run_to_the_local_pool(
    tmp_path, site, cluster, digest_log
):
    # A copy of the package changed in one file: as a worker left on an older release.
    other = tmp_path / "other"
    shutil.copytree(REPO / "digest", other / "digest", ignore=shutil.ignore_patterns("__pycache__"))
    with (other / "digest" / "version.py").open("a") as version:
        version.write("# another build\n")
    cluster.add_worker(env={"PYTHONPATH": str(other)}, cwd=other)
    cluster.wait_for(1)
    config = write_config(tmp_path, site.base_url, extra=f"workers: {cluster.address}\n")
    checked = run_cli("check", "--config", str(config), timeout=120)
    assert checked.returncode != 0
    assert f"FAIL workers: Dask scheduler {cluster.address}: worker tcp://" in checked.stdout
    assert "then restart the workers; a run would use local" in checked.stdout
    report = digest.run(digest.load_config(config))
    assert report.articles_new >= 27 and report.digest is not None
    [warning] = _digest_warnings(digest_log)
    assert f"Dask scheduler {cluster.address}: worker tcp://127.0.0.1:" in warning
    assert "runs digest 0.1.0 (" in warning and "this run digest 0.1.0 (" in warning
    assert warning.endswith("install the same digest on every worker, then restart the workers; "
                            "using 2 local worker processes instead")  # fmt: skip
    assert sum(source == "page" for _, source in _articles(config).values()) >= 20


def test_workers_that_cannot_import_digest_leave_the_run_to_the_local_pool(
    tmp_path, cluster, digest_log
):
    # Ahead of the installed package on the worker's path: a digest that fails to import,
    # as a broken or missing install does.
    (tmp_path / "digest").mkdir()
    (tmp_path / "digest" / "__init__.py").write_text("raise ImportError('broken install')\n")
    cluster.add_worker(env={"PYTHONPATH": str(tmp_path)}, cwd=tmp_path)
    cluster.wait_for(1)
    with run_pool(cluster.address) as executor:
        assert not isinstance(executor, _dask.DaskWorkers)
    [warning] = _digest_warnings(digest_log)
    assert "its workers cannot run digest's tasks (" in warning and "broken install" in warning
    assert "install this run's digest on every worker, then restart the workers; using" in warning


def test_pages_go_on_in_the_run_when_the_scheduler_dies(cluster, digest_log):
    cluster.add_worker()
    cluster.wait_for(1)
    items = _demo_pages(6, rounds=8)
    done = {}
    with run_pool(cluster.address) as executor, PagePool[str](2, executor) as pool:
        for item in items[:20]:
            pool.submit(*item)
        done.update(pool.finished())
        cluster.scheduler.kill()  # SIGKILL: no goodbye to the run's client
        cluster.scheduler.wait()
        for item in items[20:]:
            pool.submit(*item)
        done.update(pool.drain())
    assert set(done) == {key for key, _, _ in items}
    assert all(work.skipped is None and work.cleaned for work in done.values())
    said = _digest_warnings(digest_log)
    assert len(said) == 1, said
    [warning] = said
    assert warning.startswith(f"lost the Dask scheduler {cluster.address}")
    assert warning.endswith("the rest of the work is done in this process") and "\n" not in warning


def test_pages_whose_workers_are_all_gone_are_processed_in_the_run(cluster, monkeypatch):
    monkeypatch.setattr(_dask, "WATCH_EVERY", 0.2)
    monkeypatch.setattr(_dask, "NO_WORKER_GRACE", 1.0)
    worker = cluster.add_worker()
    cluster.wait_for(1)
    items = _demo_pages(6, rounds=4)
    with run_pool(cluster.address) as executor, PagePool[str](2, executor) as pool:
        pool.submit(*items[0])
        worker.kill()
        worker.wait()
        for key, raw, url in items[1:]:
            pool.submit(key, raw, url)
        done = dict(pool.drain())
    assert set(done) == {key for key, _, _ in items}
    assert all(work.cleaned is not None for work in done.values())


def test_a_result_lost_with_every_worker_is_not_blamed_on_the_scheduler(
    cluster, monkeypatch, digest_log
):
    # Workers killed after their tasks finished lose the results the run had still to
    # gather; waiting for one in vain (CONNECT_TIMEOUT) was blamed on the scheduler, which
    # was alive and had said it lost all its workers (an operator's trial). That wait is
    # not reproducible here at will: the give-up it leads to is called as settle() calls it.
    monkeypatch.setattr(_dask, "WATCH_EVERY", 0.2)
    worker = cluster.add_worker()
    cluster.wait_for(1)
    with run_pool(cluster.address) as executor:
        worker.kill()
        worker.wait()
        assert wait_for(lambda: executor._no_workers, timeout=20)
        executor._lost("TimeoutError", waited=True)
    said = _digest_warnings(digest_log)
    assert said == {
        f"every Dask worker at {cluster.address} is gone (TimeoutError): the rest of the "
        "work is done in this process"
    }


def test_pages_on_a_worker_that_stopped_are_processed_in_the_run(cluster, monkeypatch, digest_log):
    """A worker sent SIGSTOP kept its batches until the scheduler's heartbeat check dropped
    it, minutes later: the run waited in silence (an operator's trial, 7.5 minutes)."""
    monkeypatch.setattr(_dask, "WATCH_EVERY", 0.2)
    monkeypatch.setattr(_dask, "STALL_GRACE", 2.0)
    monkeypatch.setattr(_dask, "SILENT_AFTER", 2.0)
    worker = cluster.add_worker()
    cluster.wait_for(1)
    items = _demo_pages(6, rounds=8)
    try:
        with run_pool(cluster.address) as executor, PagePool[str](2, executor) as pool:
            pool.submit(*items[0])
            os.kill(worker.pid, signal.SIGSTOP)
            started = time.monotonic()
            for key, raw, url in items[1:]:
                pool.submit(key, raw, url)
            done = dict(pool.drain())
            waited = time.monotonic() - started
    finally:
        os.kill(worker.pid, signal.SIGCONT)
    assert set(done) == {key for key, _, _ in items}
    assert all(work.skipped is None and work.cleaned for work in done.values())
    assert waited < 30, waited
    said = _digest_warnings(digest_log)
    assert len(said) == 1, said
    assert re.fullmatch(
        r"no Dask task finished in 2s while \d+ waited, and worker tcp://127.0.0.1:\d+ has not "
        r"been heard from in 2s \(stopped or hung\?\): the rest of the work is done in this "
        r"process",
        said.pop(),
    )


def test_pages_go_on_in_the_run_when_the_scheduler_stops_answering(
    cluster, monkeypatch, digest_log
):
    """A scheduler sent SIGSTOP mid-run held the run with no end, and every other digest of
    its store behind it (an operator's trial: 21 minutes, until SIGCONT): the scheduler was
    asked how many workers it had with no deadline."""
    monkeypatch.setattr(_dask, "WATCH_EVERY", 0.2)
    monkeypatch.setattr(_dask, "CONNECT_TIMEOUT", 1.0)
    monkeypatch.setattr(_dask, "NO_WORKER_GRACE", 2.0)
    cluster.add_worker()
    cluster.wait_for(1)
    items = _demo_pages(6, rounds=4)
    try:
        with run_pool(cluster.address) as executor, PagePool[str](2, executor) as pool:
            pool.submit(*items[0])
            os.kill(cluster.scheduler.pid, signal.SIGSTOP)
            for key, raw, url in items[1:]:
                pool.submit(key, raw, url)
            done = dict(pool.drain())
    finally:
        os.kill(cluster.scheduler.pid, signal.SIGCONT)
    assert set(done) == {key for key, _, _ in items}
    assert all(work.skipped is None and work.cleaned for work in done.values())
    said = _digest_warnings(digest_log)
    assert said == {
        f"the Dask scheduler {cluster.address} has not answered for 2s (stopped or hung?): the "
        "rest of the work is done in this process"
    }, said


def test_a_big_page_batch_sends_no_python_warning_to_the_operator(cluster):
    # A 9.6 MB page (under fetch.max_bytes) printed Dask's six-line "Sending large graph"
    # UserWarning into the cron log, outside digest's lines (an operator's trial). Dask's
    # advice there (load the data with Dask) does not apply to pages the run holds.
    cluster.add_worker()
    cluster.wait_for(1)
    key, raw, url = _demo_pages(1, rounds=1)[0]
    big = raw.replace(b"</body>", b"<p>" + b"padding " * 1_400_000 + b"</p></body>")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with run_pool(cluster.address) as executor, PagePool[str](2, executor) as pool:
            pool.submit(key, big, url)
            done = dict(pool.drain())
    assert set(done) == {key}
    said = [str(warning.message) for warning in caught]
    assert not [text for text in said if "large graph" in text], said


def test_a_task_that_takes_long_on_a_live_worker_is_waited_for(cluster, monkeypatch, digest_log):
    """Long is not stalled: a worker busy with one task (or with other digests' tasks queued
    before ours) still beats, and its tasks are not taken back (a code review: 120 s
    without a result was given up however alive the workers were)."""
    monkeypatch.setattr(_dask, "WATCH_EVERY", 0.2)
    monkeypatch.setattr(_dask, "STALL_GRACE", 1.0)
    # (a live worker beats every 0.5 s; a loaded test machine may stretch that, not to 3 s)
    monkeypatch.setattr(_dask, "SILENT_AFTER", 3.0)
    cluster.add_worker()
    cluster.wait_for(1)
    with run_pool(cluster.address) as executor:
        assert executor.submit(time.sleep, 6).result() is None
    assert not [r for r in digest_log.records if r.levelname == "WARNING" and r.name == "digest"]


def _loop_threads() -> int:
    return sum(thread.name == "IO loop" for thread in threading.enumerate())


@pytest.mark.parametrize(
    "after_greeting",
    [b"", struct.pack("<Q", 5) + b"xxxxx"],
    ids=["then hangs up", "then a frame Dask cannot read"],
)
def test_a_peer_that_greets_like_a_scheduler_then_fails_leaves_nothing_behind(
    after_greeting, digest_log
):
    # Past the port check, distributed's handshake ends in CommClosedError, or in what its
    # decoder raises (struct.error); either is one warning, and the client's event loop
    # thread goes with it (it outlived each such run in the daemon).
    listener = socket.create_server(("127.0.0.1", 0))

    def answer() -> None:
        with suppress(OSError):
            while True:
                connection = listener.accept()[0]
                connection.sendall(struct.pack("<Q", 1) + after_greeting)
                time.sleep(0.05)
                connection.close()

    threading.Thread(target=answer, daemon=True).start()
    try:
        before = _loop_threads()
        address = f"tcp://127.0.0.1:{listener.getsockname()[1]}"
        for _ in range(2):
            warning, took = _fallback_warning(address, digest_log)
            assert "it did not answer as a Dask scheduler" in warning, warning
            assert took < 5
        deadline = time.monotonic() + 5
        while _loop_threads() > before and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _loop_threads() == before
    finally:
        listener.close()
