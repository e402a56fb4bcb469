"""The daemon: catch-up of a missed run (once), clean stop on SIGTERM, cron validation."""

from __future__ import annotations

import re
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from conftest import (
    DEMO_FEEDS,
    REPO,
    _free_port,
    respond,
    run_cli,
    smtp_delivery,
    stall,
    stderr_lines,
    wait_for,
    write_config,
)

from digest.cli._schedule import (
    LOCKED_RETRY,
    UNAVAILABLE_RETRY,
    WallClockCron,
    _reload,
    _schedule,
    load_digests,
    missed_fire_time,
    retry_at,
    run_digest,
    say_runs_not_made,
    trigger_for,
)
from digest.config import load_config
from digest.crash_points import CRASH_VARIABLE
from digest.store._state import Store

NOW = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
DAILY_7 = CronTrigger.from_crontab("0 7 * * *", timezone=UTC)


@pytest.mark.parametrize(
    ("last_run", "grace", "expected"),
    [
        (NOW - timedelta(days=1), timedelta(hours=12), datetime(2026, 11, 23, 7, tzinfo=UTC)),
        # Three days down: one run, for the latest fire time only.
        (NOW - timedelta(days=3), timedelta(days=4), datetime(2026, 11, 23, 7, tzinfo=UTC)),
        (NOW - timedelta(hours=1), timedelta(hours=12), None),  # it ran after 07:00
        (NOW - timedelta(days=1), timedelta(hours=2), None),  # 07:00 is older than the grace
        (None, timedelta(hours=12), None),  # never ran: wait for the first fire time
    ],
)
def test_a_missed_run_is_the_latest_fire_time_after_the_last_run(last_run, grace, expected):
    assert missed_fire_time(DAILY_7, last_run, NOW, grace) == expected


def test_the_fire_time_follows_the_digest_timezone():
    paris = CronTrigger.from_crontab("0 7 * * *", timezone="Europe/Paris")
    missed = missed_fire_time(paris, NOW - timedelta(days=1), NOW, timedelta(hours=12))
    assert missed == datetime(2026, 11, 23, 6, tzinfo=UTC)  # 07:00 CET


def test_a_wall_clock_time_the_autumn_change_repeats_fires_once(tmp_path):
    config = write_config(
        tmp_path, "http://127.0.0.1:9", extra="schedule: 30 2 * * *\ntimezone: Europe/Berlin\n"
    )
    trigger = trigger_for(load_config(config))
    first = trigger.get_next_fire_time(None, datetime(2026, 10, 24, 12, 0, tzinfo=UTC))
    # (in UTC: an aware time in the repeated hour equals none of another zone, PEP 495)
    assert first.astimezone(UTC) == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # summer time
    # Not 01:30 UTC, 02:30 winter time the same night: the next night's.
    second = trigger.get_next_fire_time(first, first)
    assert second.astimezone(UTC) == datetime(2026, 10, 26, 1, 30, tzinfo=UTC)
    # A daemon started at 02:45 summer time, after that run, does not run it again either.
    started = datetime(2026, 10, 25, 0, 45, tzinfo=UTC)
    assert trigger.get_next_fire_time(None, started).astimezone(UTC) == second.astimezone(UTC)


@pytest.mark.parametrize(
    ("schedule", "fires"),
    [
        ("0,30 2 * * *", ["00:00", "00:30"]),  # fixed times: the first pass only
        ("0 * * * *", ["00:00", "01:00", "02:00"]),  # every hour: both passes, as in cron
        ("*/30 2 * * *", ["00:00", "00:30", "01:00", "01:30"]),
    ],
)
def test_the_hour_the_autumn_change_repeats_runs_as_in_cron(schedule, fires):
    trigger = WallClockCron.from_crontab(schedule, timezone=ZoneInfo("Europe/Berlin"))
    moment, seen = datetime(2026, 10, 24, 23, 59, tzinfo=UTC), []
    while True:
        moment = trigger.get_next_fire_time(moment if seen else None, moment)
        if moment.astimezone(UTC) > datetime(2026, 10, 25, 2, 0, tzinfo=UTC):
            break
        seen.append(moment.astimezone(UTC).strftime("%H:%M"))
    assert seen == fires


def test_a_bad_cron_line_is_one_line_with_file_and_line(tmp_path):
    config = write_config(tmp_path, "http://127.0.0.1:9", extra="schedule: 0 25 * * *\n")
    result = run_cli("schedule", "--config", str(config))
    assert result.returncode == 1
    (line,) = stderr_lines(result.stderr)
    assert line.startswith(f"digest: {config}:7: schedule: '0 25 * * *'")


