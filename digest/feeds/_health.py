"""How a run treats a feed that keeps failing: backoff, 410 Gone, and the operator's alert.

- A feed that failed once is tried again on the next run. After that it is left alone for
  twice as long as the gap since its previous attempt (so, with hourly runs: skip one run,
  then three, then seven ...), up to a day: a broken server is not hammered every run, and
  a feed that comes back is picked up within a day.
- A 429 or 503 with Retry-After is not fetched again before that time, whatever the backoff.
- A 410 Gone deactivates the feed (as rss2email does) until the operator changes its URL in
  the config or runs `digest reactivate`.
- With `alerts.to` set, a feed failing for `alerts.after` gets one short mail per failure
  episode (an episode ends with the feed's next success).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from ..models import FeedState
from ..text import plural

log = logging.getLogger("digest")

BACKOFF_CAP = timedelta(days=1)
# Runs started by cron drift by seconds or minutes; without this slack a feed due "in two
# hours" would miss the run that starts two hours minus a minute later.
_SLACK = 0.9


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def until_text(moment: datetime) -> str:
    """'2026-11-23 10:00:09 UTC': a back-off often ends within the minute, which a time
    without seconds would show as already past. No "in N minutes": the text is stored, and
    read later in `digest status` and alert emails."""
    return f"{moment:%Y-%m-%d %H:%M:%S} UTC"


def failing_for(since: str, attempts: int) -> str:
    """'failing since 2026-11-20 06:00 UTC, 3 failed attempts in a row' (`since`: stored
    ISO time)."""
    tries = plural(attempts, "failed attempt")
    return f"failing since {since[:16].replace('T', ' ')} UTC, {tries} in a row"


def waiting_reason(state: FeedState, now: datetime, config_path: object) -> str | None:
    """Why this feed is not fetched on this run, or None when it is due."""
    if state.gone_since is not None:
        return (
            f"not fetched: gone (HTTP 410) since {_when(state.gone_since)}; change its url or "
            f"run `digest reactivate --config {config_path}` to fetch it again"
        )
    if state.next_attempt is not None and now < state.next_attempt:
        failing = (
            failing_for(state.failing_since, state.failures)
            if state.failing_since
            else f"{plural(state.failures, 'failed attempt')} in a row"
        )
        return (
            f"not fetched until {until_text(state.next_attempt)} ({failing}; last error: "
            f"{state.last_error})"
        )
    return None


def next_attempt(state: FeedState, now: datetime, retry_after: float | None) -> datetime | None:
    """When a feed that just failed may be tried again (None: on the next run).

    `state` is the feed's state before this failure, its previous attempt included.
    """
    wait = timedelta(0)
    last_attempt = state.last_attempt
    if state.failures >= 1 and last_attempt is not None:
        gap = max(now - last_attempt, timedelta(0))
        wait = min(gap * 2, max(BACKOFF_CAP, gap)) * _SLACK
    if retry_after is not None:
        wait = max(wait, timedelta(seconds=retry_after))
    return now + wait if wait > timedelta(0) else None
