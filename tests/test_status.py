"""`digest status` on real state: runs, deliveries, failing feeds, the next run; read while a
run writes (WAL); and a state file made by an older schema, upgraded without losing data."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from conftest import (
    DEMO_FEEDS,
    REPO,
    respond,
    run_cli,
    smtp_delivery,
    stall,
    stderr_lines,
    wait_for,
    write_config,
)

from digest.cli._status import _took
from digest.store._migrations import MIGRATIONS
from digest.store._state import Store


def test_status_shows_runs_deliveries_failing_feeds_and_the_next_run(tmp_path, site, smtp_server):
    site.overrides = {"/broken/feed.xml": respond(500, b"oops", "text/plain")}
    feeds = [*DEMO_FEEDS[:3], ("Broken", f"{site.base_url}/broken/feed.xml", "World")]
    smtp_server.refuse = {"gone@example.org"}
    smtp_server.defer = {"later@example.org"}
    delivery = smtp_delivery(
        smtp_server, to="[ana@example.org, gone@example.org, later@example.org]"
    )
    config = write_config(tmp_path, site.base_url, delivery=delivery, feeds=feeds,
                          extra="schedule: 0 7 * * *\ntimezone: Europe/Paris\n")  # fmt: skip
    assert run_cli("run", "--config", str(config)).returncode == 1  # a refusal exits 1
    smtp_server.defer = set()
    assert run_cli("run", "--config", str(config)).returncode == 0

    shown = run_cli("status", "--config", str(config))
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert lines[0] == f"Test Brief ({config})"
    assert "schedule: 0 7 * * * (Europe/Paris); next run" in shown.stdout
    newest, oldest = [line for line in lines if line.startswith("  20")][:2]
    # The second run sent what the first queued: not only "nothing new".
    assert " ok " in newest
    assert newest.endswith("nothing new; sent the queued digest to later@example.org"), newest
    # A refusal for good makes `digest run` exit 1: the run failed, though others got it;
    # the refusal is said once, with the server's reason ("; refused by" said it again).
    assert " failed " in oldest and "items to ana@example.org" in oldest
    assert oldest.endswith("; gone@example.org refused (550 5.1.1 No such user here)"), oldest
    assert "later@example.org waiting" not in shown.stdout  # sent by the second run
    broken = next(line for line in lines if line.startswith("  Broken"))
    assert "failing since 20" in broken and "(2 attempts)" in broken and "HTTP 500" in broken

    as_json = json.loads(run_cli("status", "--config", str(config), "--json").stdout)
    assert [run["outcome"] for run in as_json["runs"]] == ["ok", "failed"]
    first = as_json["runs"][1]["digests"][0]
    assert set(first["sent_to"]) == {"ana@example.org", "later@example.org"}
    assert first["refused"] == {"gone@example.org": "550 5.1.1 No such user here"}
    assert as_json["failing_feeds"][0]["name"] == "Broken"
    assert as_json["next_run"].endswith("07:00+01:00")  # 07:00 in Paris, in winter


def _copy_queued_for_later(tmp_path, site, smtp_server) -> tuple[Path, str]:
    """A run whose copy for later@ the server deferred: (its config, its delivery)."""
    smtp_server.defer = {"later@example.org"}
    delivery = smtp_delivery(smtp_server, to="[ana@example.org, later@example.org]")
    config = write_config(tmp_path, site.base_url, delivery=delivery, feeds=DEMO_FEEDS[:1])
    assert run_cli("run", "--config", str(config)).returncode == 0
    smtp_server.defer = set()
    return config, delivery


def test_a_failed_run_that_sent_a_queued_digest_says_both(tmp_path, site, smtp_server):
    """Every feed failed, but the run sent what the last run had queued: its line in
    `digest status` said only that the feed failed, and stdout only "nothing to deliver"."""
    config, _delivery = _copy_queued_for_later(tmp_path, site, smtp_server)
    site.overrides = {f"/{DEMO_FEEDS[0][1]}": respond(500, b"down", "text/plain")}
    failed = run_cli("run", "--config", str(config))
    assert failed.returncode == 1
    sent, nothing = failed.stdout.splitlines()
    assert sent.startswith("Test Brief: sent the queued digest to 1 recipient (later@example.org)")
    assert nothing == "Test Brief: nothing to deliver: the feed failed"
    lines = run_cli("status", "--config", str(config)).stdout.splitlines()
    newest = lines[lines.index("last runs (newest first, times in UTC):") + 1]
    assert newest.endswith(" the feed failed; sent the queued digest to later@example.org"), newest


def test_a_run_that_sends_a_queued_digest_and_a_new_one_says_both(tmp_path, site, smtp_server):
    """After a run killed while sending, the next run sent the queued copies and a new
    digest, and said only the new one (an operator's trial)."""
    config, delivery = _copy_queued_for_later(tmp_path, site, smtp_server)
    more = write_config(tmp_path, site.base_url, delivery=delivery, feeds=DEMO_FEEDS[:2])
    ran = run_cli("run", "--config", str(more))
    assert ran.returncode == 0, ran.stderr
    queued, new = ran.stdout.splitlines()
    assert queued.startswith(
        "Test Brief: sent the queued digest to 1 recipient (later@example.org)"
    )
    assert new.startswith("Test Brief: delivered ") and "to 2 recipients" in new, new
    lines = run_cli("status", "--config", str(config)).stdout.splitlines()
    newest = lines[lines.index("last runs (newest first, times in UTC):") + 1]
    assert newest.endswith("; sent the queued digest to later@example.org"), newest


def test_a_reader_sent_the_queued_copy_but_not_the_new_digest_is_not_said_to_have_it(
    tmp_path, site, smtp_server
):
    """The new digest's line listed later@ because the queued copy had reached them, though
    the server then deferred the new one (a review of this stop's changes)."""
    _config, delivery = _copy_queued_for_later(tmp_path, site, smtp_server)
    accept = smtp_server.handle_DATA

    async def then_defer_later(server, session, envelope):  # the queued copy goes first
        answer = await accept(server, session, envelope)
        if "later@example.org" in envelope.rcpt_tos:
            smtp_server.defer = {"later@example.org"}
        return answer

    smtp_server.handle_DATA = then_defer_later
    more = write_config(tmp_path, site.base_url, delivery=delivery, feeds=DEMO_FEEDS[:2])
    ran = run_cli("run", "--config", str(more))
    queued, new = ran.stdout.splitlines()
    assert queued.startswith("Test Brief: sent the queued digest to 1 recipient (later@")
    assert "to 1 recipient (ana@example.org)" in new, new
    assert "delivery: later@example.org deferred" in ran.stderr, ran.stderr


def test_a_queued_copy_sent_before_the_new_digest_failed_is_said(tmp_path, site, smtp_server):
    """The server took the queued copy, then said "busy" to the new digest: the run said
    only the failure, not what went out (a review of this stop's changes)."""
    _config, delivery = _copy_queued_for_later(tmp_path, site, smtp_server)
    accept = smtp_server.handle_DATA
    busy: list[bool] = []

    async def then_busy(server, session, envelope):
        busy.append(True)
        return await accept(server, session, envelope)

    async def handle_MAIL(server, session, envelope, address, options):
        if busy:
            return "451 4.3.2 System busy, try later"
        envelope.mail_from = address
        return "250 OK"

    smtp_server.handle_DATA = then_busy
    smtp_server.handle_MAIL = handle_MAIL
    more = write_config(tmp_path, site.base_url, delivery=delivery, feeds=DEMO_FEEDS[:2])
    ran = run_cli("run", "--config", str(more))
    assert ran.returncode == 1
    assert ran.stdout.startswith("Test Brief: sent the queued digest to 1 recipient (later@"), (
        ran.stdout + ran.stderr
    )


def test_a_failing_feed_taken_out_of_the_config_is_no_longer_listed(tmp_path, site):
    site.overrides = {"/broken/feed.xml": respond(500, b"oops", "text/plain")}
    feeds = [*DEMO_FEEDS[:1], ("Broken", f"{site.base_url}/broken/feed.xml", "World")]
    config = write_config(tmp_path, site.base_url, feeds=feeds)
    assert run_cli("run", "--config", str(config)).returncode == 0
    assert "  Broken <" in run_cli("status", "--config", str(config)).stdout
    assert run_cli("feeds", "remove", "--config", str(config), "Broken").returncode == 0
    shown = run_cli("status", "--config", str(config))
    assert "Broken" not in shown.stdout and "failing feeds: none" in shown.stdout, shown.stdout


def test_status_of_a_folder_shows_every_digest_and_names_the_one_it_cannot_read(tmp_path, site):
    """Operators of many digests keep them in one folder, as `digest schedule` reads it: one
    `digest status` shows them all, and a config with a typo does not hide the others."""
    first = write_config(tmp_path, site.base_url, feeds=DEMO_FEEDS[:1], name="a.yaml")
    second = write_config(tmp_path, site.base_url, feeds=DEMO_FEEDS[1:2], name="b.yml",
                          extra="id: second\n")  # fmt: skip
    second.write_text(second.read_text().replace("Test Brief", "Second Brief"))
    assert run_cli("run", "--config", str(first)).returncode == 0
    broken = tmp_path / "c.yaml"
    broken.write_text("title: [unclosed\n", encoding="utf-8")

    shown = run_cli("status", "--config", str(tmp_path))
    assert shown.returncode == 1
    assert f"Test Brief ({first})" in shown.stdout
    assert f"Second Brief ({second})" in shown.stdout
    assert "last runs" in shown.stdout.split("Second Brief")[0]
    [problem] = shown.stderr.splitlines()
    assert str(broken) in problem, problem

    as_json = json.loads(run_cli("status", "--config", str(tmp_path), "--json").stdout)
    assert [status["title"] for status in as_json] == ["Test Brief", "Second Brief"]
    assert len(as_json[0]["runs"]) == 1 and as_json[1]["runs"] == []

    empty = tmp_path / "empty"
    empty.mkdir()
    nothing = run_cli("status", "--config", str(empty))
    assert nothing.returncode == 1
    said = f"{empty}: no *.yaml or *.yml digest configs in this folder"
    assert nothing.stderr.strip().endswith(said), nothing.stderr


def test_status_of_a_folder_names_the_config_whose_state_cannot_be_opened(tmp_path, site):
    """A store's error names the store, which several configs may share: in a folder, the
    line did not say which config it was (an operator's trial)."""
    good = write_config(tmp_path, site.base_url, feeds=DEMO_FEEDS[:1], name="a.yaml")
    away = write_config(tmp_path, site.base_url, feeds=DEMO_FEEDS[:1], name="b.yaml")
    away.write_text(
        away.read_text().replace(
            "storage: state/digest.db", "storage: postgresql://d@127.0.0.1:1/x"
        )
    )
    shown = run_cli("status", "--config", str(tmp_path))
    assert shown.returncode == 1 and "Test Brief" in shown.stdout
    [problem] = stderr_lines(shown.stderr)
    assert problem.startswith(f"digest: {away}: postgresql://d@127.0.0.1:1/x: cannot open"), problem
    assert str(good) not in problem


def test_status_reads_while_a_run_holds_the_write_lock(tmp_path, site):
    running, config = _start_slow_run(tmp_path, site, stall_seconds=4)
    try:
        writer = sqlite3.connect(tmp_path / "state" / "digest.db", isolation_level=None)
        writer.execute("BEGIN IMMEDIATE")  # a writer mid-transaction, as a run is when it records
        writer.execute("INSERT INTO problems (at, stage, target, reason) VALUES ('x','x','x','x')")
        started = time.monotonic()
        shown = run_cli("status", "--config", str(config))
        took = time.monotonic() - started
        writer.execute("ROLLBACK")
        writer.close()
    finally:
        _, err = running.communicate(timeout=60)
    assert shown.returncode == 0, shown.stderr
    assert f"in progress (pid {running.pid})" in shown.stdout
    assert took < 8  # not blocked behind the writer (SQLite's busy wait would be 10 s)
    assert running.returncode == 0, err
    after = run_cli("status", "--config", str(config))
    assert " ok " in after.stdout and "in progress" not in after.stdout


def _has_run(state) -> bool:
    if not state.exists():
        return False
    with sqlite3.connect(state) as db:
        try:
            return db.execute("SELECT COUNT(*) FROM runs").fetchone()[0] > 0
        except sqlite3.Error:
            return False


def test_a_state_file_from_the_first_schema_is_upgraded_and_keeps_its_data(tmp_path):
    path = tmp_path / "old.db"
    old = sqlite3.connect(path, isolation_level=None)
    old.execute("CREATE TABLE migrations (name TEXT PRIMARY KEY, applied TEXT NOT NULL)")
    for name, script in MIGRATIONS[:2]:  # 001_initial and 002_message_queue, as shipped
        old.executescript(script)
        old.execute("INSERT INTO migrations VALUES (?, '2026-11-01T00:00:00+00:00')", (name,))
    old.executescript(
        """
        INSERT INTO feeds (url, name, failures) VALUES ('https://a.example/feed', 'A', 0);
        INSERT INTO digests (id, created, subject, status, item_count)
            VALUES (1, '2026-11-01T07:00:00+00:00', 'Old brief', 'delivered', 1);
        INSERT INTO stories (id, headline, url, created, digest_id)
            VALUES (1, 'Old story', 'https://a.example/1', '2026-11-01T07:00:00+00:00', 1);
        INSERT INTO articles (url, feed, guid, link, title, text, text_source, published,
                              first_seen, status, story_id)
            VALUES ('https://a.example/1', 'A', 'g1', 'https://a.example/1', 'Old story', 'T',
                    'page', '2026-11-01T06:00:00+00:00', '2026-11-01T06:30:00+00:00',
                    'delivered', 1);
        INSERT INTO deliveries (digest_id, method, recipient, status, at)
            VALUES (1, 'smtp', 'ana@example.org', 'sent', '2026-11-01T07:00:00+00:00');
        INSERT INTO queued_messages (digest_id, recipient, message, queued)
            VALUES (1, 'bo@example.org', X'5375626A6563743A20780D0A0D0A78',
                    '2026-11-01T07:00:00+00:00');
        INSERT INTO runs (pid, started, finished, outcome)
            VALUES (1, '2026-11-01T07:00:00+00:00', '2026-11-01T07:00:09+00:00', 'ok');
        """
    )
    old.close()

    store = Store.open(path)
    try:
        names = [row[0] for row in store.db.execute("SELECT name FROM migrations ORDER BY name")]
        assert names == [name for name, _ in MIGRATIONS]
        assert store.count("delivered") == 1
        (waiting,) = store.outgoing()  # the old queue row is in the outbox, still to send
        assert (waiting.recipient, waiting.method, waiting.uncertain) == (
            "bo@example.org", "smtp", False,
        )  # fmt: skip
        row = store.db.execute("SELECT subject, run_id FROM digests").fetchone()
        assert tuple(row) == ("Old brief", None)
        assert store.feed_state("https://a.example/feed").failures == 0
        assert store.db.execute("SELECT outcome FROM runs").fetchone()[0] == "ok"
    finally:
        store.close()


def _start_slow_run(tmp_path, site, stall_seconds: float = 8) -> tuple[subprocess.Popen, object]:
    """A real `digest run` held up by a stalled feed, once it has taken its run row."""
    site.overrides = {"/slow/feed.xml": stall(stall_seconds)}
    feeds = [*DEMO_FEEDS[:1], ("Slow", f"{site.base_url}/slow/feed.xml", "World")]
    config = write_config(tmp_path, site.base_url, feeds=feeds)
    config.write_text(config.read_text().replace("timeout: 2", "timeout: 10"))
    state = tmp_path / "state" / "digest.db"
    running = subprocess.Popen(
        [sys.executable, "-m", "digest", "run", "--config", str(config)],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert wait_for(lambda: _has_run(state), timeout=60)
    time.sleep(0.5)  # into the fetch
    return running, config


def test_a_killed_run_shows_as_died_with_a_reason_not_in_progress(tmp_path, site):
    running, config = _start_slow_run(tmp_path, site)
    running.kill()  # SIGKILL: nothing of the run gets to record how it ended
    running.communicate(timeout=30)
    shown = run_cli("status", "--config", str(config))
    assert shown.returncode == 0, shown.stderr
    assert "in progress" not in shown.stdout
    reason = f"interrupted: process {running.pid} no longer running"
    assert "died" in shown.stdout and reason in shown.stdout, shown.stdout
    # The next run takes the row over and keeps the same reason, not an empty one.
    site.overrides = {}
    assert run_cli("run", "--config", str(config)).returncode == 0
    as_json = json.loads(run_cli("status", "--config", str(config), "--json").stdout)
    assert [(r["outcome"], r["detail"]) for r in as_json["runs"]][1] == ("died", reason)


def test_a_run_stopped_by_sigterm_records_why(tmp_path, site):
    # The run ends once the request in flight does: a short stall keeps the test short.
    running, config = _start_slow_run(tmp_path, site, stall_seconds=3)
    running.terminate()
    _, err = running.communicate(timeout=30)
    assert running.returncode == 143
    assert err.strip().endswith("digest: stopped by SIGTERM")
    shown = run_cli("status", "--config", str(config))
    assert "stopped by SIGTERM" in shown.stdout and "KeyboardInterrupt" not in shown.stdout
    assert "in progress" not in shown.stdout


def test_a_preview_is_listed_as_a_preview_with_what_it_showed_not_as_a_run(tmp_path, site):
    config = write_config(tmp_path, site.base_url, feeds=DEMO_FEEDS[:2])
    shown = run_cli("preview", "--config", str(config), "--json")
    assert shown.returncode == 0, shown.stderr
    items = len(json.loads(shown.stdout)["items"])
    assert items > 1
    status = run_cli("status", "--config", str(config))
    (row,) = [line for line in status.stdout.splitlines() if line.startswith("  20")]
    assert " preview " in row and f"showed {items} items (" in row and "not sent" in row
    assert " ok " not in row and "nothing new" not in row
    # The run then sends what the preview fetched; it says where the articles came from.
    sent = run_cli("run", "--config", str(config))
    assert sent.returncode == 0, sent.stderr
    assert f"delivered {items} items (" in sent.stdout
    assert " sources; fetched earlier by a preview or run) to " in sent.stdout
    runs = json.loads(run_cli("status", "--config", str(config), "--json").stdout)["runs"]
    assert [run["outcome"] for run in runs] == ["ok", "preview"]
    newest = run_cli("status", "--config", str(config)).stdout
    assert f"{items} items to reader@localhost" in newest  # whom, for the file method too


def _a_run_yesterday(tmp_path):
    """A config, its store, and the time of the one run it had: yesterday."""
    from datetime import UTC, datetime, timedelta

    from digest.config._loader import load_config

    config = load_config(write_config(tmp_path, "http://127.0.0.1:9"))
    yesterday = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)
    store = Store.open(config.storage)
    with store.run_lock(yesterday):
        pass
    return config, store, yesterday


def test_a_preview_is_not_the_run_the_daemon_would_catch_up(tmp_path):
    from datetime import UTC, datetime

    from digest.cli._schedule import last_run_started

    config, store, yesterday = _a_run_yesterday(tmp_path)
    with store.run_lock(datetime.now(UTC), preview=True):
        pass
    store.close()
    assert last_run_started(config) == yesterday


def test_a_killed_preview_with_a_note_is_still_not_a_run(tmp_path):
    from datetime import UTC, datetime

    from digest.cli._schedule import last_run_started

    config, store, yesterday = _a_run_yesterday(tmp_path)
    # A preview that noted what it showed, then was killed (out of memory): the next run
    # records it died, and neither its outcome nor its detail says "preview" any more.
    with store.run_lock(datetime.now(UTC), preview=True) as run:
        store.note_run(run, "showed 5 items (5 sources), not sent")
    store.db.execute(
        "UPDATE runs SET outcome = 'died', detail = 'interrupted' WHERE id = ?", (run,)
    )
    store.close()
    assert last_run_started(config) == yesterday


def test_status_counts_the_articles_that_wait_for_a_digest(tmp_path, site):
    config = write_config(tmp_path, site.base_url, feeds=DEMO_FEEDS[:2])
    assert run_cli("preview", "--config", str(config)).returncode == 0  # stored, not sent
    shown = json.loads(run_cli("status", "--config", str(config), "--json").stdout)
    assert shown["pending"] > 0
    text = run_cli("status", "--config", str(config)).stdout
    # not "they go out in the next runs": those the filters leave out never do
    assert f"pending: {shown['pending']} articles within the window, not yet in a digest: " in text
    assert "the next runs take those that pass the filters" in text
    assert "the others expire with the window" in text
    assert run_cli("run", "--config", str(config)).returncode == 0
    assert json.loads(run_cli("status", "--config", str(config), "--json").stdout)["pending"] == 0


def test_a_run_s_duration_is_said_in_the_whole_seconds_the_state_keeps():
    # A 1.8 s run whose start and end fall in two stored seconds may read 1 s, never "0.0s".
    assert [_took(s) for s in (None, 0.0, 1.0, 59.0)] == ["?", "<1s", "1s", "59s"]


def _descendants(pid: int) -> list[int]:
    """Every process under `pid` (the run's fork server and its workers among them)."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # gone meanwhile
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    found, frontier = [], [pid]
    while frontier:
        children = [child for child, parent in parents.items() if parent in frontier]
        found += children
        frontier = children
    return found


def test_ctrl_c_in_a_terminal_stops_a_run_with_workers_in_one_line(tmp_path, site):
    # A terminal sends SIGINT to its whole foreground group: the workers died of it, each
    # printing a traceback, and broke the pool under the run.
    site.overrides = {
        f"/techwire/articles/{page}.html": stall(8)
        for page in ("meta-compute-cloud", "openssl-high-severity-patch", "ipad-pro-m5-launch")
    }
    config = write_config(tmp_path, site.base_url, feeds=DEMO_FEEDS[:1], extra="workers: 2\n")
    running = subprocess.Popen(
        [sys.executable, "-m", "digest", "run", "--config", str(config)],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,
    )  # fmt: skip
    try:
        # The feed was parsed by the workers: the fork server and both workers are up.
        assert wait_for(lambda: len(_descendants(running.pid)) >= 3, timeout=60)
        time.sleep(0.5)
        os.killpg(running.pid, signal.SIGINT)
        _, err = running.communicate(timeout=60)
    finally:
        if running.poll() is None:
            os.killpg(running.pid, signal.SIGKILL)
            running.communicate()
    assert running.returncode == 130, err
    assert err.strip().splitlines()[-1].endswith("digest: interrupted"), err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err


def test_a_digest_sent_to_hundreds_is_one_short_line_of_status():
    """A digest to 400 recipients made a status line of 14,607 characters (an operator's
    trial); `--json` keeps every address."""
    from digest.cli._status import Delivered, RunRecord, _what

    sent = [f"r{number}@example.org" for number in range(80)]
    waiting = {f"r{number}@example.org": "421 try later" for number in range(80, 400)}
    digest = Delivered("Brief", 10, "sending", sent_to=sent, waiting=waiting)
    run = RunRecord("2026-12-07T12:00:00+00:00", None, 3.0, "ok", None, 1, [digest])
    assert _what(run) == (
        "10 items to r0@example.org, r1@example.org, r2@example.org and 77 more; "
        "r80@example.org waiting (421 try later); r81@example.org waiting (421 try later); "
        "r82@example.org waiting (421 try later); 317 more waiting"
    )


def test_status_names_a_feed_that_moved_until_the_config_says_so(tmp_path, site):
    new_home = f"{site.base_url}/techwire/feed.xml"
    site.overrides = {"/old/techwire.xml": respond(301, b"", "text/plain", Location=new_home)}
    old_home = f"{site.base_url}/old/techwire.xml"
    path = write_config(tmp_path, site.base_url, feeds=[("Techwire", old_home, "Technology")])
    ran = run_cli("run", "--config", str(path))
    assert ran.returncode == 0, ran.stderr
    assert "moved permanently" in ran.stderr
    shown = run_cli("status", "--config", str(path))
    assert shown.returncode == 0, shown.stderr
    assert f"  Techwire <{old_home}>: now <{new_home}>" in shown.stdout.splitlines()
    listed = json.loads(run_cli("status", "--json", "--config", str(path)).stdout)
    assert listed["moved_feeds"] == [{"name": "Techwire", "url": old_home, "moved_to": new_home}]

    path.write_text(path.read_text().replace(old_home, new_home))
    assert "moved feeds" not in run_cli("status", "--config", str(path)).stdout
