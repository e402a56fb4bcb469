"""Compose the email: one multipart/alternative message per recipient.

Plain text first, HTML last, as RFC 2046 asks, so clients show the HTML inline and never as
an attachment (no multipart/digest, no message/rfc822 parts). Every header and part is
UTF-8: the SMTP policy encodes non-ASCII headers as RFC 2047 words and folds them. Every
header goes on through `set_header`, which keeps text from feeds to one line of text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from email.errors import HeaderParseError
from email.header import Header
from email.message import EmailMessage
from email.policy import SMTP, SMTPUTF8, Policy
from email.utils import format_datetime, getaddresses, make_msgid, parseaddr
from typing import Self
from urllib.parse import quote, urlsplit

from markupsafe import escape

from ..errors import DeliveryError
from ..models import RenderedDigest
from ..text import ascii_url, fits_one_line, one_line

RECIPIENT_FIELD = "{recipient}"


def personal_link(link: str, recipient: str) -> str:
    """`link` with {recipient} filled in (an unsubscribe link per reader): the bare address,
    never its display name, with every reserved character percent-encoded (`@` as %40), so
    that a query value or a mailto: header field carries it unchanged."""
    address = parseaddr(recipient)[1] or recipient
    return link.replace(RECIPIENT_FIELD, quote(address, safe=""))


def build_message(
    rendered: RenderedDigest,
    sender: str,
    recipient: str,
    language: str,
    now: datetime,
    unsubscribe: Sequence[str] = (),
    list_id: tuple[str, str] | None = None,
) -> EmailMessage:
    """The message for one recipient; `unsubscribe` gives List-Unsubscribe (RFC 2369/8058),
    `list_id` (the digest's title, its identifier) List-Id (RFC 2919)."""
    text, markup = rendered.text, rendered.html
    links = [personal_link(link, recipient) for link in unsubscribe]
    for template, link in zip(unsubscribe, links, strict=True):
        # The parts carry the link as the template wrote it; each reader gets their own.
        if template != link:
            text = text.replace(template, link)
            # escaped as the template's autoescape wrote it (markupsafe: ' is &#39;)
            markup = markup.replace(str(escape(template)), str(escape(link)))
    # An address with a non-ASCII local part cannot be written as RFC 2047 words: such a
    # message goes out as UTF-8 headers, over a session that offers SMTPUTF8 (RFC 6531).
    ascii_only = all(address.isascii() for _, address in getaddresses([sender, recipient]))
    message = EmailMessage(policy=SMTP if ascii_only else SMTPUTF8)
    set_header(message, "Subject", rendered.subject)
    set_header(message, "From", sender)
    set_header(message, "To", recipient)
    set_header(message, "Date", format_datetime(now))
    # The address's own domain: a display name or comment beside it is no part of an ID.
    domain = parseaddr(sender)[1].rpartition("@")[2] or None
    set_header(message, "Message-ID", make_msgid(domain=domain))
    set_header(message, "MIME-Version", "1.0")
    # RFC 3834: a machine sent it, so vacation notices and other auto-replies stay away.
    set_header(message, "Auto-Submitted", "auto-generated")
    if list_id:
        message["List-Id"] = _ListId(*list_id)
    if links:
        # In ASCII: the header allows nothing else (an IRI's "ü" is %C3%BC there).
        listed = ", ".join(f"<{ascii_url(link)}>" for link in links)
        set_header(message, "List-Unsubscribe", listed)
        # RFC 8058 one-click needs an https URL to POST to; a mailto alone cannot do it.
        if any(urlsplit(link).scheme.lower() == "https" for link in links):
            set_header(message, "List-Unsubscribe-Post", "List-Unsubscribe=One-Click")
    message.set_content(text, subtype="plain", charset="utf-8", cte="quoted-printable")
    message.add_alternative(markup, subtype="html", charset="utf-8", cte="quoted-printable")
    # After the parts: set_content drops every Content-* header already on the message.
    set_header(message, "Content-Language", language)
    return message


# Headers of free text for the reader (RFC 5322 "unstructured"), which may hold anything a
# feed's title holds. Every other header is an address, a date, an id or a link.
TEXT_HEADERS = frozenset({"subject"})
# The config setting each header from the config comes from, for the error that names it.
_SETTING_OF = {
    "from": "delivery.from",
    "to": "delivery.to",
    "list-unsubscribe": "delivery.unsubscribe",
    "content-language": "language",
}


def set_header(message: EmailMessage, name: str, value: str) -> None:
    """Add the header `name: value` to `message`: every header of a digest goes on here.

    The value becomes one line first (one_line: no controls, line breaks or bidi
    overrides). The email policy then parses it, and in doing so decodes any RFC 2047
    encoded word in it (`=?utf-8?b?...?=`) and writes what that decodes to, CR LF included,
    as it is: a title could end the header and write its own. So a text header (Subject)
    holding `=?`, or that the policy would read differently, is written as encoded words of
    our own (_LiteralText), which decode to exactly the text, and no client can find an
    encoded word of the feed's in it. Any other header must come out of the policy on one
    line and without `=?`, else DeliveryError names it: those come from the config.
    """
    text = one_line(value)
    try:
        header = message.policy.header_factory(name, text)
        decoded: str | None = str(header)
    except (ValueError, HeaderParseError):  # an address whose encoded words decode to CR LF
        header, decoded = None, None
    if name.lower() in TEXT_HEADERS:
        # Non-ASCII too: the policy's own folding (Python 3.11) may break the line at a
        # space between two encoded words, which RFC 2047 has every client drop
        # ("premierbéton"). Our words carry their spaces inside them.
        if decoded is None or "=?" in text or decoded != text or not text.isascii():
            header = _LiteralText(name, text)
    elif decoded is None or "=?" in decoded or not fits_one_line(decoded):
        setting = _SETTING_OF.get(name.lower())
        raise DeliveryError(
            f"the {name} header {value!r}{f' ({setting})' if setting else ''} cannot go out as "
            "it is: it decodes to a line break or a control character, or holds an RFC 2047 "
            "encoded word (=?...?=); write it as plain text"
        )
    if name.lower() == "list-unsubscribe":
        header = _AngleList(name, text)
    message[name] = header


class _OwnFolding(str):
    """A header value that the policy stores as it is, for it has a `name`, and writes
    with the value's own `fold` (see email.policy.EmailPolicy)."""

    name: str

    def __new__(cls, name: str, text: str) -> Self:
        header = super().__new__(cls, text)
        header.name = name
        return header


class _AngleList(_OwnFolding):
    """A list of `<URL>`s (List-Unsubscribe) written as it is, folded only after the commas
    between them. The policy folds a long header as text, and a URL longer than a line
    became RFC 2047 encoded words, which RFC 2047 forbids inside `<...>`: Gmail then found no
    unsubscribe link at all. RFC 5322 allows a line of 998 characters, which fits any URL we
    accept (MAX_URL is for a link; an unsubscribe URL is the operator's)."""

    def fold(self, *, policy: Policy) -> str:
        entries = [entry.strip() for entry in str(self).split(">,")]
        joined = f">,{policy.linesep} ".join(entries)
        return f"{self.name}: {joined}{policy.linesep}"


class _ListId(_OwnFolding):
    """List-Id: the digest's title as a phrase, then `<identifier>` on a line of its own,
    never encoded, so that a filter reading the raw header finds it whole. A title of
    plain words goes as it is, one of other ASCII in quotes, any other (non-ASCII, or
    holding "=?") as UTF-8 encoded words, which may not sit inside quotes (RFC 2047)."""

    def __new__(cls, title: str, identifier: str) -> Self:
        if not _IDENTIFIER.fullmatch(identifier):
            raise DeliveryError(f"the List-Id {identifier!r} is no dot-atom")
        phrase = one_line(title).strip()
        header = super().__new__(cls, "List-Id", f"{phrase} <{identifier}>".lstrip())
        header.phrase, header.identifier = phrase, identifier
        return header

    phrase: str
    identifier: str

    def fold(self, *, policy: Policy) -> str:
        phrase = self.phrase
        if not phrase:
            return f"List-Id: <{self.identifier}>{policy.linesep}"
        # Encoded words fold; a long plain title on one line would pass 998 characters.
        too_long = len(phrase) > _PHRASE_ON_ONE_LINE
        if too_long or not phrase.isascii() or "=?" in phrase or not phrase.isprintable():
            width = min(policy.max_line_length or 78, 78)
            phrase = Header(phrase, "utf-8", maxlinelen=width, header_name="List-Id").encode(
                linesep=policy.linesep
            )
        elif not _PLAIN_PHRASE.fullmatch(phrase):
            phrase = '"' + phrase.replace("\\", "\\\\").replace('"', '\\"') + '"'
        return f"List-Id: {phrase}{policy.linesep} <{self.identifier}>{policy.linesep}"


# The longest title written as it is: "List-Id: " and it fit RFC 5322's 78 characters.
_PHRASE_ON_ONE_LINE = 66
# RFC 5322 atext and spaces: a phrase of these needs no quotes.
_PLAIN_PHRASE = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~ -]*")
_IDENTIFIER = re.compile(r"[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)+")


class _LiteralText(_OwnFolding):
    """A text header written as UTF-8 encoded words whatever it holds, so that it decodes
    to its text, character for character (`=?` included, and every space)."""

    def fold(self, *, policy: Policy) -> str:
        # RFC 2047 caps an encoded word at 75 characters: it must fit a folded line.
        width = min(policy.max_line_length or 78, 78)
        words = Header(str(self), "utf-8", maxlinelen=width, header_name=self.name)
        return f"{self.name}: {words.encode(linesep=policy.linesep)}{policy.linesep}"
