from __future__ import annotations

import logging
import os
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from digest.errors import RunLocked
from digest.models import DigestItem, FeedEntry, FollowUp, Staged
from digest.store._db import _process_start
from digest.store._state import MIGRATIONS, QUEUE_LIMIT, NewArticle, Store

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def entry(number: int) -> FeedEntry:
    url = f"https://news.example/{number}"
    return FeedEntry("News", f"g{number}", url, url, f"Title {number}", "Summary.", "", NOW)


def new(number: int, hours_ago: float = 1) -> NewArticle:
    return NewArticle(
        entry(number),
        f"Title {number}",
        "Text.",
        "page",
        "en",
        None,
        NOW - timedelta(hours=hours_ago),
    )


@pytest.fixture
def store(tmp_path):
    opened = Store.open(tmp_path / "state" / "digest.db")
    yield opened
    opened.close()


def test_a_new_state_file_another_run_is_writing_is_waited_for(tmp_path):
    # Two runs opening one new file together: the other holds the write lock while it
    # switches the file to WAL; SQLite's busy timeout does not cover that switch.
    path = tmp_path / "digest.db"
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    threading.Timer(0.3, other.rollback).start()
    opened = Store.open(path)
    assert opened.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    opened.close()
    other.close()


def test_a_current_state_is_opened_while_another_run_writes(tmp_path):
    path = tmp_path / "digest.db"
    Store.open(path).close()
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # another run, mid-transaction
    try:
        opened = Store.open(path)  # reads that the schema is current; takes no lock
        assert opened.migrate() == []
        opened.close()
    finally:
        writer.rollback()
        writer.close()


def test_migrations_run_once_and_wal_is_on(tmp_path):
    path = tmp_path / "digest.db"
    Store.open(path).close()
    again = Store.open(path)
    assert again.migrate() == []
    applied = [row[0] for row in again.db.execute("SELECT name FROM migrations")]
    assert applied == [name for name, _ in MIGRATIONS]
    assert again.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    again.close()


def test_articles_are_known_by_url_or_by_guid_and_title(store):
    store.add_articles([new(1)], NOW)
    moved = FeedEntry("News", "g1", "https://news.example/moved", "https://news.example/moved",
                      "Title 1", "", "", NOW)  # fmt: skip
    reused = FeedEntry("News", "g1", "https://news.example/new", "https://news.example/new",
                       "Another story", "", "", NOW)  # fmt: skip
    assert store.known([entry(1), moved, reused, entry(2)]) == {entry(1).url, moved.url}


def _sent_then_late(store) -> tuple[FollowUp, int]:
    """Articles 1 and 2 sent as one story; article 3 pending: a follow-up of that story."""
    store.add_articles([new(1), new(2), new(3)], NOW)
    pending = store.articles(("pending",), since=NOW - timedelta(days=1))
    item = DigestItem("Title 1", entry(1).url, "S", "en", None, (), (pending[0].id, pending[1].id))
    store.stage_digest("Subject", [item], [Staged("a@b.example", "<1@x>", b"m")], None, NOW)
    story_id = store.articles(("delivered",), since=NOW - timedelta(days=1))[0].story_id
    (story,) = store.sent_stories([story_id]).values()
    return FollowUp(story, (), (pending[2].id,)), pending[2].id


def test_delivery_marks_articles_sent_and_listed_late_reports_joined(store):
    follow_up, late = _sent_then_late(store)
    assert store.count("delivered") == 2 and store.count("pending") == 1
    assert (follow_up.story.headline, follow_up.story.url) == ("Title 1", entry(1).url)
    assert follow_up.story.language == "en"  # the language of the article at its link
    assert follow_up.story.sent == NOW
    store.stage_digest("Next", [], [Staged("a@b.example", "<2@x>", b"m")], None, NOW, [follow_up])
    assert store.count("joined") == 1 and store.count("pending") == 0
    (joined,) = store.articles(("joined",), since=NOW - timedelta(days=1))
    assert (joined.id, joined.story_id) == (late, follow_up.story.id)


