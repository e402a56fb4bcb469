"""`digest status`: the last runs, what each delivered, the next run, failing feeds.

Read-only on purpose: it takes no run lock and writes nothing (SQLite's WAL mode lets it
read while a run writes), so an operator can look at any time. A PostgreSQL storage is read
through the store (which brings its tables up to date first, as a run would).
"""

from __future__ import annotations

import sqlite3
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..config import Config
from ..errors import StoreError
from ..store import Store, count_pending, died_reason, holder_alive, is_database_url, maybe_time
from ..text import first_few, plural
from ._progress import items_and_follow_ups
from ._schedule import next_run


@dataclass(frozen=True)
class Delivered:
    subject: str
    items: int
    status: str  # sending, delivered, failed
    follow_ups: int = 0  # late reports on stories sent before, listed in it
    sent_to: list[str] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)
    waiting: dict[str, str] = field(default_factory=dict)  # recipient -> last error


@dataclass(frozen=True)
class RunRecord:
    started: str
    finished: str | None
    seconds: float | None
    outcome: str  # running, ok, failed, died
    detail: str | None
    pid: int
    digests: list[Delivered]


@dataclass(frozen=True)
class FailingFeed:
    name: str
    url: str
    failures: int
    since: str | None
    last_attempt: str | None
    last_error: str | None
    next_attempt: str | None = None  # backing off: not fetched before this
    gone_since: str | None = None  # answered 410 Gone: skipped until reactivated


@dataclass
class MovedFeed:
    name: str
    url: str  # as configured
    moved_to: str  # where a 301/308 sent it, and where runs fetch it


@dataclass
class Status:
    title: str
    config: str
    storage: str
    schedule: str | None
    timezone: str
    next_run: str | None
    runs: list[RunRecord]
    failing_feeds: list[FailingFeed]
    waiting: int  # messages in the outbox not yet accepted
    pending: int = 0  # articles within the window not yet in a digest (held back or new)
    moved_feeds: list[MovedFeed] = field(default_factory=list)


def read_status(config: Config, *, limit: int = 10, now: datetime | None = None) -> Status:
    status = _read_status(config, limit, now or datetime.now(UTC))
    # A feed taken out of the config fails no run any more: not listed as if it did.
    listed = {feed.url for feed in config.feeds}
    status.failing_feeds = [feed for feed in status.failing_feeds if feed.url in listed]
    status.moved_feeds = [feed for feed in status.moved_feeds if feed.url in listed]
    return status


def _read_status(config: Config, limit: int, now: datetime) -> Status:
    upcoming = next_run(config, now)
    status = Status(
        title=config.title,
        config=str(config.path),
        storage=str(config.storage),
        schedule=config.schedule,
        timezone=config.timezone,
        next_run=upcoming.isoformat(timespec="minutes") if upcoming else None,
        runs=[],
        failing_feeds=[],
        waiting=0,
    )
    if is_database_url(config.storage):
        store = Store.open(config.storage, config.id)
        try:
            with store.errors_named():
                _read(store.db, status, limit, now, config.id, store.run_lock_held())
                status.pending = count_pending(store.db, now - config.window, config.id)
        finally:
            store.close()
        return status
    if not isinstance(config.storage, Path) or not config.storage.exists():
        return status
    try:
        with sqlite3.connect(f"file:{config.storage}?mode=ro", uri=True, timeout=10) as db:
            db.row_factory = sqlite3.Row
            _read(db, status, limit, now, config.id)
            if "articles" in {row[0] for row in db.execute("SELECT name FROM sqlite_master")}:
                shared = "digest" in _columns(db, "articles")
                status.pending = count_pending(
                    db, now - config.window, config.id if shared else None
                )
            return status
    except sqlite3.Error as error:
        raise StoreError(f"{config.storage}: cannot read the state database: {error}") from None


def _columns(db: Any, table: str) -> set[str]:
    """The columns of `table` in a SQLite file (read as it is, perhaps of an older digest)."""
    return {row[1] for row in db.execute(f"PRAGMA table_info({table})")}


