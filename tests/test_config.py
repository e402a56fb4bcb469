from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from digest.config._loader import FEED_SETTINGS, SETTINGS, load_config, parse_config, settings_help
from digest.errors import ConfigError

REPO = Path(__file__).resolve().parent.parent
GOOD = """\
title: Brief
feeds:
  - name: One
    url: https://one.example/feed.xml
  - name: Two
    url: feeds/two.xml
"""


def parse(text: str, path: Path = Path("/srv/digest/brief.yaml")):
    return parse_config(text, path)


def error_of(text: str) -> str:
    with pytest.raises(ConfigError) as caught:
        parse(text)
    return str(caught.value)


def test_demo_config_loads():
    config = load_config(REPO / "config" / "demo.yaml")
    assert config.title == "Morning Brief"
    assert config.window == timedelta(hours=48)
    assert len(config.feeds) == 8
    assert config.serve is not None and config.serve.root == REPO / "config" / "demo" / "sites"
    assert config.storage == REPO / "var" / "demo" / "digest.db"


def test_defaults_and_relative_paths():
    config = parse(GOOD)
    assert config.max_items == 20
    assert config.window == timedelta(hours=48)
    assert config.storage == Path("/srv/digest/var/digest.db")
    assert config.feeds[1].url == "file:///srv/digest/feeds/two.xml"
    assert config.delivery.method == "file"
    assert config.fetch.per_host == 2


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("title: Brief", "title: ''", "brief.yaml:1: title: expected a non-empty string"),
        ("    url: feeds/two.xml\n", "", "brief.yaml:5: feeds[1].url: missing"),
        (
            "url: feeds/two.xml",
            "url: htp:/x",
            "brief.yaml:6: feeds[1].url: 'htp:/x' is not a URL or path (scheme 'htp')",
        ),
        (
            "url: feeds/two.xml",
            "url: x\n    colour: red",
            "brief.yaml:7: feeds[1].colour: unknown key",
        ),
        (
            "title: Brief",
            "title: Brief\nwindow: soon",
            "brief.yaml:2: window: 'soon' is not a duration",
        ),
        (
            "title: Brief",
            "title: Brief\nmax_items: 0",
            "brief.yaml:2: max_items: expected a whole number",
        ),
        (
            "title: Brief",
            "title: Brief\ntimezone: Mars/Base",
            "brief.yaml:2: timezone: unknown timezone",
        ),
        (
            "title: Brief",
            "title: Brief\nfetch:\n  speed: 3",
            "brief.yaml:3: fetch.speed: unknown key",
        ),
        (
            "title: Brief",
            "title: Brief\ndelivery:\n  method: pigeon",
            "brief.yaml:3: delivery.method: 'pigeon' is not one of: file, smtp",
        ),
        ("title: Brief", "title: Brief\ncolour: red", "brief.yaml:2: colour: unknown key"),
        (
            "title: Brief",
            "title: Brief\ndelivery:\n  to: nobody",
            "brief.yaml:3: delivery.to: 'nobody' is not an email address",
        ),
        (
            "title: Brief",
            "title: Brief\nwindow: 48",
            "brief.yaml:2: window: 48 is not a duration; write it with a unit: 30m, 48h or 7d",
        ),
        ("title: Brief", "title: Brief\nwindow: -5h", "brief.yaml:2: window: '-5h' is not a dur"),
        (
            "title: Brief",
            "title: Brief\nlanguage: english",
            "brief.yaml:2: language: 'english' is not a language code",
        ),
        ("title: Brief", "title: Brief\nfetch:\n  max_bytes: 0KB", "fetch.max_bytes: '0KB' is too"),
        (
            "title: Brief",
            "title: Brief\ntemplates: nowhere",
            "brief.yaml:2: templates: no such folder: /srv/digest/nowhere",
        ),
        (
            "url: feeds/two.xml",
            "url: example.com/feed.xml",
            "feeds[1].url: 'example.com/feed.xml' is not a file here; if it is a web address, "
            "write https://example.com/feed.xml",
        ),
        (
            "url: feeds/two.xml",
            "url: file://relative/feed.xml",
            "feeds[1].url: 'file://relative/feed.xml': a file:// URL needs an absolute path",
        ),
        (
            "url: feeds/two.xml",
            "url: https://one.example/feed.xml",
            "brief.yaml:6: feeds[1].url: 'https://one.example/feed.xml' is listed twice (also feed",
        ),
        (
            "url: feeds/two.xml",
            "url: 'http://[::1/feed'",
            "feeds[1].url: 'http://[::1/feed' is not",
        ),
    ],
)
def test_mistakes_name_file_line_and_key(old, new, message):
    error = error_of(GOOD.replace(old, new, 1))
    assert error.startswith("/srv/digest/"), error
    assert message in error


