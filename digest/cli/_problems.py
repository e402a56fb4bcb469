"""What a run's report says went wrong, as the lines `digest run` prints and the daemon
logs: one form for both (docs/commands.md, "Watching a run")."""

from __future__ import annotations

from collections.abc import Callable

from ..models import RunReport, Skipped
from ..text import plural


def problem_lines(
    report: RunReport, already_said: Callable[[Skipped], bool] | None = None
) -> list[str]:
    """A line per problem of the run: skipped feeds and entries, pages not used, warnings.
    `already_said`: problems the live log showed as they happened (with -v), left out."""
    lines = []
    # A feed's warning (malformed XML, entries recovered) and the entries of it that could
    # not be used are one problem: one line, the warning's, says both.
    dropped: dict[int, list[str]] = {index: [] for index in range(len(report.warnings))}
    # Pages a run did not ask for because their host kept timing out: one line per host,
    # not one per page (a feed of 100 links to a dripping server).
    silent: dict[str, list[Skipped]] = {}
    for problem in report.skipped:
        if already_said is not None and already_said(problem):
            continue
        if problem.stage == "page" and problem.reason.startswith("not asked: "):
            silent.setdefault(problem.reason, []).append(problem)
            continue
        if problem.stage == "page":  # the article itself is kept, with its feed's text
            lines.append(
                f"page {problem.target} (feed {problem.feed!r}): {problem.reason}; "
                "page not used, the article keeps the feed's text"
            )
            continue
        if problem.stage == "entry":
            prefix = f"feed {problem.feed!r} ({problem.target}): "
            index = next((i for i, warning in enumerate(report.warnings)
                          if warning.startswith(prefix)), None)  # fmt: skip
            if index is not None:
                dropped[index].append(problem.reason)
                continue
        lines.append(f"skipped: {problem}")
    for reason, pages in silent.items():
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


def delivery_lines(report: RunReport) -> list[str]:
    """A line per recipient a server refused or deferred, with the server's reason."""
    return [
        *(f"delivery: {to} refused: {reason}" for to, reason in report.refused.items()),
        *(
            f"delivery: {to} deferred ({reason}); queued for the next run"
            for to, reason in report.deferred.items()
        ),
    ]
