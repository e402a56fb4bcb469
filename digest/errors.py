"""The exceptions that digest raises, in one tree.

    DigestError                      base; the CLI prints str(error) as one line, exit code 1
    ├── ConfigError (ValueError)     the YAML config is wrong; names file, line and key
    ├── StoreError                   the SQLite state cannot be opened, migrated or locked
    │   ├── RunLocked                another run of the same digest holds the lock
    │   └── SharedDigest             another config file already runs this digest of the storage
    ├── FetchError (OSError)         one URL or file could not be fetched; names the URL
    ├── FeedError (ValueError)       fetched bytes are not a feed we can read; names the feed
    ├── ExtractError (ValueError)    a page gave no usable text; names the URL or path
    ├── RenderError                  a template failed; names the template
    └── DeliveryError (OSError)      the digest could not be delivered; names the method/host

A failure of one feed or one page inside a run, whatever the parsers raise, is caught at
that feed's or page's boundary (the ingest stage) and kept as a `Skipped` record in the run report
and the store, so one broken input never stops the digest.
"""

from __future__ import annotations


class DigestError(Exception):
    """Base of every error digest raises on purpose."""


class Invalid(Exception):
    """A config value failed its parser (config/_settings.py, config/_addresses.py); the
    loader turns it into a ConfigError naming the file, the line and the key."""


class ConfigError(DigestError, ValueError):
    """The config file is invalid. The message starts with `file:line:`."""

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None):
        self.path = path
        self.line = line
        where = ""
        if path:
            where = f"{path}:{line}: " if line else f"{path}: "
        super().__init__(f"{where}{message}")


class StoreError(DigestError):
    """The state database cannot be used."""


class RunLocked(StoreError):
    """Another run of this digest is in progress."""


class StoreUnavailable(StoreError):
    """The PostgreSQL server could not be reached, or went away mid-run: a run a few
    minutes later may well succeed (the daemon tries one)."""


class SharedDigest(StoreError):
    """Another config file already runs this digest of the storage (same storage, same id)."""


class FetchError(DigestError, OSError):
    """A URL or local file could not be fetched. `status` is the HTTP status, if any;
    `retry_after` the seconds a 429/503 asked us to wait; `blocked` is set when the
    private-network policy refused the address (nothing was sent); `timed_out` when the
    server did not answer in time."""

    def __init__(
        self,
        url: str,
        reason: str,
        status: int | None = None,
        *,
        retry_after: float | None = None,
        blocked: bool = False,
        timed_out: bool = False,
    ):
        self.url = url
        self.reason = reason
        self.status = status
        self.retry_after = retry_after
        self.blocked = blocked
        self.timed_out = timed_out
        super().__init__(f"{url}: {reason}")


class FeedError(DigestError, ValueError):
    """Fetched bytes could not be read as RSS, Atom or JSON Feed."""

    def __init__(self, feed: str, reason: str):
        self.feed = feed
        self.reason = reason
        super().__init__(f"feed {feed!r}: {reason}")


class ExtractError(DigestError, ValueError):
    """An article page gave no usable text."""

    def __init__(self, url: str, reason: str):
        self.url = url
        self.reason = reason
        super().__init__(f"{url}: {reason}")


class RenderError(DigestError):
    """A template could not be rendered."""


class DeliveryError(DigestError, OSError):
    """The digest could not be delivered. `report` is the run's report, when a run was on."""

    report = None  # set by the runner: what was fetched and skipped before delivery failed
