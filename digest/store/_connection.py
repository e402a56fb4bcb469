"""The one connection the store's code talks to, over SQLite or PostgreSQL.

The store's SQL is written once, in the dialect both accept (`?` placeholders, `INSERT ...
ON CONFLICT`, ISO times as text); what differs is here and in _migrations.py, nowhere else:
how a transaction starts, how a new row's id comes back, which exceptions are the
database's. `open_connection` picks the backend from the `storage` setting: a path is a
SQLite file, a `postgresql://` URL a PostgreSQL database (psycopg 3, imported only then).
"""

from __future__ import annotations

import os
import re
import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit

# What holds the password of a PostgreSQL store (as delivery.password_env holds SMTP's):
# never the URL, which is in the config, the logs and `digest status`.
PASSWORD_VARIABLE = "DIGEST_STORAGE_PASSWORD"
POSTGRES_SCHEMES = ("postgresql", "postgres")
# How long a SQLite statement waits for another process's write lock before it fails with
# "database is locked" (a transaction may ask for longer: `begin(patience=...)`).
BUSY_TIMEOUT = 10.0  # seconds
WAL_SWITCH_POLL = 0.01  # seconds between tries to switch a new file to WAL (`_use_wal`)
STREAM_ROWS = 50  # rows a PostgreSQL server-side cursor hands over at a time (`stream`)


def is_database_url(storage: Path | str) -> bool:
    """Whether a `storage` value names a PostgreSQL database rather than a SQLite file."""
    return isinstance(storage, str) and urlsplit(storage).scheme in POSTGRES_SCHEMES


def shown(storage: Path | str) -> str:
    """`storage` for messages: a URL without any password."""
    if not is_database_url(storage):
        return str(storage)
    parts = urlsplit(str(storage))
    netloc = parts.netloc.rsplit("@", 1)
    if len(netloc) == 2 and ":" in netloc[0]:
        user = netloc[0].split(":", 1)[0]
        return urlunsplit(parts._replace(netloc=f"{user}@{netloc[1]}"))
    return str(storage)


class Cursor(Protocol):
    rowcount: int

    def fetchone(self) -> Any: ...
    def fetchall(self) -> list[Any]: ...
    def __iter__(self) -> Iterator[Any]: ...


class Connection(Protocol):
    """What _db.py, _state.py, _outbox.py and the rest use of a database connection."""

    dialect: str  # "sqlite" or "postgresql"
    errors: tuple[type[Exception], ...]  # the exceptions that are the database's

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Cursor: ...
    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None: ...
    def insert(self, sql: str, params: Sequence[Any] = ()) -> int: ...
    def begin(self, patience: float | None = None) -> None: ...
    def commit(self) -> None: ...
    def rollback(self) -> None: ...
    def close(self) -> None: ...
    def hint(self, error: Exception) -> str: ...  # what to do about one of `errors`, or ""
    def has_table(self, name: str) -> bool: ...  # a read: no lock, no transaction
    # The rows of a query read a few at a time, never all at once (inside a transaction).
    def stream(self, sql: str) -> Iterator[Any]: ...


class SQLiteConnection:
    dialect = "sqlite"
    errors: tuple[type[Exception], ...] = (sqlite3.Error,)

    @staticmethod
    def hint(error: Exception) -> str:
        if "disk is full" in str(error):
            return "free space on the disk that holds it, then run again; nothing is lost"
        if "readonly database" in str(error):
            return "let the user that runs digest write the file and its folder"
        return ""

    def __init__(self, path: Path, read_only: bool = False):
        if read_only:  # an existing file, never created nor changed (`digest check`)
            target = f"{path.absolute().as_uri()}?mode=ro"
            self.raw = sqlite3.connect(target, timeout=BUSY_TIMEOUT, isolation_level=None, uri=True)
            self.raw.row_factory = sqlite3.Row
            return
        # A new state file is its owner's alone (its -wal and -shm files take its mode): the
        # outbox in it holds every recipient's address.
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
        self.raw = sqlite3.connect(path, timeout=BUSY_TIMEOUT, isolation_level=None)
        self.raw.row_factory = sqlite3.Row
        self._use_wal()
        self.raw.execute("PRAGMA foreign_keys=ON")

    def _use_wal(self) -> None:
        """Put the file in WAL mode. A file already in it is only read; a new one is
        switched under a write lock that SQLite takes without its busy handler: the second
        of two runs opening a new file together would fail with "database is locked" at
        once, where every other statement waits BUSY_TIMEOUT for the lock."""
        deadline = time.monotonic() + BUSY_TIMEOUT
        while True:
            try:
                self.raw.execute("PRAGMA journal_mode=WAL")
                return
            except sqlite3.OperationalError as error:
                if "locked" not in str(error) or time.monotonic() > deadline:
                    raise
                time.sleep(WAL_SWITCH_POLL)

    def has_table(self, name: str) -> bool:
        sql = "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?"
        return bool(self.raw.execute(sql, (name,)).fetchone()[0])

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Cursor:
        return self.raw.execute(sql, params)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        self.raw.executemany(sql, rows)

    def stream(self, sql: str) -> Iterator[Any]:
        return iter(self.raw.execute(sql))  # sqlite3 steps through the rows as they are read

    def insert(self, sql: str, params: Sequence[Any] = ()) -> int:
        row_id = self.raw.execute(sql, params).lastrowid
        assert row_id is not None
        return row_id

    def begin(self, patience: float | None = None) -> None:
        """IMMEDIATE: the write lock from the start, so two processes never both read, then
        both try to write (one would fail with "database is locked"). `patience`: how long
        to wait for that lock when another process holds it (default BUSY_TIMEOUT)."""
        if patience is None:
            self.raw.execute("BEGIN IMMEDIATE")
            return
        self.raw.execute(f"PRAGMA busy_timeout = {int(patience * 1000)}")
        try:
            self.raw.execute("BEGIN IMMEDIATE")
        finally:
            self.raw.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT * 1000)}")

    def commit(self) -> None:
        self.raw.execute("COMMIT")

    def rollback(self) -> None:
        self.raw.execute("ROLLBACK")

    def close(self) -> None:
        self.raw.close()


