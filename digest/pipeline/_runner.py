"""The library API: run a digest, preview it, check its feeds, extract one page.

import digest
config = digest.load_config("config/demo.yaml")
report = digest.run(config)        # fetch ... deliver, record; what cron calls
report = digest.preview(config)    # same digest, not delivered, nothing marked sent
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import json
import logging
import re
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from email.utils import parseaddr
from pathlib import Path

from ..cluster import (
    cluster_articles,
    filter_clusters,
    join_delivered,
    passes,
    rank_clusters,
    sources_of,
)
from ..config import Config, FetchSettings
from ..errors import DeliveryError, DigestError, FetchError, Invalid
from ..feeds import FEED_ACCEPT, Fetcher, FetchRequest, parse_fetched
from ..mail import (
    SendOutcome,
    archive_page,
    clipping_warning,
    email_links,
    nothing_delivered,
    page_links,
    personal_link,
    render_digest,
    send_outgoing,
    stage_messages,
    write_archive,
)
from ..models import (
    Article,
    Digest,
    FollowUp,
    Outgoing,
    RemovedBlock,
    RenderedDigest,
    RunReport,
    Skipped,
)
from ..pages import LanguageDetector, clean_page, extract_page
from ..store import QUEUE_LIMIT, Store
from ..text import duration_text, first_few, plural, printable
from ._alerts import send_alerts
from ._demo_site import serve_root
from ._ingest import ingest, split_by_window
from ._outcome import run_failure
from ._pool import local_workers, run_start_method
from ._stored_terms import terms_of
from ._timing import StageTimer

log = logging.getLogger("digest")
JOIN_HORIZON = timedelta(days=7)
# Reasons listed in the one-line failure of a digest nobody has, before a count of the rest.
REASONS_NAMED = 3


def run(config: Config, *, now: datetime | None = None) -> RunReport:
    """Fetch, extract, clean, cluster, rank, render, deliver and record one digest.

    Returns the report; `report.digest` is None when there was nothing new. Raises
    DeliveryError when the digest could not be delivered (its stories stay pending), and
    when a digest in the outbox reached no recipient, every one refused for now (it is
    sent again by the next run).
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
        site = serve_root(config.serve.root, config.serve.port)
    except OSError as error:
        raise DigestError(
            f"{config.path}: serve: cannot listen on 127.0.0.1:{config.serve.port}: "
            f"{error.strerror or error}; set serve.port to a free port"
        ) from None
    with site:
        yield


