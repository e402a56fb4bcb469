"""Load and validate a digest's YAML config.

Every key is declared once in _settings.py (`SETTINGS` for the top level and sections,
`FEED_SETTINGS` for one entry of `feeds:`), with its parser, default and help text; this
module walks the YAML against that registry. Errors name the file and line:
`config/demo.yaml:14: feeds[2].url: ...`.

Paths in the config are relative to the config file, not to the working directory, so a
cron job started from `/` reads the same files as an operator in the repo.
"""

from __future__ import annotations

import base64
import difflib
import json
import os
import re
from dataclasses import dataclass, replace
from datetime import timedelta
from email.utils import parseaddr
from itertools import pairwise
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.tokens import (
    AliasToken,
    AnchorToken,
    BlockEntryToken,
    BlockMappingStartToken,
    BlockSequenceStartToken,
    FlowMappingStartToken,
    FlowSequenceStartToken,
    ScalarToken,
    TagToken,
)

from ..errors import ConfigError, Invalid
from ..version import __version__
from ._addresses import list_id, split_addresses
from ._settings import (
    DEFAULT_SUBJECT,
    FEED_SETTINGS,
    FOLDER,
    PATH,
    SETTINGS,
    STORAGE,
    STORAGE_SCHEMES,
    URL_OR_PATH,
    Setting,
    settings_help,
    storage_url,
    text_value,
)

__all__ = ["AlertsConfig", "ArchiveConfig", "Config", "DeliveryConfig", "FeedConfig",
           "FetchSettings", "ServeConfig", "feed_url", "load_config", "parse_config",
           "settings_help"]  # fmt: skip


SERVED_ORIGIN = "http://127.0.0.1:8765"


def served_origin(port: int) -> str:
    return f"http://127.0.0.1:{port}"


def follow_serve_port(url: str, port: int) -> str:
    """A feed URL on SERVED_ORIGIN, moved to the port `serve.root` is served on."""
    if port != 8765 and (url == SERVED_ORIGIN or url.startswith(SERVED_ORIGIN + "/")):
        return served_origin(port) + url[len(SERVED_ORIGIN) :]
    return url


@dataclass(frozen=True)
class FeedConfig:
    name: str
    url: str  # http(s) URL or an absolute file:// URL
    section: str | None = None
    weight: float = 1.0
    pages_per_run: int | None = None  # None: fetch.pages_per_feed
    include: tuple[str, ...] = ()  # keep only this feed's articles that mention one
    exclude: tuple[str, ...] = ()  # drop this feed's articles that mention any
    max_items: int | None = None  # hard cap on the items it leads; None: the fair share
    pages: bool | None = None  # fetch its article pages; None: fetch.pages
    auth_env: str | None = None  # variable holding user:password (HTTP basic auth)
    headers_env: str | None = None  # variable holding a JSON object of HTTP headers

    def fetches_pages(self, fetch: FetchSettings) -> bool:
        return fetch.pages if self.pages is None else self.pages

    def request_headers(self) -> dict[str, str]:
        """The headers of `auth_env` and `headers_env`, read from the environment now (as
        the SMTP password is), so the secrets live in no config, state or output. For the
        feed's own origin only: the fetcher keeps them off other hosts. Raises Invalid
        naming the variable, never its value."""
        headers = _headers_from(self.headers_env) if self.headers_env else {}
        if self.auth_env:
            if any(name.lower() == "authorization" for name in headers):
                raise Invalid(
                    f"headers_env: ${self.headers_env} sets Authorization and auth_env is set "
                    "too; keep one of them"
                )
            headers["Authorization"] = _basic_auth(self.auth_env)
        return headers


# Headers that the fetcher writes itself (conditional GET, decoding) or that frame the
# request: a feed's own headers may not replace them.
_RESERVED_HEADERS = frozenset({
    "host", "content-length", "transfer-encoding", "connection", "accept-encoding",
    "if-none-match", "if-modified-since", "te", "upgrade", "trailer",
})  # fmt: skip
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_USERINFO = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://[^/?#]*@")
_URL_SCHEME = re.compile(r"\s*([A-Za-z][A-Za-z0-9+.-]*)://")


