"""Load and validate a digest's YAML config.

Every key is declared once in `SETTINGS` (top level and sections) or `FEED_SETTINGS` (one
entry of `feeds:`), with its parser, default and help text. The same registry validates the
YAML, fills defaults and feeds `digest settings` and the docs test, so a key cannot exist
undocumented. Errors name the file and line: `config/demo.yaml:14: feeds[2].url: ...`.

Paths in the config are relative to the config file, not to the working directory, so a
cron job started from `/` reads the same files as an operator in the repo.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError

from .errors import ConfigError

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d|w)\s*$")
_DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


class _Invalid(Exception):
    """A value failed its parser; the loader adds file, line and key."""


def parse_duration(value: Any) -> timedelta:
    """'48h' -> 2 days. Units: s, m, h, d, w."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise _Invalid("expected a duration such as 30m, 48h or 7d")
    if isinstance(value, (int, float)):
        return timedelta(seconds=float(value))
    match = _DURATION.match(value)
    if not match:
        raise _Invalid(f"{value!r} is not a duration; write it as 30m, 48h or 7d")
    return timedelta(seconds=float(match.group(1)) * _DURATION_UNITS[match.group(2)])


def _text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _Invalid("expected a non-empty string")
    return value.strip()


def _optional_text(value: Any) -> str | None:
    if value is None:
        return None
    return _text(value)


def _positive_int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise _Invalid(f"expected a whole number of at least 1, got {value!r}")
    return value