def test_an_unstaged_digest_gives_its_follow_ups_back(store):
    follow_up, late = _sent_then_late(store)
    digest_id, (message,) = store.stage_digest(
        "Next", [], [Staged("a@b.example", "<2@x>", b"m")], None, NOW, [follow_up]
    )
    store.mark_deferred(message.key, "cannot connect", NOW)
    assert store.cancel_digest(digest_id, "cannot connect", NOW)
    (again,) = store.articles(("pending",), since=NOW - timedelta(days=1))
    assert (again.id, again.story_id) == (late, None)
    # The story the first digest sent is untouched.
    assert store.count("delivered") == 2


def test_a_digest_no_server_took_is_unstaged_and_its_articles_pending_again(store):
    store.add_articles([new(1)], NOW)
    (article,) = store.articles(("pending",), since=NOW - timedelta(days=1))
    item = DigestItem("Title 1", entry(1).url, "S", "en", None, (), (article.id,))
    digest_id, (message,) = store.stage_digest(
        "Subject", [item], [Staged("a@b.example", "<1@x>", b"m")], None, NOW
    )
    assert store.count("delivered") == 1 and store.outgoing() == [message]
    store.mark_deferred(message.key, "cannot connect", NOW)
    assert store.cancel_digest(digest_id, "cannot connect", NOW)
    assert store.count("pending") == 1 and store.outgoing() == []
    status = store.db.execute("SELECT status FROM digests").fetchone()[0]
    assert status == "failed"


def test_a_digest_a_server_may_have_taken_is_never_unstaged(store):
    store.add_articles([new(1)], NOW)
    (article,) = store.articles(("pending",), since=NOW - timedelta(days=1))
    item = DigestItem("Title 1", entry(1).url, "S", "en", None, (), (article.id,))
    messages = [Staged("a@b.example", "<1@x>", b"m"), Staged("c@d.example", "<2@x>", b"m")]
    digest_id, (first, second) = store.stage_digest("Subject", [item], messages, None, NOW)
    store.mark_sending(first.key, NOW)
    assert not store.cancel_digest(digest_id, "connection lost", NOW)
    waiting = store.outgoing()
    assert [(m.recipient, m.uncertain) for m in waiting] == [
        ("a@b.example", True),
        ("c@d.example", False),
    ]
    store.mark_sent(first.key, "250 OK", NOW)
    store.mark_refused(second.key, "550 no such user", NOW)
    assert store.outgoing() == [] and store.count("delivered") == 1
    rows = store.db.execute("SELECT recipient, status FROM deliveries ORDER BY id").fetchall()
    assert [tuple(row) for row in rows] == [("a@b.example", "sent"), ("c@d.example", "refused")]
    assert store.db.execute("SELECT status FROM digests").fetchone()[0] == "delivered"


def test_messages_refused_for_now_are_given_up_after_the_queue_limit(store):
    _, (message,) = store.stage_digest(
        "S", [], [Staged("a@b.example", "<1@x>", b"m")], None, NOW - QUEUE_LIMIT * 2
    )
    store.mark_deferred(message.key, "451 greylisted", NOW)
    assert store.give_up_expired(NOW) == {"a@b.example": "gave up after 5 days: 451 greylisted"}
    assert store.outgoing() == []


def test_articles_out_of_the_window_expire(store):
    store.add_articles([new(1, hours_ago=100)], NOW - timedelta(hours=100))
    store.add_articles([new(2)], NOW)
    assert store.expire(NOW - timedelta(hours=48)) == 1
    assert store.count("expired") == 1 and store.count("pending") == 1


def test_an_old_article_first_stored_inside_the_window_waits_its_window(store):
    # Held back (max_items, a failed delivery): its window counts from when it was fetched.
    store.add_articles([new(1, hours_ago=100)], NOW - timedelta(hours=1))
    assert store.expire(NOW - timedelta(hours=48)) == 0
    assert store.count("pending") == 1