def test_yaml_syntax_error_has_a_line():
    assert error_of("title: [Brief\nfeeds: 3\n").startswith("/srv/digest/brief.yaml:2: YAML syntax")


def test_duplicate_feed_names_are_refused():
    text = GOOD.replace("name: Two", "name: One")
    assert "brief.yaml:5: feeds[1].name: 'One' is used by another feed" in error_of(text)


def test_missing_file():
    with pytest.raises(ConfigError, match=r"nope\.yaml: no such config file"):
        load_config("nope.yaml")


def test_every_setting_is_documented():
    reference = (REPO / "docs" / "configuration.md").read_text()
    for setting in SETTINGS:
        assert f"`{setting.key}`" in reference, setting.key
    for setting in FEED_SETTINGS:
        assert f"`feeds[].{setting.key}`" in reference, setting.key
    assert len(settings_help().splitlines()) == len(SETTINGS) + len(FEED_SETTINGS)


def test_filters_and_show_why_per_digest_and_per_feed():
    config = parse(
        "show_why: true\nfilters:\n  include: [Meta, AI chips]\n  exclude: sponsored\n"
        + GOOD
        + "    filters: {exclude: [opinion, live blog]}\n"
    )
    assert config.show_why is True
    assert config.include == ("Meta", "AI chips") and config.exclude == ("sponsored",)
    assert config.feeds[0].exclude == () and config.feeds[1].exclude == ("opinion", "live blog")
    assert "filters: unknown key 'drop'" in error_of(GOOD + "    filters: {drop: [x]}\n")
    assert "filters.include: expected a non-empty string" in error_of(
        "filters:\n  include: ['']\n" + GOOD
    )


def test_a_missing_smtp_password_variable_is_a_config_error(monkeypatch):
    monkeypatch.delenv("DIGEST_TEST_SMTP_PASSWORD", raising=False)
    smtp = (
        GOOD + "delivery:\n  method: smtp\n  host: mail.example.org\n  username: brief\n"
        "  password_env: DIGEST_TEST_SMTP_PASSWORD\n  to: ana@example.org\n"
    )
    assert error_of(smtp) == (
        "/srv/digest/brief.yaml:11: delivery.password_env: $DIGEST_TEST_SMTP_PASSWORD is not "
        "set, but delivery.username is; export the SMTP password in that variable"
    )
    monkeypatch.setenv("DIGEST_TEST_SMTP_PASSWORD", "secret")
    assert parse(smtp).delivery.username == "brief"


def test_new_hostile_feed_keys_are_checked():
    assert "brief.yaml:8: fetch.allow_private: expected true or false" in error_of(
        GOOD + "fetch:\n  allow_private: maybe\n"
    )
    assert "brief.yaml:8: alerts.to: 'nobody' is not an email address" in error_of(
        GOOD + "alerts:\n  to: nobody\n"
    )
    config = parse(GOOD + "alerts:\n  to: ops@example.org\n  after: 6h\n")
    assert config.alerts is not None and config.alerts.after == timedelta(hours=6)
    assert config.fetch.robots and not config.fetch.allow_private


def test_recipients_file_adds_one_address_per_line_and_names_bad_lines(tmp_path):
    listed = tmp_path / "readers.txt"
    listed.write_text(
        "# subscribers\nana@example.org\n\nBo <bo@example.org>  # since May\nANA@example.org\n"
    )
    config = parse_config(GOOD + "delivery:\n  recipients_file: readers.txt\n", tmp_path / "b.yaml")
    assert config.delivery.recipients == ("ana@example.org", "Bo <bo@example.org>")
    with_to = GOOD + "delivery:\n  to: cy@example.org\n  recipients_file: readers.txt\n"
    config = parse_config(with_to, tmp_path / "b.yaml")
    assert config.delivery.recipients == (
        "cy@example.org",
        "ana@example.org",
        "Bo <bo@example.org>",
    )
    listed.write_text("ana@example.org\nnot an address\n")
    with pytest.raises(ConfigError) as caught:
        parse_config(GOOD + "delivery:\n  recipients_file: readers.txt\n", tmp_path / "b.yaml")
    assert str(caught.value) == f"{listed}:2: 'not an address' is not an email address"


@pytest.mark.parametrize(
    ("to", "expected"),
    [
        ("alice@example.org, bob@example.org", ("alice@example.org", "bob@example.org")),
        ('\'"Ana, B" <ana@example.org>, bo@example.org\'',
         ('"Ana, B" <ana@example.org>', "bo@example.org")),
        ("['a@example.org, b@example.org', Cy <cy@example.org>, A@example.org]",
         ("a@example.org", "b@example.org", "Cy <cy@example.org>")),  # each address once
    ],
)  # fmt: skip
def test_a_to_string_is_an_address_list_of_separate_recipients(to, expected):
    config = parse(GOOD + f"delivery:\n  to: {to}\n")
    assert config.delivery.recipients == expected


