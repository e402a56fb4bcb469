"""What the outbox promises a reader and an operator, on real parts: SQLite state files
(two digests sharing one), aiosmtpd servers on 127.0.0.1, the real `digest run`.

- Staging a digest to thousands of readers never holds the state's write lock while their
  messages are built, and recording a message `sent` waits out another's lock: a reader
  never gets a digest twice because another digest of the state was staging.
- A message left `sending` and refused for now since gives up after QUEUE_LIMIT like any,
  saying it may have been delivered, and the run says so.
- When no reader takes a digest, each outbox row keeps its own reason, and the run's error
  is one short line, however many readers.
- A digest staged by a run that died gets its archive page from the run that sends it.
- A reader taken out of delivery.to gets nothing more from the outbox.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from conftest import DEMO_FEEDS, Mailbox, _free_port, run_cli, smtp_delivery, write_config

import digest
from digest.errors import DeliveryError
from digest.models import Staged
from digest.store import _connection
from digest.store._outbox import QUEUE_LIMIT, STAGING_BATCH
from digest.store._state import Store

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def serve(mailbox: Mailbox) -> Controller:
    controller = Controller(mailbox, hostname=mailbox.host, port=mailbox.port)
    controller.start()
    return controller


def table(path: Path, sql: str) -> list[tuple]:
    db = sqlite3.connect(path)
    try:
        return [tuple(row) for row in db.execute(sql)]
    finally:
        db.close()


# -- two digests, one state file: the write lock -------------------------------------------


def test_no_write_lock_is_held_while_a_digest_s_messages_are_built(tmp_path):
    """Each message takes ms to build: built inside the staging transaction, a few thousand
    held every other digest's writes off for longer than their busy timeout."""
    path = tmp_path / "state" / "digest.db"
    big = Store.open(path, "big")
    Store.open(path, "small").close()  # the other digest of the state
    locked_out = []

    def messages() -> Iterator[Staged]:
        for n in range(STAGING_BATCH * 3):
            # Another process writes while this message is being built.
            other = sqlite3.connect(path, timeout=0.2, isolation_level=None)
            try:
                other.execute("BEGIN IMMEDIATE")
                other.execute("ROLLBACK")
            except sqlite3.OperationalError as error:
                locked_out.append(f"message {n}: {error}")
            finally:
                other.close()
            yield Staged(f"r{n}@example.org", f"<{n}@x>", b"m%d" % n)

    try:
        _, outgoing = big.stage_digest("Big", [], messages(), None, NOW)
        assert locked_out == []
        assert len(outgoing) == len(big.outgoing()) == STAGING_BATCH * 3
    finally:
        big.close()


def test_recording_sent_waits_out_a_write_lock_held_past_the_busy_timeout(tmp_path, monkeypatch):
    """The server answered 250: a `sent` that fails to be recorded leaves the message
    `sending`, and the next run sends it again. It waits far longer than other writes."""
    monkeypatch.setattr(_connection, "BUSY_TIMEOUT", 0.2)
    path = tmp_path / "state" / "digest.db"
    store = Store.open(path, "small")
    try:
        _, (message,) = store.stage_digest(
            "S", [], [Staged("a@x.example", "<1@x>", b"m")], None, NOW
        )
        store.mark_sending(message.key, NOW)
        holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        holder.execute("BEGIN IMMEDIATE")  # another digest's long transaction
        threading.Timer(1.0, holder.execute, ("COMMIT",)).start()
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            store.mark_sending(message.key, NOW)  # an ordinary write gives up at 0.2 s
        started = time.monotonic()
        store.mark_sent(message.key, "250 OK", NOW)
        assert time.monotonic() - started < 5
        assert store.outgoing() == []
        assert table(path, "SELECT status FROM queued_messages") == [("sent",)]
        holder.close()
    finally:
        store.close()


