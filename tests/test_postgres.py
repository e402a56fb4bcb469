"""A digest on PostgreSQL (`storage: postgresql://...`), through the real `digest` command,
against a real server the tests start on 127.0.0.1 (tests/pg_server.py, once per session):
it delivers, reruns with nothing new, keeps one run at a time, retries its outbox, and
survives SIGKILL at every crash point with each story delivered once."""

from __future__ import annotations

import signal
import socket
from collections import Counter
from datetime import UTC, datetime

import psycopg
import pytest
from conftest import DEMO_FEEDS, run_cli, smtp_delivery, write_config

from digest.cli._schedule import last_run_started
from digest.config import load_config
from digest.errors import StoreError
from digest.store._migrations import MIGRATIONS
from digest.store._state import Store

pytestmark = pytest.mark.postgres

RECIPIENTS = ("ana@example.org", "bo@example.org")


def _on_postgres(config, url: str):
    config.write_text(config.read_text().replace("storage: state/digest.db", f"storage: {url}"))
    return config


def _rows(url: str, query: str) -> list[tuple]:
    with psycopg.connect(url) as db:
        return db.execute(query).fetchall()


def test_the_same_migrations_build_a_postgresql_store_once(postgres_server):
    url = postgres_server.database()
    store = Store.open(url)
    store.close()
    again = Store.open(url)
    try:
        assert again.migrate() == []
        applied = [row[0] for row in again.db.execute("SELECT name FROM migrations ORDER BY name")]
        assert applied == [name for name, _ in MIGRATIONS]
    finally:
        again.close()


def test_a_digest_on_postgresql_delivers_then_finds_nothing_new(
    postgres_server, tmp_path, site, smtp_server
):
    url = postgres_server.database()
    delivery = smtp_delivery(smtp_server)
    config = _on_postgres(
        write_config(tmp_path, site.base_url, delivery=delivery, feeds=DEMO_FEEDS[:3]), url
    )
    first = run_cli("run", "--config", str(config))
    assert first.returncode == 0, first.stderr
    assert len(smtp_server.messages) == 1
    again = run_cli("run", "--config", str(config))
    assert again.returncode == 0 and "nothing new" in again.stdout, again.stderr
    assert len(smtp_server.messages) == 1
    assert not (tmp_path / "state").exists()  # no SQLite file beside the config
    # The daemon's catch-up reads the last run from the store.
    assert last_run_started(load_config(config)) is not None
    # And the runs that made their digest, which a second daemon asks of it.
    made = last_run_started(load_config(config), made=True)
    assert made is not None and made <= last_run_started(load_config(config))
    status = run_cli("status", "--config", str(config))
    assert status.returncode == 0, status.stderr
    assert f"state: {url}" in status.stdout and status.stdout.count("  ok  ") == 2
    outcomes = _rows(url, "SELECT outcome, digest, host FROM runs ORDER BY id")
    assert [row[0] for row in outcomes] == ["ok", "ok"]
    assert all(row[1] == "" and row[2] for row in outcomes)
    # A store of one unnamed digest keeps no pool for others.
    assert _rows(url, "SELECT (SELECT COUNT(*) FROM pool_feeds), COUNT(*) FROM pool_pages") == [
        (0, 0)
    ]


def test_a_second_run_is_refused_while_one_holds_the_lock(postgres_server, tmp_path, site):
    url = postgres_server.database()
    config = _on_postgres(write_config(tmp_path, site.base_url, feeds=DEMO_FEEDS[:1]), url)
    holder = Store.open(url)
    try:
        with holder.run_lock(datetime.now(UTC)):
            refused = run_cli("run", "--config", str(config))
            status = run_cli("status", "--config", str(config))
    finally:
        holder.close()
    assert refused.returncode != 0
    assert "is in progress and holds its advisory lock" in refused.stderr
    assert "running" in status.stdout and "died" not in status.stdout
    assert run_cli("run", "--config", str(config)).returncode == 0  # let go with the holder


