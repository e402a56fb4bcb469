"""SMTP robustness against real aiosmtpd servers on loopback: retries with backoff within a
run, 5xx recorded per recipient, STARTTLS and implicit TLS with a CA made here."""

from __future__ import annotations

import datetime as dt
import email.utils
import itertools
import socket
import ssl
import time
from collections import Counter
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from certificates import write_certificates
from conftest import Mailbox, _free_port, problems, run_cli

from digest.config._loader import DeliveryConfig
from digest.errors import DeliveryError
from digest.mail._deliver import deliver, nothing_delivered, send_outgoing
from digest.mail._smtp_security import probe_smtp
from digest.models import Outgoing, RenderedDigest

NOW = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)
RENDERED = RenderedDigest("Brief · 23 Nov", "<html><body>Hi</body></html>", "Hi\n")


class FlakyMailbox(Mailbox):
    """Answers 451 to a recipient its first `flaky[recipient]` times, then accepts."""

    def __init__(self, *args: Any, flaky: dict[str, int] | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.flaky = dict(flaky or {})
        self.attempts: Counter = Counter()
        self.times: list[float] = []

    async def handle_RCPT(self, server, session, envelope, address, options):
        self.attempts[address] += 1
        self.times.append(time.monotonic())
        if self.flaky.get(address, 0) > 0:
            self.flaky[address] -= 1
            return "451 4.3.0 Try again in a moment"
        return await super().handle_RCPT(server, session, envelope, address, options)


def _serve(mailbox: Mailbox, **kwargs: Any) -> Controller:
    controller = Controller(mailbox, hostname=mailbox.host, port=mailbox.port, **kwargs)
    controller.start()
    return controller


def _deliver_served(mailbox: Mailbox, **changes: Any):
    """deliver() of the test digest to `mailbox`, served for the call, with _settings'
    `changes`."""
    controller = _serve(mailbox)
    try:
        return deliver(RENDERED, _settings(mailbox, **changes), "en", NOW)
    finally:
        controller.stop()


def _settings(mailbox: Mailbox, **changes: Any) -> DeliveryConfig:
    values: dict[str, Any] = dict(
        method="smtp", host=mailbox.host, port=mailbox.port, security="none",
        sender="Brief <brief@example.org>", recipients=("ana@example.org",),
        retries=3, retry_delay=0.05,
    )  # fmt: skip
    values.update(changes)
    return DeliveryConfig(**values)


def test_4xx_replies_are_retried_with_growing_waits_within_the_run():
    mailbox = FlakyMailbox("127.0.0.1", _free_port(), flaky={"ana@example.org": 2})
    delivery = _deliver_served(mailbox, retry_delay=0.2)
    assert delivery.recipients == ("ana@example.org",)
    assert mailbox.attempts["ana@example.org"] == 3 and len(mailbox.messages) == 1
    first_wait, second_wait = (b - a for a, b in itertools.pairwise(mailbox.times))
    assert first_wait >= 0.2 and second_wait >= 0.4  # 0.2s, then doubled


def test_retries_are_bounded_and_what_is_left_is_deferred_not_lost():
    mailbox = FlakyMailbox("127.0.0.1", _free_port(), flaky={"bo@example.org": 99})
    controller = _serve(mailbox)
    messages = [
        Outgoing("1", 1, "ana@example.org", b"Subject: a\r\n\r\nA\r\n", "<a@x>", "smtp"),
        Outgoing("2", 1, "bo@example.org", b"Subject: b\r\n\r\nB\r\n", "<b@x>", "smtp"),
    ]
    try:
        outcome = send_outgoing(_settings(mailbox, retries=2), messages)
    finally:
        controller.stop()
    assert outcome.accepted == ["1"]
    assert outcome.deferred == {"2": "451 4.3.0 Try again in a moment"}
    assert mailbox.attempts["bo@example.org"] == 3  # the first try and two retries


def test_a_server_that_never_answers_times_out_and_is_retried():
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)  # accepts connections, never sends a greeting
    port = silent.getsockname()[1]
    settings = DeliveryConfig(method="smtp", host="127.0.0.1", port=port, security="none",
                              timeout=0.3, retries=1, retry_delay=0.05)  # fmt: skip
    started = time.monotonic()
    try:
        with pytest.raises(DeliveryError, match=rf"SMTP 127.0.0.1:{port}: cannot connect.*2 times"):
            deliver(RENDERED, settings, "en", NOW)
    finally:
        silent.close()
    assert time.monotonic() - started < 5