def test_a_failure_while_staging_leaves_nothing_staged(tmp_path):
    path = tmp_path / "state" / "digest.db"
    store = Store.open(path)

    def messages() -> Iterator[Staged]:
        for n in range(STAGING_BATCH + 5):  # a batch in the state, then the failure
            yield Staged(f"r{n}@example.org", f"<{n}@x>", b"m")
        raise RuntimeError("template broke")

    try:
        with pytest.raises(RuntimeError):
            store.stage_digest("S", [], messages(), None, NOW)
        assert store.outgoing() == []
        for name in ("digests", "queued_messages", "message_bytes"):
            assert table(path, f"SELECT count(*) FROM {name}") == [(0,)]
    finally:
        store.close()


def test_what_a_run_killed_while_staging_wrote_is_never_sent_and_is_dropped(tmp_path):
    path = tmp_path / "state" / "digest.db"
    Store.open(path).close()
    child = os.fork()
    if child == 0:  # a run that dies in the middle of staging
        try:
            state = Store.open(path)

            def messages() -> Iterator[Staged]:
                for n in range(STAGING_BATCH * 2):
                    yield Staged(f"r{n}@example.org", f"<{n}@x>", b"m")
                os.kill(os.getpid(), signal.SIGKILL)

            state.stage_digest("S", [], messages(), None, NOW)
        finally:
            os._exit(0)
    _, status = os.waitpid(child, 0)
    assert os.WTERMSIG(status) == signal.SIGKILL
    store = Store.open(path)
    try:
        assert table(path, "SELECT count(*) FROM queued_messages") == [(STAGING_BATCH * 2,)]
        assert store.outgoing() == [] and not store.pending_since_last_digest()
        assert store.drop_unfinished_staging() == 1
        for name in ("digests", "queued_messages", "message_bytes"):
            assert table(path, f"SELECT count(*) FROM {name}") == [(0,)]
    finally:
        store.close()


# -- giving up -----------------------------------------------------------------------------


class CutThenFull(Mailbox):
    """Takes the first message and drops the line before its 250; then the reader's
    mailbox is full (452 on RCPT), for good."""

    cut = False

    async def handle_RCPT(self, server, session, envelope, address, options):
        if self.cut:
            return "452 4.2.2 mailbox full"
        return await super().handle_RCPT(server, session, envelope, address, options)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        reply = await super().handle_DATA(server, session, envelope)
        self.cut = True
        server.transport.abort()
        return reply


def test_a_message_a_server_may_hold_gives_up_after_the_queue_limit_and_the_run_says_so(
    tmp_path, site
):
    box = CutThenFull("127.0.0.1", _free_port())
    controller = serve(box)
    delivery = smtp_delivery(box) + "  retries: 0\n"
    config = digest.load_config(
        write_config(tmp_path, site.base_url, delivery=delivery, feeds=DEMO_FEEDS[:1])
    )
    db = tmp_path / "state" / "digest.db"
    try:
        start = datetime.now(UTC)
        digest.run(config, now=start)
        assert table(db, "SELECT status FROM queued_messages") == [("sending",)]
        waiting = digest.run(config, now=start + timedelta(days=1))
        assert table(db, "SELECT status FROM queued_messages") == [("sending",)]
        assert "452 4.2.2 mailbox full" in waiting.deferred["reader@example.org"]
        later = digest.run(config, now=start + QUEUE_LIMIT + timedelta(days=1))
    finally:
        controller.stop()
    reason = later.refused["reader@example.org"]
    assert reason.startswith("gave up after 5 days: 452 4.2.2 mailbox full")
    assert "may have been delivered" in reason
    assert later.failure == "refused by reader@example.org" and later.deferred == {}
    assert table(db, "SELECT status, last_error FROM queued_messages") == [("gave-up", reason)]
    assert table(db, "SELECT status, detail FROM deliveries") == [("gave-up", reason)]


def test_a_give_up_reason_never_reads_none(tmp_path):
    store = Store.open(tmp_path / "digest.db")
    try:
        old = NOW - QUEUE_LIMIT * 2
        _, (message,) = store.stage_digest(
            "S", [], [Staged("a@x.example", "<1@x>", b"m")], None, old
        )
        store.mark_deferred(message.key, None, NOW)  # type: ignore[arg-type]  # login refused
        assert store.give_up_expired(NOW) == {
            "a@x.example": "gave up after 5 days of temporary refusals"
        }
    finally:
        store.close()