def test_a_folder_needs_one_state_file_per_digest(tmp_path):
    for name in ("a.yaml", "b.yaml"):
        write_config(tmp_path, "http://127.0.0.1:9", extra="schedule: 0 7 * * *\n", name=name)
    digests, problems = load_digests(tmp_path)
    assert [d.config.path.name for d in digests] == ["a.yaml"]
    assert len(problems) == 1
    assert re.search(r"b.yaml: storage: .* is also the state of .*a.yaml", str(problems[0]))


def test_digests_of_one_title_are_told_apart_by_their_file_in_the_daemon_s_lines(tmp_path):
    """Two configs titled alike logged "Test Brief: run ok" twice, one with a failed feed,
    and the operator could not tell which (an operator's trial)."""
    for name, state in (("a.yaml", "a.db"), ("b.yaml", "b.db"), ("c.yaml", "c.db")):
        config = write_config(tmp_path, "http://127.0.0.1:9", name=name,
                              extra="schedule: 0 7 * * *\n")  # fmt: skip
        text = config.read_text().replace("state/digest.db", f"state/{state}")
        config.write_text(text.replace("Test Brief", "Other" if name == "c.yaml" else "Test Brief"))
    digests, problems = load_digests(tmp_path)
    assert problems == []
    assert [d.name for d in digests] == ["Test Brief (a.yaml)", "Test Brief (b.yaml)", "Other"]


def _folder_with_bad_configs(tmp_path: Path) -> Path:
    """good.yaml, plus a typo in bad.yaml and no `schedule` in manual.yaml."""
    folder = tmp_path / "etc"
    folder.mkdir()
    for name in ("bad.yaml", "good.yaml", "manual.yaml"):
        extra = "" if name == "manual.yaml" else "schedule: 0 7 * * *\n"
        path = write_config(folder, "http://127.0.0.1:9", extra=extra, name=name)
        path.write_text(path.read_text().replace("state/digest.db", f"state/{path.stem}.db"))
    bad = folder / "bad.yaml"
    bad.write_text(bad.read_text().replace("max_items:", "max_item:"))
    return folder


def test_a_state_file_reached_through_a_symlink_is_the_same_state(tmp_path):
    (tmp_path / "state").mkdir()
    (tmp_path / "statelink").symlink_to(tmp_path / "state")
    for name in ("a.yaml", "b.yaml"):
        config = write_config(tmp_path, "http://127.0.0.1:9", extra="schedule: 0 7 * * *\n",
                              name=name)  # fmt: skip
    # (absolute: a relative path is resolved against the config's folder, symlinks too)
    link = tmp_path / "statelink"
    config.write_text(config.read_text().replace("storage: state/", f"storage: {link}/"))
    digests, problems = load_digests(tmp_path)
    assert [d.config.path.name for d in digests] == ["a.yaml"]
    assert [str(p) for p in problems] == [
        f"{config}: storage: {tmp_path / 'statelink' / 'digest.db'} is also the state of "
        f"{tmp_path / 'a.yaml'}, under the same id; give each digest sharing a storage its own "
        "`id`, or its own storage"
    ]


def test_two_digests_writing_one_archive_folder_are_caught_at_start(tmp_path):
    # Each run rewrote the index and feed under its own title, with the other's entries.
    for name in ("a.yaml", "b.yaml"):
        config = write_config(tmp_path, "http://127.0.0.1:9", name=name,
                              extra="schedule: 0 7 * * *\narchive:\n  dir: public\n")  # fmt: skip
        config.write_text(config.read_text().replace("state/digest.db", f"state/{name}.db"))
    digests, problems = load_digests(tmp_path)
    assert [d.config.path.name for d in digests] == ["a.yaml"]
    assert [str(p) for p in problems] == [
        f"{tmp_path / 'b.yaml'}: archive.dir: {tmp_path / 'public'} is also the archive of "
        f"{tmp_path / 'a.yaml'}; give each digest its own archive folder"
    ]


def test_one_bad_config_in_the_folder_leaves_the_others_scheduled(tmp_path):
    folder = _folder_with_bad_configs(tmp_path)
    daemon = Daemon(folder)
    try:
        assert daemon.saw("daemon started", timeout=60), daemon.lines
    finally:
        code = daemon.stop()
    log = "\n".join(daemon.lines)
    assert code == 0, log
    assert f"digest: not scheduled: {folder / 'bad.yaml'}:3: max_item: unknown key" in log
    assert f"digest: not scheduled: {folder / 'manual.yaml'}: schedule: missing" in log
    assert "daemon started with 1 digest(s); 2 config(s) not scheduled" in log
    assert "Test Brief: schedule '0 7 * * *'" in log