def test_the_run_lock_refuses_a_second_live_run(store, tmp_path):
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        with sqlite3.connect(store.path) as db:
            db.execute("INSERT INTO runs (pid, started) VALUES (?, ?)", (sleeper.pid, "2026"))
        with pytest.raises(RunLocked, match=f"pid {sleeper.pid}"), store.run_lock(NOW):
            pass
    finally:
        sleeper.kill()
        sleeper.wait()
    with store.run_lock(NOW) as run_id:  # the dead run's lock is taken over
        assert run_id
    outcomes = [row[0] for row in store.db.execute("SELECT outcome FROM runs ORDER BY id")]
    assert outcomes == ["died", "ok"]


def _open_run(store, pid, started, process_start=None):
    with sqlite3.connect(store.path) as db:
        db.execute(
            "INSERT INTO runs (pid, started, process_start) VALUES (?, ?, ?)",
            (pid, started.isoformat(), process_start),
        )


def _outcomes(store):
    return [row[0] for row in store.db.execute("SELECT outcome FROM runs ORDER BY id")]


def test_a_live_run_keeps_its_lock_however_long_it_takes(store):
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        _open_run(store, sleeper.pid, NOW - timedelta(hours=30), _process_start(sleeper.pid))
        with pytest.raises(RunLocked, match="wait for it to finish"), store.run_lock(NOW):
            pass
    finally:
        sleeper.kill()
        sleeper.wait()


def test_a_recycled_pid_does_not_keep_a_dead_run_s_lock(store):
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        # The pid is alive, but it is not the process that took the lock (other start time).
        _open_run(store, sleeper.pid, NOW - timedelta(minutes=5), "1")
        with store.run_lock(NOW):
            pass
    finally:
        sleeper.kill()
        sleeper.wait()
    assert _outcomes(store) == ["died", "ok"]


def test_a_lock_left_by_this_process_is_taken_over_but_one_held_here_is_not(store):
    _open_run(store, os.getpid(), NOW, _process_start(os.getpid()))  # e.g. a pid-1 container
    with store.run_lock(NOW), pytest.raises(RunLocked), store.run_lock(NOW):
        pass  # a second run of the same digest in this process (the daemon) must wait
    assert _outcomes(store) == ["died", "ok"]


def test_without_a_start_time_a_live_pid_lock_lapses_after_six_hours(store):
    _open_run(store, os.getppid(), NOW - timedelta(hours=7))
    with store.run_lock(NOW):
        pass
    assert _outcomes(store) == ["died", "ok"]


def test_prune_forgets_old_site_blocks_and_problems(store):
    store.remember_blocks("a.example", {"https://a.example/1": ["f1"]}, NOW - timedelta(days=90))
    store.remember_blocks("a.example", {"https://a.example/2": ["f2"]}, NOW)
    store.prune(NOW)
    assert set(store.site_blocks("a.example", ["f1", "f2"])) == {"f2"}


def test_prune_forgets_the_text_of_articles_no_run_reads_again_and_still_knows_them(store):
    """Articles kept their whole text for ever: a busy digest's state grew by gigabytes a
    year, though a sent article's text is read back only while a late report may join it."""
    old = [new(1, hours_ago=24 * 40), new(2, hours_ago=24 * 40), new(3, hours_ago=24 * 40)]
    store.add_articles([*old, new(4, hours_ago=24 * 3)], NOW - timedelta(days=40))
    ids = {a.title: a.id for a in store.articles(("pending",), since=None)}
    item = DigestItem("Title 1", entry(1).url, "S", "en", None, (),
                      (ids["Title 1"], ids["Title 2"], ids["Title 4"]))  # fmt: skip
    store.stage_digest("S", [item], [Staged("a@b.example", "<1@x>", b"m")], None, NOW)
    store.prune(NOW, read_back=timedelta(days=60))  # a 60-day window reads them back
    assert dict(store.db.execute("SELECT title, text FROM articles"))["Title 1"] == "Text."
    store.prune(NOW, read_back=timedelta(days=7))
    texts = dict(store.db.execute("SELECT title, text FROM articles"))
    # Sent 40 days ago: no text. Sent but recent, or still pending: kept.
    assert texts == {"Title 1": "", "Title 2": "", "Title 3": "Text.", "Title 4": "Text."}
    assert store.known([entry(1), entry(2), entry(5)]) == {entry(1).url, entry(2).url}


