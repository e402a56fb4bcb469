"""The daemon: run each digest at its `schedule` (a cron line in its `timezone`).

`digest schedule --config FILE_OR_DIR` runs an apscheduler scheduler in the
foreground, one job per config. Each run is logged (start, outcome, duration); SIGTERM or
SIGINT stops the daemon after the running job finishes.

Missed runs. apscheduler's in-memory job store forgets everything when the daemon stops, so
it cannot know a run was missed while the machine was down. The store can: at start, a
digest whose cron fired within `schedule_grace` after the last run recorded in its state
(by the daemon, cron or a hand) runs once, now, however many fire times it missed. The
run it makes is recorded too, so a restart right after does not run it again. Misses
older than the grace are skipped. A digest that never ran waits for its first fire time.

Overlap. One job per digest with max_instances=1, and the run lock in the digest's state
(store/_db.py), which also keeps a cron or manual run from overlapping the daemon's. A run
skipped for the lock (a preview or a run by hand held it) tries again LOCKED_RETRY later,
one whose PostgreSQL server was away UNAVAILABLE_RETRY later.
"""

from __future__ import annotations

import logging
import signal
import sqlite3
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.events import (
    EVENT_JOB_MAX_INSTANCES,
    EVENT_JOB_MISSED,
    JobExecutionEvent,
    JobSubmissionEvent,
)
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger

from ..config import Config, load_config
from ..errors import (
    ConfigError,
    DeliveryError,
    DigestError,
    RunLocked,
    StoreError,
    StoreUnavailable,
)
from ..models import RunReport
from ..store import MADE_ITS_DIGEST, RUN_ENDED, last_run, maybe_time
from ..text import first_few, plural
from ._problems import LoggedProblems, delivery_lines, logging_problems, problem_lines
from ._progress import LogProgress, items_and_follow_ups

log = logging.getLogger("digest.schedule")


@dataclass(frozen=True)
class ScheduledDigest:
    config: Config
    trigger: CronTrigger
    # What the daemon's lines call it: its title, and its config file's name where another
    # digest of the folder has that title (two "Morning Brief" lines could not be told apart).
    label: str = ""

    @property
    def name(self) -> str:
        return self.label or self.config.title


def trigger_for(config: Config) -> CronTrigger:
    if config.schedule is None:
        raise ConfigError(
            "schedule: missing; the daemon needs a cron line such as '0 7 * * *'",
            path=str(config.path),
        )
    return WallClockCron.from_crontab(config.schedule, timezone=ZoneInfo(config.timezone))


class WallClockCron(CronTrigger):
    """A cron line read as cron reads it at the autumn clock change. A job at fixed times
    (neither its minute nor its hour a `*` field) runs once in the hour the change
    repeats: apscheduler fired "30 2 * * *" in Europe/Berlin at 02:30 summer time and again
    an hour later at 02:30 winter time, two digests in one night. A job whose minute or
    hour is `*` (`0 * * * *`, `*/15 2 * * *`) runs in both passes of that hour, as in cron."""

    def get_next_fire_time(
        self, previous_fire_time: datetime | None, now: datetime
    ) -> datetime | None:
        fire = super().get_next_fire_time(previous_fire_time, now)
        if self._wildcard():
            return fire
        while fire is not None and self._repeated(fire):
            fire = super().get_next_fire_time(fire, fire)
        return fire

    def _wildcard(self) -> bool:
        fields = {field.name: str(field) for field in self.fields}
        return fields["minute"].startswith("*") or fields["hour"].startswith("*")

    def _repeated(self, moment: datetime) -> bool:
        """Whether `moment` is in the second pass of an hour the clock change repeats."""
        local = moment.astimezone(self.timezone)
        first = local.replace(fold=0)
        return local.fold == 1 and first.utcoffset() != local.utcoffset()