def test_a_deferred_recipient_is_retried_from_the_postgresql_outbox(
    postgres_server, tmp_path, site, smtp_server
):
    url = postgres_server.database()
    smtp_server.defer.add(RECIPIENTS[1])
    delivery = smtp_delivery(smtp_server, to=f"[{', '.join(RECIPIENTS)}]")
    config = _on_postgres(
        write_config(tmp_path, site.base_url, delivery=delivery, feeds=DEMO_FEEDS[:2]), url
    )
    first = run_cli("run", "--config", str(config))
    assert first.returncode == 0, first.stderr
    assert [e[1] for e in smtp_server.envelopes] == [[RECIPIENTS[0]]]
    smtp_server.defer.clear()
    second = run_cli("run", "--config", str(config))
    assert second.returncode == 0, second.stderr
    assert [e[1] for e in smtp_server.envelopes] == [[RECIPIENTS[0]], [RECIPIENTS[1]]]
    ids = {m["Message-ID"] for m in smtp_server.messages}
    assert len(ids) == 2  # each recipient's own message, staged once
    statuses = _rows(url, "SELECT recipient, status FROM queued_messages ORDER BY id")
    assert statuses == [(RECIPIENTS[0], "sent"), (RECIPIENTS[1], "sent")]


def test_an_unreachable_postgresql_store_is_one_line(tmp_path, site):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        url = f"postgresql://digest@127.0.0.1:{probe.getsockname()[1]}/digest"
    config = _on_postgres(write_config(tmp_path, site.base_url, feeds=DEMO_FEEDS[:1]), url)
    failed = run_cli("run", "--config", str(config))
    assert failed.returncode != 0
    (line,) = failed.stderr.strip().splitlines()
    assert f"{url}: cannot open the state database: connection" in line, line
    # libpq's two lines read as two clauses, not run together ("refused Is the server...").
    assert "Connection refused; Is the server running" in line, line


@pytest.mark.parametrize(
    "point", ["before-problems", "after-stage", "after-sending", "before-sent", "after-sent"]
)
def test_a_run_killed_at_any_point_on_postgresql_then_rerun_delivers_every_story_once(
    point, postgres_server, tmp_path, site, smtp_server
):
    url = postgres_server.database()
    delivery = smtp_delivery(smtp_server, to=f"[{', '.join(RECIPIENTS)}]")
    config = _on_postgres(
        write_config(tmp_path, site.base_url, delivery=delivery, feeds=DEMO_FEEDS[:4]), url
    )
    killed = run_cli("run", "--config", str(config), env={"DIGEST_TEST_CRASH_AT": point})
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    rerun = run_cli("run", "--config", str(config))
    assert rerun.returncode == 0, rerun.stderr
    again = run_cli("run", "--config", str(config))
    assert again.returncode == 0 and "nothing new" in again.stdout, again.stderr

    got: dict[str, Counter] = {r: Counter() for r in RECIPIENTS}
    for message, (_, rcpts) in zip(smtp_server.messages, smtp_server.envelopes, strict=True):
        for rcpt in rcpts:
            got[rcpt][message["Message-ID"]] += 1
    for recipient in RECIPIENTS:
        assert len(got[recipient]) == 1, got  # one digest each
    # Killed between the server's 250 and the commit: the one window SMTP cannot close;
    # the same bytes go again under the same Message-ID.
    expected = 2 if point == "before-sent" else 1
    assert got[RECIPIENTS[0]].most_common(1)[0][1] == expected
    assert sum(got[RECIPIENTS[1]].values()) == 1
    stories: Counter = Counter()
    for message, (_, rcpts) in zip(smtp_server.messages, smtp_server.envelopes, strict=True):
        if rcpts == [RECIPIENTS[1]]:
            text = message.get_body(("plain",)).get_content()
            # Once a message: it names a link under its headline and under its source.
            stories.update({line.strip() for line in text.splitlines() if "/articles/" in line})
    assert stories and set(stories.values()) == {1}, stories

    assert [row[0] for row in _rows(url, "SELECT outcome FROM runs ORDER BY id")] == [
        "died", "ok", "ok",
    ]  # fmt: skip
    waiting = _rows(
        url, "SELECT COUNT(*) FROM queued_messages WHERE status NOT IN ('sent', 'cancelled')"
    )
    pending = _rows(url, "SELECT COUNT(*) FROM articles WHERE status = 'pending'")
    assert waiting == [(0,)] and pending == [(0,)]


def test_another_application_s_migrations_table_later_on_the_search_path_is_not_ours(
    postgres_server,
):
    # A database shared with another application whose migration tool keeps `migrations` in
    # public, and the digest's own schema first on the search path (found by a review).
    url = postgres_server.database()
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute("CREATE TABLE public.migrations (id serial, migration text, batch int)")
        admin.execute("CREATE SCHEMA digest")
    store = Store.open(f"{url}?options=-csearch_path%3Ddigest,public")
    store.close()
    tables = _rows(url, "SELECT schemaname FROM pg_tables WHERE tablename = 'migrations'")
    assert sorted(tables) == [("digest",), ("public",)]
    assert _rows(url, "SELECT count(*) FROM public.migrations") == [(0,)]