def test_sighup_reads_the_configs_again_and_reschedules_them(tmp_path):
    """SIGHUP ended the daemon mid-delivery without a word, and systemd, taking that for a
    clean exit, left it down (an operator's trial). It is `systemctl reload digest` now."""
    folder = _folder_with_bad_configs(tmp_path)
    daemon = Daemon(folder)
    try:
        assert daemon.saw("daemon started", timeout=60), daemon.lines
        good, bad = folder / "good.yaml", folder / "bad.yaml"
        good.write_text(good.read_text().replace("schedule: 0 7 * * *", "schedule: 30 6 * * *"))
        bad.write_text(bad.read_text().replace("max_item:", "max_items:"))
        daemon.process.send_signal(signal.SIGHUP)
        assert daemon.saw("reloaded: 2 digest(s); 1 config(s) not scheduled", 60), daemon.lines
        # A typo is no way to unschedule a digest: its job stays, its runs say what is wrong.
        bad.write_text(bad.read_text().replace("max_items:", "max_item:"))
        daemon.process.send_signal(signal.SIGHUP)
        assert daemon.saw(f"kept as it was scheduled: {bad}:3: max_item", 60), daemon.lines
        assert daemon.saw(
            "reloaded: 2 digest(s) (1 kept as it was, see above); 1 config(s) not scheduled", 60
        ), daemon.lines
        # A folder with nothing valid left keeps the schedules it had.
        good.write_text(good.read_text().replace("max_items:", "max_item:"))
        daemon.process.send_signal(signal.SIGHUP)
        assert daemon.saw("reload failed, the schedules stay as they were", 60), daemon.lines
    finally:
        code = daemon.stop()
    log = "\n".join(daemon.lines)
    assert code == 0, log
    assert "Test Brief: schedule '0 7 * * *'" in log  # good.yaml, alone at the start
    # Two titles alike now: each named by its file.
    assert "Test Brief (good.yaml): schedule '30 6 * * *'" in log
    assert "Test Brief (bad.yaml): schedule '0 7 * * *'" in log
    assert "no longer scheduled" not in log
    assert "daemon stopped" in log


def test_a_sighup_while_the_daemon_reads_its_state_at_start_is_a_reload(tmp_path):
    # Its catch-up asks the store when it last ran; a PostgreSQL server that does not answer
    # holds it seconds. A SIGHUP then (a reload right after a restart) ended the daemon.
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen()  # accepts, never answers
    config = write_config(tmp_path, "http://127.0.0.1:9", extra="schedule: 0 7 * * *\n")
    url = f"postgresql://digest@127.0.0.1:{silent.getsockname()[1]}/digest"
    config.write_text(config.read_text().replace("storage: state/digest.db", f"storage: {url}"))
    try:
        daemon = Daemon(config)
        time.sleep(3)  # well inside the catch-up's connect timeout (10 s)
        daemon.process.send_signal(signal.SIGHUP)
        assert daemon.saw("reloaded: 1 digest(s)", timeout=60), daemon.lines
    finally:
        code = daemon.stop()
        silent.close()
    assert code == 0, daemon.lines


def test_a_reload_moves_a_pending_retry_to_the_new_settings_and_drops_a_removed_ones(tmp_path):
    folder = tmp_path / "etc"
    folder.mkdir()
    config = write_config(folder, "http://127.0.0.1:9", extra="schedule: 0 7 1 1 *\n")
    scheduler = BackgroundScheduler(timezone=UTC)
    scheduler.start(paused=True)  # jobs stored as the daemon's are, none run
    labels: dict[str, tuple[str, ZoneInfo]] = {}
    _schedule(scheduler, load_digests(folder)[0], labels, catch_up=False)
    retry = scheduler.get_job(str(config)).args[2]
    assert retry(LOCKED_RETRY) is not None  # a run skipped for the lock: retried
    config.write_text(config.read_text().replace("title: Test Brief", "title: Evening Brief"))
    _schedule(scheduler, load_digests(folder)[0], labels, catch_up=False)
    pending = scheduler.get_job(f"{config} (retry)")
    assert pending is not None and pending.name == "Evening Brief"
    assert pending.args[1] == "Evening Brief"
    # Taken out of the schedule while its run was under way: that run asks for no retry.
    scheduler.remove_all_jobs()
    assert pending.args[2](LOCKED_RETRY) is None
    assert scheduler.get_jobs() == []
    scheduler.shutdown(wait=False)


