"""The state of a digest, in a SQLite file or a PostgreSQL database: feeds, articles,
digests, the outbox, the run lock, and the pool of feeds and pages the digests of one
storage share.

What other stages may use; the modules beside this one are internal."""

from ._connection import is_database_url, shown
from ._copy import CopiedState, copy_state
from ._db import died_reason, holder_alive, maybe_time
from ._state import (
    MADE_ITS_DIGEST,
    QUEUE_LIMIT,
    RUN_ENDED,
    NewArticle,
    Store,
    count_pending,
    last_run,
)

__all__ = [
    "MADE_ITS_DIGEST",
    "QUEUE_LIMIT",
    "RUN_ENDED",
    "CopiedState",
    "NewArticle",
    "Store",
    "copy_state",
    "count_pending",
    "died_reason",
    "holder_alive",
    "is_database_url",
    "last_run",
    "maybe_time",
    "shown",
]
