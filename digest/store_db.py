"""The SQLite file under the store: connection, transactions, migrations and the run lock.

`Store` (store.py) builds on this: `StateDB` knows nothing of feeds or articles.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Self

from .errors import RunLocked, StoreError
from .migrations import MIGRATIONS

# A run that held the lock this long died or hung; its pid may belong to another process now.
STALE_LOCK = timedelta(hours=6)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _time_or(text: str, default: datetime) -> datetime:
    try:
        moment = _time(text)
    except ValueError:
        return default
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


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
    def transaction(self) -> Iterator[sqlite3.Connection]:
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
                for statement in script.split(";"):
                    if statement.strip():
                        db.execute(statement)
                db.execute("INSERT INTO migrations VALUES (?, ?)", (name, _iso(datetime.now(UTC))))
            applied.append(name)
        return applied

    # -- run lock ----------------------------------------------------------------------

    @contextmanager
    def run_lock(self, now: datetime) -> Iterator[int]:
        """Hold the digest's run lock: a row in `runs` without `finished`, owned by a live pid."""
        with self.transaction() as db:
            for row in db.execute("SELECT id, pid, started FROM runs WHERE finished IS NULL"):
                stale = now - _time_or(row["started"], now) > STALE_LOCK
                if _alive(row["pid"]) and not stale:
                    raise RunLocked(
                        f"{self.path}: another run (pid {row['pid']}, started {row['started']}) "
                        f"is in progress; wait for it, or its lock lapses after {STALE_LOCK}"
                    )
                db.execute(
                    "UPDATE runs SET finished = ?, outcome = 'died' WHERE id = ?",
                    (_iso(now), row["id"]),
                )
            run_id = db.execute(
                "INSERT INTO runs (pid, started) VALUES (?, ?)", (os.getpid(), _iso(now))
            ).lastrowid
        outcome = "failed"
        try:
            yield run_id
            outcome = "ok"
        finally:
            self.db.execute(
                "UPDATE runs SET finished = ?, outcome = ? WHERE id = ?",
                (_iso(datetime.now(UTC)), outcome, run_id),
            )


def _alive(pid: int) -> bool:
    # Our own pid on an unfinished row is a previous run in a container that reuses pids
    # (every container's first process is pid 1): this process is not running it.
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
