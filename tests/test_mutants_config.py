"""The config as an operator meets it: every value they set reaches the digest, each value
out of range is refused with the file, the line and what to write instead, and a feed's
credentials are read from its environment variables. Written against the mutants
bench/mutation.sh found alive in digest/config/."""

from __future__ import annotations

import base64
from datetime import timedelta
from email.utils import parseaddr
from pathlib import Path

import pytest

from digest.config._loader import (
    SETTINGS,
    FeedConfig,
    FetchSettings,
    feed_url,
    load_config,
    parse_config,
    settings_help,
)
from digest.errors import ConfigError, Invalid
from digest.version import __version__

CONFIG = Path("/srv/digest/brief.yaml")
BASE = "title: Brief\nfeeds:\n  - name: One\n    url: https://one.example/feed.xml\n"
ONE_FEED = "feeds:\n  - name: One\n    url: https://one.example/feed.xml\n"

EVERY_SETTING = """\
title: Brief
timezone: Europe/Paris
language: de
contact_url: https://news.example/about
max_per_feed: 3
workers: 2
schedule: "0  7 * * *"
schedule_grace: 2h
fetch:
  timeout: 7.5
  max_bytes: 2MB
  concurrency: 3
  per_host: 1
  pages: false
  pages_per_feed: 9
  allow_private: true
  robots: false
alerts:
  to: ops@example.org
  after: 2d
delivery:
  method: smtp
  outbox: mail/outbox
  from: Brief <brief@news.example>
  to: [a@example.org]
  host: smtp.example.org
  port: 2525
  security: ssl
  username: brief
  password_env: BRIEF_SMTP_PASSWORD
  timeout: 12
  retries: 5
  retry_delay: 30s
  ca_file: certs/ca.pem
  keep_sent: 5d
serve:
  root: site
  port: 9000
feeds:
  - name: Demo
    url: http://127.0.0.1:8765/techwire/feed.xml
  - name: Elsewhere
    url: http://127.0.0.1:8766/feed.xml
"""


def test_every_setting_the_operator_writes_reaches_the_digest(tmp_path, monkeypatch):
    monkeypatch.setenv("BRIEF_SMTP_PASSWORD", "secret")
    (tmp_path / "site").mkdir()
    path = tmp_path / "brief.yaml"
    path.write_text(EVERY_SETTING)
    config = load_config(path)
    delivery = config.delivery
    assert (delivery.method, delivery.outbox, delivery.sender, delivery.recipients) == (
        "smtp", tmp_path / "mail" / "outbox", "Brief <brief@news.example>", ("a@example.org",),
    )  # fmt: skip
    assert (delivery.host, delivery.port, delivery.security, delivery.username) == (
        "smtp.example.org", 2525, "ssl", "brief",
    )  # fmt: skip
    assert (delivery.password_env, delivery.password()) == ("BRIEF_SMTP_PASSWORD", "secret")
    assert (delivery.timeout, delivery.retries, delivery.retry_delay) == (12.0, 5, 30.0)
    assert delivery.ca_file == str(tmp_path / "certs" / "ca.pem")
    assert delivery.keep_sent == timedelta(days=5)
    assert config.fetch == FetchSettings(
        timeout=7.5, max_bytes=2 * 1024**2, concurrency=3, per_host=1, pages=False,
        pages_per_feed=9, user_agent=f"digest/{__version__} (+https://news.example/about)",
        allow_private=True, robots=False,
    )  # fmt: skip
    assert (config.alerts.to, config.alerts.after) == ("ops@example.org", timedelta(days=2))
    assert (config.serve.root, config.serve.port) == (tmp_path / "site", 9000)
    assert (config.timezone, config.language, config.workers, config.max_per_feed) == (
        "Europe/Paris", "de", 2, 3,
    )  # fmt: skip
    assert (config.schedule, config.schedule_grace) == ("0 7 * * *", timedelta(hours=2))
    # The demo's own origin follows serve.port; any other port on 127.0.0.1 stays as written.
    assert [feed.url for feed in config.feeds] == [
        "http://127.0.0.1:9000/techwire/feed.xml",
        "http://127.0.0.1:8766/feed.xml",
    ]


def test_without_a_contact_url_the_user_agent_names_the_project_and_version():
    config = parse_config(BASE, CONFIG)
    assert config.fetch.user_agent == f"digest/{__version__}"
    assert config.delivery.ca_file is None and config.schedule is None


def test_the_demo_s_feeds_keep_their_urls_on_the_demo_s_own_port(tmp_path):
    (tmp_path / "site").mkdir()
    text = (
        "title: Brief\nserve:\n  root: site\n  port: 8765\n"
        "feeds:\n  - name: Demo\n    url: http://127.0.0.1:8765/techwire/feed.xml\n"
        "  - name: Root\n    url: http://127.0.0.1:8765\n"
    )
    config = parse_config(text, tmp_path / "brief.yaml")
    assert [f.url for f in config.feeds] == [
        "http://127.0.0.1:8765/techwire/feed.xml",
        "http://127.0.0.1:8765",
    ]
    moved = parse_config(text.replace("port: 8765", "port: 9000"), tmp_path / "brief.yaml")
    assert [f.url for f in moved.feeds][1] == "http://127.0.0.1:9000"


def _known_top_keys() -> str:
    return ", ".join(sorted({setting.key.split(".")[0] for setting in SETTINGS} | {"feeds"}))


