"""File helpers shared by the outbox, the web archive and the OPML import."""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def slug(text: str, limit: int = 80, empty: str = "digest") -> str:
    """'Morning Brief · 23 Nov' -> 'morning-brief-23-nov': safe in a file name or an anchor."""
    return _NOT_SLUG.sub("-", text.lower()).strip("-")[:limit] or empty


def write_atomically(path: Path, data: bytes, mode: int | None = None) -> None:
    """Write `data` to `path` so that a reader (or a crash) sees the old file or the new one,
    never half of it. The file is private (0600, from mkstemp) unless `mode` is given."""
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
        if mode is not None:
            os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