def test_a_reload_drops_a_config_that_now_claims_another_digests_state(tmp_path):
    # Kept, its job ran the clashing config against the other digest's state each time.
    folder = tmp_path / "etc"
    folder.mkdir()
    paths = {}
    for name in ("a.yaml", "b.yaml"):
        path = write_config(folder, "http://127.0.0.1:9", extra="schedule: 0 7 1 1 *\n", name=name)
        path.write_text(path.read_text().replace("state/digest.db", f"state/{path.stem}.db"))
        paths[name] = path
    scheduler = BackgroundScheduler(timezone=UTC)
    scheduler.start(paused=True)  # jobs stored as the daemon's are, none run
    labels: dict[str, tuple[str, ZoneInfo]] = {}
    _schedule(scheduler, load_digests(folder)[0], labels, catch_up=False)
    b = paths["b.yaml"]
    b.write_text(b.read_text().replace("state/b.db", "state/a.db"))
    _reload(scheduler, folder, labels)
    assert [job.id for job in scheduler.get_jobs()] == [str(paths["a.yaml"])]
    # A typo instead keeps the job it had; a file gone takes it along.
    b.write_text(b.read_text().replace("state/a.db", "state/b.db"))
    _reload(scheduler, folder, labels)
    b.write_text(b.read_text().replace("max_items:", "max_item:"))
    _reload(scheduler, folder, labels)
    assert sorted(job.id for job in scheduler.get_jobs()) == [str(p) for p in paths.values()]
    b.unlink()
    _reload(scheduler, folder, labels)
    assert [job.id for job in scheduler.get_jobs()] == [str(paths["a.yaml"])]
    scheduler.shutdown(wait=False)


def test_a_daemon_stopped_the_moment_it_says_it_started_exits(tmp_path):
    # systemd may stop a unit the moment it started: a SIGTERM that landed after the
    # handler was set but before the scheduler ran was dropped, and the daemon ran on. The
    # signal goes from the thread that reads the line, with no wait in between.
    folder = _folder_with_bad_configs(tmp_path)
    for _ in range(10):
        daemon = Daemon(folder, signal_on="daemon started")
        assert daemon.wait() == 0, daemon.lines


def test_a_folder_s_yml_configs_are_scheduled_as_its_yaml_ones(tmp_path):
    # A folder of *.yml files was "no *.yaml digest configs", and a .yml beside .yaml files
    # was left out without a word.
    folder = _folder_with_bad_configs(tmp_path)
    (folder / "good.yaml").rename(folder / "good.yml")
    digests, problems = load_digests(folder)
    assert [d.config.path.name for d in digests] == ["good.yml"]
    assert sorted(Path(p.path).name for p in problems) == ["bad.yaml", "manual.yaml"]
    (folder / "bad.yaml").unlink()
    (folder / "manual.yaml").unlink()
    (folder / "good.yml").unlink()
    result = run_cli("schedule", "--config", str(folder), timeout=60)
    assert result.returncode == 1
    assert f"{folder}: no *.yaml or *.yml digest configs in this folder" in result.stderr


def test_a_folder_with_no_valid_config_exits_1_naming_each(tmp_path):
    folder = _folder_with_bad_configs(tmp_path)
    (folder / "good.yaml").unlink()
    result = run_cli("schedule", "--config", str(folder), timeout=60)
    assert result.returncode == 1
    lines = stderr_lines(result.stderr)
    assert len(lines) == 3, lines
    assert lines[0].startswith(f"digest: not scheduled: {folder / 'bad.yaml'}:3: ")
    assert lines[1].startswith(f"digest: not scheduled: {folder / 'manual.yaml'}: ")
    assert lines[2] == f"digest: {folder}: no valid digest config to schedule (2 with errors)"


def test_a_scheduled_run_that_sends_a_queued_digest_says_so(tmp_path, site, smtp_server):
    """The daemon's line said "nothing new" for a run that sent what an earlier run had
    queued for a recipient whose server had said "try later"."""
    smtp_server.defer = {"later@example.org"}
    delivery = smtp_delivery(smtp_server, to="[ana@example.org, later@example.org]")
    config = write_config(tmp_path, site.base_url, delivery=delivery, feeds=DEMO_FEEDS[:1])
    assert run_cli("run", "--config", str(config)).returncode == 0
    smtp_server.defer = set()
    outcome = run_digest(config, "Test Brief")
    assert outcome == (
        "ok: nothing new (0 new articles); sent the queued digest to later@example.org"
    )


