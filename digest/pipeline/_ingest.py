"""Bring new articles into the store: fetch feeds, parse, fetch pages, extract, clean.

Each feed and each page fails on its own: a failure becomes a `Skipped` value in the result
(and a row in the store's `problems`), and an article whose page failed still comes in with
the text its feed carries, so nothing the feed announced is lost.
"""

from __future__ import annotations

import ipaddress
import logging
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from concurrent.futures import BrokenExecutor, Executor, Future
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from ..config import Config, FeedConfig
from ..errors import Invalid
from ..feeds import (
    FEED_ACCEPT,
    PAGE_ACCEPT,
    Fetcher,
    FetchRequest,
    ParsedFeed,
    disallowed,
    failing_for,
    host_of,
    next_attempt,
    origin_of,
    parse_fetched,
    shares_page,
    until_text,
    waiting_reason,
)
from ..models import (
    CleanedText,
    ExtractedPage,
    FeedEntry,
    FeedState,
    FetchResult,
    PooledPage,
    RemovedBlock,
    Skipped,
    day_only,
)
from ..pages import (
    LanguageDetector,
    all_seen_whole,
    article_language,
    decide,
    repeated_blocks,
    site_memories,
)
from ..store import NewArticle, Store
from ..text import duration_text
from . import _progress
from ._pool import (
    POOL_MIN_PAGES,
    PagePool,
    PageWork,
    parse_feed_in_worker,
    run_pool,
    worker_count,
)
from ._timing import StageTimer, StageTiming

log = logging.getLogger("digest")

# Page text shorter than this is a teaser, a paywall stub or an extraction miss; the feed's
# own content is used instead when it is longer.
MIN_PAGE_TEXT = 300
# Words compared between a short page and its entry (`_tells_of`); a "word" longer than the
# second is a run of a script written without spaces.
_WORD = re.compile(r"[^\W\d_]{5,}")
_SPACED_WORD_MAX = 24
# With `workers: auto`, feeds are parsed in the worker processes from this many due feeds
# on: below it, starting the workers (each imports the page extractor, about a second)
# costs more than parsing a few feeds here saves.
FEED_POOL_MIN = 16
# A page date may precede the feed's by this much (feeds re-announce updated stories) and
# follow it by up to a day (feeds that give the day only); beyond that the feed's date
# stands. No date may lie further in the future than the slack (clocks, time zones).
PAGE_DATE_MAX_AGE = timedelta(days=7)
FEED_DAY = timedelta(days=1)
DATE_SLACK = timedelta(hours=1)
# Links whose pages the fetcher can fetch; other entries keep their feed's text.
PAGE_SCHEMES = ("http", "https", "file")


@dataclass
class IngestResult:
    feeds_fetched: int = 0
    feeds_not_modified: int = 0
    feeds_pooled: int = 0  # read from the store's pool: another run fetched them this cycle
    feeds_failed: list[str] = field(default_factory=list)
    new_articles: int = 0
    skipped: list[Skipped] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    outside_window: int = 0  # entries the feeds listed dated before the window (kept)


@dataclass(frozen=True)
class _FeedSuccess:
    """Conditional-GET state to save once the feed's new articles are safely stored."""

    feed: FeedConfig
    status: int
    etag: str | None
    last_modified: str | None
    moved_to: str | None = None  # a 301/308 chain ended here: fetch it here from now on