@pytest.mark.parametrize(
    ("to", "reason"),
    [
        ("alice@example.org bob@example.org",
         "'alice@example.org bob@example.org' is not an email address; "
         "separate addresses with commas"),
        ("'a@example.org; b@example.org'",
         "'a@example.org; b@example.org' is not an email address; separate addresses with commas"),
        ("a@example.org, nobody", "'nobody' is not an email address"),
        ("'Ana <ana@example.org> extra'", "'Ana <ana@example.org> extra' is not an email address"),
        ("Lee, Bo <bo@example.org>",
         "'Lee' is not an email address; a name holding a comma needs quotes: "
         """'"Lee, Bo" <...>'"""),
        # (no hint: quoted as one name, the address missing its @ would be dropped)
        ("ana.example.org, Bo <bo@example.org>", "'ana.example.org' is not an email address"),
    ],
)  # fmt: skip
def test_a_to_string_that_is_not_an_address_list_is_one_line_error(to, reason):
    assert error_of(GOOD + f"delivery:\n  to: {to}\n") == (
        f"/srv/digest/brief.yaml:8: delivery.to: {reason}"
    )


def test_alerts_to_and_from_take_exactly_one_address_and_recipients_file_lines_split(tmp_path):
    assert error_of(GOOD + "alerts:\n  to: ops@example.org, cy@example.org\n") == (
        "/srv/digest/brief.yaml:8: alerts.to: 'ops@example.org, cy@example.org' holds 2 "
        "addresses; give one"
    )
    assert "brief.yaml:8: delivery.from: 'a@example.org, b@example.org' holds 2" in error_of(
        GOOD + "delivery:\n  from: a@example.org, b@example.org\n"
    )
    listed = tmp_path / "readers.txt"
    listed.write_text('ana@example.org, "Bo, B" <bo@example.org>\ncy@example.org dee@example.org\n')
    with pytest.raises(ConfigError) as caught:
        parse_config(GOOD + "delivery:\n  recipients_file: readers.txt\n", tmp_path / "b.yaml")
    assert str(caught.value) == (
        f"{listed}:2: 'cy@example.org dee@example.org' is not an email address; "
        "separate addresses with commas"
    )
    listed.write_text('ana@example.org, "Bo, B" <bo@example.org>\n')
    config = parse_config(GOOD + "delivery:\n  recipients_file: readers.txt\n", tmp_path / "b.yaml")
    assert config.delivery.recipients == ("ana@example.org", '"Bo, B" <bo@example.org>')


def test_subject_pattern_unsubscribe_and_archive_keys(tmp_path):
    text = GOOD + (
        "delivery:\n  subject: '{title}: {headline} ({count})'\n"
        "  unsubscribe: [mailto:leave@example.org, 'https://x.example/u?r={recipient}']\n"
        "archive:\n  dir: public\n  url: https://x.example/brief\n"
    )
    config = parse_config(text, tmp_path / "b.yaml")
    assert config.delivery.subject == "{title}: {headline} ({count})"
    assert config.delivery.unsubscribe == (
        "mailto:leave@example.org",
        "https://x.example/u?r={recipient}",
    )
    assert config.archive is not None and config.archive.folder == tmp_path / "public"
    assert config.archive.url == "https://x.example/brief"
    assert parse(GOOD).archive is None and parse(GOOD).delivery.unsubscribe == ()
    # A bidi override in it was shown raw in the text part's "Past digests" line (a review).
    turned = parse_config(text.replace("/brief", "/\u202egpj.exe/"), tmp_path / "b.yaml")
    assert turned.archive is not None
    assert turned.archive.url == "https://x.example/%E2%80%AEgpj.exe/"


@pytest.mark.parametrize(
    ("snippet", "message"),
    [
        ("delivery:\n  subject: '{title} {top}'\n", "delivery.subject: unknown field {top}"),
        ("delivery:\n  subject: '{title'\n", "delivery.subject: '{title' is not a valid pattern"),
        ("delivery:\n  unsubscribe: javascript:alert(1)\n", "neither an http(s) URL nor a mailto"),
        ("delivery:\n  unsubscribe: [mailto:a@b.example, mailto:c@d.example]\n", "at most one"),
        ("archive:\n  url: https://x.example/a\n", "archive.url: set archive.dir too"),
        ("delivery:\n  recipients_file: nowhere.txt\n", "delivery.recipients_file: cannot read"),
    ],
)
def test_bad_message_and_archive_keys_are_named(snippet, message):
    assert message in error_of(GOOD + snippet)


def test_a_unicode_line_separator_in_an_address_is_refused_at_load_not_at_send():
    error = error_of(GOOD + 'delivery:\n  to: "\\"Bo\\u2028Bcc: evil@x.org\\" <bo@x.org>"\n')
    assert error.startswith("/srv/digest/brief.yaml:8: delivery.to: ")
    assert "line break" in error
