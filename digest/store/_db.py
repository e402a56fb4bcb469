"""The database under the store: connection, transactions, migrations and the run lock.

A SQLite file (the default) or a PostgreSQL database (`storage: postgresql://...`), both
through one `Connection` (_connection.py). `Store` (_state.py) builds on this: `StateDB`
knows nothing of feeds or articles.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import logging
import os
import re
import socket
import time
import uuid
import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Self, TypeVar

from .. import crash_points
from ..errors import RunLocked, SharedDigest, StoreError, StoreUnavailable
from ..text import one_line
from ._connection import Connection, SQLiteConnection, is_database_url, open_connection, shown
from ._migrations import migrations_for

log = logging.getLogger("digest")

# Where a pid's start time cannot be read, a live pid keeps the lock at most this long.
STALE_LOCK = timedelta(hours=6)
# How long a run tries for the lock file before it gives up: a look whether a run holds it
# (lock_file_held, for `digest status`) takes it shared for an instant, and must not turn a
# run starting in that instant away.
LOCK_PATIENCE = 1.0  # seconds
# What flock() answers on a filesystem that keeps no locks (some NFS setups, FUSE).
_NO_LOCKS = {errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOTSUP, errno.ENOSYS, errno.EINVAL}


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text)


_Value = TypeVar("_Value")
# Values bound per query with an IN list (SQLite allows 999 parameters before 3.32).
VALUES_PER_QUERY = 500


def in_chunks(values: Iterable[_Value]) -> Iterator[tuple[list[_Value], str]]:
    """`values` without repeats, VALUES_PER_QUERY at a time, each with the "?, ?, ..." of
    its IN list."""
    wanted = list(dict.fromkeys(values))
    for start in range(0, len(wanted), VALUES_PER_QUERY):
        chunk = wanted[start : start + VALUES_PER_QUERY]
        yield chunk, ", ".join("?" * len(chunk))


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
    """One SQLite file or PostgreSQL database, as the digest keyed `digest` sees it ('' for
    the store's unnamed digest: config `id`). Open with `Store.open(storage, digest)`; close
    when done. `path` is the SQLite file (None on PostgreSQL); `where` names the state in
    messages (a URL without its password)."""

    def __init__(self, connection: Connection, storage: Path | str, digest: str = ""):
        self.db = connection
        self.storage = storage
        self.path: Path | None = None if is_database_url(storage) else Path(storage)
        self.where = shown(storage) + (f" (digest {digest!r})" if digest else "")
        self.digest = digest
        self._failed: dict[int, str] = {}  # run id -> why it failed though nothing raised

    @classmethod
    def open(cls, storage: Path | str, digest: str = "") -> Self:
        where = shown(storage)
        try:
            connection = open_connection(storage)
        except OSError as error:
            raise StoreError(f"{where}: cannot create the state folder: {error}") from None
        except Exception as error:  # the driver's own (sqlite3.Error, psycopg.Error)
            # libpq's reasons span lines, each a sentence without a full stop.
            reason = "; ".join(
                " ".join(line.split()) for line in str(error).splitlines() if line.strip()
            )
            unreachable = is_database_url(storage) and _server_away(reason)
            raise (StoreUnavailable if unreachable else StoreError)(
                f"{where}: cannot open the state database: {reason}{_fix_for(reason)}"
            ) from None
        store = cls(connection, storage, digest)
        try:
            store.migrate()
        except connection.errors as error:
            # The server going away while the tables are checked: the same as mid-run.
            away = connection.hint(error) if store.path is None else ""
            store.close()
            # The server's first line; psycopg adds the statement and a caret under it.
            reason = one_line(str(error).strip().split("\n", 1)[0])
            raise (StoreUnavailable if away else StoreError)(
                f"{where}: cannot open the state database: {reason}"
                + (f"; {away}" if away else _fix_for(reason))
            ) from None
        return store

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def transaction(
        self, step: str | None = None, *, patience: float | None = None
    ) -> Iterator[Connection]:
        """One transaction; `step` names it as a crash point of the tests (crash_points.py),
        `patience` is how long it may wait for another process's write lock (SQLite)."""
        with crash_points.around(step):
            self.db.begin(patience)
            try:
                yield self.db
            except BaseException:
                self.db.rollback()
                raise
            self.db.commit()

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        """A step of several transactions, named as one crash point of the tests: `before-`
        nothing of it is written, `after-` its last transaction is committed."""
        with crash_points.around(name):
            yield

    @contextmanager
    def errors_named(self) -> Iterator[None]:
        """Turn database failures mid-run (locked, disk full, connection lost) into one line
        naming the state."""
        try:
            yield
        except self.db.errors as error:
            hint = self.db.hint(error)
            # On PostgreSQL the only hint is a lost connection: the server may come back.
            kind = StoreUnavailable if hint and self.path is None else StoreError
            raise kind(
                f"{self.where}: state database error: {one_line(str(error))}"
                + (f"; {hint}" if hint else "")
            ) from None

    def migrate(self) -> list[str]:
        """Apply the migrations not yet applied; returns their names. A store whose schema
        is current is only read: opening it never waits for another run's writes."""
        if not self.db.has_table("migrations"):
            with self.transaction() as db:
                self._lock_schema(db)
                db.execute(
                    "CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY, "
                    "applied TEXT NOT NULL)"
                )
        done = {row[0] for row in self.db.execute("SELECT name FROM migrations")}
        applied = []
        for name, script in migrations_for(self.db.dialect):
            if name in done:
                continue
            with self.transaction() as db:
                self._lock_schema(db)
                # Another process may have applied it since we looked.
                if db.execute("SELECT 1 FROM migrations WHERE name = ?", (name,)).fetchone():
                    continue
                for statement in script.split(";"):
                    if statement.strip():
                        db.execute(statement)
                db.execute("INSERT INTO migrations VALUES (?, ?)", (name, _iso(datetime.now(UTC))))
            applied.append(name)
        return applied

    def _lock_schema(self, db: Connection) -> None:
        """On PostgreSQL, one process at a time changes the schema (until its transaction
        ends): two runs starting together on a new database must not both create a table.
        SQLite's BEGIN IMMEDIATE already takes the file's write lock."""
        if db.dialect == "postgresql":
            db.execute("SELECT pg_advisory_xact_lock(?, ?)", (_LOCK_SPACE, 0))

    # -- run lock ----------------------------------------------------------------------

    @contextmanager
    def run_lock(
        self, now: datetime, *, preview: bool = False, config: Path | None = None
    ) -> Iterator[int]:
        """Hold the digest's run lock for the block; yields the run's row in `runs`.

        Two parts. The lock itself is an OS file lock (flock) on `<state>.lock`, beside the
        state: the kernel (or the file server) keeps it for exactly as long as the run's
        process lives, whatever PID namespace or machine that process is in, and flock
        belongs to an open file, so two threads of one process (the daemon) exclude each
        other too. The pid record is the run's row in `runs`, without `finished` while it
        runs: it names the holder in the message a second run exits with and in
        `digest status`, and a row left open by a run that died is marked 'died' by the
        next run, which gets the file lock since the dead process let go of it.

        The row is still weighed as a lock (a run of an older digest takes no file lock,
        and some filesystems keep none): its run is alive while the row's token is held
        in this process, or while its pid runs *and* still belongs to the process that
        took it (same start time, read from /proc); where the start time cannot be read
        (not Linux), a pid that lives keeps it for STALE_LOCK.

        A preview holds the lock too (it stores pending articles and ETags); its row is
        marked 'preview' (detail while it runs, outcome when it ends), so that neither
        `digest status` nor the daemon's catch-up takes it for a run.

        `config`, the config file the run was started from, is recorded with it; a run
        from another config file, on this machine and still there, holds the digest already
        (`SharedDigest`): two configs on one state under one id would each find the other's
        stories sent.
        """
        with self._exclusive():
            with self.transaction() as db:
                if config is not None:
                    shared = _shared_digest(db, self.digest, self.where, config)
                    if shared is not None:
                        raise shared
                for row in db.execute(
                    "SELECT * FROM runs WHERE digest = ? AND finished IS NULL", (self.digest,)
                ):
                    if self._alive(row, now):
                        raise RunLocked(
                            f"{self.where}: another run of this digest (pid {row['pid']}"
                            f"{_on_host(row)}, "
                            f"started {row['started']}) is in progress; wait for it to "
                            f"finish, or stop that process if it hangs"
                        )
                    db.execute(
                        "UPDATE runs SET finished = ?, outcome = 'died', detail = ? WHERE id = ?",
                        (_iso(now), died_reason(row["pid"], self.path is None), row["id"]),
                    )
                token = uuid.uuid4().hex
                run_id = db.insert(
                    "INSERT INTO runs (pid, started, process_start, token, detail, kind, digest, "
                    "host, config) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        os.getpid(),
                        _iso(now),
                        _process_start(os.getpid()),
                        token,
                        "preview" if preview else None,
                        "preview" if preview else "run",
                        self.digest,
                        socket.gethostname(),
                        str(config.absolute()) if config is not None else None,
                    ),
                )
            with self._run_row(run_id, token, preview):
                yield run_id

    def shared_digest(self, config: Path) -> SharedDigest | None:
        """The error a run from `config` meets when another config file, on this machine
        and still there, started the last run of this digest that named its config."""
        return _shared_digest(self.db, self.digest, self.where, config)

    @classmethod
    def shared_digest_in(cls, path: Path, digest: str, config: Path) -> SharedDigest | None:
        """`shared_digest` of the SQLite state at `path`, read only: `digest check` writes no
        state, not even a migration (a state older than 013_run_config names no config)."""
        try:
            db = SQLiteConnection(path, read_only=True)
        except SQLiteConnection.errors:
            return None
        try:
            return _shared_digest(db, digest, shown(path), config)
        except SQLiteConnection.errors:
            return None
        finally:
            db.close()

    @contextmanager
    def _run_row(self, run_id: int, token: str, preview: bool) -> Iterator[None]:
        """Record how the run of `run_id` ended (its outcome, or why it failed)."""
        _HELD_HERE.add(token)
        outcome, detail = "failed", None
        try:
            yield
            outcome = "preview" if preview else "ok"
            if run_id in self._failed:  # Store.fail_run: the run's block returned, failed
                outcome, detail = "failed", self._failed.pop(run_id)
        except BaseException as error:
            detail = str(error) or (
                "interrupted" if isinstance(error, KeyboardInterrupt) else type(error).__name__
            )
            if preview:
                detail = f"preview: {detail}"
            raise
        finally:
            _HELD_HERE.discard(token)
            self._record_outcome(run_id, outcome, detail)

    def _record_outcome(self, run_id: int, outcome: str, detail: str | None) -> None:
        """Write how the run ended. A run that failed because its PostgreSQL connection was
        lost (a server restart) writes it on a new connection, tried for RECONNECT_SECONDS:
        else `digest status` showed it as died, for as long as until the next run. A
        failure here leaves the row open; the token no longer held here lets the next run
        (even in this same daemon process) take it over as 'died'."""
        update = (
            "UPDATE runs SET finished = ?, outcome = ?, detail = COALESCE(?, detail) WHERE id = ?",
            (_iso(datetime.now(UTC)), outcome, detail, run_id),
        )
        try:
            self.db.execute(*update)
            return
        except self.db.errors:
            if self.path is not None:
                return
        deadline = time.monotonic() + RECONNECT_SECONDS
        pause = 0.5
        while True:
            try:
                fresh = open_connection(self.storage)
            except Exception:  # the driver's own: the server is not back yet
                if time.monotonic() + pause > deadline:
                    return
                time.sleep(pause)
                pause *= 2
                continue
            try:
                with contextlib.suppress(*fresh.errors):
                    fresh.execute(*update)
            finally:
                fresh.close()
            return

    def _alive(self, row: Any, now: datetime) -> bool:
        """Whether the run of an open `runs` row still runs, for a run that holds the lock.
        On PostgreSQL the advisory lock says it all: a run on any machine holds it as long
        as its connection lives, so a row left open by another connection is a dead run's
        (unless this very process holds it, in another thread)."""
        if self.path is None:
            return row["token"] in _HELD_HERE
        return _holder_alive(row, now)

    @contextmanager
    def _exclusive(self) -> Iterator[None]:
        """The lock itself: flock on `<state>.lock` beside a SQLite file, an advisory lock of
        the database server on PostgreSQL."""
        if self.path is None:
            with self._advisory_lock():
                yield
        else:
            with self._lock_file(lock_path(self.path, self.digest)):
                yield

    @contextmanager
    def _advisory_lock(self) -> Iterator[None]:
        """Hold the digest's session-level advisory lock for the block, or raise RunLocked.
        The server lets it go when the connection ends: a run killed on any machine frees
        it as soon as the server sees its connection close."""
        key = (_LOCK_SPACE + 1, _signed(zlib.crc32(self.digest.encode())))
        deadline = time.monotonic() + LOCK_PATIENCE
        while not self.db.execute("SELECT pg_try_advisory_lock(?, ?)", key).fetchone()[0]:
            if time.monotonic() >= deadline:
                raise RunLocked(self._held_elsewhere("its advisory lock"))
            time.sleep(0.05)
        try:
            yield
        finally:
            with contextlib.suppress(*self.db.errors):
                self.db.execute("SELECT pg_advisory_unlock(?, ?)", key)

    @contextmanager
    def _lock_file(self, path: Path) -> Iterator[None]:
        """Hold flock(LOCK_EX) on `path` for the block, or raise RunLocked naming the run
        that holds it. Closing the file (or the end of the process) lets it go."""
        try:
            # O_CLOEXEC: a program the run starts must not keep the lock after the run ends.
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError as error:
            raise StoreError(
                f"{path}: cannot open the run lock file: {error.strerror or error}; the "
                "state's folder must be writable"
            ) from None
        try:
            try:
                taken = _flock(fd, fcntl.LOCK_EX, LOCK_PATIENCE)
            except OSError as error:
                if error.errno not in _NO_LOCKS:
                    raise StoreError(
                        f"{path}: cannot lock the run lock file: {error.strerror or error}"
                    ) from None
                log.warning(
                    "%s: the filesystem keeps no file locks (%s); only the pid record in the "
                    "state keeps a second run out, and it cannot see runs in other "
                    "containers or on other machines",
                    path,
                    error.strerror or error,
                )
                taken = True
            if not taken:
                raise RunLocked(self._held_elsewhere(path.name))
            yield
        finally:
            os.close(fd)

    def _held_elsewhere(self, lock: str) -> str:
        """The message for a run that found the lock held: who holds it, from `runs`."""
        row = self.db.execute(
            "SELECT * FROM runs WHERE digest = ? AND finished IS NULL ORDER BY id DESC LIMIT 1",
            (self.digest,),
        ).fetchone()
        if row is None:  # between its lock and its row, or a run that keeps no row
            holder = "another run of this digest"
        else:
            where = (
                _on_host(row)
                if self.path is None
                else ""
                if _pid_here(row)
                else " in another PID namespace or machine"
            )
            holder = (
                f"another run of this digest (pid {row['pid']}{where}, started {row['started']})"
            )
        return (
            f"{self.where}: {holder} is in progress and holds {lock}; wait for it to "
            "finish, or stop that process if it hangs"
        )

    def run_lock_held(self) -> bool | None:
        """Whether a run of this digest holds its run lock now, on any machine (for `digest
        status`); None when that cannot be told. Takes the lock for an instant when free."""
        if self.path is not None:
            return lock_file_held(self.path, self.digest)
        key = (_LOCK_SPACE + 1, _signed(zlib.crc32(self.digest.encode())))
        if self.db.execute("SELECT pg_try_advisory_lock(?, ?)", key).fetchone()[0]:
            self.db.execute("SELECT pg_advisory_unlock(?, ?)", key)
            return False
        return True

    def fail_run(self, run_id: int, reason: str) -> None:
        """The run ends 'failed' for `reason` though its block returns (every feed failed, a
        recipient refused: `digest run` exits 1), as `digest status` then shows it. Kept
        until the run lock lets go, so that a run that dies first is 'died', not 'failed'."""
        self._failed[run_id] = reason

    def note_run(self, run_id: int, detail: str) -> None:
        """What a run or preview did, shown by `digest status` (kept when it ends well)."""
        self.db.execute("UPDATE runs SET detail = ? WHERE id = ?", (detail, run_id))