def load_digests(path: Path) -> tuple[list[ScheduledDigest], list[DigestError]]:
    """One config file, or every *.yaml and *.yml of a folder; each must have a `schedule`.

    A folder's bad configs (broken YAML, no `schedule`, a state file another digest uses)
    are returned as problems and left out, so that one typo in a new file does not stop
    every other digest; the caller fails only when no config is valid. A single file that
    is bad raises its ConfigError.
    """
    if not path.is_dir():
        config = load_config(path)
        return [ScheduledDigest(config, trigger_for(config))], []
    files = config_files(path)
    digests: list[ScheduledDigest] = []
    problems: list[DigestError] = []
    # Configs may share a storage (its article pool), each with its own `id`.
    owners: dict[tuple[object, ...], Path] = {}  # what a config claims -> the first that did
    for file in files:
        try:
            config = load_config(file)
            digest = ScheduledDigest(config, trigger_for(config))
        except DigestError as error:
            problems.append(error)
            continue
        # The file itself: one reached through a symlink is the same state.
        storage = config.storage.resolve() if isinstance(config.storage, Path) else config.storage
        archive = config.archive.folder if config.archive is not None else None
        if other := _claimed(owners, ("state", storage, config.id), config.path):
            clash = (
                f"storage: {config.storage} is also the state of {other}, under the same id; "
                "give each digest sharing a storage its own `id`, or its own storage"
            )
        # One archive folder holds one digest's index and feed: two wrote each other's
        # entries under one title.
        elif archive and (other := _claimed(owners, ("archive", archive.resolve()), config.path)):
            clash = (
                f"archive.dir: {archive} is also the archive of {other}; give each digest its "
                "own archive folder"
            )
        else:
            digests.append(digest)
            continue
        problems.append(ConfigError(clash, path=str(config.path)))
    titles = Counter(digest.config.title for digest in digests)
    named = [
        replace(digest, label=f"{digest.config.title} ({digest.config.path.name})")
        if titles[digest.config.title] > 1 else digest
        for digest in digests
    ]  # fmt: skip
    return named, problems


def config_files(folder: Path) -> list[Path]:
    """The digest configs of a folder: its *.yaml and *.yml files, by name."""
    files = sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")])
    if not files:
        raise ConfigError("no *.yaml or *.yml digest configs in this folder", path=str(folder))
    return files


def _claimed(
    owners: dict[tuple[object, ...], Path], what: tuple[object, ...], config: Path
) -> Path | None:
    """`what` claimed for the digest of `config`: the config that claimed it first, if
    another."""
    other = owners.setdefault(what, config)
    return None if other == config else other


def next_run(config: Config, now: datetime) -> datetime | None:
    """When the daemon runs this digest next, or None without a schedule."""
    if config.schedule is None:
        return None
    return trigger_for(config).get_next_fire_time(None, now)


def missed_fire_time(
    trigger: CronTrigger, last_run: datetime | None, now: datetime, grace: timedelta
) -> datetime | None:
    """The latest fire time within `grace` before `now` that no run followed, or None."""
    if last_run is None:
        return None
    latest = latest_fire_time(trigger, now, grace)
    if latest is None or last_run >= latest:
        return None
    return latest


def latest_fire_time(trigger: CronTrigger, now: datetime, grace: timedelta) -> datetime | None:
    """The latest fire time of `trigger` within `grace` before `now`, or None."""
    latest = None
    moment = trigger.get_next_fire_time(None, now - grace)
    while moment is not None and moment <= now:
        latest = moment
        # The second after, in UTC: in local time, 02:00 of the hour the autumn change
        # repeats (fold=1) plus a second lost its fold and gave that 02:00 again, for ever.
        after = trigger.get_next_fire_time(moment, moment.astimezone(UTC) + timedelta(seconds=1))
        # (In UTC: two times of one zone compare by wall clock, ignoring the fold.)
        if after is not None and after.astimezone(UTC) <= moment.astimezone(UTC):
            break  # no way forward: stop, never spin
        moment = after
    return latest


