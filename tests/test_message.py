"""The message as mail clients parse it: Python's email package reads the produced bytes."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.utils import parseaddr, parsedate_to_datetime
from pathlib import Path

import pytest
from markupsafe import escape

from digest.config._addresses import list_id
from digest.config._loader import DeliveryConfig, parse_config
from digest.mail._deliver import deliver
from digest.mail._message import build_message
from digest.models import RenderedDigest

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
UNSUBSCRIBE = "https://news.example.org/unsubscribe?who={recipient}"


def rendered(subject: str) -> RenderedDigest:
    return RenderedDigest(
        subject=subject,
        html=f'<html lang="fr"><body><h1>{subject}</h1>'
        f'<a href="{UNSUBSCRIBE}">Se désabonner</a></body></html>',
        text=f"{subject}\nSe désabonner : {UNSUBSCRIBE}\n",
    )


def parse(data: bytes):
    return message_from_bytes(data, policy=policy.default)


@pytest.mark.parametrize(
    "subject",
    [
        "Revue de presse · 23 nov. 2026 : Zürich élit son maire, « enfin »",
        "Morgenpost · 23. Nov. 2026: Größte Straßenbahn Österreichs fährt",
        "Ελληνικά και 日本語 in one subject that is long enough to be folded over lines",
        # Folded by Python's policy at the space before "Zürich", between two encoded
        # words, where clients drop it: "prévuZürich" (a subscriber-side review).
        "la relance réacteurs premier fährt EPR2 son 2027 réacteurs EDF EPR2 six béton "
        "prévu prévu Zürich Österreichs",
    ],
)
def test_utf8_headers_and_parts_survive_the_round_trip(subject):
    sender = "Revue de presse Genève <revue@example.org>"
    message = build_message(rendered(subject), sender, "Zoé Müller <zoe@example.org>", "fr", NOW)
    data = message.as_bytes()
    assert data.isascii(), "headers must be RFC 2047 encoded, bodies quoted-printable"
    assert all(len(line) <= 998 for line in data.split(b"\r\n"))
    parsed = parse(data)
    assert parsed["Subject"] == subject
    assert parseaddr(parsed["From"]) == ("Revue de presse Genève", "revue@example.org")
    assert parseaddr(parsed["To"]) == ("Zoé Müller", "zoe@example.org")
    assert parsed.get_body(("plain",)).get_content().startswith(subject)
    assert subject in parsed.get_body(("html",)).get_content()
    for part in parsed.walk():
        if not part.is_multipart():
            assert part.get_content_charset() == "utf-8"


def test_a_non_ascii_mailbox_name_is_written_as_utf8_not_as_encoded_words():
    # RFC 2047 forbids encoded words inside an address; RFC 6531 carries it as UTF-8.
    data = build_message(
        rendered("Brief"), "b@example.org", "zoé@exämple.org", "fr", NOW
    ).as_bytes()
    assert b"To: zo\xc3\xa9@ex\xc3\xa4mple.org\r\n" in data
    assert b"=?utf-8?" not in data.split(b"\r\n\r\n", 1)[0]
    assert parse(data)["To"] == "zoé@exämple.org"


def test_the_digest_shows_inline_as_plain_text_and_html_alternatives():
    parsed = parse(
        build_message(rendered("Brief"), "b@example.org", "r@example.org", "en", NOW).as_bytes()
    )
    assert parsed.get_content_type() == "multipart/alternative"
    kinds = [part.get_content_type() for part in parsed.walk()]
    assert kinds == ["multipart/alternative", "text/plain", "text/html"]
    for part in parsed.iter_parts():
        assert part.get_content_disposition() is None  # never an attachment
        assert part.get_filename() is None
    assert "multipart/digest" not in kinds and "message/rfc822" not in kinds


def test_date_message_id_and_content_language():
    parsed = parse(
        build_message(rendered("Brief"), "b@example.org", "r@example.org", "de", NOW).as_bytes()
    )
    assert parsedate_to_datetime(parsed["Date"]) == NOW
    assert parsed["Message-ID"].startswith("<") and parsed["Message-ID"].endswith("@example.org>")
    assert parsed["Content-Language"] == "de"
    assert parsed["MIME-Version"] == "1.0"


def test_one_click_unsubscribe_headers_per_recipient():
    links = (UNSUBSCRIBE, "mailto:leave@example.org?subject=unsubscribe")
    message = build_message(rendered("Brief"), "b@example.org", "a+b@example.org", "en", NOW, links)
    parsed = parse(message.as_bytes())
    personal = "https://news.example.org/unsubscribe?who=a%2Bb%40example.org"
    # .strip(): a long header is folded after its name, and unfolding keeps that space.
    assert parsed["List-Unsubscribe"].strip() == (
        f"<{personal}>, <mailto:leave@example.org?subject=unsubscribe>"
    )
    assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"  # RFC 8058
    # The footer links of both parts are this reader's, not the pattern.
    assert personal in parsed.get_body(("plain",)).get_content()
    assert personal.replace("&", "&amp;") in parsed.get_body(("html",)).get_content()
    assert "{recipient}" not in message.as_string()


def test_a_long_unsubscribe_url_is_written_as_it_is_not_as_encoded_words():
    # Past a line's 78 characters the policy wrote the header as RFC 2047 words, which
    # RFC 2047 forbids in <...>: Gmail then saw no unsubscribe link at all.
    token = "t" * 120
    links = (f"https://news.example.org/u?who={{recipient}}&token={token}", "mailto:x@example.org")
    raw = build_message(
        rendered("Brief"), "b@example.org", "ann@example.org", "en", NOW, links
    ).as_bytes()
    header = raw.split(b"\r\n\r\n", 1)[0].decode("ascii")
    assert "=?" not in header
    personal = f"https://news.example.org/u?who=ann%40example.org&token={token}"
    assert f"List-Unsubscribe: <{personal}>,\r\n <mailto:x@example.org>\r\n" in header
    assert max(len(line) for line in header.split("\r\n")) <= 998
    assert parse(raw)["List-Unsubscribe"] == f"<{personal}>, <mailto:x@example.org>"


def test_an_unsubscribe_url_in_another_script_goes_in_the_header_as_ascii():
    # Written as it was, the header's "ü" could not be encoded, and every run crashed.
    links = ("https://m\u00fcnchen.example/abmelden/\u00fc?r={recipient}",)
    raw = build_message(
        rendered("Brief"), "b@example.org", "ann@example.org", "en", NOW, links
    ).as_bytes()
    assert parse(raw)["List-Unsubscribe"] == (
        "<https://xn--mnchen-3ya.example/abmelden/%C3%BC?r=ann%40example.org>"
    )


def test_the_html_footer_is_personal_when_the_unsubscribe_url_holds_a_quote():
    link = "https://news.example.org/unsub/o'brien?who={recipient}"
    page = rendered("Brief")
    page = replace(page, html=page.html + f'<a href="{escape(link)}">unsubscribe</a>')
    parsed = parse(
        build_message(page, "b@example.org", "ann@example.org", "en", NOW, (link,)).as_bytes()
    )
    markup = parsed.get_body(("html",)).get_content()
    assert "o&#39;brien?who=ann%40example.org" in markup
    assert "o&#39;brien?who={recipient}" not in markup


def test_a_mailto_alone_gives_list_unsubscribe_but_no_one_click_post():
    links = ("mailto:leave@example.org",)
    parsed = parse(
        build_message(rendered("B"), "b@example.org", "r@example.org", "en", NOW, links).as_bytes()
    )
    assert parsed["List-Unsubscribe"] == "<mailto:leave@example.org>"
    assert parsed["List-Unsubscribe-Post"] is None  # RFC 8058 needs an https URL to POST to


def test_no_unsubscribe_configured_means_no_list_headers():
    parsed = parse(
        build_message(rendered("B"), "b@example.org", "r@example.org", "en", NOW).as_bytes()
    )
    assert parsed["List-Unsubscribe"] is None and parsed["List-Unsubscribe-Post"] is None


def test_smtp_sends_each_recipient_a_message_naming_only_them(smtp_server):
    recipients = ("ana@example.org", "bo@example.org", "chloe@example.org")
    settings = DeliveryConfig(
        method="smtp",
        host=smtp_server.host,
        port=smtp_server.port,
        security="none",
        sender="Brief <brief@example.org>",
        recipients=recipients,
        unsubscribe=(UNSUBSCRIBE,),
    )
    deliver(rendered("Brief · Zürich"), settings, "en", NOW)
    assert [rcpts for _, rcpts in smtp_server.envelopes] == [[r] for r in recipients[:2]] + [
        ["chloe@example.org"]
    ]
    ids = set()
    for message, recipient in zip(smtp_server.messages, recipients, strict=True):
        assert message["To"] == recipient
        assert message["Cc"] is None and message["Bcc"] is None
        others = [r for r in recipients if r != recipient]
        raw = message.as_string()
        assert not any(other in raw for other in others)
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        ids.add(message["Message-ID"])
    assert len(ids) == 3


def test_the_unsubscribe_link_carries_the_bare_address_not_the_display_name(tmp_path):
    # A recipients_file line `Ana <ana@example.org>`: the endpoint must get ana@example.org.
    (tmp_path / "readers.txt").write_text(
        'Ana <ana@example.org>\n"Lee, Bo" <bo+news@example.org>\n'
    )
    text = (
        "title: Brief\nfeeds:\n  - name: One\n    url: https://one.example/feed.xml\n"
        "delivery:\n  method: file\n  outbox: out\n  recipients_file: readers.txt\n"
        f"  unsubscribe: ['{UNSUBSCRIBE}', 'mailto:leave@example.org?subject={{recipient}}']\n"
    )
    settings = parse_config(text, tmp_path / "brief.yaml").delivery
    delivery = deliver(rendered("Brief"), settings, "en", NOW)
    emls = [Path(name) for name in delivery.files if name.endswith(".eml")]
    expected = ["ana%40example.org", "bo%2Bnews%40example.org"]
    for eml, who in zip(emls, expected, strict=True):
        parsed = parse(eml.read_bytes())
        personal = f"https://news.example.org/unsubscribe?who={who}"
        assert parsed["List-Unsubscribe"].strip() == (
            f"<{personal}>, <mailto:leave@example.org?subject={who}>"
        )
        assert personal in parsed.get_body(("plain",)).get_content()
        assert f'href="{personal}"' in parsed.get_body(("html",)).get_content()
        assert "%20" not in parsed["List-Unsubscribe"] and "%3C" not in parsed["List-Unsubscribe"]


def test_every_space_of_a_non_ascii_subject_reaches_the_reader():
    """Subjects of mixed words folded anywhere: each decodes, as a client decodes it (RFC
    2047 drops white space between encoded words), to exactly the subject."""
    words = (
        "Énergie EDF relance six réacteurs EPR2 premier béton prévu en 2027 Zürich élit "
        "Größte Straßenbahn Österreichs Ελληνικά 日本語 العربية עברית « enfin » ·"
    ).split()
    chooser = random.Random(2026)
    for _ in range(300):
        subject = " ".join(chooser.choice(words) for _ in range(chooser.randint(1, 24)))
        for recipient in ("r@example.org", "zoé@exämple.org"):  # RFC 2047, then SMTPUTF8
            data = build_message(rendered(subject), "b@example.org", recipient, "fr", NOW)
            assert parse(data.as_bytes())["Subject"] == subject


def test_each_message_names_its_list_by_the_config_id_else_the_title(tmp_path):
    """List-Id (RFC 2919) is what clients file and filter a list's messages by; it must stay
    the same from day to day while the subject changes, and be one per digest."""
    text = (
        "title: Revue de presse · Genève\nfeeds:\n  - name: One\n    url: https://one.example/f\n"
        "delivery:\n  method: file\n  outbox: out\n  from: Revue <revue@Presse.example.org>\n"
        "  to: [ana@example.org, bo@example.org]\n"
    )
    for extra, identifier in (
        ("", "revue-de-presse-geneve.presse.example.org"),
        ("id: geneve.matin\n", "geneve.matin.presse.example.org"),
    ):
        settings = parse_config(extra + text, tmp_path / "brief.yaml").delivery
        delivery = deliver(rendered("Brief"), settings, "en", NOW)
        emls = [Path(name) for name in delivery.files if name.endswith(".eml")]
        assert len(emls) == 2
        for eml in emls:
            assert parse(eml.read_bytes())["List-Id"] == (
                f"Revue de presse · Genève <{identifier}>"
            )


@pytest.mark.parametrize(
    ("title", "digest_id", "sender", "identifier"),
    [
        ("Zürich Früh-News", "", "d@bücher.example", "zurich-fruh-news.xn--bcher-kva.example"),
        ("Morning brief: Zürich", "", "b@News.Example.org",
         "morning-brief-zurich.news.example.org"),
        ('Le "Brief", Genève', "", "d@example.org", "le-brief-geneve.example.org"),
        ('Brief: "A" <b>', "", "d@example.org", "brief-a-b.example.org"),
        ("Новости дня", "", "news@example.jp", "digest-7037c588.example.jp"),
        ("Вечерние новости", "", "news@example.jp", "digest-cac3a606.example.jp"),
        ("Brief", "", "digest@localhost", "brief.localhost"),
        ("Brief", "", "d@[127.0.0.1]", "brief.localhost"),
        ("Brief", "b" * 64, "d@example.org", "b" * 64 + ".example.org"),
        ("Brief", "news-", "d@example.org", "news-.example.org"),
        ("Brief", "news..x", "d@example.org", "news__x-9e0b0751.example.org"),
        ("Brief", "news__x", "d@example.org", "news__x.example.org"),
        ("Новости 2024", "", "d@example.org", "2024-c3c1e2a9.example.org"),
        ("Известия 2024", "", "d@example.org", "2024-29b99970.example.org"),
        ("Plain words " * 100, "", "d@example.org",
         "plain-words-plain-words-plain-words-plain-words-plain-w-ba811690.example.org"),
        ("A daily engineering digest for the platform infrastructure and reliability teams", "",
         "d@example.org",
         "a-daily-engineering-digest-for-the-platform-infrastruct-1f966540.example.org"),
        # An encoded word of the title's own (a bidi control hid its "=?" from a check)
        # is written as words of ours, which decode to it: no header, no failed delivery.
        ("Brief =\u202e?utf-8?q?=0D=0ABcc:_x@evil.example?=", "", "d@example.org",
         "brief-utf-8-q-0d-0abcc-x-evil-example.example.org"),
    ],
)  # fmt: skip
def test_the_list_id_is_a_phrase_and_an_identifier_no_client_reads_otherwise(
    title, digest_id, sender, identifier
):
    """Reviews found titles needing quotes whose encoded word swallowed the closing quote,
    long identifiers encoded into words (no `<...>` left for a filter), ids and scripts that
    gave two digests one List-Id, and a title that stopped every delivery."""
    assert list_id(title, digest_id, sender) == identifier
    for recipient in ("r@example.org", "zoé@exämple.org"):
        data = build_message(
            rendered("B"), sender, recipient, "en", NOW, (), (title, identifier)
        ).as_bytes()
        head = data.split(b"\r\n\r\n", 1)[0]
        assert f"\r\n <{identifier}>\r\n".encode() in head  # whole, on its own line
        listed = head[head.index(b"List-Id:") : head.index(f" <{identifier}>".encode())]
        assert all(len(line) <= 78 for line in listed.split(b"\r\n")), listed
        phrase = " ".join(title.replace(chr(0x202E), "").split())
        quoted = '"' + phrase.replace("\\", "\\\\").replace('"', '\\"') + '"'
        shown = " ".join(str(parse(data)["List-Id"]).split())
        assert shown in (f"{phrase} <{identifier}>", f"{quoted} <{identifier}>"), shown


def test_a_delivery_built_without_a_config_sends_no_list_id(tmp_path):
    """List-Id is the loaded config's (its title, id and sender); a DeliveryConfig made in
    code has none to give, and must not make one up ("<digest.localhost>")."""
    settings = DeliveryConfig(method="file", outbox=tmp_path, sender="news@example.org")
    delivery = deliver(rendered("Brief"), settings, "en", NOW)
    (eml,) = [Path(name) for name in delivery.files if name.endswith(".eml")]
    assert parse(eml.read_bytes())["List-Id"] is None
