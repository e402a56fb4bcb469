"""The library API: run a digest, preview it, check its feeds, extract one page.

import digest
config = digest.load_config("config/demo.yaml")
report = digest.run(config)        # fetch ... deliver, record; what cron calls
report = digest.preview(config)    # same digest, not delivered, nothing marked sent
"""

from __future__ import annotations

import contextlib
import gzip
import logging
import re
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from .archive import email_links, page_links, write_archive
from .clean import LanguageDetector, clean_page
from .cluster import cluster_articles, join_delivered
from .config import Config, FetchSettings
from .deliver import SendOutcome, deliver, send_each
from .errors import DeliveryError, DigestError, FetchError
from .extract import extract_page
from .fetch import FEED_ACCEPT, Fetcher, FetchRequest
from .health import send_alerts
from .ingest import ingest
from .localsite import LocalSite
from .models import Digest, RemovedBlock, RenderedDigest, RunReport
from .parse import parse_fetched
from .rank import filter_clusters, passes, rank_clusters
from .render import render_digest
from .store import QUEUE_LIMIT, Store

log = logging.getLogger("digest")
JOIN_HORIZON = timedelta(days=7)


def run(config: Config, *, now: datetime | None = None) -> RunReport:
    """Fetch, extract, clean, cluster, rank, render, deliver and record one digest.

    Returns the report; `report.digest` is None when there was nothing new. Raises
    DeliveryError when the digest could not be delivered (its stories stay pending).
    """
    return _build(config, now or datetime.now(UTC), send=True)


def preview(config: Config, *, now: datetime | None = None) -> RunReport:
    """Build the digest that `run` would send, without delivering it or marking it sent.

    New articles are still fetched and stored as pending, so the next `run` sends them.
    """
    return _build(config, now or datetime.now(UTC), send=False)


@contextlib.contextmanager
def serving(config: Config) -> Iterator[None]:
    """Serve `serve.root` on 127.0.0.1 while the block runs (the bundled demo)."""
    if config.serve is None:
        yield
        return
    try:
        site = LocalSite(config.serve.root, config.serve.port)
    except OSError as error:
        raise DigestError(
            f"{config.path}: serve: cannot listen on 127.0.0.1:{config.serve.port}: "
            f"{error.strerror or error}; set serve.port to a free port"
        ) from None
    with site:
        yield


def _build(config: Config, now: datetime, send: bool) -> RunReport:
    report = RunReport()
    store = Store.open(config.storage)
    try:
        with store.errors_named(), store.run_lock(now):
            if send and config.delivery.method == "smtp":
                _retry_queue(config, store, report, now)
            with serving(config), Fetcher(config.fetch) as fetcher:
                ingested = ingest(config, store, fetcher, now)
            log.info(
                "fetched %d feeds (%d unchanged, %d failed), %d new articles",
                ingested.feeds_fetched, ingested.feeds_not_modified,
                len(ingested.feeds_failed), ingested.new_articles,
            )  # fmt: skip
            report.feeds_fetched = ingested.feeds_fetched
            report.feeds_not_modified = ingested.feeds_not_modified
            report.feeds_failed = ingested.feeds_failed
            report.articles_new = ingested.new_articles
            report.skipped = ingested.skipped
            report.warnings = ingested.warnings
            store.record_problems(ingested.skipped, now)
            if send:
                alerted = send_alerts(config, store, now)
                if alerted and config.alerts is not None:
                    report.warnings.append(
                        f"alert sent to {config.alerts.to}: failing for "
                        f"{config.alerts.after} or more: {', '.join(alerted)}"
                    )
            store.expire(now - config.window)
            digest, joined = _assemble(config, store, now)
            report.articles_joined_delivered = joined
            report.digest = digest
            log.info(
                "%d items to send, %d late reports joined delivered stories",
                len(digest.items) if digest else 0, joined,
            )  # fmt: skip
            if send and digest is not None:
                _send(config, store, digest, report, now)
            report.pending_left = store.count("pending")
            store.prune(now)
    finally:
        store.close()
    return report


