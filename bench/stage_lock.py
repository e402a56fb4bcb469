"""How long staging a digest to N recipients keeps other digests of a shared SQLite state
from writing: the longest wait of another connection's BEGIN IMMEDIATE while Store.stage_digest
builds and stores N complete messages (each built as `digest run` builds it).

    python bench/stage_lock.py [N]          (default 3000)

Prints the staging time, the longest and the median wait of the other writer, and how many
times it got the lock. A wait past the state's busy timeout (10 s) is a "database is locked"
for the other digest's run.
"""

from __future__ import annotations

import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from digest.mail._message import build_message
from digest.models import RenderedDigest, Staged
from digest.store import Store


def main(count: int) -> None:
    rendered = RenderedDigest(
        subject="Big brief", html="<p>story</p>" * 3000, text="a story line\n" * 2000
    )
    now = datetime.now(UTC)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "state.db"
        store = Store.open(path, "big")
        Store.open(path, "small").close()
        waits: list[float] = []
        done = threading.Event()

        def other_writer() -> None:
            db = sqlite3.connect(path, timeout=600, isolation_level=None)
            while not done.is_set():
                started = time.monotonic()
                db.execute("BEGIN IMMEDIATE")
                waits.append(time.monotonic() - started)
                db.execute("ROLLBACK")
                time.sleep(0.005)
            db.close()

        def messages():
            for n in range(count):
                message = build_message(
                    rendered, "D <d@example.org>", f"r{n}@example.org", "en", now
                )
                yield Staged(f"r{n}@example.org", message["Message-ID"], message.as_bytes())

        prober = threading.Thread(target=other_writer)
        prober.start()
        started = time.monotonic()
        store.stage_digest("Big brief", (), messages(), None, now)
        staging = time.monotonic() - started
        done.set()
        prober.join()
        store.close()
    print(
        f"{count} recipients: staged in {staging:.1f} s; the other writer got the lock "
        f"{len(waits)} times, longest wait {max(waits):.2f} s, "
        f"median {statistics.median(waits) * 1000:.1f} ms"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3000)
