"""`digest copy-state`: a digest's state moved into another store (SQLite into the
PostgreSQL server the tests start, and back) keeps what it sent, through the real command:
the first run on the new store finds nothing new, and new rows there take new ids."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

import psycopg
import pytest
from conftest import DEMO_FEEDS, run_cli, smtp_delivery, stderr_lines, write_config

from digest import StoreError, copy_state
from digest.store import Store


def _storage(config, storage: str) -> None:
    text = config.read_text()
    old = next(line for line in text.splitlines() if line.startswith("storage: "))
    config.write_text(text.replace(old, f"storage: {storage}"))


def _count(url: str, table: str) -> int:
    with psycopg.connect(url) as db:
        return db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]


@pytest.mark.postgres
def test_a_digest_moved_to_postgresql_and_back_sends_nothing_twice(
    postgres_server, tmp_path, site, smtp_server
):
    delivery = smtp_delivery(smtp_server)
    config = write_config(tmp_path, site.base_url, delivery=delivery, feeds=DEMO_FEEDS[:3])
    first = run_cli("run", "--config", str(config))
    assert first.returncode == 0, first.stderr
    assert len(smtp_server.messages) == 1
    sqlite_articles = (
        sqlite3.connect(tmp_path / "state" / "digest.db")
        .execute("SELECT COUNT(*) FROM articles")
        .fetchone()[0]
    )

    url = postgres_server.database()
    copied = run_cli("copy-state", "--config", str(config), "--to", url)
    assert copied.returncode == 0, copied.stderr
    assert f"into {url}" in copied.stdout and f"storage: {url}" in copied.stdout
    assert f"{sqlite_articles} articles" in copied.stdout
    assert _count(url, "articles") == sqlite_articles

    _storage(config, url)
    again = run_cli("run", "--config", str(config))
    assert again.returncode == 0 and "nothing new" in again.stdout, again.stderr
    assert len(smtp_server.messages) == 1
    # A feed added on the new store: its articles, stories and the digest take ids after
    # the copied ones (a sequence left at 1 would collide with the first copied row).
    config.write_text(config.read_text() + _feed_yaml(site.base_url, DEMO_FEEDS[3]))
    grown = run_cli("run", "--config", str(config))
    assert grown.returncode == 0 and "delivered" in grown.stdout, grown.stderr
    assert len(smtp_server.messages) == 2
    assert _count(url, "articles") > sqlite_articles

    # And back, into a new SQLite file: still nothing new.
    back = tmp_path / "moved" / "digest.db"
    returned = run_cli("copy-state", "--config", str(config), "--to", str(back))
    assert returned.returncode == 0, returned.stderr
    _storage(config, str(back))
    last = run_cli("run", "--config", str(config))
    assert last.returncode == 0 and "nothing new" in last.stdout, last.stderr
    assert len(smtp_server.messages) == 2


def _feed_yaml(base_url: str, feed: tuple[str, str, str]) -> str:
    name, path, section = feed
    return f"  - name: {name}\n    url: {base_url}/{path}\n    section: {section}\n"


def test_a_store_that_holds_state_is_not_copied_into(tmp_path, site):
    config = write_config(tmp_path, site.base_url, feeds=DEMO_FEEDS[:1])
    assert run_cli("run", "--config", str(config)).returncode == 0
    target = tmp_path / "other.db"
    assert run_cli("copy-state", "--config", str(config), "--to", str(target)).returncode == 0
    before = target.read_bytes()

    again = run_cli("copy-state", "--config", str(config), "--to", str(target))
    assert again.returncode == 1
    assert stderr_lines(again.stderr) == [
        f"digest: {target}: already holds state (rows in feeds); copy into a new, "
        "empty SQLite file or PostgreSQL database, so that no digest's record is mixed with "
        "another's"
    ]
    assert target.read_bytes() == before
    same = run_cli("copy-state", "--config", str(config), "--to", "state/digest.db", cwd=tmp_path)
    assert same.returncode == 1 and "the source and the target are the same store" in same.stderr


def test_a_missing_state_is_not_copied_as_an_empty_one(tmp_path):
    with pytest.raises(StoreError, match=r"no state there to copy"):
        copy_state(tmp_path / "typo.db", tmp_path / "new.db")
    assert not (tmp_path / "typo.db").exists() and not (tmp_path / "new.db").exists()


def test_a_running_digest_is_not_copied(tmp_path):
    source = tmp_path / "state.db"
    store = Store.open(source, "morning")
    try:
        running = pytest.raises(StoreError, match=r"a run of digest 'morning' is in progress")
        with store.run_lock(datetime.now(UTC)), running:
            copy_state(source, tmp_path / "new.db")
    finally:
        store.close()
    copied = copy_state(source, tmp_path / "new.db")  # once it has finished
    assert copied.rows["runs"] == 1


def test_a_store_a_newer_version_migrated_is_refused(tmp_path):
    source, target = tmp_path / "state.db", tmp_path / "new.db"
    Store.open(source).close()
    Store.open(target).close()
    with sqlite3.connect(target) as db:
        db.execute("INSERT INTO migrations VALUES ('099_from_the_future', '2027-01-01')")
    with pytest.raises(StoreError, match=r"new.db: a newer version of digest migrated it"):
        copy_state(source, target)


def test_another_applications_tables_stay_where_they_are(tmp_path):
    source, target = tmp_path / "state.db", tmp_path / "new.db"
    Store.open(source).close()
    Store.open(target).close()
    for path in (source, target):  # a database the digest shares with another application
        with sqlite3.connect(path) as db:
            db.execute("CREATE TABLE spatial_ref_sys (srid INTEGER PRIMARY KEY)")
            db.execute("INSERT INTO spatial_ref_sys VALUES (4326)")
    copied = copy_state(source, target)
    assert "spatial_ref_sys" not in copied.rows and "articles" in copied.rows


@pytest.mark.postgres
def test_a_run_on_another_machine_holds_a_postgresql_state(postgres_server, tmp_path):
    """On PostgreSQL the run lock is the server's advisory lock: a run whose pid this
    machine cannot see (another host or container) still holds it."""
    url = postgres_server.database()
    store = Store.open(url, "morning")
    try:
        with store.run_lock(datetime.now(UTC)) as run_id:
            with psycopg.connect(url, autocommit=True) as db:  # as a run elsewhere leaves it
                db.execute(
                    "UPDATE runs SET pid = 4000000, host = 'db-worker-2', token = 'theirs' "
                    "WHERE id = %s",
                    (run_id,),
                )
            with pytest.raises(StoreError, match=r"pid 4000000 on db-worker-2"):
                copy_state(url, tmp_path / "new.db")
    finally:
        store.close()
    assert copy_state(url, tmp_path / "new.db").rows["runs"] == 1  # once it has finished


def test_a_password_in_the_target_url_is_refused_and_never_shown(tmp_path, site):
    config = write_config(tmp_path, site.base_url, feeds=DEMO_FEEDS[:1])
    for target in (
        "postgresql://digest:s3cret@127.0.0.1:9/x",
        "postgresql://d@127.0.0.1:9/x?password=s3cret",
    ):
        refused = run_cli("copy-state", "--config", str(config), "--to", target)
        assert refused.returncode == 1 and "holds a password" in refused.stderr
        assert "s3cret" not in refused.stdout + refused.stderr


def test_one_database_named_two_ways_is_the_same_store():
    """libpq reads postgres:// as postgresql:// and host names in any case: refused as the
    same store (it was refused only once connected, as a target holding state)."""
    with pytest.raises(StoreError, match="the source and the target are the same store"):
        copy_state("postgres://digest@DB.example/news", "postgresql://digest@db.example/news")