REFUSED = [
    ("- a\n- b\n", "1: the config must be a mapping of keys (title:, feeds:, ...)"),
    (
        BASE + "archive:\n  url: https://news.example/archive/\n",
        "6: archive.url: set archive.dir too (the folder that URL serves)",
    ),
    (
        BASE + "delivery:\n  method: smtp\n  username: brief\n  password_env: NO_SUCH_PW_VAR\n",
        "8: delivery.password_env: $NO_SUCH_PW_VAR is not set, but delivery.username is; "
        "export the SMTP password in that variable",
    ),
    (
        BASE + "delivery:\n  method: smtp\n  username: brief\n",
        "7: delivery.password_env: $DIGEST_SMTP_PASSWORD is not set, but delivery.username "
        "is; export the SMTP password in that variable",
    ),
    ("title: Brief\nfeeds: nope\n", "2: feeds: expected a list of feeds (each with name and url)"),
    ("title: Brief\nfeeds: []\n", "2: feeds: no feeds; add one with `digest feeds add`"),
    (BASE + "  - just text\n", "5: feeds[1]: expected a mapping with name and url"),
    (
        BASE + "    colour: red\n",
        "5: feeds[0].colour: unknown key; known keys: auth_env, filters, headers_env, "
        "max_items, name, pages, pages_per_run, section, url, weight",
    ),
    (
        BASE + "  - name: Two\n    url: https://one.example/feed.xml\n",
        "6: feeds[1].url: 'https://one.example/feed.xml' is listed twice (also feed 'One')",
    ),
    (
        # The fragment is never sent, and a host has no case: one feed, fetched twice.
        BASE + "  - name: Two\n    url: https://ONE.example/feed.xml#top\n",
        "6: feeds[1].url: 'https://ONE.example/feed.xml#top' is listed twice (also feed 'One')",
    ),
    (
        BASE.replace("https://one", "https://me:secret@one"),
        "4: feeds[0].url: the URL holds a user name or password (user:password@), which would "
        "show wherever the URL does; write it without them and set the feed's auth_env to the "
        "name of an environment variable holding user:password",
    ),
    (
        BASE.replace("https://one.example/feed.xml", "'https:///feed.xml'"),
        "4: feeds[0].url: 'https:///feed.xml' is not a URL or path (no host)",
    ),
    (
        BASE.replace("one.example/", "one.example:99999/"),
        "4: feeds[0].url: 'https://one.example:99999/feed.xml' is not a URL or path "
        "(Port out of range 0-65535)",
    ),
    (
        BASE.replace("https://one.example/feed.xml", "'file://server/feed.xml'"),
        "4: feeds[0].url: 'file://server/feed.xml': a file:// URL needs an absolute path "
        "(file:///...)",
    ),
    (
        BASE.replace("https://one.example/feed.xml", "one.example/feed.xml"),
        "4: feeds[0].url: 'one.example/feed.xml' is not a file here; if it is a web address, "
        "write https://one.example/feed.xml",
    ),
    (
        BASE + "fetch:\n  max_bytes: 1000B\n",
        "6: fetch.max_bytes: '1000B' is too small; feeds and pages need at least 1KB",
    ),
    (
        BASE + "fetch:\n  max_bytes: 1000\n",  # a bare number is bytes, held to the same floor
        "6: fetch.max_bytes: 1000 is too small; feeds and pages need at least 1KB",
    ),
    (
        BASE + "fetch:\n  max_bytes: lots\n",
        "6: fetch.max_bytes: 'lots' is not a size; write it as 512KB or 10MB",
    ),
    (
        BASE + "schedule: '0 7 * *'\n",
        "5: schedule: '0 7 * *' is not a cron line; write five fields: minute hour day month "
        "weekday, e.g. '0 7 * * *'",
    ),
    (
        BASE + "schedule: '99 7 * * *'\n",
        "5: schedule: '99 7 * * *' is not a valid cron line: Error validating expression "
        "'99': the last value (99) is higher than the maximum value (59)",
    ),
    (
        BASE + "delivery:\n  unsubscribe: []\n",
        "6: delivery.unsubscribe: expected an https URL, a mailto: address, or a list of both",
    ),
    (
        BASE + "delivery:\n  unsubscribe: 'https:///x'\n",
        "6: delivery.unsubscribe: 'https:///x' is neither an http(s) URL nor a mailto: address",
    ),
    (
        BASE + "delivery:\n  unsubscribe: 'ftp://x.example/u'\n",
        "6: delivery.unsubscribe: 'ftp://x.example/u' is neither an http(s) URL nor a mailto: "
        "address",
    ),
]


REFUSED += [
    (BASE + "window: 0h\n", "5: window: '0h' is not a positive duration"),
    (BASE + "language: zz\n",
     "5: language: 'zz' is not a language CLDR knows; use ISO 639-1 such as en, fr, de"),
    (BASE + "delivery:\n  password_env: Sup3rS3cret!\n",
     "6: delivery.password_env: the value is not an environment variable name (not shown: it "
     "may be the secret itself); write the name of the variable that holds it, such as "
     "DIGEST_SMTP_PASSWORD"),
    (BASE + "timeout: 5\n",
     "5: timeout: not a top-level key; it goes under delivery: or fetch: (delivery.timeout, "
     "fetch.timeout)"),
    (BASE + "outbox: out\n",
     "5: outbox: not a top-level key; it goes under delivery: (delivery.outbox)"),
    (BASE + "storage: ${HOME}/x.db\n",
     "5: storage: '${HOME}/x.db': environment variables are not expanded in paths; write the "
     "path itself (~ is your home; a relative path is from the config's folder)"),
    (BASE + "delivery:\n  password_env: $DIGEST_SMTP_PASSWORD\n",
     "6: delivery.password_env: starts with $: write the variable's name without it (the "
     "value is not shown: it may be the secret itself)"),
    (BASE + "filters:\n  include: {a: b}\n",
     "6: filters.include: expected a keyword or phrase, or a list of them"),
    (BASE + "delivery:\n  to: []\n", "6: delivery.to: expected an address or a list of addresses"),
    (BASE + "delivery:\n  to: [3]\n", "6: delivery.to: 3 is not an email address"),
    (BASE + "delivery:\n  to: ' , '\n", "6: delivery.to: ' , ' is not an email address"),
    (BASE + "fetch: 3\n", "5: fetch: expected a mapping of keys"),
    (BASE + "fetch:\n  pages: true\n  timeoutt: 1\n",
     "7: fetch.timeoutt: unknown key; did you mean 'timeout'? known keys: allow_private, "
     "concurrency, max_bytes, pages, pages_per_feed, per_host, robots, timeout"),
    (BASE + "archive:\n  dir: null\n  url: https://x.example/a/\n",
     "7: archive.url: set archive.dir too (the folder that URL serves)"),
    (BASE + "  - url: https://two.example/feed.xml\n    name: One\n",
     "6: feeds[1].name: 'One' is used by another feed"),
]  # fmt: skip