def _read(
    db: Any, status: Status, limit: int, now: datetime, digest: str = "", held: bool | None = None
) -> Status:
    """`db`: a SQLite file's connection, as it is; or a PostgreSQL store's, whose tables
    are current, and `held`, whether a run holds the digest's advisory lock."""
    postgres = getattr(db, "dialect", "sqlite") == "postgresql"
    if not postgres:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
        if "runs" not in tables:
            return status
    has_outbox = postgres or "run_id" in _columns(db, "digests")
    # A storage several digests share (012_shared_store) keys each digest's rows.
    shared = postgres or "digest" in _columns(db, "runs")
    mine, of = ("WHERE digest = ?", (digest,)) if shared else ("", ())
    listed = postgres or "listed_in" in _columns(db, "articles")  # 014_follow_ups
    for row in db.execute(
        f"SELECT * FROM runs {mine} ORDER BY id DESC LIMIT ?", (*of, limit)
    ).fetchall():
        # With the state file: a run in another container holds its lock file. On
        # PostgreSQL, a run on any machine holds the advisory lock.
        if postgres:
            dead = row["finished"] is None and held is False
        else:
            dead = row["finished"] is None and not holder_alive(
                row, now, Path(status.storage), digest
            )
        if dead:
            # It may have ended between the read and the check: read the row again.
            row = db.execute("SELECT * FROM runs WHERE id = ?", (row["id"],)).fetchone()
            dead = row["finished"] is None
        started = maybe_time(row["started"])
        end = maybe_time(row["finished"]) if row["finished"] else None
        seconds = ((end or now) - started).total_seconds() if started else None
        digests = _digests(db, row["id"], listed) if has_outbox else []
        detail = row["detail"] if has_outbox else None  # both came with 004_outbox
        outcome = row["outcome"] or "running"
        if dead:
            # Killed (SIGKILL, power loss): no outcome was written. The lock's own check
            # (pid alive and the same process) says so; the next run will record it too.
            outcome, detail, seconds = "died", died_reason(row["pid"], postgres), None
        elif outcome == "died":
            # Its end is when a later run found it so, not when it died: no duration.
            seconds = None
            if not detail:  # recorded before the reason was kept
                detail = died_reason(row["pid"], postgres)
        # `in` on a sqlite3.Row tests its values, hence keys(); "kind" came with 007_run_kind.
        kind = row["kind"] if "kind" in row.keys() else "run"  # noqa: SIM118
        if outcome == "died" and kind == "preview":
            detail = f"preview: {detail}"
        status.runs.append(
            RunRecord(row["started"], row["finished"], seconds, outcome, detail, row["pid"],
                      digests)
        )  # fmt: skip
    health = postgres or "gone_since" in _columns(db, "feeds")
    and_mine = mine.replace("WHERE", "AND")
    for row in db.execute(
        f"SELECT * FROM feeds WHERE failures > 0 {and_mine} ORDER BY failing_since, name", of
    ).fetchall():
        status.failing_feeds.append(
            FailingFeed(row["name"], row["url"], row["failures"], row["failing_since"],
                        row["last_attempt"], row["last_error"],
                        row["next_attempt"] if health else None,
                        row["gone_since"] if health else None)
        )  # fmt: skip
    if postgres or "moved_to" in _columns(db, "feeds"):
        for row in db.execute(
            f"SELECT name, url, moved_to FROM feeds WHERE moved_to IS NOT NULL {and_mine} "
            "ORDER BY name",
            of,
        ).fetchall():
            status.moved_feeds.append(MovedFeed(row["name"], row["url"], row["moved_to"]))
    status.waiting = db.execute(
        f"SELECT COUNT(*) FROM queued_messages WHERE status IN ('queued', 'sending') {and_mine}",
        of,
    ).fetchone()[0]
    return status


def _digests(db: Any, run_id: int, listed: bool) -> list[Delivered]:
    """The digests a run staged; `listed`: the state records the follow-ups they listed."""
    out = []
    for digest in db.execute(
        # A 'staging' digest is one a run died staging: never staged, dropped by the next.
        "SELECT id, subject, item_count, status FROM digests WHERE run_id = ? "
        "AND status != 'staging' ORDER BY id",
        (run_id,),
    ).fetchall():
        follow_ups = 0
        if listed:
            follow_ups = db.execute(
                "SELECT COUNT(*) FROM articles WHERE listed_in = ?", (digest["id"],)
            ).fetchone()[0]
        record = Delivered(digest["subject"], digest["item_count"], digest["status"], follow_ups)
        for row in db.execute(
            "SELECT recipient, status, last_error, method, target FROM queued_messages "
            "WHERE digest_id = ?",
            (digest["id"],),
        ):
            if row["method"] == "file" and not row["recipient"]:
                continue  # the .html/.txt copies, not a reader's message
            if row["status"] == "sent":
                record.sent_to.append(row["recipient"])  # whom, for files too (not the .eml)
            elif row["status"] in ("refused", "gave-up"):
                record.refused[row["recipient"]] = row["last_error"] or row["status"]
            elif row["status"] in ("queued", "sending"):
                record.waiting[row["recipient"]] = row["last_error"] or "not sent yet"
        out.append(record)
    return out