def test_site_blocks_of_the_first_schema_are_kept_in_the_keyed_table(tmp_path):
    path = tmp_path / "old.db"
    old = sqlite3.connect(path, isolation_level=None)
    old.execute("CREATE TABLE migrations (name TEXT PRIMARY KEY, applied TEXT NOT NULL)")
    rewrite = next(i for i, (name, _) in enumerate(MIGRATIONS) if name.endswith("without_rowid"))
    for name, script in MIGRATIONS[:rewrite]:  # every migration before the site_blocks rewrite
        old.executescript(script)
        old.execute("INSERT INTO migrations VALUES (?, '2026-11-01T00:00:00+00:00')", (name,))
    old.execute("INSERT INTO site_blocks VALUES ('a.example', 'f1', 'https://a.example/1', ?)",
                (NOW.isoformat(),))  # fmt: skip
    old.close()
    store = Store.open(path)
    try:
        assert store.site_blocks("a.example", ["f1"]) == {"f1": {"https://a.example/1"}}
        (sql,) = store.db.execute("SELECT sql FROM sqlite_master WHERE name = 'site_blocks'")
        assert "WITHOUT ROWID" in sql[0]
    finally:
        store.close()


def test_site_blocks_answers_for_the_fingerprints_asked_only(store):
    many = {f"https://a.example/{n}": [f"f{n}", "footer"] for n in range(1200)}
    store.remember_blocks("a.example", many, NOW)
    store.remember_blocks("b.example", {"https://b.example/1": ["footer"]}, NOW)
    asked = [f"f{n}" for n in range(0, 1200, 2)] + ["footer", "unseen"]
    blocks = store.site_blocks("a.example", asked)
    assert set(blocks) == {f"f{n}" for n in range(0, 1200, 2)} | {"footer"}
    assert blocks["footer"] == set(many) and blocks["f4"] == {"https://a.example/4"}
    assert store.site_blocks("c.example", asked) == {}


def test_a_prune_that_frees_most_of_the_file_gives_the_space_back(store):
    body = bytes(range(256)) * 4000  # 1 MB a message, as a digest to many readers adds up
    messages = [Staged(f"r{n}@b.example", f"<{n}@x>", body) for n in range(24)]
    _, staged = store.stage_digest("S", [], messages, None, NOW - timedelta(days=10))
    for message in staged:
        store.mark_sent(message.key, "250 OK", NOW - timedelta(days=10))
    store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    before = store.path.stat().st_size
    assert before > 20 * 1024 * 1024
    assert store.prune_outbox(NOW, timedelta(days=3)) == 24
    store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    assert store.path.stat().st_size < 2 * 1024 * 1024  # records kept, bytes given back
    assert store.db.execute("SELECT COUNT(*) FROM deliveries").fetchone()[0] == 24