def _port(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 65535:
        raise _Invalid(f"expected a port number from 0 to 65535, got {value!r}")
    return value


def _positive_float(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise _Invalid(f"expected a number above 0, got {value!r}")
    return float(value)


def _byte_size(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    match = re.match(r"^\s*(\d+(?:\.\d+)?)\s*(B|KB|MB|GB)\s*$", str(value), re.IGNORECASE)
    if not match:
        raise _Invalid(f"{value!r} is not a size; write it as 512KB or 10MB")
    factor = {"b": 1, "kb": 1024, "mb": 1024**2, "gb": 1024**3}[match.group(2).lower()]
    return int(float(match.group(1)) * factor)


def _timezone(value: Any) -> str:
    name = _text(value)
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise _Invalid(
            f"unknown timezone {name!r}; use an IANA name such as Europe/Paris"
        ) from None
    return name


def _choice(*options: str) -> Callable[[Any], str]:
    def parse(value: Any) -> str:
        if value not in options:
            raise _Invalid(f"{value!r} is not one of: {', '.join(options)}")
        return value

    return parse


def _address_list(value: Any) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, (list, tuple)) or not items:
        raise _Invalid("expected an address or a list of addresses")
    out = []
    for item in items:
        if not isinstance(item, str) or "@" not in item:
            raise _Invalid(f"{item!r} is not an email address")
        out.append(item.strip())
    return tuple(out)


def _address(value: Any) -> str:
    if not isinstance(value, str) or "@" not in value:
        raise _Invalid(f"{value!r} is not an email address")
    return value.strip()


def _env_name(value: Any) -> str:
    name = _text(value)
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise _Invalid(f"{name!r} is not an environment variable name")
    return name


def _optional_http_url(value: Any) -> str | None:
    if value is None:
        return None
    url = _text(value)
    if urlsplit(url).scheme not in ("http", "https"):
        raise _Invalid(f"{url!r} is not an http(s) URL")
    return url


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise _Invalid(f"expected true or false, got {value!r}")
    return value


# Marks a parser whose value is a path relative to the config file.
_PATH = "path"


@dataclass(frozen=True)
class Setting:
    key: str  # dotted: "fetch.timeout"; feed keys are bare: "url"
    parse: Callable[[Any], Any] | str
    default: Any
    help: str
    required: bool = False


SETTINGS: tuple[Setting, ...] = (
    Setting("title", _text, None, "Digest title, shown in the subject and the email.", True),
    Setting("window", parse_duration, "48h", "Only articles published within this span."),
    Setting("max_items", _positive_int, 20, "At most this many items per digest."),
    Setting("storage", _PATH, "var/digest.db", "SQLite file that keeps the run state."),
    Setting("timezone", _timezone, "UTC", "IANA timezone for dates shown in the digest."),
    Setting("language", _text, "en", "Language of the digest (ISO 639-1)."),
    Setting("templates", _PATH, None, "Folder with your own digest.mjml.j2 / digest.txt.j2."),
    Setting(
        "contact_url", _optional_http_url, None, "URL named in the User-Agent, for site owners."
    ),
    Setting("fetch.timeout", _positive_float, 20.0, "Seconds before one request gives up."),
    Setting("fetch.max_bytes", _byte_size, "10MB", "Largest feed or page body accepted."),
    Setting("fetch.concurrency", _positive_int, 8, "Requests in flight at once."),
    Setting("fetch.per_host", _positive_int, 2, "Requests in flight at once to one host."),
    Setting("fetch.pages", _bool, True, "Fetch article pages (else feed text)."),
    Setting("delivery.method", _choice("file", "smtp"), "file", "file (outbox folder) or smtp."),
    Setting("delivery.outbox", _PATH, "var/outbox", "Folder for .html/.txt/.eml (file method)."),
    Setting("delivery.from", _address, "digest@localhost", "From address."),
    Setting("delivery.to", _address_list, ("reader@localhost",), "Recipient(s)."),
    Setting("delivery.host", _text, "localhost", "SMTP server host."),
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
        "Environment variable holding the SMTP password.",
    ),
    Setting(
        "delivery.timeout", _positive_float, 30.0, "Seconds before the SMTP server is given up."
    ),
    Setting("serve.root", _PATH, None, "Folder served on 127.0.0.1 during the run (the demo)."),
    Setting("serve.port", _port, 8765, "Port for serve.root."),
)

FEED_SETTINGS: tuple[Setting, ...] = (
    Setting("name", _text, None, "Outlet name shown in the digest.", True),
    Setting("url", "url_or_path", None, "Feed URL, file:// URL or path.", True),
    Setting("section", _optional_text, None, "Section of the digest this feed's items go in."),
    Setting("weight", _positive_float, 1.0, "Ranking weight of this feed's items."),
)


@dataclass(frozen=True)
class FeedConfig:
    name: str
    url: str  # http(s) URL or an absolute file:// URL
    section: str | None = None
    weight: float = 1.0


@dataclass(frozen=True)
class FetchSettings:
    timeout: float = 20.0
    max_bytes: int = 10 * 1024**2
    concurrency: int = 8
    per_host: int = 2
    pages: bool = True
    user_agent: str = "digest/0.1 (+https://github.com/digest-email/digest)"


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

    def password(self) -> str | None:
        return os.environ.get(self.password_env)


@dataclass(frozen=True)
class ServeConfig:
    root: Path
    port: int = 8765


@dataclass(frozen=True)
class Config:
    path: Path
    title: str
    window: timedelta
    max_items: int
    storage: Path
    feeds: tuple[FeedConfig, ...]
    delivery: DeliveryConfig
    fetch: FetchSettings
    timezone: str = "UTC"
    language: str = "en"
    templates: Path | None = None
    serve: ServeConfig | None = None


def load_config(path: str | os.PathLike[str]) -> Config:
    """Read and validate a YAML config file. Raises ConfigError naming file and line."""
    config_path = Path(path)
    try:
        source = config_path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError("no such config file", path=str(path)) from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"cannot read config: {error}", path=str(path)) from None
    return parse_config(source, config_path)


def parse_config(source: str, path: Path) -> Config:
    """Validate YAML text as if it were the file at `path` (for relative paths and messages)."""
    try:
        data = YAML(typ="rt").load(source)
    except MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark else None
        raise ConfigError(
            f"YAML syntax error: {error.problem}", path=str(path), line=line
        ) from None
    return _Loader(path).build(data)


