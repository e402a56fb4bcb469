"""Compose the email: one multipart/alternative message per recipient.

Plain text first, HTML last, as RFC 2046 asks, so clients show the HTML inline and never as
an attachment (no multipart/digest, no message/rfc822 parts). Every header and part is
UTF-8: the SMTP policy encodes non-ASCII headers as RFC 2047 words and folds them.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import datetime
from email.message import EmailMessage
from email.policy import SMTP, SMTPUTF8
from email.utils import format_datetime, getaddresses, make_msgid, parseaddr
from urllib.parse import quote, urlsplit

from ..models import RenderedDigest

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
) -> EmailMessage:
    """The message for one recipient; `unsubscribe` gives List-Unsubscribe (RFC 2369/8058)."""
    text, markup = rendered.text, rendered.html
    links = [personal_link(link, recipient) for link in unsubscribe]
    for template, link in zip(unsubscribe, links, strict=True):
        # The parts carry the link as the template wrote it; each reader gets their own.
        if template != link:
            text = text.replace(template, link)
            markup = markup.replace(html.escape(template), html.escape(link))
    # An address with a non-ASCII local part cannot be written as RFC 2047 words: such a
    # message goes out as UTF-8 headers, over a session that offers SMTPUTF8 (RFC 6531).
    ascii_only = all(address.isascii() for _, address in getaddresses([sender, recipient]))
    message = EmailMessage(policy=SMTP if ascii_only else SMTPUTF8)
    message["Subject"] = rendered.subject
    message["From"] = sender
    message["To"] = recipient
    message["Date"] = format_datetime(now)
    message["Message-ID"] = make_msgid(domain=sender.rsplit("@", 1)[-1].strip("> ") or None)
    message["MIME-Version"] = "1.0"
    if links:
        message["List-Unsubscribe"] = ", ".join(f"<{link}>" for link in links)
        # RFC 8058 one-click needs an https URL to POST to; a mailto alone cannot do it.
        if any(urlsplit(link).scheme.lower() == "https" for link in links):
            message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(text, subtype="plain", charset="utf-8", cte="quoted-printable")
    message.add_alternative(markup, subtype="html", charset="utf-8", cte="quoted-printable")
    # After the parts: set_content drops every Content-* header already on the message.
    message["Content-Language"] = language
    return message