def ingest(
    config: Config,
    store: Store,
    fetcher: Fetcher,
    now: datetime,
    timer: StageTimer | None = None,
) -> IngestResult:
    timer = timer or StageTimer()
    result = IngestResult()
    successes: list[_FeedSuccess] = []
    for old, new in store.follow_renames([(feed.url, feed.name) for feed in config.feeds]):
        log.info("feed %r is now %r: its stored articles follow the new name", old, new)
    # One pool of worker processes for the feeds' parsing and the pages' extraction; its
    # processes start when first given work, so a run that needs neither starts none.
    # The store's article pool (the feeds and pages the digests of one storage share) is
    # this run's from its first feed request to its last cleaned page: another digest of
    # the storage waits, then reads there what this one fetched (store/_article_pool.py).
    with store.pool_turn(), run_pool(config.workers) as pool:
        with timer.stage("feeds", total=len(config.feeds)) as timing:
            window = _Window(now - config.window)
            entries, pool = _fresh_entries(
                config, store, fetcher, now, result, successes, pool, timing, window
            )
            entries, first_seen = _with_kept(config, store, entries, window, now)
            paged = _within_page_bound(config, entries, now, result)
            shared = _shared_feeds(config, store)
            # An article link may go to a private address only on its feed's own origin,
            # and only to an address the feed was fetched from: the fetcher knows which,
            # given the URL the feed was fetched at. (Read only when there are entries.)
            homes = (
                {
                    feed.name: store.feed_state(feed.url).moved_to or feed.url
                    for feed in config.feeds
                }
                if entries
                else {}
            )
            pooled = _reusable(
                config, fetcher, homes, paged,
                store.pooled_pages((e.url for e in paged if e.feed in shared), now),
            )  # fmt: skip
            paged = [entry for entry in paged if entry.url not in pooled]
            timing.items = len(config.feeds)
        if entries:
            with timer.stage("pages") as timing:
                works = _fetch_and_extract(config, fetcher, paged, result, homes, timing, pool)
            with timer.stage("clean") as timing:
                cleaned = _clean_pages(store, works, now)
                timing.items = len(cleaned)
                feed_of = {entry.url: entry.feed for entry in paged}
                store.pool_pages(
                    {url: (work.page, cleaned[url], work.peers) for url, work in works.items()
                     if work.page is not None and feed_of.get(url) in shared},
                    config.fetch.robots,
                    now,
                )  # fmt: skip
                for url, found in pooled.items():
                    works[url] = PageWork(url, found.page, found.cleaned)
                    cleaned[url] = found.cleaned
    # One "store" stage (a watcher hears each stage once): the new articles, then the feeds'
    # conditional-GET state.
    arrived: list[NewArticle] = []
    with timer.stage("store") as timing:
        if entries:
            detector = LanguageDetector()  # for texts whose page gave no language
            new = [
                _article(
                    entry, works[entry.url].page if entry.url in works else None,
                    cleaned.get(entry.url), detector, now,
                )
                for entry in entries
            ]  # fmt: skip
            del works, cleaned
            arrived = _kept_if_older(store, new, first_seen, window.oldest, now)
            store.add_articles(arrived, now)
            result.new_articles = timing.items = len(arrived)
        # Only now: had the run died before the articles were stored, a saved ETag would
        # have turned the next run's fetch into a 304 and the articles would never have
        # come in.
        for success in successes:
            store.feed_succeeded(success.feed.url, success.feed.name, success.status,
                                 success.etag, success.last_modified, now)  # fmt: skip
            if success.moved_to is not None:
                moved = None if success.moved_to == success.feed.url else success.moved_to
                store.feed_moved(success.feed.url, moved)
    result.outside_window = _report_window(config, store, window, arrived)
    return result


@dataclass(frozen=True)
class WindowSplit:
    """One feed's entries against the window.

    `within`: news by their date; an undated one keeps `published` None and is dated when
    first seen (now), unless its page gives a date. `outside`: dated before the window.
    `backlog`: undated entries of the feed's first fetch when the feed dates some of its
    entries: they were listed before digest followed the feed, so they are taken to be no
    newer than the newest date it states (its entries', or its own: RSS lastBuildDate, Atom
    updated), and are not news. They get that date: before the window, they are `outside`
    like the dated ones (a wider window brings them in); within it, `backlog`, never sent.
    A feed that dates none of its entries tells no such order: on its first fetch, unless
    its own date is before the window, its first `undated_news` entries (a feed lists its
    newest first) are news and the rest its backlog. Added to a digest, it sends its
    latest, not its whole archive, nor nothing.
    """

    within: tuple[FeedEntry, ...]
    outside: tuple[FeedEntry, ...]
    backlog: tuple[FeedEntry, ...]


