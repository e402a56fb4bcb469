"""Delivery through a real SMTP server (aiosmtpd on loopback) and a real outbox folder."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email import message_from_bytes, policy

import pytest
from conftest import DEMO_FEEDS, run_cli, write_config

from digest.config._loader import DeliveryConfig, parse_config
from digest.errors import DeliveryError
from digest.mail._deliver import deliver
from digest.models import RenderedDigest

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
RENDERED = RenderedDigest(
    subject="Revue de presse · 23 nov. 2026: Zürich élit son maire",
    html="<html><body><h1>Zürich élit son maire</h1></body></html>",
    text="Zürich élit son maire\nhttps://example.org/zurich\n",
)


def smtp(mailbox, **changes) -> DeliveryConfig:
    settings = dict(
        method="smtp",
        host=mailbox.host,
        port=mailbox.port,
        security="none",
        sender="Revue <revue@example.org>",
        recipients=("ana@example.org", "bo@example.org"),
    )
    settings.update(changes)
    return DeliveryConfig(**settings)


def test_smtp_sends_one_multipart_message_per_recipient(smtp_server):
    delivery = deliver(RENDERED, smtp(smtp_server), "fr", NOW)
    assert delivery.recipients == ("ana@example.org", "bo@example.org")
    assert [rcpt for _, rcpt in smtp_server.envelopes] == [["ana@example.org"], ["bo@example.org"]]
    for message, to in zip(smtp_server.messages, delivery.recipients, strict=True):
        assert message["To"] == to
        assert message["Subject"] == RENDERED.subject
        assert message["Content-Language"] == "fr"
        assert message["Message-ID"] and message["Date"]
        assert message.get_content_type() == "multipart/alternative"
        parts = [part.get_content_type() for part in message.iter_parts()]
        assert parts == ["text/plain", "text/html"]
        assert message.get_body(("plain",)).get_content().startswith("Zürich élit son maire")
        assert not any(part.get_filename() for part in message.iter_parts())


def test_an_unreachable_server_is_a_delivery_error_naming_it():
    settings = DeliveryConfig(
        method="smtp", host="127.0.0.1", port=1, security="none", retry_delay=0.01
    )
    with pytest.raises(DeliveryError, match=r"^SMTP 127.0.0.1:1: cannot connect") as raised:
        deliver(RENDERED, settings, "en", NOW)
    # The run's line says what to check, as `digest check`'s does.
    assert "nothing listens there; check delivery.host and delivery.port" in str(raised.value)


def test_a_missing_password_variable_is_named(smtp_server, monkeypatch):
    monkeypatch.delenv("DIGEST_TEST_PASSWORD", raising=False)
    settings = smtp(smtp_server, username="revue", password_env="DIGEST_TEST_PASSWORD")
    with pytest.raises(DeliveryError, match=r"\$DIGEST_TEST_PASSWORD is empty"):
        deliver(RENDERED, settings, "en", NOW)


def test_the_outbox_gets_html_and_text_once_and_one_eml_per_recipient(tmp_path):
    recipients = ("a@b.example", "Zoé <zoe@b.example>")
    settings = DeliveryConfig(method="file", outbox=tmp_path / "out", recipients=recipients)
    delivery = deliver(RENDERED, settings, "fr", NOW)
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    stem = "20261123-090000-000-revue-de-presse"
    assert names == [
        f"{stem}.html",
        f"{stem}.to-a-b-example.eml",
        f"{stem}.to-zo-zoe-b-example.eml",
        f"{stem}.txt",
    ]
    assert len(delivery.files) == 4
    for name, recipient in zip(names[1:3], recipients, strict=True):
        eml = message_from_bytes((tmp_path / "out" / name).read_bytes(), policy=policy.default)
        assert eml["To"] == recipient  # only this reader's address, never the list
        assert eml["Subject"] == RENDERED.subject
        assert eml.get_body(("html",)).get_content().startswith("<html>")


def test_two_digests_within_one_second_keep_their_own_outbox_files(tmp_path):
    settings = DeliveryConfig(method="file", outbox=tmp_path / "out", recipients=("a@b.example",))
    deliver(RENDERED, settings, "fr", NOW)
    deliver(RENDERED, settings, "fr", NOW.replace(microsecond=400_000))
    deliver(RENDERED, settings, "fr", NOW.replace(microsecond=400_000))  # same instant
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    first, second = "20261123-090000-000-revue-de-presse", "20261123-090000-400-revue-de-presse"
    assert names == [
        f"{first}.html", f"{first}.to-a-b-example.eml", f"{first}.txt",
        f"{second}-2.html", f"{second}-2.to-a-b-example.eml", f"{second}-2.txt",
        f"{second}.html", f"{second}.to-a-b-example.eml", f"{second}.txt",
    ]  # fmt: skip


def test_an_unwritable_outbox_is_a_delivery_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    settings = DeliveryConfig(method="file", outbox=blocker / "out")
    with pytest.raises(DeliveryError, match=r"cannot write: .*file is a file, not a folder"):
        deliver(RENDERED, settings, "en", NOW)
    # The outbox itself a file: named too.
    with pytest.raises(DeliveryError, match=re.escape(f"{blocker} is a file, not a folder")):
        deliver(RENDERED, DeliveryConfig(method="file", outbox=blocker), "en", NOW)


def test_a_comma_separated_to_string_still_gives_each_reader_their_own_message(
    smtp_server, tmp_path
):
    # The YAML slip `to: a, b` (one string, not a list) must not become one shared message.
    text = (
        "title: Brief\nfeeds:\n  - name: One\n    url: https://one.example/feed.xml\n"
        "delivery:\n  method: smtp\n"
        f"  host: {smtp_server.host}\n  port: {smtp_server.port}\n  security: none\n"
        '  to: alice@example.org, "Lee, Bob" <bob@example.org>\n'
    )
    settings = parse_config(text, tmp_path / "brief.yaml").delivery
    delivery = deliver(RENDERED, settings, "fr", NOW)
    assert delivery.recipients == ("alice@example.org", '"Lee, Bob" <bob@example.org>')
    assert [rcpt for _, rcpt in smtp_server.envelopes] == [
        ["alice@example.org"],
        ["bob@example.org"],
    ]
    assert [m["To"].addresses[0].addr_spec for m in smtp_server.messages] == [
        "alice@example.org",
        "bob@example.org",
    ]
    assert smtp_server.messages[1]["To"].addresses[0].display_name == "Lee, Bob"
    assert all(len(m["To"].addresses) == 1 for m in smtp_server.messages)


def test_the_outbox_copies_show_the_unsubscribe_link_as_a_reader_gets_it(tmp_path, site):
    delivery = (
        "delivery:\n  method: file\n  outbox: outbox\n  to: [ana@example.org, bo@example.org]\n"
        "  unsubscribe: https://news.example.org/unsubscribe?who={recipient}\n"
    )
    config = write_config(tmp_path, site.base_url, delivery=delivery, feeds=DEMO_FEEDS[:2])
    assert run_cli("run", "--config", str(config)).returncode == 0
    for copy in [*(tmp_path / "outbox").glob("*.html"), *(tmp_path / "outbox").glob("*.txt")]:
        text = copy.read_text(encoding="utf-8")
        assert "{recipient}" not in text and "who=ana%40example.org" in text, copy.name
