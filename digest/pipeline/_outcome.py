"""Whether a run that came to its end did its job: one verdict for the exit code of
`digest run`, the daemon's log line and the run's row in the state (`digest status`)."""

from __future__ import annotations

from ..config import Config
from ..models import RunReport
from ..text import first_few


def run_failure(config: Config, report: RunReport) -> str | None:
    """Why a run that returned its report failed (`digest run` exits 1), in one line; None
    when it did its job. A failure that stops a run raises instead (DeliveryError, ...).

    A recipient refused for good fails the run although the others got the digest; every
    feed failing fails it although a digest held back from an earlier run may have gone
    out: either way someone must act."""
    if report.refused:  # each with the server's reply in the report, and in the outbox
        return f"refused by {first_few(list(report.refused))}"
    count = len(config.feeds)
    if count and len(report.feeds_failed) >= count:
        return "the feed failed" if count == 1 else f"all {count} feeds failed"
    return None