REFUSED += [
    (BASE + "delivery:\n  to: 'Ana <a,b@x.org>'\n",
     "6: delivery.to: 'Ana <a,b@x.org>' is not an email address"),
    (BASE + f"delivery:\n  to: 'a@{'x' * 64}.org'\n",  # a DNS label over 63 characters
     f"6: delivery.to: 'a@{'x' * 64}.org' is not an email address"),
    (BASE + "delivery:\n  to: 'a\"b@x.org'\n",
     "6: delivery.to: 'a\"b@x.org' is not an email address"),
    (BASE.replace("https://one.example/feed.xml", "'ab:/x'"),
     "4: feeds[0].url: 'ab:/x' is not a URL or path (scheme 'ab')"),
    ('title: "a\\u007fb"\n' + ONE_FEED,
     "1: title: 'a\\x7fb' holds a control character (a line break?); write it on one line"),
    ('title: "a\\u009fb"\n' + ONE_FEED,
     "1: title: 'a\\x9fb' holds a control character (a line break?); write it on one line"),
    ('title: "a\\u001fb"\n' + ONE_FEED,
     "1: title: 'a\\x1fb' holds a control character (a line break?); write it on one line"),
    # (an operator's title with a bidi override turned the archive's heading around; one
    # with a lone surrogate ended the run with a traceback)
    ('title: "Brief \\u202e x"\n' + ONE_FEED,
     "1: title: 'Brief \\u202e x' holds U+202E, which is not text to show (a bidi control or "
     "a line separator); remove it"),
    ('title: "Brief \\udc80 x"\n' + ONE_FEED,
     "1: title: 'Brief \\udc80 x' holds U+DC80, a lone surrogate; remove it"),
    # (in a URL a lone surrogate cannot be percent-encoded, and ended preview in MJML)
    (BASE + 'archive:\n  dir: public\n  url: "https://arch.example/\\udc80/"\n',
     "7: archive.url: 'https://arch.example/\\udc80/' holds U+DC80, a lone surrogate; remove it"),
    (BASE + "max_items: true\n", "5: max_items: expected a whole number of at least 1, got True"),
    (BASE + "delivery:\n  port: true\n",
     "6: delivery.port: expected a port number from 1 to 65535, got True"),
    (BASE + "fetch:\n  timeout: true\n", "6: fetch.timeout: expected a number above 0, got True"),
    (BASE + "  # another feed\n  - just text\n",
     "6: feeds[1]: expected a mapping with name and url"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "message"), REFUSED)
def test_a_refused_config_names_the_line_and_what_to_write(text, message):
    with pytest.raises(ConfigError) as caught:
        parse_config(text, CONFIG)
    assert str(caught.value) == f"{CONFIG}:{message}"


def test_an_unknown_top_level_key_is_refused_listing_the_known_ones():
    with pytest.raises(ConfigError) as caught:
        parse_config("title: Brief\nfetchh: 1\n" + ONE_FEED, CONFIG)
    assert str(caught.value) == (
        f"{CONFIG}:2: fetchh: unknown key; did you mean 'fetch'? known keys: {_known_top_keys()}"
    )


@pytest.mark.parametrize(
    ("size", "size_in_bytes"),
    [
        ("1024", 1024),  # a bare number of bytes
        ("1KB", 1024),
        ("1 kb", 1024),
        ("1.5MB", 1536 * 1024),
        ("2mb", 2 * 1024**2),
        ("1GB", 1024**3),
        ("2048B", 2048),
    ],
)
def test_a_size_is_read_in_binary_units_whatever_its_case(size, size_in_bytes):
    config = parse_config(BASE + f"fetch:\n  max_bytes: {size}\n", CONFIG)
    assert config.fetch.max_bytes == size_in_bytes


@pytest.mark.parametrize("size", ["1023B", "0.5KB", "0", "true"])
def test_a_size_under_1kb_is_refused(size):
    with pytest.raises(ConfigError, match="max_bytes: "):
        parse_config(BASE + f"fetch:\n  max_bytes: {size}\n", CONFIG)


def test_an_unsubscribe_mailto_may_hold_the_reader_s_address():
    text = BASE + "delivery:\n  unsubscribe: 'mailto:leave+{recipient}@news.example'\n"
    assert parse_config(text, CONFIG).delivery.unsubscribe == (
        "mailto:leave+{recipient}@news.example",
    )
    bare_http = BASE + "delivery:\n  unsubscribe: 'http:x'\n"
    with pytest.raises(ConfigError, match="is neither an http"):
        parse_config(bare_http, CONFIG)


def test_an_unsubscribe_url_in_another_script_is_taken_and_a_bad_host_refused():
    text = BASE + "delivery:\n  unsubscribe: 'https://news.example/abmelden/\u00fc?r={recipient}'\n"
    assert parse_config(text, CONFIG).delivery.unsubscribe == (
        "https://news.example/abmelden/\u00fc?r={recipient}",
    )
    bad_host = BASE + "delivery:\n  unsubscribe: 'https://paypal.com\u2215x.example/u'\n"
    with pytest.raises(ConfigError, match="is not a valid domain name"):
        parse_config(bad_host, CONFIG)


def test_a_path_with_a_dollar_is_a_variable_only_when_it_names_one(monkeypatch):
    monkeypatch.setenv("DIGEST_STATE_DIR", "/var/lib/digest")
    monkeypatch.delenv("data", raising=False)
    assert parse_config(BASE + "storage: /srv/$data/x.db\n", CONFIG).storage == Path(
        "/srv/$data/x.db"
    )
    with pytest.raises(ConfigError, match="environment variables are not expanded in paths"):
        parse_config(BASE + "storage: $DIGEST_STATE_DIR/x.db\n", CONFIG)


def test_a_recipients_file_is_read_one_address_a_line_with_comments(tmp_path):
    (tmp_path / "readers.txt").write_text(
        "# readers\nann@example.org  # since 2024 # or so\n\nbob@example.org\n", encoding="utf-8"
    )
    text = BASE + "delivery:\n  recipients_file: readers.txt\n"
    config = parse_config(text, tmp_path / "brief.yaml")
    assert config.delivery.recipients == ("ann@example.org", "bob@example.org")


def test_an_unreadable_or_empty_recipients_file_is_refused_at_its_line(tmp_path):
    text = BASE + "delivery:\n  to: a@example.org\n  recipients_file: readers.txt\n"
    with pytest.raises(ConfigError) as caught:
        parse_config(text, tmp_path / "brief.yaml")
    assert str(caught.value) == (
        f"{tmp_path / 'brief.yaml'}:7: delivery.recipients_file: cannot read "
        f"{tmp_path / 'readers.txt'}: No such file or directory"
    )
    (tmp_path / "readers.txt").write_text("# nobody yet\n")
    no_to = text.replace("  to: a@example.org\n", "  method: file\n")
    with pytest.raises(ConfigError) as caught:
        parse_config(no_to, tmp_path / "brief.yaml")
    assert str(caught.value) == (
        f"{tmp_path / 'brief.yaml'}:7: delivery.recipients_file: "
        f"{tmp_path / 'readers.txt'} lists no address"
    )