def split_by_window(
    parsed: ParsedFeed, now: datetime, window: timedelta, first_fetch: bool, undated_news: int
) -> WindowSplit:
    """`parsed`'s entries, fetched at `now`, against a window of `window` (see WindowSplit;
    `undated_news`: the feed's fair share of items, `Config.fair_share`)."""
    oldest = now - window
    newest = parsed.newest if first_fetch else None
    if newest is not None and newest >= oldest and not any(e.published for e in parsed.entries):
        newest = None  # the feed dates itself only: no bound on its entries
    within: list[FeedEntry] = []
    outside: list[FeedEntry] = []
    backlog: list[FeedEntry] = []
    for index, entry in enumerate(parsed.entries):
        if first_fetch and newest is None and entry.published is None and index >= undated_news:
            backlog.append(replace(entry, published=parsed.newest or now))
        elif entry.published is None and newest is not None:
            entry = replace(entry, published=newest)
            (outside if newest < oldest else backlog).append(entry)
        elif entry.published is None or entry.published >= oldest:
            within.append(entry)
        else:
            outside.append(entry)
    return WindowSplit(tuple(within), tuple(outside), tuple(backlog))


@dataclass
class _Window:
    """What the feeds of this run listed outside the window (WindowSplit), by canonical
    URL, the first feed listing one winning; and each feed's URLs (None: 304), for its line.
    """

    oldest: datetime
    outside: dict[str, FeedEntry] = field(default_factory=dict)
    backlog: set[str] = field(default_factory=set)
    listed: dict[str, list[str] | None] = field(default_factory=dict)

    def keep(self, split: WindowSplit) -> None:
        for entry in split.outside:
            self.outside.setdefault(entry.url, entry)
        for entry in split.backlog:
            if entry.url not in self.outside:
                self.outside[entry.url] = entry
                self.backlog.add(entry.url)


def _with_kept(
    config: Config, store: Store, entries: list[FeedEntry], window: _Window, now: datetime
) -> tuple[list[FeedEntry], dict[str, datetime]]:
    """The new entries of this run: those within the window not stored yet, and the kept
    ones the window covers now (widened since, or dated ahead), with when those were first
    seen. Entries listed outside the window are kept (no page fetched): stored before the
    feeds' validators are, so that a 304 later cannot lose them."""
    known = store.known([*entries, *window.outside.values()])
    # A URL another feed listed earlier under a date before the window is news when this
    # feed dates it within the window: the first listing, by any feed (an aggregator, or a
    # hostile one back-dating a publisher's link), must not hide the publisher's story.
    kept = store.kept(e.url for e in entries if e.url in known and e.published)
    known -= {e.url for e in entries if e.url in kept and kept[e.url][0] != e.feed}
    fresh = {entry.url for entry in entries}
    entries = [entry for entry in entries if entry.url not in known]
    outside = [e for url, e in window.outside.items() if url not in known and url not in fresh]
    if outside:
        store.keep_entries(outside, now, window.backlog)
    first_seen: dict[str, datetime] = {}
    for entry, seen in store.kept_within(window.oldest, (feed.name for feed in config.feeds)):
        if entry.url not in fresh:
            entries.append(entry)
            first_seen[entry.url] = seen
    return entries, first_seen


def _kept_if_older(
    store: Store,
    new: list[NewArticle],
    first_seen: dict[str, datetime],
    oldest: datetime,
    now: datetime,
) -> list[NewArticle]:
    """The articles to store as new. One whose page dates it before the window (its feed
    gave no date, or a later one) is kept outside the window instead, under that date."""
    older = [article for article in new if article.published < oldest]
    if older:
        store.keep_entries([replace(a.entry, published=a.published) for a in older], now)
    return [
        replace(article, first_seen=first_seen.get(article.entry.url))
        for article in new
        if article.published >= oldest
    ]


def _report_window(config: Config, store: Store, window: _Window, new: list[NewArticle]) -> int:
    """One line per feed read this run (shown with -v): its entries, how many came in, and
    how many are kept outside the window, which no run sends until its window covers them.
    Returns the entries outside the window, all feeds together."""
    kept = store.kept(url for urls in window.listed.values() if urls for url in urls)
    stored = store.kept_counts() if None in window.listed.values() else {}
    came_in = Counter(article.entry.feed for article in new)
    span = duration_text(config.window)
    total = 0
    for feed in config.feeds:
        if feed.name not in window.listed:
            continue  # failed or waiting: its own line says so
        urls = window.listed[feed.name]
        if urls is None:  # 304: what the state keeps of it (an entry two feeds list, once)
            outside, backlog = stored.get(feed.name, (0, 0))
            listed, where = "not modified", "kept outside"
        else:
            outside = sum(url in kept for url in urls)
            backlog = sum(kept[url][1] for url in urls if url in kept)
            listed = f"{len(urls)} {'entry' if len(urls) == 1 else 'entries'}"
            where = "outside"
        total += outside
        line = f"feed {feed.name!r} ({feed.url}): {listed}, {came_in[feed.name]} new, "
        line += f"{outside} {where} the {span} window"
        if outside > backlog:
            line += " (kept: a wider window brings them in)"
        if backlog:
            line += (
                f"; {backlog} of them undated on the feed's first fetch, taken to be listed "
                "before digest followed it: never sent"
            )
        log.info("%s", line)
    return total


