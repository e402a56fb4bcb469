"""Copy a whole state into an empty store: a SQLite file into PostgreSQL when digests
outgrow one machine, or any store into another.

A digest pointed at a new, empty store knows nothing of what it sent, and its first run
there sends every story of its window again, to every reader. Copying the state first keeps
all it knows: delivered stories, pending articles, feeds' ETags and health, the outbox, the
pool and the runs. Every table is copied row for row, ids included, in one transaction on
the target: a copy that fails leaves the target as empty as it was.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ..errors import StoreError
from ._connection import Connection, is_database_url, shown
from ._db import StateDB, holder_alive
from ._migrations import MIGRATIONS

# Rows read from the source and written to the target at a time (`_batches`): the outbox's
# messages and the pool's feed bodies are large, and a whole table is never held at once.
ROWS_PER_BATCH = 500
BYTES_PER_BATCH = 16 * 1024 * 1024


@dataclass(frozen=True)
class CopiedState:
    """What `copy_state` copied: rows per table, in the order they were written."""

    source: str
    target: str
    rows: dict[str, int]


def copy_state(source: Path | str, target: Path | str) -> CopiedState:
    """Copy every table of the state at `source` (every digest it holds) into the state at
    `target`, which must hold none yet. Both are brought to the current schema first, as a
    run would. Raises StoreError, naming the fix, when the two are one store, when the
    source is no file, when a newer version of digest migrated either, when a run of the
    source is in progress, or when the target already holds state."""
    if _same_store(source, target):
        raise StoreError(f"{shown(source)}: the source and the target are the same store")
    if not is_database_url(source) and not Path(source).is_file():
        # Opened, a missing file would be made empty and "copied", and the digests pointed
        # at the target would send their whole window again.
        raise StoreError(f"{shown(source)}: no state there to copy (no such file)")
    origin = StateDB.open(source)
    try:
        destination = StateDB.open(target)
        try:
            with origin.errors_named():
                _refuse_newer(origin)
                tables = _tables_in_order(origin.db)
            with destination.errors_named():
                _refuse_newer(destination)
                _refuse_filled(destination, tables)
            return _copy(origin, destination, tables)
        finally:
            destination.close()
    finally:
        origin.close()


def _same_store(source: Path | str, target: Path | str) -> bool:
    if is_database_url(source) and is_database_url(target):
        # libpq reads postgres:// as postgresql://, and a host name in any case.
        return _database(str(source)) == _database(str(target))
    if is_database_url(source) or is_database_url(target):
        return False
    return Path(source).resolve() == Path(target).resolve()


def _database(url: str) -> tuple[str, str, int | None, str]:
    """What names one PostgreSQL database in a storage URL: user, host, port, database."""
    parts = urlsplit(url)
    return (parts.username or "", (parts.hostname or "").lower(), parts.port, parts.path)


def _copy(origin: StateDB, destination: StateDB, tables: dict[str, list[str]]) -> CopiedState:
    counts: dict[str, int] = {}
    # The source's transaction is its snapshot (and, on SQLite, its write lock: no run
    # writes half of a digest into it meanwhile); the target's makes the copy all or none.
    with origin.errors_named(), origin.transaction() as reading:
        if reading.dialect == "postgresql":  # one snapshot for every table, not per query
            reading.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        # Asked inside the transaction: on SQLite it holds the write lock, so no run can
        # start between the question and the copy.
        _refuse_running(origin)
        with destination.errors_named(), destination.transaction() as writing:
            for table, columns in tables.items():
                listed = ", ".join(columns)
                insert = f"INSERT INTO {table} ({listed}) VALUES ({', '.join('?' * len(columns))})"
                counts[table] = 0
                for batch in _batches(reading, f"SELECT {listed} FROM {table}"):
                    writing.executemany(insert, batch)
                    counts[table] += len(batch)
            if writing.dialect == "postgresql":
                _continue_identities(writing, tables)
    return CopiedState(origin.where, destination.where, counts)


def _batches(db: Connection, query: str) -> Iterator[list[tuple[Any, ...]]]:
    """The rows of `query`, ROWS_PER_BATCH at a time, or fewer when they hold more than
    BYTES_PER_BATCH of text and bytes (a queued message is up to megabytes)."""
    batch: list[tuple[Any, ...]] = []
    size = 0
    for row in db.stream(query):
        batch.append(tuple(row))
        size += sum(len(value) for value in batch[-1] if isinstance(value, (str, bytes)))
        if len(batch) == ROWS_PER_BATCH or size >= BYTES_PER_BATCH:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def _continue_identities(db: Connection, tables: dict[str, list[str]]) -> None:
    """On PostgreSQL an `id` given on insert leaves its identity's sequence where it was:
    the next run's first row would take id 1 again. Each sequence goes on after the
    largest id copied."""
    for table, columns in tables.items():
        if "id" not in columns:
            continue
        (sequence,) = db.execute("SELECT pg_get_serial_sequence(?, 'id')", (table,)).fetchone()
        if sequence is not None:
            db.execute(
                f"SELECT setval(?, (SELECT COALESCE(MAX(id), 0) + 1 FROM {table}), false)",
                (sequence,),
            )


def _refuse_running(origin: StateDB) -> None:
    """A run of one of the store's digests holds its run lock now: on SQLite its process
    lives or holds the lock file; on PostgreSQL the server holds its advisory lock, for a
    run on any machine."""
    now = datetime.now(UTC)
    for row in origin.db.execute("SELECT * FROM runs WHERE finished IS NULL"):
        if origin.path is not None:
            running = holder_alive(row, now, origin.path, row["digest"])
        else:
            running = StateDB(origin.db, origin.storage, row["digest"]).run_lock_held() is True
        if running:
            digest = f" of digest {row['digest']!r}" if row["digest"] else ""
            host = f" on {row['host']}" if row["host"] else ""
            raise StoreError(
                f"{origin.where}: a run{digest} is in progress (pid {row['pid']}{host}, "
                f"started {row['started']}); "
                "stop the schedule (cron, the systemd timer or `digest schedule`) and copy "
                "once it has finished"
            )


def _tables_in_order(db: Connection) -> dict[str, list[str]]:
    """{table: its columns} of the state, each table after those its rows refer to (the
    target checks a reference when the row is written). Only the tables the migrations make:
    another application's in the same database or schema stay where they are, and
    `migrations` is the target's own."""
    names = sorted(_table_names(db) & _TABLES)
    refers = {name: _referred(db, name) - {name} for name in names}
    ordered: dict[str, list[str]] = {}
    while len(ordered) < len(names):
        ready = [name for name in names if name not in ordered and refers[name] <= set(ordered)]
        if not ready:  # a cycle of references: the migrations make none
            raise StoreError(f"tables refer to each other: {sorted(set(names) - set(ordered))}")
        for name in ready:
            ordered[name] = _columns(db, name)
    return ordered