def test_a_feed_s_own_pages_setting_wins_over_fetch_pages():
    fetch_on, fetch_off = FetchSettings(pages=True), FetchSettings(pages=False)
    feed = FeedConfig(name="One", url="https://one.example/feed.xml")
    assert feed.fetches_pages(fetch_on) and not feed.fetches_pages(fetch_off)
    no_pages = FeedConfig(name="One", url="https://one.example/feed.xml", pages=False)
    assert not no_pages.fetches_pages(fetch_on)


# -- a feed's credentials, from its environment variables ------------------------------------


def feed_with(auth_env: str | None = None, headers_env: str | None = None) -> FeedConfig:
    return FeedConfig(
        name="Paywalled", url="https://paper.example/feed.xml", auth_env=auth_env,
        headers_env=headers_env,
    )  # fmt: skip


def test_auth_env_becomes_a_basic_authorization_header(monkeypatch):
    monkeypatch.setenv("PAPER_AUTH", "reader:pa:ss wörd\n")  # as read from a file
    expected = base64.b64encode("reader:pa:ss wörd".encode()).decode()
    assert feed_with(auth_env="PAPER_AUTH").request_headers() == {
        "Authorization": f"Basic {expected}"
    }


CONTROL = "auth_env: $PAPER_AUTH holds a control character; write it on one line"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (None, "auth_env: $PAPER_AUTH is not set; export user:password in it"),
        ("reader", "auth_env: $PAPER_AUTH is not user:password (a user name, then ':')"),
        (":secret", "auth_env: $PAPER_AUTH is not user:password (a user name, then ':')"),
        (":pa:ss", "auth_env: $PAPER_AUTH is not user:password (a user name, then ':')"),
        ("reader:se\tcret", CONTROL),
        ("reader:se\x7fcret", CONTROL),
    ],
)  # fmt: skip
def test_a_bad_auth_env_is_refused_naming_the_variable_never_its_value(monkeypatch, value, message):
    if value is None:
        monkeypatch.delenv("PAPER_AUTH", raising=False)
    else:
        monkeypatch.setenv("PAPER_AUTH", value)
    with pytest.raises(Invalid) as caught:
        feed_with(auth_env="PAPER_AUTH").request_headers()
    assert str(caught.value) == message


def test_headers_env_sends_each_header_trimmed(monkeypatch):
    monkeypatch.setenv(
        "PAPER_HEADERS",
        '{"X-Api-Key": " k3y ", "X-Tab": "a\\tb", "X-Latin": "caf\\u00e9\\u00a0\\u00ff"}',
    )
    assert feed_with(headers_env="PAPER_HEADERS").request_headers() == {
        "X-Api-Key": "k3y",
        "X-Tab": "a\tb",
        "X-Latin": "café\u00a0ÿ",  # Latin-1, a no-break space included
    }


def test_headers_env_and_auth_env_together_give_both_headers(monkeypatch):
    monkeypatch.setenv("PAPER_HEADERS", '{"X-Api-Key": "k"}')
    monkeypatch.setenv("PAPER_AUTH", "u:p")
    headers = feed_with("PAPER_AUTH", "PAPER_HEADERS").request_headers()
    assert headers == {"X-Api-Key": "k", "Authorization": "Basic dTpw"}


SHAPE = 'a JSON object of headers, such as {"X-Api-Key": "..."}'


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (None, f"headers_env: $PAPER_HEADERS is not set; export {SHAPE} in it"),
        ("{bad", f"headers_env: $PAPER_HEADERS is not {SHAPE} (Expecting property name "
                 "enclosed in double quotes at character 1)"),
        ("[]", f"headers_env: $PAPER_HEADERS is not {SHAPE}"),
        ("{}", f"headers_env: $PAPER_HEADERS is not {SHAPE}"),
        ('{"X Api": "k"}', "headers_env: $PAPER_HEADERS: 'X Api' is not an HTTP header name"),
        ('{"Host": "k"}', "headers_env: $PAPER_HEADERS: Host is set by digest itself; drop it"),
        ('{"If-None-Match": "k"}',
         "headers_env: $PAPER_HEADERS: If-None-Match is set by digest itself; drop it"),
        ('{"X-A": 5}', "headers_env: $PAPER_HEADERS: the value of X-A must be a non-empty "
                       "string on one line, in Latin-1"),
        ('{"X-A": "  "}', "headers_env: $PAPER_HEADERS: the value of X-A must be a non-empty "
                          "string on one line, in Latin-1"),
        ('{"X-A": "a\\u007fb"}', "headers_env: $PAPER_HEADERS: the value of X-A must be a "
                                 "non-empty string on one line, in Latin-1"),
        ('{"X-A": "a\\u009fb"}', "headers_env: $PAPER_HEADERS: the value of X-A must be a "
                                 "non-empty string on one line, in Latin-1"),
        ('{"X-A": "a\\u0100b"}', "headers_env: $PAPER_HEADERS: the value of X-A must be a "
                                 "non-empty string on one line, in Latin-1"),
        ('{"X-A": "a\\u001fb"}', "headers_env: $PAPER_HEADERS: the value of X-A must be a "
                                 "non-empty string on one line, in Latin-1"),
    ],
)  # fmt: skip
def test_bad_headers_env_is_refused_naming_the_variable_never_its_value(
    monkeypatch, value, message
):
    if value is None:
        monkeypatch.delenv("PAPER_HEADERS", raising=False)
    else:
        monkeypatch.setenv("PAPER_HEADERS", value)
    with pytest.raises(Invalid) as caught:
        feed_with(headers_env="PAPER_HEADERS").request_headers()
    assert str(caught.value) == message


def test_authorization_in_headers_env_beside_auth_env_is_refused(monkeypatch):
    monkeypatch.setenv("PAPER_HEADERS", '{"authorization": "Bearer t"}')
    monkeypatch.setenv("PAPER_AUTH", "u:p")
    with pytest.raises(Invalid) as caught:
        feed_with("PAPER_AUTH", "PAPER_HEADERS").request_headers()
    assert str(caught.value) == (
        "headers_env: $PAPER_HEADERS sets Authorization and auth_env is set too; keep one of them"
    )


# -- recipients: an address list cut only at its top-level commas ----------------------------

LEE = '"Lee \\"Bo\\", Jr" <bo@x.org>'  # a quoted name holding escaped quotes and a comma