def _build(config: Config, now: datetime, send: bool) -> RunReport:
    report = RunReport()
    timer = StageTimer(report.stages)
    store = Store.open(config.storage, config.id)
    try:
        locked = store.run_lock(now, preview=not send, config=config.path)
        with store.errors_named(), locked as run_id:
            if send:
                _retry_outbox(config, store, report, now)
            with serving(config), Fetcher(config.fetch) as fetcher:
                ingested = ingest(config, store, fetcher, now, timer)
            # A feed read from the store's pool was fetched by a run of another digest (or
            # an earlier one) within the pool's cycle: this run did not ask for it.
            pooled = ingested.feeds_pooled
            # Three counts side by side: "fetched 1 feed (1 unchanged, ...)" read as if the
            # feed fetched was the unchanged one.
            log.info(
                "feeds: %d fetched, %d unchanged, %d failed%s; %s",
                ingested.feeds_fetched, ingested.feeds_not_modified,
                len(ingested.feeds_failed),
                f", {pooled} read from the store's pool" if pooled else "",
                plural(ingested.new_articles, "new article"),
            )  # fmt: skip
            report.feeds_fetched = ingested.feeds_fetched
            report.feeds_not_modified = ingested.feeds_not_modified
            report.feeds_pooled = pooled
            report.feeds_failed = ingested.feeds_failed
            report.articles_new = ingested.new_articles
            report.skipped = ingested.skipped
            report.warnings += ingested.warnings
            store.record_problems(ingested.skipped, now)
            if send:
                alerted = send_alerts(config, store, now)
                if alerted and config.alerts is not None:
                    report.warnings.append(
                        f"alert sent to {config.alerts.to}: failing for "
                        f"{duration_text(config.alerts.after)} or more: {', '.join(alerted)}"
                    )
            _expire(config, store, report, now)
            # Pending articles beyond the last digest's watermark: new ones, and the stories
            # `max_items` held back from it (Store.stage_digest), so a quiet spell still sends
            # them instead of letting them expire.
            eligibility = eligibility_of(config)
            if ingested.new_articles or store.pending_since_last_digest(eligibility):
                weighed = _weigh(config, store, now, timer)
            else:
                # Every pending article was already weighed for the last digest sent, and
                # none was held back by the cap: the same articles would make the same choice,
                # so skip reading and clustering.
                weighed = _Weighed(None, 0, (), weighed=False)
                log.info("nothing came in since the last digest")
            digest, joined = weighed.digest, weighed.joined
            report.articles_joined_delivered = joined
            report.digest = digest
            log.info(
                "%s to send (%s held back by max_items for the next run), %s on stories "
                "sent before, listed as follow-ups",
                plural(len(digest.items) if digest else 0, "item"),
                plural(len(weighed.held_back), "article"), plural(joined, "late report"),
            )  # fmt: skip
            if send and digest is not None:
                _send(config, store, digest, report, now, run_id, timer, weighed.held_back,
                      eligibility)  # fmt: skip
            elif send and weighed.weighed:
                # Not pending for ever: a repeat is not news, nor is it to expire "unsent".
                store.join_repeats(weighed.repeats)
                # Nothing can go out: not weighed again each run, until feeds or filters change.
                store.weighed_all_pending(eligibility)
            # What `digest status` says of the run besides its digest: a digest an earlier run
            # queued and this one sent (not only "nothing new"), the articles it let expire.
            notes = []
            if send and report.resent_to:
                notes.append(f"sent the queued digest to {first_few(report.resent_to)}")
            if send and report.articles_expired:
                notes.append(_expired_line(config, report.articles_expired))
            if notes:
                store.note_run(run_id, "; ".join(notes))
            if not send:
                store.note_run(run_id, _preview_note(digest))
            report.pending_left = store.count("pending")
            # What a later run may still read of the articles' text (see _weigh).
            store.prune(now, max(config.window, JOIN_HORIZON))
            if send and not report.delivered_to and not report.resent_to and not report.refused:
                _raise_if_nobody_has_it(config, store, report)
            if send:
                report.failure = run_failure(config, report)
                if report.failure:
                    store.fail_run(run_id, "; ".join([report.failure, *notes]))
    finally:
        store.close()
    return report


def _expire(config: Config, store: Store, report: RunReport, now: datetime) -> None:
    """Expire the pending articles out of the window (Store.expire) and say how many could
    have gone out: one warning line naming the first few. Those no digest could take (a
    feed's filters or the digest's refuse them, their feed is no longer in the config)
    expire unsaid: they were never to be sent. (The digest's `include` holds for a story
    as a whole; an article is judged here by its own text, so a story let in by another
    of its articles may expire unsaid, never the reverse.)"""
    start = now - config.window
    feeds = {feed.name: feed for feed in config.feeds}
    unsent = [
        a
        for a in store.expiring(start)
        if (feed := feeds.get(a.feed)) is not None
        and passes([f"{a.title}\n{a.text}"], feed.include, feed.exclude)
        and passes([f"{a.title}\n{a.text}"], config.include, config.exclude)
    ]
    store.expire(start)
    report.articles_expired = len(unsent)
    if not unsent:
        return
    named = first_few([f"{a.feed}: {a.title}" for a in unsent], "; ")
    warning = f"{_expired_line(config, len(unsent))}: {named}"
    log.info("%s", warning)  # in the report's warnings, which `run` prints
    report.warnings.append(warning)