def _one_line(value: str) -> bool:
    return all(32 <= ord(ch) < 127 or 160 <= ord(ch) < 256 or ch == "\t" for ch in value)


def _basic_auth(variable: str) -> str:
    value = os.environ.get(variable)
    if value is None:
        raise Invalid(f"auth_env: ${variable} is not set; export user:password in it")
    value = value.rstrip("\r\n")  # as read from a file
    user, colon, _ = value.partition(":")
    if not colon or not user:
        raise Invalid(f"auth_env: ${variable} is not user:password (a user name, then ':')")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise Invalid(f"auth_env: ${variable} holds a control character; write it on one line")
    return "Basic " + base64.b64encode(value.encode("utf-8")).decode("ascii")


def _headers_from(variable: str) -> dict[str, str]:
    value = os.environ.get(variable)
    shape = 'a JSON object of headers, such as {"X-Api-Key": "..."}'
    if value is None:
        raise Invalid(f"headers_env: ${variable} is not set; export {shape} in it")
    try:
        data = json.loads(value)
    except ValueError as error:
        # The position only: the decoder's message never quotes the text, which is secret.
        where = f" ({error.msg} at character {error.pos})" if hasattr(error, "pos") else ""
        raise Invalid(f"headers_env: ${variable} is not {shape}{where}") from None
    if not isinstance(data, dict) or not data:
        raise Invalid(f"headers_env: ${variable} is not {shape}")
    headers: dict[str, str] = {}
    for name, header in data.items():
        if not _HEADER_NAME.fullmatch(name):
            raise Invalid(f"headers_env: ${variable}: {name!r} is not an HTTP header name")
        if name.lower() in _RESERVED_HEADERS:
            raise Invalid(f"headers_env: ${variable}: {name} is set by digest itself; drop it")
        if not isinstance(header, str) or not header.strip() or not _one_line(header):
            raise Invalid(
                f"headers_env: ${variable}: the value of {name} must be a non-empty string on "
                "one line, in Latin-1"
            )
        headers[name] = header.strip()
    return headers


@dataclass(frozen=True)
class FetchSettings:
    timeout: float = 20.0
    max_bytes: int = 10 * 1024**2
    concurrency: int = 8
    per_host: int = 2
    pages: bool = True
    pages_per_feed: int = 100  # new article pages fetched per feed and run, newest first
    user_agent: str = f"digest/{__version__}"
    allow_private: bool = False
    robots: bool = True


@dataclass(frozen=True)
class DeliveryConfig:
    method: str = "file"
    outbox: Path | None = None
    sender: str = "digest@localhost"
    recipients: tuple[str, ...] = ("reader@localhost",)
    host: str = "localhost"
    port: int = 587
    security: str = "starttls"
    username: str | None = None
    password_env: str = "DIGEST_SMTP_PASSWORD"
    timeout: float = 30.0
    retries: int = 3
    retry_delay: float = 10.0  # seconds before the first retry; doubles each time
    ca_file: str | None = None
    keep_sent: timedelta = timedelta(days=3)  # sent messages' bytes kept in the outbox
    subject: str = DEFAULT_SUBJECT  # pattern: {title}, {date}, {headline}, {count}
    unsubscribe: tuple[str, ...] = ()  # an https URL and/or a mailto:, for List-Unsubscribe
    # The List-Id header: the digest's title and its identifier (config/_addresses.py),
    # which loading a config sets; without an identifier no List-Id is sent.
    list_name: str = ""
    list_id: str = ""

    def password(self) -> str | None:
        return os.environ.get(self.password_env)


@dataclass(frozen=True)
class ArchiveConfig:
    """Where sent digests are kept as web pages, and the public URL of that folder."""

    folder: Path
    url: str | None = None


@dataclass(frozen=True)
class ServeConfig:
    root: Path
    port: int = 8765


@dataclass(frozen=True)
class AlertsConfig:
    to: str  # told, through the digest's delivery method, when a feed keeps failing
    after: timedelta