def test_5xx_is_final_per_recipient_and_never_retried():
    mailbox = FlakyMailbox("127.0.0.1", _free_port())
    mailbox.refuse = {"gone@example.org"}
    delivery = _deliver_served(mailbox, recipients=("ana@example.org", "gone@example.org"))
    assert delivery.recipients == ("ana@example.org",)
    assert delivery.refused == {"gone@example.org": "550 5.1.1 No such user here"}
    assert mailbox.attempts["gone@example.org"] == 1


class BrokenForOne(Mailbox):
    """Fails while taking `broken`'s message: aiosmtpd answers 500 and, unlike after a
    refusal it returns itself, keeps the transaction open (a later MAIL is "nested")."""

    broken = "ana@example.org"

    async def handle_DATA(self, server, session, envelope):
        if self.broken in envelope.rcpt_tos:
            raise OSError("the mailbox folder is gone")
        return await super().handle_DATA(server, session, envelope)


def test_a_message_refused_after_its_data_leaves_the_session_clean_for_the_next():
    # smtplib's sendmail sends RSET after a failed end of DATA; so must the unrolled one.
    mailbox = BrokenForOne("127.0.0.1", _free_port())
    delivery = _deliver_served(mailbox, recipients=("ana@example.org", "bo@example.org"))
    assert delivery.recipients == ("bo@example.org",)
    assert list(delivery.refused) == ["ana@example.org"]
    assert delivery.refused["ana@example.org"].startswith("500 ")
    assert [envelope for _, envelope in mailbox.envelopes] == [["bo@example.org"]]


# -- TLS ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def certificates(tmp_path_factory) -> dict[str, Any]:
    """A private CA and a server certificate for 127.0.0.1 and localhost that it signed."""
    files = write_certificates(tmp_path_factory.mktemp("tls"))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(files["cert"], files["key"])
    return {"ca_file": str(files["ca"]), "context": context}


def test_starttls_delivers_when_the_ca_file_is_trusted(certificates):
    mailbox = Mailbox("127.0.0.1", _free_port())
    controller = _serve(mailbox, tls_context=certificates["context"], require_starttls=True)
    try:
        settings = _settings(mailbox, security="starttls", ca_file=certificates["ca_file"])
        delivery = deliver(RENDERED, settings, "en", NOW)
        assert delivery.recipients == ("ana@example.org",) and len(mailbox.messages) == 1
        untrusted = _settings(mailbox, security="starttls", retries=0)
        with pytest.raises(DeliveryError, match="CERTIFICATE_VERIFY_FAILED"):
            deliver(RENDERED, untrusted, "en", NOW)
    finally:
        controller.stop()
    assert len(mailbox.messages) == 1


def test_implicit_tls_delivers_when_the_ca_file_is_trusted(certificates):
    mailbox = Mailbox("127.0.0.1", _free_port())
    controller = _serve(mailbox, ssl_context=certificates["context"])
    try:
        settings = _settings(mailbox, security="ssl", ca_file=certificates["ca_file"])
        delivery = deliver(RENDERED, settings, "en", NOW)
    finally:
        controller.stop()
    assert delivery.recipients == ("ana@example.org",) and len(mailbox.messages) == 1
    assert mailbox.messages[0]["Subject"] == RENDERED.subject


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_check_passes_a_tls_server_that_a_run_delivers_to(certificates, security):
    # `digest check` failed every TLS setting: its client never learnt the host name the
    # certificate must match ("check_hostname requires server_hostname").
    mailbox = Mailbox("127.0.0.1", _free_port())
    tls = {"tls_context": certificates["context"], "require_starttls": True}
    controller = _serve(
        mailbox, **(tls if security == "starttls" else {"ssl_context": certificates["context"]})
    )
    try:
        settings = _settings(mailbox, security=security, ca_file=certificates["ca_file"])
        worked = probe_smtp(settings)
        untrusted = _settings(mailbox, security=security)
        with pytest.raises(DeliveryError, match="CERTIFICATE_VERIFY_FAILED"):
            probe_smtp(untrusted)
    finally:
        controller.stop()
    assert worked == ("STARTTLS" if security == "starttls" else "TLS from the start") + (
        "; no mail sent"
    )
    assert mailbox.messages == []