def test_a_run_skipped_for_the_lock_tries_again_until_the_cron_comes_first(tmp_path):
    # A preview holding the lock at the fire time cost a daily digest its day: the run was
    # skipped and nothing tried it again.
    config = write_config(tmp_path, "http://127.0.0.1:9", extra="schedule: 0 7 * * *\n")
    again = datetime(2026, 12, 7, 9, 1, tzinfo=UTC)
    asked: list[bool] = []
    store = Store.open(tmp_path / "state" / "digest.db")
    try:
        with store.run_lock(datetime.now(UTC)):
            outcome = run_digest(config, "Test Brief", lambda delay: asked.append(delay) or again)
    finally:
        store.close()
    assert outcome.startswith("skipped: ") and "another run of this digest" in outcome
    assert outcome.endswith("; trying again at 2026-12-07T09:01:00+00:00")
    assert asked == [LOCKED_RETRY]
    daily = CronTrigger.from_crontab("0 7 * * *", timezone=UTC)
    now = datetime(2026, 12, 7, 6, 30, tzinfo=UTC)
    assert retry_at(daily, now, LOCKED_RETRY) == now + timedelta(minutes=1)
    assert retry_at(daily, datetime(2026, 12, 7, 6, 59, 30, tzinfo=UTC), LOCKED_RETRY) is None


def test_a_run_whose_postgresql_server_is_away_tries_again_later(tmp_path):
    # A server restarting at the fire time failed the run, and a daily digest lost its day.
    config = write_config(tmp_path, "http://127.0.0.1:9", extra="schedule: 0 7 * * *\n")
    port = _free_port()  # nothing listens there
    config.write_text(
        config.read_text().replace(
            "storage: state/digest.db", f"storage: postgresql://digest@127.0.0.1:{port}/digest"
        )
    )
    asked: list[timedelta] = []
    again = datetime(2026, 12, 7, 9, 5, tzinfo=UTC)
    outcome = run_digest(config, "Test Brief", lambda delay: asked.append(delay) or again)
    assert outcome.startswith("failed: postgresql://digest@127.0.0.1:")
    assert "cannot open the state database" in outcome and "refused" in outcome
    assert outcome.endswith("; trying again at 2026-12-07T09:05:00+00:00")
    assert asked == [UNAVAILABLE_RETRY]


def test_a_config_broken_while_the_daemon_runs_fails_that_run_only(tmp_path):
    config = write_config(tmp_path, "http://127.0.0.1:9", extra="schedule: 0 7 * * *\n")
    config.write_text(config.read_text().replace("max_items:", "max_item:"))
    outcome = run_digest(config, "Test Brief")  # what the job calls; it must not raise
    assert outcome.startswith(f"failed: {config}:3: max_item: unknown key")