def _assemble(config: Config, store: Store, now: datetime) -> tuple[Digest | None, int]:
    """Cluster pending articles with recently delivered ones and rank the new stories."""
    feeds = {feed.name: feed for feed in config.feeds}
    # Delivered stories stay joinable longer than the window: an outlet that covers a story
    # days later must join it, not send it again.
    horizon = max(config.window, JOIN_HORIZON)
    articles = store.articles(("pending",), since=now - config.window) + store.articles(
        ("delivered", "joined"), since=now - horizon
    )
    for article in articles:
        feed = feeds.get(article.feed)
        if feed is not None:
            article.weight = feed.weight
            article.section = feed.section
    # A feed's own filters drop its articles before they can join or form a story.
    pending = [
        a
        for a in articles
        if a.story_id is None
        and (
            (feed := feeds.get(a.feed)) is None
            or passes([f"{a.title}\n{a.text}"], feed.include, feed.exclude)
        )
    ]
    delivered = [a for a in articles if a.story_id is not None]
    # Late reports join delivered stories first; only what joins none forms new stories.
    late, pending = join_delivered(pending, delivered)
    by_story: dict[int, list[int]] = {}
    for article_id, story_id in late.items():
        by_story.setdefault(story_id, []).append(article_id)
    joined = sum(store.join_story(story, ids) for story, ids in by_story.items())
    fresh = filter_clusters(cluster_articles(pending), config.include, config.exclude)
    weights = {name: feed.weight for name, feed in feeds.items()}
    items = rank_clusters(fresh, weights, config.max_items)
    if not items:
        return None, joined
    digest = Digest(
        title=config.title,
        created=now,
        items=tuple(items),
        timezone=config.timezone,
        language=config.language,
        sections=tuple(dict.fromkeys(f.section for f in config.feeds if f.section)),
    )
    return digest, joined


def render_email(config: Config, digest: Digest) -> RenderedDigest:
    """The email as `run` sends it: subject pattern, archive and unsubscribe links."""
    unsubscribe = config.delivery.unsubscribe
    # The footer links the web form when there is one; a mailto: is the fallback.
    footer = next((u for u in unsubscribe if not u.lower().startswith("mailto:")), "")
    links = email_links(config.archive, digest.created, footer or next(iter(unsubscribe), ""))
    return render_digest(
        digest,
        config.templates,
        feed_count=len(config.feeds),
        subject=config.delivery.subject,
        links=links,
        show_why=config.show_why,
    )


def _archive(config: Config, digest: Digest, subject: str, report: RunReport) -> None:
    """Write the delivered digest to the web archive; a failure here is a warning only."""
    if config.archive is None:
        return
    try:
        page = render_digest(
            digest, config.templates, feed_count=len(config.feeds), links=page_links(), web=True
        )
        write_archive(config.archive, digest, page.html, subject)
    except DigestError as error:
        log.warning("%s", error)
        report.warnings.append(str(error))


def _send(config: Config, store: Store, digest: Digest, report: RunReport, now: datetime) -> None:
    rendered = render_email(config, digest)
    settings = config.delivery
    try:
        delivery = deliver(rendered, settings, config.language, now)
    except DeliveryError as error:
        error.report = report
        store.record_failed_delivery(
            rendered.subject,
            len(digest.items),
            settings.method,
            settings.recipients,
            str(error),
            now,
        )
        raise
    store.record_delivery(
        rendered.subject,
        digest.items,
        settings.method,
        delivery.recipients,
        delivery.detail,
        now,
        delivery.refused,
        delivery.deferred,
    )
    # += and update: the queue retried at the start of the run may have reported already.
    report.delivered_to += delivery.recipients
    report.deferred.update({r: why for r, (why, _) in delivery.deferred.items()})
    report.refused.update(delivery.refused)
    report.outbox_files = list(delivery.files)
    _archive(config, digest, rendered.subject, report)


