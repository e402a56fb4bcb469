"""A real PostgreSQL server for the tests: initdb and pg_ctl on a temporary folder, listening
on 127.0.0.1 at a free port, started once per session (`postgres_server` in conftest.py) and
stopped at its end. Each test takes a fresh database of its own (`PostgresServer.database`).

PostgreSQL refuses to run as root: as root (CI) the server runs as the `postgres` user,
which the Debian package creates. Without initdb the PostgreSQL tests skip with the reason,
except under CI (CI=true), where .ci/run installs it and its absence fails them."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

# Where Debian keeps the server's programs when they are not on PATH.
DEBIAN_BINARIES = "/usr/lib/postgresql/*/bin"
SERVER_USER = "postgres"  # the account the server runs as when the tests run as root
DATABASE_USER = "digest"


def find_binaries() -> Path | None:
    """The folder holding initdb and pg_ctl, on PATH or where Debian installs them."""
    on_path = shutil.which("initdb")
    if on_path and shutil.which("pg_ctl"):
        return Path(on_path).resolve().parent
    for folder in sorted(glob.glob(DEBIAN_BINARIES), reverse=True):
        if (Path(folder) / "initdb").exists() and (Path(folder) / "pg_ctl").exists():
            return Path(folder)
    return None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class PostgresServer:
    binaries: Path
    folder: Path
    port: int
    host: str = "127.0.0.1"

    @property
    def data(self) -> Path:
        return self.folder / "data"

    def _as_server_user(self, command: Sequence[str]) -> list[str]:
        if os.geteuid() != 0:
            return list(command)
        return ["runuser", "-u", SERVER_USER, "--", *command]

    def _run(self, *command: str) -> None:
        done = subprocess.run(
            self._as_server_user(command),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            cwd=self.folder,
        )
        if done.returncode != 0:
            raise RuntimeError(f"{command[0]} failed: {done.stderr.strip() or done.stdout}")

    def start(self) -> None:
        if os.geteuid() == 0:
            try:
                server = pwd.getpwnam(SERVER_USER)
            except KeyError:
                raise RuntimeError(
                    f"PostgreSQL does not run as root, and there is no {SERVER_USER!r} user "
                    "to run it as (the postgresql package creates it)"
                ) from None
            os.chown(self.folder, server.pw_uid, server.pw_gid)
        self._run(
            str(self.binaries / "initdb"), "-D", str(self.data), "-U", DATABASE_USER,
            "--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync",
        )  # fmt: skip
        # fsync off: the tests kill clients, never the server; shared_buffers small: one
        # session's server beside the suite on a small machine.
        options = (
            f"-c listen_addresses={self.host} -c port={self.port} "
            f"-c unix_socket_directories={self.folder} -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c shared_buffers=32MB "
            "-c max_connections=100"
        )
        self._run(
            str(self.binaries / "pg_ctl"), "-D", str(self.data), "-o", options,
            "-l", str(self.folder / "server.log"), "-w", "-t", "60", "start",
        )  # fmt: skip

    def stop(self) -> None:
        try:
            self._run(str(self.binaries / "pg_ctl"), "-D", str(self.data), "-m", "immediate",
                      "-w", "stop")  # fmt: skip
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{DATABASE_USER}@{self.host}:{self.port}/{database}"

    def database(self) -> str:
        """A new empty database; returns its URL (a `storage:` value)."""
        import psycopg

        name = f"digest_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.url(), autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


def start_server() -> PostgresServer:
    binaries = find_binaries()
    if binaries is None:
        raise FileNotFoundError(
            "initdb and pg_ctl are not installed (neither on PATH nor in "
            f"{DEBIAN_BINARIES}); install the postgresql package"
        )
    # Not under pytest's tmp folder: the server's user must reach it, and a unix socket's
    # path must stay short.
    folder = Path(tempfile.mkdtemp(prefix="digest-pg-"))
    server = PostgresServer(binaries, folder, _free_port())
    try:
        server.start()
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return server