def _table_names(db: Connection) -> set[str]:
    if db.dialect == "sqlite":
        query = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    else:
        query = "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
    return {row[0] for row in db.execute(query)}


def _referred(db: Connection, table: str) -> set[str]:
    if db.dialect == "sqlite":
        return {row[2] for row in db.execute(f"PRAGMA foreign_key_list({table})")}
    query = (
        "SELECT referred.relname FROM pg_constraint JOIN pg_class AS referring "
        "ON referring.oid = conrelid JOIN pg_class AS referred ON referred.oid = confrelid "
        "WHERE contype = 'f' AND referring.relname = ? "
        "AND referring.relnamespace = current_schema()::regnamespace"
    )
    return {row[0] for row in db.execute(query, (table,))}


def _columns(db: Connection, table: str) -> list[str]:
    if db.dialect == "sqlite":
        return [row[1] for row in db.execute(f"PRAGMA table_info({table})")]
    query = (
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position"
    )
    return [row[0] for row in db.execute(query, (table,))]


def _refuse_newer(store: StateDB) -> None:
    """A store a newer version of digest migrated has tables or columns this version does
    not know, which a copy would leave behind."""
    applied = {row[0] for row in store.db.execute("SELECT name FROM migrations")}
    unknown = sorted(applied - {name for name, _ in MIGRATIONS})
    if unknown:
        raise StoreError(
            f"{store.where}: a newer version of digest migrated it ({', '.join(unknown)}); "
            "copy with that version"
        )


def _tables_made() -> frozenset[str]:
    """The tables the migrations leave, replayed statement by statement."""
    tables: set[str] = set()
    for _, script in MIGRATIONS:
        for statement in script.split(";"):
            words = statement.split()
            if words[:2] == ["CREATE", "TABLE"]:
                tables.add(words[2])
            elif words[:2] == ["DROP", "TABLE"]:
                tables.discard(words[2])
            elif words[:2] == ["ALTER", "TABLE"] and words[3:5] == ["RENAME", "TO"]:
                tables.discard(words[2])
                tables.add(words[5])
    return frozenset(tables)


_TABLES = _tables_made()


def _refuse_filled(target: StateDB, tables: dict[str, list[str]]) -> None:
    for table in tables:
        if target.db.execute(f"SELECT 1 FROM {table} LIMIT 1").fetchone() is not None:
            raise StoreError(
                f"{target.where}: already holds state (rows in {table}); copy into a new, "
                "empty SQLite file or PostgreSQL database, so that no digest's record is "
                "mixed with another's"
            )
