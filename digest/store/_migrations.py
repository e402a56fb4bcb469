"""The state schema as named migrations, applied in order, each once, in its own transaction.

Never edit a migration that has shipped: add the next one. `Store.migrate` records each name
in the `migrations` table when it applies it. The same migrations build a PostgreSQL
store; `migrations_for` swaps in the few statements PostgreSQL reads otherwise.
"""

import re

MIGRATIONS: tuple[tuple[str, str], ...] = (
    (
        "001_initial",
        """
        CREATE TABLE feeds (
            url TEXT PRIMARY KEY, name TEXT NOT NULL, etag TEXT, last_modified TEXT,
            last_status INTEGER, last_error TEXT, last_attempt TEXT, last_success TEXT,
            failures INTEGER NOT NULL DEFAULT 0, failing_since TEXT
        );
        CREATE TABLE stories (
            id INTEGER PRIMARY KEY, headline TEXT NOT NULL, url TEXT NOT NULL,
            created TEXT NOT NULL, digest_id INTEGER NOT NULL REFERENCES digests(id)
        );
        CREATE TABLE articles (
            id INTEGER PRIMARY KEY, url TEXT NOT NULL UNIQUE, feed TEXT NOT NULL,
            guid TEXT NOT NULL, link TEXT NOT NULL, title TEXT NOT NULL, text TEXT NOT NULL,
            text_source TEXT NOT NULL, language TEXT, author TEXT, section TEXT,
            published TEXT NOT NULL, first_seen TEXT NOT NULL, removed TEXT,
            status TEXT NOT NULL DEFAULT 'pending', story_id INTEGER REFERENCES stories(id)
        );
        CREATE INDEX articles_status ON articles (status, published);
        CREATE INDEX articles_guid ON articles (feed, guid);
        CREATE TABLE digests (
            id INTEGER PRIMARY KEY, created TEXT NOT NULL, subject TEXT NOT NULL,
            status TEXT NOT NULL, item_count INTEGER NOT NULL
        );
        CREATE TABLE deliveries (
            id INTEGER PRIMARY KEY, digest_id INTEGER NOT NULL REFERENCES digests(id),
            method TEXT NOT NULL, recipient TEXT NOT NULL, status TEXT NOT NULL,
            detail TEXT, at TEXT NOT NULL
        );
        CREATE TABLE site_blocks (
            host TEXT NOT NULL, fingerprint TEXT NOT NULL, url TEXT NOT NULL,
            seen TEXT NOT NULL, PRIMARY KEY (host, fingerprint, url)
        );
        CREATE TABLE problems (
            id INTEGER PRIMARY KEY, at TEXT NOT NULL, stage TEXT NOT NULL,
            target TEXT NOT NULL, feed TEXT, reason TEXT NOT NULL
        );
        CREATE TABLE runs (
            id INTEGER PRIMARY KEY, pid INTEGER NOT NULL, started TEXT NOT NULL,
            finished TEXT, outcome TEXT
        );
        """,
    ),
    (
        "002_message_queue",
        """
        CREATE TABLE queued_messages (
            id INTEGER PRIMARY KEY, digest_id INTEGER NOT NULL REFERENCES digests(id),
            recipient TEXT NOT NULL, message BLOB NOT NULL, queued TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 1, last_error TEXT,
            status TEXT NOT NULL DEFAULT 'queued'
        );
        CREATE INDEX queued_messages_status ON queued_messages (status);
        """,
    ),
    (
        # A feed that keeps failing waits until `next_attempt` (backoff, Retry-After); one
        # that answered 410 is `gone` until reactivated; a 301/308 is kept in `moved_to`;
        # `alerted` marks the failure episode the operator was already told about.
        "003_feed_health",
        """
        ALTER TABLE feeds ADD COLUMN next_attempt TEXT;
        ALTER TABLE feeds ADD COLUMN gone_since TEXT;
        ALTER TABLE feeds ADD COLUMN moved_to TEXT;
        ALTER TABLE feeds ADD COLUMN alerted TEXT
        """,
    ),
    (
        "004_outbox",
        """
        ALTER TABLE queued_messages ADD COLUMN message_id TEXT;
        ALTER TABLE queued_messages ADD COLUMN method TEXT NOT NULL DEFAULT 'smtp';
        ALTER TABLE queued_messages ADD COLUMN target TEXT;
        ALTER TABLE queued_messages ADD COLUMN sent TEXT;
        CREATE INDEX queued_messages_digest ON queued_messages (digest_id);
        ALTER TABLE digests ADD COLUMN run_id INTEGER REFERENCES runs(id);
        ALTER TABLE runs ADD COLUMN process_start TEXT;
        ALTER TABLE runs ADD COLUMN token TEXT;
        ALTER TABLE runs ADD COLUMN detail TEXT
        """,
    ),
    (
        "005_digest_watermark",
        """
        ALTER TABLE digests ADD COLUMN considered_through INTEGER;
        """,
    ),
    (
        # The site memory is a row per block per page (28 a page on the benchmark's): as a
        # table clustered on its primary key, each row is written once instead of twice
        # (table and key index), so the clean stage writes it faster and the file holds it
        # in 40% less space.
        "006_site_blocks_without_rowid",
        """
        CREATE TABLE site_blocks_by_key (
            host TEXT NOT NULL, fingerprint TEXT NOT NULL, url TEXT NOT NULL,
            seen TEXT NOT NULL, PRIMARY KEY (host, fingerprint, url)
        ) WITHOUT ROWID;
        INSERT INTO site_blocks_by_key SELECT host, fingerprint, url, seen FROM site_blocks;
        DROP TABLE site_blocks;
        ALTER TABLE site_blocks_by_key RENAME TO site_blocks
        """,
    ),
    (
        # A preview was told from a run by its outcome or a "preview" detail, both of which
        # a killed preview (or its note) overwrites; a column says it for good.
        "007_run_kind",
        """
        ALTER TABLE runs ADD COLUMN kind TEXT NOT NULL DEFAULT 'run';
        UPDATE runs SET kind = 'preview'
            WHERE outcome = 'preview' OR COALESCE(detail, '') LIKE 'preview%'
        """,
    ),
    (
        # Articles' terms as clustering computed them (_terms.py), so that a run computes
        # the terms of its new articles only, not again those of every story of the join
        # horizon: one row per batch of articles, as flat arrays; `version` fingerprints the
        # code that computed them, `newest` is its newest article's publication time.
        "008_term_batches",
        """
        CREATE TABLE term_batches (
            id INTEGER PRIMARY KEY, version TEXT NOT NULL, newest TEXT NOT NULL,
            terms BLOB NOT NULL
        );
        CREATE TABLE article_terms (
            article_id INTEGER PRIMARY KEY REFERENCES articles(id) ON DELETE CASCADE,
            batch_id INTEGER NOT NULL REFERENCES term_batches(id) ON DELETE CASCADE,
            row INTEGER NOT NULL
        );
        CREATE INDEX article_terms_batch ON article_terms (batch_id)
        """,
    ),
    (
        # An article's section is the config's word for its feed, read at ranking time (an
        # operator who moves a feed to another section sees it in the next digest); a copy
        # per article went stale.
        "009_no_article_section",
        """
        ALTER TABLE articles DROP COLUMN section
        """,
    ),
    (
        # A staged message's bytes are the bulk of the state (one complete message per
        # recipient), and are needed only until its fate is final: they move to a table of
        # their own, from which `delivery.keep_sent` after that they are deleted, so their
        # pages are freed whole (shrunk in place, the outbox rows had kept a page each). The
        # rows stay: `answered` is when the fate became final (sent, refused, cancelled,
        # gave-up; for rows answered before this migration, when sent, or else staged),
        # `pruned` when the bytes went. The bytes of rows answered before the default
        # keep_sent (3 days) are not moved but dropped here, so that a state that kept every
        # message does not first grow by a copy of them all. The index lists the rows whose
        # bytes may still go.
        "010_outbox_retention",
        """
        CREATE TABLE message_bytes (
            id INTEGER PRIMARY KEY REFERENCES queued_messages(id), message BLOB NOT NULL
        );
        ALTER TABLE queued_messages ADD COLUMN answered TEXT;
        ALTER TABLE queued_messages ADD COLUMN pruned TEXT;
        UPDATE queued_messages SET answered = COALESCE(sent, queued)
            WHERE status IN ('sent', 'refused', 'cancelled', 'gave-up');
        INSERT INTO message_bytes (id, message) SELECT id, message FROM queued_messages
            WHERE answered IS NULL
            OR answered >= strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now', '-3 days');
        UPDATE queued_messages SET pruned = strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now')
            WHERE id NOT IN (SELECT id FROM message_bytes);
        ALTER TABLE queued_messages DROP COLUMN message;
        CREATE INDEX queued_messages_to_prune ON queued_messages (answered)
            WHERE pruned IS NULL
        """,
    ),
    (
        # Feed entries dated before the window when first seen: kept with the feed's text
        # (no page fetched), so that a run whose window covers them later brings them in
        # although their feed answers 304. `backlog`: undated entries of a feed's first
        # fetch whose newest date (their `published`) is within the window: never news.
        "011_kept_entries",
        """
        CREATE TABLE kept_entries (
            url TEXT PRIMARY KEY, feed TEXT NOT NULL, guid TEXT NOT NULL, link TEXT NOT NULL,
            title TEXT NOT NULL, summary TEXT NOT NULL, content TEXT NOT NULL, author TEXT,
            published TEXT NOT NULL, first_seen TEXT NOT NULL,
            backlog INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX kept_entries_due ON kept_entries (backlog, published);
        CREATE INDEX kept_entries_guid ON kept_entries (feed, guid)
        """,
    ),
    (
        # Several digests in one store (configs naming one `storage`, each with its own
        # `id`): what is a digest's own is keyed by `digest` ('' for a store's unnamed
        # digest, which is every digest's of an older state), and the pool every digest of
        # the store draws on is shared: each feed's last body (`pool_feeds`, so a feed is
        # fetched once per cycle whichever digest asks first) and each page extracted and
        # cleaned (`pool_pages`). A URL unique in the store is now unique per digest, so
        # SQLite rebuilds those tables (PostgreSQL alters them: `_POSTGRES_SCRIPTS`). The
        # articles' stored terms are a cache, computed again (the rebuild drops them).
        "012_shared_store",
        """
        ALTER TABLE digests ADD COLUMN digest TEXT NOT NULL DEFAULT '';
        ALTER TABLE queued_messages ADD COLUMN digest TEXT NOT NULL DEFAULT '';
        ALTER TABLE runs ADD COLUMN digest TEXT NOT NULL DEFAULT '';
        ALTER TABLE runs ADD COLUMN host TEXT;
        ALTER TABLE problems ADD COLUMN digest TEXT NOT NULL DEFAULT '';
        ALTER TABLE term_batches ADD COLUMN digest TEXT NOT NULL DEFAULT '';
        CREATE INDEX runs_open ON runs (digest, finished);
        CREATE INDEX digests_of ON digests (digest, status);
        CREATE INDEX queued_messages_of ON queued_messages (digest, status);
        CREATE TABLE feeds_of_digest (
            url TEXT NOT NULL, name TEXT NOT NULL, etag TEXT, last_modified TEXT,
            last_status INTEGER, last_error TEXT, last_attempt TEXT, last_success TEXT,
            failures INTEGER NOT NULL DEFAULT 0, failing_since TEXT, next_attempt TEXT,
            gone_since TEXT, moved_to TEXT, alerted TEXT, digest TEXT NOT NULL DEFAULT '',
            PRIMARY KEY (digest, url)
        );
        INSERT INTO feeds_of_digest SELECT url, name, etag, last_modified, last_status,
            last_error, last_attempt, last_success, failures, failing_since, next_attempt,
            gone_since, moved_to, alerted, '' FROM feeds;
        DROP TABLE feeds;
        ALTER TABLE feeds_of_digest RENAME TO feeds;
        CREATE TABLE kept_of_digest (
            url TEXT NOT NULL, feed TEXT NOT NULL, guid TEXT NOT NULL, link TEXT NOT NULL,
            title TEXT NOT NULL, summary TEXT NOT NULL, content TEXT NOT NULL, author TEXT,
            published TEXT NOT NULL, first_seen TEXT NOT NULL,
            backlog INTEGER NOT NULL DEFAULT 0, digest TEXT NOT NULL DEFAULT '',
            PRIMARY KEY (digest, url)
        );
        INSERT INTO kept_of_digest SELECT url, feed, guid, link, title, summary, content,
            author, published, first_seen, backlog, '' FROM kept_entries;
        DROP TABLE kept_entries;
        ALTER TABLE kept_of_digest RENAME TO kept_entries;
        CREATE INDEX kept_entries_due ON kept_entries (digest, backlog, published);
        CREATE INDEX kept_entries_guid ON kept_entries (digest, feed, guid);
        DELETE FROM article_terms;
        DELETE FROM term_batches;
        CREATE TABLE articles_of_digest (
            id INTEGER PRIMARY KEY, url TEXT NOT NULL, feed TEXT NOT NULL,
            guid TEXT NOT NULL, link TEXT NOT NULL, title TEXT NOT NULL, text TEXT NOT NULL,
            text_source TEXT NOT NULL, language TEXT, author TEXT,
            published TEXT NOT NULL, first_seen TEXT NOT NULL, removed TEXT,
            status TEXT NOT NULL DEFAULT 'pending', story_id INTEGER REFERENCES stories(id),
            digest TEXT NOT NULL DEFAULT '', UNIQUE (digest, url)
        );
        INSERT INTO articles_of_digest SELECT id, url, feed, guid, link, title, text,
            text_source, language, author, published, first_seen, removed, status, story_id,
            '' FROM articles;
        DROP TABLE articles;
        ALTER TABLE articles_of_digest RENAME TO articles;
        CREATE INDEX articles_status ON articles (digest, status, published);
        CREATE INDEX articles_guid ON articles (digest, feed, guid);
        CREATE TABLE pool_feeds (
            url TEXT PRIMARY KEY, fetched TEXT NOT NULL, status INTEGER NOT NULL,
            final_url TEXT NOT NULL, etag TEXT, last_modified TEXT, content_type TEXT,
            moved_to TEXT, body BLOB NOT NULL
        );
        CREATE TABLE pool_pages (
            url TEXT PRIMARY KEY, fetched TEXT NOT NULL, title TEXT, author TEXT,
            published TEXT, page_language TEXT, text TEXT NOT NULL, language TEXT,
            removed TEXT NOT NULL
        );
        CREATE INDEX pool_pages_fetched ON pool_pages (fetched)
        """,
    ),
    (
        # The config file each run was started from, so that a second config taking the
        # same digest of a storage (two configs in one folder, both on the default state
        # file) is refused instead of finding everything already sent.
        "013_run_config",
        "ALTER TABLE runs ADD COLUMN config TEXT",
    ),
    (
        # The digest that listed a late report under the story it joined, so that a digest
        # unstaged (no server took it) gives its late reports back to the next one.
        "014_follow_ups",
        """
        ALTER TABLE articles ADD COLUMN listed_in INTEGER REFERENCES digests(id);
        CREATE INDEX articles_listed_in ON articles (listed_in) WHERE listed_in IS NOT NULL
        """,
    ),
    (
        # What a digest's archive page needs (JSON, written by the pipeline), kept with the
        # staged digest until the page is written: a digest staged by a run that died is
        # sent by the next run, which writes its page then.
        "015_staged_archive",
        "ALTER TABLE digests ADD COLUMN archive TEXT",
    ),
    (
        # The addresses a pooled feed's answer came from (FetchResult.home_addresses).
        "016_pooled_feed_addresses",
        "ALTER TABLE pool_feeds ADD COLUMN addresses TEXT NOT NULL DEFAULT ''",
    ),
    (
        # What decided which pending articles the digest could take when its watermark was
        # set (the config's feeds and filters, as a fingerprint): a feed back in the config
        # or a filter taken out lets articles below the watermark go out, and the next run
        # must weigh them again though nothing new came in.
        "017_digest_eligibility",
        "ALTER TABLE digests ADD COLUMN eligibility TEXT",
    ),
    (
        # Where a pooled page came from (each hop's origin and address, JSON) and whether
        # its fetch obeyed robots.txt: another digest takes it only where its own fetch
        # would have gone (Fetcher.may_reuse, fetch.robots). Pages pooled before: neither.
        "018_pooled_page_peers",
        """
        ALTER TABLE pool_pages ADD COLUMN peers TEXT NOT NULL DEFAULT '';
        ALTER TABLE pool_pages ADD COLUMN robots INTEGER NOT NULL DEFAULT 0
        """,
    ),
)

