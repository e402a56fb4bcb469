"""robots.txt for article pages (RFC 9309), read once per site (and address policy) per run.

Only article pages are checked: a feed is published to be fetched by readers, and the
operator asked for it by name. The product token is "digest". As RFC 9309 says: a robots.txt
that is missing (any 4xx) allows everything; one that cannot be reached (5xx, timeout,
refused connection) disallows everything for this run, since the site may be saying
"go away" the only way it can. Its first 500 KiB are read and the rest ignored, whatever
fetch.max_bytes says. A body that is not text (NUL or other control bytes) is treated as
unreachable: read as text, a binary file's noise would allow everything. A body that is
text but not UTF-8 (an older Latin-1 file) is read as Latin-1: its directives are ASCII
either way, and an accented comment must not close the site.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Sequence
from urllib.parse import urlsplit, urlunsplit
from urllib.robotparser import RobotFileParser

from ..models import FetchResult, Skipped
from ._fetch import Fetcher, FetchRequest, origin_of

PRODUCT_TOKEN = "digest"
# RFC 9309: crawlers must read at least 500 KiB; what follows may be ignored.
_MAX_ROBOTS = 500 * 1024
# C0 control characters other than tab, line feed, vertical tab, form feed, carriage return.
# In UTF-8 these bytes stand for themselves (no multi-byte character contains one).
_NOT_TEXT = re.compile(rb"[\x00-\x08\x0e-\x1f]")


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "", "", ""))


def disallowed(fetcher: Fetcher, pages: Sequence[tuple[str, str | None]]) -> dict[str, str]:
    """For (page URL, its feed's URL: `FetchRequest.trusted_feed`) pairs: page URL -> why
    it may not be fetched.

    The robots.txt request goes through the same address policy as the page would, so a
    link the policy refuses comes back here with the policy's reason, and nothing is sent.
    """
    # Each key's request trusts what the first of its pages' feeds trusts. The fetcher
    # exempts, for each feed, the addresses it fetched that feed at; feeds of one origin are
    # on one host, fetched at its addresses, so one of them stands for all.
    trusting: dict[tuple[str, str | None], str | None] = {}
    for url, trusted in pages:
        if url.startswith("http"):
            trusting.setdefault(_key(url, trusted), trusted)
    ordered = sorted(trusting, key=lambda key: (key[0], key[1] or ""))
    outcomes = fetcher.fetch_many(
        [FetchRequest(f"{key[0]}/robots.txt", accept="text/plain", trusted_feed=trusting[key],
                      stage="robots", read_first=_MAX_ROBOTS)
         for key in ordered]
    )  # fmt: skip
    rules: dict[tuple[str, str | None], RobotFileParser | str] = {}
    for key, outcome in zip(ordered, outcomes, strict=True):
        rules[key] = _rules(outcome, f"{key[0]}/robots.txt")
    reasons = {}
    for url, trusted in pages:
        rule = rules.get(_key(url, trusted))
        if isinstance(rule, str):
            reasons[url] = rule
        elif rule is not None and not rule.can_fetch(PRODUCT_TOKEN, url):
            reasons[url] = "disallowed by robots.txt"
    return reasons


def _key(url: str, trusted: str | None) -> tuple[str, str | None]:
    """robots.txt is read once per site and address policy: the site, and what its request
    trusts: "own" when the page is on its feed's own origin (any of the site's feeds
    stands for the others, see `disallowed`; thirty feeds of one site read its robots.txt
    thirty times when each feed was a key), nothing ("") when it is not; None: the page
    is the operator's own URL."""
    if trusted is None:
        return _origin(url), None
    own = origin_of(url)
    return _origin(url), "own" if own and own == origin_of(trusted) else ""


def _rules(outcome: FetchResult | Skipped, robots_url: str) -> RobotFileParser | str:
    """The parsed rules, or the reason every page of the site is off limits."""
    parser = RobotFileParser()
    if isinstance(outcome, Skipped):
        if outcome.blocked and outcome.target != robots_url:
            # The site itself was allowed; its robots.txt redirected where the policy refuses.
            why = outcome.reason.removeprefix("not fetched: ")
            return f"not fetched: its robots.txt redirects to {outcome.target}, and {why}"
        if outcome.blocked:
            return outcome.reason
        if outcome.status is not None and 400 <= outcome.status < 500:
            parser.parse([])  # no robots.txt: everything is allowed
            return parser
        return _unavailable(f"{outcome.target}: {outcome.reason}")
    try:
        text = robots_text(outcome.body or b"")
    except ValueError as error:
        return _unavailable(f"{outcome.final_url} is not text: {error}")
    lines = text.splitlines()
    try:
        parser.parse(lines)
    except Exception:
        # urllib's parser stops at a line it cannot read ("Crawl-delay: ²", "Disallow: //[");
        # RFC 9309 has such lines ignored and the rest obeyed.
        parser = RobotFileParser()
        parser.parse([line for line in lines if _readable(line)])
    return parser


def _readable(line: str) -> bool:
    """Whether urllib's robots.txt parser reads `line` without an error."""
    try:
        RobotFileParser().parse(["User-agent: *", line])
    except Exception:
        return False
    return True


def robots_text(body: bytes) -> str:
    """The text of a robots.txt body as read (at most `_MAX_ROBOTS` bytes); ValueError
    saying why when it is not text. A body of `_MAX_ROBOTS` bytes was probably cut: its
    last, unfinished line (which could be "Allow: /" cut from "Allow: /archive/") is
    dropped, as is a character cut in two. Text that is not UTF-8 is read as Latin-1."""
    if control := _NOT_TEXT.search(body):
        kind = "NUL" if control.group() == b"\x00" else "control"
        raise ValueError(f"a {kind} byte at offset {control.start()}")
    cut = len(body) >= _MAX_ROBOTS
    try:
        text = codecs.getincrementaldecoder("utf-8-sig")().decode(body, final=not cut)
    except UnicodeDecodeError:
        text = body.decode("latin-1")
    if cut and not text.endswith("\n"):
        text = text.rpartition("\n")[0]
    return text


def _unavailable(reason: str) -> str:
    return f"robots.txt unavailable ({reason}), so the site is not crawled this run"