def test_check_of_implicit_tls_against_a_plain_server_names_the_setting():
    mailbox = Mailbox("127.0.0.1", _free_port())
    controller = _serve(mailbox)
    try:
        with pytest.raises(DeliveryError) as raised:
            probe_smtp(_settings(mailbox, security="ssl"))
    finally:
        controller.stop()
    assert str(raised.value).endswith(
        "set delivery.security: starttls (usually port 587) or none for plain SMTP"
    )


# -- Internationalised addresses (RFC 6531) ----------------------------------------------


def test_a_non_ascii_address_goes_out_over_smtputf8():
    mailbox = FlakyMailbox("127.0.0.1", _free_port())
    controller = _serve(mailbox, enable_SMTPUTF8=True)
    try:
        delivery = deliver(
            RENDERED,
            _settings(mailbox, recipients=("Chloé <chloé@example.org>", "ana@example.org")),
            "fr",
            NOW,
        )
    finally:
        controller.stop()
    assert delivery.recipients == ("Chloé <chloé@example.org>", "ana@example.org")
    assert [rcpts for _, rcpts in mailbox.envelopes] == [["chloé@example.org"], ["ana@example.org"]]
    assert mailbox.messages[0]["To"] == "Chloé <chloé@example.org>"


def test_a_server_without_smtputf8_refuses_only_the_non_ascii_address_with_the_reason():
    mailbox = FlakyMailbox("127.0.0.1", _free_port())
    controller = _serve(mailbox, enable_SMTPUTF8=False)
    try:
        delivery = deliver(
            RENDERED,
            _settings(mailbox, recipients=("chloé@example.org", "ana@example.org")),
            "fr",
            NOW,
        )
    finally:
        controller.stop()
    assert delivery.recipients == ("ana@example.org",)
    assert "SMTPUTF8" in delivery.refused["chloé@example.org"]
    assert mailbox.attempts["chloé@example.org"] == 0


# -- Settings that cannot work: one clear line, no retries --------------------------------


def _outgoing() -> list[Outgoing]:
    return [Outgoing("1", 1, "ana@example.org", b"Subject: a\r\n\r\nA\r\n", "<a@x>", "smtp")]


def _refusal(settings: DeliveryConfig) -> tuple[str, list[float]]:
    """Why nothing was delivered, and the retry waits send_outgoing asked for."""
    waits: list[float] = []
    outcome = send_outgoing(settings, _outgoing(), sleep=waits.append)
    assert outcome.accepted == [] and list(outcome.deferred) == ["1"]  # kept, not refused
    return nothing_delivered(settings, outcome, {"1": "ana@example.org"}), waits


def test_starttls_against_a_server_without_it_is_a_setting_error_not_retried():
    mailbox = Mailbox("127.0.0.1", _free_port())
    controller = _serve(mailbox)
    try:
        message, waits = _refusal(_settings(mailbox, security="starttls"))
    finally:
        controller.stop()
    assert message == (
        f"SMTP 127.0.0.1:{mailbox.port}: the server does not offer STARTTLS; set "
        "delivery.security: ssl if this port expects TLS from the start (usually 465), or none "
        "for plain SMTP"
    )
    assert waits == [] and mailbox.messages == []


def test_implicit_tls_against_a_plain_server_is_a_setting_error_not_retried():
    mailbox = Mailbox("127.0.0.1", _free_port())
    controller = _serve(mailbox)
    try:
        message, waits = _refusal(_settings(mailbox, security="ssl"))
    finally:
        controller.stop()
    assert message.startswith(
        f"SMTP 127.0.0.1:{mailbox.port}: the server does not start TLS on connect ("
    )
    assert message.endswith(
        "set delivery.security: starttls (usually port 587) or none for plain SMTP"
    )
    assert waits == [] and "\n" not in message