def _fresh_entries(
    config: Config,
    store: Store,
    fetcher: Fetcher,
    now: datetime,
    result: IngestResult,
    successes: list[_FeedSuccess],
    pool: Executor | None,
    timing: StageTiming,
    window: _Window,
) -> tuple[list[FeedEntry], Executor | None]:
    """Entries of every feed published within the window, one per canonical URL (those
    before it go to `window`); and `pool`, or None should a worker have died while parsing
    (the feed is parsed here)."""
    states = {feed.url: store.feed_state(feed.url) for feed in config.feeds}
    shared = _shared_feeds(config, store)
    due = []
    secrets: dict[str, dict[str, str]] = {}
    for feed in config.feeds:
        waiting = waiting_reason(states[feed.url], now, config.path)
        if waiting is None:
            try:
                secrets[feed.name] = feed.request_headers()
            except Invalid as error:
                # The operator's environment, not the feed, is wrong: no request, and no
                # back-off that would outlast the fix.
                waiting = f"{error} (nothing fetched)"
        if waiting is None:
            due.append(feed)
        else:  # gone (410), backing off, or its headers unreadable: one line, no request
            result.feeds_failed.append(feed.name)
            result.skipped.append(Skipped("feed", feed.url, waiting, feed.name))
            _progress.count("feeds", "failed")
    requests = [
        FetchRequest(states[feed.url].moved_to or feed.url, states[feed.url].etag,
                     states[feed.url].last_modified, FEED_ACCEPT, stage="feed",
                     credentials=tuple(secrets[feed.name].items()), credentials_for=feed.url,
                     # A feed that moved (301) to another origin is fetched there under the
                     # address check: the publisher chose that origin, not the operator.
                     trusted_feed=feed.url
                     if origin_of(states[feed.url].moved_to or feed.url) != origin_of(feed.url)
                     else None)
        for feed in due
    ]  # fmt: skip
    # A feed another digest of the store fetched this cycle is read from the pool.
    pooled = store.pooled_feeds((feed.url for feed in due if feed.name in shared), now)
    answered: list[FetchResult | Skipped | None] = [pooled.get(feed.url) for feed in due]
    for feed, request in zip(due, requests, strict=True):
        if feed.url in pooled:  # its links may use the addresses its body came from
            fetcher.trust_pooled_feed(request.url, pooled[feed.url])
    asked = [index for index, outcome in enumerate(answered) if outcome is None]
    from_pool = {feed.name for feed in due if feed.url in pooled}
    for index, outcome in zip(asked, fetcher.fetch_many([requests[i] for i in asked]),
                              strict=True):  # fmt: skip
        answered[index] = outcome
        if due[index].name in shared and isinstance(outcome, FetchResult):
            store.pool_feed(due[index].url, outcome, now)
    fetched = [outcome for outcome in answered if outcome is not None]
    many = config.workers is not None or len(due) >= FEED_POOL_MIN
    if pool is not None and many:
        parsing = _parse_in(pool, due, fetched, now)
    else:
        parsing = [(outcome, None) for outcome in fetched]
    # One entry per article: the first feed's in the config, unless a later feed is the
    # article's own site's. Any feed can list another site's articles (an aggregator, or a
    # hostile feed giving them its own titles), and must not take them from their publisher.
    by_url: dict[str, FeedEntry] = {}
    site_of = {feed.name: feed.url for feed in config.feeds}
    for feed, request, (outcome, in_worker) in zip(due, requests, parsing, strict=True):
        parsed = None
        if in_worker is not None and pool is not None:
            try:
                parsed, cpu = in_worker.result()
                timing.cpu += cpu
                timing.workers_cpu += cpu
            except Exception as error:  # a worker died (out of memory, killed)
                log.warning("feed workers failed (%s); parsing the feeds in this process", error)
                pool = None
        listing = _feed_entries(feed, outcome, store, states[feed.url], now, result, parsed,
                                pooled=feed.name in from_pool)  # fmt: skip
        if listing is None:
            result.feeds_failed.append(feed.name)
            _progress.count("feeds", "failed")
            continue
        if isinstance(outcome, FetchResult):
            if feed.name in from_pool:
                _progress.count("feeds", "read from the pool")
            else:
                _progress.count("feeds", "unchanged" if outcome.not_modified else "fetched")
            moved = outcome.moved_to
            if moved is not None and moved != request.url:
                result.warnings.append(
                    f"feed {feed.name!r} ({request.url}): moved permanently to {moved}; "
                    "fetched there from now on (update its url in the config)"
                )
            successes.append(_FeedSuccess(feed, outcome.status, outcome.etag,
                                          outcome.last_modified, moved))  # fmt: skip
        if isinstance(outcome, FetchResult) and outcome.not_modified:
            window.listed[feed.name] = None
            continue
        first = not store.fetched_before(feed.url, feed.name)
        split = split_by_window(listing, now, config.window, first, config.fair_share)
        window.listed[feed.name] = [entry.url for entry in listing.entries]
        for entry in split.within:
            listed = by_url.get(entry.url)
            if listed is None or (
                same_site(entry.url, feed.url) and not same_site(listed.url, site_of[listed.feed])
            ):
                by_url[entry.url] = entry
        window.keep(split)
    return list(by_url.values()), pool