@pytest.mark.parametrize(
    ("value", "addresses"),
    [
        (f"{LEE}, ana@x.org", [LEE, "ana@x.org"]),
        ("ana@x.org (Ana, (the) boss), bo@x.org", ['"Ana, the boss" <ana@x.org>', "bo@x.org"]),
        ("(a\\) b, c) ana@x.org, bo@x.org", ['"a) b, c" <ana@x.org>', "bo@x.org"]),
        ('Ana <ana@x.org>, "B" <b@x.org>', ["Ana <ana@x.org>", "B <b@x.org>"]),
        ("Dr. Who <who@x.org>", ['"Dr. Who" <who@x.org>']),
    ],
)  # fmt: skip
def test_each_reader_of_an_address_list_gets_their_own_entry(value, addresses):
    config = parse_config(BASE + f"delivery:\n  to: '{value}'\n", CONFIG)
    assert list(config.delivery.recipients) == addresses


# -- each setting's range, at its edges -------------------------------------------------------


@pytest.mark.parametrize(
    ("setting", "read", "value"),
    [
        ("delivery:\n  retries: 0", lambda c: c.delivery.retries, 0),
        ("delivery:\n  retries: 10", lambda c: c.delivery.retries, 10),
        ("delivery:\n  port: 1", lambda c: c.delivery.port, 1),
        ("delivery:\n  port: 65535", lambda c: c.delivery.port, 65535),
        ("workers: 0", lambda c: c.workers, 0),
        ("workers: auto", lambda c: c.workers, None),
        ("max_per_feed: 1", lambda c: c.max_per_feed, 1),
        ("max_per_feed: auto", lambda c: c.max_per_feed, None),
        ("fetch:\n  timeout: 0.1", lambda c: c.fetch.timeout, 0.1),
        ("delivery:\n  subject: '{count} new'", lambda c: c.delivery.subject, "{count} new"),
        ("language: EN", lambda c: c.language, "en"),
        ("filters:\n  include: 'ai, ml'", lambda c: c.include, ("ai, ml",)),
    ],
)
def test_a_setting_at_the_edge_of_its_range_is_taken(setting, read, value):
    assert read(parse_config(BASE + setting + "\n", CONFIG)) == value


RETRIES = "expected a whole number from 0 to 10, got"
PORT = "expected a port number from 1 to 65535, got"


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("delivery:\n  retries: -1", f"6: delivery.retries: {RETRIES} -1"),
        ("delivery:\n  retries: 11", f"6: delivery.retries: {RETRIES} 11"),
        ("delivery:\n  retries: true", f"6: delivery.retries: {RETRIES} True"),
        ("delivery:\n  port: 0", f"6: delivery.port: {PORT} 0"),
        ("delivery:\n  port: 65536", f"6: delivery.port: {PORT} 65536"),
        ("delivery:\n  subject: '{title} {nope}'",
         "6: delivery.subject: unknown field {nope}; use {title}, {date}, {headline}, {count}"),
        ("delivery:\n  subject: '{title'", "6: delivery.subject: '{title' is not a valid pattern "
         "(expected '}' before end of string); write { as {{"),
        ("max_per_feed: 0", "5: max_per_feed: 0 is not auto or a whole number of at least 1"),
        ("max_per_feed: x", "5: max_per_feed: 'x' is not auto or a whole number of at least 1"),
        ("fetch:\n  timeout: 0", "6: fetch.timeout: expected a number above 0, got 0"),
        ("fetch:\n  timeout: -1", "6: fetch.timeout: expected a number above 0, got -1"),
        ("fetch:\n  timeout: .nan", "6: fetch.timeout: expected a number above 0, got nan"),
        ("fetch:\n  timeout: .inf", "6: fetch.timeout: expected a finite number, got inf"),
        ("delivery:\n  method: SMTP", "6: delivery.method: 'SMTP' is not one of: file, smtp"),
        ("filters:\n  include: [ai, '  ']", "6: filters.include: expected a non-empty string"),
        ("filters:\n  include: [3]", "6: filters.include: expected a non-empty string"),
        # a soft hyphen alone: filters match text without it, where it would match anything
        ('filters:\n  exclude: ["\\u00ad"]',
         "6: filters.exclude: '\\xad' has no visible word to match; write the word itself"),
        ("language: english",
         "5: language: 'english' is not a language code; use ISO 639-1 such as en, fr, de"),
        ("timezone: Mars/Base",
         "5: timezone: unknown timezone 'Mars/Base'; use an IANA name such as Europe/Paris"),
        ("show_why: yes", "5: show_why: expected true or false, got 'yes'"),
        ("show_why: 1", "5: show_why: expected true or false, got 1"),
    ],
)  # fmt: skip
def test_a_setting_out_of_its_range_is_refused_saying_what_it_takes(setting, message):
    with pytest.raises(ConfigError) as caught:
        parse_config(BASE + setting + "\n", CONFIG)
    assert str(caught.value) == f"{CONFIG}:{message}"


def test_workers_that_are_not_a_number_of_processes_are_refused():
    with pytest.raises(ConfigError) as caught:
        parse_config(BASE + "workers: many\n", CONFIG)
    assert str(caught.value).startswith(f"{CONFIG}:5: workers: 'many' is not auto")


def test_a_feed_s_own_filters_are_read_and_checked():
    filters = "    filters:\n      include: [ai, ml]\n      exclude: crypto\n"
    feed = parse_config(BASE + filters, CONFIG).feeds[0]
    assert (feed.include, feed.exclude) == (("ai", "ml"), ("crypto",))
    only_exclude = parse_config(BASE + "    filters:\n      exclude: [x]\n", CONFIG).feeds[0]
    assert (only_exclude.include, only_exclude.exclude) == ((), ("x",))
    refused = {
        "    filters: ai\n": "feeds[0].filters: expected a mapping with include: and/or exclude:",
        "    filters:\n      only: ai\n": (
            "feeds[0].filters: unknown key 'only'; known keys: exclude, include"
        ),
    }
    for text, message in refused.items():
        with pytest.raises(ConfigError) as caught:
            parse_config(BASE + text, CONFIG)
        assert str(caught.value) == f"{CONFIG}:5: {message}"