def last_run_started(config: Config, made: bool = False, ended: bool = True) -> datetime | None:
    """When the latest run of this digest that ended started, read from its state (None:
    never); with `made`, the latest of those that made their digest (store.MADE_ITS_DIGEST);
    with `ended` False, of any run. A run that died (killed mid-delivery, a reboot) is no
    run of its fire time: the readers it had not reached would wait for the next one
    (store.RUN_ENDED). Raises StoreError when the state cannot be read now (a PostgreSQL
    server not up yet): that is no answer, and never "never ran"."""
    if isinstance(config.storage, str):  # PostgreSQL
        return last_run(config.storage, config.id, made=made, ended=ended)
    if not config.storage.exists():
        return None
    condition = MADE_ITS_DIGEST if made else RUN_ENDED if ended else ""
    try:
        with sqlite3.connect(f"file:{config.storage}?mode=ro", uri=True, timeout=10) as db:
            # A preview sends nothing: it must not count as the run a fire time asked for.
            try:
                row = db.execute(
                    f"SELECT MAX(started) FROM runs WHERE digest = ? AND kind = 'run'{condition}",
                    (config.id,),
                ).fetchone()
            except sqlite3.OperationalError:  # from before 012_shared_store: one digest
                row = None
            if row is None and not config.id and not made:
                row = _last_run_of_older_state(db)
    except sqlite3.Error as error:
        raise StoreError(f"{config.storage}: cannot read the last run ({error})") from None
    if not row or not row[0]:
        return None
    return maybe_time(row[0])


def _last_run_of_older_state(db: sqlite3.Connection) -> Any:
    """The row of the latest run's start in a state file from before 012_shared_store."""
    try:
        return db.execute("SELECT MAX(started) FROM runs WHERE kind = 'run'").fetchone()
    except sqlite3.OperationalError:  # a state file from before 007_run_kind
        return db.execute(
            "SELECT MAX(started) FROM runs WHERE outcome IS NOT 'preview' "
            "AND COALESCE(detail, '') NOT LIKE 'preview%'"
        ).fetchone()


# A run skipped because another held the digest's lock (a preview, a run by hand) tries
# again this much later, and one whose PostgreSQL server was away (a restart) this much,
# until the cron's own next time comes first: else a daily digest lost its day.
LOCKED_RETRY = timedelta(minutes=1)
# A digest's retry is a job of its own, under its config's job id and this.
RETRY_SUFFIX = " (retry)"
UNAVAILABLE_RETRY = timedelta(minutes=5)

Retry = Callable[[timedelta], datetime | None]


def retry_at(trigger: CronTrigger, now: datetime, delay: timedelta) -> datetime | None:
    """When a run tries again after `delay`, or None: the cron fires first."""
    when = now + delay
    upcoming = trigger.get_next_fire_time(None, now)
    return None if upcoming is not None and upcoming <= when else when


def run_digest(config_path: Path, name: str, retry: Retry | None = None) -> str:
    """One scheduled run: reload the config (edits apply without a restart), run, log.
    `retry(delay)`, should another run hold the digest's lock or the state's server be
    away, schedules this run again and says when (or None: not again)."""
    # Here, not at the top: `digest status` reads next_run() from this module and needs no
    # stage (see digest/cli/_commands.py).
    from .. import pipeline

    started = time.monotonic()
    log.info("%s: run started", name)
    logged = LoggedProblems()  # what -v showed as it happened, not said again
    try:
        config = load_config(config_path)
        if ran := _slot_already_run(config, datetime.now(UTC)):
            log.info("%s: run skipped: %s", name, ran)
            return f"skipped: {ran}"
        # A line per stage, named: the daemon's digests may run at the same time.
        progress = LogProgress(log.info, prefix=f"{name}: ")
        with logging_problems() as logged, progress, pipeline.reporting_progress(progress):
            report = pipeline.run(config)
    except (RunLocked, StoreUnavailable) as error:
        locked = isinstance(error, RunLocked)
        outcome = f"{'skipped' if locked else 'failed'}: {error}"
        again = retry(LOCKED_RETRY if locked else UNAVAILABLE_RETRY) if retry else None
        if again is not None:
            outcome += f"; trying again at {again.isoformat(timespec='seconds')}"
    except DigestError as error:
        outcome = f"failed: {error}"
        if isinstance(error, DeliveryError) and error.report is not None:
            _log_problems(name, error.report, logged)  # the feeds' problems matter here too
            if error.report.resent_to:  # what went out before the new digest failed
                outcome += f"; sent the queued digest to {first_few(error.report.resent_to)}"
    except Exception as error:  # the daemon must outlive any one run's bug
        log.exception("%s: run crashed", name)
        outcome = f"failed: {type(error).__name__}: {error}"
    else:
        _log_problems(name, report, logged)
        if report.digest is None:
            done = f"nothing new ({report.articles_new} new articles)"
        else:
            shown = items_and_follow_ups(len(report.digest.items), report.articles_joined_delivered)
            done = f"delivered {shown} to {first_few(report.delivered_to) or 'nobody'}"
        if report.resent_to:  # what an earlier run queued, sent now
            done += f"; sent the queued digest to {first_few(report.resent_to)}"
        # What makes `digest run` exit 1 (every feed failed, a recipient refused).
        failure = report.failure
        outcome = f"failed: {failure}; {done}" if failure else f"ok: {done}"
        if report.deferred:
            outcome += f"; queued for {', '.join(report.deferred)}"
        if report.feeds_failed and len(report.feeds_failed) < len(config.feeds):
            outcome += f"; {plural(len(report.feeds_failed), 'feed')} failed"
    log.info("%s: run %s (%.1fs)", name, outcome, time.monotonic() - started)
    return outcome


