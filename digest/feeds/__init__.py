"""Fetching feeds and pages (guarded against private addresses; robots.txt), parsing
feeds, feed health, OPML.

What other stages may use; the modules beside this one are internal."""

from ._fetch import (
    FEED_ACCEPT,
    PAGE_ACCEPT,
    Fetcher,
    FetchRequest,
    decode_body,
    local_path,
    origin_of,
)
from ._health import failing_for, next_attempt, until_text, waiting_reason
from ._opml import add_feed, export_opml, import_opml, remove_feed
from ._parse import ParsedFeed, parse_fetched, shares_page
from ._robots import disallowed
from ._urls import host_of

__all__ = [
    "FEED_ACCEPT",
    "PAGE_ACCEPT",
    "FetchRequest",
    "Fetcher",
    "ParsedFeed",
    "add_feed",
    "decode_body",
    "disallowed",
    "export_opml",
    "failing_for",
    "host_of",
    "import_opml",
    "local_path",
    "next_attempt",
    "origin_of",
    "parse_fetched",
    "remove_feed",
    "shares_page",
    "until_text",
    "waiting_reason",
]
