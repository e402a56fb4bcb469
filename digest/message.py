"""Compose the email: one multipart/alternative message per recipient.

Plain text first, HTML last, as RFC 2046 asks, so clients show the HTML inline and never as
an attachment (no multipart/digest, no message/rfc822 parts).
"""

from __future__ import annotations

from datetime import datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid

from .models import RenderedDigest


def build_message(
    rendered: RenderedDigest, sender: str, recipient: str, language: str, now: datetime
) -> EmailMessage:
    message = EmailMessage(policy=SMTP)
    message["Subject"] = rendered.subject
    message["From"] = sender
    message["To"] = recipient
    message["Date"] = format_datetime(now)
    message["Message-ID"] = make_msgid(domain=sender.rsplit("@", 1)[-1].strip("> ") or None)
    message["MIME-Version"] = "1.0"
    message.set_content(rendered.text, subtype="plain", charset="utf-8", cte="quoted-printable")
    message.add_alternative(rendered.html, subtype="html", charset="utf-8", cte="quoted-printable")
    # After the parts: set_content drops every Content-* header already on the message.
    message["Content-Language"] = language
    return message