def _slot_already_run(config: Config, now: datetime) -> str:
    """Why this run is not to be made, or "": since the cron's latest fire time (within the
    grace) a run made its digest, which another process made (a second daemon on the same
    configs, kept for redundancy on another machine; a run by hand). Each daemon ran every
    fire time, the second after the first let go of the lock: two emails per fire time. A
    run that failed before its digest went out, or died, does not count: the daemon tries
    again, as it would alone."""
    if config.schedule is None:  # not scheduled: a run asked for by hand (tests, tools)
        return ""
    slot = latest_fire_time(trigger_for(config), now, config.schedule_grace)
    if slot is None:
        return ""
    try:
        ran = last_run_started(config, made=True)
    except StoreError as error:  # the run that follows says what is wrong with the state
        log.debug("%s: %s", config.path, error)
        return ""
    if ran is None or ran < slot:
        return ""
    when = slot.astimezone(ZoneInfo(config.timezone)).isoformat(timespec="minutes")
    return (
        f"the run of {when} was made already, by another process (a run that started "
        f"{ran.isoformat(timespec='seconds')})"
    )


def _log_problems(name: str, report: RunReport, logged: LoggedProblems) -> None:
    """The lines `digest run` prints for the run's problems, named by digest: which feed
    failed and why, which recipient a server refused and its reason; those the log showed
    as they happened (with -v: `logged`) are not said again."""
    for line in [*problem_lines(report, logged.said), *delivery_lines(report)]:
        log.warning("%s: %s", name, line)


def _retrying(scheduler: BackgroundScheduler, digest: ScheduledDigest) -> Retry:
    """The `retry` of `digest`'s runs: one job more, `delay` from now."""
    config = digest.config

    def retry(delay: timedelta) -> datetime | None:
        if scheduler.get_job(str(config.path)) is None:
            return None  # the config was taken out of the schedule (a reload) meanwhile
        when = retry_at(digest.trigger, datetime.now(UTC), delay)
        if when is not None:
            scheduler.add_job(
                run_digest, DateTrigger(when, timezone=UTC),
                args=(config.path, digest.name, retry), id=f"{config.path}{RETRY_SUFFIX}",
                name=digest.name, replace_existing=True, max_instances=1,
                misfire_grace_time=int(config.schedule_grace.total_seconds()),
            )  # fmt: skip
        return when

    return retry


