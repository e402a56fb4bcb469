"""`digest check` beyond the feeds: can a run deliver, and write where it writes?

A dead SMTP port, a wrong password, a folder the service may not write (systemd's
`ProtectSystem=strict` without `ReadWritePaths=`), Dask workers the run cannot use or an
operator's template that does not render otherwise shows only in the first real run, after
its fetching and, for SMTP, its retries.
Nothing here sends mail or writes a file that stays.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ..config import Config
from ..errors import DeliveryError, RenderError, StoreError
from ..mail import probe_smtp
from ..models import Digest, DigestItem, FollowUp, SentStory, Source, SourceArticle
from ..store import Store
from ..text import plural
from ..version import code_identity
from ._dask import DaskWorkers
from ._runner import render_email, render_page


@dataclass(frozen=True)
class SetupCheck:
    name: str  # "delivery", "archive", "state", "workers"
    ok: bool
    detail: str  # what worked, or one line naming the server or folder and the problem


def check_setup(config: Config) -> list[SetupCheck]:
    """Try the delivery (an SMTP session up to the login, within `delivery.timeout`; or
    the outbox folder), an operator's templates (`templates:`), then the folders a run
    writes: the archive's and the state's."""
    results = [_check_delivery(config)]
    if config.templates is not None:
        results.append(_check_templates(config))
    if config.archive is not None:
        results.append(_check_folder("archive", "archive.dir", config.archive.folder))
    if isinstance(config.storage, Path):
        results.append(_check_folder("state", "storage", config.storage.parent))
        owner = _check_owner(config.storage, config) if config.storage.is_file() else None
        if owner is not None:
            results.append(owner)
    else:
        results.append(_check_database(config))
    if isinstance(config.workers, str):
        results.append(_check_workers(config.workers))
    return results


def _check_templates(config: Config) -> SetupCheck:
    """The config's templates render a sample digest as a run renders its email (and its
    archive page, when there is an archive): a missing file, a syntax error, an unknown
    filter or a variable the templates do not get fails here, not after a run's fetching."""
    folder = config.templates
    try:
        sample = _sample_digest(config)
        rendered = render_email(config, sample)
        if config.archive is not None:
            render_page(config, sample)
    except RenderError as error:
        return SetupCheck("templates", False, str(error))
    size = len(rendered.html.encode()) // 1024
    return SetupCheck("templates", True, f"{folder}: a sample digest renders ({size} KB of HTML)")


def _sample_digest(config: Config) -> Digest:
    """A digest with what a template may be given: in each of the config's sections an item
    of two outlets, one of them with two pieces, and an item of one outlet in another
    language; and a follow-up on an earlier story sent in another language."""
    now = datetime.now(UTC)
    hour = timedelta(hours=1)
    pieces = (
        SourceArticle("https://example.org/a", "A sample headline", now - 2 * hour),
        SourceArticle("https://example.org/b", "A second piece on it", now - hour),
    )
    sources = (
        Source("Example Outlet", pieces[0].url, pieces[0].title, pieces[0].published, pieces),
        Source("Another Outlet", "https://example.net/c", "Its own headline", now - hour),
    )
    other = "fr" if config.language != "fr" else "en"  # a headline in another language
    alone = Source("Example Outlet", "https://example.org/d", "Un titre", now - 3 * hour)
    sections = tuple(dict.fromkeys(f.section for f in config.feeds if f.section)) or (None,)
    items = []
    for section in sections:
        # An item of two outlets in the digest's language, and one of one outlet in another:
        # a template's branches for both (a source count, a language tag) are rendered.
        items.append(
            DigestItem("A sample headline", pieces[0].url, "A sample summary.", config.language,
                       section, sources, (1, 2, 3), ("Example", "42"), sources[0])
        )  # fmt: skip
        items.append(
            DigestItem("Un titre", alone.url, "Un résumé.", other, section, (alone,), (5,),
                       (), alone)
        )  # fmt: skip
    story = SentStory(1, "An earlier story", "https://example.org/earlier", now - 24 * hour, other)
    follow_up = FollowUp(story, sources[1:], (4,))
    return Digest(
        title=config.title, created=now, items=tuple(items), timezone=config.timezone,
        language=config.language, sections=tuple(s for s in sections if s),
        follow_ups=(follow_up,),
    )  # fmt: skip


def _check_workers(address: str) -> SetupCheck:
    """A Dask scheduler (`workers: tcp://...`): it answers, has workers, and they run this
    digest; else a run would do its page work in local processes instead."""
    try:
        cluster = DaskWorkers(address)
    except (OSError, TimeoutError) as error:
        return SetupCheck(
            "workers",
            False,
            f"Dask scheduler {address}: {error or type(error).__name__}; a run would use "
            "local worker processes instead",
        )
    try:
        threads = plural(cluster.threads, "worker thread")
        running = f"running digest {code_identity()}"
        return SetupCheck("workers", True, f"Dask scheduler {address}: {threads}, {running}")
    finally:
        cluster.shutdown()


def _check_owner(state: Path, config: Config) -> SetupCheck | None:
    """A failed check when another config file already runs this digest of the SQLite
    `state` (as `run` would refuse to), else None. The state is only read."""
    shared = Store.shared_digest_in(state, config.id, config.path)
    return None if shared is None else SetupCheck("state", False, str(shared))


def _check_database(config: Config) -> SetupCheck:
    """A PostgreSQL storage: connect (the state's tables are made or brought up to date,
    as a run would)."""
    try:
        store = Store.open(config.storage, config.id)
    except StoreError as error:
        return SetupCheck("state", False, f"storage {error}")
    try:
        with store.errors_named():
            shared = store.shared_digest(config.path)
    except StoreError as error:
        return SetupCheck("state", False, f"storage {error}")
    finally:
        store.close()
    if shared is not None:
        return SetupCheck("state", False, str(shared))
    return SetupCheck("state", True, f"storage {config.storage}: connected")


def _check_delivery(config: Config) -> SetupCheck:
    settings = config.delivery
    if settings.method == "smtp":
        try:
            worked = probe_smtp(settings)
        except DeliveryError as error:
            return SetupCheck("delivery", False, str(error))
        return SetupCheck("delivery", True, f"SMTP {settings.host}:{settings.port}: {worked}")
    if settings.outbox is None:
        return SetupCheck("delivery", False, "delivery.outbox is not set")
    return _check_folder("delivery", "delivery.outbox", settings.outbox)


def _check_folder(name: str, key: str, folder: Path) -> SetupCheck:
    """Whether a run can write in `folder`, or make it: a file is created in it (or in the
    nearest folder above that exists) and vanishes at once; no folder is made."""
    existing = folder
    while not existing.exists() and existing.parent != existing:
        existing = existing.parent
    if not existing.is_dir():
        return SetupCheck(name, False, f"{key} {folder}: {existing} is not a folder")
    try:
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as error:
        return SetupCheck(
            name,
            False,
            f"{key} {folder}: cannot write in {existing}: {error.strerror or error} (under "
            "systemd, list it in the unit's ReadWritePaths=)",
        )
    if existing == folder:
        return SetupCheck(name, True, f"{key} {folder} is writable")
    return SetupCheck(name, True, f"{key} {folder} does not exist yet; {existing} is writable")