def test_a_folder_or_an_unreadable_file_given_as_the_config_says_what_to_give(tmp_path):
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path)
    assert str(caught.value) == (
        f"{tmp_path}: is a folder, not a config file; give one digest's YAML file "
        "(only `digest schedule` and `digest status` take a folder of them)"
    )
    latin = tmp_path / "latin.yaml"
    latin.write_bytes("title: Caf\xe9\n".encode("latin-1"))
    with pytest.raises(ConfigError) as caught:
        load_config(latin)
    assert str(caught.value).startswith(f"{latin}: cannot read config: 'utf-8' codec can't")
    utf8 = tmp_path / "brief.yaml"
    utf8.write_text(BASE.replace("Brief", "Café"), encoding="utf-8")
    assert load_config(utf8).title == "Café"


def help_line(key: str) -> str:
    lines = [line for line in settings_help().splitlines() if line.startswith(f"{key}: ")]
    assert len(lines) == 1, key
    return lines[0]


def test_digest_settings_shows_each_key_with_its_default_as_written_in_yaml():
    assert help_line("title").endswith(" (required)")
    assert help_line("feeds[].url").endswith(" (required)")
    assert help_line("fetch.pages").endswith(" (default: true)")
    assert help_line("fetch.allow_private").endswith(" (default: false)")
    assert help_line("fetch.timeout").endswith(" (default: 20)")
    assert help_line("fetch.per_host").endswith(" (default: 2)")
    assert help_line("delivery.to").endswith(" (default: reader@localhost)")
    assert help_line("templates") == (
        "templates: Folder with your own digest.mjml.j2 / digest.txt.j2."
    )
    assert "(required)" not in help_line("window")


def test_a_password_keeps_its_trailing_spaces_and_letters_once_the_line_break_is_cut(
    monkeypatch,
):
    monkeypatch.setenv("PAPER_AUTH", "reader:secretX \r\n")
    expected = base64.b64encode(b"reader:secretX ").decode()
    assert feed_with(auth_env="PAPER_AUTH").request_headers()["Authorization"] == (
        f"Basic {expected}"
    )


def test_headers_env_that_json_cannot_read_as_a_number_is_refused_without_its_text(monkeypatch):
    # A 5,000-digit number: json refuses it with a ValueError that has no position.
    monkeypatch.setenv("PAPER_HEADERS", '{"X-A": ' + "1" * 5000 + "}")
    with pytest.raises(Invalid) as caught:
        feed_with(headers_env="PAPER_HEADERS").request_headers()
    assert str(caught.value) == f"headers_env: $PAPER_HEADERS is not {SHAPE}"


def test_contact_url_alerts_and_unsubscribe_links_are_checked(tmp_path):
    config = parse_config(
        BASE + "contact_url: http://x.example/about\nalerts:\n  to: null\n", CONFIG
    )
    assert config.fetch.user_agent.endswith(" (+http://x.example/about)")
    assert config.alerts is None
    with pytest.raises(ConfigError) as caught:
        parse_config(BASE + "contact_url: ftp://x.example\n", CONFIG)
    assert str(caught.value) == f"{CONFIG}:5: contact_url: 'ftp://x.example' is not an http(s) URL"
    plain = parse_config(BASE + "delivery:\n  unsubscribe: http://a.example/u\n", CONFIG)
    assert plain.delivery.unsubscribe == ("http://a.example/u",)
    two = BASE + "delivery:\n  unsubscribe: [https://a.example/u, https://b.example/u]\n"
    with pytest.raises(ConfigError) as caught:
        parse_config(two, CONFIG)
    assert str(caught.value) == (
        f"{CONFIG}:6: delivery.unsubscribe: give at most one URL and one mailto: address"
    )


def test_a_recipients_file_not_in_utf_8_is_refused_saying_why(tmp_path):
    (tmp_path / "readers.txt").write_bytes("caf\xe9@example.org\n".encode("latin-1"))
    text = BASE + "delivery:\n  recipients_file: readers.txt\n"
    with pytest.raises(ConfigError) as caught:
        parse_config(text, tmp_path / "brief.yaml")
    assert str(caught.value).startswith(
        f"{tmp_path / 'brief.yaml'}:6: delivery.recipients_file: cannot read "
        f"{tmp_path / 'readers.txt'}: 'utf-8' codec can't decode"
    )


def test_the_demo_s_feeds_follow_serve_port_8766_too(tmp_path):
    (tmp_path / "site").mkdir()
    text = (
        "title: Brief\nserve:\n  root: site\n  port: 8766\n"
        "feeds:\n  - name: Demo\n    url: http://127.0.0.1:8765/techwire/feed.xml\n"
    )
    config = parse_config(text, tmp_path / "brief.yaml")
    assert config.feeds[0].url == "http://127.0.0.1:8766/techwire/feed.xml"


@pytest.mark.parametrize(
    ("setting", "read", "value"),
    [
        ('title: "a\\u00a0b"\n', lambda c: c.title, "a\u00a0b"),  # a no-break space is text
        ("window: 1s\n", lambda c: c.window, timedelta(seconds=1)),
        ("delivery:\n  password_env: smtp_pw\n", lambda c: c.delivery.password_env, "smtp_pw"),
        ("    filters:\n      include: [a]\n", lambda c: c.feeds[0].exclude, ()),
        ("delivery:\n  to: 'ana@x.org (Ana (the) boss, x), bo@x.org'\n",
         lambda c: c.delivery.recipients, ('"Ana the boss, x" <ana@x.org>', "bo@x.org")),
    ],
)  # fmt: skip
def test_more_values_the_operator_may_write_are_taken(setting, read, value):
    text = setting + ONE_FEED if setting.startswith("title") else BASE + setting
    assert read(parse_config(text, CONFIG)) == value


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("file:///srv/feed.xml", "file:///srv/feed.xml"),
        ("file://localhost/srv/feed.xml", "file://localhost/srv/feed.xml"),
        ("'c:/feeds/x.xml'", "file:///srv/digest/c%3A/feeds/x.xml"),  # one letter: a path
        (".hidden/feed.xml", "file:///srv/digest/.hidden/feed.xml"),
    ],
)
def test_file_urls_and_paths_next_to_the_config_are_feeds_too(url, expected):
    text = BASE.replace("https://one.example/feed.xml", url)
    assert parse_config(text, CONFIG).feeds[0].url == expected


def test_a_config_names_its_own_file_its_templates_and_no_served_folder(tmp_path):
    (tmp_path / "tpl").mkdir()
    path = tmp_path / "brief.yaml"
    config = parse_config(BASE + "templates: tpl\n", path)
    assert (config.path, config.templates, config.serve) == (path, tmp_path / "tpl", None)