def test_a_missing_database_says_what_to_do(postgres_server):
    with pytest.raises(StoreError) as caught:
        Store.open(postgres_server.url("no_such_db"))
    assert 'database "no_such_db" does not exist' in str(caught.value)
    assert str(caught.value).endswith("; create it first (createuser, createdb: docs/scaling.md)")


def test_a_role_that_may_not_make_its_tables_is_one_line_that_says_what_to_do(postgres_server):
    # Three lines before: the server's reason, psycopg's "LINE 1: CREATE TABLE ..." and a
    # caret, and no word on what to grant (an operator's trial at scale).
    url = postgres_server.database()
    role = f"reader_{url.rsplit('_', 1)[1]}"
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(f"CREATE ROLE {role} LOGIN")
        admin.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
    with pytest.raises(StoreError) as caught:
        Store.open(url.replace("://" + url.split("://")[1].split("@")[0], f"://{role}"))
    message = str(caught.value)
    assert "\n" not in message and "permission denied for schema public" in message
    assert message.endswith(
        "; the role makes its tables there: make it the database's owner (createdb --owner "
        "ROLE), or GRANT CREATE ON SCHEMA public TO ROLE (docs/scaling.md)"
    )


def test_a_connection_lost_mid_run_is_one_line_that_says_what_to_do(postgres_server):
    """PostgreSQL stopped in the middle of a run: the line named the store and the server's
    words ("terminating connection due to administrator command"), and no next step."""
    url = postgres_server.database()
    store = Store.open(url)
    try:
        _rows(
            url,
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE application_name = 'digest' AND datname = current_database()",
        )
        with pytest.raises(StoreError) as caught, store.errors_named():
            store.db.execute("SELECT count(*) FROM articles").fetchone()
    finally:
        store.close()
    message = str(caught.value)
    assert "\n" not in message and message.startswith(url.split("@")[0].split(":")[0])
    assert "state database error: terminating connection due to administrator command" in message
    assert message.endswith(
        "; the connection to PostgreSQL was lost: run again once the server is back; nothing "
        "is lost, and a digest staged before is sent then"
    )


def test_a_run_that_lost_its_connection_records_why_on_a_new_one(postgres_server):
    """A server restart mid-run left the run's row open: `digest status` showed it as
    'died: process N no longer running' (the daemon's pid, still running), for as long
    as until the next run."""
    url = postgres_server.database()
    store = Store.open(url, "lost")
    try:
        with pytest.raises(StoreError), store.run_lock(datetime.now(UTC)) as run_id:
            _rows(
                url,
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = 'digest' AND datname = current_database()",
            )
            with store.errors_named():
                store.db.execute("SELECT count(*) FROM articles").fetchone()
    finally:
        store.close()
    ((outcome, detail, finished),) = _rows(
        url, f"SELECT outcome, detail, finished FROM runs WHERE id = {run_id}"
    )
    assert outcome == "failed" and finished is not None
    assert "terminating connection due to administrator command" in detail


def test_a_statement_the_server_cancels_is_not_called_a_lost_connection(postgres_server):
    """psycopg's OperationalError also covers a statement timeout and a deadlock: those
    connections are whole, and "run again once the server is back" would mislead."""
    store = Store.open(postgres_server.database())
    try:
        store.db.execute("SET statement_timeout = 50")
        with pytest.raises(StoreError) as caught, store.errors_named():
            store.db.execute("SELECT pg_sleep(2)").fetchone()
    finally:
        store.close()
    message = str(caught.value)
    assert message.endswith("state database error: canceling statement due to statement timeout")


def test_a_vanished_server_is_probed_and_the_url_may_say_otherwise(postgres_server):
    """A server host that vanished answers nothing; without TCP probes a run waited on it
    for the kernel's two hours and more, holding the lock the store's other runs wait on.
    The URL's own values win over the defaults."""
    url = postgres_server.database()
    store = Store.open(url)
    try:
        given = store.db.raw.info.get_parameters()
    finally:
        store.close()
    assert given["keepalives_idle"] == "60" and given["tcp_user_timeout"] == "120000"
    separator = "&" if "?" in url else "?"
    store = Store.open(f"{url}{separator}keepalives_idle=5&application_name=mine")
    try:
        given = store.db.raw.info.get_parameters()
        assert store.db.execute("SELECT current_setting('application_name')").fetchone()[0] == (
            "mine"
        )
    finally:
        store.close()
    assert given["keepalives_idle"] == "5" and given["tcp_user_timeout"] == "120000"