def test_a_new_state_file_is_readable_by_its_owner_only(tmp_path):
    # The outbox in it holds every recipient's address.
    store = Store.open(tmp_path / "state" / "digest.db")
    store.close()
    assert (tmp_path / "state" / "digest.db").stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_a_turn_at_the_pool_held_for_good_is_waited_for_so_long_only(
    kind, tmp_path, caplog, request
):
    """A run stopped (SIGSTOP) while it had the turn held every other digest of the
    storage for as long as it stayed stopped, in silence without -v."""
    if kind == "sqlite":
        path: Path | str = tmp_path / "state" / "digest.db"
    else:
        path = request.getfixturevalue("postgres_server").database()
    first, second = Store.open(path, "morning"), Store.open(path, "evening")
    logger = logging.getLogger("digest")
    logger.addHandler(caplog.handler)
    try:
        with caplog.at_level(logging.WARNING, logger="digest"), first.pool_turn():
            started = time.monotonic()
            with second.pool_turn(patience=1.0):
                waited = time.monotonic() - started
        assert 1.0 <= waited < 5
        said = {r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING}
        assert said == {
            "waited 1 s for another digest of this storage to finish fetching: going on "
            "without its turn (a run of it may be stopped or hung: digest status names it)"
        }
        with first.pool_turn(patience=1.0):  # the second let go of nothing it did not hold
            pass
    finally:
        logger.removeHandler(caplog.handler)
        first.close()
        second.close()


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_a_digest_waiting_for_another_s_turn_at_the_pool_says_so(kind, tmp_path, caplog, request):
    """Two digests of one storage: the second's run waited in silence while the first
    fetched, for as long as that took (an operator's trial saw nothing for 14 s, even
    with -v)."""
    if kind == "sqlite":
        path: Path | str = tmp_path / "state" / "digest.db"
    else:
        path = request.getfixturevalue("postgres_server").database()
    first = Store.open(path, "morning")
    entered = threading.Event()

    def second_run() -> None:
        second = Store.open(path, "evening")
        try:
            with second.pool_turn():
                entered.set()
        finally:
            second.close()

    # The handler on the "digest" logger itself: the CLI's main(), which other tests run in
    # this process, stops that logger from propagating to the root, where caplog listens.
    logger = logging.getLogger("digest")
    logger.addHandler(caplog.handler)
    try:
        with caplog.at_level(logging.INFO, logger="digest"):
            with first.pool_turn():
                waiter = threading.Thread(target=second_run)
                waiter.start()
                assert not entered.wait(0.5)  # it waits for the first's turn to end
            waiter.join(10)
            assert entered.is_set()
            # (a record may reach caplog's handler twice: on "digest" and on the root)
            said = sorted({r.getMessage() for r in caplog.records})
            assert said == [
                "waiting for another digest of this storage: its run is fetching, and the "
                "digests of one storage take turns (what it fetches, this run then reads "
                "from the store's pool)"
            ]
            before = len(caplog.records)
            with first.pool_turn():
                pass
            assert len(caplog.records) == before  # a turn free at once is taken in silence
    finally:
        logger.removeHandler(caplog.handler)
        first.close()


@pytest.mark.parametrize(
    ("reason", "away"),
    [
        ('connection to server at "127.0.0.1", port 1 failed: Connection refused', True),
        ("FATAL: the database system is in recovery mode", True),
        ("FATAL: the database system is not yet accepting connections; DETAIL: ...", True),
        ("failed to resolve host 'db': [Errno -3] Temporary failure in name resolution", True),
        # psycopg joins the words of each address it tried: one said no, so none is away.
        (
            'connection to server at "::1", port 5432 failed: Connection refused; connection '
            'to server at "127.0.0.1", port 5432 failed: FATAL: password authentication '
            'failed for user "digest"',
            False,
        ),
        ('FATAL: database "nodb" does not exist', False),
    ],
)
def test_a_postgresql_server_is_away_only_when_no_address_of_it_answered(reason, away):
    # A wrong password was retried every five minutes for good, and a server recovering
    # from a crash was not retried at all (a code review).
    from digest.store._db import _server_away

    assert _server_away(reason) is away


def test_the_grant_advised_names_the_schema_the_server_refused():
    from digest.store._db import _fix_for

    assert "GRANT CREATE ON SCHEMA app TO ROLE" in _fix_for("permission denied for schema app")