def test_a_password_ending_in_a_letter_x_keeps_it(monkeypatch):
    monkeypatch.setenv("PAPER_AUTH", "reader:secretX\r\n")
    expected = base64.b64encode(b"reader:secretX").decode()
    assert feed_with(auth_env="PAPER_AUTH").request_headers()["Authorization"] == (
        f"Basic {expected}"
    )


def refusal(text: str) -> str:
    with pytest.raises(ConfigError) as caught:
        parse_config(text, CONFIG)
    return str(caught.value)


@pytest.mark.parametrize(
    ("value", "workers"),
    [
        ("auto", None),
        ("0", 0),
        ("3", 3),
        ("dask://scheduler.lan:8786", "tcp://scheduler.lan:8786"),
        ("tcp://10.0.0.5:8786", "tcp://10.0.0.5:8786"),
        ("tcp://10.0.0.5:08786", "tcp://10.0.0.5:8786"),
        ("dask://[::1]:8786", "tcp://[::1]:8786"),
        ("dask://scheduler.lan:1", "tcp://scheduler.lan:1"),
        ("dask://scheduler.lan:65535", "tcp://scheduler.lan:65535"),
    ],
)
def test_workers_take_auto_a_count_or_a_dask_scheduler_read_as_tcp(value, workers):
    assert parse_config(BASE + f"workers: {value}\n", CONFIG).workers == workers


DASK_SHAPE = "is not a Dask scheduler: dask://HOST:PORT or tcp://HOST:PORT"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("http://scheduler.lan:8786", f"'http://scheduler.lan:8786' {DASK_SHAPE}"),
        ("tcp://:8786", f"'tcp://:8786' {DASK_SHAPE}"),
        ("tcp://scheduler.lan/x:8786", f"'tcp://scheduler.lan/x:8786' {DASK_SHAPE}"),
        ("tcp://scheduler.lan:8786/", f"'tcp://scheduler.lan:8786/' {DASK_SHAPE}"),
        ("tcp://scheduler.lan", f"'tcp://scheduler.lan' {DASK_SHAPE}"),
        ("dask://scheduler.lan:0", "'dask://scheduler.lan:0': port 0 is not 1-65535"),
        ("dask://scheduler.lan:65536", "'dask://scheduler.lan:65536': port 65536 is not 1-65535"),
        (
            "-1",
            "-1 is not auto, a number of processes (0 or more) or a Dask scheduler "
            "(dask://HOST:PORT)",
        ),
    ],
)
def test_workers_that_are_no_count_or_scheduler_are_refused_saying_the_shape(value, message):
    assert refusal(BASE + f"workers: {value}\n") == f"{CONFIG}:5: workers: {message}"


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://digest@db.lan:5432/news",
        "postgres://db.lan:5432/news",
        "postgresql://digest@db.lan/X",
        "  postgresql://digest@db.lan/news  ",
    ],
)
def test_a_postgresql_storage_url_is_kept_as_a_url(url):
    config = parse_config(BASE + f"storage: '{url}'\n", CONFIG)
    assert config.storage == url.strip()


@pytest.mark.parametrize(
    "url", ["postgresql://digest:s3cret@db.lan/news", "postgresql://digest:p@ss@db.lan/news"]
)
def test_a_storage_url_holding_a_password_is_refused_without_showing_it(url):
    message = refusal(BASE + f"storage: '{url}'\n")
    assert message == (
        f"{CONFIG}:5: storage: the storage URL holds a password, which would be shown in logs "
        "and status; remove it from the URL and set DIGEST_STORAGE_PASSWORD in the environment"
    )


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("postgresql://digest@db.lan:99999/news", "the port is not a number from 1 to 65535"),
        ("postgresql://digest@db.lan:x/news", "the port is not a number from 1 to 65535"),
        ("postgresql://digest@db.lan:0/news", "is not postgresql://USER@HOST:PORT/DATABASE"),
        ("postgresql://digest@db.lan:5432", "is not postgresql://USER@HOST:PORT/DATABASE"),
        ("postgresql://digest@db.lan:5432/", "is not postgresql://USER@HOST:PORT/DATABASE"),
        ("postgresql:///news", "is not postgresql://USER@HOST:PORT/DATABASE"),
    ],
)
def test_a_storage_url_without_host_database_or_a_valid_port_is_refused(url, reason):
    message = refusal(BASE + f"storage: '{url}'\n")
    separator = ": " if reason.startswith("the port") else " "
    assert message == f"{CONFIG}:5: storage: '{url}'{separator}{reason}"


@pytest.mark.parametrize("digest_id", ["news", "Brief-FR", "team_2.daily", "7", "a" * 64])
def test_an_id_of_letters_digits_dots_dashes_and_underscores_is_the_digest_s_key(digest_id):
    assert parse_config(BASE + f"id: '{digest_id}'\n", CONFIG).id == digest_id


def test_a_config_without_an_id_is_the_storage_s_unnamed_digest():
    assert parse_config(BASE, CONFIG).id == ""


