"""`digest status`: the last runs, what each delivered, the next run, failing feeds.

Read-only on purpose: it takes no run lock and writes nothing (SQLite's WAL mode lets it
read while a run writes), so an operator can look at any time.
"""

from __future__ import annotations

import sqlite3
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..config import Config
from ..errors import StoreError
from ..store import count_pending, died_reason, holder_alive, maybe_time
from ..text import plural
from ._schedule import next_run


@dataclass(frozen=True)
class Delivered:
    subject: str
    items: int
    status: str  # sending, delivered, failed
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


def read_status(config: Config, *, limit: int = 10, now: datetime | None = None) -> Status:
    now = now or datetime.now(UTC)
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
    if not config.storage.exists():
        return status
    try:
        with sqlite3.connect(f"file:{config.storage}?mode=ro", uri=True, timeout=10) as db:
            db.row_factory = sqlite3.Row
            _read(db, status, limit, now)
            if "articles" in {row[0] for row in db.execute("SELECT name FROM sqlite_master")}:
                status.pending = count_pending(db, now - config.window)
            return status
    except sqlite3.Error as error:
        raise StoreError(f"{config.storage}: cannot read the state database: {error}") from None


def _read(db: sqlite3.Connection, status: Status, limit: int, now: datetime) -> Status:
    tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
    if "runs" not in tables:
        return status
    has_outbox = "run_id" in {row[1] for row in db.execute("PRAGMA table_info(digests)")}
    for row in db.execute("SELECT * FROM runs ORDER BY id DESC LIMIT ?", (limit,)).fetchall():
        # With the state file: a run in another container holds its lock file.
        dead = row["finished"] is None and not holder_alive(row, now, Path(status.storage))
        if dead:
            # It may have ended between the read and the check: read the row again.
            row = db.execute("SELECT * FROM runs WHERE id = ?", (row["id"],)).fetchone()
            dead = row["finished"] is None
        started = maybe_time(row["started"])
        end = maybe_time(row["finished"]) if row["finished"] else None
        seconds = ((end or now) - started).total_seconds() if started else None
        digests = _digests(db, row["id"]) if has_outbox else []
        detail = row["detail"] if has_outbox else None  # both came with 004_outbox
        outcome = row["outcome"] or "running"
        if dead:
            # Killed (SIGKILL, power loss): no outcome was written. The lock's own check
            # (pid alive and the same process) says so; the next run will record it too.
            outcome, detail, seconds = "died", died_reason(row["pid"]), None
        elif outcome == "died" and not detail:  # recorded before the reason was kept
            detail = died_reason(row["pid"])
        # `in` on a sqlite3.Row tests its values, hence keys(); "kind" came with 007_run_kind.
        kind = row["kind"] if "kind" in row.keys() else "run"  # noqa: SIM118
        if outcome == "died" and kind == "preview":
            detail = f"preview: {detail}"
        status.runs.append(
            RunRecord(row["started"], row["finished"], seconds, outcome, detail, row["pid"],
                      digests)
        )  # fmt: skip
    health = "gone_since" in {row[1] for row in db.execute("PRAGMA table_info(feeds)")}
    for row in db.execute(
        "SELECT * FROM feeds WHERE failures > 0 ORDER BY failing_since, name"
    ).fetchall():
        status.failing_feeds.append(
            FailingFeed(row["name"], row["url"], row["failures"], row["failing_since"],
                        row["last_attempt"], row["last_error"],
                        row["next_attempt"] if health else None,
                        row["gone_since"] if health else None)
        )  # fmt: skip
    status.waiting = db.execute(
        "SELECT COUNT(*) FROM queued_messages WHERE status IN ('queued', 'sending')"
    ).fetchone()[0]
    return status


def _digests(db: sqlite3.Connection, run_id: int) -> list[Delivered]:
    out = []
    for digest in db.execute(
        "SELECT id, subject, item_count, status FROM digests WHERE run_id = ? ORDER BY id",
        (run_id,),
    ).fetchall():
        record = Delivered(digest["subject"], digest["item_count"], digest["status"])
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
            took = f"{run.seconds:.1f}s" if run.seconds is not None else "?"
            what = _what(run)
            started = run.started.replace("+00:00", "")
            lines.append(f"  {started}  {run.outcome:<7} {took:>7}  {what}")
    if status.waiting:
        lines.append(f"outbox: {status.waiting} message(s) waiting to be sent on the next run")
    if status.pending:
        lines.append(
            f"pending: {plural(status.pending, 'article')} within the window, not yet in a "
            "digest; they go out in the next runs"
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
    return "\n".join(lines)


def _what(run: RunRecord) -> str:
    parts = []
    for digest in run.digests:
        text = f"{digest.items} item{'' if digest.items == 1 else 's'}"
        if digest.sent_to:
            text += f" to {', '.join(digest.sent_to)}"
        if digest.status == "failed":
            text += " not delivered"
        for recipient, why in digest.refused.items():
            text += f"; {recipient} refused ({why})"
        for recipient, why in digest.waiting.items():
            text += f"; {recipient} waiting ({why})"
        parts.append(text)
    if run.outcome == "running":
        parts.append(f"in progress (pid {run.pid})")
    elif not parts and run.outcome == "ok":
        parts.append("nothing new")
    if run.detail and run.outcome != "ok":
        parts.append(run.detail)
    return "; ".join(parts)