def _expired_line(config: Config, count: int) -> str:
    window = duration_text(config.window)
    return f"{plural(count, 'article')} fell out of the {window} window unsent"


def _raise_if_nobody_has_it(config: Config, store: Store, report: RunReport) -> None:
    """A digest staged in the outbox that no recipient has, every message refused for now
    (4xx, no connection), makes the run fail (exit 1) although it waits to be sent again:
    nobody got anything. A refusal for good already fails the run, and a message the server
    may hold (cut off after its end) counts as delivered."""
    waiting = store.waiting_for_everyone()
    if not waiting:
        return
    settings = config.delivery
    where = (
        f"SMTP {settings.host}:{settings.port}"
        if settings.method == "smtp"
        else f"outbox {settings.outbox}"
    )
    by_reason: dict[str, list[str]] = {}
    for recipient, reason in waiting.items():
        by_reason.setdefault(reason, []).append(recipient or "the .html and .txt copies")
    # One line however many recipients wait: the first few of each of the first few reasons
    # (a server's reply may name its recipient: one reason each), then a count.
    groups = list(by_reason.items())
    listed = "; ".join(
        f"{first_few(names)} deferred ({reason})" for reason, names in groups[:REASONS_NAMED]
    )
    others = sum(len(names) for _, names in groups[REASONS_NAMED:])
    if others:
        listed += f"; {others:,} more deferred for other reasons"
    messages = "its message waits" if len(waiting) == 1 else "its messages wait"
    error = DeliveryError(
        f"{where}: no recipient has the digest yet: {listed}; {messages} in the outbox and "
        f"{'is' if len(waiting) == 1 else 'are'} sent again on the next run, for up to "
        f"{QUEUE_LIMIT.days} days"
    )
    error.report = report
    raise error


def _preview_note(digest: Digest | None) -> str:
    """What `digest status` shows of a preview."""
    if digest is None:
        return "showed nothing new"
    items = len(digest.items)
    sources = sum(len(item.sources) for item in digest.items)
    late = digest.follow_up_count
    follow_ups = f" and {plural(late, 'follow-up')}" if late else ""
    return f"showed {plural(items, 'item')} ({plural(sources, 'source')}){follow_ups}, not sent"


@dataclass(frozen=True)
class _Weighed:
    """What weighing the pending articles gave: the digest (None: nothing can go out), how
    many late reports on stories sent before it lists as follow-ups, and the ids of the
    articles of the stories `max_items` left out of the digest (sent by the runs that
    follow)."""

    digest: Digest | None
    joined: int
    held_back: tuple[int, ...]
    weighed: bool = True  # False: skipped, nothing came in since the last digest
    # (story id, article id) of the pieces an outlet published again, when no digest goes
    # out (a digest records them as it is staged): recorded with their stories at once.
    repeats: tuple[tuple[int, int], ...] = ()


def _assemble(
    config: Config, store: Store, now: datetime, timer: StageTimer | None = None
) -> tuple[Digest | None, int]:
    """Cluster pending articles with recently delivered ones and rank the new stories."""
    weighed = _weigh(config, store, now, timer)
    return weighed.digest, weighed.joined


def eligibility_of(config: Config) -> str:
    """A fingerprint of what decides which pending articles the digest may take: the feeds
    in the config (a feed taken out holds its articles back) and the feeds' and the digest's
    filters. Kept with the digest's watermark (Store.pending_since_last_digest)."""
    chosen = {
        "feeds": sorted([f.name, list(f.include), list(f.exclude)] for f in config.feeds),
        "include": list(config.include),
        "exclude": list(config.exclude),
    }
    return hashlib.sha256(json.dumps(chosen, sort_keys=True).encode()).hexdigest()[:16]