@pytest.mark.parametrize("digest_id", ["-news", ".news", "news fr", "news/fr", "a" * 65])
def test_an_id_with_other_characters_or_over_64_is_refused(digest_id):
    assert refusal(BASE + f"id: '{digest_id}'\n") == (
        f"{CONFIG}:5: id: {digest_id!r} is not an id: letters, digits, '.', '_' and '-', up to 64"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        # a tab after a value, where YAML reads it as the start of a token
        ("title: Brief\nwindow: 48h\t# two days\n",
         "2: YAML syntax error: tabs are not allowed here in YAML; use spaces"),
        ("title: Brief\n\tfeeds: []\n",
         "2: YAML syntax error: tabs are not allowed for indentation in YAML; use spaces"),
        ("title: *brief\n",
         "1: YAML syntax error: a value that starts with '*' or '&' must be quoted, else YAML "
         "reads an alias or an anchor there; write title: '*brief'"),
        # an unquoted cron line, as the docs' "0 7 * * *" invites one
        ("title: Brief\nschedule: */15 6-22 * * *\n",
         "2: YAML syntax error: a value that starts with '*' or '&' must be quoted, else YAML "
         "reads an alias or an anchor there; write schedule: '*/15 6-22 * * *'"),
        ("title: Brief\nschedule: */15 6-22 * * *   # every quarter hour\n",
         "2: YAML syntax error: a value that starts with '*' or '&' must be quoted, else YAML "
         "reads an alias or an anchor there; write schedule: '*/15 6-22 * * *'"),
        # a merge key is meant as an alias: a misspelt one is said as YAML says it
        ("title: Brief\nbase: &feed {section: World}\nfeeds:\n  - <<: *feeed\n",
         "4: YAML syntax error: found undefined alias 'feeed'"),
        ("title: Brief\nschedule: * * * * *\n",
         "2: YAML syntax error: a value that starts with '*' or '&' must be quoted, else YAML "
         "reads an alias or an anchor there; write schedule: '* * * * *'"),
        ("title: Brief\nfeeds:\n  - name: & Co news\n",
         "3: YAML syntax error: a value that starts with '*' or '&' must be quoted, else YAML "
         "reads an alias or an anchor there; write - name: '& Co news'"),
        # an anchor YAML accepts, and drops from the value: the title would be "News"
        ("title: &Co News\n" + ONE_FEED,
         "1: YAML syntax error: a value that starts with '*' or '&' must be quoted, else YAML "
         "reads an alias or an anchor there; write title: '&Co News'"),
        ("title: Brief\nfeeds:\n  - name: &Co\n    url: https://one.example/feed.xml\n",
         "3: YAML syntax error: a value that starts with '*' or '&' must be quoted, else YAML "
         "reads an alias or an anchor there; write - name: '&Co'"),
        # in a flow mapping, quotes to the line's end would swallow the rest of it
        ("title: Brief\nfeeds:\n  - {name: &Co News, url: 'https://one.example/feed.xml'}\n",
         "3: YAML syntax error: a value that starts with '*' or '&' must be quoted, else YAML "
         "reads an alias or an anchor there"),
        # the second of two equal keys is the line to look at, whatever the parser's context
        ("title: Brief\ntitle: Other\n",
         "2: YAML syntax error: found duplicate key \"title\" with value \"Other\" "
         "(original value: \"Brief\")"),
        # a directive after the content is complained of at the stream's end, past the file
        ("title: Brief\n%YAML 1.2\n",
         "2: YAML syntax error: expected '<document start>', but found ('<stream end>',)"),
        ("%YAML 1.2\n",
         "1: YAML syntax error: expected '<document start>', but found ('<stream end>',)"),
    ],
)  # fmt: skip
def test_a_yaml_slip_is_put_on_a_line_of_the_file_in_plain_words(text, message):
    assert refusal(text) == f"{CONFIG}:{message}"


def test_anchors_that_are_used_or_on_a_block_are_yaml_as_meant():
    config = parse_config(
        "title: &brief Brief\nfetch: &unused\n  robots: true\nfeeds: &feeds\n"
        "  - name: *brief\n    url: https://one.example/feed.xml\n",
        CONFIG,
    )
    assert (config.title, config.feeds[0].name) == ("Brief", "Brief")
    # before a tag, and on a block scalar, whose lines keep every word
    config = parse_config(
        "title: Brief\nfeeds:\n  - &one !!map\n    name: One\n    url: https://one.example/f\n"
        "    section: &world >-\n      World news\n",
        CONFIG,
    )
    assert (config.feeds[0].name, config.feeds[0].section) == ("One", "World news")


def test_a_file_yaml_cannot_read_at_all_is_refused_saying_why():
    with pytest.raises(ConfigError) as caught:
        parse_config("title: Brief\x00\n", CONFIG)
    assert str(caught.value) == (
        f"{CONFIG}: not readable as YAML: unacceptable character #x0000: special characters "
        'are not allowed in "<unicode string>", position 12'
    )
    assert caught.value.path == str(CONFIG)


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("fetch.robots: true\n", "robots: true"),
        ("delivery.to: [a@example.org]\n", "to: ..."),
        ("delivery.to:\n  - a@example.org\n", "to: ..."),
        ("delivery.host: |\n  smtp.example.org\n  other\n", "host: ..."),
    ],
)
def test_a_dotted_key_written_flat_shows_its_value_nested_when_it_fits_one_line(text, shown):
    section, _, name = text.split(":")[0].partition(".")
    assert refusal(BASE + text) == (
        f"{CONFIG}:5: {section}.{name}: a dotted key is written nested in YAML: `{section}:` "
        f"on its own line, then `  {shown}` under it"
    )


def test_a_flat_key_is_matched_against_top_level_keys_only():
    assert refusal(BASE + "fetch_timeout: 5\n") == (
        f"{CONFIG}:5: fetch_timeout: unknown key; known keys: {_known_top_keys()}"
    )


def test_a_misspelt_dotted_key_lists_the_top_level_keys():
    assert refusal(BASE + "fetch.timout: 5\n") == (
        f"{CONFIG}:5: fetch.timout: unknown key; did you mean 'fetch.timeout'? known keys: "
        f"{_known_top_keys()}"
    )


def test_smtp_without_recipients_is_refused_at_the_method_line():
    text = BASE + "delivery:\n  host: smtp.example.org\n  method: smtp\n"
    assert refusal(text).startswith(f"{CONFIG}:7: delivery.to: missing; with method smtp")


def test_a_config_without_feeds_loads_only_where_feeds_are_optional(tmp_path):
    path = tmp_path / "brief.yaml"
    path.write_text("title: Brief\n")
    with pytest.raises(ConfigError, match="feeds: no feeds"):
        load_config(path)
    assert load_config(path, feeds_optional=True).feeds == ()
    assert parse_config("title: Brief\n", path, feeds_optional=True).feeds == ()


def test_an_absolute_path_is_kept_as_written_even_through_a_link(tmp_path):
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    outbox = tmp_path / "link" / "outbox"
    config = parse_config(BASE + f"delivery:\n  outbox: {outbox}\n", CONFIG)
    assert config.delivery.outbox == outbox


def test_feeds_added_from_the_command_line_are_read_as_the_config_reads_them(tmp_path):
    config_path = tmp_path / "brief.yaml"
    assert feed_url("feeds/local.xml", config_path) == (tmp_path / "feeds/local.xml").as_uri()
    assert feed_url("https://one.example/feed.xml", config_path) == "https://one.example/feed.xml"


def test_a_sender_name_holding_a_backslash_stays_escaped_in_its_quotes():
    sender = r'"Ann \\ Lee" <ann@example.org>'
    config = parse_config(BASE + f"delivery:\n  from: '{sender}'\n", CONFIG)
    assert config.delivery.sender == sender
    assert parseaddr(config.delivery.sender) == ("Ann \\ Lee", "ann@example.org")