def same_site(url: str, other: str) -> bool:
    """Whether two URLs are on one site: the same host, give or take "www.", or one a
    subdomain of the other (feeds.example.com and example.com); an address only itself."""
    host, other_host = host_of(url).removeprefix("www."), host_of(other).removeprefix("www.")
    if not host or not other_host:
        return False
    if host == other_host:
        return True
    if _is_address(host) or _is_address(other_host):
        return False  # 1.2.3.4 is no subdomain of 2.3.4
    return host.endswith("." + other_host) or other_host.endswith("." + host)


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def _reusable(
    config: Config,
    fetcher: Fetcher,
    homes: dict[str, str],
    entries: Sequence[FeedEntry],
    pooled: dict[str, PooledPage],
) -> dict[str, PooledPage]:
    """The pooled pages this digest takes instead of fetching them: those its own fetch
    would have reached (every hop an address its policy allows: Fetcher.may_reuse) and, with
    fetch.robots on, whose fetch obeyed robots.txt. The others it fetches itself, and is
    refused what its policy refuses: a digest whose feed lists another's intranet page
    must not be handed that page's text."""
    feed_of = {entry.url: entry.feed for entry in entries}
    return {
        url: page
        for url, page in pooled.items()
        if fetcher.may_reuse(homes.get(feed_of.get(url, ""), ""), page.peers)
        and (page.robots or not config.fetch.robots)
    }


def _shared_feeds(config: Config, store: Store) -> set[str]:
    """The feeds whose feed and pages go into, and come from, the pool the store's digests
    share: none in a store of one digest; else those fetched without credentials (no
    auth_env or headers_env)."""
    if not store.shares_pool():
        return set()
    return {feed.name for feed in config.feeds if not (feed.auth_env or feed.headers_env)}


def _parse_in(
    pool: Executor,
    due: Sequence[FeedConfig],
    fetched: Iterable[FetchResult | Skipped],
    now: datetime,
) -> list[tuple[FetchResult | Skipped, Future[tuple[ParsedFeed | Skipped, float]] | None]]:
    """Each fetch outcome, with the worker's parsing of it when there is a body to parse:
    feedparser is pure Python, so the fetched feeds are parsed in the workers, all cores
    busy, while this process takes the results in order. Should a worker die while feeds
    are still being handed out, the pool refuses the rest: those are parsed here (None),
    and the dead worker's own feed, whose future fails, tells the caller to drop the pool."""
    parsing: list[
        tuple[FetchResult | Skipped, Future[tuple[ParsedFeed | Skipped, float]] | None]
    ] = []
    broken = False
    for feed, outcome in zip(due, fetched, strict=True):
        future = None
        if not broken and isinstance(outcome, FetchResult) and not outcome.not_modified:
            try:
                future = pool.submit(parse_feed_in_worker, outcome, feed.name, now)
            except BrokenExecutor:
                broken = True
        parsing.append((outcome, future))
    return parsing