class Row(Sequence[Any]):
    """A PostgreSQL row read as sqlite3.Row is: by position, by column name, keys()."""

    __slots__ = ("_names", "_values")

    def __init__(self, names: dict[str, int], values: Sequence[Any]):
        self._names = names
        self._values = values

    def __getitem__(self, key: Any) -> Any:  # type: ignore[override]
        if isinstance(key, str):
            return self._values[self._names[key]]
        return self._values[key]

    def __len__(self) -> int:
        return len(self._values)

    def keys(self) -> list[str]:
        return list(self._names)


_PLACEHOLDER = re.compile(r"[?%]")


def _postgres_sql(sql: str) -> str:
    """`?` -> `%s`, and a literal `%` (LIKE 'x%') doubled, as psycopg reads a query."""
    return _PLACEHOLDER.sub(lambda match: "%s" if match.group() == "?" else "%%", sql)


# A server host that vanished (power, network) answers nothing, and a run waiting on its
# reply would wait for the kernel's defaults, two hours and more, holding the lock every
# other run of the store waits behind. libpq's TCP probes end the wait in about 90 s, and
# a send unacknowledged for 2 minutes ends it too. A busy but live server acknowledges the
# probes: a long statement is not cut. A value the storage URL sets wins.
_CONNECTION_DEFAULTS = {
    "connect_timeout": "10",
    "keepalives": "1",
    "keepalives_idle": "60",
    "keepalives_interval": "10",
    "keepalives_count": "3",
    "tcp_user_timeout": "120000",
    "application_name": "digest",
}


class PostgresConnection:
    dialect = "postgresql"

    def __init__(self, url: str):
        import psycopg

        self._psycopg = psycopg
        self.errors = (psycopg.Error,)
        self._sql: dict[str, str] = {}
        # autocommit: a statement outside begin()..commit() commits alone, as SQLite's
        # autocommit mode does; the store opens its transactions itself.
        from psycopg.conninfo import conninfo_to_dict

        params = {**_CONNECTION_DEFAULTS, **conninfo_to_dict(url)}
        if os.environ.get(PASSWORD_VARIABLE):
            params["password"] = os.environ[PASSWORD_VARIABLE]
        self.raw = psycopg.connect(autocommit=True, row_factory=_row_factory, **params)

    def hint(self, error: Exception) -> str:
        # The connection, not a statement: a closed or broken connection, SQLSTATE class 08
        # (connection exception) or 57P01-57P03 (the server shutting down or starting).
        # Not the rest of OperationalError: a deadlock, a statement timeout, a full disk.
        state = getattr(error, "sqlstate", None) or ""
        if self.raw.broken or state.startswith("08") or state in ("57P01", "57P02", "57P03"):
            return (
                "the connection to PostgreSQL was lost: run again once the server is back; "
                "nothing is lost, and a digest staged before is sent then"
            )
        return ""

    def _translated(self, sql: str) -> str:
        translated = self._sql.get(sql)
        if translated is None:
            translated = self._sql[sql] = _postgres_sql(sql)
        return translated

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Cursor:
        return self.raw.execute(self._translated(sql), tuple(params))  # type: ignore[arg-type,return-value]

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        with self.raw.cursor() as cursor:
            cursor.executemany(self._translated(sql), rows)  # type: ignore[arg-type]

    def stream(self, sql: str) -> Iterator[Any]:
        # A server-side cursor: psycopg's default one fetches the whole result first.
        with self.raw.cursor(name="digest_stream") as cursor:
            cursor.itersize = STREAM_ROWS
            cursor.execute(self._translated(sql))
            yield from cursor

    def insert(self, sql: str, params: Sequence[Any] = ()) -> int:
        row = self.execute(sql + " RETURNING id", params).fetchone()
        return int(row[0])

    def has_table(self, name: str) -> bool:
        # In the schema CREATE TABLE would make it in (the first of the search path), not
        # anywhere on the path: another application's `migrations` in a later schema is
        # not ours.
        sql = (
            "SELECT EXISTS (SELECT 1 FROM pg_tables "
            "WHERE schemaname = current_schema() AND tablename = ?)"
        )
        return bool(self.execute(sql, (name,)).fetchone()[0])

    def begin(self, patience: float | None = None) -> None:
        # A PostgreSQL writer waits for the rows another holds as long as it takes (no
        # lock_timeout is set): no patience to give.
        self.raw.execute("BEGIN")

    def commit(self) -> None:
        self.raw.execute("COMMIT")

    def rollback(self) -> None:
        self.raw.execute("ROLLBACK")

    def close(self) -> None:
        self.raw.close()


def _row_factory(cursor: Any) -> Any:
    names = {column.name: index for index, column in enumerate(cursor.description or ())}
    return lambda values: Row(names, values)


def open_connection(storage: Path | str) -> Connection:
    if is_database_url(storage):
        return PostgresConnection(str(storage))
    path = Path(storage)
    path.parent.mkdir(parents=True, exist_ok=True)
    return SQLiteConnection(path)