class Daemon:
    """`digest schedule` in a subprocess, its log collected line by line."""

    def __init__(self, config: Path, signal_on: str | None = None, verbose: bool = False):
        self.signal_on = signal_on  # SIGTERM the daemon as soon as a line holds this
        self.process = subprocess.Popen(
            [sys.executable, "-m", "digest", "schedule", "--config", str(config)]
            + (["-v"] if verbose else []),
            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        self.lines: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            if self.signal_on and self.signal_on in line:
                self.process.send_signal(signal.SIGTERM)
            self.lines.append(line.rstrip("\n"))

    def saw(self, text: str, timeout: float = 180) -> bool:
        return wait_for(lambda: any(text in line for line in self.lines), timeout=timeout)

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.wait()

    def wait(self) -> int:
        try:
            code = self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:  # fail the test, but leave no daemon behind
            self.process.kill()
            self.process.wait()
            raise
        self.reader.join(timeout=5)
        if self.process.stdout is not None:
            self.process.stdout.close()
        return code


def _daily_config(tmp_path: Path, base_url: str, name: str, state: str, **kwargs) -> Path:
    """A digest due every day 5 minutes ago (so its next run is a day away)."""
    due = datetime.now(UTC) - timedelta(minutes=5)
    extra = f"schedule: {due.minute} {due.hour} * * *\ntimezone: UTC\n"
    path = write_config(tmp_path, base_url, extra=extra, name=name, **kwargs)
    path.write_text(
        path.read_text()
        .replace("title: Test Brief", f"title: {state}")
        .replace("storage: state/digest.db", f"storage: state/{state}.db")
        .replace("outbox: outbox", f"outbox: outbox-{state}")
    )
    return path


def _ran_yesterday(config: Path, state: str) -> None:
    store = Store.open(config.parent / "state" / f"{state}.db")
    with store.run_lock(datetime.now(UTC) - timedelta(days=1)):
        pass
    store.close()


def test_a_run_missed_while_down_runs_once_when_back_never_twice(tmp_path, site):
    folder = tmp_path / "digests"
    folder.mkdir()
    for state in ("brief", "markets"):
        config = _daily_config(folder, site.base_url, f"{state}.yaml", state,
                               feeds=DEMO_FEEDS[:2])  # fmt: skip
        _ran_yesterday(config, state)
    first = Daemon(folder)
    try:
        assert first.saw("brief: run ok: delivered"), first.lines
        assert first.saw("markets: run ok: delivered"), first.lines
    finally:
        assert first.stop() == 0, first.lines
    log = "\n".join(first.lines)
    assert log.count("missed the run of") == 2
    assert log.count("run started") == 2
    assert "daemon stopped" in log
    for state in ("brief", "markets"):
        assert len(list((folder / f"outbox-{state}").glob("*.eml"))) == 1
    assert all(line.rstrip().endswith("s)") for line in first.lines if "run ok" in line)

    second = Daemon(folder)
    try:
        assert second.saw("daemon started"), second.lines
        time.sleep(2)
    finally:
        assert second.stop() == 0
    log = "\n".join(second.lines)
    assert "missed" not in log and "run started" not in log, log
    assert "next run" in log


@pytest.mark.parametrize("first", [False, True], ids=["a run before", "its first run"])
def test_a_daemon_back_after_a_run_died_mid_delivery_finishes_it_at_once(tmp_path, site, first):
    """The run of this fire time staged its digest and was killed (an OOM kill, a reboot)
    before sending: the daemon, back, counted that run as the fire time's and left the
    readers waiting a day (an operator's trial). A run that died does not count, nor does
    it make a digest that never ran to the end one that never ran."""
    config = _daily_config(tmp_path, site.base_url, "brief.yaml", "brief", feeds=DEMO_FEEDS[:1])
    if not first:
        _ran_yesterday(config, "brief")
    died = run_cli("run", "--config", str(config), env={CRASH_VARIABLE: "after-stage"})
    assert died.returncode == -signal.SIGKILL
    assert not list((tmp_path / "outbox-brief").glob("*.eml"))
    daemon = Daemon(config)
    try:
        assert daemon.saw("brief: run ok", timeout=60), daemon.lines
    finally:
        assert daemon.stop() == 0, daemon.lines
    assert any("missed the run of" in line for line in daemon.lines), daemon.lines
    assert len(list((tmp_path / "outbox-brief").glob("*.eml"))) == 1


def test_a_daemon_up_before_its_postgresql_still_runs_the_fire_time_it_owes(
    tmp_path, site, digest_log
):
    # After a reboot that started the daemon before PostgreSQL, an unreadable state read as
    # "never ran": no catch-up, and the day's digest waited a day (an operator's trial). The
    # latest fire time now runs, and the run checks its state itself (and retries).
    from digest.cli._schedule import ScheduledDigest, _missed_at_start, _schedule, trigger_for

    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there: connection refused
    path = _daily_config(tmp_path, site.base_url, "brief.yaml", "brief")
    url = f"postgresql://digest@127.0.0.1:{port}/digest"
    path.write_text(path.read_text().replace("storage: state/brief.db", f"storage: {url}"))
    config = load_config(path)
    now = datetime.now(UTC)
    missed, unread = _missed_at_start(ScheduledDigest(config, trigger_for(config)), now)
    assert missed is not None and now - timedelta(minutes=6) < missed < now
    assert f"127.0.0.1:{port}" in unread
    # With no fire time within schedule_grace there is none to catch up: said, not silent.
    path.write_text(path.read_text() + "schedule_grace: 1m\n")
    late = load_config(path)
    scheduler = BackgroundScheduler(timezone=UTC)
    scheduler.start(paused=True)
    try:
        _schedule(scheduler, [ScheduledDigest(late, trigger_for(late))], {}, catch_up=True)
    finally:
        scheduler.shutdown(wait=False)
    assert f"brief: cannot read its state now ({unread}); no fire time to catch up" in (
        digest_log.text
    )


def test_the_daemon_logs_which_feed_failed_and_why_as_run_does(tmp_path, site):
    """The daemon's log said "1 feed failed" and nothing of which feed or why, where
    `digest run` names the feed, its URL and the answer."""
    site.overrides = {"/gone/feed.xml": respond(404, b"no", "text/plain")}
    feeds = [*DEMO_FEEDS[:1], ("Gone", f"{site.base_url}/gone/feed.xml", "World")]
    config = _daily_config(tmp_path, site.base_url, "brief.yaml", "brief", feeds=feeds)
    _ran_yesterday(config, "brief")
    daemon = Daemon(config)
    try:
        assert daemon.saw("brief: run ok: delivered"), daemon.lines
    finally:
        assert daemon.stop() == 0, daemon.lines
    (line,) = [line for line in daemon.lines if "skipped: feed 'Gone'" in line]
    assert line.endswith(
        f"digest: brief: skipped: feed 'Gone' ({site.base_url}/gone/feed.xml): HTTP 404 Not Found"
    ), line
    # With -v the failure is logged as it happens: said once, not again after the run.
    again = _daily_config(tmp_path, site.base_url, "again.yaml", "again", feeds=feeds)
    _ran_yesterday(again, "again")
    verbose = Daemon(again, verbose=True)
    try:
        assert verbose.saw("again: run ok"), verbose.lines
    finally:
        assert verbose.stop() == 0, verbose.lines
    said = [line for line in verbose.lines if "gone/feed.xml): HTTP 404" in line]
    assert len(said) == 1, said


def _daemon_in_a_slow_run(tmp_path, site, demo_feeds: int) -> Daemon:
    """The daemon of a digest that missed yesterday's run, half a second into the run it
    makes at once, whose last feed stalls 3 s."""
    site.overrides = {"/slow/feed.xml": stall(3)}
    feeds = [*DEMO_FEEDS[:demo_feeds], ("Slow", f"{site.base_url}/slow/feed.xml", "World")]
    config = _daily_config(tmp_path, site.base_url, "brief.yaml", "brief", feeds=feeds)
    config.write_text(config.read_text().replace("timeout: 2", "timeout: 10"))
    _ran_yesterday(config, "brief")
    daemon = Daemon(config)
    if not daemon.saw("run started"):
        daemon.stop()
        raise AssertionError(daemon.lines)
    time.sleep(0.5)
    return daemon


def test_sigterm_lets_the_running_job_finish(tmp_path, site):
    daemon = _daemon_in_a_slow_run(tmp_path, site, 2)
    code = daemon.stop()
    log = "\n".join(daemon.lines)
    assert code == 0, log
    assert "stopping after the running job finishes" in log
    assert log.index("stopping after") < log.index("run ok") < log.index("daemon stopped")
    assert len(list((tmp_path / "outbox-brief").glob("*.eml"))) == 1
    with sqlite3.connect(tmp_path / "state" / "brief.db") as db:
        outcomes = [row[0] for row in db.execute("SELECT outcome FROM runs ORDER BY id")]
    assert outcomes == ["ok", "ok"]


def test_a_second_sigterm_while_the_job_finishes_changes_nothing(tmp_path, site):
    # The second signal was left pending by the mask, then raised in the main thread once
    # the job was done: exit 143 and no "daemon stopped" (systemd restarts on failure).
    daemon = _daemon_in_a_slow_run(tmp_path, site, 1)
    try:
        daemon.process.send_signal(signal.SIGTERM)
        assert daemon.saw("stopping after the running job finishes", timeout=30)
    finally:
        code = daemon.stop()
    log = "\n".join(daemon.lines)
    assert code == 0, log
    assert "received SIGTERM again: still stopping after the running job finishes" in log
    assert log.index("run ok") < log.index("daemon stopped")


def test_a_second_run_by_hand_while_one_is_on_exits_1_naming_the_first(tmp_path, site):
    site.overrides = {"/slow/feed.xml": stall(3)}
    feeds = [*DEMO_FEEDS[:1], ("Slow", f"{site.base_url}/slow/feed.xml", "World")]
    config = write_config(tmp_path, site.base_url, feeds=feeds)
    config.write_text(config.read_text().replace("timeout: 2", "timeout: 10"))
    first = subprocess.Popen(
        [sys.executable, "-m", "digest", "run", "--config", str(config)],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        state = tmp_path / "state" / "digest.db"
        assert wait_for(lambda: state.exists() and _runs(state) == 1, timeout=30)
        second = run_cli("run", "--config", str(config))
    finally:
        _, err = first.communicate(timeout=60)
    assert first.returncode == 0, err
    assert second.returncode == 1
    message = second.stderr.strip()
    assert "\n" not in message
    assert f"another run of this digest (pid {first.pid}, started 20" in message
    assert _runs(state) == 1  # the loser left no trace


def _runs(state: Path) -> int:
    try:
        with sqlite3.connect(state) as db:
            return db.execute("SELECT COUNT(*) FROM runs").fetchone()[0]
    except sqlite3.Error:
        return 0


def test_a_fire_time_another_process_ran_to_the_end_is_not_run_again(tmp_path, site):
    """Two daemons on the same configs (one per machine, for redundancy) each ran every fire
    time, the second after the first let go of the lock: two emails each time (an
    operator's trial). A run that failed is tried again, as one daemon alone would."""
    config = _daily_config(tmp_path, site.base_url, "brief.yaml", "brief", feeds=DEMO_FEEDS[:1])
    assert run_cli("run", "--config", str(config)).returncode == 0  # the other daemon's run
    outcome = run_digest(config, "brief")
    assert re.fullmatch(
        r"skipped: the run of \d{4}-\d\d-\d\dT\d\d:\d\d\+00:00 was made already, by another "
        r"process \(a run that started \S+\)",
        outcome,
    ), outcome
    assert len(list((tmp_path / "outbox-brief").glob("*.eml"))) == 1

    (tmp_path / "dead").mkdir()
    dead = _daily_config(tmp_path / "dead", "http://127.0.0.1:9", "dead.yaml", "dead")
    assert run_cli("run", "--config", str(dead)).returncode == 1  # every feed failed
    assert run_digest(dead, "dead").startswith("failed: ")  # made again, not skipped


def test_a_fire_time_whose_digest_went_out_to_some_readers_is_not_run_again(
    tmp_path, site, smtp_server
):
    """A run with one refused reader fails, yet its digest went out: one dead mailbox on a
    long list made every fire time run twice again (a review of this stop's changes)."""
    smtp_server.refuse = {"gone@example.org"}
    delivery = smtp_delivery(smtp_server, to="[ana@example.org, gone@example.org]")
    config = _daily_config(tmp_path, site.base_url, "brief.yaml", "brief",
                           feeds=DEMO_FEEDS[:1], delivery=delivery)  # fmt: skip
    assert run_cli("run", "--config", str(config)).returncode == 1  # gone@ refused
    assert run_digest(config, "brief").startswith("skipped: the run of ")
    assert len(smtp_server.messages) == 1


@pytest.mark.parametrize(
    ("zone", "cron", "now", "fired"),
    [
        # the hour the autumn change repeats, second pass: a job at "*" hours runs in it
        ("Europe/Berlin", "0 * * * *", "2026-10-25T01:00:12", "2026-10-25T01:00"),
        ("Europe/Berlin", "0 * * * *", "2026-10-25T03:30:00", "2026-10-25T03:00"),
        ("America/New_York", "0 * * * *", "2026-11-01T06:00:00", "2026-11-01T06:00"),
        ("Europe/London", "*/30 * * * *", "2026-10-25T01:10:00", "2026-10-25T01:00"),
        # a job at a fixed time runs in the first pass only
        ("Europe/Berlin", "30 2 * * *", "2026-10-25T01:40:00", "2026-10-25T00:30"),
    ],
)
def test_the_latest_fire_time_across_the_autumn_change_is_found_in_time(zone, cron, now, fired):
    """A fire time in the repeated hour plus a second, in local time, lost its fold and gave
    the same fire time again: every run of a "0 * * * *" digest spun for ever there (a
    review of this stop's changes)."""
    from digest.cli._schedule import latest_fire_time

    trigger = WallClockCron.from_crontab(cron, timezone=ZoneInfo(zone))
    found: list[datetime | None] = []
    at = datetime.fromisoformat(now).replace(tzinfo=UTC)
    worker = threading.Thread(
        target=lambda: found.append(latest_fire_time(trigger, at, timedelta(hours=12))),
        daemon=True,
    )
    worker.start()
    worker.join(5)
    assert found, "latest_fire_time did not return"
    assert found[0] is not None
    assert found[0].astimezone(UTC) == datetime.fromisoformat(fired).replace(tzinfo=UTC)


def test_a_fire_time_that_finds_the_run_before_still_going_is_logged(digest_log):
    # A run longer than the schedule's step skipped the next fire time without a word, while
    # the other digests logged "run started" (an operator's trial).
    scheduler = BackgroundScheduler(timezone=UTC)
    say_runs_not_made(scheduler, {"slow.yaml": ("Slow Brief", ZoneInfo("Europe/Paris"))})
    busy = threading.Event()
    scheduler.add_job(busy.wait, IntervalTrigger(seconds=0.2), args=(1.5,), id="slow.yaml",
                      name="Slow Brief", max_instances=1, coalesce=True)  # fmt: skip
    scheduler.start()
    try:
        assert wait_for(lambda: "Slow Brief: no run for" in digest_log.text, timeout=10)
    finally:
        busy.set()
        scheduler.shutdown(wait=True)
    assert "its run before is still going" in digest_log.text
    assert "+01:00" in digest_log.text  # in the digest's timezone, as its other lines
