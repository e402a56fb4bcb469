"""Every config key, once: its parser, default and help text.

The registry drives validation (the loader), `digest settings`, and the generated reference
in docs/configuration.md, whose test fails when a key is missing. Parsers raise `Invalid`;
the loader adds file and line.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qsl, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.triggers.cron import CronTrigger
from babel import localedata

from ..errors import Invalid
from ..text import ascii_url, fits_one_line, matchable
from ._addresses import address, address_list, optional_address

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d|w)\s*$")
_DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(value: Any) -> timedelta:
    """'48h' -> 2 days. Units: s, m, h, d, w; a bare number is refused (48 what?)."""
    match = _DURATION.match(value) if isinstance(value, str) else None
    if not match:
        raise Invalid(f"{value!r} is not a duration; write it with a unit: 30m, 48h or 7d")
    seconds = float(match.group(1)) * _DURATION_UNITS[match.group(2)]
    if seconds <= 0:
        raise Invalid(f"{value!r} is not a positive duration")
    return timedelta(seconds=seconds)


def text_value(value: Any, *, shown: bool = True) -> str:
    """A one-line string. `shown`: text shown as it is (a title, a name), not a URL or a path,
    whose odd characters are percent-encoded or stay the file system's."""
    if not isinstance(value, str) or not value.strip():
        raise Invalid("expected a non-empty string")
    if any(ord(ch) < 32 or 127 <= ord(ch) < 160 for ch in value):
        raise Invalid(f"{value!r} holds a control character (a line break?); write it on one line")
    surrogate = next((ch for ch in value if "\ud800" <= ch <= "\udfff"), None)
    if surrogate is not None:  # no encoding can write it: not as text, nor in a URL or a path
        raise Invalid(f"{value!r} holds U+{ord(surrogate):04X}, a lone surrogate; remove it")
    if shown and not fits_one_line(value):
        # A bidi override turns the text after it around wherever the value is shown (the
        # digest's heading, its archive); a lone surrogate cannot be written out at all.
        odd = next(ch for ch in value if not fits_one_line(ch))
        raise Invalid(
            f"{value!r} holds U+{ord(odd):04X}, which is not text to show (a bidi control "
            "or a line separator); remove it"
        )
    return value.strip()


def _optional_text(value: Any) -> str | None:
    if value is None:
        return None
    return text_value(value)


def _finite(value: float) -> float:
    if value != value or value in (float("inf"), float("-inf")):
        raise Invalid(f"expected a finite number, got {value!r}")
    return value


def _positive_int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise Invalid(f"expected a whole number of at least 1, got {value!r}")
    return value