def test_plain_smtp_against_a_server_that_requires_starttls_names_the_setting(certificates):
    mailbox = Mailbox("127.0.0.1", _free_port())
    controller = _serve(mailbox, tls_context=certificates["context"], require_starttls=True)
    try:
        message, waits = _refusal(_settings(mailbox, security="none"))
    finally:
        controller.stop()
    assert message.startswith(
        f"SMTP 127.0.0.1:{mailbox.port}: the server wants TLS before mail (530"
    )
    assert message.endswith("); set delivery.security: starttls")
    assert waits == [] and mailbox.messages == []


def test_an_untrusted_certificate_is_not_retried_and_names_ca_file(certificates):
    mailbox = Mailbox("127.0.0.1", _free_port())
    controller = _serve(mailbox, ssl_context=certificates["context"])
    try:
        message, waits = _refusal(_settings(mailbox, security="ssl"))
    finally:
        controller.stop()
    assert "certificate is not trusted (CERTIFICATE_VERIFY_FAILED: " in message
    assert message.endswith("set delivery.ca_file to the PEM file of the CA that signed it")
    assert waits == []


def test_the_cli_names_the_security_setting_at_once_and_the_digest_goes_out_once_fixed(
    tmp_path,
):
    published = email.utils.format_datetime(dt.datetime.now(dt.UTC) - dt.timedelta(hours=1))
    (tmp_path / "feed.xml").write_text(
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Harbour</title>'
        "<link>https://harbour.example/</link><item><title>Harbour crane tender awarded</title>"
        "<link>https://harbour.example/crane</link><guid>crane-1</guid>"
        f"<pubDate>{published}</pubDate><description>The port authority chose a supplier for "
        "two new cranes after a year of bids.</description></item></channel></rss>",
        encoding="utf-8",
    )
    mailbox = Mailbox("127.0.0.1", _free_port())
    controller = _serve(mailbox)
    config = tmp_path / "brief.yaml"
    text = (
        "title: Brief\nstorage: state.db\nfetch:\n  pages: false\n"
        "feeds:\n  - name: Harbour\n    url: feed.xml\n"
        f"delivery:\n  method: smtp\n  host: 127.0.0.1\n  port: {mailbox.port}\n"
        "  security: starttls\n  to: ana@example.org\n  retry_delay: 1s\n"  # 3 retries: 7s
    )
    try:
        config.write_text(text, encoding="utf-8")
        failed = run_cli("run", "--config", str(config), timeout=60)
        config.write_text(text.replace("security: starttls", "security: none"), encoding="utf-8")
        fixed = run_cli("run", "--config", str(config), timeout=60)
    finally:
        controller.stop()
    assert failed.returncode == 1
    assert "tried" not in failed.stderr
    assert problems(failed.stderr)[-1] == (
        f"digest: SMTP 127.0.0.1:{mailbox.port}: the server does not offer STARTTLS; set "
        "delivery.security: ssl if this port expects TLS from the start (usually 465), or none "
        "for plain SMTP"
    )
    assert fixed.returncode == 0, fixed.stderr
    assert len(mailbox.messages) == 1  # the story waited, and went out once
    assert "Harbour crane tender awarded" in mailbox.messages[0].get_body(("plain",)).get_content()


def test_starttls_against_an_implicit_tls_port_says_to_try_ssl(certificates):
    # The server waits for a TLS hello, the client for a greeting: a timeout, with the hint.
    mailbox = Mailbox("127.0.0.1", _free_port())
    controller = _serve(mailbox, ssl_context=certificates["context"])
    try:
        settings = _settings(mailbox, security="starttls", timeout=0.5, retries=0)
        message, _ = _refusal(settings)
    finally:
        controller.stop()
    assert message.startswith(f"SMTP 127.0.0.1:{mailbox.port}: cannot connect: ")
    assert message.endswith(
        "; the server sent no greeting; if this port expects TLS from the start (usually 465), "
        "set delivery.security: ssl"
    )