# The first key of the advisory locks taken on PostgreSQL ("dges"): the schema's (second
# key 0) while migrating; the next, with a digest's second key, its run lock.
_LOCK_SPACE = 0x64676573
# Tokens of the run locks this process holds now (the daemon runs digests in threads).
_HELD_HERE: set[str] = set()


# How long a run that lost its PostgreSQL connection tries a new one to record its outcome.
RECONNECT_SECONDS = 8.0


def died_reason(pid: int, database: bool = False) -> str:
    """Why a run row was left open: its process ended (killed) before recording an outcome,
    or, on PostgreSQL (`database`), its connection did, whose advisory lock is the lock."""
    if database:
        return (
            f"interrupted: its connection to the database ended before it recorded how the "
            f"run ended (process {pid})"
        )
    return f"interrupted: process {pid} no longer running"


def lock_path(state: Path, digest: str = "") -> Path:
    """The file whose OS lock a run of the digest of `state` holds: `<state>.lock`, or
    `<state>.<id>.lock` for the digest of that `id` in a shared state."""
    return state.with_name(f"{state.name}.{digest}.lock" if digest else f"{state.name}.lock")


def _on_host(row: Any) -> str:
    """ " on host NAME" for a `runs` row that names its machine."""
    keys = row.keys()
    return f" on host {row['host']}" if "host" in keys and row["host"] else ""


