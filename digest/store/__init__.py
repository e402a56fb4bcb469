"""The state of a digest in SQLite: feeds, articles, digests, the outbox, the run lock.

What other stages may use; the modules beside this one are internal."""

from ._db import died_reason, holder_alive, maybe_time
from ._state import QUEUE_LIMIT, NewArticle, Store, count_pending

__all__ = [
    "QUEUE_LIMIT",
    "NewArticle",
    "Store",
    "count_pending",
    "died_reason",
    "holder_alive",
    "maybe_time",
]