# -- nothing delivered: one short line, one reason per row ----------------------------------


class NamesEachRecipient(Mailbox):
    """Postfix's way: each refusal for now names its recipient."""

    async def handle_RCPT(self, server, session, envelope, address, options):
        return f"450 4.1.8 <{address}>: Recipient address rejected: Domain not found"


def test_when_nobody_takes_the_digest_each_row_keeps_its_own_reason_and_the_line_is_short(
    tmp_path, site
):
    readers = [f"reader{n}@example.org" for n in range(120)]
    box = NamesEachRecipient("127.0.0.1", _free_port())
    controller = serve(box)
    delivery = smtp_delivery(box, to="[" + ", ".join(readers) + "]") + "  retries: 0\n"
    config = digest.load_config(
        write_config(tmp_path, site.base_url, delivery=delivery, feeds=DEMO_FEEDS[:1])
    )
    try:
        with pytest.raises(DeliveryError) as error:
            digest.run(config)
    finally:
        controller.stop()
    line = str(error.value)
    assert line == (
        f"SMTP 127.0.0.1:{box.port}: no recipient accepted the digest ("
        + "; ".join(
            f"{r}: 450 4.1.8 <{r}>: Recipient address rejected: Domain not found"
            for r in readers[:3]
        )
        + " and 117 more)"
    )
    db = tmp_path / "state" / "digest.db"
    rows = table(db, "SELECT recipient, status, last_error FROM queued_messages ORDER BY id")
    assert rows == [
        (r, "cancelled", f"450 4.1.8 <{r}>: Recipient address rejected: Domain not found")
        for r in readers
    ]
    details = table(db, "SELECT recipient, detail FROM deliveries ORDER BY id")
    assert details == [(r, why) for r, _, why in rows]
    assert table(db, "SELECT detail FROM runs") == [(line,)]


# -- the archive page of a digest sent by the next run ---------------------------------------


def test_a_digest_staged_by_a_run_that_died_gets_its_archive_page_when_sent(
    tmp_path, site, smtp_server
):
    archive = "archive:\n  dir: public\n  url: https://news.example.org/brief\n"
    config = write_config(
        tmp_path, site.base_url, delivery=smtp_delivery(smtp_server), feeds=DEMO_FEEDS[:2],
        extra=archive,
    )  # fmt: skip
    # From the repository (as the other CLI tests): the code under test, not an install.
    died = run_cli("run", "--config", str(config), env={"DIGEST_TEST_CRASH_AT": "after-stage"})
    assert died.returncode == -signal.SIGKILL and smtp_server.messages == []
    assert not (tmp_path / "public").exists()
    sent = run_cli("run", "--config", str(config))
    assert sent.returncode == 0, sent.stderr
    (message,) = smtp_server.messages
    text = message.get_body(("plain",)).get_content()
    page = text.split("https://news.example.org/brief/", 1)[1].split()[0]
    assert page.endswith(".html") and (tmp_path / "public" / page).is_file()
    assert page in (tmp_path / "public" / "index.html").read_text(encoding="utf-8")
    assert page in (tmp_path / "public" / "feed.atom").read_text(encoding="utf-8")
    # Written once: the next run has nothing more to write.
    db = tmp_path / "state" / "digest.db"
    assert table(db, "SELECT count(*) FROM digests WHERE archive IS NOT NULL") == [(0,)]


# -- a reader taken out of delivery.to ---------------------------------------------------


