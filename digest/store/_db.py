"""The SQLite file under the store: connection, transactions, migrations and the run lock.

`Store` (_state.py) builds on this: `StateDB` knows nothing of feeds or articles.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Self

from .. import crash_points
from ..errors import RunLocked, StoreError
from ._migrations import MIGRATIONS

# Where a pid's start time cannot be read, a live pid keeps the lock at most this long.
STALE_LOCK = timedelta(hours=6)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text)


def maybe_time(text: str | None) -> datetime | None:
    """A stored ISO time, or None when there is none or it is unreadable."""
    if not text:
        return None
    try:
        moment = _time(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _time_or(text: str, default: datetime) -> datetime:
    return maybe_time(text) or default


class StateDB:
    """One SQLite file. Open with `Store.open(path)`; close when done."""

    def __init__(self, connection: sqlite3.Connection, path: Path):
        self.db = connection
        self.path = path

    @classmethod
    def open(cls, path: Path) -> Self:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(path, timeout=10, isolation_level=None)
            connection.row_factory = sqlite3.Row
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA foreign_keys=ON")
            store = cls(connection, path)
            store.migrate()
        except sqlite3.Error as error:
            raise StoreError(f"{path}: cannot open the state database: {error}") from None
        except OSError as error:
            raise StoreError(f"{path}: cannot create the state folder: {error}") from None
        return store

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def transaction(self, step: str | None = None) -> Iterator[sqlite3.Connection]:
        """One transaction; `step` names it as a crash point of the tests (crash_points.py)."""
        with crash_points.around(step):
            self.db.execute("BEGIN IMMEDIATE")
            try:
                yield self.db
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            self.db.execute("COMMIT")

    @contextmanager
    def errors_named(self) -> Iterator[None]:
        """Turn SQLite failures mid-run (locked, disk full) into one line naming the file."""
        try:
            yield
        except sqlite3.Error as error:
            raise StoreError(f"{self.path}: state database error: {error}") from None

    def migrate(self) -> list[str]:
        """Apply the migrations not yet applied; returns their names."""
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY, applied TEXT NOT NULL)"
        )
        done = {row[0] for row in self.db.execute("SELECT name FROM migrations")}
        applied = []
        for name, script in MIGRATIONS:
            if name in done:
                continue
            with self.transaction() as db:
                # Another process may have applied it since we looked.
                if db.execute("SELECT 1 FROM migrations WHERE name = ?", (name,)).fetchone():
                    continue
                for statement in script.split(";"):
                    if statement.strip():
                        db.execute(statement)
                db.execute("INSERT INTO migrations VALUES (?, ?)", (name, _iso(datetime.now(UTC))))
            applied.append(name)
        return applied

    # -- run lock ----------------------------------------------------------------------

    @contextmanager
    def run_lock(self, now: datetime, *, preview: bool = False) -> Iterator[int]:
        """Hold the digest's run lock: a row in `runs` without `finished`, owned by a live run.

        A holder is alive while its pid runs *and* that pid still belongs to the process that
        took the lock (same start time, read from /proc), so a lock never lapses under a
        slow run and is never kept by a recycled pid. Where the start time cannot be read
        (not Linux), a pid that lives keeps the lock for STALE_LOCK.

        A preview holds the lock too (it stores pending articles and ETags); its row is
        marked 'preview' (detail while it runs, outcome when it ends), so that neither
        `digest status` nor the daemon's catch-up takes it for a run.
        """
        token = uuid.uuid4().hex
        with self.transaction() as db:
            for row in db.execute("SELECT * FROM runs WHERE finished IS NULL"):
                if _holder_alive(row, now):
                    raise RunLocked(
                        f"{self.path}: another run of this digest (pid {row['pid']}, started "
                        f"{row['started']}) is in progress; wait for it to finish, or stop "
                        f"that process if it hangs"
                    )
                db.execute(
                    "UPDATE runs SET finished = ?, outcome = 'died', detail = ? WHERE id = ?",
                    (_iso(now), died_reason(row["pid"]), row["id"]),
                )
            run_id = db.execute(
                "INSERT INTO runs (pid, started, process_start, token, detail, kind) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (
                    os.getpid(),
                    _iso(now),
                    _process_start(os.getpid()),
                    token,
                    "preview" if preview else None,
                    "preview" if preview else "run",
                ),
            ).lastrowid
        _HELD_HERE.add(token)
        outcome, detail = "failed", None
        try:
            yield run_id
            outcome = "preview" if preview else "ok"
        except BaseException as error:
            detail = str(error) or (
                "interrupted" if isinstance(error, KeyboardInterrupt) else type(error).__name__
            )
            if preview:
                detail = f"preview: {detail}"
            raise
        finally:
            _HELD_HERE.discard(token)
            # A failure here leaves the row open; the token no longer held here lets the next
            # run (even in this same daemon process) take it over as 'died'.
            with contextlib.suppress(sqlite3.Error):
                self.db.execute(
                    "UPDATE runs SET finished = ?, outcome = ?, detail = COALESCE(?, detail) "
                    "WHERE id = ?",
                    (_iso(datetime.now(UTC)), outcome, detail, run_id),
                )

    def note_run(self, run_id: int, detail: str) -> None:
        """What a run or preview did, shown by `digest status` (kept when it ends well)."""
        self.db.execute("UPDATE runs SET detail = ? WHERE id = ?", (detail, run_id))


# Tokens of the run locks this process holds now (the daemon runs digests in threads).
_HELD_HERE: set[str] = set()


def died_reason(pid: int) -> str:
    """Why a run row was left open: its process ended (killed) before recording an outcome."""
    return f"interrupted: process {pid} no longer running"


def holder_alive(row: sqlite3.Row, now: datetime) -> bool:
    """Whether the run of this `runs` row still holds the lock (for `digest status`)."""
    return _holder_alive(row, now)


def _holder_alive(row: sqlite3.Row, now: datetime) -> bool:
    keys = row.keys()
    token = row["token"] if "token" in keys else None
    started = row["process_start"] if "process_start" in keys else None
    pid = row["pid"]
    if token is not None and token in _HELD_HERE:
        return True
    if pid == os.getpid():
        # Not held here, so a leftover: an earlier run of this process, or of a container
        # whose first process had this same pid (every container's pid 1).
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # another user's process: it exists
    current = _process_start(pid)
    if started is not None and current is not None:
        return started == current
    return now - _time_or(row["started"], now) <= STALE_LOCK


def _process_start(pid: int) -> str | None:
    """When `pid` started, in clock ticks since boot (field 22 of /proc/PID/stat), or None."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rfind(")") + 2 :].split()  # the name in (...) may hold spaces
    return fields[19] if len(fields) > 19 else None