# PostgreSQL runs the same migrations, with the few statements SQLite alone reads replaced
# here, in one place: 001 creates `digests` before the `stories` that refer to it
# (PostgreSQL checks a reference when it is made); 006 rebuilt a SQLite table as WITHOUT
# ROWID, which PostgreSQL tables never have (already clustered as well as they will be);
# 010 reads the clock with strftime; 012 alters the keys SQLite can change only by
# rebuilding a table. Then, for every script, the column types PostgreSQL
# spells another way (`_POSTGRES_TYPES`).
_POSTGRES_SCRIPTS = {
    "001_initial": """
        CREATE TABLE feeds (
            url TEXT PRIMARY KEY, name TEXT NOT NULL, etag TEXT, last_modified TEXT,
            last_status INTEGER, last_error TEXT, last_attempt TEXT, last_success TEXT,
            failures INTEGER NOT NULL DEFAULT 0, failing_since TEXT
        );
        CREATE TABLE digests (
            id INTEGER PRIMARY KEY, created TEXT NOT NULL, subject TEXT NOT NULL,
            status TEXT NOT NULL, item_count INTEGER NOT NULL
        );
        CREATE TABLE stories (
            id INTEGER PRIMARY KEY, headline TEXT NOT NULL, url TEXT NOT NULL,
            created TEXT NOT NULL, digest_id INTEGER NOT NULL REFERENCES digests(id)
        );
        CREATE TABLE articles (
            id INTEGER PRIMARY KEY, url TEXT NOT NULL UNIQUE, feed TEXT NOT NULL,
            guid TEXT NOT NULL, link TEXT NOT NULL, title TEXT NOT NULL, text TEXT NOT NULL,
            text_source TEXT NOT NULL, language TEXT, author TEXT, section TEXT,
            published TEXT NOT NULL, first_seen TEXT NOT NULL, removed TEXT,
            status TEXT NOT NULL DEFAULT 'pending', story_id INTEGER REFERENCES stories(id)
        );
        CREATE INDEX articles_status ON articles (status, published);
        CREATE INDEX articles_guid ON articles (feed, guid);
        CREATE TABLE deliveries (
            id INTEGER PRIMARY KEY, digest_id INTEGER NOT NULL REFERENCES digests(id),
            method TEXT NOT NULL, recipient TEXT NOT NULL, status TEXT NOT NULL,
            detail TEXT, at TEXT NOT NULL
        );
        CREATE TABLE site_blocks (
            host TEXT NOT NULL, fingerprint TEXT NOT NULL, url TEXT NOT NULL,
            seen TEXT NOT NULL, PRIMARY KEY (host, fingerprint, url)
        );
        CREATE TABLE problems (
            id INTEGER PRIMARY KEY, at TEXT NOT NULL, stage TEXT NOT NULL,
            target TEXT NOT NULL, feed TEXT, reason TEXT NOT NULL
        );
        CREATE TABLE runs (
            id INTEGER PRIMARY KEY, pid INTEGER NOT NULL, started TEXT NOT NULL,
            finished TEXT, outcome TEXT
        )
        """,
    "006_site_blocks_without_rowid": "",
    "012_shared_store": """
        ALTER TABLE digests ADD COLUMN digest TEXT NOT NULL DEFAULT '';
        ALTER TABLE queued_messages ADD COLUMN digest TEXT NOT NULL DEFAULT '';
        ALTER TABLE runs ADD COLUMN digest TEXT NOT NULL DEFAULT '';
        ALTER TABLE runs ADD COLUMN host TEXT;
        ALTER TABLE problems ADD COLUMN digest TEXT NOT NULL DEFAULT '';
        ALTER TABLE term_batches ADD COLUMN digest TEXT NOT NULL DEFAULT '';
        CREATE INDEX runs_open ON runs (digest, finished);
        CREATE INDEX digests_of ON digests (digest, status);
        CREATE INDEX queued_messages_of ON queued_messages (digest, status);
        ALTER TABLE feeds ADD COLUMN digest TEXT NOT NULL DEFAULT '';
        ALTER TABLE feeds DROP CONSTRAINT feeds_pkey;
        ALTER TABLE feeds ADD PRIMARY KEY (digest, url);
        ALTER TABLE kept_entries ADD COLUMN digest TEXT NOT NULL DEFAULT '';
        ALTER TABLE kept_entries DROP CONSTRAINT kept_entries_pkey;
        ALTER TABLE kept_entries ADD PRIMARY KEY (digest, url);
        DROP INDEX kept_entries_due;
        DROP INDEX kept_entries_guid;
        CREATE INDEX kept_entries_due ON kept_entries (digest, backlog, published);
        CREATE INDEX kept_entries_guid ON kept_entries (digest, feed, guid);
        ALTER TABLE articles ADD COLUMN digest TEXT NOT NULL DEFAULT '';
        ALTER TABLE articles DROP CONSTRAINT articles_url_key;
        ALTER TABLE articles ADD CONSTRAINT articles_digest_url UNIQUE (digest, url);
        DROP INDEX articles_status;
        DROP INDEX articles_guid;
        CREATE INDEX articles_status ON articles (digest, status, published);
        CREATE INDEX articles_guid ON articles (digest, feed, guid);
        CREATE TABLE pool_feeds (
            url TEXT PRIMARY KEY, fetched TEXT NOT NULL, status INTEGER NOT NULL,
            final_url TEXT NOT NULL, etag TEXT, last_modified TEXT, content_type TEXT,
            moved_to TEXT, body BLOB NOT NULL
        );
        CREATE TABLE pool_pages (
            url TEXT PRIMARY KEY, fetched TEXT NOT NULL, title TEXT, author TEXT,
            published TEXT, page_language TEXT, text TEXT NOT NULL, language TEXT,
            removed TEXT NOT NULL
        );
        CREATE INDEX pool_pages_fetched ON pool_pages (fetched)
        """,
    "010_outbox_retention": """
        CREATE TABLE message_bytes (
            id INTEGER PRIMARY KEY REFERENCES queued_messages(id), message BLOB NOT NULL
        );
        ALTER TABLE queued_messages ADD COLUMN answered TEXT;
        ALTER TABLE queued_messages ADD COLUMN pruned TEXT;
        UPDATE queued_messages SET answered = COALESCE(sent, queued)
            WHERE status IN ('sent', 'refused', 'cancelled', 'gave-up');
        INSERT INTO message_bytes (id, message) SELECT id, message FROM queued_messages
            WHERE answered IS NULL OR answered >= to_char(now() AT TIME ZONE 'UTC'
                - interval '3 days', 'YYYY-MM-DD"T"HH24:MI:SS"+00:00"');
        UPDATE queued_messages SET pruned = to_char(now() AT TIME ZONE 'UTC',
                'YYYY-MM-DD"T"HH24:MI:SS"+00:00"')
            WHERE id NOT IN (SELECT id FROM message_bytes);
        ALTER TABLE queued_messages DROP COLUMN message;
        CREATE INDEX queued_messages_to_prune ON queued_messages (answered)
            WHERE pruned IS NULL
        """,
}
# SQLite's `id INTEGER PRIMARY KEY` is the row's own number, given when none is inserted;
# PostgreSQL's is an identity column. BLOB is BYTEA.
_POSTGRES_TYPES = (
    (re.compile(r"\bid INTEGER PRIMARY KEY,"),
     "id INTEGER GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"),
    (re.compile(r"\bBLOB\b"), "BYTEA"),
)  # fmt: skip


def migrations_for(dialect: str) -> tuple[tuple[str, str], ...]:
    """MIGRATIONS as the database of `dialect` ("sqlite" or "postgresql") runs them."""
    if dialect == "sqlite":
        return MIGRATIONS
    scripts = []
    for name, script in MIGRATIONS:
        script = _POSTGRES_SCRIPTS.get(name, script)
        for pattern, replacement in _POSTGRES_TYPES:
            script = pattern.sub(replacement, script)
        scripts.append((name, script))
    return tuple(scripts)
