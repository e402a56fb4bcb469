"""The operator's alert: with `alerts.to` set, a feed failing for `alerts.after` gets one
short mail per failure episode (an episode ends with the feed's next success)."""

from __future__ import annotations

import html
import logging
from dataclasses import replace
from datetime import datetime

from ..config import Config
from ..errors import DeliveryError
from ..mail import deliver
from ..models import RenderedDigest
from ..store import Store
from ..text import duration_text

log = logging.getLogger("digest")


def send_alerts(config: Config, store: Store, now: datetime) -> list[str]:
    """Tell `alerts.to` about feeds failing for `alerts.after`, once per failure episode.

    Returns the names of the feeds alerted about. A delivery failure is logged and retried
    on the next run (the episodes stay unmarked).
    """
    alerts = config.alerts
    if alerts is None:
        return []
    urls = {feed.url: feed.name for feed in config.feeds}
    due = [
        feed
        for feed in store.failing_feeds(urls)
        if feed.alerted is None and now - feed.failing_since >= alerts.after
    ]
    if not due:
        return []
    names = [urls[feed.url] for feed in due]
    lines = [
        f"{urls[f.url]} <{f.url}>: failing since {f.failing_since:%Y-%m-%d %H:%M UTC}, "
        f"{f.failures} failed attempts; last error: {f.last_error}"
        + (" (deactivated: answered 410 Gone)" if f.gone_since else "")
        for f in due
    ]
    text = (
        f"{len(due)} feed(s) of the digest {config.title!r} ({config.path}) have been failing "
        f"for {duration_text(alerts.after)} or more:\n\n" + "\n".join(lines) + "\n\nThe "
        "digest goes out without them. You get this once per failure; `digest status` shows "
        "the feeds.\n"
    )
    subject = f"digest alert: {len(due)} feed(s) of {config.title} failing"
    message = RenderedDigest(subject=subject, html=f"<pre>{html.escape(text)}</pre>", text=text)
    # Not a message of the digest's list: a reader's rule filing the digest by List-Id must
    # not file the operator's alert with it.
    settings = replace(
        config.delivery, recipients=(alerts.to,), unsubscribe=(), list_name="", list_id=""
    )
    try:
        deliver(message, settings, config.language, now)
    except DeliveryError as error:
        log.warning("alert to %s not sent (tried again next run): %s", alerts.to, error)
        return []
    store.mark_alerted([feed.url for feed in due], now)
    return names