class _Loader:
    def __init__(self, path: Path):
        self.path = path
        self.base = path.resolve().parent

    def fail(self, message: str, line: int | None) -> ConfigError:
        return ConfigError(message, path=str(self.path), line=line)

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
        for key in data:
            if key not in known_top:
                raise self.fail(
                    f"{key}: unknown key; known keys: {', '.join(sorted(known_top))}",
                    self.key_line(data, key),
                )
        values: dict[str, Any] = {}
        for setting in SETTINGS:
            values[setting.key] = self.read(data, setting)
        feeds = self.read_feeds(data)
        delivery = DeliveryConfig(
            method=values["delivery.method"],
            outbox=values["delivery.outbox"],
            sender=values["delivery.from"],
            recipients=tuple(values["delivery.to"]),
            host=values["delivery.host"],
            port=values["delivery.port"],
            security=values["delivery.security"],
            username=values["delivery.username"],
            password_env=values["delivery.password_env"],
            timeout=values["delivery.timeout"],
        )
        user_agent = "digest/0.1"
        if values["contact_url"]:
            user_agent += f" (+{values['contact_url']})"
        fetch = FetchSettings(
            timeout=values["fetch.timeout"],
            max_bytes=values["fetch.max_bytes"],
            concurrency=values["fetch.concurrency"],
            per_host=values["fetch.per_host"],
            pages=values["fetch.pages"],
            user_agent=user_agent,
        )
        serve = None
        if values["serve.root"] is not None:
            serve = ServeConfig(root=values["serve.root"], port=values["serve.port"])
        return Config(
            path=self.path,
            title=values["title"],
            window=values["window"],
            max_items=values["max_items"],
            storage=values["storage"],
            feeds=feeds,
            delivery=delivery,
            fetch=fetch,
            timezone=values["timezone"],
            language=values["language"],
            templates=values["templates"],
            serve=serve,
        )

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
                        f"{section}.{name}: unknown key; known keys: {', '.join(sorted(known))}",
                        self.key_line(mapping, name),
                    )
        return self.value(mapping, key, setting, setting.key)

    def value(self, mapping: Any, key: str, setting: Setting, label: str) -> Any:
        line = self.key_line(mapping, key)
        if key not in mapping or mapping[key] is None:
            if setting.required:
                raise self.fail(f"{label}: missing; {setting.help}", line)
            raw = setting.default
            if raw is None:
                return None
        else:
            raw = mapping[key]
        try:
            if setting.parse == _PATH:
                return self.path_value(raw)
            if setting.parse == "url_or_path":
                return self.url_or_path(raw)
            return setting.parse(raw)  # type: ignore[operator]
        except _Invalid as error:
            raise self.fail(f"{label}: {error}", line) from None

    def path_value(self, raw: Any) -> Path:
        text = _text(raw)
        path = Path(os.path.expanduser(text))
        return path if path.is_absolute() else (self.base / path).resolve()

    def url_or_path(self, raw: Any) -> str:
        text = _text(raw)
        parts = urlsplit(text)
        if parts.scheme in ("http", "https"):
            if not parts.netloc:
                raise _Invalid(f"{text!r} is not a URL or path (no host)")
            return text
        if parts.scheme == "file":
            return text
        if parts.scheme and len(parts.scheme) > 1:
            raise _Invalid(f"{text!r} is not a URL or path (scheme {parts.scheme!r})")
        return self.path_value(text).as_uri()

    def read_feeds(self, data: CommentedMap) -> tuple[FeedConfig, ...]:
        feeds = data.get("feeds")
        line = self.key_line(data, "feeds")
        if not isinstance(feeds, CommentedSeq) or not feeds:
            raise self.fail("feeds: expected a list of feeds (each with name and url)", line)
        known = {s.key for s in FEED_SETTINGS}
        out: list[FeedConfig] = []
        names: set[str] = set()
        for index, entry in enumerate(feeds):
            entry_line = feeds.lc.item(index)[0] + 1
            label = f"feeds[{index}]"
            if not isinstance(entry, CommentedMap):
                raise self.fail(f"{label}: expected a mapping with name and url", entry_line)
            for name in entry:
                if name not in known:
                    raise self.fail(
                        f"{label}.{name}: unknown key; known keys: {', '.join(sorted(known))}",
                        self.key_line(entry, name),
                    )
            values = {s.key: self.value(entry, s.key, s, f"{label}.{s.key}") for s in FEED_SETTINGS}
            if values["name"] in names:
                raise self.fail(
                    f"{label}.name: {values['name']!r} is used by another feed",
                    self.key_line(entry, "name"),
                )
            names.add(values["name"])
            out.append(FeedConfig(**values))
        return tuple(out)


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
