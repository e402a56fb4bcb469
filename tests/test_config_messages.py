"""Config mistakes a new operator makes, answered with the file, the line and what to write:
a misspelt key names the likely one, a dotted key written flat says to nest it, a YAML
slip (tab, indentation, unclosed bracket or quote) says what to fix in plain words and on a
line of the file, a quoted number is taken as the number, and smtp delivery needs `to`."""

from __future__ import annotations

from pathlib import Path

import pytest

from digest.config import parse_config
from digest.errors import ConfigError

CONFIG = Path("/srv/digest/brief.yaml")
BASE = "title: Brief\nfeeds:\n  - name: One\n    url: https://one.example/feed.xml\n"


def error_of(text: str) -> str:
    with pytest.raises(ConfigError) as caught:
        parse_config(text, CONFIG)
    return str(caught.value)


@pytest.mark.parametrize(
    ("text", "start"),
    [
        (BASE.replace("title:", "titel:"),
         f"{CONFIG}:1: titel: unknown key; did you mean 'title'? "),
        (BASE.replace("url:", "ulr:"),
         f"{CONFIG}:4: feeds[0].ulr: unknown key; did you mean 'url'? "),
        (BASE + "fetch:\n  timout: 5\n", f"{CONFIG}:6: fetch.timout: unknown key; did you mean "
         "'timeout'? "),
        (BASE + "delivery:\n  too: a@example.org\n", f"{CONFIG}:6: delivery.too: unknown key; "
         "did you mean 'to'? "),
    ],
)  # fmt: skip
def test_a_misspelt_key_names_the_likely_key_first_then_all_known_keys(text, start):
    error = error_of(text)
    assert error.startswith(start), error
    assert "known keys: " in error


def test_a_key_like_no_known_one_lists_the_known_keys_without_a_guess():
    error = error_of(BASE + "colour: red\n")
    assert error.startswith(f"{CONFIG}:5: colour: unknown key; known keys: alerts, "), error
    assert "did you mean" not in error


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("fetch.timeout: 5",
         "fetch.timeout: a dotted key is written nested in YAML: `fetch:` on its own line, "
         "then `  timeout: 5` under it"),
        ("delivery.method: smtp",
         "delivery.method: a dotted key is written nested in YAML: `delivery:` on its own "
         "line, then `  method: smtp` under it"),
        ("fetch.pages: false",
         "fetch.pages: a dotted key is written nested in YAML: `fetch:` on its own line, "
         "then `  pages: false` under it"),
    ],
)  # fmt: skip
def test_a_dotted_key_written_flat_says_to_nest_it(line, message):
    assert error_of(BASE + line + "\n") == f"{CONFIG}:5: {message}"


def test_a_flat_dotted_key_that_is_no_setting_is_unknown_with_a_guess():
    error = error_of(BASE + "fetch.timout: 5\n")
    assert error.startswith(f"{CONFIG}:5: fetch.timout: unknown key; did you mean "), error
    assert "'fetch.timeout'" in error.split("known keys")[0]


@pytest.mark.parametrize(
    ("text", "line"),
    [
        (BASE + "fetch:\n\ttimeout: 5\n", 6),
        (BASE + "fetch:\n  \ttimeout: 5\n", 6),
        ("title: Brief\nfeeds:\n\t- name: One\n", 3),
    ],
)
def test_a_tab_in_the_indentation_is_named_with_its_line(text, line):
    assert error_of(text) == (
        f"{CONFIG}:{line}: YAML syntax error: tabs are not allowed for indentation in YAML; "
        "use spaces"
    )


INDENTATION = "check the indentation of this line against the one above"


@pytest.mark.parametrize(
    ("text", "line"),
    [
        (BASE + "   section: Tech\n", 5),  # a feed key one space short
        ("title: Brief\nfeeds:\n  - name: One\n url: https://one.example/feed.xml\n", 4),
        ("title: Brief\nfeeds:\n  - name: One\n  url: https://one.example/feed.xml\n", 4),
        ("title: Brief\n  window: 48h\n" + BASE[13:], 2),  # indented under a scalar
    ],
)
def test_bad_indentation_names_the_line_and_says_to_check_it(text, line):
    error = error_of(text)
    assert error.startswith(f"{CONFIG}:{line}: YAML syntax error: "), error
    assert INDENTATION in error
    assert "<block" not in error


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        (BASE + "foo: [unclosed\n", 5, "the '[' on this line is never closed with ']'"),
        (BASE + "foo: [unclosed", 5, "the '[' on this line is never closed with ']'"),
        (BASE + "foo: {a: 1\n", 5, "the '{' on this line is never closed with '}'"),
        (BASE + "delivery:\n  to: 'a@example.org\n", 6, "the quote that opens the value on "
         "this line is never closed"),
        ("title: [Brief\nfeeds: 3\n", 2, "the '[' opened on line 1 is not closed before this "
         "line (expected ',' or ']')"),
    ],
)  # fmt: skip
def test_an_unclosed_bracket_or_quote_is_reported_on_a_line_of_the_file(text, line, message):
    error = error_of(text)
    assert line <= len(text.splitlines())
    assert error == f"{CONFIG}:{line}: YAML syntax error: {message}", error