def _port(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
        raise Invalid(f"expected a port number from 1 to 65535, got {value!r}")
    return value


def _positive_float(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise Invalid(f"expected a number above 0, got {value!r}")
    return _finite(float(value))


def _byte_size(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        size = value  # a bare number is bytes, held to the same floor as "1000B"
    else:
        pattern = r"^\s*(\d+(?:\.\d+)?)\s*(B|KB|MB|GB)\s*$"
        match = re.match(pattern, str(value), re.IGNORECASE)
        if not match:
            raise Invalid(f"{value!r} is not a size; write it as 512KB or 10MB")
        factor = {"b": 1, "kb": 1024, "mb": 1024**2, "gb": 1024**3}[match.group(2).lower()]
        size = int(float(match.group(1)) * factor)
    if size < 1024:
        raise Invalid(f"{value!r} is too small; feeds and pages need at least 1KB")
    return size


def _timezone(value: Any) -> str:
    name = text_value(value)
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise Invalid(f"unknown timezone {name!r}; use an IANA name such as Europe/Paris") from None
    return name


def _language(value: Any) -> str:
    code = text_value(value).lower()
    if not re.fullmatch(r"[a-z]{2,3}", code):
        raise Invalid(f"{value!r} is not a language code; use ISO 639-1 such as en, fr, de")
    # The digest's dates and numbers come from CLDR (Babel): a code it does not know is a
    # typo, caught here rather than as an English digest. (A language CLDR knows but the
    # digest has no texts for gets English texts and a warning: docs/email.md, "Languages".)
    if not localedata.exists(code):
        raise Invalid(f"{value!r} is not a language CLDR knows; use ISO 639-1 such as en, fr, de")
    return code


def _choice(*options: str) -> Callable[[Any], str]:
    def parse(value: Any) -> str:
        if value not in options:
            raise Invalid(f"{value!r} is not one of: {', '.join(options)}")
        return value

    return parse


def _env_name(value: Any) -> str:
    name = text_value(value)
    # The value is never shown: what is written here by mistake is most often the secret
    # itself ("$ummerSun2026" too), and the line goes to the journal or cron's log.
    if re.fullmatch(r"\$\{?[A-Za-z_][A-Za-z0-9_]*\}?", name):
        raise Invalid(
            "starts with $: write the variable's name without it (the value is not shown: "
            "it may be the secret itself)"
        )
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise Invalid(
            "the value is not an environment variable name (not shown: it may be the secret "
            "itself); write the name of the variable that holds it, such as DIGEST_SMTP_PASSWORD"
        )
    return name


def _optional_http_url(value: Any) -> str | None:
    if value is None:
        return None
    url = text_value(value, shown=False)
    if urlsplit(url).scheme not in ("http", "https"):
        raise Invalid(f"{url!r} is not an http(s) URL")
    # Shown in the email (archive.url) and sent in a header (contact_url), as it goes on the
    # wire: a bidi override in it is percent-encoded, as in a feed's links.
    try:
        return ascii_url(url)
    except UnicodeError:
        raise Invalid(f"{url!r}: its host cannot be written in IDNA") from None


def _retries(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 10:
        raise Invalid(f"expected a whole number from 0 to 10, got {value!r}")
    return value


def _cron(value: Any) -> str | None:
    """A five-field cron line (minute hour day month weekday), checked by apscheduler."""
    if value is None:
        return None
    line = " ".join(text_value(value).split())
    if len(line.split()) != 5:
        raise Invalid(
            f"{line!r} is not a cron line; write five fields: minute hour day month weekday, "
            "e.g. '0 7 * * *'"
        )
    try:
        CronTrigger.from_crontab(line, timezone="UTC")
    except (ValueError, TypeError) as error:
        raise Invalid(f"{line!r} is not a valid cron line: {error}") from None
    return line


DEFAULT_SUBJECT = "{title} · {date}: {headline}"
SUBJECT_FIELDS = ("title", "date", "headline", "count")


def _subject_pattern(value: Any) -> str:
    pattern = text_value(value)
    try:
        pattern.format(**dict.fromkeys(SUBJECT_FIELDS, "x"))
    except KeyError as error:
        fields = ", ".join(f"{{{name}}}" for name in SUBJECT_FIELDS)
        raise Invalid(f"unknown field {{{error.args[0]}}}; use {fields}") from None
    except (ValueError, IndexError) as error:
        raise Invalid(f"{pattern!r} is not a valid pattern ({error}); write {{ as {{{{") from None
    return pattern


def _unsubscribe(value: Any) -> tuple[str, ...] | None:
    """One https URL and/or one mailto: address; {recipient} is filled in per message."""
    if value is None:
        return None
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, (list, tuple)) or not items:
        raise Invalid("expected an https URL, a mailto: address, or a list of both")
    out = []
    for item in items:
        link = text_value(item, shown=False)
        parts = urlsplit(link)
        scheme = parts.scheme.lower()
        if scheme == "mailto":
            address(parts.path.replace("{recipient}", "x"))
        elif scheme not in ("http", "https") or not parts.netloc:
            raise Invalid(f"{link!r} is neither an http(s) URL nor a mailto: address")
        try:
            ascii_url(link)  # as the List-Unsubscribe header writes it
        except UnicodeError as error:
            raise Invalid(f"{link!r}: {error}") from None
        out.append(link)
    schemes = [urlsplit(link).scheme.lower() == "mailto" for link in out]
    if len(out) > 2 or len(set(schemes)) != len(schemes):
        raise Invalid("give at most one URL and one mailto: address")
    return tuple(out)


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise Invalid(f"expected true or false, got {value!r}")
    return value


def _fair_share(value: Any) -> int | None:
    """'auto' (None: max(3, max_items // 3)) or a whole number of items."""
    if value == "auto":
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise Invalid(f"{value!r} is not auto or a whole number of at least 1")
    return value


def _workers(value: Any) -> int | str | None:
    """'auto' (None: one per core), a count of processes (0 for none), or a Dask
    scheduler's address, dask://HOST:PORT or tcp://HOST:PORT (returned as tcp://...)."""
    if value == "auto":
        return None
    if isinstance(value, str) and "://" in value:
        scheme, _, rest = value.partition("://")
        host, _, port = rest.rpartition(":")
        if scheme not in ("dask", "tcp") or not host or "/" in rest or not port.isdigit():
            raise Invalid(f"{value!r} is not a Dask scheduler: dask://HOST:PORT or tcp://HOST:PORT")
        if not 0 < int(port) < 65536:
            raise Invalid(f"{value!r}: port {port} is not 1-65535")
        return f"tcp://{host}:{int(port)}"
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise Invalid(
            f"{value!r} is not auto, a number of processes (0 or more) or a Dask scheduler "
            "(dask://HOST:PORT)"
        )
    return value


def _phrases(value: Any) -> tuple[str, ...]:
    """A keyword or phrase, or a list of them (matched case-insensitively, whole words)."""
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, (list, tuple)):
        raise Invalid("expected a keyword or phrase, or a list of them")
    phrases = tuple(text_value(item) for item in items)
    for phrase in phrases:
        # Filters match text without what shows as nothing: such a phrase would be empty
        # there, and an empty phrase matches between any two words.
        if not matchable(phrase).strip():
            raise Invalid(f"{phrase!r} has no visible word to match; write the word itself")
    return phrases


def _feed_filters(value: Any) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """{include: [...], exclude: [...]} for one feed's items."""
    if not isinstance(value, dict):
        raise Invalid("expected a mapping with include: and/or exclude:")
    unknown = set(value) - {"include", "exclude"}
    if unknown:
        raise Invalid(f"unknown key {sorted(unknown)[0]!r}; known keys: exclude, include")
    include = _phrases(value["include"]) if value.get("include") is not None else ()
    exclude = _phrases(value["exclude"]) if value.get("exclude") is not None else ()
    return include, exclude


# Mark parsers whose value is a path relative to the config file (FOLDER: must exist).
PATH = "path"
FOLDER = "folder"
URL_OR_PATH = "url_or_path"
STORAGE = "storage"  # a path (SQLite), or a postgresql:// URL kept as it is (storage_url)
STORAGE_SCHEMES = ("postgresql", "postgres")


def storage_url(value: Any) -> str:
    """postgresql://USER@HOST:PORT/DB as the `storage` of a shared state; no password in
    it (the environment's DIGEST_STORAGE_PASSWORD holds that)."""
    text = text_value(value)
    parts = urlsplit(text)
    # libpq takes a password from the query as well (`?password=...`).
    in_query = any(key.strip().lower() == "password" for key, _ in parse_qsl(parts.query))
    if ":" in parts.netloc.rpartition("@")[0] or in_query:
        raise Invalid(
            "the storage URL holds a password, which would be shown in logs and status; "
            "remove it from the URL and set DIGEST_STORAGE_PASSWORD in the environment"
        )
    try:
        port = parts.port
    except ValueError:
        raise Invalid(f"{text!r}: the port is not a number from 1 to 65535") from None
    if not parts.hostname or not parts.path.strip("/") or port == 0:
        raise Invalid(f"{text!r} is not postgresql://USER@HOST:PORT/DATABASE")
    # libpq reads only a lower-case scheme: "PostgreSQL://" would fail at every connect.
    return parts.scheme + text[text.index(":") :]


def _digest_id(value: Any) -> str:
    name = text_value(value)
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}", name):
        raise Invalid(f"{name!r} is not an id: letters, digits, '.', '_' and '-', up to 64")
    return name


@dataclass(frozen=True)
class Setting:
    key: str  # dotted: "fetch.timeout"; feed keys are bare: "url"
    parse: Callable[[Any], Any] | str
    default: Any
    help: str
    required: bool = False


SETTINGS: tuple[Setting, ...] = (
    Setting("title", text_value, None, "Digest title, shown in the subject and the email.", True),
    Setting(
        "window",
        parse_duration,
        "48h",
        "Only articles published within this span; one held back (max_items, a failed "
        "delivery) has this long from when it was fetched.",
    ),
    Setting("max_items", _positive_int, 20, "At most this many items per digest."),
    Setting(
        "max_per_feed",
        _fair_share,
        "auto",
        "Fair share of one feed: items led by its articles beyond this many take only the "
        "slots the other feeds leave free. auto: max(3, max_items // 3); feeds[].max_items "
        "sets a hard cap instead.",
    ),
    Setting(
        "storage",
        STORAGE,
        "var/digest.db",
        "SQLite file that keeps the run state, or postgresql://USER@HOST:PORT/DB (password "
        "from DIGEST_STORAGE_PASSWORD): one state many machines and digests share. Configs "
        "naming one storage, each with its own id, fetch a feed once per 15 minutes and a "
        "page once between them, where each digest's own fetch could reach it.",
    ),
    Setting(
        "id",
        _digest_id,
        None,
        "This digest's key in a storage that several configs share (its delivered stories, "
        "outbox, runs and run lock are its own); each such config needs its own. Unset: the "
        "storage's unnamed digest. Changing it starts the digest afresh.",
    ),
    Setting(
        "timezone", _timezone, "UTC", "IANA timezone for dates in the digest and for schedule."
    ),
    Setting(
        "language",
        _language,
        "en",
        "Language of the digest (ISO 639-1): its texts (en, fr, de, es, it, pt; English for "
        "others), dates and numbers, the email's lang and Content-Language.",
    ),
    Setting("templates", FOLDER, None, "Folder with your own digest.mjml.j2 / digest.txt.j2."),
    Setting(
        "contact_url", _optional_http_url, None, "URL named in the User-Agent, for site owners."
    ),
    Setting(
        "fetch.timeout",
        _positive_float,
        20.0,
        "Seconds one wait (connect, headers, a read) may take; a whole request, redirects "
        "included, gets 3x this.",
    ),
    Setting("fetch.max_bytes", _byte_size, "10MB", "Largest feed or page body accepted."),
    Setting("fetch.concurrency", _positive_int, 8, "Requests in flight at once."),
    Setting("fetch.per_host", _positive_int, 2, "Requests in flight at once to one host."),
    Setting("fetch.pages", _bool, True, "Fetch article pages (else feed text)."),
    Setting(
        "fetch.pages_per_feed",
        _positive_int,
        100,
        "At most this many new article pages of one feed fetched per run, newest first; the "
        "feed's other new entries keep the feed's own text (their pages are never fetched).",
    ),
    Setting(
        "fetch.allow_private",
        _bool,
        False,
        "Follow feed links to private, loopback and link-local addresses outside the feed's "
        "own origin and the addresses its fetch used.",
    ),
    Setting("fetch.robots", _bool, True, "Honour robots.txt for article pages."),
    Setting("alerts.to", optional_address, None, "Address (one) told when a feed keeps failing."),
    Setting("alerts.after", parse_duration, "1d", "How long a feed fails before the alert."),
    Setting("delivery.method", _choice("file", "smtp"), "file", "file (outbox folder) or smtp."),
    Setting("delivery.outbox", PATH, "var/outbox", "Folder for .html/.txt/.eml (file method)."),
    Setting("delivery.from", address, "digest@localhost", "From address."),
    Setting(
        "delivery.to",
        address_list,
        ("reader@localhost",),
        "Recipient(s): a list, or one string of comma-separated addresses. Required with "
        "method smtp (or recipients_file); the default is for the file method's outbox.",
    ),
    Setting("delivery.host", text_value, "localhost", "SMTP server host."),
    Setting("delivery.port", _port, 587, "SMTP server port."),
    Setting(
        "delivery.security",
        _choice("starttls", "ssl", "none"),
        "starttls",
        "starttls, ssl (implicit TLS) or none.",
    ),
    Setting("delivery.username", _optional_text, None, "SMTP user name, if it needs a login."),
    Setting(
        "delivery.password_env",
        _env_name,
        "DIGEST_SMTP_PASSWORD",
        "Environment variable holding the SMTP password (read by `run`, `check` and "
        "`schedule`; `status`, `feeds` and `preview` work without it).",
    ),
    Setting(
        "delivery.timeout", _positive_float, 30.0, "Seconds before the SMTP server is given up."
    ),
    # -- operations (scheduling, SMTP retries, trust) --
    Setting(
        "schedule", _cron, None, "When the daemon runs this digest: a cron line, e.g. 0 7 * * *."
    ),
    Setting(
        "schedule_grace",
        parse_duration,
        "12h",
        "A run missed while down still runs once when back, if this late at most.",
    ),
    Setting("delivery.retries", _retries, 3, "SMTP retries within a run (connection, 4xx)."),
    Setting("delivery.retry_delay", parse_duration, "10s", "Wait before the first retry; doubles."),
    Setting("delivery.ca_file", PATH, None, "PEM file of CAs to trust for SMTP TLS (else system)."),
    Setting(
        "delivery.keep_sent",
        parse_duration,
        "3d",
        "How long a sent (or refused) message's bytes stay in the state's outbox; then only "
        "its recipient, Message-ID, status, times and reply are kept.",
    ),
    Setting(
        "workers",
        _workers,
        "auto",
        "Processes parsing feeds and extracting pages (and clustering terms of 3,000+ "
        "articles): auto (one per core) or a number; 0: the run's own. dask://HOST:PORT "
        "(or tcp://): feeds and pages on that Dask scheduler's workers (docs/scaling.md).",
    ),
    Setting("serve.root", FOLDER, None, "Folder served on 127.0.0.1 during the run (the demo)."),
    Setting(
        "serve.port",
        _port,
        8765,
        "Port for serve.root; links to 127.0.0.1:8765 in its files and in feeds[].url follow it.",
    ),
    # The message and the web archive (issue 6).
    Setting(
        "delivery.subject",
        _subject_pattern,
        DEFAULT_SUBJECT,
        "Subject pattern: {title}, {date}, {headline}, {count}.",
    ),
    Setting("delivery.recipients_file", PATH, None, "File with one recipient address per line."),
    Setting(
        "delivery.unsubscribe",
        _unsubscribe,
        None,
        "Unsubscribe https URL and/or mailto: (List-Unsubscribe).",
    ),
    Setting("archive.dir", PATH, None, "Folder for the web archive of sent digests."),
    Setting("archive.url", _optional_http_url, None, "Public URL of archive.dir."),
    # Clustering and ranking (issue 4).
    Setting("show_why", _bool, False, "Show the names and figures that grouped an item's sources."),
    Setting("filters.include", _phrases, (), "Keep only items that mention one of these."),
    Setting("filters.exclude", _phrases, (), "Drop items that mention any of these."),
)

FEED_SETTINGS: tuple[Setting, ...] = (
    Setting("name", text_value, None, "Outlet name shown in the digest.", True),
    Setting("url", URL_OR_PATH, None, "Feed URL, file:// URL or path.", True),
    Setting("section", _optional_text, None, "Section of the digest this feed's items go in."),
    Setting("weight", _positive_float, 1.0, "Ranking weight of this feed's items."),
    Setting(
        "pages_per_run",
        _positive_int,
        None,
        "At most this many new article pages of this feed fetched per run (default: "
        "fetch.pages_per_feed).",
    ),
    Setting(
        "filters",
        _feed_filters,
        None,
        "include:/exclude: keywords or phrases for this feed's articles (like filters.*).",
    ),
    Setting(
        "max_items",
        _positive_int,
        None,
        "At most this many items led by this feed's articles per digest, even if slots stay "
        "empty; the rest wait for the next runs. Items several outlets covered are never held "
        "back (default: the fair share, max_per_feed).",
    ),
    Setting(
        "pages",
        _bool,
        None,
        "Fetch this feed's article pages; false: keep the feed's own text (default: fetch.pages).",
    ),
    Setting(
        "auth_env",
        _env_name,
        None,
        "Environment variable holding user:password, sent as HTTP basic auth to the feed's "
        "own origin only (the feed and its pages there; never across a redirect elsewhere).",
    ),
    Setting(
        "headers_env",
        _env_name,
        None,
        'Environment variable holding a JSON object of HTTP headers, {"X-Api-Key": "..."}, '
        "sent like auth_env: to the feed's own origin only.",
    ),
)


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return ", ".join(str(v) for v in value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def settings_help() -> str:
    """The settings reference, one line per key (printed by `digest settings`)."""
    lines = []
    for prefix, settings in (("", SETTINGS), ("feeds[].", FEED_SETTINGS)):
        for setting in settings:
            note = " (required)" if setting.required else ""
            if setting.default is not None:
                note += f" (default: {_shown(setting.default)})"
            lines.append(f"{prefix}{setting.key}: {setting.help}{note}")
    return "\n".join(lines)
