"""The digest's email as a reader's client and the operator see it: the Message-ID's domain,
each reader's own unsubscribe link, the parts' encoding, the subject's folded lines, and the
error that names a sender the message cannot carry. Written against the mutants
bench/mutation.sh found alive in digest/mail/_message.py."""

from __future__ import annotations

from datetime import UTC, datetime
from email import message_from_bytes, policy

import pytest

from digest.errors import DeliveryError
from digest.mail._message import build_message
from digest.models import RenderedDigest

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
DIGEST = RenderedDigest(
    subject="Morning digest",
    html="<p>" + "Café prices rise again, a long line of news. " * 8 + "</p>",
    text="Café prices rise again, a long line of news. " * 8,
)


def sent_bytes(rendered: RenderedDigest, sender: str, recipient: str, **kwargs) -> bytes:
    return bytes(build_message(rendered, sender, recipient, "en", NOW, **kwargs))


@pytest.mark.parametrize(
    ("sender", "domain"),
    [
        ("Digest <digest@news.example>", "news.example"),
        ('"Bob @ Home" <digest@news.example>', "news.example"),  # an @ in the display name
        ("digest@NEWS.BOX", "NEWS.BOX"),
        ("digest@news.example (Morning =?utf-8?q?Brief?=)", "news.example"),  # a comment
    ],
)
def test_the_message_id_carries_the_sender_s_own_domain(sender, domain):
    message = message_from_bytes(sent_bytes(DIGEST, sender, "reader@example.org"))
    assert message["Message-ID"].endswith(f"@{domain}>")


def test_an_unsubscribe_link_carries_the_reader_s_address_fully_percent_encoded():
    """A slash is legal in an address's local part; left as it is, it would end the query
    value's path segment for some servers."""
    link = "https://news.example/unsubscribe?who={recipient}"
    message = message_from_bytes(
        sent_bytes(DIGEST, "digest@news.example", "news/desk@example.org", unsubscribe=[link]),
        policy=policy.default,
    )
    expected = "https://news.example/unsubscribe?who=news%2Fdesk%40example.org"
    assert message["List-Unsubscribe"].strip() == f"<{expected}>"


def test_both_parts_go_out_quoted_printable_in_utf_8():
    message = message_from_bytes(
        sent_bytes(DIGEST, "digest@news.example", "reader@example.org"), policy=policy.default
    )
    parts = {part.get_content_type(): part for part in message.iter_parts()}
    assert sorted(parts) == ["text/html", "text/plain"]
    for part in parts.values():
        assert part["Content-Transfer-Encoding"] == "quoted-printable"
        assert part.get_content_charset() == "utf-8"
    assert "Café prices rise again" in parts["text/html"].get_content()


def test_a_long_subject_holding_an_encoded_word_is_folded_to_lines_of_78_at_most():
    subject = "Ünïcödé =? news of the day " * 8
    raw = sent_bytes(
        RenderedDigest(subject=subject, html="<p>x</p>", text="x"),
        "digest@news.example",
        "reader@example.org",
    )
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert max(len(line) for line in head.split(b"\r\n")) <= 78
    assert message_from_bytes(raw, policy=policy.default)["Subject"] == subject.strip()


@pytest.mark.parametrize(
    "sender",
    [
        "=?utf-8?q?a=0D=0Ab?= <digest@news.example>",  # decodes to a line break
        "=?bogus?x?abc?= <digest@news.example>",  # an encoded word no client decodes alike
    ],
)
def test_a_sender_the_message_cannot_carry_is_refused_naming_the_setting(sender):
    with pytest.raises(DeliveryError) as caught:
        build_message(DIGEST, sender, "reader@example.org", "en", NOW)
    assert str(caught.value) == (
        f"the From header {sender!r} (delivery.from) cannot go out as it is: it decodes to a "
        "line break or a control character, or holds an RFC 2047 encoded word (=?...?=); "
        "write it as plain text"
    )