def _feed_entries(
    feed: FeedConfig,
    outcome: FetchResult | Skipped,
    store: Store,
    state: FeedState,
    now: datetime,
    result: IngestResult,
    parsed: ParsedFeed | Skipped | None = None,
    pooled: bool = False,
) -> ParsedFeed | None:
    """The parsed feed; one without entries when it did not change; None when it failed
    (recorded). `parsed` is what a worker made of the feed; None: it is parsed here.
    `pooled`: `outcome` is another run's fetch, read from the store's pool."""
    if isinstance(outcome, Skipped):
        _feed_failed(feed, state, outcome.reason, outcome.status, outcome.retry_after, store,
                     now, result)  # fmt: skip
        return None
    if outcome.not_modified:
        result.feeds_not_modified += 1
        return ParsedFeed("", ())
    if parsed is None:
        parsed = parse_fetched(outcome, feed.name, now)
    if isinstance(parsed, Skipped):
        _feed_failed(feed, state, parsed.reason, outcome.status, None, store, now, result)
        return None
    if pooled:
        result.feeds_pooled += 1
    else:
        result.feeds_fetched += 1
    if parsed.warning:
        result.warnings.append(f"feed {feed.name!r} ({feed.url}): {parsed.warning}")
    result.skipped += [replace(dropped, target=feed.url) for dropped in parsed.dropped]
    return parsed


def _feed_failed(
    feed: FeedConfig,
    state: FeedState,
    reason: str,
    status: int | None,
    retry_after: float | None,
    store: Store,
    now: datetime,
    result: IngestResult,
) -> None:
    """Record the failure, and when the feed may be tried again (digest/feeds/_health.py)."""
    gone = status == 410
    until = None if gone else next_attempt(state, now, retry_after)
    store.feed_failed(feed.url, feed.name, reason, status, now, until, gone)
    if gone:
        reason += "; feed deactivated: change its url or run `digest reactivate` to fetch it"
    elif until is not None:
        reason += f"; next attempt after {until_text(until)}"
    if state.failing_since:
        reason += f" ({failing_for(state.failing_since, state.failures + 1)})"
    result.skipped.append(Skipped("feed", feed.url, reason, feed.name))
    # In the report too, which `run` prints once it ends; as it happens with -v.
    log.info("feed %r (%s): %s", feed.name, feed.url, reason)


def _within_page_bound(
    config: Config, entries: Sequence[FeedEntry], now: datetime, result: IngestResult
) -> list[FeedEntry]:
    """The new entries whose pages this run fetches: of each feed that fetches pages
    (`feeds[].pages`, else `fetch.pages`), the newest `feeds[].pages_per_run` (else
    `fetch.pages_per_feed`), so that a feed announcing thousands of entries costs a bounded
    number of requests. One line per feed says how many more it had.

    Those are stored now with the feed's own text, as an entry whose page failed is, and
    their pages are never fetched: not kept for a later run, because from the next run on
    the feed answers 304 (its ETag is saved once this run's entries are stored) or lists
    newer entries that take that run's bound, so an entry left for later would be lost or
    starved until it left the window, while the feed's text keeps it in the digest now.
    An entry whose page other entries of its feed link to as well keeps the feed's text
    too: that page tells none of them alone (`shares_page`).
    """
    feeds = {feed.name: feed for feed in config.feeds}
    by_feed: dict[str, list[FeedEntry]] = defaultdict(list)
    for entry in entries:
        paged = feeds[entry.feed].fetches_pages(config.fetch)  # feeds[].pages, fetch.pages
        if paged and not shares_page(entry) and urlsplit(entry.link).scheme in PAGE_SCHEMES:
            by_feed[entry.feed].append(entry)
    fetched: set[str] = set()
    for name, candidates in by_feed.items():
        feed = feeds[name]
        bound = feed.pages_per_run or config.fetch.pages_per_feed
        newest = sorted(candidates, key=lambda e: e.published or now, reverse=True)
        fetched.update(entry.url for entry in newest[:bound])
        if len(newest) > bound:
            setting = "its pages_per_run" if feed.pages_per_run else "fetch.pages_per_feed"
            line = (
                f"feed {name!r} ({feed.url}): {len(newest) - bound} more new entries than "
                f"{setting} ({bound}); their pages are not fetched, they keep the feed's own "
                f"text (raise {setting} to fetch more)"
            )
            result.warnings.append(line)
    return [entry for entry in entries if entry.url in fetched]


