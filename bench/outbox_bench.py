"""The outbox at scale: one digest to 10,000 recipients by SMTP, then its retention.

    python bench/outbox_bench.py                    # 10,000 recipients, two digests
    python bench/outbox_bench.py --recipients 2000  # smaller

The bundled demo sites are served on loopback by the run itself (`serve.root`), the SMTP
server is aiosmtpd's Sink (it takes and drops every message) in a separate process on
127.0.0.1, and the run goes through `digest.run` with a config written beside its state, as
`digest run` would. A preview first stores the articles, so that the state's growth over
the run is the digest and its outbox. Workers are off (`workers: 0`): the run's memory is
this process's.

Figures: peak RSS of this process (getrusage), the state's growth right after the run (file
size, and the pages in use) and once the outbox's retention has passed (the prune a later
run does, called with a time past `delivery.keep_sent`), and the time. With `--digests 2`
(the default) a second digest to the same recipients follows the prune (the config gains
the other half of the demo feeds). A prune that frees most of the file shrinks it
(Store.prune_outbox), so the file's growth after retention is what stays: the records.
"""

from __future__ import annotations

import argparse
import contextlib
import resource
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import digest  # noqa: E402
from digest.store import Store  # noqa: E402

DEMO_SITES = REPO / "config" / "demo" / "sites"
DEMO_FEEDS = [
    ("Techwire", "techwire/feed.xml", "Technology"),
    ("Circuit Post", "circuitpost/atom.xml", "Technology"),
    ("The Daily Ledger", "dailyledger/feed.xml", "Business"),
    ("Global Brief", "globalbrief/atom.xml", "World"),
    ("ByteBeat", "bytebeat/feed.json", "Technology"),
    ("Market Pulse", "marketpulse/atom.xml", "Business"),
    ("Northstar News", "northstar/feed.json", "World"),
    ("Science Desk", "sciencedesk/rss.rdf", "Science"),
]
MB = 1024 * 1024
PEAK_TARGET = 500 * MB
GROWTH_TARGET = 5 * MB


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_listening(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"the SMTP sink on 127.0.0.1:{port} did not start")


def _write_config(folder: Path, feeds: int, smtp_port: int, keep: str) -> Path:
    web_port = _free_port()
    lines = [
        "title: Outbox Bench",
        "window: 3650d",  # the demo's articles are dated; keep them all in the window
        "max_items: 20",
        "storage: state/digest.db",
        "workers: 0",
        "serve:",
        f"  root: {DEMO_SITES}",
        f"  port: {web_port}",
        "delivery:",
        "  method: smtp",
        "  host: 127.0.0.1",
        f"  port: {smtp_port}",
        "  security: none",
        "  from: Outbox Bench <digest@example.org>",
        "  recipients_file: recipients.txt",
        "  unsubscribe: https://example.org/unsubscribe?who={recipient}",
        "  retries: 0",
        f"  keep_sent: {keep}",
        "feeds:",
    ]
    for name, path, section in DEMO_FEEDS[:feeds]:
        lines += [
            f"  - name: {name}",
            f"    url: http://127.0.0.1:{web_port}/{path}",
            f"    section: {section}",
        ]
    config = folder / "digest.yaml"
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return config


def _state_size(state: Path) -> tuple[int, int, int]:
    """(bytes of the state file, of its WAL, of the file's pages in use). The WAL lasts
    while a connection is open; the pages on SQLite's freelist are reused by later rows."""
    wal = state.with_name(state.name + "-wal")
    with contextlib.closing(sqlite3.connect(state)) as db:
        pages, free, size = (
            db.execute(f"PRAGMA {name}").fetchone()[0]
            for name in ("page_count", "freelist_count", "page_size")
        )
        wal_size = wal.stat().st_size if wal.exists() else 0
    return state.stat().st_size, wal_size, (pages - free) * size


def _peak_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


def _mb(size: int) -> str:
    return f"{size / MB:8.1f} MB"


def _verdict(value: int, target: int) -> str:
    return f"(target < {target // MB} MB: {'met' if value < target else 'MISSED'})"


def _sent_with_bytes(state: Path) -> tuple[int, int]:
    with contextlib.closing(sqlite3.connect(state)) as db:
        sent = db.execute("SELECT COUNT(*) FROM deliveries WHERE status = 'sent'").fetchone()[0]
        whole = db.execute("SELECT COUNT(*) FROM message_bytes").fetchone()[0]
    return sent, whole


