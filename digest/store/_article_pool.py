"""The pool the digests of one store share: each feed's last body and each page extracted and
cleaned, so that configs naming one `storage` fetch a feed once per cycle (FEED_CYCLE) and a
page once, whichever digest asks first. A mixin of `Store`.

The pool is used once the store has a digest with an `id` (`shares_pool`): a store of one
unnamed digest, the default, neither writes nor reads it, and pays nothing for it.

Digests take turns at the pool (`pool_turn`): a run holds it from its first feed request
to its last cleaned page, so a digest starting meanwhile waits, then finds in the pool what
the other fetched. A turn is a lock the holder's death lets go (flock beside a SQLite
file, an advisory lock on PostgreSQL), so a killed run never blocks the others.

Only what was fetched without credentials goes in (a feed's auth_env or headers_env keep
its feed and pages out): what one config may read, another must not get from the pool.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timedelta

from ..errors import StoreError
from ..models import CleanedText, ExtractedPage, FetchResult, PooledPage, RemovedBlock
from ._db import _LOCK_SPACE, StateDB, _iso, in_chunks, maybe_time

log = logging.getLogger("digest")
# Said (an info line: with -v) when another digest's run holds the pool's turn.
_WAITING = (
    "waiting for another digest of this storage: its run is fetching, and the digests of "
    "one storage take turns (what it fetches, this run then reads from the store's pool)"
)
# How long a run waits for its turn at the pool (seconds), and how often it says so.
POOL_PATIENCE = 15 * 60.0
_SAY_WAITING_EVERY = 300.0


def _waited(take: Callable[[], bool], patience: float) -> bool:
    """Try `take` until it succeeds, for `patience` seconds: whether it did. Says it waits
    at once (-v), then every five minutes and on giving up as warnings: a run waiting long is
    a problem to see without -v."""
    if take():
        return True
    log.info(_WAITING)
    started = time.monotonic()
    said = started
    while True:
        time.sleep(0.2)
        if take():
            return True
        waited = time.monotonic() - started
        if waited >= patience:
            log.warning(
                "waited %d s for another digest of this storage to finish fetching: going on "
                "without its turn (a run of it may be stopped or hung: digest status names it)",
                waited,
            )
            return False
        if time.monotonic() - said >= _SAY_WAITING_EVERY:
            said = time.monotonic()
            log.warning("still waiting for another digest of this storage (%d s)", waited)


# A feed fetched by any digest of the store this recently is read from the pool, not
# fetched again: the digests of a cron minute take turns within it.
FEED_CYCLE = timedelta(minutes=15)
# A page extracted this recently is taken from the pool: the same article, announced to
# another digest within a window, is not fetched again. Older pool rows are pruned.
PAGE_MEMORY = timedelta(days=7)
FEED_MEMORY = timedelta(days=2)


class ArticlePool(StateDB):
    """Methods of `Store` on the shared `pool_feeds` and `pool_pages` tables."""

    _shares_pool: bool | None = None

    def shares_pool(self) -> bool:
        """Whether this digest draws on the pool: it has an `id`, or another digest of the
        store has one (a store shared by configs, of which one may be the unnamed digest
        of an older state). Asked once per Store."""
        if self._shares_pool is None:
            named = self.db.execute("SELECT EXISTS (SELECT 1 FROM runs WHERE digest != '')")
            self._shares_pool = bool(self.digest) or bool(named.fetchone()[0])
        return self._shares_pool

    @contextmanager
    def pool_turn(self, patience: float = POOL_PATIENCE) -> Iterator[None]:
        """This run's turn at the pool, waited for while another run of the store has it
        (that run is fetching: its fetches end, each within its timeout), for `patience`
        seconds at most: a run stopped (SIGSTOP) or hung while it had the turn held every
        digest of the store for good. Past that, this run goes on without the turn, as if
        it had the store alone: it may fetch what the other run fetches, and its writes
        to the pool meet the other's, in one order (`remember_blocks`). Nothing to wait for
        in a store of one digest."""
        if not self.shares_pool():
            yield
            return
        if self.path is None:
            key = (_LOCK_SPACE + 2, 0)

            def take() -> bool:
                return bool(self.db.execute("SELECT pg_try_advisory_lock(?, ?)", key).fetchone()[0])

            held = _waited(take, patience)
            try:
                yield
            finally:
                if held:
                    with contextlib.suppress(*self.db.errors):
                        self.db.execute("SELECT pg_advisory_unlock(?, ?)", key)
            return
        path = self.path.with_name(self.path.name + ".pool.lock")
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError as error:
            raise StoreError(
                f"{path}: cannot open the pool lock file: {error.strerror or error}; the "
                "state's folder must be writable"
            ) from None

        def take_file() -> bool:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return False
            except OSError:  # a filesystem without locks: no turns
                return True
            return True

        try:
            _waited(take_file, patience)
            yield
        finally:
            os.close(fd)

    # -- feeds ---------------------------------------------------------------------------

    def pooled_feeds(self, urls: Iterable[str], now: datetime) -> dict[str, FetchResult]:
        """The feeds of `urls` (configured URLs) fetched within FEED_CYCLE before `now`, as
        their fetch gave them."""
        found: dict[str, FetchResult] = {}
        for chunk, marks in in_chunks(urls):
            for row in self.db.execute(
                f"SELECT * FROM pool_feeds WHERE fetched >= ? AND url IN ({marks})",
                (_iso(now - FEED_CYCLE), *chunk),
            ):
                found[row["url"]] = FetchResult(
                    url=row["url"], status=row["status"], body=bytes(row["body"]),
                    final_url=row["final_url"], etag=row["etag"],
                    last_modified=row["last_modified"], content_type=row["content_type"],
                    moved_to=row["moved_to"], home_addresses=tuple(row["addresses"].split()),
                )  # fmt: skip
        return found

    def pool_feed(self, url: str, fetched: FetchResult, now: datetime) -> None:
        """What fetching the feed configured as `url` gave now: a body (kept for the other
        digests), or 304 (the kept body, if the one its validators name, is current)."""
        if fetched.not_modified:
            # The validator the 304 answered: the ETag when there is one.
            column, value = ("etag", fetched.etag) if fetched.etag else (
                "last_modified", fetched.last_modified or "")  # fmt: skip
            # The 304 came from the feed's own address as a 200 would have (a row kept from
            # before the pool kept addresses has none until then).
            addresses = " ".join(fetched.home_addresses)
            self.db.execute(
                f"""UPDATE pool_feeds SET fetched = ?,
                      addresses = CASE WHEN ? = '' THEN addresses ELSE ? END
                    WHERE url = ? AND {column} = ?""",
                (_iso(now), addresses, addresses, url, value),
            )
            return
        self.db.execute(
            """INSERT INTO pool_feeds (url, fetched, status, final_url, etag, last_modified,
                 content_type, moved_to, body, addresses)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT (url) DO UPDATE SET fetched = excluded.fetched,
                 status = excluded.status, final_url = excluded.final_url,
                 etag = excluded.etag, last_modified = excluded.last_modified,
                 content_type = excluded.content_type, moved_to = excluded.moved_to,
                 body = excluded.body, addresses = excluded.addresses""",
            (
                url, _iso(now), fetched.status, fetched.final_url, fetched.etag,
                fetched.last_modified, fetched.content_type, fetched.moved_to,
                fetched.body or b"", " ".join(fetched.home_addresses),
            ),
        )  # fmt: skip

    # -- pages ---------------------------------------------------------------------------

    def pooled_pages(self, urls: Iterable[str], now: datetime) -> dict[str, PooledPage]:
        """The pages of these entry URLs extracted and cleaned within PAGE_MEMORY: what the
        page gave (title, author, date, language), its cleaned text, and where it came from."""
        found: dict[str, PooledPage] = {}
        for chunk, marks in in_chunks(urls):
            for row in self.db.execute(
                f"SELECT * FROM pool_pages WHERE fetched >= ? AND url IN ({marks})",
                (_iso(now - PAGE_MEMORY), *chunk),
            ):
                removed = tuple(RemovedBlock(text, reason) for reason, text in
                                json.loads(row["removed"]))  # fmt: skip
                page = ExtractedPage(
                    url=row["url"], title=row["title"], author=row["author"],
                    published=maybe_time(row["published"]), language=row["page_language"],
                    canonical_url=None, blocks=(),
                )  # fmt: skip
                cleaned = CleanedText(row["text"], row["language"], (), removed)
                peers = tuple((str(o), str(a)) for o, a in json.loads(row["peers"] or "[]"))
                found[row["url"]] = PooledPage(page, cleaned, peers, bool(row["robots"]))
        return found

    def pool_pages(
        self,
        pages: Mapping[str, tuple[ExtractedPage, CleanedText, tuple[tuple[str, str], ...]]],
        robots: bool,
        now: datetime,
    ) -> None:
        """Keep pages extracted and cleaned now, by entry URL, for the other digests: each
        with the peers of its fetch (FetchResult.peers), and whether that obeyed robots.txt."""
        self.db.executemany(
            """INSERT INTO pool_pages (url, fetched, title, author, published, page_language,
                 text, language, removed, peers, robots) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT (url) DO UPDATE SET fetched = excluded.fetched,
                 title = excluded.title, author = excluded.author,
                 published = excluded.published, page_language = excluded.page_language,
                 text = excluded.text, language = excluded.language,
                 removed = excluded.removed, peers = excluded.peers, robots = excluded.robots""",
            (
                (
                    url, _iso(now), page.title, page.author,
                    _iso(page.published) if page.published else None, page.language,
                    cleaned.text, cleaned.language,
                    json.dumps([[r.reason, r.text] for r in cleaned.removed], ensure_ascii=False),
                    json.dumps([list(peer) for peer in peers]), int(robots),
                )
                # by URL: two digests pooling the same pages at once lock them in one order
                for url, (page, cleaned, peers) in sorted(pages.items(), key=lambda pair: pair[0])
            ),
        )  # fmt: skip

    def prune_pool(self, now: datetime) -> None:
        """Forget pages and feed bodies no digest will take from the pool any more."""
        self.db.execute("DELETE FROM pool_pages WHERE fetched < ?", (_iso(now - PAGE_MEMORY),))
        self.db.execute("DELETE FROM pool_feeds WHERE fetched < ?", (_iso(now - FEED_MEMORY),))