@dataclass(frozen=True)
class Config:
    path: Path
    title: str
    window: timedelta
    max_items: int
    storage: Path | str  # a SQLite file, or a postgresql:// URL (no password)
    feeds: tuple[FeedConfig, ...]
    delivery: DeliveryConfig
    fetch: FetchSettings
    timezone: str = "UTC"
    language: str = "en"
    templates: Path | None = None
    serve: ServeConfig | None = None
    show_why: bool = False
    include: tuple[str, ...] = ()  # filters.include: keep only items that mention one
    exclude: tuple[str, ...] = ()  # filters.exclude: drop items that mention any
    schedule: str | None = None  # cron expression, in `timezone`
    schedule_grace: timedelta = timedelta(hours=12)
    alerts: AlertsConfig | None = None
    archive: ArchiveConfig | None = None
    # Page extraction processes; None: one per core; a str: a Dask scheduler's tcp:// address.
    workers: int | str | None = None
    max_per_feed: int | None = None  # one feed's fair share of items; None: auto
    id: str = ""  # this digest's key in a shared storage; "": the storage's unnamed digest

    @property
    def fair_share(self) -> int:
        """Items led by one feed that go before the other feeds' items are all in; the
        rest take only the slots left free (`max_per_feed`, auto: a third of max_items)."""
        return self.max_per_feed or max(3, self.max_items // 3)


def storage_value(text: str, label: str) -> Path | str:
    """`text` read as a config's `storage` setting reads it (a SQLite file's path, from the
    working folder, or postgresql://USER@HOST:PORT/DB without a password), for a store
    named outside a config (`digest copy-state --to`). Raises ConfigError naming `label`."""
    setting = next(setting for setting in SETTINGS if setting.key == "storage")
    try:
        return _Loader(Path.cwd() / label).parse(text, setting)
    except Invalid as error:
        raise ConfigError(f"{label}: {error}") from None


def load_config(
    path: str | os.PathLike[str], *, feeds_optional: bool = False, delivering: bool = True
) -> Config:
    """Read and validate a YAML config file. Raises ConfigError naming file and line.
    `feeds_optional`: a config without feeds loads (for `digest feeds add|import`).
    `delivering`: False for a use that sends no mail (`digest status`, `feeds`, `preview`):
    the SMTP password need not be in the environment then, as an admin's shell lacks it."""
    config_path = Path(path)
    if config_path.is_dir():
        raise ConfigError(
            "is a folder, not a config file; give one digest's YAML file "
            "(only `digest schedule` and `digest status` take a folder of them)",
            path=str(path),
        )
    try:
        source = config_path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError("no such config file", path=str(path)) from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"cannot read config: {error}", path=str(path)) from None
    return parse_config(source, config_path, feeds_optional=feeds_optional, delivering=delivering)


def parse_config(
    source: str, path: Path, *, feeds_optional: bool = False, delivering: bool = True
) -> Config:
    """Validate YAML text as if it were the file at `path` (for relative paths and messages);
    `feeds_optional` and `delivering` as for `load_config`."""
    try:
        data = YAML(typ="rt").load(source)
        if slip := _anchored_value(source):
            raise ConfigError(f"YAML syntax error: {slip[0]}", path=str(path), line=slip[1])
    except MarkedYAMLError as error:
        message, line = _syntax_error(error, source)
        raise ConfigError(f"YAML syntax error: {message}", path=str(path), line=line) from None
    except YAMLError as error:  # e.g. a control character the YAML reader refuses
        reason = " ".join(str(error).split())
        raise ConfigError(f"not readable as YAML: {reason}", path=str(path)) from None
    return _Loader(path, feeds_optional, delivering).build(data)


_SMTP_RECIPIENTS = ("to", "recipients_file")
_CLOSERS = {"[": "]", "{": "}"}