def _weigh(
    config: Config, store: Store, now: datetime, timer: StageTimer | None = None
) -> _Weighed:
    """`_assemble`, and which articles the cap left out."""
    timer = timer or StageTimer()
    feeds = {feed.name: feed for feed in config.feeds}
    # Delivered stories stay joinable longer than the window: an outlet that covers a story
    # days later must join it, not send it again.
    horizon = max(config.window, JOIN_HORIZON)
    with timer.stage("cluster") as timing:
        # What is pending is within the window: `_expire` (before this) counts it from when
        # each article was first stored too, not only from its publication.
        articles = store.articles(("pending",), since=None)
        articles += store.articles(("delivered", "joined"), since=now - horizon)
        # A feed's own filters drop its articles before they can join or form a story, and
        # a feed taken out of the config sends nothing more (its articles stay in the store,
        # pending, should it come back).
        pending = [
            a
            for a in articles
            if a.story_id is None
            and (feed := feeds.get(a.feed)) is not None
            and passes([f"{a.title}\n{a.text}"], feed.include, feed.exclude)
        ]
        orphans = sorted({a.feed for a in articles if a.story_id is None and a.feed not in feeds})
        if orphans:
            log.warning(
                "held back: articles of %s, no longer in %s (kept, should it come back)",
                ", ".join(map(repr, orphans)),
                config.path,
            )
        delivered = [a for a in articles if a.story_id is not None]
        # Late reports join delivered stories first; only what joins none forms new stories.
        # Terms once for both steps (in worker processes for a big batch, as pages are), and
        # only for articles whose terms no earlier run stored.
        batch = terms_of(
            store,
            [*pending, *delivered],
            now - horizon,
            local_workers(config.workers),
            run_start_method(),
        )
        timing.cpu += batch.workers_cpu
        timing.workers_cpu += batch.workers_cpu
        row_of = {a.id: row for row, a in enumerate(pending)}
        late, pending_after = join_delivered(pending, delivered, batch)
        # The digest's own filters hold for late reports too (the story passed `include`).
        reported = [
            a
            for a in pending
            if a.id in late and passes([f"{a.title}\n{a.text}"], (), config.exclude)
        ]
        follow_ups = _follow_ups(store, reported, late, delivered)
        pending = pending_after
        clusters = cluster_articles(
            pending,
            batch.rows([row_of[a.id] for a in pending]),
            local_workers(config.workers),
            start_method=run_start_method(),  # not fork: the run has threads (_pool.py)
        )
        fresh = filter_clusters(clusters, config.include, config.exclude)
        timing.items = len(articles)
    with timer.stage("rank") as timing:
        weights = {name: feed.weight for name, feed in feeds.items()}
        sections = {name: feed.section for name, feed in feeds.items()}
        caps = {name: feed.max_items for name, feed in feeds.items() if feed.max_items}
        items = rank_clusters(
            fresh,
            weights,
            config.max_items,
            feed_sections=sections,
            feed_caps=caps,
            fair_share=config.fair_share,
        )
        timing.items = len(items)
    chosen = {article_id for item in items for article_id in item.article_ids}
    held_back = tuple(a.id for cluster in fresh for a in cluster.articles if a.id not in chosen)
    joined = sum(len(follow_up.article_ids) for follow_up in follow_ups)
    if not items and not joined:  # repeated pieces alone are no reason to send a digest
        repeats = tuple((f.story.id, i) for f in follow_ups for i in f.repeated_ids)
        return _Weighed(None, joined, held_back, repeats=repeats)
    digest = Digest(
        title=config.title,
        created=now,
        items=tuple(items),
        timezone=config.timezone,
        language=config.language,
        sections=tuple(dict.fromkeys(f.section for f in config.feeds if f.section)),
        follow_ups=follow_ups,
    )
    return _Weighed(digest, joined, held_back)