def _schedule(
    scheduler: BackgroundScheduler,
    digests: list[ScheduledDigest],
    labels: dict[str, tuple[str, ZoneInfo]],
    catch_up: bool,
) -> None:
    """A job per digest (replacing its job of the same config file, if any, and moving its
    pending retry to the new settings); with `catch_up`, a fire time missed while the
    daemon was down runs at once. `labels` learn each digest's name and timezone."""
    now = datetime.now(UTC)
    for digest in digests:
        config = digest.config
        labels[str(config.path)] = (digest.name, ZoneInfo(config.timezone))
        retry = _retrying(scheduler, digest)
        pending = scheduler.get_job(f"{config.path}{RETRY_SUFFIX}")
        if pending is not None:
            pending.modify(name=digest.name, args=(config.path, digest.name, retry))
        grace = config.schedule_grace
        missed, unread = _missed_at_start(digest, now) if catch_up else (None, "")
        scheduler.add_job(
            run_digest,
            digest.trigger,
            args=(config.path, digest.name, retry),
            id=str(config.path),
            name=digest.name,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=int(grace.total_seconds()),
            replace_existing=True,
            # A missed run goes first, once; the cron's own times follow.
            **({"next_run_time": now} if missed else {}),
        )
        if missed and unread:
            log.warning("%s: cannot read its state now (%s); running the run of %s now, which "
                        "checks whether it was made", digest.name, unread,
                        missed.isoformat(timespec="minutes"))  # fmt: skip
        elif missed:
            log.info("%s: missed the run of %s while down; running it now", digest.name,
                     missed.isoformat(timespec="minutes"))  # fmt: skip
        elif unread:  # no fire time within schedule_grace: none to catch up, but say why
            log.warning("%s: cannot read its state now (%s); no fire time to catch up",
                        digest.name, unread)  # fmt: skip
        upcoming = digest.trigger.get_next_fire_time(None, now)
        when = upcoming.isoformat(timespec="minutes") if upcoming else "never"
        log.info("%s: schedule %r in %s, next run %s", digest.name, config.schedule,
                 config.timezone, when)  # fmt: skip


def say_runs_not_made(
    scheduler: BackgroundScheduler, labels: dict[str, tuple[str, ZoneInfo]]
) -> None:
    """Log each fire time the scheduler lets pass: the digest's run before it was still
    going (a run is never made twice at once), or the daemon was busy past
    schedule_grace. Said nowhere, a fire time that made no run left no trace. `labels`:
    each config's job id -> (the digest's name, its timezone), kept by `_schedule`."""

    def said(event: JobSubmissionEvent | JobExecutionEvent) -> None:
        retry = event.job_id.endswith(RETRY_SUFFIX)
        name, zone = labels.get(event.job_id.removesuffix(RETRY_SUFFIX), (event.job_id, UTC))
        what = "its retry of" if retry else "no run for"
        if isinstance(event, JobSubmissionEvent):
            times, why = event.scheduled_run_times, "its run before is still going"
        else:
            times, why = [event.scheduled_run_time], "it came more than schedule_grace late"
        for when in times:
            moment = when.astimezone(zone).isoformat(timespec="minutes")
            log.warning("%s: %s %s: %s", name, what, moment, why)

    scheduler.add_listener(said, EVENT_JOB_MAX_INSTANCES | EVENT_JOB_MISSED)


def _missed_at_start(digest: ScheduledDigest, now: datetime) -> tuple[datetime | None, str]:
    """The fire time the daemon, starting, runs at once (`missed_fire_time`), and "" or why
    its state could not say whether that run was made. A digest that never ran waits for its
    first scheduled time; one whose every run died (its first, killed mid-delivery) missed
    the latest fire time within schedule_grace."""
    config = digest.config
    try:
        ran = last_run_started(config)
        if ran is None and last_run_started(config, ended=False) is None:
            return None, ""
    except StoreError as error:
        # Down at start (the daemon up before its PostgreSQL after a reboot), the state says
        # nothing: the latest fire time runs now, and the run checks its state itself
        # (`_slot_already_run`), failing and retrying while it is down. Taken for "never
        # ran", the day's digest waited for the next fire time.
        return latest_fire_time(digest.trigger, now, config.schedule_grace), str(error)
    if ran is None:
        return latest_fire_time(digest.trigger, now, config.schedule_grace), ""
    return missed_fire_time(digest.trigger, ran, now, config.schedule_grace), ""