def _fetch_and_extract(
    config: Config,
    fetcher: Fetcher,
    entries: Sequence[FeedEntry],
    result: IngestResult,
    homes: dict[str, str],
    timing: StageTiming,
    pool: Executor | None,
) -> dict[str, PageWork]:
    """Fetch the pages and extract them as they arrive, in worker processes for a batch
    (`pool`'s, or a pool of its own should that one have broken). `entries` are those whose
    pages are fetched (`_within_page_bound`)."""
    targets = [e for e in entries if urlsplit(e.link).scheme in PAGE_SCHEMES]
    # The stage's pages: those robots.txt keeps off count too, as failed, so that its line
    # reads "180 pages (178 fetched, 170 extracted, 10 failed)": extracted + failed = all.
    timing.items = len(targets)
    _progress.expect("pages", len(targets))
    if config.fetch.robots:
        refused = disallowed(fetcher, [(e.link, homes.get(e.feed, "")) for e in targets])
        for entry in targets:
            if entry.link in refused:
                result.skipped.append(Skipped("page", entry.link, refused[entry.link], entry.feed))
                _progress.count("pages", "failed")
        targets = [e for e in targets if e.link not in refused]
    feeds = {feed.name: feed for feed in config.feeds}
    secrets: dict[str, tuple[tuple[str, str], ...]] = {}
    for name in {e.feed for e in targets}:
        try:  # its pages on its origin get them too; read once already for its fetch
            secrets[name] = tuple(feeds[name].request_headers().items())
        except Invalid:
            secrets[name] = ()
    requests = [
        FetchRequest(e.link, accept=PAGE_ACCEPT, trusted_feed=homes.get(e.feed, ""),
                     credentials=secrets[e.feed], credentials_for=feeds[e.feed].url,
                     keep_encoding=True, html_only=True)
        for e in targets
    ]  # fmt: skip
    workers = worker_count(config.workers)
    if config.workers is None and len(targets) < POOL_MIN_PAGES:
        workers = 0  # "auto": a pool would take longer to start than these pages to extract
    works: dict[str, PageWork] = {}
    peers: dict[str, tuple[tuple[str, str], ...]] = {}  # entry URL -> its fetch's hops

    def take(done: Iterable[tuple[FeedEntry, PageWork]]) -> None:
        for entry, work in done:
            if workers:  # in-process work is already in this process's CPU time
                timing.cpu += work.cpu
                timing.workers_cpu += work.cpu
            _progress.count("pages", "failed" if work.skipped is not None else "extracted")
            if work.skipped is not None:
                result.skipped.append(replace(work.skipped, target=entry.link, feed=entry.feed))
                log.info("page %s of feed %r: %s (using the feed's text)",
                            entry.link, entry.feed, work.skipped.reason)  # fmt: skip
            else:
                works[entry.url] = replace(work, peers=peers.get(entry.url, ()))

    with PagePool[FeedEntry](workers, pool, config.fetch.max_bytes) as pages:
        for index, outcome in fetcher.fetch_each(requests):
            entry = targets[index]
            if isinstance(outcome, Skipped):
                result.skipped.append(replace(outcome, target=entry.link, feed=entry.feed))
                _progress.count("pages", "failed")
                log.info("page of feed %r: %s: %s (using the feed's text)",
                            entry.feed, outcome.target, outcome.reason)  # fmt: skip
                continue
            _progress.count("pages", "fetched", finished=False)
            peers[entry.url] = outcome.peers
            pages.submit(entry, outcome.body or b"", outcome.final_url, outcome.content_encoding)
            take(pages.finished())
        take(pages.drain())
    return works