def status_json(status: Status) -> dict[str, Any]:
    return asdict(status)


def format_status(status: Status) -> str:
    lines = [f"{status.title} ({status.config})", f"state: {status.storage}"]
    if status.schedule:
        lines.append(f"schedule: {status.schedule} ({status.timezone}); next run {status.next_run}")
    else:
        lines.append("schedule: none (no `schedule` in the config; run by cron or by hand)")
    if not status.runs:
        lines.append("last runs: none yet")
    else:
        lines.append("last runs (newest first, times in UTC):")
        for run in status.runs:
            what = _what(run)
            started = run.started.replace("+00:00", "")
            lines.append(f"  {started}  {run.outcome:<7} {_took(run.seconds):>7}  {what}")
    if status.waiting:
        lines.append(f"outbox: {status.waiting} message(s) waiting to be sent on the next run")
    if status.pending:
        lines.append(
            f"pending: {plural(status.pending, 'article')} within the window, not yet in a "
            "digest: the next runs take those that pass the filters, as many as max_items "
            "allows each time; the others expire with the window"
        )
    if status.failing_feeds:
        lines.append("failing feeds:")
        for feed in status.failing_feeds:
            lines.append(
                f"  {feed.name} <{feed.url}>: failing since {feed.since} "
                f"({plural(feed.failures, 'attempt')}); "
                f"last error: {feed.last_error}"
                + (f"; gone (410) since {feed.gone_since}, see `digest reactivate`"
                   if feed.gone_since else "")
                + (f"; next try after {feed.next_attempt}"
                   if feed.next_attempt and not feed.gone_since else "")
            )  # fmt: skip
    else:
        lines.append("failing feeds: none")
    if status.moved_feeds:
        lines.append("moved feeds (301/308; fetched at the new address: update url in the config):")
        for moved in status.moved_feeds:
            lines.append(f"  {moved.name} <{moved.url}>: now <{moved.moved_to}>")
    return "\n".join(lines)


def _took(seconds: float | None) -> str:
    """A run's duration as the state can tell it: it keeps whole seconds, so a tenth would
    be made up (a 1.8 s run could show as 0.0s)."""
    if seconds is None:
        return "?"
    return f"{seconds:.0f}s" if seconds >= 1 else "<1s"


SHOWN = 3  # recipients named per list of a digest's line; the rest are counted


def _what(run: RunRecord) -> str:
    parts = []
    for digest in run.digests:
        text = items_and_follow_ups(digest.items, digest.follow_ups)
        # One line for a digest sent to thousands: the first few of each list, then how
        # many more (`--json` lists them all).
        if digest.sent_to:
            text += f" to {first_few(digest.sent_to, shown=SHOWN)}"
        if digest.status == "failed":
            text += " not delivered"
        for state, recipients in (("refused", digest.refused), ("waiting", digest.waiting)):
            said = [f"{recipient} {state} ({why})" for recipient, why in recipients.items()]
            text += "".join(f"; {line}" for line in said[:SHOWN])
            if len(said) > SHOWN:
                text += f"; {len(said) - SHOWN:,} more {state}"
        parts.append(text)
    if run.outcome == "running":
        parts.append(f"in progress (pid {run.pid})")
    elif not parts and run.outcome == "ok":
        parts.append("nothing new")
    if run.detail:  # why it failed; of a run that ended well, what it let expire unsent
        said = run.detail.split("; ")
        if any(digest.refused for digest in run.digests):
            # "refused by X" is the failure each refusal above already names, with its reason.
            said = [part for part in said if not part.startswith("refused by ")]
        parts.extend(said)
    return "; ".join(parts)