def _reload(
    scheduler: BackgroundScheduler, path: Path, labels: dict[str, tuple[str, ZoneInfo]]
) -> None:
    """SIGHUP (`systemctl reload digest`): the configs read again, their schedules taken
    anew, configs added scheduled, and those removed, without a `schedule` or clashing
    with another dropped. A config that cannot be read now keeps the job it had, whose runs
    say what is wrong, as between reloads: a typo is no way to unschedule a digest. A run
    under way finishes as it began. When no config can be read, the schedules stay as they
    were."""
    log.info("received SIGHUP: reading the configs again")
    try:
        digests, problems = load_digests(path)
    except DigestError as error:
        log.error("reload failed, the schedules stay as they were: %s", error)
        return
    if not digests:
        for problem in problems:
            log.error("not scheduled: %s", problem)
        log.error("reload failed, the schedules stay as they were: no valid digest config")
        return
    kept = {str(digest.config.path) for digest in digests}
    unread = dropped = 0
    for problem in problems:
        if problem.path and scheduler.get_job(problem.path) and _unreadable(problem.path):
            kept.add(problem.path)
            unread += 1
            log.error("kept as it was scheduled: %s", problem)
        else:
            dropped += 1
            log.error("not scheduled: %s", problem)
    for job in scheduler.get_jobs():
        if job.id.removesuffix(RETRY_SUFFIX) not in kept:
            log.info("%s: no longer scheduled", job.name)
            job.remove()
    _schedule(scheduler, digests, labels, catch_up=False)
    # A config kept as it was still has its job: it counts among the digests scheduled.
    kept_said = f" ({unread} kept as it was, see above)" if unread else ""
    unscheduled = f"; {dropped} config(s) not scheduled, see above" if dropped else ""
    log.info("reloaded: %d digest(s)%s%s", len(digests) + unread, kept_said, unscheduled)


def _unreadable(path: str) -> bool:
    """Whether the config file at `path` is there but cannot be read as a config (a typo).
    One that reads well was left out for what it says (no `schedule`, another digest's
    state or archive): its job must not run it; nor one whose file is gone."""
    if not Path(path).is_file():
        return False
    try:
        load_config(Path(path))
    except DigestError:
        return True
    return False


def serve(path: Path) -> int:
    """Run the daemon in the foreground until SIGTERM or SIGINT; SIGHUP reloads the configs
    (`_reload`). Returns the exit code."""
    # This thread takes SIGTERM, SIGINT and SIGHUP synchronously (sigwait); they are blocked
    # first, before the configs are read (a PostgreSQL store may take seconds to answer the
    # catch-up's question) and before the scheduler starts its threads, which inherit the
    # mask. A handler would run wherever the signal lands: before the scheduler runs
    # (systemd stops a unit the moment it started) or inside a log line's write, and a stop
    # so dropped left the daemon running; SIGHUP, left to its default, ended the daemon in
    # the middle of a delivery, saying nothing, and systemd takes that death for a clean
    # exit (Restart=on-failure left it down). The kernel gives a process's signal to the
    # thread waiting for it. A later one (a second Ctrl-C while the job finishes) may land
    # in a thread that has unblocked them since (multiprocessing's resource tracker does, in
    # the thread that starts a pool), or wait until the mask is lifted: either way the
    # handler below only says so.
    stopping = {signal.SIGTERM, signal.SIGINT}
    waited = stopping | {signal.SIGHUP}

    def again(signum: int, frame: FrameType | None) -> None:
        log.info("received %s again: still stopping after the running job finishes",
                 signal.Signals(signum).name)  # fmt: skip

    previous = {number: signal.signal(number, again) for number in waited}
    signal.pthread_sigmask(signal.SIG_BLOCK, waited)
    try:
        digests, problems = load_digests(path)
        for problem in problems:
            log.error("not scheduled: %s", problem)
        if not digests:
            raise ConfigError(f"no valid digest config to schedule ({len(problems)} with "
                              "errors)", path=str(path))  # fmt: skip
        scheduler = BackgroundScheduler(timezone=UTC)
        labels: dict[str, tuple[str, ZoneInfo]] = {}
        say_runs_not_made(scheduler, labels)
        _schedule(scheduler, digests, labels, catch_up=True)
        scheduler.start()
        log.info(
            "daemon started with %d digest(s)%s", len(digests),
            f"; {len(problems)} config(s) not scheduled, see above" if problems else "",
        )  # fmt: skip
        while (received := signal.sigwait(waited)) == signal.SIGHUP:
            _reload(scheduler, path, labels)
        log.info(
            "received %s: stopping after the running job finishes", signal.Signals(received).name
        )
        scheduler.shutdown(wait=True)
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, waited)  # a pending one goes to again()
        for number, handler in previous.items():
            signal.signal(number, handler)
    log.info("daemon stopped")
    return 0