def _follow_ups(
    store: Store, late: Sequence[Article], story_of: dict[int, int], sent: Sequence[Article]
) -> tuple[FollowUp, ...]:
    """The late reports that joined stories sent before (`sent`: those stories' articles),
    grouped by story, newest story first. Listed in the digest, they are marked joined when
    it is staged. A report by an outlet (feed) that already has an article with its headline
    in the story is that outlet publishing the same piece again at another address: marked
    with them but not listed, it says nothing new. Another outlet's piece under the same
    headline (wire copy) is listed like any late report: that outlet now covers the story,
    and it is shown nowhere else."""
    by_story: dict[int, list[Article]] = {}
    for article in late:
        by_story.setdefault(story_of[article.id], []).append(article)
    stories = store.sent_stories(by_story)
    headlines: dict[int, set[tuple[str, str]]] = {}
    for article in sent:
        if article.story_id is not None:
            headlines.setdefault(article.story_id, set()).add(_repeat_key(article))
    follow_ups = []
    for story_id, articles in by_story.items():
        story = stories.get(story_id)
        if story is None:  # a story no longer in the state: the reports are news again
            continue
        known = headlines.get(story_id, set())
        new = [a for a in articles if _repeat_key(a) not in known]
        repeated = tuple(a.id for a in articles if _repeat_key(a) in known)
        follow_ups.append(FollowUp(story, sources_of(new), tuple(a.id for a in new), repeated))
    return tuple(sorted(follow_ups, key=lambda f: (f.story.sent, f.story.id), reverse=True))


def _repeat_key(article: Article) -> tuple[str, str]:
    """What makes a piece the same one again: its outlet and its headline (case, spacing
    and unprintable characters aside: a headline stored before printable() dropped bidi
    controls is the same headline)."""
    return article.feed, " ".join(printable(article.title).casefold().split())


def clipped_email_warning(config: Config, digest: Digest, rendered: RenderedDigest) -> str:
    """The warning of `rendered`, the email of `digest`, when Gmail would clip it, with what
    the operator can do (clipped_advice); "" when it would not."""
    clipped = clipping_warning(rendered)
    return clipped_advice(clipped, config.max_items, digest.follow_up_count) if clipped else ""


def clipped_advice(clipped: str, max_items: int, follow_ups: int) -> str:
    """The warning of an email Gmail clips, with what the operator can do: max_items caps
    the items, not the follow-ups, so a digest of many says so."""
    advice = f"{clipped}; lower max_items (now {max_items})"
    if follow_ups:
        are = "is" if follow_ups == 1 else "are"
        advice += (
            f"; its {plural(follow_ups, 'late report')} on stories sent before {are} not "
            "capped by it"
        )
    return advice


def render_email(config: Config, digest: Digest, *, preview: bool = False) -> RenderedDigest:
    """The email as `run` sends it: subject pattern, archive and unsubscribe links. With
    `preview`, as its first recipient would get it ({recipient} filled in), and without the
    link to its archive page, which only a run writes."""
    unsubscribe = config.delivery.unsubscribe
    # The footer links the web form when there is one; a mailto: is the fallback.
    footer = next((u for u in unsubscribe if not u.lower().startswith("mailto:")), "")
    links = email_links(config.archive, digest.created, footer or next(iter(unsubscribe), ""))
    if preview:
        reader = personal_link(links.unsubscribe, config.delivery.recipients[0])
        links = replace(links, archive_page="", unsubscribe=reader)
    return render_digest(
        digest,
        config.templates,
        subject=config.delivery.subject,
        links=links,
        show_why=config.show_why,
    )


def _archive_record(config: Config, digest: Digest, subject: str) -> str | None:
    """What the digest's archive page needs, kept with the staged digest: the run that
    sends its first message may be a later one (this one dies), without the digest."""
    if config.archive is None:
        return None
    return archive_page(digest, render_page(config, digest).html, subject)


