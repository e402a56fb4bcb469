"""Every header of a digest message, as a mail client reads the bytes back: one line each,
only the headers the message means to have, and a subject that shows the feed's text."""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime
from email.parser import BytesParser
from email.policy import default

import pytest

from digest.config._addresses import list_id
from digest.errors import DeliveryError
from digest.mail._message import build_message
from digest.mail._render import subject_line
from digest.models import Digest, DigestItem, RenderedDigest, Source

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
UNSUBSCRIBE = ("https://news.example.org/unsubscribe?who={recipient}", "mailto:leave@example.org")
EVERY_HEADER = {
    "Subject",
    "From",
    "To",
    "Date",
    "Message-ID",
    "MIME-Version",
    "Auto-Submitted",
    "List-Id",
    "List-Unsubscribe",
    "List-Unsubscribe-Post",
    "Content-Type",
    "Content-Language",
}
NOT_IN_A_HEADER = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def b_word(text: str) -> str:
    return f"=?utf-8?b?{base64.b64encode(text.encode()).decode()}?="


INJECTION = "Hi\r\nReply-To: boss@evil.test\r\nContent-Type: text/html\r\n\r\n<b>pwned</b>"

# (subject as the renderer hands it over, the subject the reader must see)
SUBJECTS = [
    ("Brief: " + b_word(INJECTION), "Brief: " + b_word(INJECTION)),
    (
        "Brief: =?utf-8?q?Hi=0D=0ABcc:_spy@evil.test?=",
        "Brief: =?utf-8?q?Hi=0D=0ABcc:_spy@evil.test?=",
    ),
    (  # two words that decode to one line break between them
        "=?utf-8?q?Hi=0D?= =?utf-8?q?=0ABcc:_spy@evil.test?=",
        "=?utf-8?q?Hi=0D?= =?utf-8?q?=0ABcc:_spy@evil.test?=",
    ),
    (  # an encoded word whose text is another one: decoded once, it must not decode again
        "Brief: " + b_word(b_word("Hi\r\nBcc: spy@evil.test")),
        "Brief: " + b_word(b_word("Hi\r\nBcc: spy@evil.test")),
    ),
    (
        "Hi\r\nReply-To: a@evil.test\x85Bcc: b\u2028Cc: c\u2029x\ty",
        "Hi Reply-To: a@evil.test Bcc: b Cc: c x y",
    ),
    (
        "Paid \u202egpj.exe\u202c \u2066isolated\u2069 \u202aembedded\u202c",
        "Paid gpj.exe isolated embedded",
    ),
    # Right-to-left text keeps its marks, and non-ASCII text next to `=?` stays whole.
    (
        "שלום \u200fעולם =?utf-8?q?é?= Zürich " * 4,
        ("שלום \u200fעולם =?utf-8?q?é?= Zürich " * 4).strip(),
    ),
    ("Zürich élit son maire, « enfin » " * 5, ("Zürich élit son maire, « enfin » " * 5).strip()),
]


def parse(data: bytes):
    return BytesParser(policy=default).parsebytes(data)


def shown(value: object) -> str:
    """A header's text as a client shows it: UTF-8 headers (RFC 6532) read as UTF-8 (the
    parser keeps their bytes as surrogate escapes)."""
    return str(value).encode("utf-8", "surrogateescape").decode("utf-8")


def header_names(data: bytes) -> list[str]:
    head = data.split(b"\r\n\r\n", 1)[0]
    return [
        line.split(b":", 1)[0].decode() for line in head.split(b"\r\n") if line[:1] not in b" \t"
    ]