def _signed(number: int) -> int:
    """A 32-bit unsigned number as the signed int4 an advisory lock key is."""
    return number - (1 << 32) if number >= 1 << 31 else number


def lock_file_held(state: Path, digest: str = "") -> bool | None:
    """Whether a run holds the lock file of `state` now; None when that cannot be told (no
    lock file yet, or a filesystem without locks). Takes the lock shared for an instant, so
    a run starting in that instant waits for it (LOCK_PATIENCE) rather than being refused."""
    try:
        fd = os.open(lock_path(state, digest), os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        return not _flock(fd, fcntl.LOCK_SH, 0)
    except OSError:
        return None
    finally:
        os.close(fd)  # lets go of the shared lock, if it was taken


def _flock(fd: int, kind: int, patience: float) -> bool:
    """flock(fd, kind) without blocking, tried again for `patience` seconds; False when
    another open file holds a lock that excludes it all that time."""
    deadline = time.monotonic() + patience
    while True:
        try:
            fcntl.flock(fd, kind | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.05)


def holder_alive(row: Any, now: datetime, state: Path | None = None, digest: str = "") -> bool:
    """Whether the run of this open `runs` row still holds the lock (for `digest status`).

    With `state` (the state file), a run that holds its lock file counts as alive although
    its pid is not one this process can see (another container or machine)."""
    if _holder_alive(row, now):
        return True
    return state is not None and lock_file_held(state, digest) is True


def _pid_here(row: Any) -> bool:
    """Whether the pid of a `runs` row names, in this PID namespace, the process that wrote
    it: this very process (a thread of the daemon), or a live one that started when it did."""
    pid = row["pid"]
    if pid == os.getpid():
        return row["token"] in _HELD_HERE
    current = _process_start(pid)
    if current is not None:
        return row["process_start"] in (None, current)
    try:
        os.kill(pid, 0)  # no /proc to read (not Linux)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # another user's process: it exists
    return True


def _holder_alive(row: Any, now: datetime) -> bool:
    keys = row.keys()
    token = row["token"] if "token" in keys else None
    started = row["process_start"] if "process_start" in keys else None
    pid = row["pid"]
    if token is not None and token in _HELD_HERE:
        return True
    if pid == os.getpid():
        # Not held here, so not this process's: a leftover of an earlier process with this
        # pid, or a run of another PID namespace (every container's first process is pid 1),
        # which the lock file, not this row, keeps out while it lives.
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


def _shared_digest(db: Any, digest: str, where: str, config: Path) -> SharedDigest | None:
    """SharedDigest when the last run of `digest` that named its config file was started,
    on this machine, from another file than `config` that is still there. Paths are
    compared as given (absolute), not resolved: a deploy whose config path is a symlink
    switched to a new release is the same config; and a file that is the same one under
    another name (`samefile`) is too."""
    row = db.execute(
        "SELECT config, host FROM runs WHERE digest = ? AND config IS NOT NULL "
        "ORDER BY id DESC LIMIT 1",
        (digest,),
    ).fetchone()
    if row is None or row["host"] != socket.gethostname():
        return None  # a path on another machine says nothing about this one's files
    other, ours = Path(row["config"]), config.absolute()
    try:
        if other == ours or not other.is_file() or other.samefile(ours):
            return None
    except OSError:
        return None
    name = f"id {digest!r}" if digest else "no id"
    return SharedDigest(
        f"{ours}: storage: {where} is also the state of {other}, with {name}; give each "
        "digest sharing a storage its own `id`, or its own storage (if that config is gone "
        "for good, delete or rename that file)"
    )


# What to do about PostgreSQL's usual refusals, which libpq words for a DBA.
_FIXES = (
    ("no password supplied", "set DIGEST_STORAGE_PASSWORD to the role's password"),
    ("password authentication failed", "check DIGEST_STORAGE_PASSWORD and the user in the URL"),
    ("does not exist", "create it first (createuser, createdb: docs/scaling.md)"),
)


# libpq's words for a server that is not there (yet): down, restarting or recovering from
# a crash, out of reach, its name not resolved (a container that is down). A failed
# connection has no SQLSTATE to go by, and psycopg joins the words of every address it
# tried: one that refused (IPv6) beside one that answered "password authentication failed"
# is no server away, and those answers (_SERVER_ANSWERED) win.
_SERVER_AWAY = (
    "Connection refused",
    "the database system is starting up",
    "the database system is in recovery mode",
    "the database system is not yet accepting connections",
    "the database system is shutting down",
    "timeout expired",
    "server closed the connection unexpectedly",
    "No route to host",
    "failed to resolve host",
    "Temporary failure in name resolution",
)
_SERVER_ANSWERED = (
    "password authentication failed",
    "no password supplied",
    "does not exist",
    "permission denied",
    "no pg_hba.conf entry",
    "SSL",
)


def _server_away(reason: str) -> bool:
    """Whether a failed connection's `reason` says the server is away, not that it said no."""
    return any(words in reason for words in _SERVER_AWAY) and not any(
        words in reason for words in _SERVER_ANSWERED
    )


def _fix_for(reason: str) -> str:
    for words, fix in _FIXES:
        if words in reason:
            return f"; {fix}"
    if schema := re.search(r"permission denied for schema (\S+)", reason):
        return (
            "; the role makes its tables there: make it the database's owner (createdb "
            f"--owner ROLE), or GRANT CREATE ON SCHEMA {schema[1]} TO ROLE (docs/scaling.md)"
        )
    return ""
