"""Plain data passed from one pipeline stage to the next.

fetch -> FetchResult; parse -> FeedEntry; extract -> ExtractedPage; clean -> CleanedText;
the runner joins entry and text into Article; cluster -> Cluster; rank -> DigestItem;
render -> RenderedDigest; deliver -> Delivery. Failures of one input are `Skipped` values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta


@dataclass(frozen=True)
class FetchResult:
    """What one GET (or file read) gave. `body` is None on 304 Not Modified."""

    url: str
    status: int
    body: bytes | None
    final_url: str
    etag: str | None = None
    last_modified: str | None = None
    content_type: str | None = None
    moved_to: str | None = None  # where an unbroken chain of 301/308 redirects ended
    # The body's Content-Encoding when it is kept as sent (FetchRequest.keep_encoding):
    # digest.feeds.decode_body gives the page.
    content_encoding: str | None = None
    # A feed's own fetch: the addresses its answer came from, when on the feed's own origin.
    # Its links may use them (a private address too); a digest that reads the feed from the
    # store's pool trusts these, never what the name resolves to by then.
    home_addresses: tuple[str, ...] = ()
    # Each hop's (origin, address it was answered from), redirects included: whether a page
    # another digest of the store fetched may stand for this digest's own fetch of it
    # (Fetcher.may_reuse), which its address policy might have refused.
    peers: tuple[tuple[str, str], ...] = ()

    @property
    def not_modified(self) -> bool:
        return self.status == 304


@dataclass(frozen=True)
class Skipped:
    """One input the run could not use, and why. Kept in the report and the store.

    `stage` is "feed" (the feed gave nothing this run), "entry" (one item of a feed was
    unusable), "page" (an article page failed; the feed's own text was used instead) or
    "robots" (a site's robots.txt could not be read). This is the one way a failure of one
    input travels: fetching, parsing and page work return it as a value, never raise.
    """

    stage: str
    target: str  # the feed URL, or the page URL
    reason: str
    feed: str | None = None  # the feed's configured name
    status: int | None = None  # the HTTP status, where a server answered
    retry_after: float | None = None  # seconds a 429/503 asked us to wait
    blocked: bool = False  # the private-network policy refused the address: nothing sent

    def __str__(self) -> str:
        if self.stage == "page":
            return f"page {self.target} (feed {self.feed!r}): {self.reason}; used the feed's text"
        if self.stage == "entry":
            return f"feed {self.feed!r} ({self.target}): entry skipped: {self.reason}"
        return f"feed {self.feed!r} ({self.target}): {self.reason}"


@dataclass(frozen=True)
class FeedEntry:
    """One item of a feed, normalised across RSS, Atom and JSON Feed."""

    feed: str  # the feed's configured name
    guid: str
    link: str  # the article URL as the feed gives it
    url: str  # canonical form of `link`, the article's identity
    title: str
    summary: str  # plain text
    content: str  # plain text of the full content the feed carries, or ""
    published: datetime | None
    author: str | None = None


@dataclass(frozen=True)
class PooledPage:
    """A page another digest of the store fetched, extracted and cleaned (store's pool)."""

    page: ExtractedPage
    cleaned: CleanedText
    peers: tuple[tuple[str, str], ...]  # as FetchResult.peers; () when not known
    robots: bool  # its fetch obeyed robots.txt


@dataclass(frozen=True)
class Block:
    """One paragraph-level unit of extracted text."""

    text: str
    kind: str = "p"  # "p", "head", "list", "quote", "table"
    link_density: float = 0.0  # share of the text's characters inside links


@dataclass(frozen=True)
class ExtractedPage:
    """trafilatura's view of one article page, split into blocks."""

    url: str
    title: str | None
    author: str | None
    published: datetime | None
    language: str | None  # from the page markup (<html lang>), when it says
    canonical_url: str | None
    blocks: tuple[Block, ...]


@dataclass(frozen=True)
class RemovedBlock:
    text: str
    reason: str  # "language", "position", "promo", "repeated-on-site", ...


@dataclass(frozen=True)
class CleanedText:
    text: str  # kept blocks joined by blank lines
    language: str | None
    kept: tuple[Block, ...]
    removed: tuple[RemovedBlock, ...]


def day_only(moment: datetime) -> bool:
    """Whether `moment` stands for a day written without its time: feeds and pages that
    give only the day are read as midnight UTC, and a time of exactly midnight is as good
    as never written. Such a moment is shown as its day, never as a time of day."""
    return moment.astimezone(UTC).time() == time(0, 0)


def latest_moment(moment: datetime) -> datetime:
    """The latest `moment` can stand for: the end of its day when it is `day_only`. An
    outlet that gave only the day may have published any time that day."""
    return moment + timedelta(days=1) - timedelta(microseconds=1) if day_only(moment) else moment


@dataclass
class Article:
    """An article ready for clustering: feed entry + the best text we have for it."""

    id: int  # store row id
    feed: str  # the feed's configured name: its weight and section come from the config
    url: str
    title: str
    text: str
    published: datetime
    author: str | None = None
    language: str | None = None
    text_source: str = "page"  # "page", "feed-content", "feed-summary"
    story_id: int | None = None  # set when the article belongs to a delivered story


@dataclass(frozen=True)
class Cluster:
    """Articles that report one event. `story_id` is set when it joins a delivered story."""

    articles: tuple[Article, ...]
    story_id: int | None = None
    why: tuple[str, ...] = ()  # the shared names, figures and terms that tied them


@dataclass(frozen=True)
class SourceArticle:
    """One piece an outlet published on an item's event."""

    url: str
    title: str
    published: datetime
    language: str | None = None  # detected from its text, as Article.language


@dataclass(frozen=True)
class Source:
    """One outlet of an item: its piece shown first (url, title, published), and in
    `articles` every piece it published on the event, that one first, so that a follow-up
    or a second piece merged into the item is listed, never hidden."""

    name: str
    url: str
    title: str
    published: datetime
    articles: tuple[SourceArticle, ...] = ()


@dataclass(frozen=True)
class DigestItem:
    headline: str
    url: str
    summary: str
    language: str | None
    section: str | None
    sources: tuple[Source, ...]
    article_ids: tuple[int, ...]
    why: tuple[str, ...] = ()  # see Cluster.why; empty for one source
    first_reported: Source | None = None  # the earliest source of all the item's articles


@dataclass(frozen=True)
class SentStory:
    """A story as an earlier digest sent it."""

    id: int  # store row id
    headline: str
    url: str
    sent: datetime  # when the digest that carried it was made
    language: str | None = None  # its headline's (the language of the article it came from)


@dataclass(frozen=True)
class FollowUp:
    """Reports that came in after an earlier digest sent their story. They are not a new
    story (no story twice), but never hidden either: the next digest lists them under the
    story's headline as it was sent, and they count as shown once that digest is staged."""

    story: SentStory
    sources: tuple[Source, ...]  # the new reports, one source per outlet (see Source)
    article_ids: tuple[int, ...]  # the articles of `sources`
    # Late articles that repeat a headline the story already had (a piece published again
    # at another address): marked joined with the others, not listed.
    repeated_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class Digest:
    title: str
    created: datetime
    items: tuple[DigestItem, ...]
    timezone: str = "UTC"
    language: str = "en"
    sections: tuple[str, ...] = ()  # section names in config order
    follow_ups: tuple[FollowUp, ...] = ()  # newest story first

    @property
    def follow_up_count(self) -> int:
        """The late reports the digest lists (repeated pieces are not listed)."""
        return sum(len(follow_up.article_ids) for follow_up in self.follow_ups)


@dataclass(frozen=True)
class RenderedDigest:
    subject: str
    html: str
    text: str


@dataclass
class RunReport:
    """What a run did. `digest` is None when there was nothing new to send."""

    digest: Digest | None = None
    delivered_to: list[str] = field(default_factory=list)  # whom this run's digest reached
    # Whom a digest an earlier run staged and could not send reached with this run (a server
    # that said "try later", a run killed while sending).
    resent_to: list[str] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)  # recipient -> SMTP reply (5xx)
    deferred: dict[str, str] = field(default_factory=dict)  # recipient -> reason; queued
    skipped: list[Skipped] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # recovered problems, e.g. bad XML
    feeds_fetched: int = 0
    feeds_not_modified: int = 0
    # Read from the pool of a store that digests share (docs/scaling.md): fetched by a run
    # within the pool's cycle, so not asked for again by this one.
    feeds_pooled: int = 0
    feeds_failed: list[str] = field(default_factory=list)  # names of feeds that gave nothing
    articles_new: int = 0
    articles_joined_delivered: int = 0
    pending_left: int = 0
    # Pending articles that fell out of the window unsent (Store.expire), those a digest
    # could have taken: said by `digest run` and `digest status`, never dropped unsaid.
    articles_expired: int = 0
    outbox_files: list[str] = field(default_factory=list)
    stages: list[StageTiming] = field(default_factory=list)  # wall and CPU seconds per stage
    # Why a run that came to its end failed (every feed failed, a recipient refused for
    # good), in one line; None when it did its job. `digest run` exits 1 on it, the daemon
    # logs it and `digest status` shows it.
    failure: str | None = None


@dataclass(frozen=True)
class Outgoing:
    """One message in the store's outbox: staged before it is sent, marked sent after.

    `uncertain` is set when an earlier run died between handing the message over and
    recording the answer, so the server may already have it.
    """

    key: str  # the outbox row id
    digest_id: int
    recipient: str
    # The complete message, Message-ID included (a resend is the same bytes); b"" for rows
    # listed from the store, whose bytes are read one at a time (Store.staged_message).
    message: bytes
    message_id: str
    method: str  # "smtp" or "file"
    target: str | None = None  # file method: the outbox path stem
    uncertain: bool = False


@dataclass
class StageTiming:
    stage: str
    wall: float = 0.0  # seconds
    cpu: float = 0.0  # seconds of this process, plus worker processes where they helped
    workers_cpu: float = 0.0  # the worker processes' part of `cpu`
    items: int = 0  # what the stage handled: feeds, pages, articles, digest items


@dataclass(frozen=True)
class Staged:
    """One message to stage: for `recipient`, complete with its Message-ID."""

    recipient: str
    message_id: str
    message: bytes
    method: str = "smtp"
    target: str | None = None


@dataclass(frozen=True)
class FeedState:
    etag: str | None
    last_modified: str | None
    failures: int
    failing_since: str | None
    next_attempt: datetime | None = None  # not fetched before this (backoff, Retry-After)
    gone_since: datetime | None = None  # answered 410 Gone: skipped until reactivated
    moved_to: str | None = None  # fetched here instead: the feed answered 301/308
    last_error: str | None = None
    last_attempt: datetime | None = None
