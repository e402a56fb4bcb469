"""The digest as email and web page: rendering, messages, delivery (SMTP or outbox folder), archive.

What other stages may use; the modules beside this one are internal."""

from ._archive import archive_page, email_links, page_links, write_archive
from ._deliver import (
    SendOutcome,
    deliver,
    delivered_to,
    nothing_delivered,
    send_outgoing,
    stage_messages,
)
from ._message import personal_link
from ._render import clipping_warning, render_digest
from ._smtp_security import probe_smtp

__all__ = [
    "SendOutcome",
    "archive_page",
    "clipping_warning",
    "deliver",
    "delivered_to",
    "email_links",
    "nothing_delivered",
    "page_links",
    "personal_link",
    "probe_smtp",
    "render_digest",
    "send_outgoing",
    "stage_messages",
    "write_archive",
]
