"""Kill the real `digest run` (SIGKILL) at each point where a crash could lose or repeat a
story, rerun it, and count what a real SMTP server (aiosmtpd on loopback) received."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from conftest import (
    DEMO_FEEDS,
    REPO,
    Mailbox,
    _free_port,
    run_cli,
    smtp_delivery,
    wait_for,
    write_config,
)

RECIPIENTS = ("ana@example.org", "bo@example.org")


def _config(tmp_path, site, smtp_server):
    delivery = smtp_delivery(smtp_server, to=f"[{', '.join(RECIPIENTS)}]")
    return write_config(tmp_path, site.base_url, delivery=delivery, feeds=DEMO_FEEDS[:4])


def _received(smtp_server) -> dict[str, Counter]:
    """recipient -> Counter of Message-IDs it received."""
    got: dict[str, Counter] = {r: Counter() for r in RECIPIENTS}
    for message, (_, rcpts) in zip(smtp_server.messages, smtp_server.envelopes, strict=True):
        for rcpt in rcpts:
            got[rcpt][message["Message-ID"]] += 1
    return got


def _story_urls(smtp_server) -> Counter:
    """Story links per distinct message, counted once per recipient's distinct message."""
    seen: dict[tuple[str, str], str] = {}
    for message, (_, rcpts) in zip(smtp_server.messages, smtp_server.envelopes, strict=True):
        seen[(rcpts[0], message["Message-ID"])] = message.get_body(("plain",)).get_content()
    urls: Counter = Counter()
    for (rcpt, _), text in seen.items():
        if rcpt == RECIPIENTS[0]:
            # A message names an article's link more than once (the headline's, its
            # source's): counted once a message, the count is how many messages sent it.
            urls.update({line.strip() for line in text.splitlines() if "/articles/" in line})
    return urls


@pytest.mark.parametrize(
    "point",
    # after ingest; after the digest is staged; before the end-of-data (the message marked
    # `sending`); after the server's 250, before it is marked `sent`; after that.
    ["before-problems", "after-stage", "after-sending", "before-sent", "after-sent"],
)
def test_a_run_killed_at_any_point_then_rerun_delivers_every_story_once(
    point, tmp_path, site, smtp_server
):
    config = _config(tmp_path, site, smtp_server)
    killed = run_cli("run", "--config", str(config), env={"DIGEST_TEST_CRASH_AT": point})
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    rerun = run_cli("run", "--config", str(config))
    assert rerun.returncode == 0, rerun.stderr
    again = run_cli("run", "--config", str(config))
    assert again.returncode == 0 and "nothing new" in again.stdout, again.stderr

    received = _received(smtp_server)
    for recipient in RECIPIENTS:
        assert len(received[recipient]) == 1, (recipient, received)  # one digest each
    copies = received[RECIPIENTS[0]].most_common(1)[0][1]
    if point == "before-sent":
        # Killed after the server's 250, before the commit: the one window SMTP cannot
        # close. The message goes again, the same bytes with the same Message-ID, and the
        # rerun says so.
        assert copies == 2
        first, second = (m for m, e in zip(smtp_server.messages, smtp_server.envelopes,
                                           strict=True) if e[1] == [RECIPIENTS[0]])  # fmt: skip
        assert first.as_bytes() == second.as_bytes()
        assert "sent again with the same Message-ID" in rerun.stderr
    else:
        assert copies == 1
        assert sum(received[RECIPIENTS[1]].values()) == 1
    stories = _story_urls(smtp_server)
    assert stories and set(stories.values()) == {1}, stories

    with sqlite3.connect(tmp_path / "state" / "digest.db") as db:
        outcomes = [row[0] for row in db.execute("SELECT outcome FROM runs ORDER BY id")]
        waiting = db.execute(
            "SELECT COUNT(*) FROM queued_messages WHERE status NOT IN ('sent', 'cancelled')"
        ).fetchone()[0]
        pending = db.execute("SELECT COUNT(*) FROM articles WHERE status = 'pending'").fetchone()
    assert outcomes == ["died", "ok", "ok"]
    assert waiting == 0 and pending[0] == 0


