"""The outbox and delivery, in process (mutation testing sees no subprocess): a real state
file in tmp_path, real SMTP servers on 127.0.0.1 (aiosmtpd, or a hand-written peer where a
server must misbehave in ways aiosmtpd will not), a real outbox folder.

What is asserted is what a reader or an operator relies on: each message marked `sending`
before its final dot and `sent` only after the server's 250, a session cut between the dot
and the reply left `sending` and sent again with the same bytes, nothing delivered twice,
outbox files whole under their staged names, retries and their waits, and the one line that
says why nothing went out."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any, BinaryIO

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from conftest import Mailbox, _free_port

from digest.config._loader import DeliveryConfig
from digest.crash_points import CRASH_VARIABLE
from digest.errors import DeliveryError, StoreError
from digest.mail._deliver import (
    deliver,
    delivered_to,
    nothing_delivered,
    send_outgoing,
    stage_messages,
)
from digest.mail._smtp_client import MAX_REPLY_LINES
from digest.models import DigestItem, Outgoing, RenderedDigest, Staged
from digest.store._outbox import QUEUE_LIMIT, SHRINK_FREE_BYTES
from digest.store._state import NewArticle, Store

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
RENDERED = RenderedDigest(
    "Morning Brief · 23 Nov", "<html><body><p>Hi</p></body></html>", "Hi\r\nthere\n"
)
BODY = b"Subject: s\r\nMessage-ID: <m@x>\r\n\r\nHello\r\n"


# -- parts ------------------------------------------------------------------------------


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store.open(tmp_path / "state" / "digest.db")
    yield opened
    opened.close()


def serve(mailbox: Mailbox, **kwargs: Any) -> Controller:
    controller = Controller(mailbox, hostname=mailbox.host, port=mailbox.port, **kwargs)
    controller.start()
    return controller


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    box = Mailbox("127.0.0.1", _free_port())
    controller = serve(box)
    try:
        yield box
    finally:
        controller.stop()


def smtp_settings(box: Mailbox | int, **changes: Any) -> DeliveryConfig:
    port = box if isinstance(box, int) else box.port
    values: dict[str, Any] = dict(
        method="smtp", host="127.0.0.1", port=port, security="none",
        sender="Brief <brief@news.example>", recipients=("ana@example.org",),
        retries=0, retry_delay=0.05, timeout=2,
    )  # fmt: skip
    values.update(changes)
    return DeliveryConfig(**values)


def outgoing(*recipients: str, body: bytes = BODY) -> list[Outgoing]:
    return [Outgoing(str(n), 1, r, body, f"<{n}@x>", "smtp") for n, r in enumerate(recipients, 1)]


class StoreJournal:
    """Writes each fate to the store as the pipeline does, and notes, at that moment, how
    many messages the server had taken and which outbox files existed."""

    def __init__(self, store: Store, box: Mailbox | None = None, folder: Path | None = None):
        self.store, self.box, self.folder = store, box, folder
        self.events: list[tuple[str, str, int, list[str]]] = []

    def _note(self, event: str, message: Outgoing) -> None:
        taken = len(self.box.messages) if self.box else 0
        files = sorted(p.name for p in self.folder.iterdir()) if self.folder else []
        self.events.append((event, message.recipient, taken, files))

    def sending(self, message: Outgoing) -> None:
        self._note("sending", message)
        self.store.mark_sending(message.key, NOW)

    def sent(self, message: Outgoing, reply: str) -> None:
        self._note("sent", message)
        self.store.mark_sent(message.key, reply, NOW)

    def refused(self, message: Outgoing, reply: str) -> None:
        self._note("refused", message)
        self.store.mark_refused(message.key, reply, NOW)

    def deferred(self, message: Outgoing, reason: str) -> None:
        self._note("deferred", message)
        self.store.mark_deferred(message.key, reason, NOW, uncertain=message.uncertain)


def send_from_store(store: Store, settings: DeliveryConfig, journal: StoreJournal, **kw: Any):
    """What a run does with the outbox: send every row waiting, bytes read as it goes."""
    return send_outgoing(
        settings,
        store.outgoing(),
        journal,
        load=lambda message: store.staged_message(message.key),
        **kw,
    )


def rows(store: Store, columns: str = "recipient, status") -> list[tuple]:
    cursor = store.db.execute(
        f"SELECT {columns} FROM queued_messages WHERE digest = ? ORDER BY id", (store.digest,)
    )
    return [tuple(row) for row in cursor]


def deliveries(store: Store) -> list[tuple]:
    cursor = store.db.execute(
        "SELECT digest_id, method, recipient, status, detail, at FROM deliveries ORDER BY id"
    )
    return [tuple(row) for row in cursor]


class CutAfterData(Mailbox):
    """Takes the message, then drops the connection before its 250 leaves (RFC 1047)."""

    def __init__(self, *args: Any, cuts: int = 1, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.cuts = cuts

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        reply = await super().handle_DATA(server, session, envelope)
        if self.cuts > 0:
            self.cuts -= 1
            server.transport.abort()
        return reply


class Scripted(Mailbox):
    """Answers RCPT from a table of recipient -> reply, and notes each EHLO name."""

    def __init__(self, *args: Any, replies: dict[str, str] | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.replies = dict(replies or {})
        self.rcpts: list[str] = []
        self.helo_names: list[str] = []

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        self.helo_names.append(hostname)
        session.host_name = hostname
        return responses

    async def handle_RCPT(self, server, session, envelope, address, options):
        self.rcpts.append(address)
        if address in self.replies:
            return self.replies[address]
        return await super().handle_RCPT(server, session, envelope, address, options)


class Peer:
    """A hand-written SMTP peer on 127.0.0.1: `talk(reader, sock)` plays each session."""

    def __init__(self, talk: Callable[[BinaryIO, socket.socket], None]):
        self.talk = talk
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(8)
        self.port = self.listener.getsockname()[1]
        self.sessions = 0
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            self.sessions += 1
            with connection, contextlib.suppress(OSError):
                self.talk(connection.makefile("rb"), connection)

    def __enter__(self) -> Peer:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        with contextlib.suppress(OSError):  # wakes the accept() under way (Linux)
            self.listener.shutdown(socket.SHUT_RDWR)
        self.listener.close()
        self.thread.join(5)


def conversation(
    greeting: bytes, ehlo: bytes = b"250 peer\r\n", received: list[bytes] | None = None
) -> Callable[[BinaryIO, socket.socket], None]:
    """A plain SMTP server that greets with `greeting`, answers EHLO with `ehlo`, and takes
    every message (its commands and data noted in `received`)."""
    received = received if received is not None else []

    def talk(reader: BinaryIO, sock: socket.socket) -> None:
        sock.sendall(greeting)
        while line := reader.readline():
            received.append(line)
            command = line[:4].upper()
            if command == b"EHLO":
                sock.sendall(ehlo)
            elif command == b"DATA":
                sock.sendall(b"354 go ahead\r\n")
                while (data := reader.readline()) not in (b".\r\n", b""):
                    received.append(data)
                sock.sendall(b"250 queued as 7\r\n")
            elif command == b"QUIT":
                sock.sendall(b"221 bye\r\n")
                return
            else:
                sock.sendall(b"250 ok\r\n")

    return talk


# -- the outbox in the state file -------------------------------------------------------


def _article(store: Store, number: int) -> int:
    from digest.models import FeedEntry

    url = f"https://news.example/{number}"
    entry = FeedEntry("News", f"g{number}", url, url, f"Title {number}", "S.", "", NOW)
    store.add_articles(
        [NewArticle(entry, f"Title {number}", "Text.", "page", "en", None, NOW)], NOW
    )
    (article,) = [a for a in store.articles(("pending",), since=NOW - timedelta(1)) if a.url == url]
    return article.id


def test_staging_records_the_digest_its_stories_and_one_complete_message_per_reader(store):
    first, second = _article(store, 1), _article(store, 2)
    items = [DigestItem("Title 1", "https://news.example/1", "S", "en", None, (), (first, second))]
    staged = [
        Staged("ana@example.org", "<1@x>", b"message to ana"),
        Staged("bo@example.org", "<2@x>", b"message to bo", "file", "/out/a.eml"),
    ]
    with store.run_lock(NOW) as run_id:
        digest_id, listed = store.stage_digest("Brief", items, iter(staged), run_id, NOW)
    assert [(m.recipient, m.message, m.message_id, m.method, m.target) for m in listed] == [
        ("ana@example.org", b"", "<1@x>", "smtp", None),
        ("bo@example.org", b"", "<2@x>", "file", "/out/a.eml"),
    ]
    assert all(m.digest_id == digest_id for m in listed)
    assert store.outgoing() == listed
    assert [store.staged_message(m.key) for m in listed] == [b"message to ana", b"message to bo"]
    digest = store.db.execute(
        "SELECT subject, status, item_count, run_id, considered_through FROM digests"
    ).fetchone()
    assert tuple(digest) == ("Brief", "sending", 1, run_id, second)
    assert store.count("delivered") == 2 and store.count("pending") == 0
    story = store.db.execute("SELECT headline, url, digest_id FROM stories").fetchone()
    assert tuple(story) == ("Title 1", "https://news.example/1", digest_id)
    assert rows(store, "recipient, status, attempts, queued") == [
        ("ana@example.org", "queued", 0, "2026-11-23T09:00:00+00:00"),
        ("bo@example.org", "queued", 0, "2026-11-23T09:00:00+00:00"),
    ]


def test_each_digest_of_a_shared_state_file_sees_only_its_own_outbox(tmp_path):
    path = tmp_path / "shared.db"
    morning, evening = Store.open(path, "morning"), Store.open(path, "evening")
    try:
        _, (mine,) = morning.stage_digest(
            "M", [], [Staged("a@x.example", "<m@x>", b"m")], None, NOW
        )
        evening.stage_digest("E", [], [Staged("b@x.example", "<e@x>", b"e")], None, NOW)
        assert [m.recipient for m in morning.outgoing()] == ["a@x.example"]
        assert [m.recipient for m in evening.outgoing()] == ["b@x.example"]
        # Old and final in both: only the morning's bytes go when the morning prunes.
        for db in (morning, evening):
            (waiting,) = db.outgoing()
            db.mark_sent(waiting.key, "250 OK", NOW - timedelta(days=10))
        assert morning.prune_outbox(NOW, timedelta(days=3)) == 1
        with pytest.raises(StoreError):
            morning.staged_message(mine.key)
        (theirs,) = [r for r in rows(evening, "id, pruned")]
        assert theirs[1] is None
        # Refused for now since long ago in both: the morning gives up on its own only.
        for db, who in ((morning, "c@x.example"), (evening, "d@x.example")):
            old = NOW - QUEUE_LIMIT * 2
            _, (late,) = db.stage_digest("L", [], [Staged(who, "<l@x>", b"l")], None, old)
            db.mark_deferred(late.key, "451 later", NOW)
        assert list(morning.give_up_expired(NOW)) == ["c@x.example"]
        assert [m.recipient for m in evening.outgoing()] == ["d@x.example"]
    finally:
        morning.close()
        evening.close()


def test_the_outbox_lists_waiting_and_uncertain_messages_in_staging_order(store):
    staged = [Staged(f"r{n}@x.example", f"<{n}@x>", b"m") for n in range(5)]
    _, (_, b, c, d, e) = store.stage_digest("S", [], staged, None, NOW)
    store.mark_sending(b.key, NOW)  # may have reached the server
    store.mark_sent(c.key, "250 OK", NOW)
    store.mark_refused(d.key, "550 no such user", NOW)
    store.mark_deferred(e.key, "451 later", NOW)
    assert [(m.recipient, m.uncertain) for m in store.outgoing()] == [
        ("r0@x.example", False),
        ("r1@x.example", True),
        ("r4@x.example", False),
    ]


def test_a_message_is_marked_sending_then_sent_with_its_delivery_recorded(store):
    _, (message,) = store.stage_digest("S", [], [Staged("a@x.example", "<1@x>", b"m")], None, NOW)
    store.mark_deferred(message.key, "451 greylisted", NOW)
    assert rows(store, "status, attempts, last_error") == [("queued", 0, "451 greylisted")]
    store.mark_sending(message.key, NOW)
    assert rows(store, "status, attempts, last_error") == [("sending", 1, None)]
    store.mark_sending(message.key, NOW)
    assert rows(store, "attempts") == [(2,)]
    later = NOW + timedelta(minutes=3)
    store.mark_sent(message.key, "250 2.0.0 queued as 7", later)
    assert rows(store, "status, sent, answered") == [
        ("sent", "2026-11-23T09:03:00+00:00", "2026-11-23T09:03:00+00:00")
    ]
    assert deliveries(store) == [
        (1, "smtp", "a@x.example", "sent", "250 2.0.0 queued as 7", "2026-11-23T09:03:00+00:00")
    ]
    assert store.db.execute("SELECT status FROM digests").fetchone()[0] == "delivered"


def test_a_refusal_is_final_and_recorded_with_the_server_s_reply(store):
    _, (message,) = store.stage_digest("S", [], [Staged("a@x.example", "<1@x>", b"m")], None, NOW)
    store.mark_refused(message.key, "550 5.1.1 no such user", NOW)
    assert rows(store, "status, last_error, answered, sent") == [
        ("refused", "550 5.1.1 no such user", "2026-11-23T09:00:00+00:00", None)
    ]
    assert deliveries(store) == [
        (1, "smtp", "a@x.example", "refused", "550 5.1.1 no such user", "2026-11-23T09:00:00+00:00")
    ]
    assert store.db.execute("SELECT status FROM digests").fetchone()[0] == "sending"
    assert store.outgoing() == []


def test_a_deferred_message_a_server_may_hold_stays_sending(store):
    staged = [Staged("a@x.example", "<1@x>", b"m"), Staged("b@x.example", "<2@x>", b"m")]
    _, (maybe, surely) = store.stage_digest("S", [], staged, None, NOW)
    store.mark_sending(maybe.key, NOW)
    store.mark_deferred(maybe.key, "connection lost", NOW, uncertain=True)
    store.mark_deferred(surely.key, "451 later", NOW)
    assert rows(store, "status, last_error") == [
        ("sending", "connection lost"),
        ("queued", "451 later"),
    ]


def test_an_unstaged_digest_gives_its_stories_back_and_records_why(store):
    article = _article(store, 1)
    items = [DigestItem("Title 1", "https://news.example/1", "S", "en", None, (), (article,))]
    staged = [Staged("a@x.example", "<1@x>", b"m"), Staged("b@x.example", "<2@x>", b"m")]
    digest_id, (_, second) = store.stage_digest("S", items, staged, None, NOW)
    store.mark_refused(second.key, "550 no such user", NOW)
    later = NOW + timedelta(minutes=1)
    assert store.cancel_digest(digest_id, "cannot connect: refused", later)
    assert store.count("pending") == 1 and store.count("delivered") == 0
    (pending,) = store.articles(("pending",), since=NOW - timedelta(days=1))
    assert pending.story_id is None
    assert store.db.execute("SELECT COUNT(*) FROM stories").fetchone()[0] == 0
    assert rows(store, "status, last_error, answered") == [
        ("cancelled", "cannot connect: refused", "2026-11-23T09:01:00+00:00"),
        ("refused", "550 no such user", "2026-11-23T09:00:00+00:00"),
    ]
    assert [d[2:5] for d in deliveries(store)] == [
        ("b@x.example", "refused", "550 no such user"),
        ("a@x.example", "failed", "cannot connect: refused"),
    ]
    assert store.db.execute("SELECT status FROM digests").fetchone()[0] == "failed"


def test_a_digest_with_a_message_sent_is_never_unstaged(store):
    article = _article(store, 1)
    items = [DigestItem("Title 1", "https://news.example/1", "S", "en", None, (), (article,))]
    staged = [Staged("a@x.example", "<1@x>", b"m"), Staged("b@x.example", "<2@x>", b"m")]
    digest_id, (first, _) = store.stage_digest("S", items, staged, None, NOW)
    store.mark_sent(first.key, "250 OK", NOW)
    assert not store.cancel_digest(digest_id, "cannot connect", NOW)
    assert store.count("delivered") == 1
    assert rows(store) == [("a@x.example", "sent"), ("b@x.example", "queued")]


def test_a_message_refused_for_now_is_given_up_only_after_the_queue_limit(store):
    assert timedelta(days=5) == QUEUE_LIMIT
    just_in = NOW - QUEUE_LIMIT + timedelta(seconds=1)
    _, (young,) = store.stage_digest("S", [], [Staged("y@x.example", "<1@x>", b"m")], None, just_in)
    _, (old,) = store.stage_digest(
        "S",
        [],
        [Staged("o@x.example", "<2@x>", b"m")],
        None,
        NOW - QUEUE_LIMIT - timedelta(seconds=1),
    )
    _, (held,) = store.stage_digest(
        "S", [], [Staged("h@x.example", "<3@x>", b"m")], None, NOW - QUEUE_LIMIT * 2
    )
    store.mark_deferred(young.key, "451 greylisted", NOW)
    store.mark_deferred(old.key, "451 greylisted", NOW)
    store.mark_sending(held.key, NOW)  # uncertain: the server may have it, then 4xx since
    may_have_it = (
        "gave up after 5 days of temporary refusals; it may have been delivered (a connection "
        "broke after the end of the message, before the server's answer)"
    )
    assert store.give_up_expired(NOW) == {
        "o@x.example": "gave up after 5 days: 451 greylisted",
        "h@x.example": may_have_it,
    }
    assert rows(store, "recipient, status, answered") == [
        ("y@x.example", "queued", None),
        ("o@x.example", "gave-up", "2026-11-23T09:00:00+00:00"),
        ("h@x.example", "gave-up", "2026-11-23T09:00:00+00:00"),
    ]
    assert [d[2:6] for d in deliveries(store)] == [
        (
            "o@x.example",
            "gave-up",
            "gave up after 5 days: 451 greylisted",
            "2026-11-23T09:00:00+00:00",
        ),
        ("h@x.example", "gave-up", may_have_it, "2026-11-23T09:00:00+00:00"),
    ]
    assert store.give_up_expired(NOW) == {}


def test_pruning_drops_only_the_bytes_of_final_messages_past_keep_sent(store):
    old = NOW - timedelta(days=10)
    staged = [Staged(f"r{n}@x.example", f"<{n}@x>", b"m%d" % n) for n in range(6)]
    _, (sent, refused, given_up, fresh) = store.stage_digest("S", [], staged[:4], None, old)
    # Staged within QUEUE_LIMIT: not given up.
    _, (uncertain, waiting) = store.stage_digest("S", [], staged[4:], None, NOW - timedelta(days=1))
    store.mark_sent(sent.key, "250 OK", old)
    store.mark_refused(refused.key, "550 no", old)
    store.mark_sent(fresh.key, "250 OK", NOW - timedelta(days=1))
    store.mark_sending(uncertain.key, old)
    store.mark_deferred(given_up.key, "451 later", old)
    assert list(store.give_up_expired(NOW - timedelta(days=4))) == ["r2@x.example"]
    store.mark_deferred(waiting.key, "451 later", old)
    assert store.prune_outbox(NOW, timedelta(days=3)) == 3
    assert rows(store, "recipient, pruned IS NOT NULL") == [
        ("r0@x.example", 1), ("r1@x.example", 1), ("r2@x.example", 1),
        ("r3@x.example", 0), ("r4@x.example", 0), ("r5@x.example", 0),
    ]  # fmt: skip
    assert [store.staged_message(m.key) for m in (fresh, uncertain, waiting)] == [
        b"m3",
        b"m4",
        b"m5",
    ]
    with pytest.raises(StoreError) as refusal:
        store.staged_message(sent.key)
    assert str(refusal.value) == (
        f"{store.where}: outbox row {sent.key} has no message to send "
        "(its bytes were pruned 2026-11-23T09:00:00+00:00)"
    )
    assert len(deliveries(store)) == 4  # the records stay
    assert store.prune_outbox(NOW, timedelta(days=3)) == 0


def test_a_message_exactly_keep_sent_old_is_kept_one_more_run(store):
    _, (message,) = store.stage_digest("S", [], [Staged("a@x.example", "<1@x>", b"m")], None, NOW)
    store.mark_sent(message.key, "250 OK", NOW - timedelta(days=3))
    assert store.prune_outbox(NOW, timedelta(days=3)) == 0
    assert store.prune_outbox(NOW + timedelta(seconds=1), timedelta(days=3)) == 1


def test_a_row_without_its_bytes_is_never_sent_empty(store):
    with pytest.raises(StoreError) as missing_row:
        store.staged_message("99")
    assert str(missing_row.value) == (
        f"{store.where}: outbox row 99 has no message to send (no such row)"
    )
    _, (message,) = store.stage_digest("S", [], [Staged("a@x.example", "<1@x>", b"m")], None, NOW)
    store.db.execute("DELETE FROM message_bytes")
    with pytest.raises(StoreError) as no_bytes:
        store.staged_message(message.key)
    assert str(no_bytes.value).endswith(
        f"outbox row {message.key} has no message to send (its bytes are missing)"
    )


def test_a_prune_that_frees_little_leaves_the_file_as_it_is(store):
    assert SHRINK_FREE_BYTES == 16 * 1024 * 1024
    body = bytes(range(256)) * 400  # 100 KB: far below the shrink threshold
    staged = [Staged(f"r{n}@x.example", f"<{n}@x>", body) for n in range(8)]
    _, listed = store.stage_digest("S", [], staged, None, NOW - timedelta(days=10))
    for message in listed:
        store.mark_sent(message.key, "250 OK", NOW - timedelta(days=10))
    store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    pages = store.db.execute("PRAGMA page_count").fetchone()[0]
    assert store.prune_outbox(NOW, timedelta(days=3)) == 8
    store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    assert store.db.execute("PRAGMA page_count").fetchone()[0] == pages  # freed, reused later
    assert store.db.execute("PRAGMA freelist_count").fetchone()[0] > 0


def test_a_big_prune_of_a_mostly_full_file_is_not_shrunk(store):
    # 17 MB freed, but the file keeps more than that in use: VACUUM would cost more than
    # it gives back, and SQLite reuses the pages for the next digest.
    body = bytes(range(256)) * 4000
    keep = [Staged(f"k{n}@x.example", f"<k{n}@x>", body) for n in range(20)]
    store.stage_digest("S", [], keep, None, NOW)  # still queued: not pruned
    staged = [Staged(f"r{n}@x.example", f"<{n}@x>", body) for n in range(17)]
    _, listed = store.stage_digest("S", [], staged, None, NOW - timedelta(days=10))
    for message in listed:
        store.mark_sent(message.key, "250 OK", NOW - timedelta(days=10))
    store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    pages = store.db.execute("PRAGMA page_count").fetchone()[0]
    assert store.prune_outbox(NOW, timedelta(days=3)) == 17
    assert store.db.execute("PRAGMA page_count").fetchone()[0] == pages


# -- SMTP: when each fate is written down ----------------------------------------------


def test_a_message_is_marked_sending_before_its_final_dot_and_sent_after_the_250(store, mailbox):
    staged = [Staged(r, f"<{r}>", BODY) for r in ("ana@example.org", "bo@example.org")]
    store.stage_digest("S", [], staged, None, NOW)
    journal = StoreJournal(store, mailbox)
    outcome = send_from_store(store, smtp_settings(mailbox), journal)
    assert [e[:3] for e in journal.events] == [
        ("sending", "ana@example.org", 0),  # the server had not got the end of it yet
        ("sent", "ana@example.org", 1),
        ("sending", "bo@example.org", 1),
        ("sent", "bo@example.org", 2),
    ]
    assert outcome.accepted == ["1", "2"] and not outcome.deferred and not outcome.uncertain
    assert rows(store) == [("ana@example.org", "sent"), ("bo@example.org", "sent")]
    assert [d[3:5] for d in deliveries(store)] == [
        ("sent", "250 Message accepted for delivery"),
        ("sent", "250 Message accepted for delivery"),
    ]
    # Nothing is waiting: a second run sends nothing again.
    again = send_from_store(store, smtp_settings(mailbox), StoreJournal(store))
    assert again.accepted == [] and len(mailbox.messages) == 2


def test_a_session_cut_between_the_dot_and_the_reply_leaves_the_message_sending(store):
    box = CutAfterData("127.0.0.1", _free_port(), cuts=1)
    controller = serve(box)
    try:
        staged = [Staged("ana@example.org", "<1@x>", BODY), Staged("bo@example.org", "<2@x>", BODY)]
        digest_id, _ = store.stage_digest("S", [], staged, None, NOW)
        outcome = send_from_store(store, smtp_settings(box), StoreJournal(store))
        reason = outcome.deferred["1"]
        assert reason.startswith("connection lost: ")
        assert outcome.deferred == {"1": reason, "2": reason}
        assert outcome.accepted == [] and outcome.uncertain == {"1"}
        assert rows(store) == [("ana@example.org", "sending"), ("bo@example.org", "queued")]
        assert len(box.messages) == 1  # the server had it; the client could not know
        assert not store.cancel_digest(digest_id, reason, NOW)  # never unstaged
        # The next run sends the same bytes again, says so, and records the delivery.
        waiting = store.outgoing()
        assert [m.uncertain for m in waiting] == [True, False]
        resent = send_from_store(store, smtp_settings(box), StoreJournal(store))
    finally:
        controller.stop()
    # (the run reports the resend from the row's `uncertain`, before sending)
    assert resent.accepted == ["1", "2"] and resent.uncertain == set()
    assert [m["Message-ID"] for m in box.messages] == ["<m@x>"] * 3
    assert box.messages[0].as_bytes() == box.messages[1].as_bytes()
    assert rows(store) == [("ana@example.org", "sent"), ("bo@example.org", "sent")]


def test_a_cut_session_is_retried_within_the_run_and_the_resend_reported(store):
    box = CutAfterData("127.0.0.1", _free_port(), cuts=1)
    controller = serve(box)
    waits: list[float] = []
    try:
        store.stage_digest("S", [], [Staged("ana@example.org", "<1@x>", BODY)], None, NOW)
        outcome = send_from_store(
            store, smtp_settings(box, retries=2), StoreJournal(store), sleep=waits.append
        )
    finally:
        controller.stop()
    assert outcome.accepted == ["1"] and outcome.uncertain == {"1"}
    assert outcome.deferred == {}
    assert waits == [0.05] and len(box.messages) == 2
    assert rows(store) == [("ana@example.org", "sent")]


def test_a_server_that_never_answers_the_dot_leaves_the_message_sending(store):
    class Silent(Mailbox):
        async def handle_DATA(self, server, session, envelope):
            self.messages.append(envelope.original_content)
            await asyncio.sleep(3)
            return "250 too late"

    box = Silent("127.0.0.1", _free_port())
    controller = serve(box)
    try:
        store.stage_digest("S", [], [Staged("ana@example.org", "<1@x>", BODY)], None, NOW)
        outcome = send_from_store(store, smtp_settings(box, timeout=0.5), StoreJournal(store))
    finally:
        controller.stop()
    assert outcome.deferred == {"1": "connection lost: Connection unexpectedly closed: timed out"}
    assert rows(store) == [("ana@example.org", "sending")] and len(box.messages) == 1


def test_a_session_lost_before_the_dot_leaves_the_message_queued(store):
    def hang_up_at_rcpt(reader: BinaryIO, sock: socket.socket) -> None:
        sock.sendall(b"220 peer\r\n")
        while line := reader.readline():
            if line.upper().startswith(b"RCPT"):
                return  # hangs up: nothing was sent
            sock.sendall(b"250 peer\r\n" if line.upper().startswith(b"EHLO") else b"250 ok\r\n")

    with Peer(hang_up_at_rcpt) as peer:
        staged = [Staged("ana@example.org", "<1@x>", BODY), Staged("bo@example.org", "<2@x>", BODY)]
        digest_id, _ = store.stage_digest("S", [], staged, None, NOW)
        outcome = send_from_store(store, smtp_settings(peer.port), StoreJournal(store))
    assert outcome.deferred == {
        "1": "connection lost: Connection unexpectedly closed",
        "2": "connection lost: Connection unexpectedly closed",
    }
    assert rows(store, "status, last_error") == [
        ("queued", "connection lost: Connection unexpectedly closed"),
        ("queued", "connection lost: Connection unexpectedly closed"),
    ]
    assert store.cancel_digest(digest_id, "lost", NOW)  # no server took any: unstaged


def test_a_refusal_then_an_acceptance_in_one_session(store):
    box = Scripted("127.0.0.1", _free_port(), replies={"gone@example.org": "550 5.1.1 gone"})
    controller = serve(box)
    try:
        staged = [Staged(r, f"<{r}>", BODY) for r in ("gone@example.org", "ana@example.org")]
        store.stage_digest("S", [], staged, None, NOW)
        outcome = send_from_store(store, smtp_settings(box), StoreJournal(store))
    finally:
        controller.stop()
    # The refused transaction was reset: the next message went through in the same session.
    assert outcome.refused == {"1": "550 5.1.1 gone"} and outcome.accepted == ["2"]
    assert len(box.helo_names) == 1 and len(box.messages) == 1
    assert rows(store, "status, last_error") == [("refused", "550 5.1.1 gone"), ("sent", None)]


def test_a_server_closing_the_session_with_421_defers_the_rest_unasked(store):
    box = Scripted(
        "127.0.0.1", _free_port(), replies={"ana@example.org": "421 4.3.2 shutting down"}
    )
    controller = serve(box)
    waits: list[float] = []
    try:
        staged = [Staged(r, f"<{r}>", BODY) for r in ("ana@example.org", "bo@example.org")]
        store.stage_digest("S", [], staged, None, NOW)
        outcome = send_from_store(
            store, smtp_settings(box, retries=1), StoreJournal(store), sleep=waits.append
        )
    finally:
        controller.stop()
    assert outcome.deferred == {
        "1": "421 4.3.2 shutting down",
        "2": "the server closed the session (421)",
    }
    assert box.rcpts == ["ana@example.org", "ana@example.org"]  # one per session, bo unasked
    assert waits == [0.05]
    assert rows(store, "status, last_error") == [
        ("queued", "421 4.3.2 shutting down"),
        ("queued", "the server closed the session (421)"),
    ]


def test_a_message_deferred_then_accepted_in_a_retry_counts_as_accepted_only(store):
    class Greylist(Scripted):
        async def handle_RCPT(self, server, session, envelope, address, options):
            if address == "bo@example.org" and self.rcpts.count(address) == 0:
                self.rcpts.append(address)
                return "451 4.7.1 greylisted"
            return await super().handle_RCPT(server, session, envelope, address, options)

    box = Greylist("127.0.0.1", _free_port())
    controller = serve(box)
    try:
        staged = [Staged(r, f"<{r}>", BODY) for r in ("bo@example.org", "gone@example.org")]
        box.replies = {"gone@example.org": "550 gone"}
        store.stage_digest("S", [], staged, None, NOW)
        outcome = send_from_store(
            store, smtp_settings(box, retries=1), StoreJournal(store), sleep=lambda _: None
        )
    finally:
        controller.stop()
    assert outcome.accepted == ["1"] and outcome.deferred == {}
    assert outcome.refused == {"2": "550 gone"}
    assert box.rcpts.count("gone@example.org") == 1  # refused for good: never asked again


def test_retry_waits_double_from_retry_delay_and_stop_at_retries():
    waits: list[float] = []
    settings = smtp_settings(_free_port(), retries=3, retry_delay=0.25)  # nobody listens
    outcome = send_outgoing(settings, outgoing("ana@example.org"), sleep=waits.append)
    assert waits == [0.25, 0.5, 1.0]
    assert list(outcome.deferred) == ["1"]
    assert outcome.deferred["1"].startswith("cannot connect: ")
    assert nothing_delivered(settings, outcome, {"1": "ana@example.org"}) == (
        f"SMTP 127.0.0.1:{settings.port}: {outcome.deferred['1']} (tried 4 times)"
    )


def test_without_retries_nothing_waits_and_the_line_has_no_count():
    waits: list[float] = []
    settings = smtp_settings(_free_port(), retries=0)
    outcome = send_outgoing(settings, outgoing("ana@example.org"), sleep=waits.append)
    assert waits == []
    line = nothing_delivered(settings, outcome, {"1": "ana@example.org"})
    assert line.startswith(f"SMTP 127.0.0.1:{settings.port}: cannot connect: ")
    assert "tried" not in line


def test_the_envelope_sender_is_the_bare_address_and_ehlo_names_its_domain():
    box = Scripted("127.0.0.1", _free_port())
    controller = serve(box)
    try:
        settings = smtp_settings(box, sender="Morning Brief <brief@news.example>")
        send_outgoing(settings, outgoing("Ana <ana@example.org>"))
        bare = smtp_settings(box, sender="brief@news.example")
        send_outgoing(bare, outgoing("bo@example.org"))
    finally:
        controller.stop()
    assert box.envelopes == [
        ("brief@news.example", ["ana@example.org"]),
        ("brief@news.example", ["bo@example.org"]),
    ]
    assert box.helo_names == ["news.example", "news.example"]


def test_message_lines_reach_the_server_as_written():
    box = Mailbox("127.0.0.1", _free_port())
    controller = serve(box)
    body = b"Subject: dots\n\n.leading dot\r..two\rbare cr\nlast line without end"
    try:
        outcome = send_outgoing(smtp_settings(box), outgoing("ana@example.org", body=body))
    finally:
        controller.stop()
    assert outcome.accepted == ["1"]
    assert box.messages[0].get_payload() == (
        ".leading dot\r\n..two\r\nbare cr\r\nlast line without end\r\n"
    )


def test_a_login_is_made_when_a_user_name_is_set(monkeypatch):
    logins: list[tuple[bytes, bytes]] = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        assert isinstance(auth_data, LoginPassword)
        logins.append((auth_data.login, auth_data.password))
        return AuthResult(success=auth_data.password == b"s3cret", handled=False)

    box = Mailbox("127.0.0.1", _free_port())
    controller = serve(box, authenticator=authenticator, auth_require_tls=False)
    monkeypatch.setenv("DIGEST_TEST_SMTP_PASSWORD", "s3cret")
    try:
        settings = smtp_settings(box, username="brief", password_env="DIGEST_TEST_SMTP_PASSWORD")
        assert send_outgoing(settings, outgoing("ana@example.org")).accepted == ["1"]
        monkeypatch.setenv("DIGEST_TEST_SMTP_PASSWORD", "wrong")
        waits: list[float] = []
        retried = smtp_settings(
            box, username="brief", password_env="DIGEST_TEST_SMTP_PASSWORD", retries=2
        )
        refused = send_outgoing(retried, outgoing("ana@example.org"), sleep=waits.append)
        non_ascii = smtp_settings(box, username="brïef", password_env="DIGEST_TEST_SMTP_PASSWORD")
        unsendable = send_outgoing(non_ascii, outgoing("ana@example.org"))
    finally:
        controller.stop()
    # A refused login is a setting to change, tried once whatever delivery.retries says.
    assert logins[:2] == [(b"brief", b"s3cret"), (b"brief", b"wrong")]
    assert len(box.messages) == 1 and waits == []
    assert refused.setting_error == (
        "login as brief refused (535 5.7.8 Authentication credentials invalid); "
        "check $DIGEST_TEST_SMTP_PASSWORD and delivery.username"
    )
    assert refused.deferred == {"1": refused.setting_error}
    assert unsendable.setting_error == (
        "delivery.username or $DIGEST_TEST_SMTP_PASSWORD has characters smtplib cannot send "
        "(non-ASCII)"
    )


def test_a_user_name_without_its_password_is_named_before_connecting(monkeypatch):
    monkeypatch.delenv("DIGEST_TEST_SMTP_PASSWORD", raising=False)
    settings = smtp_settings(
        _free_port(), username="brief", password_env="DIGEST_TEST_SMTP_PASSWORD"
    )
    outcome = send_outgoing(settings, outgoing("ana@example.org"))
    assert outcome.setting_error == (
        "delivery.username is set but "
        "$DIGEST_TEST_SMTP_PASSWORD is empty; export the password in that environment variable"
    )
    assert outcome.deferred == {"1": outcome.setting_error}


def test_a_message_without_bytes_is_never_sent(mailbox):
    empty = Outgoing("1", 1, "ana@example.org", b"", "<1@x>", "smtp")
    with pytest.raises(DeliveryError) as error:
        send_outgoing(smtp_settings(mailbox), [empty])
    assert str(error.value) == "no bytes to send for the message <1@x> to ana@example.org"
    assert mailbox.messages == []
    copies = Outgoing("1", 1, "", b"", "<1@x>", "file", "/nowhere/brief")
    with pytest.raises(DeliveryError, match=r"<1@x> to the outbox copies$"):
        send_outgoing(DeliveryConfig(method="file"), [copies])


def test_a_non_ascii_address_goes_over_smtputf8_offered_in_a_multi_line_ehlo():
    received: list[bytes] = []
    ehlo = b"250-peer\r\n250-SMTPUTF8\r\n250 8BITMIME\r\n"
    with Peer(conversation(b"220-peer\r\n220 ready\r\n", ehlo, received)) as peer:
        outcome = send_outgoing(smtp_settings(peer.port), outgoing("zoé@example.org"))
    assert outcome.accepted == ["1"]
    mail = [line for line in received if line.upper().startswith(b"MAIL")]
    assert mail == [b"mail FROM:<brief@news.example> SMTPUTF8\r\n"]


# -- SMTP replies, bounded ----------------------------------------------------------------


def test_a_greeting_of_max_reply_lines_is_read_and_one_more_is_refused():
    assert MAX_REPLY_LINES == 100
    long_greeting = b"220-hello\r\n" * (MAX_REPLY_LINES - 1) + b"220 ready\r\n"
    with Peer(conversation(long_greeting)) as peer:
        outcome = send_outgoing(smtp_settings(peer.port), outgoing("ana@example.org"))
    assert outcome.accepted == ["1"]
    too_long = b"220-hello\r\n" * MAX_REPLY_LINES + b"220 ready\r\n"
    with Peer(conversation(too_long)) as peer:
        outcome = send_outgoing(smtp_settings(peer.port), outgoing("ana@example.org"))
    assert outcome.deferred == {"1": "cannot connect: (500, b'reply too long')"}


def test_a_reply_line_over_8192_bytes_is_refused():
    fits = b"220 " + b"x" * (8192 - 6) + b"\r\n"
    with Peer(conversation(fits)) as peer:
        assert send_outgoing(smtp_settings(peer.port), outgoing("a@x.example")).accepted == ["1"]
    with Peer(conversation(b"220 " + b"x" * (8192 - 5) + b"\r\n")) as peer:
        outcome = send_outgoing(smtp_settings(peer.port), outgoing("a@x.example"))
    assert outcome.deferred == {"1": "cannot connect: (500, b'reply too long')"}


def test_a_greeting_trickled_a_byte_at_a_time_ends_at_delivery_timeout():
    def trickle(reader: BinaryIO, sock: socket.socket) -> None:
        for byte in b"220 " + b"x" * 60:  # a line that never ends, a byte at a time
            sock.sendall(bytes([byte]))
            time.sleep(0.05)

    with Peer(trickle) as peer:
        started = time.monotonic()
        outcome = send_outgoing(smtp_settings(peer.port, timeout=0.5), outgoing("a@x.example"))
        assert time.monotonic() - started < 2
    assert outcome.deferred == {
        "1": "cannot connect: no whole reply within 0.5s (delivery.timeout)"
    }


def test_a_multi_line_reply_cut_short_is_a_lost_connection():
    with Peer(lambda reader, sock: sock.sendall(b"220-hello\r\n")) as peer:
        outcome = send_outgoing(smtp_settings(peer.port), outgoing("a@x.example"))
    assert outcome.deferred == {"1": "cannot connect: Connection unexpectedly closed"}


def test_a_reset_connection_is_a_lost_connection_with_the_reason():
    def reset(reader: BinaryIO, sock: socket.socket) -> None:
        sock.sendall(b"220-hello\r\n")
        time.sleep(0.2)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")

    with Peer(reset) as peer:
        outcome = send_outgoing(smtp_settings(peer.port), outgoing("a@x.example"))
    assert outcome.deferred["1"].startswith(
        "cannot connect: Connection unexpectedly closed: [Errno 104]"
    )


def test_a_reply_that_is_not_smtp_ends_at_once():
    with Peer(lambda reader, sock: (sock.sendall(b"SSH-2.0-OpenSSH\r\n"), time.sleep(1))) as peer:
        started = time.monotonic()
        outcome = send_outgoing(smtp_settings(peer.port, timeout=0.8), outgoing("a@x.example"))
        assert time.monotonic() - started < 0.5  # no wait for more lines
    assert outcome.deferred == {"1": "cannot connect: (-1, b'2.0-OpenSSH')"}


# -- the outbox folder ------------------------------------------------------------------


def file_settings(folder: Path, *recipients: str, **changes: Any) -> DeliveryConfig:
    return DeliveryConfig(
        method="file", outbox=folder, recipients=recipients or ("ana@example.org",), **changes
    )


def test_outbox_files_are_written_after_sending_is_marked_and_before_sent(store, tmp_path):
    folder = tmp_path / "outbox"
    folder.mkdir()
    settings = file_settings(folder, "ana@example.org", "bo@example.org")
    store.stage_digest("S", [], stage_messages(RENDERED, settings, "en", NOW), None, NOW)
    journal = StoreJournal(store, folder=folder)
    outcome = send_from_store(store, settings, journal)
    stem = "20261123-090000-000-morning-brief"
    copies = [f"{stem}.html", f"{stem}.txt"]
    to_ana, to_bo = f"{stem}.to-ana-example-org.eml", f"{stem}.to-bo-example-org.eml"
    assert [(e[0], e[1], e[3]) for e in journal.events] == [
        ("sending", "", []),
        ("sent", "", copies),
        ("sending", "ana@example.org", copies),
        ("sent", "ana@example.org", sorted([*copies, to_ana])),
        ("sending", "bo@example.org", sorted([*copies, to_ana])),
        ("sent", "bo@example.org", sorted([*copies, to_ana, to_bo])),
    ]
    assert outcome.accepted == ["1", "2", "3"]
    assert [d[3:5] for d in deliveries(store)] == [
        ("sent", f"wrote {stem}.html, {stem}.txt"),
        ("sent", f"wrote {stem}.to-ana-example-org.eml"),
        ("sent", f"wrote {stem}.to-bo-example-org.eml"),
    ]
    assert (folder / f"{stem}.txt").read_bytes() == b"Hi\nthere\n"
    assert (folder / f"{stem}.html").read_text() == "<html><body><p>Hi</p></body></html>\n"
    eml = message_from_bytes(
        (folder / f"{stem}.to-bo-example-org.eml").read_bytes(), policy=policy.default
    )
    assert eml["To"] == "bo@example.org"
    assert [p.name for p in folder.iterdir() if p.name.startswith(".")] == []


def test_writing_the_outbox_again_after_a_crash_replaces_the_files_whole(store, tmp_path):
    folder = tmp_path / "outbox"
    settings = file_settings(folder)
    store.stage_digest("S", [], stage_messages(RENDERED, settings, "en", NOW), None, NOW)
    (copies, eml) = store.outgoing()
    # A run died after `sending` with a half-written file of the same name in place.
    store.mark_sending(eml.key, NOW)
    folder.mkdir()
    (folder / Path(eml.target or "").name).write_bytes(b"half a mess")
    outcome = send_from_store(store, settings, StoreJournal(store))
    assert outcome.accepted == [copies.key, eml.key]
    assert (folder / Path(eml.target or "").name).read_bytes() == store.staged_message(eml.key)
    assert sorted(p.name for p in folder.iterdir()) == [
        "20261123-090000-000-morning-brief.html",
        "20261123-090000-000-morning-brief.to-ana-example-org.eml",
        "20261123-090000-000-morning-brief.txt",
    ]


def test_an_unwritable_outbox_defers_each_message_saying_why(store, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    settings = file_settings(blocker / "out")
    store.stage_digest("S", [], stage_messages(RENDERED, settings, "en", NOW), None, NOW)
    outcome = send_from_store(store, settings, StoreJournal(store))
    reason = (
        f"outbox {blocker / 'out'}: cannot write: {blocker} is a file, not a folder; "
        "set delivery.outbox to a folder"
    )
    assert outcome.deferred == {"1": reason, "2": reason} and outcome.accepted == []
    assert rows(store, "status, last_error") == [("queued", reason), ("queued", reason)]
    assert nothing_delivered(settings, outcome, {"1": "", "2": "ana@example.org"}) == reason


def test_file_names_sort_by_time_to_the_millisecond_and_never_overwrite(tmp_path):
    folder = tmp_path / "outbox"
    at = NOW.replace(microsecond=123_999)
    subject = RenderedDigest(
        "Ünïcode: «news» of the day and more words than fit · 23 Nov", "<p/>", "t"
    )
    settings = file_settings(folder, "a.b@x.example", "a-b@x.example", "c@x.example")
    first = list(stage_messages(subject, settings, "en", at))
    stem = "20261123-090000-123-n-code-news-of-the-day-and-more-words-th"
    assert [(s.recipient, s.method, s.target) for s in first] == [
        ("", "file", str(folder / stem)),
        ("a.b@x.example", "file", str(folder / f"{stem}.to-a-b-x-example.eml")),
        ("a-b@x.example", "file", str(folder / f"{stem}.to-a-b-x-example-2.eml")),
        ("c@x.example", "file", str(folder / f"{stem}.to-c-x-example.eml")),
    ]
    rows_of_first = [
        Outgoing(str(n), 1, s.recipient, s.message, s.message_id, s.method, s.target)
        for n, s in enumerate(first)
    ]
    send_outgoing(settings, rows_of_first)
    second = list(stage_messages(subject, settings, "en", at))
    assert second[0].target == str(folder / f"{stem}-2")
    (folder / f"{stem}-2.to-c-x-example.eml").write_text("taken")
    assert next(iter(stage_messages(subject, settings, "en", at))).target == str(
        folder / f"{stem}-3"
    )


def test_the_outbox_copies_are_the_first_reader_s_and_each_eml_its_reader_s(tmp_path):
    settings = file_settings(
        tmp_path, "ana@example.org", "bo@example.org",
        unsubscribe=("https://news.example/unsubscribe?who={recipient}",),
    )  # fmt: skip
    copies, to_ana, to_bo = stage_messages(RENDERED, settings, "fr", NOW)
    for staged, who in (
        (copies, "ana@example.org"),
        (to_ana, "ana@example.org"),
        (to_bo, "bo@example.org"),
    ):
        message = message_from_bytes(staged.message, policy=policy.default)
        assert message["To"] == who
        assert message["Content-Language"] == "fr"
        assert message["Message-ID"] == staged.message_id
        assert message["Date"] == "Mon, 23 Nov 2026 09:00:00 +0000"
        assert who.replace("@", "%40") in message["List-Unsubscribe"]
        assert message["From"] == settings.sender


def test_file_delivery_needs_an_outbox_folder():
    with pytest.raises(DeliveryError, match=r"^delivery.outbox is not set$"):
        stage_messages(RENDERED, DeliveryConfig(method="file", outbox=None), "en", NOW)


def test_smtp_staging_makes_one_message_per_reader_in_order():
    settings = smtp_settings(25, recipients=("Ana <ana@example.org>", "bo@example.org"))
    staged = list(stage_messages(RENDERED, settings, "en", NOW))
    assert [(s.recipient, s.method, s.target) for s in staged] == [
        ("Ana <ana@example.org>", "smtp", None),
        ("bo@example.org", "smtp", None),
    ]
    for s in staged:
        message = message_from_bytes(s.message, policy=policy.default)
        assert message["To"] == s.recipient and message["Message-ID"] == s.message_id
        assert message["Subject"] == RENDERED.subject


# -- the one-shot sender and the lines it reports -----------------------------------------


def test_deliver_reports_who_got_it_who_refused_and_what_waits(tmp_path):
    box = Scripted(
        "127.0.0.1", _free_port(),
        replies={"gone@example.org": "550 5.1.1 gone", "later@example.org": "451 4.7.1 later"},
    )  # fmt: skip
    controller = serve(box)
    try:
        settings = smtp_settings(
            box, recipients=("ana@example.org", "gone@example.org", "later@example.org")
        )
        delivery = deliver(RENDERED, settings, "en", NOW)
    finally:
        controller.stop()
    assert delivery.method == "smtp"
    assert delivery.recipients == ("ana@example.org",)
    assert delivery.detail == f"127.0.0.1:{box.port} accepted 1 message(s)"
    assert delivery.files == ()
    assert delivery.refused == {"gone@example.org": "550 5.1.1 gone"}
    (why, message) = delivery.deferred["later@example.org"]
    assert why == "451 4.7.1 later" and list(delivery.deferred) == ["later@example.org"]
    assert message_from_bytes(message, policy=policy.default)["To"] == "later@example.org"


def test_deliver_to_files_lists_the_copies_then_each_eml(tmp_path):
    settings = file_settings(tmp_path / "out", "ana@example.org", "bo@example.org")
    delivery = deliver(RENDERED, settings, "en", NOW)
    stem = str(tmp_path / "out" / "20261123-090000-000-morning-brief")
    assert delivery.method == "file"
    assert delivery.recipients == ("ana@example.org", "bo@example.org")
    assert delivery.detail == "20261123-090000-000-morning-brief"
    assert delivery.files == (
        f"{stem}.html",
        f"{stem}.txt",
        f"{stem}.to-ana-example-org.eml",
        f"{stem}.to-bo-example-org.eml",
    )


def test_deliver_raises_with_the_reason_when_nobody_took_it():
    box = Scripted("127.0.0.1", _free_port(), replies={"ana@example.org": "550 5.1.1 gone"})
    controller = serve(box)
    try:
        with pytest.raises(DeliveryError) as error:
            deliver(RENDERED, smtp_settings(box), "en", NOW)
    finally:
        controller.stop()
    assert str(error.value) == f"SMTP 127.0.0.1:{box.port}: 550 5.1.1 gone"


def test_delivered_to_names_a_few_and_counts_the_rest(tmp_path):
    smtp = smtp_settings(2525)
    assert delivered_to(["Ana <ana@example.org>"], smtp) == (
        "1 recipient (ana@example.org) by SMTP 127.0.0.1:2525"
    )
    many = [f"r{n}@x.example" for n in range(5)]
    assert delivered_to(many, file_settings(tmp_path)) == (
        f"5 recipients (r0@x.example, r1@x.example, r2@x.example and 2 more) in {tmp_path}/"
    )
    assert delivered_to(many[:3], smtp) == (
        "3 recipients (r0@x.example, r1@x.example, r2@x.example) by SMTP 127.0.0.1:2525"
    )


def test_nothing_delivered_says_one_reason_once_or_each_reader_s():
    from digest.mail._deliver import SendOutcome

    smtp = smtp_settings(2525, retries=0)
    names = {"1": "ana@example.org", "2": "bo@example.org"}
    same = SendOutcome(deferred={"1": "451 later", "2": "451 later"})
    assert nothing_delivered(smtp, same, names) == "SMTP 127.0.0.1:2525: 451 later"
    mixed = SendOutcome(refused={"1": "550 gone"}, deferred={"2": "451 later"})
    assert nothing_delivered(smtp_settings(2525, retries=2), mixed, names) == (
        "SMTP 127.0.0.1:2525: no recipient accepted the digest "
        "(ana@example.org: 550 gone; bo@example.org: 451 later) (tried 3 times)"
    )
    refused = SendOutcome(refused={"1": "550 gone"})
    assert nothing_delivered(smtp_settings(2525, retries=2), refused, names) == (
        "SMTP 127.0.0.1:2525: 550 gone"
    )
    setting = SendOutcome(deferred={"1": "x"}, setting_error="set delivery.security: ssl")
    assert nothing_delivered(smtp, setting, names) == (
        "SMTP 127.0.0.1:2525: set delivery.security: ssl"
    )
    files = SendOutcome(deferred={"1": "outbox o: cannot write", "2": "outbox o: cannot write"})
    assert nothing_delivered(DeliveryConfig(method="file"), files, names) == (
        "outbox o: cannot write"
    )


# -- what the mutation run's survivors asked for ----------------------------------------


def test_an_outbox_folder_is_made_with_its_missing_parents(tmp_path):
    folder = tmp_path / "mail" / "digests" / "out"
    delivery = deliver(RENDERED, file_settings(folder), "en", NOW)
    assert len(delivery.files) == 3 and all(Path(f).is_file() for f in delivery.files)


def test_the_server_s_answer_to_the_final_dot_decides_the_message_s_fate(store):
    class Judge(Mailbox):
        async def handle_DATA(self, server, session, envelope):
            await super().handle_DATA(server, session, envelope)
            verdicts = {"spam@example.org": "554 5.7.1 looks like spam",
                        "full@example.org": "452 4.2.2 mailbox full"}  # fmt: skip
            return verdicts.get(envelope.rcpt_tos[0], "250 2.0.0 queued")

    box = Judge("127.0.0.1", _free_port())
    controller = serve(box)
    try:
        staged = [Staged(r, f"<{r}>", BODY) for r in
                  ("spam@example.org", "full@example.org", "ana@example.org")]  # fmt: skip
        store.stage_digest("S", [], staged, None, NOW)
        outcome = send_from_store(store, smtp_settings(box), StoreJournal(store))
    finally:
        controller.stop()
    assert outcome.refused == {"1": "554 5.7.1 looks like spam"}
    assert outcome.deferred == {"2": "452 4.2.2 mailbox full"}
    assert outcome.accepted == ["3"]
    assert rows(store, "status, last_error") == [
        ("refused", "554 5.7.1 looks like spam"),
        ("queued", "452 4.2.2 mailbox full"),  # refused, so surely not held: not uncertain
        ("sent", None),
    ]


def test_a_message_deferred_then_refused_in_a_retry_counts_as_refused_only(store):
    class ThenRefuse(Scripted):
        async def handle_RCPT(self, server, session, envelope, address, options):
            self.rcpts.append(address)
            if self.rcpts.count(address) == 1:
                return "451 4.7.1 greylisted"
            return "550 5.1.1 gone after all"

    box = ThenRefuse("127.0.0.1", _free_port())
    controller = serve(box)
    try:
        store.stage_digest("S", [], [Staged("bo@example.org", "<1@x>", BODY)], None, NOW)
        outcome = send_from_store(
            store, smtp_settings(box, retries=1), StoreJournal(store), sleep=lambda _: None
        )
    finally:
        controller.stop()
    assert outcome.refused == {"1": "550 5.1.1 gone after all"} and outcome.deferred == {}
    assert rows(store) == [("bo@example.org", "refused")]


def test_a_251_forwarding_answer_is_an_acceptance():
    class Forwarding(Mailbox):
        async def handle_RCPT(self, server, session, envelope, address, options):
            envelope.rcpt_tos.append(address)
            return "251 2.1.5 not local; will forward"

    box = Forwarding("127.0.0.1", _free_port())
    controller = serve(box)
    try:
        outcome = send_outgoing(smtp_settings(box), outgoing("ana@example.org"))
    finally:
        controller.stop()
    assert outcome.accepted == ["1"] and len(box.messages) == 1


def test_a_non_ascii_address_to_a_server_without_smtputf8_is_refused_saying_why():
    box = Mailbox("127.0.0.1", _free_port())
    controller = serve(box, enable_SMTPUTF8=False)
    try:
        outcome = send_outgoing(smtp_settings(box), outgoing("zoé@example.org"))
    finally:
        controller.stop()
    assert outcome.refused == {
        "1": "553 the address is not ASCII and the server does not offer SMTPUTF8"
    }
    assert box.messages == []


def test_a_reply_that_is_not_utf8_is_shown_with_replacement_characters():
    def refuse_in_latin1(reader: BinaryIO, sock: socket.socket) -> None:
        sock.sendall(b"220 peer\r\n")
        while line := reader.readline():
            if line.upper().startswith(b"RCPT"):
                sock.sendall(b"550 5.1.1 utilisateur inconnu \xe0 cette adresse\r\n")
            elif line.upper().startswith(b"QUIT"):
                sock.sendall(b"221 bye\r\n")
                return
            else:
                sock.sendall(b"250 ok\r\n")

    with Peer(refuse_in_latin1) as peer:
        outcome = send_outgoing(smtp_settings(peer.port), outgoing("ana@example.org"))
    assert outcome.refused == {"1": "550 5.1.1 utilisateur inconnu \ufffd cette adresse"}


def test_a_sender_without_an_address_says_localhost_and_sends_a_null_envelope():
    box = Scripted("127.0.0.1", _free_port())
    controller = serve(box)
    try:
        outcome = send_outgoing(smtp_settings(box, sender=""), outgoing("ana@example.org"))
    finally:
        controller.stop()
    assert outcome.accepted == ["1"]
    assert box.helo_names == ["localhost"] and box.envelopes == [("<>", ["ana@example.org"])]


def test_an_implicit_tls_port_that_stays_silent_ends_at_delivery_timeout():
    with Peer(lambda reader, sock: time.sleep(3)) as peer:
        started = time.monotonic()
        outcome = send_outgoing(
            smtp_settings(peer.port, security="ssl", timeout=0.5), outgoing("a@x.example")
        )
        assert time.monotonic() - started < 2
    assert outcome.deferred["1"].startswith("cannot connect: ")


def test_each_message_s_final_dot_goes_out_at_once(mailbox):
    # The dot is a small write after the body; held back until the server acknowledges the
    # body (Nagle's algorithm against delayed ACKs), each message would wait some 40 ms.
    messages = [
        Outgoing(str(n), 1, f"r{n}@x.example", BODY * 50, f"<{n}@x>", "smtp") for n in range(30)
    ]
    started = time.monotonic()
    outcome = send_outgoing(smtp_settings(mailbox), messages)
    elapsed = time.monotonic() - started
    assert len(outcome.accepted) == 30 and len(mailbox.messages) == 30
    assert elapsed < 0.6  # about 0.08 s here; 1.3 s with the dot held back


def _killed_at(point: str, path: Path, act: Callable[[Store], None]) -> int | None:
    """Run `act` on the state at `path` in a forked copy of this process that the crash
    point `point` kills (as the SIGKILL tests kill a real run); the signal that ended it."""
    child = os.fork()
    if child == 0:  # the child: its own connection, the crash point armed
        os.environ[CRASH_VARIABLE] = point
        try:
            state = Store.open(path)
            act(state)
        finally:
            os._exit(0)
    _, status = os.waitpid(child, 0)
    return os.WTERMSIG(status) if os.WIFSIGNALED(status) else None


@pytest.mark.parametrize(
    ("point", "after"),
    [
        ("before-sending", "queued"),
        ("after-sending", "sending"),
        ("before-sent", "sending"),
        ("after-sent", "sent"),
    ],
)
def test_a_run_killed_around_sending_or_sent_leaves_what_the_sigkill_tests_expect(
    store, point, after
):
    _, (message,) = store.stage_digest("S", [], [Staged("a@x.example", "<1@x>", b"m")], None, NOW)
    if point.endswith("-sent"):
        store.mark_sending(message.key, NOW)

    def act(state: Store) -> None:
        if point.endswith("-sending"):
            state.mark_sending(message.key, NOW)
        else:
            state.mark_sent(message.key, "250 OK", NOW)

    assert _killed_at(point, store.path, act) == signal.SIGKILL
    assert rows(store) == [("a@x.example", after)]
    if after != "sent":  # the next run sends it again, and records the delivery
        assert [m.key for m in store.outgoing()] == [message.key]
        store.mark_sending(message.key, NOW)
        store.mark_sent(message.key, "250 OK", NOW)
    assert rows(store) == [("a@x.example", "sent")] and store.outgoing() == []


def test_nothing_delivered_to_files_lists_each_distinct_reason_once():
    from digest.mail._deliver import SendOutcome

    outcome = SendOutcome(
        deferred={
            "1": "outbox a: cannot write: x",
            "2": "outbox b: cannot write: y",
            "3": "outbox a: cannot write: x",
        }
    )
    assert nothing_delivered(DeliveryConfig(method="file"), outcome, {}) == (
        "outbox a: cannot write: x; outbox b: cannot write: y"
    )


def test_a_multi_line_reply_that_stops_halfway_ends_at_delivery_timeout():
    def stall_halfway(reader: BinaryIO, sock: socket.socket) -> None:
        sock.sendall(b"220-hello\r\n")
        time.sleep(2)

    with Peer(stall_halfway) as peer:
        outcome = send_outgoing(smtp_settings(peer.port, timeout=0.5), outgoing("a@x.example"))
    assert outcome.deferred == {
        "1": "cannot connect: no whole reply within 0.5s (delivery.timeout)"
    }


def scripted_peer(replies: dict[bytes, bytes], close_after: bytes = b""):
    """A peer that answers each command by its first word (250 ok unless told), and hangs
    up right after answering `close_after`."""

    def talk(reader: BinaryIO, sock: socket.socket) -> None:
        sock.sendall(b"220 peer\r\n")
        while line := reader.readline():
            word = line.split()[0].upper() if line.split() else b""
            if word == b"QUIT":
                sock.sendall(b"221 bye\r\n")
                return
            sock.sendall(replies.get(word, b"250 ok\r\n"))
            if word == close_after:
                return

    return talk


def test_a_530_before_any_mail_names_the_login_setting():
    with Peer(scripted_peer({b"MAIL": b"530 5.7.0 Authentication required\r\n"})) as peer:
        settings = smtp_settings(peer.port, retries=2)
        waits: list[float] = []
        outcome = send_outgoing(
            settings, outgoing("a@x.example", "b@x.example"), sleep=waits.append
        )
    reason = (
        "the server wants a login before mail (530 5.7.0 Authentication required); "
        "set delivery.username"
    )
    assert outcome.setting_error == reason and waits == []
    assert outcome.deferred == {"1": reason, "2": reason}


def test_a_421_answer_and_hang_up_keeps_its_reply_as_the_reason():
    talk = scripted_peer({b"RCPT": b"421 4.3.2 going down\r\n"}, close_after=b"RCPT")
    with Peer(talk) as peer:
        outcome = send_outgoing(smtp_settings(peer.port), outgoing("a@x.example", "b@x.example"))
    assert outcome.deferred == {
        "1": "421 4.3.2 going down",
        "2": "the server closed the session (421)",
    }


def test_a_reply_keeps_its_last_character_whatever_it_is():
    with Peer(scripted_peer({b"RCPT": b"550 5.1.1 no mailbox named X\r\n"})) as peer:
        outcome = send_outgoing(smtp_settings(peer.port), outgoing("a@x.example"))
    assert outcome.refused == {"1": "550 5.1.1 no mailbox named X"}


def test_a_message_ending_in_a_line_end_gets_no_second_one(mailbox):
    body = b"Subject: s\r\n\r\nfirst\r\nlast\r\n"
    send_outgoing(smtp_settings(mailbox), outgoing("a@x.example", body=body))
    assert mailbox.messages[0].get_payload() == "first\r\nlast\r\n"


def test_deliver_names_each_reader_s_refusal_when_nobody_took_it():
    box = Scripted(
        "127.0.0.1", _free_port(),
        replies={"ana@example.org": "550 5.1.1 gone", "bo@example.org": "552 5.2.2 full"},
    )  # fmt: skip
    controller = serve(box)
    try:
        with pytest.raises(DeliveryError) as error:
            deliver(
                RENDERED, smtp_settings(box, recipients=("ana@example.org", "bo@example.org")),
                "en", NOW,
            )  # fmt: skip
    finally:
        controller.stop()
    assert str(error.value) == (
        f"SMTP 127.0.0.1:{box.port}: no recipient accepted the digest "
        "(ana@example.org: 550 5.1.1 gone; bo@example.org: 552 5.2.2 full)"
    )


@pytest.mark.parametrize(("point", "staged"), [("before-stage", 0), ("after-stage", 1)])
def test_the_crash_points_around_staging_are_where_the_sigkill_tests_expect(store, point, staged):
    message = Staged("a@x.example", "<1@x>", b"m")

    def act(state: Store) -> None:
        state.stage_digest("S", [], [message], None, NOW)

    assert _killed_at(point, store.path, act) == signal.SIGKILL
    assert len(rows(store)) == staged
    store.stage_digest("S", [], [message], None, NOW)  # the next run stages it
    assert len(rows(store)) == staged + 1


def test_a_reply_whose_line_end_arrives_apart_is_read_line_by_line():
    def split_greeting(reader: BinaryIO, sock: socket.socket) -> None:
        sock.sendall(b"220-hello\r")
        time.sleep(0.1)  # the "\n" comes in a read of its own, with the next line
        sock.sendall(b"\n220 ready\r\n")
        conversation(b"")(reader, sock)

    with Peer(split_greeting) as peer:
        outcome = send_outgoing(smtp_settings(peer.port, timeout=1), outgoing("a@x.example"))
    assert outcome.accepted == ["1"]


def test_starttls_missing_is_each_message_s_reason_too(store, mailbox):
    store.stage_digest("S", [], [Staged("a@x.example", "<1@x>", BODY)], None, NOW)
    settings = smtp_settings(mailbox, security="starttls")
    outcome = send_from_store(store, settings, StoreJournal(store))
    reason = (
        "the server does not offer STARTTLS; set delivery.security: ssl if this port expects "
        "TLS from the start (usually 465), or none for plain SMTP"
    )
    assert outcome.setting_error == reason and outcome.deferred == {"1": reason}
    assert rows(store, "status, last_error") == [("queued", reason)]


def test_a_500_answer_is_a_refusal_for_good():
    box = Scripted("127.0.0.1", _free_port(), replies={"a@x.example": "500 5.5.2 what?"})
    controller = serve(box)
    try:
        outcome = send_outgoing(smtp_settings(box, retries=2), outgoing("a@x.example"))
    finally:
        controller.stop()
    assert outcome.refused == {"1": "500 5.5.2 what?"} and box.rcpts == ["a@x.example"]


def test_a_cut_after_the_second_message_leaves_only_that_one_uncertain(store):
    class CutSecond(CutAfterData):
        async def handle_DATA(self, server, session, envelope):
            if envelope.rcpt_tos == ["b@x.example"]:
                return await super().handle_DATA(server, session, envelope)
            return await Mailbox.handle_DATA(self, server, session, envelope)

    box = CutSecond("127.0.0.1", _free_port(), cuts=1)
    controller = serve(box)
    try:
        staged = [Staged(f"{r}@x.example", f"<{r}@x>", BODY) for r in ("a", "b", "c")]
        store.stage_digest("S", [], staged, None, NOW)
        outcome = send_from_store(store, smtp_settings(box), StoreJournal(store))
    finally:
        controller.stop()
    assert outcome.accepted == ["1"] and outcome.uncertain == {"2"}
    assert set(outcome.deferred) == {"2", "3"}
    assert rows(store) == [("a@x.example", "sent"), ("b@x.example", "sending"),
                           ("c@x.example", "queued")]  # fmt: skip


def test_ehlo_names_the_domain_of_the_sender_s_address_whatever_its_display_name():
    box = Scripted("127.0.0.1", _free_port())
    controller = serve(box)
    try:
        for sender in ('"News@Home" <brief@news.example>', "Digest <digest@MAIL.MX>"):
            send_outgoing(smtp_settings(box, sender=sender), outgoing("a@x.example"))
    finally:
        controller.stop()
    assert box.helo_names == ["news.example", "MAIL.MX"]
    assert [mail_from for mail_from, _ in box.envelopes] == ["brief@news.example", "digest@MAIL.MX"]


def test_implicit_tls_names_the_sender_s_domain_in_its_ehlo_too(tmp_path):
    from certificates import write_certificates

    files = write_certificates(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(files["cert"], files["key"])
    box = Scripted("127.0.0.1", _free_port())
    controller = serve(box, ssl_context=context)
    try:
        settings = smtp_settings(box, security="ssl", ca_file=str(files["ca"]))
        assert send_outgoing(settings, outgoing("a@x.example")).accepted == ["1"]
    finally:
        controller.stop()
    assert box.helo_names == ["news.example"]
