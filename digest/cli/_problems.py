"""What a run's report says went wrong, as the lines `digest run` prints and the daemon
logs: one form for both (docs/commands.md, "Watching a run")."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator
from urllib.parse import urlsplit

from ..models import RunReport, Skipped
from ..text import plural
from ._progress import StderrHandler

# A page skipped for one of these reasons was skipped for its host's sake, with the host's
# other pages: "not asked: HOST did not answer in time ..." (digest/feeds/_fetch.py),
# "robots.txt unavailable (URL: why), so the site is not crawled this run"
# (digest/feeds/_robots.py); or, "disallowed by robots.txt", by the site's own rules, page by
# page, where what an operator can do (fetch.robots, the feed) is the same for all of them.
# Their pages are told one line per host, with the count and the first.
_PER_HOST = ("not asked: ", "robots.txt unavailable (", "disallowed by robots.txt")


def problem_lines(
    report: RunReport, already_said: Callable[[Skipped], bool] | None = None
) -> list[str]:
    """A line per problem of the run: skipped feeds and entries, pages not used, warnings.
    `already_said`: problems the live log showed as they happened (with -v), left out."""
    lines = []
    # A feed's warning (malformed XML, entries recovered) and the entries of it that could
    # not be used are one problem: one line, the warning's, says both.
    dropped: dict[int, list[str]] = {index: [] for index in range(len(report.warnings))}
    # Pages a run did not ask for because their host kept timing out, or because their
    # site's robots.txt could not be read or refuses them: one line per host, not one per
    # page (a feed of 100 links to a dripping, unreachable or closed site).
    silent: dict[tuple[str, str], list[Skipped]] = {}
    for problem in report.skipped:
        if already_said is not None and already_said(problem):
            continue
        if problem.stage == "page" and problem.reason.startswith(_PER_HOST):
            host = urlsplit(problem.target).hostname or ""
            silent.setdefault((problem.reason, host), []).append(problem)
            continue
        if problem.stage == "page":
            lines.append(_page_line(problem))
            continue
        if problem.stage == "entry":
            prefix = f"feed {problem.feed!r} ({problem.target}): "
            index = next((i for i, warning in enumerate(report.warnings)
                          if warning.startswith(prefix)), None)  # fmt: skip
            if index is not None:
                dropped[index].append(problem.reason)
                continue
        # "skipped: feed ..." before an entry's line read as if the whole feed was skipped.
        lines.append(str(problem) if problem.stage == "entry" else f"skipped: {problem}")
    for (reason, _host), pages in silent.items():
        if len(pages) == 1:
            lines.append(_page_line(pages[0]))
            continue
        feeds = ", ".join(sorted({repr(page.feed) for page in pages}))
        lines.append(
            f"{plural(len(pages), 'page')} (feed {feeds}, first {pages[0].target}): {reason}; "
            "pages not used, the articles keep their feeds' text"
        )
    for index, warning in enumerate(report.warnings):
        reasons = dropped[index]
        if reasons:
            more = f"; {len(reasons) - 3} more" if len(reasons) > 3 else ""
            shown = "; ".join(reasons[:3]) + more
            warning += f"; {len(reasons)} dropped ({shown})"
        lines.append(f"warning: {warning}")
    return lines


def _page_line(problem: Skipped) -> str:
    # The article itself is kept, with its feed's text.
    return (
        f"page {problem.target} (feed {problem.feed!r}): {problem.reason}; "
        "page not used, the article keeps the feed's text"
    )


def delivery_lines(report: RunReport) -> list[str]:
    """A line per recipient a server refused or deferred, with the server's reason."""
    return [
        *(f"delivery: {to} refused: {reason}" for to, reason in report.refused.items()),
        *(
            f"delivery: {to} deferred ({reason}); queued for the next run"
            for to, reason in report.deferred.items()
        ),
    ]


class LoggedProblems(logging.Filter):
    """The values of the lines logged while a run goes on (with -v: a feed or page that
    failed is logged as it happens), so that the summary after the run does not say one of
    them a second time, in another form."""

    def __init__(self) -> None:
        super().__init__()
        self.logged: list[tuple[str, ...]] = []

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.INFO and isinstance(record.args, tuple):
            self.logged.append(tuple(str(value) for value in record.args))
        return True

    def said(self, problem: Skipped) -> bool:
        """Whether a logged warning held this problem's reason, and its URL or feed."""
        return any(
            problem.reason in values and (problem.target in values or problem.feed in values)
            for values in self.logged
        )


@contextlib.contextmanager
def logging_problems() -> Iterator[LoggedProblems]:
    """Note the warnings our log shows while the block runs (see LoggedProblems)."""
    noted = LoggedProblems()
    handlers = [h for h in logging.getLogger("digest").handlers if isinstance(h, StderrHandler)]
    for handler in handlers:
        handler.addFilter(noted)
    try:
        yield noted
    finally:
        for handler in handlers:
            handler.removeFilter(noted)