def test_a_digest_whose_every_waiting_message_is_cancelled_goes_to_the_readers_configured(
    tmp_path, site, smtp_server
):
    """A run dies after staging to a mistyped address; the operator corrects it. The
    cancelled digest reached nobody configured: its stories go out to the corrected one."""
    typo = smtp_delivery(smtp_server, to="reader@exmaple.org")
    path = write_config(tmp_path, site.base_url, delivery=typo, feeds=DEMO_FEEDS[:1])
    died = run_cli("run", "--config", str(path), env={"DIGEST_TEST_CRASH_AT": "after-stage"})
    assert died.returncode == -signal.SIGKILL and smtp_server.messages == []
    fixed = smtp_delivery(smtp_server, to="reader@example.org")
    path = write_config(tmp_path, site.base_url, delivery=fixed, feeds=DEMO_FEEDS[:1])
    report = digest.run(digest.load_config(path))
    assert [to for _, to in smtp_server.envelopes] == [["reader@example.org"]]
    assert (
        f"1 waiting message to reader@exmaple.org cancelled, not sent: no longer in "
        f"delivery.to of {path}; the stories of 1 digest go to the next one"
    ) in report.warnings
    db = tmp_path / "state" / "digest.db"
    assert table(db, "SELECT status FROM digests ORDER BY id") == [("failed",), ("delivered",)]
    assert table(db, "SELECT DISTINCT status FROM articles") == [("delivered",)]


def test_a_reader_taken_out_of_delivery_to_gets_nothing_more_from_the_outbox(
    tmp_path, site, smtp_server
):
    smtp_server.defer.update({"ana@example.org", "bo@example.org"})
    readers = "[cy@example.org, ana@example.org, bo@example.org]"
    three = smtp_delivery(smtp_server, to=readers) + "  retries: 0\n"
    path = write_config(tmp_path, site.base_url, delivery=three, feeds=DEMO_FEEDS[:1])
    digest.run(digest.load_config(path))
    assert smtp_server.envelopes == [("digest@example.org", ["cy@example.org"])]
    smtp_server.defer.clear()
    # bo unsubscribed; ana's display name changed, her address did not.
    two = smtp_delivery(smtp_server, to='[cy@example.org, "Ana A <ana@example.org>"]')
    path = write_config(tmp_path, site.base_url, delivery=two + "  retries: 0\n",
                        feeds=DEMO_FEEDS[:1])  # fmt: skip
    report = digest.run(digest.load_config(path))
    assert smtp_server.envelopes == [
        ("digest@example.org", ["cy@example.org"]),
        ("digest@example.org", ["ana@example.org"]),
    ]
    warning = (
        f"1 waiting message to bo@example.org cancelled, not sent: no longer in delivery.to "
        f"of {path}"
    )
    assert warning in report.warnings
    db = tmp_path / "state" / "digest.db"
    assert table(db, "SELECT recipient, status, last_error FROM queued_messages") == [
        ("cy@example.org", "sent", None),
        ("ana@example.org", "sent", None),
        ("bo@example.org", "cancelled", f"cancelled: no longer in delivery.to of {path}"),
    ]


@pytest.mark.postgres
def test_staging_in_batches_and_giving_up_work_on_postgresql(postgres_server):
    store = Store.open(postgres_server.database())

    def messages(fail: bool) -> Iterator[Staged]:
        for n in range(STAGING_BATCH + 5):
            yield Staged(f"r{n}@example.org", f"<{n}@x>", b"m%d" % n)
        if fail:
            raise RuntimeError("template broke")

    try:
        with pytest.raises(RuntimeError):
            store.stage_digest("S", [], messages(fail=True), None, NOW - QUEUE_LIMIT * 2)
        assert store.db.execute("SELECT count(*) FROM queued_messages").fetchone()[0] == 0
        _, outgoing = store.stage_digest("S", [], messages(fail=False), None, NOW - QUEUE_LIMIT * 2)
        assert [m.key for m in store.outgoing()] == [m.key for m in outgoing]
        assert store.staged_message(outgoing[-1].key) == b"m%d" % (STAGING_BATCH + 4)
        store.mark_sending(outgoing[0].key, NOW)
        store.mark_deferred(outgoing[0].key, "452 full", NOW, uncertain=True)
        given_up = store.give_up_expired(NOW)
        assert len(given_up) == STAGING_BATCH + 5
        assert "may have been delivered" in given_up["r0@example.org"]
        assert given_up["r1@example.org"] == "gave up after 5 days of temporary refusals"
    finally:
        store.close()