def _clean_pages(store: Store, works: dict[str, PageWork], now: datetime) -> dict[str, CleanedText]:
    """Decide again the pages that repeat blocks seen on other pages of their site (stored or
    in this batch), from the scores their worker sent; the workers' cleaning stands for the
    others. Set lookups and a pass over each such page's blocks: no block is scored again."""
    by_host: dict[str, list[str]] = defaultdict(list)
    for url in works:
        by_host[host_of(url)].append(url)
    cleaned: dict[str, CleanedText] = {}
    with store.transaction():
        for host, urls in sorted(by_host.items()):  # in one order in every run: remember_blocks
            prints = {url: [fp for block in works[url].prints for fp in block] for url in urls}
            stored = store.site_blocks(host, (fp for page in prints.values() for fp in page))
            memories = site_memories(prints, stored)
            for url in urls:
                work = works[url]
                assert work.scored is not None and work.cleaned is not None, "extracted pages"
                repeated = repeated_blocks(work.prints, memories[url])
                cleaned[url] = decide(work.scored, repeated) if repeated else work.cleaned
                text = cleaned[url].text
                # A short page all of whose blocks are whole on the site's other pages is
                # its shell, not an article (a JavaScript app's "please enable JavaScript",
                # a consent or login wall): its text would stand in for each post's own and
                # make its posts one story. A long page seen whole before is an article
                # published again (`repeated_blocks`).
                if 0 < len(text) < MIN_PAGE_TEXT and all_seen_whole(work.prints, memories[url]):
                    cleaned[url] = _without_text(cleaned[url])
            store.remember_blocks(host, prints, now)
    return cleaned


def _tells_of(page_text: str, entry: FeedEntry, feed_text: str) -> bool:
    """Whether a short page's text may stand for the feed's own: the feed has none, or the
    page shares a word with the entry's title or text, the first five letters of words of
    five or more ("Stadtwerk", "Stadtwerke"). A shell that names its post ("To see post 7,
    please enable JavaScript"), met once, shares none with the post. Where words are not
    spaced (Chinese, Japanese, Thai) the page is trusted."""
    if not feed_text:
        return True
    told = {word[:5] for word in _WORD.findall(f"{entry.title} {feed_text}".lower())}
    if not told or any(len(word) > _SPACED_WORD_MAX for word in _WORD.findall(feed_text)):
        return True
    return bool(told & {word[:5] for word in _WORD.findall(page_text.lower())})


def _without_text(cleaned: CleanedText) -> CleanedText:
    """`cleaned` with its blocks removed as repeated on the site: the feed's text stands."""
    shell = tuple(RemovedBlock(block.text, "repeated-on-site") for block in cleaned.kept)
    return replace(cleaned, text="", kept=(), removed=(*cleaned.removed, *shell))


def publication_date(
    feed_date: datetime | None, page_date: datetime | None, now: datetime
) -> datetime:
    """The page's own date when it is plausible, else the feed's, else now.

    The page usually states the publication time more exactly than the feed (which may give
    the time it was updated, or only the day), but a page date in the future, or far older
    than the feed says, is a wrong guess from the markup (a copyright year, a related link).
    """
    if page_date is None or page_date > now + DATE_SLACK:
        return feed_date or now
    if feed_date is None:
        return page_date
    if day_only(page_date) and not day_only(feed_date):
        # A day with no time (most often read from the URL: /2026/12/04/live-updates) is no
        # more exact than the feed's time, and a live page's first day would take it out
        # of the window while the feed says it was updated an hour ago.
        return feed_date
    if not feed_date - PAGE_DATE_MAX_AGE <= page_date <= feed_date + FEED_DAY:
        return feed_date
    return page_date


def _article(
    entry: FeedEntry,
    page: ExtractedPage | None,
    cleaned: CleanedText | None,
    detector: LanguageDetector,
    now: datetime,
) -> NewArticle:
    feed_text = entry.content if len(entry.content) > len(entry.summary) else entry.summary
    if cleaned and (
        len(cleaned.text) >= MIN_PAGE_TEXT
        or (len(cleaned.text) >= len(feed_text) and _tells_of(cleaned.text, entry, feed_text))
    ):
        text, source = cleaned.text, "page"
    elif entry.content:
        text, source = entry.content, "feed-content"
    else:
        text, source = entry.summary, "feed-summary"
    published = publication_date(entry.published, page.published if page else None, now)
    language = (cleaned.language if cleaned else None) or (page.language if page else None)
    if language is None and len(text) >= 40:
        # As a page's body is judged: function words settle most texts, in a fraction of
        # langdetect's time (10,000 feed-only entries took 24 s of langdetect alone).
        language = article_language([text], detector)
    return NewArticle(
        entry=entry,
        title=entry.title or (page.title if page and page.title else entry.url),
        text=text or entry.title,
        text_source=source,
        language=language,
        author=entry.author or (page.author if page else None),
        published=published,
        removed=cleaned.removed if cleaned else (),
    )