@pytest.mark.parametrize(("subject", "seen"), SUBJECTS)
@pytest.mark.parametrize("recipient", ["Zoé Müller <zoe@example.org>", "zoé@exämple.org"])
def test_every_header_is_one_line_of_text_and_only_the_headers_meant(subject, seen, recipient):
    # The second recipient has a non-ASCII mailbox: the message is written with UTF-8
    # headers (SMTPUTF8), where the policy writes text as it is rather than encoded.
    rendered = RenderedDigest(subject=subject, html="<p>x</p>", text="x\n")
    sender = "Revue \u202ede presse\u202c Genève <revue@example.org>"
    listed = list_id("Revue de presse · Genève", "", sender)
    message = build_message(
        rendered, sender, recipient, "fr", NOW, UNSUBSCRIBE, ("Revue de presse · Genève", listed)
    )
    data = message.as_bytes()
    head = data.split(b"\r\n\r\n", 1)[0]
    # No bare CR or LF, and every CRLF folds a line or starts one of our headers.
    assert b"\r" not in head.replace(b"\r\n", b"") and b"\n" not in head.replace(b"\r\n", b"")
    names = header_names(data)
    assert sorted(names) == sorted(EVERY_HEADER), head.decode("utf-8", "replace")
    assert all(len(line) <= 998 for line in head.split(b"\r\n"))

    parsed = parse(data)
    assert set(parsed.keys()) == EVERY_HEADER
    for name in EVERY_HEADER:
        (value,) = parsed.get_all(name)
        assert "\r" not in shown(value) and "\n" not in shown(value), (name, value)
        assert not NOT_IN_A_HEADER.search(shown(value)), (name, value)
    assert shown(parsed["Subject"]) == seen
    identifier = "<revue-de-presse-geneve.example.org>"
    assert shown(parsed["List-Id"]) == f"Revue de presse · Genève {identifier}"
    assert shown(parsed["From"].addresses[0].display_name) == "Revue de presse Genève"
    assert parsed.get_content_type() == "multipart/alternative"


def test_a_config_address_that_decodes_to_a_line_break_is_refused():
    rendered = RenderedDigest(subject="Brief", html="<p>x</p>", text="x\n")
    hostile = b_word("Ann\r\nBcc: spy@evil.test") + " <ann@example.org>"
    with pytest.raises(DeliveryError, match=r"the From header .* write it as plain text"):
        build_message(rendered, hostile, "r@example.org", "en", NOW)
    with pytest.raises(DeliveryError, match="the To header"):
        build_message(rendered, "b@example.org", hostile, "en", NOW)
    link = "https://news.example.org/u?x=" + b_word("\r\nBcc: spy@evil.test")
    with pytest.raises(DeliveryError, match="the List-Unsubscribe header"):
        build_message(rendered, "b@example.org", "r@example.org", "en", NOW, (link,))


def test_an_encoded_name_in_the_config_that_decodes_to_plain_text_is_kept():
    rendered = RenderedDigest(subject="Brief", html="<p>x</p>", text="x\n")
    sender = "=?utf-8?q?Caf=C3=A9_Brief?= <cafe@example.org>"
    data = build_message(rendered, sender, "r@example.org", "en", NOW).as_bytes()
    assert parse(data)["From"].addresses[0].display_name == "Café Brief"


def test_the_subject_pattern_gives_one_line_without_bidi_overrides():
    source = Source(name="Wire", url="https://example.org/a", title="t", published=NOW)
    headline = "Hi\x85Reply-To: boss\u2028Bcc: x \u202egpj.exe\u202c"
    item = DigestItem(headline, source.url, "", None, None, (source,), (1,))
    digest = Digest(title="Brief\u2029Now", created=NOW, items=(item,), timezone="UTC")
    assert (
        subject_line(digest, "{title}: {headline}") == "Brief Now: Hi Reply-To: boss Bcc: x gpj.exe"
    )


def test_the_default_subject_of_a_french_digest_has_a_space_before_its_colon():
    source = Source(name="Fil", url="https://example.org/a", title="t", published=NOW)
    item = DigestItem("La BCE baisse ses taux", source.url, "", None, None, (source,), (1,))
    french = Digest(title="Brève", created=NOW, items=(item,), timezone="UTC", language="fr")
    assert subject_line(french).endswith(" : La BCE baisse ses taux")
    assert subject_line(french, "{title}: {headline}") == "Brève: La BCE baisse ses taux"
    english = Digest(title="Brief", created=NOW, items=(item,), timezone="UTC")
    assert subject_line(english).endswith(": La BCE baisse ses taux")
    assert " :" not in subject_line(english)


@pytest.mark.parametrize(
    ("headline", "kept"),
    [
        # written without spaces: the subject's last space is the one after its colon
        ("東京で大規模な停電が発生し、鉄道各線が運転を見合わせています" * 5, "東京で大規模な停電"),
        ("https://example.org/" + "path/" * 40, "https://example.org/path/"),
        ("Storm closes the harbour " * 8, "Storm closes the harbour Storm"),
    ],
)
def test_a_long_subject_keeps_the_headline_it_names(headline, kept):
    source = Source(name="Wire", url="https://example.org/a", title="t", published=NOW)
    item = DigestItem(headline, source.url, "", None, None, (source,), (1,))
    digest = Digest(title="朝のニュース", created=NOW, items=(item,), timezone="UTC")
    subject = subject_line(digest)
    assert len(subject) <= 140 and subject.endswith("…")
    assert kept in subject and len(subject) > 120