def test_a_yaml_error_is_never_reported_beyond_the_last_line():
    # A key whose ':' never comes, on the last line: the parser marks the line after it.
    error = error_of(BASE + "window\n")
    assert error == (
        f"{CONFIG}:5: YAML syntax error: this line has no ':' after its key; write key: value, "
        "or check the indentation of this line against the one above"
    )


@pytest.mark.parametrize(
    ("setting", "read", "value"),
    [
        ("delivery:\n  port: '587'", lambda c: c.delivery.port, 587),
        ('serve:\n  root: .\n  port: "9000"', lambda c: c.serve.port, 9000),
        ("max_items: '12'", lambda c: c.max_items, 12),
        ("fetch:\n  timeout: '2.5'", lambda c: c.fetch.timeout, 2.5),
        ("delivery:\n  retries: '0'", lambda c: c.delivery.retries, 0),
        ("workers: '2'", lambda c: c.workers, 2),
        ("title: '2026'", lambda c: c.title, "2026"),  # a text setting keeps the text
    ],
)
def test_a_quoted_number_is_taken_as_the_number(tmp_path, setting, read, value):
    base = BASE.replace("title: Brief\n", "") if setting.startswith("title:") else BASE
    config = parse_config(base + setting + "\n", tmp_path / "b.yaml")
    assert read(config) == value


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("delivery:\n  port: '70000'", "6: delivery.port: expected a port number from 1 to "
         "65535, got 70000"),
        ("delivery:\n  port: 'smtp'", "6: delivery.port: expected a port number from 1 to "
         "65535, got 'smtp'"),
        ("fetch:\n  pages: 'true'", "6: fetch.pages: expected true or false, got 'true'"),
        ("window: '48'", "5: window: 48 is not a duration; write it with a unit: 30m, 48h or 7d"),
    ],
)  # fmt: skip
def test_a_quoted_number_out_of_range_or_a_quoted_word_is_still_refused(setting, message):
    assert error_of(BASE + setting + "\n") == f"{CONFIG}:{message}"


SMTP_TO = (
    "delivery.to: missing; with method smtp, say who gets the digest: "
    "`to: you@example.org` under delivery: (or set delivery.recipients_file)"
)


@pytest.mark.parametrize(
    "delivery",
    [
        "delivery:\n  method: smtp\n",
        "delivery:\n  method: smtp\n  from: Brief <brief@example.org>\n",
        "delivery:\n  method: smtp\n  to:\n",
    ],
)
def test_smtp_without_to_is_refused_naming_the_key_and_the_fix(delivery):
    assert error_of(BASE + delivery) == f"{CONFIG}:6: {SMTP_TO}"


def test_smtp_with_to_or_a_recipients_file_and_file_delivery_without_to_load(tmp_path):
    smtp = BASE + "delivery:\n  method: smtp\n"
    config = parse_config(smtp + "  to: ana@example.org\n", tmp_path / "b.yaml")
    assert config.delivery.recipients == ("ana@example.org",)
    assert config.delivery.sender == "digest@localhost"
    (tmp_path / "readers.txt").write_text("bo@example.org\n")
    config = parse_config(smtp + "  recipients_file: readers.txt\n", tmp_path / "b.yaml")
    assert config.delivery.recipients == ("bo@example.org",)
    # The file method keeps writing to its outbox for the default reader.
    config = parse_config(BASE, tmp_path / "b.yaml")
    assert config.delivery.method == "file"
    assert config.delivery.recipients == ("reader@localhost",)
    assert config.delivery.sender == "digest@localhost"


@pytest.mark.parametrize(
    ("storage", "message"),
    [
        ("postgressql://digest@db.example:5432/digest",
         "unknown scheme postgressql:// (did you mean postgresql://?)"),
        ("sqlite:///srv/digest/state.db", "unknown scheme sqlite://"),
    ],
)  # fmt: skip
def test_a_storage_url_of_another_scheme_is_refused_not_taken_for_a_file(storage, message):
    # As a file name it would start a new, empty state: every story sent again.
    assert error_of(BASE + f"storage: {storage}\n") == (
        f"{CONFIG}:5: storage: {message}; storage is postgresql://USER@HOST:PORT/DB or the "
        "path of a SQLite file"
    )


def test_storage_takes_a_postgresql_url_in_any_case_and_a_path(tmp_path):
    url = "PostgreSQL://digest@db.example:5432/digest"
    storage = parse_config(BASE + f"storage: {url}\n", tmp_path / "b.yaml").storage
    assert storage == "postgresql://digest@db.example:5432/digest"  # as libpq reads it
    config = parse_config(BASE + "storage: state/b.sqlite\n", tmp_path / "b.yaml")
    assert config.storage == tmp_path / "state" / "b.sqlite"
