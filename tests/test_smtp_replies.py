"""Each SMTP reply read for what it says, against a scripted server on 127.0.0.1: every
command has its own success code, a refusal stands although the server hangs up right after
it, and a login that no retry can mend (not offered, refused, no password) is a setting to
change, which a run reports at once and for which it keeps no digest waiting."""

from __future__ import annotations

import socketserver
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from conftest import DEMO_FEEDS, run_cli, write_config

import digest
from digest.config._loader import DeliveryConfig
from digest.errors import DeliveryError
from digest.mail._deliver import send_outgoing, stage_messages
from digest.mail._smtp_security import probe_smtp
from digest.models import Outgoing, RenderedDigest

BODY = b"Subject: s\r\nMessage-ID: <m@x>\r\n\r\nHello\r\nMAIL FROM:<not-a-command@x>\r\n"
PLAIN_AUTH = "250-scripted\r\n250-AUTH PLAIN\r\n250 8BITMIME"
CLOSE = " |close"  # a reply ending in this is sent, then the server hangs up


class ScriptedServer:
    """Answers each command by its verb from `replies` ("250 ok" unless told). DATA, unless
    scripted, takes a message and answers its end with `end_of_data`. Notes each command
    line and each message taken."""

    def __init__(
        self, replies: dict[str, str] | None = None, *, ehlo: str = PLAIN_AUTH,
        end_of_data: str = "250 queued",
    ):  # fmt: skip
        self.replies = dict(replies or {})
        self.ehlo = ehlo
        self.end_of_data = end_of_data
        self.commands: list[str] = []
        self.messages: list[bytes] = []
        outer = self

        class Session(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                outer._session(self.rfile.readline, self.wfile.write)

        class Server(socketserver.ThreadingTCPServer):
            allow_reuse_address = True
            daemon_threads = True

        self.server = Server(("127.0.0.1", 0), Session)
        self.port = self.server.server_address[1]
        # A short poll: shutdown() waits out one poll of serve_forever.
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def _session(self, readline: Callable[[], bytes], write: Callable[[bytes], Any]) -> None:
        def answer(reply: str) -> bool:
            """Send `reply`; False when the server hangs up after it."""
            write(reply.removesuffix(CLOSE).encode() + b"\r\n")
            return not reply.endswith(CLOSE)

        write(b"220 scripted ESMTP\r\n")
        while line := readline():
            text = line.decode("utf-8", "replace").rstrip("\r\n")
            self.commands.append(text)
            verb = text.split(" ", 1)[0].upper()
            if verb == "QUIT":
                write(b"221 bye\r\n")
                return
            if verb == "DATA" and verb not in self.replies:
                write(b"354 go on\r\n")
                lines = []
                while (data := readline()) not in (b".\r\n", b""):
                    lines.append(data)
                self.messages.append(b"".join(lines))
                if not answer(self.end_of_data):
                    return
                continue
            reply = self.replies.get(verb, self.ehlo if verb == "EHLO" else "250 ok")
            if not answer(reply):
                return

    @property
    def verbs(self) -> list[str]:
        return [command.split(" ", 1)[0].upper() for command in self.commands]

    def __enter__(self) -> ScriptedServer:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.server.shutdown()
        self.server.server_close()


class Events:
    """A journal that notes each fate as the outbox would be told it."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str]] = []

    def sending(self, message: Outgoing) -> None:
        self.events.append(("sending", message.recipient))

    def sent(self, message: Outgoing, reply: str) -> None:
        self.events.append(("sent", message.recipient))

    def refused(self, message: Outgoing, reply: str) -> None:
        self.events.append(("refused", message.recipient))

    def deferred(self, message: Outgoing, reason: str) -> None:
        self.events.append(("deferred", message.recipient))


def settings(server: ScriptedServer, **changes: Any) -> DeliveryConfig:
    values: dict[str, Any] = dict(
        method="smtp", host="127.0.0.1", port=server.port, security="none",
        sender="Brief <brief@news.example>", recipients=("ana@example.org",),
        retries=0, retry_delay=0.01, timeout=2,
    )  # fmt: skip
    values.update(changes)
    return DeliveryConfig(**values)


def outgoing(*recipients: str) -> list[Outgoing]:
    return [Outgoing(str(n), 1, r, BODY, f"<{n}@x>", "smtp") for n, r in enumerate(recipients, 1)]


# -- each command's own success code ------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "reply", "expects"),
    [("MAIL", "354 go on", "250"), ("RCPT", "354 go on", "250 or 251"), ("DATA", "250 ok", "354")],
)
def test_a_reply_that_is_another_command_s_success_takes_no_message(command, reply, expects):
    with ScriptedServer({command: reply}) as server:
        journal = Events()
        outcome = send_outgoing(settings(server), outgoing("a@x.example"), journal)
    reason = f'the server answered {command} with "{reply}" where SMTP expects {expects}'
    assert outcome.accepted == [] and outcome.deferred == {"1": reason}
    assert outcome.uncertain == set() and journal.events == [("deferred", "a@x.example")]
    # The session ends there: no line of the message ever reaches the server as a command.
    assert server.verbs[-1] == "QUIT" and "MAIL FROM:<not-a-command@x>" not in server.commands
    assert server.messages == []


def test_a_data_answered_250_defers_every_message_and_each_retry_asks_again():
    with ScriptedServer({"DATA": "250 ok"}) as server:
        waits: list[float] = []
        outcome = send_outgoing(
            settings(server, retries=1), outgoing("a@x.example", "b@x.example"), sleep=waits.append
        )
    assert outcome.accepted == [] and set(outcome.deferred) == {"1", "2"}
    assert outcome.setting_error is None and waits == [0.01]
    assert server.verbs.count("DATA") == 2  # one per session: the rest wait unasked


def test_an_end_of_message_answered_out_of_step_may_have_been_taken():
    with ScriptedServer(end_of_data="354 go on") as server:
        journal = Events()
        outcome = send_outgoing(settings(server), outgoing("a@x.example", "b@x.example"), journal)
    reason = 'the server answered the end of the message with "354 go on" where SMTP expects 250'
    assert outcome.accepted == [] and outcome.deferred == {"1": reason, "2": reason}
    assert outcome.uncertain == {"1"}  # its end went out: sent again with the same Message-ID
    assert journal.events[0] == ("sending", "a@x.example")
    assert ("sent", "a@x.example") not in journal.events


def test_a_251_to_rcpt_and_250_to_the_end_of_the_message_are_an_acceptance():
    with ScriptedServer({"RCPT": "251 will forward"}) as server:
        outcome = send_outgoing(settings(server), outgoing("a@x.example"))
    assert outcome.accepted == ["1"] and len(server.messages) == 1


# -- a refusal stands when the server hangs up after it -------------------------------------


@pytest.mark.parametrize("command", ["MAIL", "RCPT"])
def test_a_refusal_for_good_then_hang_up_is_a_refusal_not_a_lost_connection(command):
    reply = "554 5.7.1 Service unavailable; client host blocked"
    with ScriptedServer({command: reply + CLOSE}) as server:
        journal = Events()
        outcome = send_outgoing(
            settings(server, retries=2), outgoing("a@x.example", "b@x.example"), journal,
            sleep=lambda _: None,
        )  # fmt: skip
    # The second reader waits for a new session, where it is refused the same way.
    assert outcome.refused == {"1": reply, "2": reply} and outcome.deferred == {}
    assert journal.events == [
        ("refused", "a@x.example"),
        ("deferred", "b@x.example"),
        ("refused", "b@x.example"),
    ]
    assert server.verbs.count("EHLO") == 2


def test_a_refusal_for_now_then_hang_up_defers_with_the_server_s_reply():
    reply = "450 4.2.0 mailbox busy"
    with ScriptedServer({"RCPT": reply + CLOSE}) as server:
        outcome = send_outgoing(settings(server), outgoing("a@x.example", "b@x.example"))
    assert outcome.deferred == {"1": reply, "2": "the server closed the session (450)"}


def test_a_refused_end_of_message_then_hang_up_is_a_refusal():
    reply = "554 5.6.0 message content rejected"
    with ScriptedServer(end_of_data=reply + CLOSE) as server:
        outcome = send_outgoing(settings(server), outgoing("a@x.example"))
    assert outcome.refused == {"1": reply} and outcome.uncertain == set()


def test_a_refusal_whose_reset_is_refused_ends_the_session():
    with ScriptedServer({"RCPT": "550 5.1.1 no such user", "RSET": "421 4.3.2 going down"}) as s:
        outcome = send_outgoing(settings(s), outgoing("a@x.example", "b@x.example"))
    assert outcome.refused == {"1": "550 5.1.1 no such user"}
    assert outcome.deferred == {"2": "the server closed the session (550)"}
    assert s.verbs.count("MAIL") == 1


# -- a login no retry can mend is a setting to change ---------------------------------------


LOGIN_SETTINGS = dict(username="brief", password_env="DIGEST_TEST_SMTP_PASSWORD", retries=2)


@pytest.fixture
def password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIGEST_TEST_SMTP_PASSWORD", "s3cret")


@pytest.mark.parametrize(
    ("ehlo", "fix"),
    [
        ("250-scripted\r\n250-STARTTLS\r\n250 8BITMIME",
         "set delivery.security: starttls (it offers STARTTLS)"),
        ("250-scripted\r\n250 8BITMIME",
         "remove delivery.username if the server takes mail without a login"),
    ],
)  # fmt: skip
def test_a_server_offering_no_login_names_the_setting_and_is_not_retried(password, ehlo, fix):
    with ScriptedServer(ehlo=ehlo) as server:
        waits: list[float] = []
        outcome = send_outgoing(
            settings(server, **LOGIN_SETTINGS), outgoing("a@x.example"), sleep=waits.append
        )
    reason = f"the server offers no login (AUTH) on this connection; {fix}"
    assert outcome.setting_error == reason and outcome.deferred == {"1": reason}
    assert waits == [] and "MAIL" not in server.verbs
    # `digest check` gives the same fix: it told a server offering no STARTTLS to use it.
    with ScriptedServer(ehlo=ehlo) as server, pytest.raises(DeliveryError) as probed:
        probe_smtp(settings(server, **LOGIN_SETTINGS))
    assert str(probed.value).endswith(f": {reason}")


def test_a_refused_login_is_a_setting_error_tried_once(password):
    with ScriptedServer({"AUTH": "535 5.7.8 bad credentials"}) as server:
        waits: list[float] = []
        outcome = send_outgoing(
            settings(server, **LOGIN_SETTINGS), outgoing("a@x.example"), sleep=waits.append
        )
    reason = (
        "login as brief refused (535 5.7.8 bad credentials); check "
        "$DIGEST_TEST_SMTP_PASSWORD and delivery.username"
    )
    assert outcome.setting_error == reason and outcome.deferred == {"1": reason}
    assert waits == [] and server.verbs.count("AUTH") == 1


def test_a_login_that_wants_tls_first_names_delivery_security(password):
    ehlo = "250-scripted\r\n250-STARTTLS\r\n250 AUTH PLAIN"
    with ScriptedServer({"AUTH": "530 5.7.0 Must issue a STARTTLS command first"}, ehlo=ehlo) as s:
        outcome = send_outgoing(settings(s, **LOGIN_SETTINGS), outgoing("a@x.example"))
    reason = (
        "the server wants TLS before a login (530 5.7.0 Must issue a STARTTLS command first); "
        "set delivery.security: starttls"
    )
    assert outcome.setting_error == reason
    # `digest check` says the same (it said to check the password).
    wants_tls = {"AUTH": "530 5.7.0 Must issue a STARTTLS command first"}
    with ScriptedServer(wants_tls, ehlo=ehlo) as s, pytest.raises(DeliveryError) as probed:
        probe_smtp(settings(s, **LOGIN_SETTINGS))
    assert str(probed.value).endswith(f": {reason}")


def test_a_login_refused_for_now_is_retried_then_waits(password):
    with ScriptedServer({"AUTH": "454 4.7.0 Temporary authentication failure"}) as server:
        waits: list[float] = []
        outcome = send_outgoing(
            settings(server, **LOGIN_SETTINGS), outgoing("a@x.example"), sleep=waits.append
        )
    assert outcome.setting_error is None and waits == [0.01, 0.02]
    assert outcome.deferred == {
        "1": "login as brief refused for now (454 4.7.0 Temporary authentication failure)"
    }


def test_a_missing_password_is_a_setting_error_before_connecting(monkeypatch):
    monkeypatch.delenv("DIGEST_TEST_SMTP_PASSWORD", raising=False)
    with ScriptedServer() as server:
        outcome = send_outgoing(settings(server, **LOGIN_SETTINGS), outgoing("a@x.example"))
    reason = (
        "delivery.username is set but $DIGEST_TEST_SMTP_PASSWORD is empty; export the "
        "password in that environment variable"
    )
    assert outcome.setting_error == reason and outcome.deferred == {"1": reason}
    assert server.commands == []


def test_runs_with_a_refused_login_keep_no_digest_waiting(tmp_path, site, monkeypatch):
    """Each run whose login is refused says so and gives its stories back; once the
    password is right, the reader gets one digest, not one per failed run."""
    monkeypatch.setenv("DIGEST_TEST_SMTP_PASSWORD", "s3cret")
    with ScriptedServer({"AUTH": "535 5.7.8 bad credentials"}) as server:
        delivery = (
            "delivery:\n  method: smtp\n"
            f"  host: 127.0.0.1\n  port: {server.port}\n  security: none\n"
            "  from: Test Brief <digest@example.org>\n  to: reader@example.org\n"
            "  username: digest\n  password_env: DIGEST_TEST_SMTP_PASSWORD\n  retries: 0\n"
        )
        for count in (1, 2):
            config = digest.load_config(
                write_config(tmp_path, site.base_url, delivery=delivery, feeds=DEMO_FEEDS[:count])
            )
            with pytest.raises(DeliveryError) as refused:
                digest.run(config)
            assert str(refused.value) == (
                f"SMTP 127.0.0.1:{server.port}: login as digest refused (535 5.7.8 bad "
                "credentials); check $DIGEST_TEST_SMTP_PASSWORD and delivery.username"
            )
        server.replies["AUTH"] = "235 2.7.0 accepted"
        report = digest.run(config)
    assert report.delivered_to == ["reader@example.org"]
    assert len(server.messages) == 1 and server.verbs.count("DATA") == 1


@pytest.mark.parametrize(
    ("auth", "listed"),
    [("AUTH XOAUTH2 OAUTHBEARER", "XOAUTH2, OAUTHBEARER"), ("AUTH=XOAUTH2", "XOAUTH2"),
     ("AUTH", "no mechanism it names")],
)  # fmt: skip
def test_a_login_only_by_mechanisms_smtplib_cannot_do_is_a_setting_not_retried(
    password, auth, listed
):
    with ScriptedServer(ehlo=f"250-scripted\r\n250-{auth}\r\n250 8BITMIME") as server:
        waits: list[float] = []
        outcome = send_outgoing(
            settings(server, **LOGIN_SETTINGS), outgoing("a@x.example"), sleep=waits.append
        )
    reason = (
        f"the server offers login only by {listed}, which digest cannot do (it can do "
        "CRAM-MD5, PLAIN, LOGIN); use a server or port that offers PLAIN or LOGIN"
    )
    assert outcome.setting_error == reason and outcome.deferred == {"1": reason}
    assert waits == [] and "AUTH" not in server.verbs and "MAIL" not in server.verbs
    # `digest check` says the same, naming the server.
    with (
        ScriptedServer(ehlo=f"250-scripted\r\n250-{auth}\r\n250 8BITMIME") as server,
        pytest.raises(DeliveryError) as probed,
    ):
        probe_smtp(settings(server, **LOGIN_SETTINGS))
    assert str(probed.value) == f"SMTP 127.0.0.1:{server.port}: {reason}"


def test_a_login_offered_by_one_mechanism_smtplib_can_do_among_others_goes_ahead(password):
    ehlo = "250-scripted\r\n250-AUTH XOAUTH2 PLAIN OAUTHBEARER\r\n250 8BITMIME"
    with ScriptedServer({"AUTH": "235 2.7.0 accepted"}, ehlo=ehlo) as server:
        outcome = send_outgoing(settings(server, **LOGIN_SETTINGS), outgoing("a@x.example"))
    assert outcome.setting_error is None and outcome.accepted == ["1"]
    assert server.commands[1].startswith("AUTH PLAIN") and len(server.messages) == 1


# -- an outbox whose path cannot even be looked at ------------------------------------------


TOO_LONG = "x" * 300  # one name longer than any file system takes (ENAMETOOLONG)


def test_an_outbox_with_too_long_a_name_defers_its_message_with_the_reason(tmp_path):
    outbox = tmp_path / TOO_LONG / "outbox"
    message = Outgoing("1", 1, "", BODY, "<1@x>", "file", str(outbox / "digest"))
    journal = Events()
    outcome = send_outgoing(DeliveryConfig(method="file", outbox=outbox), [message], journal)
    assert outcome.deferred == {"1": f"outbox {outbox}: cannot write: File name too long"}
    assert journal.events == [("sending", ""), ("deferred", "")]


def test_staging_for_an_outbox_with_too_long_a_name_fails_in_one_line(tmp_path):
    outbox = tmp_path / TOO_LONG / "outbox"
    rendered = RenderedDigest(subject="Brief", html="<p>Hello</p>", text="Hello\n")
    now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    config = DeliveryConfig(method="file", outbox=outbox, recipients=("a@x.example",))
    with pytest.raises(DeliveryError) as staging:
        stage_messages(rendered, config, "en", now)
    assert str(staging.value) == f"delivery.outbox {outbox}: cannot write there: File name too long"


def test_a_hostile_reply_reaches_the_terminal_and_the_state_as_plain_text(tmp_path, site):
    """A server's reply is stored and printed: escape sequences (clear the screen, colour,
    a title-setting OSC) and a bidi override must not reach the operator's terminal."""
    hostile = "550 5.1.1 \x1b[2J\x1b]0;pwned\x07\x1b[31mno such user\u202e\x1b[0m"
    with ScriptedServer({"RCPT": hostile}) as server:
        delivery = (
            "delivery:\n  method: smtp\n"
            f"  host: 127.0.0.1\n  port: {server.port}\n  security: none\n"
            "  from: Test Brief <digest@example.org>\n  to: reader@example.org\n"
            "  retries: 0\n"
        )
        config = write_config(tmp_path, site.base_url, delivery=delivery, feeds=DEMO_FEEDS[:1])
        result = run_cli("run", "--config", str(config))
        status = run_cli("status", "--config", str(config))
    assert result.returncode == 1
    assert "no such user" in result.stderr
    for output in (result.stdout, result.stderr, status.stdout, status.stderr):
        assert "\x1b" not in output and "\x07" not in output and "\u202e" not in output