def render_page(config: Config, digest: Digest) -> RenderedDigest:
    """The digest's archive page as a run renders it: no unsubscribe link, no preheader."""
    return render_digest(digest, config.templates, links=page_links(), web=True)


def _archive_staged(config: Config, store: Store, report: RunReport) -> None:
    """Write the archive pages of the digests a server took a message of and whose page is
    not written yet: the one this run just sent, one an earlier run staged and died before
    sending, one whose page could not be written then. A failure is a warning only (the
    digest was delivered); the page is tried again by the next run."""
    if config.archive is None:
        return
    for digest_id, page in store.archive_due():
        try:
            write_archive(config.archive, page)
        except DigestError as error:
            log.info("%s", error)  # in the report's warnings, which `run` prints
            report.warnings.append(str(error))
            return
        store.archived(digest_id)


def _send(
    config: Config,
    store: Store,
    digest: Digest,
    report: RunReport,
    now: datetime,
    run_id: int,
    timer: StageTimer,
    held_back: Sequence[int] = (),
    eligibility: str = "",
) -> None:
    """Stage the digest's messages in the outbox, then send them (see digest/store/_outbox.py).
    `held_back`: the articles `max_items` left out, weighed again by the next run;
    `eligibility`: the feeds and filters they were weighed under (`eligibility_of`)."""
    with timer.stage("render") as timing:
        rendered = render_email(config, digest)
        timing.items = len(digest.items)
    if clipped := clipped_email_warning(config, digest, rendered):
        report.warnings.append(clipped)
    settings = config.delivery
    with timer.stage("deliver") as timing:
        staged = stage_messages(rendered, settings, config.language, now)
        digest_id, outgoing = store.stage_digest(
            rendered.subject, digest.items, staged, run_id, now, digest.follow_ups,
            archive=_archive_record(config, digest, rendered.subject), held_back=held_back,
            eligibility=eligibility,
        )  # fmt: skip
        outcome = _send_and_report(config, store, outgoing, report, report.delivered_to)
        # What reached a server or the outbox folder, not what was staged: a run whose
        # sending failed says "0 accepted messages". The outbox's copy of the digest for
        # reading (.html/.txt, no recipient) is no message.
        addressed = {m.key for m in outgoing if m.recipient}
        timing.items = len(addressed.intersection(outcome.accepted))
    if outcome.accepted:
        accepted = set(outcome.accepted)
        for message in outgoing:
            if message.method == "file" and message.key in accepted:
                target = message.target or ""
                copies = [target + ".html", target + ".txt"] if message.recipient == "" else []
                report.outbox_files += copies or [target]
        with timer.stage("archive"):
            _archive_staged(config, store, report)
        return
    recipient = {m.key: m.recipient for m in outgoing}
    summary = nothing_delivered(settings, outcome, recipient)
    # Nothing reached a server: unstage, so the stories join the next digest instead.
    if store.cancel_digest(digest_id, summary, datetime.now(UTC)):
        for key in outcome.deferred:
            report.deferred.pop(recipient[key], None)
        error = DeliveryError(summary)
        error.report = report
        raise error


class _OutboxJournal:
    """Writes each message's fate to the store the moment it is known."""

    def __init__(self, store: Store):
        self.store = store

    def sending(self, message: Outgoing) -> None:
        self.store.mark_sending(message.key, datetime.now(UTC))

    def sent(self, message: Outgoing, reply: str) -> None:
        self.store.mark_sent(message.key, reply, datetime.now(UTC))

    def refused(self, message: Outgoing, reply: str) -> None:
        self.store.mark_refused(message.key, reply, datetime.now(UTC))

    def deferred(self, message: Outgoing, reason: str) -> None:
        self.store.mark_deferred(
            message.key, reason, datetime.now(UTC), uncertain=message.uncertain
        )