def _digest(config: Path, label: str, now: datetime) -> tuple[int, float]:
    """One real run; returns the messages the server took and the wall seconds."""
    started = time.perf_counter()
    report = digest.run(digest.load_config(config), now=now)
    wall = time.perf_counter() - started
    items = len(report.digest.items) if report.digest else 0
    print(f"{label}: {items} items to {len(report.delivered_to)} recipients in {wall:.1f} s "
          f"(peak RSS so far {_mb(_peak_rss()).strip()})")  # fmt: skip
    for stage in report.stages:
        print(f"    {stage.stage:<10} {stage.wall:8.2f} s wall {stage.cpu:8.2f} s CPU")
    if report.refused or report.deferred:
        print(f"    refused {len(report.refused)}, deferred {len(report.deferred)}")
    return len(report.delivered_to), wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--digests", type=int, choices=(1, 2), default=2)
    parser.add_argument("--keep", default="3d", help="delivery.keep_sent")
    args = parser.parse_args()

    smtp_port = _free_port()
    sink = subprocess.Popen(
        [sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{smtp_port}",
         "-c", "aiosmtpd.handlers.Sink"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        _wait_listening(smtp_port)
        with tempfile.TemporaryDirectory(prefix="outbox-bench-") as folder_name:
            folder = Path(folder_name)
            (folder / "recipients.txt").write_text(
                "".join(f"reader{n:05d}@example.org\n" for n in range(args.recipients))
            )
            _run(folder, smtp_port, args)
    finally:
        sink.terminate()
        sink.wait(timeout=30)


def _run(folder: Path, smtp_port: int, args: argparse.Namespace) -> None:
    half = len(DEMO_FEEDS) // 2 if args.digests == 2 else len(DEMO_FEEDS)
    config = _write_config(folder, half, smtp_port, args.keep)
    state = folder / "state" / "digest.db"
    now = datetime.now(UTC)
    keep = digest.load_config(config).delivery.keep_sent

    digest.preview(digest.load_config(config), now=now)  # the articles, stored as pending
    before_file, _, before_used = _state_size(state)
    rss_before = _peak_rss()
    delivered, wall = _digest(config, "digest 1", now)
    after_file, after_wal, after_used = _state_size(state)
    sent, whole = _sent_with_bytes(state)

    store = Store.open(state)
    try:
        started = time.perf_counter()
        pruned = store.prune_outbox(now + keep + timedelta(hours=1), keep)
        prune_wall = time.perf_counter() - started
    finally:
        store.close()
    pruned_file, _, pruned_used = _state_size(state)
    _, whole_after = _sent_with_bytes(state)
    peak = _peak_rss()

    print()
    print(f"recipients                      {args.recipients:>8}")
    print(f"accepted by the SMTP server     {delivered:>8}   (deliveries 'sent': {sent})")
    print(f"time of the run                 {wall:8.1f} s")
    print(f"peak RSS of the process         {_mb(peak)}   {_verdict(peak, PEAK_TARGET)}"
          f"   (before the run: {_mb(rss_before).strip()})")  # fmt: skip
    print(f"state before the run            {_mb(before_file)} file, {_mb(before_used)} in use")
    print(f"growth right after the run      {_mb(after_file - before_file)} file, "
          f"{_mb(after_used - before_used)} in use   ({whole} messages whole; "
          f"WAL {_mb(after_wal).strip()} while open)")  # fmt: skip
    print(f"growth after retention ({args.keep})   {_mb(pruned_file - before_file)} file, "
          f"{_mb(pruned_used - before_used)} in use   "
          f"{_verdict(pruned_used - before_used, GROWTH_TARGET)}   "
          f"({pruned} pruned in {prune_wall:.1f} s, {whole_after} whole; "
          "the file shrinks when most of it is free)")  # fmt: skip
    if args.digests == 1:
        return

    # The next digest: the other half of the feeds, the same readers.
    _write_config(folder, len(DEMO_FEEDS), smtp_port, args.keep)
    digest.preview(digest.load_config(config), now=now)
    second_file, _, second_before_used = _state_size(state)
    _digest(config, "digest 2", now)
    second_after_file, _, second_used = _state_size(state)
    peak = _peak_rss()
    print()
    print(
        f"digest 2 (same readers)         file grew {_mb(second_after_file - second_file)} "
        f"while {_mb(second_used - second_before_used).strip()} more pages came in use: "
        "its messages took the pages digest 1's prune freed"
    )
    print(f"peak RSS over both digests      {_mb(peak)}   {_verdict(peak, PEAK_TARGET)}")


if __name__ == "__main__":
    main()