def test_a_run_killed_while_fetching_then_rerun_sends_once(tmp_path, site, smtp_server):
    delivery = smtp_delivery(smtp_server)
    config = write_config(tmp_path, site.base_url, delivery=delivery, feeds=DEMO_FEEDS[:3])
    process = subprocess.Popen(
        [sys.executable, "-m", "digest", "run", "--config", str(config)],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        # Killed as soon as the first article page was served: feeds read, pages half done.
        assert wait_for(lambda: any("/articles/" in r[1] for r in site.requests), timeout=30)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    assert smtp_server.messages == []
    rerun = run_cli("run", "--config", str(config))
    assert rerun.returncode == 0, rerun.stderr
    assert run_cli("run", "--config", str(config)).returncode == 0
    assert len(smtp_server.messages) == 1


def test_the_outbox_folder_gets_one_copy_of_each_file_when_killed_after_writing(tmp_path, site):
    config = write_config(tmp_path, site.base_url, feeds=DEMO_FEEDS[:3])
    killed = run_cli("run", "--config", str(config), env={"DIGEST_TEST_CRASH_AT": "before-sent"})
    assert killed.returncode == -signal.SIGKILL
    written = sorted(p.name for p in (tmp_path / "outbox").iterdir())
    rerun = run_cli("run", "--config", str(config))
    assert rerun.returncode == 0, rerun.stderr
    assert "nothing new" in rerun.stdout
    assert "Message-ID" not in rerun.stderr  # rewriting a file is no duplicate to warn of
    after = sorted(p.name for p in (tmp_path / "outbox").iterdir())
    assert set(written) < set(after)  # killed after the first file set, the rest came now
    assert [name.rsplit(".", 1)[-1] for name in after] == ["html", "eml", "txt"]
    assert len({name.split(".")[0] for name in after}) == 1  # one digest, not a second


class CutAfterData(Mailbox):
    """Takes the message, then drops the connection before its 250 reaches the client (the
    RFC 1047 case), the first `cuts` times."""

    def __init__(self, *args, cuts: int = 1, **kwargs):
        super().__init__(*args, **kwargs)
        self.cuts = cuts

    async def handle_DATA(self, server, session, envelope):
        reply = await super().handle_DATA(server, session, envelope)
        if self.cuts > 0:
            self.cuts -= 1
            server.transport.abort()
        return reply


class SlowToAnswer(Mailbox):
    """Takes the message and answers its end of data two seconds later."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.taking = threading.Event()

    async def handle_DATA(self, server, session, envelope):
        reply = await super().handle_DATA(server, session, envelope)
        self.taking.set()
        await asyncio.sleep(2)
        return reply


def _stopped_while_the_server_takes_a_message(config: Path, mailbox: SlowToAnswer) -> None:
    """`digest run` of `config`, sent SIGTERM as `mailbox` takes its first message: it
    ends "stopped by SIGTERM" (143)."""
    running = subprocess.Popen(
        [sys.executable, "-m", "digest", "run", "--config", str(config)],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert mailbox.taking.wait(60)
    running.terminate()
    _, stopped = running.communicate(timeout=90)
    assert running.returncode == 143, stopped
    assert stopped.strip().endswith("digest: stopped by SIGTERM")


def test_a_sigterm_while_the_server_takes_the_message_waits_for_its_answer(tmp_path, site):
    # `systemctl stop` while the server was taking the message stopped the run before it
    # read the 250: the state said "being handed over", and the next run sent it again.
    mailbox = SlowToAnswer("127.0.0.1", _free_port())
    controller = Controller(mailbox, hostname=mailbox.host, port=mailbox.port)
    controller.start()
    try:
        config = write_config(
            tmp_path, site.base_url, delivery=smtp_delivery(mailbox), feeds=DEMO_FEEDS[:2]
        )
        _stopped_while_the_server_takes_a_message(config, mailbox)
        again = run_cli("run", "--config", str(config))
    finally:
        controller.stop()
    assert again.returncode == 0, again.stderr
    assert "sent again" not in again.stderr
    assert "nothing new" in again.stdout
    assert len(mailbox.messages) == 1


def test_a_sigterm_while_sending_lets_the_digest_reach_every_reader_first(tmp_path, site):
    # deploy/digest-run.service says a stop lets the run finish sending; it stopped after
    # the message under way, and the timer's next run was a day away for the others.
    mailbox = SlowToAnswer("127.0.0.1", _free_port())
    controller = Controller(mailbox, hostname=mailbox.host, port=mailbox.port)
    controller.start()
    readers = ["ana@example.org", "ben@example.org", "cy@example.org"]
    try:
        delivery = smtp_delivery(mailbox, to="[" + ", ".join(readers) + "]")
        config = write_config(tmp_path, site.base_url, delivery=delivery, feeds=DEMO_FEEDS[:2])
        _stopped_while_the_server_takes_a_message(config, mailbox)
    finally:
        controller.stop()
    assert sorted(to for _, tos in mailbox.envelopes for to in tos) == readers


def test_a_session_cut_after_the_end_of_data_is_resent_never_unstaged(tmp_path, site):
    mailbox = CutAfterData("127.0.0.1", _free_port(), cuts=1)
    controller = Controller(mailbox, hostname=mailbox.host, port=mailbox.port)
    controller.start()
    try:
        delivery = smtp_delivery(mailbox)
        config = write_config(tmp_path, site.base_url, delivery=delivery, feeds=DEMO_FEEDS[:2])
        first = run_cli("run", "--config", str(config))
        assert first.returncode == 0, first.stderr
        assert "sent again with the same Message-ID" in first.stderr
        assert len(mailbox.messages) == 2  # the server had it; we could not know
        assert len({m["Message-ID"] for m in mailbox.messages}) == 1

        # Retries off and the server cutting every time: the digest stays staged (the
        # server may hold it), it is not unstaged into a new digest with a new Message-ID.
        mailbox.cuts = 99
        config.write_text(config.read_text().replace("retry_delay: 0.05s", "retries: 0"))
        (tmp_path / "state" / "digest.db").unlink()
        for suffix in ("-wal", "-shm"):
            (tmp_path / "state" / f"digest.db{suffix}").unlink(missing_ok=True)
        cut = run_cli("run", "--config", str(config))
        assert cut.returncode == 0, cut.stderr
        assert "deferred (connection lost" in cut.stderr
        mailbox.cuts = 0
        resent = run_cli("run", "--config", str(config))
        assert resent.returncode == 0, resent.stderr
        assert "sent again with the same Message-ID" in resent.stderr
    finally:
        controller.stop()
    later = mailbox.messages[2:]
    assert len(later) == 2 and len({m["Message-ID"] for m in later}) == 1