def _retry_queue(config: Config, store: Store, report: RunReport, now: datetime) -> None:
    """Send again what a recipient refused for now in an earlier run."""
    queued = store.queued_messages()
    if not queued:
        return
    try:
        outcome = send_each(config.delivery, queued)
    except DeliveryError as error:
        log.warning("queued messages wait: %s", error)
        outcome = SendOutcome(deferred={key: str(error) for key, _, _ in queued})
    recipient = {key: rcpt for key, rcpt, _ in queued}
    gave_up = store.settle_queue(outcome.accepted, outcome.refused, outcome.deferred, now)
    report.delivered_to += [recipient[key] for key in outcome.accepted]
    report.refused.update({recipient[key]: why for key, why in outcome.refused.items()})
    report.deferred.update({recipient[key]: why for key, why in outcome.deferred.items()})
    for address in gave_up:
        report.refused[address] = f"gave up after {QUEUE_LIMIT.days} days of temporary refusals"


def reactivate(config: Config, names: Sequence[str] = ()) -> list[str]:
    """Fetch these feeds (all, when no name is given) again on the next run, although they
    answered 410 Gone or are backing off. Returns the names of the feeds woken up."""
    known = {feed.name: feed.url for feed in config.feeds}
    unknown = [name for name in names if name not in known]
    if unknown:
        raise DigestError(f"{config.path}: no feed named {unknown[0]!r}; feeds: {', '.join(known)}")
    urls = [known[name] for name in names] if names else list(known.values())
    store = Store.open(config.storage)
    try:
        with store.errors_named():
            woken = set(store.reactivate_feeds(urls))
    finally:
        store.close()
    return [name for name, url in known.items() if url in woken]


@dataclass(frozen=True)
class FeedCheck:
    name: str
    url: str
    ok: bool
    detail: str  # "12 entries" or the reason it failed


def check(config: Config) -> list[FeedCheck]:
    """Fetch and parse every feed (no state read or written); one verdict per feed."""
    now = datetime.now(UTC)
    results = []
    with serving(config), Fetcher(config.fetch) as fetcher:
        requests = [FetchRequest(feed.url, accept=FEED_ACCEPT) for feed in config.feeds]
        for feed, outcome in zip(config.feeds, fetcher.fetch_many(requests), strict=True):
            if isinstance(outcome, FetchError):
                results.append(FeedCheck(feed.name, feed.url, False, outcome.reason))
                continue
            parsed = parse_fetched(outcome, feed.name, now)
            if isinstance(parsed, str):
                results.append(FeedCheck(feed.name, feed.url, False, parsed))
                continue
            detail = f"{len(parsed.entries)} entries"
            if parsed.warning:
                detail += f" ({parsed.warning})"
            results.append(FeedCheck(feed.name, feed.url, True, detail))
    return results


@dataclass(frozen=True)
class PageReport:
    """What the pipeline keeps of one page (`digest extract`)."""

    source: str
    url: str | None
    title: str | None
    author: str | None
    date: datetime | None
    language: str | None
    text: str
    removed: tuple[RemovedBlock, ...]


def extract(source: str, *, timeout: float = 20.0) -> PageReport:
    """Extract and clean one page given as a URL or a path (.html or .html.gz)."""
    if re.match(r"^[A-Za-z][\w+.-]*://", source):
        with Fetcher(FetchSettings(timeout=timeout)) as fetcher:
            fetched = fetcher.fetch(FetchRequest(source))
        raw, url = fetched.body or b"", fetched.final_url
    else:
        path = Path(source)
        try:
            raw = path.read_bytes()
        except OSError as error:
            raise FetchError(source, f"cannot read: {error.strerror or error}") from None
        if path.suffix == ".gz":
            try:
                raw = gzip.decompress(raw)
            except (OSError, EOFError, zlib.error) as error:
                raise FetchError(source, f"not a valid gzip file: {error}") from None
        url = path.resolve().as_uri()
    page = extract_page(raw, url)
    cleaned = clean_page(page, LanguageDetector())
    return PageReport(
        source=source,
        url=page.canonical_url,
        title=page.title,
        author=page.author,
        date=page.published,
        language=cleaned.language or page.language,
        text=cleaned.text,
        removed=cleaned.removed,
    )