def _syntax_error(error: MarkedYAMLError, source: str) -> tuple[str, int | None]:
    """The parser's complaint in an operator's words, and the line of the file to look at.

    The parser speaks of tokens (`<block end>`, `<stream end>`) and marks the end of the
    stream, a line past the file, when a bracket or quote is never closed: such an error is
    put on the line where the bracket or quote opens, and no line is past the last one."""
    problem = error.problem or error.context or "not readable as YAML"
    context = error.context or ""
    problem_mark, context_mark = error.problem_mark, error.context_mark
    mark = problem_mark or context_mark
    line = mark.line if mark else None  # 0-based until returned
    lines = source.splitlines()
    message = problem
    if "'\\t'" in problem and problem_mark is not None:
        text = lines[problem_mark.line] if problem_mark.line < len(lines) else ""
        where = "for indentation" if not text[: problem_mark.column].strip() else "here"
        message = f"tabs are not allowed {where} in YAML; use spaces"
    elif context.startswith("while parsing a flow") and context_mark is not None:
        text = lines[context_mark.line] if context_mark.line < len(lines) else ""
        opener = text[context_mark.column : context_mark.column + 1]
        opener = opener if opener in _CLOSERS else "["
        closer = _CLOSERS[opener]
        if "<stream end>" in problem:
            message = f"the {opener!r} on this line is never closed with {closer!r}"
            line = context_mark.line
        else:
            message = (
                f"the {opener!r} opened on line {context_mark.line + 1} is not closed before "
                f"this line (expected ',' or {closer!r})"
            )
    elif context.startswith("while scanning a quoted scalar") and context_mark is not None:
        message = "the quote that opens the value on this line is never closed"
        line = context_mark.line
    elif problem.startswith("expected <block end>"):
        message = (
            "this line does not line up with the block it is in; check the indentation of "
            "this line against the one above"
        )
    elif problem == "mapping values are not allowed here":
        message = (
            "a key: value where none can be; check the indentation of this line against the "
            "one above, or quote a value that holds ': '"
        )
    elif (
        context in ("while scanning an alias", "while scanning an anchor")
        or problem.startswith("found undefined alias")
    ) and mark is not None:
        # A cron line ("*/15 6-22 * * *") or a title starting with "&": YAML reads an alias
        # or an anchor there, and its own words name neither the key nor the fix.
        text = lines[mark.line] if mark.line < len(lines) else ""
        message = _unquoted_star_or_ampersand(text) or message
    elif problem.startswith("could not find expected ':'") and context_mark is not None:
        message = (
            "this line has no ':' after its key; write key: value, or check the indentation "
            "of this line against the one above"
        )
        line = context_mark.line
    if line is None:
        return message, None
    return message, min(line, max(len(lines) - 1, 0)) + 1


def _unquoted_star_or_ampersand(text: str) -> str:
    """What to say of the line `text`, whose value starts with '*' or '&' unquoted; "" for
    a merge key (<<: *name), which is meant as an alias: YAML's own words are right there."""
    # key: value, the value without a comment after it.
    written = re.match(r"(\s*(?:-\s+)?([^\s:#]+):\s+)([*&].*?)(\s+#.*)?\s*$", text)
    if written is not None and written[2] == "<<":
        return ""
    # Quoting is shown only for a plain value that runs to the line's end: inside a flow
    # mapping or list ("- {name: &Co, url: ...}") the quotes would swallow the rest of it.
    plain = written is not None and not re.search(r"[\[\]{},]", written[0])
    example = f"; write {written[1].strip()} {_quoted(written[3])}" if plain else ""
    return (
        "a value that starts with '*' or '&' must be quoted, else YAML reads an alias "
        f"or an anchor there{example}"
    )


_COLLECTION_STARTS = (
    BlockEntryToken,
    BlockMappingStartToken,
    BlockSequenceStartToken,
    FlowMappingStartToken,
    FlowSequenceStartToken,
)


def _anchored_value(source: str) -> tuple[str, int] | None:
    """(what to say, line) of the first anchor put on a single value that no alias uses:
    `title: &Co News` reads as the title "News", "&Co" taken for an anchor and dropped.
    An anchor on a value of its own words is written to be used, so one that never is, is
    a slip; an anchor on a mapping or a list is left alone (an unused one changes nothing)."""
    # A tag (`&a !!str x`) is no part of the value: what the anchor is on comes after it.
    tokens = [token for token in YAML().scan(source) if not isinstance(token, TagToken)]
    used = {token.value for token in tokens if isinstance(token, AliasToken)}
    for token, after in pairwise(tokens):
        if not isinstance(token, AnchorToken) or token.value in used:
            continue
        if isinstance(after, ScalarToken):
            # A block scalar (| or >) keeps every word of its lines: an anchor before it
            # hides none.
            slip = after.style not in ("|", ">")
        else:  # an empty value, unless a mapping or a list starts
            slip = not isinstance(after, _COLLECTION_STARTS)
        if slip:
            line = token.start_mark.line
            text = source.splitlines()[line]
            return _unquoted_star_or_ampersand(text), line + 1
    return None