def _send_and_report(
    config: Config, store: Store, outgoing: list[Outgoing], report: RunReport, sent_to: list[str]
) -> SendOutcome:
    """Send outbox rows (each one's bytes read from the store just before it goes out); the
    recipients whose message was accepted go on `sent_to` (the report's list for this run's
    digest, or for an earlier run's copies), once each."""
    outcome = send_outgoing(
        config.delivery,
        outgoing,
        _OutboxJournal(store),
        load=lambda message: store.staged_message(message.key),
    )
    recipient = {m.key: m.recipient for m in outgoing}
    listed = set(sent_to)  # a digest may go to thousands
    for key in outcome.accepted:
        if recipient[key] and recipient[key] not in listed:
            sent_to.append(recipient[key])
            listed.add(recipient[key])
    report.refused.update({recipient[key]: why for key, why in outcome.refused.items()})
    report.deferred.update({recipient[key]: why for key, why in outcome.deferred.items()})
    for key in outcome.uncertain & set(outcome.accepted):
        report.warnings.append(
            f"the connection to the server broke after the end of the message to "
            f"{recipient[key]}; sent again with the same Message-ID in case it was lost"
        )
    return outcome


def _retry_outbox(config: Config, store: Store, report: RunReport, now: datetime) -> None:
    """First send what an earlier run staged and did not get accepted: refused for now, or
    cut off by a crash. Same bytes, same Message-ID, to the recipients still configured.
    Before that, messages answered for good more than `delivery.keep_sent` ago lose their
    bytes (their rows stay), and what a run that died while staging left is dropped."""
    store.drop_unfinished_staging()
    store.prune_outbox(now, config.delivery.keep_sent)
    outgoing = _still_configured(config, store, store.outgoing(), report, now)
    for message in outgoing:
        if message.uncertain and message.method == "smtp":  # a file is just rewritten
            report.warnings.append(
                f"the message {message.message_id} to {message.recipient} was being handed "
                "to the server when an earlier run stopped; sent again with the same "
                "Message-ID (mail stores that drop duplicate Message-IDs keep one)"
            )
    if outgoing:
        log.info("%d message(s) waiting in the outbox", len(outgoing))
        try:
            _send_and_report(config, store, outgoing, report, report.resent_to)
        except DeliveryError as error:
            log.warning("queued messages wait: %s", error)
    _archive_staged(config, store, report)
    for address, reason in store.give_up_expired(now).items():
        report.deferred.pop(address, None)
        report.refused[address] = reason


def _still_configured(
    config: Config, store: Store, outgoing: list[Outgoing], report: RunReport, now: datetime
) -> list[Outgoing]:
    """The waiting messages whose recipient and method the config still has; the others are
    cancelled (a reader taken out of delivery.to gets nothing more), one warning line for
    each reason."""
    settings = config.delivery
    configured = {_address(recipient) for recipient in settings.recipients}
    if settings.method == "file":
        configured.add("")  # the outbox's .html and .txt copies
    kept = []
    dropped: dict[str, list[Outgoing]] = {}
    for message in outgoing:
        if message.method != settings.method:
            why = f"delivery.method of {config.path} is now {settings.method}"
        elif _address(message.recipient) not in configured:
            why = f"no longer in delivery.to of {config.path}"
        else:
            kept.append(message)
            continue
        dropped.setdefault(why, []).append(message)
    for why, messages in dropped.items():
        unstaged = store.cancel_messages([m.key for m in messages], f"cancelled: {why}", now)
        whom = list(dict.fromkeys(m.recipient or "the outbox copies" for m in messages))
        warning = (
            f"{plural(len(messages), 'waiting message')} to {first_few(whom)} cancelled, "
            f"not sent: {why}"
        )
        if unstaged:  # nobody configured had those digests: their stories go out again
            warning += f"; the stories of {plural(unstaged, 'digest')} go to the next one"
        log.info("%s", warning)  # in the report's warnings, which `run` prints
        report.warnings.append(warning)
    return kept


