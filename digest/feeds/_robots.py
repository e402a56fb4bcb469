"""robots.txt for article pages (RFC 9309), read once per site per run.

Only article pages are checked: a feed is published to be fetched by readers, and the
operator asked for it by name. The product token is "digest". As RFC 9309 says: a robots.txt
that is missing (any 4xx) allows everything; one that cannot be reached (5xx, timeout,
refused connection) disallows everything for this run, since the site may be saying
"go away" the only way it can.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlsplit, urlunsplit
from urllib.robotparser import RobotFileParser

from ..models import Skipped
from ._fetch import Fetcher, FetchRequest

PRODUCT_TOKEN = "digest"
# RFC 9309: crawlers must read at least 500 KiB; what follows may be ignored.
_MAX_ROBOTS = 500 * 1024


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "", "", ""))


def disallowed(fetcher: Fetcher, pages: Sequence[tuple[str, str | None]]) -> dict[str, str]:
    """For (page URL, trusted host) pairs: page URL -> why it may not be fetched.

    The robots.txt request goes through the same address policy as the page would, so a
    link the policy refuses comes back here with the policy's reason, and nothing is sent.
    """
    keys = {(_origin(url), trusted) for url, trusted in pages if url.startswith("http")}
    ordered = sorted(keys, key=lambda key: (key[0], key[1] or ""))
    outcomes = fetcher.fetch_many(
        [FetchRequest(f"{origin}/robots.txt", accept="text/plain", trusted_host=trusted,
                      stage="robots")
         for origin, trusted in ordered]
    )  # fmt: skip
    rules: dict[tuple[str, str | None], RobotFileParser | str] = {}
    for key, outcome in zip(ordered, outcomes, strict=True):
        rules[key] = _rules(outcome)
    reasons = {}
    for url, trusted in pages:
        rule = rules.get((_origin(url), trusted))
        if isinstance(rule, str):
            reasons[url] = rule
        elif rule is not None and not rule.can_fetch(PRODUCT_TOKEN, url):
            reasons[url] = "disallowed by robots.txt"
    return reasons


def _rules(outcome: object) -> RobotFileParser | str:
    """The parsed rules, or the reason every page of the site is off limits."""
    parser = RobotFileParser()
    if isinstance(outcome, Skipped):
        if outcome.blocked:
            return outcome.reason
        if outcome.status is not None and 400 <= outcome.status < 500:
            parser.parse([])  # no robots.txt: everything is allowed
            return parser
        return f"robots.txt unavailable ({outcome.reason}), so the site is not crawled this run"
    body = (getattr(outcome, "body", None) or b"")[:_MAX_ROBOTS]
    parser.parse(body.decode("utf-8", "replace").splitlines())
    return parser