def _quoted(value: str) -> str:
    """`value` in YAML single quotes (a quote inside is written twice)."""
    return "'" + value.replace("'", "''") + "'"


def feed_url(text: str, config_path: Path) -> str:
    """`text` as the config reads a feeds[].url in the file at `config_path`: an http(s)
    URL, or a path or file:// URL made absolute. Raises Invalid saying why not."""
    return _Loader(config_path).url_or_path(text)


def feed_key(url: str) -> str:
    """What makes two feeds[].url one feed: the scheme and host in any case, and without
    the #fragment, which is never sent to the server."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return url
    return urlunsplit((parts.scheme, parts.netloc.lower(), parts.path, parts.query, ""))


def _unknown_key(label: str, name: str, known: set[str], likely: set[str] | None = None) -> str:
    """`label: unknown key`, the closest known key first (a typo is the usual cause), then
    every known key."""
    guesses = difflib.get_close_matches(name, sorted(likely or known), n=1)
    guess = f" did you mean {guesses[0]!r}?" if guesses else ""
    return f"{label}: unknown key;{guess} known keys: {', '.join(sorted(known))}"


_QUOTED_NUMBER = re.compile(r"\s*(\d+)(\.\d+)?\s*")


def _quoted_number(raw: Any) -> int | float | None:
    """The number a string of digits (`'587'`, `"2.5"`) stands for, else None."""
    match = _QUOTED_NUMBER.fullmatch(raw) if isinstance(raw, str) else None
    if match is None:
        return None
    return float(match.group(0)) if match.group(2) else int(match.group(1))


def _unique(addresses: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """Each address once (compared without case or name), in order: one message each."""
    unique: dict[str, str] = {}
    for address in addresses:
        unique.setdefault(parseaddr(address)[1].lower(), address)
    return tuple(unique.values())


class _Loader:
    def __init__(self, path: Path, feeds_optional: bool = False, delivering: bool = True):
        self.path = path
        self.feeds_optional = feeds_optional
        self.delivering = delivering
        self.base = path.resolve().parent

    def fail(self, message: str, line: int | None) -> ConfigError:
        return ConfigError(message, path=str(self.path), line=line)

    @staticmethod
    def nest_hint(key: str, value: Any) -> str:
        """`fetch.timeout: 5` written flat, as the settings reference names it: YAML nests it."""
        section, _, name = key.partition(".")
        if isinstance(value, bool):
            shown = "true" if value else "false"
        elif isinstance(value, (str, int, float)) and "\n" not in str(value):
            shown = str(value)
        else:
            shown = "..."
        return (
            f"{key}: a dotted key is written nested in YAML: `{section}:` on its own line, "
            f"then `  {name}: {shown}` under it"
        )

    @staticmethod
    def key_line(mapping: Any, key: Any) -> int | None:
        """1-based line of `key` in `mapping`, else of the mapping itself, else None."""
        marks = getattr(mapping, "lc", None)
        if marks is None:
            return None
        try:
            return marks.key(key)[0] + 1
        except (KeyError, TypeError):
            return marks.line + 1 if isinstance(marks.line, int) else None

    def build(self, data: Any) -> Config:
        if not isinstance(data, CommentedMap):
            raise self.fail("the config must be a mapping of keys (title:, feeds:, ...)", 1)
        known_top = {s.key.split(".")[0] for s in SETTINGS} | {"feeds"}
        dotted = {s.key for s in SETTINGS if "." in s.key}
        for key in data:
            if key in dotted:
                raise self.fail(self.nest_hint(key, data[key]), self.key_line(data, key))
            nested = sorted(d for d in dotted if d.rsplit(".", 1)[1] == key)
            if key not in known_top and nested:  # `timeout: 5` for fetch.timeout
                under = " or ".join(f"{d.rsplit('.', 1)[0]}:" for d in nested)
                raise self.fail(
                    f"{key}: not a top-level key; it goes under {under} ({', '.join(nested)})",
                    self.key_line(data, key),
                )
            if key not in known_top:
                # A flat `fetch.timout:` is matched against the dotted names too.
                likely = known_top | dotted if "." in str(key) else known_top
                raise self.fail(
                    _unknown_key(str(key), str(key), known_top, likely), self.key_line(data, key)
                )
        values: dict[str, Any] = {}
        for setting in SETTINGS:
            values[setting.key] = self.read(data, setting)
        feeds = self.read_feeds(data)
        delivery = DeliveryConfig(
            method=values["delivery.method"],
            outbox=values["delivery.outbox"],
            sender=values["delivery.from"],
            recipients=self.recipients(data, values),
            host=values["delivery.host"],
            port=values["delivery.port"],
            security=values["delivery.security"],
            username=values["delivery.username"],
            password_env=values["delivery.password_env"],
            timeout=values["delivery.timeout"],
            retries=values["delivery.retries"],
            retry_delay=values["delivery.retry_delay"].total_seconds(),
            ca_file=str(values["delivery.ca_file"]) if values["delivery.ca_file"] else None,
            keep_sent=values["delivery.keep_sent"],
            subject=values["delivery.subject"],
            unsubscribe=values["delivery.unsubscribe"] or (),
            list_name=values["title"],
            list_id=list_id(values["title"], values["id"] or "", values["delivery.from"]),
        )
        if (
            self.delivering
            and delivery.method == "smtp"
            and delivery.username
            and delivery.password() is None
        ):
            section = data.get("delivery")
            raise self.fail(
                f"delivery.password_env: ${delivery.password_env} is not set, but "
                f"delivery.username is; export the SMTP password in that variable",
                self.key_line(section, "password_env" if "password_env" in section else "username"),
            )
        section = data.get("delivery") or {}
        if delivery.method == "smtp" and all(section.get(k) is None for k in _SMTP_RECIPIENTS):
            # The default reader@localhost suits the file method's outbox; mailed through a
            # real server it would leave the digest with no one (or a stranger) reading it.
            raise self.fail(
                "delivery.to: missing; with method smtp, say who gets the digest: "
                "`to: you@example.org` under delivery: (or set delivery.recipients_file)",
                self.key_line(section, "method"),
            )
        archive = None
        if values["archive.dir"] is not None:
            archive = ArchiveConfig(folder=values["archive.dir"], url=values["archive.url"])
        elif values["archive.url"] is not None:
            raise self.fail(
                "archive.url: set archive.dir too (the folder that URL serves)",
                self.key_line(data.get("archive"), "url"),
            )
        user_agent = f"digest/{__version__}"
        if values["contact_url"]:
            user_agent += f" (+{values['contact_url']})"
        fetch = FetchSettings(
            timeout=values["fetch.timeout"],
            max_bytes=values["fetch.max_bytes"],
            concurrency=values["fetch.concurrency"],
            per_host=values["fetch.per_host"],
            pages=values["fetch.pages"],
            pages_per_feed=values["fetch.pages_per_feed"],
            user_agent=user_agent,
            allow_private=values["fetch.allow_private"],
            robots=values["fetch.robots"],
        )
        alerts = None
        if values["alerts.to"] is not None:
            alerts = AlertsConfig(to=values["alerts.to"], after=values["alerts.after"])
        serve = None
        if values["serve.root"] is not None:
            serve = ServeConfig(root=values["serve.root"], port=values["serve.port"])
            # Feeds of the served folder (the demo's) follow serve.port (the demo site).
            feeds = tuple(
                replace(feed, url=follow_serve_port(feed.url, serve.port)) for feed in feeds
            )
        return Config(
            path=self.path,
            title=values["title"],
            window=values["window"],
            max_items=values["max_items"],
            storage=values["storage"],
            id=values["id"] or "",
            feeds=feeds,
            delivery=delivery,
            fetch=fetch,
            timezone=values["timezone"],
            language=values["language"],
            templates=values["templates"],
            serve=serve,
            show_why=values["show_why"],
            include=values["filters.include"],
            exclude=values["filters.exclude"],
            schedule=values["schedule"],
            schedule_grace=values["schedule_grace"],
            alerts=alerts,
            archive=archive,
            workers=values["workers"],
            max_per_feed=values["max_per_feed"],
        )

    def recipients(self, data: CommentedMap, values: dict[str, Any]) -> tuple[str, ...]:
        """delivery.to plus delivery.recipients_file, each address once, in order."""
        listed = values["delivery.to"]
        path = values["delivery.recipients_file"]
        if path is None:
            return _unique(listed)
        delivery = data.get("delivery") or {}
        addresses = list(listed) if "to" in delivery else []
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as error:
            reason = getattr(error, "strerror", None) or error
            raise self.fail(
                f"delivery.recipients_file: cannot read {path}: {reason}",
                self.key_line(delivery, "recipients_file"),
            ) from None
        for number, line in enumerate(lines, 1):
            entry = line.split("#", 1)[0].strip()
            if not entry:
                continue
            try:
                addresses.extend(split_addresses(entry))
            except Invalid as error:
                raise ConfigError(str(error), path=str(path), line=number) from None
        if not addresses:
            raise self.fail(
                f"delivery.recipients_file: {path} lists no address",
                self.key_line(delivery, "recipients_file"),
            )
        return _unique(addresses)

    def read(self, data: CommentedMap, setting: Setting) -> Any:
        section, _, key = setting.key.rpartition(".")
        mapping: Any = data
        if section:
            mapping = data.get(section)
            if mapping is None:
                mapping = CommentedMap()
            elif not isinstance(mapping, CommentedMap):
                raise self.fail(
                    f"{section}: expected a mapping of keys", self.key_line(data, section)
                )
            known = {s.key.rpartition(".")[2] for s in SETTINGS if s.key.startswith(section + ".")}
            for name in mapping:
                if name not in known:
                    raise self.fail(
                        _unknown_key(f"{section}.{name}", str(name), known),
                        self.key_line(mapping, name),
                    )
        return self.value(mapping, key, setting, setting.key)

    def value(self, mapping: Any, key: str, setting: Setting, label: str) -> Any:
        line = self.key_line(mapping, key)
        if key not in mapping or mapping[key] is None:
            if setting.required:
                raise self.fail(f"{label}: missing (required; help: {setting.help})", line)
            raw = setting.default
            if raw is None:
                return None
        else:
            raw = mapping[key]
        try:
            return self.parse(raw, setting)
        except Invalid as error:
            # `port: '587'`: quoting a number is a common YAML slip with one clear meaning,
            # so a quoted number is taken wherever the number would be. A text setting
            # keeps its text (it is read as written first); a number refused too says why.
            number = _quoted_number(raw)
            if number is None:
                raise self.fail(f"{label}: {error}", line) from None
        try:
            return self.parse(number, setting)
        except Invalid as error:
            raise self.fail(f"{label}: {error}", line) from None

    def parse(self, raw: Any, setting: Setting) -> Any:
        """`raw` read by the setting's parser, or the loader's own for paths and URLs."""
        if setting.parse == PATH:
            return self.path_value(raw)
        if setting.parse == FOLDER:
            folder = self.path_value(raw)
            if not folder.is_dir():
                raise Invalid(f"no such folder: {folder}")
            return folder
        if setting.parse == URL_OR_PATH:
            return self.url_or_path(raw)
        if setting.parse == STORAGE:
            scheme = _URL_SCHEME.match(raw) if isinstance(raw, str) else None
            if scheme is None:
                return self.path_value(raw)
            if scheme[1].lower() not in STORAGE_SCHEMES:
                # Taken for a file name, "postgressql://..." would start a new, empty state
                # in a folder of that name: every story of the digest sent again.
                guesses = difflib.get_close_matches(scheme[1].lower(), STORAGE_SCHEMES, n=1)
                guess = f" (did you mean {guesses[0]}://?)" if guesses else ""
                raise Invalid(
                    f"unknown scheme {scheme[1]}://{guess}; storage is "
                    "postgresql://USER@HOST:PORT/DB or the path of a SQLite file"
                )
            return storage_url(raw)
        return setting.parse(raw)  # type: ignore[operator]

    def path_value(self, raw: Any) -> Path:
        text = text_value(raw, shown=False)
        variable = re.search(r"\$\{[A-Za-z_]\w*\}|\$([A-Za-z_]\w*)", text)
        if variable and (variable.group(1) is None or variable.group(1) in os.environ):
            # Taken as it is, "${HOME}/x.db" made a folder named "${HOME}" beside the config;
            # a folder named "$data" is no variable.
            raise Invalid(
                f"{text!r}: environment variables are not expanded in paths; write the path "
                "itself (~ is your home; a relative path is from the config's folder)"
            )
        path = Path(os.path.expanduser(text))
        return path if path.is_absolute() else (self.base / path).resolve()

    def url_or_path(self, raw: Any) -> str:
        text = text_value(raw, shown=False)
        if _USERINFO.match(text):
            # Said without the URL, which holds the password: it would be on screen, in
            # logs, in the state and in an OPML export.
            raise Invalid(
                "the URL holds a user name or password (user:password@), which would show "
                "wherever the URL does; write it without them and set the feed's auth_env "
                "to the name of an environment variable holding user:password"
            )
        try:
            parts = urlsplit(text)
            if parts.scheme in ("http", "https"):
                if not parts.hostname:
                    raise Invalid(f"{text!r} is not a URL or path (no host)")
                _ = parts.port  # raises ValueError when out of range
                return text
        except ValueError as error:
            raise Invalid(f"{text!r} is not a URL or path ({error})") from None
        if parts.scheme == "file":
            if parts.netloc not in ("", "localhost"):
                raise Invalid(f"{text!r}: a file:// URL needs an absolute path (file:///...)")
            return text
        if parts.scheme and len(parts.scheme) > 1:
            raise Invalid(f"{text!r} is not a URL or path (scheme {parts.scheme!r})")
        path = self.path_value(text)
        first = text.split("/", 1)[0]
        if not path.exists() and "." in first and not first.startswith("."):
            raise Invalid(
                f"{text!r} is not a file here; if it is a web address, write https://{text}"
            )
        return path.as_uri()

    def read_feeds(self, data: CommentedMap) -> tuple[FeedConfig, ...]:
        feeds = data.get("feeds")
        line = self.key_line(data, "feeds")
        if feeds is None or (isinstance(feeds, CommentedSeq) and not feeds):
            if self.feeds_optional:
                return ()
            raise self.fail("feeds: no feeds; add one with `digest feeds add`", line)
        if not isinstance(feeds, CommentedSeq):
            raise self.fail("feeds: expected a list of feeds (each with name and url)", line)
        known = {s.key for s in FEED_SETTINGS}
        out: list[FeedConfig] = []
        names: set[str] = set()
        urls: dict[str, str] = {}
        for index, entry in enumerate(feeds):
            entry_line = feeds.lc.item(index)[0] + 1
            label = f"feeds[{index}]"
            if not isinstance(entry, CommentedMap):
                raise self.fail(f"{label}: expected a mapping with name and url", entry_line)
            for name in entry:
                if name not in known:
                    raise self.fail(
                        _unknown_key(f"{label}.{name}", str(name), known),
                        self.key_line(entry, name),
                    )
            values = {s.key: self.value(entry, s.key, s, f"{label}.{s.key}") for s in FEED_SETTINGS}
            if values["name"] in names:
                raise self.fail(
                    f"{label}.name: {values['name']!r} is used by another feed",
                    self.key_line(entry, "name"),
                )
            key = feed_key(values["url"])
            if key in urls:
                other = urls[key]
                raise self.fail(
                    f"{label}.url: {values['url']!r} is listed twice (also feed {other!r})",
                    self.key_line(entry, "url"),
                )
            names.add(values["name"])
            urls[key] = values["name"]
            include, exclude = values.pop("filters") or ((), ())
            out.append(FeedConfig(**values, include=include, exclude=exclude))
        return tuple(out)