def _address(recipient: str) -> str:
    """The address a recipient is known by (its display name may change)."""
    return (parseaddr(recipient)[1] or recipient).casefold()


def reactivate(config: Config, names: Sequence[str] = ()) -> list[str]:
    """Fetch these feeds (all, when no name is given) again on the next run, although they
    answered 410 Gone or are backing off. Returns the names of the feeds woken up."""
    known = {feed.name: feed.url for feed in config.feeds}
    unknown = [name for name in names if name not in known]
    if unknown:
        raise DigestError(f"{config.path}: no feed named {unknown[0]!r}; feeds: {', '.join(known)}")
    urls = [known[name] for name in names] if names else list(known.values())
    store = Store.open(config.storage, config.id)
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
    detail: str  # "12 entries, 3 outside the 48h window" or the reason it failed
    entries: int = 0  # what the parser returned
    outside_window: int = 0  # of those, dated before the window: a run keeps, not sends, them
    # Read, but not all of it well (the parser's warning: malformed XML entries were
    # recovered from, characters removed). `digest check` marks it "warn", not "ok".
    warning: str | None = None


def check(config: Config) -> list[FeedCheck]:
    """Fetch and parse every feed (no state read or written); one verdict per feed.

    Entries are weighed against the window as a run would on the feed's first fetch (the
    state is not read): undated ones are then no newer than the feed's newest date."""
    now = datetime.now(UTC)
    results = []
    with serving(config), Fetcher(config.fetch) as fetcher:
        requests: dict[str, FetchRequest] = {}
        unreadable: dict[str, str] = {}  # feed name -> why its auth_env/headers_env failed
        for feed in config.feeds:
            try:
                secret = tuple(feed.request_headers().items())
            except Invalid as error:
                unreadable[feed.name] = f"{error} (nothing fetched)"
                continue
            requests[feed.name] = FetchRequest(
                feed.url,
                accept=FEED_ACCEPT,
                stage="feed",
                credentials=secret,
                credentials_for=feed.url,
            )
        fetched = dict(zip(requests, fetcher.fetch_many(list(requests.values())), strict=True))
        for feed in config.feeds:
            if feed.name in unreadable:
                results.append(FeedCheck(feed.name, feed.url, False, unreadable[feed.name]))
                continue
            outcome = fetched[feed.name]
            if isinstance(outcome, Skipped):
                results.append(FeedCheck(feed.name, feed.url, False, outcome.reason))
                continue
            parsed = parse_fetched(outcome, feed.name, now)
            if isinstance(parsed, Skipped):
                results.append(FeedCheck(feed.name, feed.url, False, parsed.reason))
                continue
            split = split_by_window(parsed, now, config.window, True, config.fair_share)
            outside = len(split.outside) + len(split.backlog)
            entries = plural(len(parsed.entries), "entry", "entries")
            detail = f"{entries}, {outside} outside the {duration_text(config.window)} window"
            if split.outside:
                detail += " (a run keeps them; a wider window brings them in)"
            if split.backlog:
                detail += (
                    f" ({len(split.backlog)} undated: on a first run, taken to be listed "
                    "before digest followed the feed and not sent; once the feed is known, a "
                    "new undated entry is dated when first seen)"
                )
            if parsed.dropped:
                # What the parser read but could not use: said, so that "0 entries" after
                # "1 entry recovered" is not a riddle.
                first = parsed.dropped[0].reason
                more = f"; {len(parsed.dropped) - 1} more" if len(parsed.dropped) > 1 else ""
                detail += f"; {len(parsed.dropped)} dropped ({first}{more})"
            warning = parsed.warning
            if warning:
                detail = f"{warning}; {detail}"
            results.append(
                FeedCheck(feed.name, feed.url, True, detail, len(parsed.entries), outside,
                          warning)
            )  # fmt: skip
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
            fetched = fetcher.fetch(FetchRequest(source, html_only=True))
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
