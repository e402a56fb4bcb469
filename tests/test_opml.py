"""OPML import keeps the operator's YAML (comments, order) and skips duplicates; export
writes OPML 2.0 that imports back to the same feeds."""

from __future__ import annotations

import socket
import time
import xml.etree.ElementTree as ET

import pytest
from conftest import REPO, run_cli

from digest.config._loader import load_config
from digest.feeds import _opml
from digest.feeds._opml import MAX_NAME, read_opml

FIXTURES = REPO / "tests" / "fixtures" / "opml"
CONFIG = """\
# Morning brief: edited by hand, comments must survive an import.
title: Morning Brief
window: 48h   # two days
storage: state/brief.db
feeds:
  # Tech first
  - name: Techwire
    url: https://techwire.example/feed.xml
    section: Technology   # the big one
  - name: Lab Notes Blog
    url: https://labnotes.example/blog.xml
delivery:
  method: file
  outbox: outbox
"""


def test_import_skips_a_feed_listed_under_another_case_or_fragment_and_adds_the_rest(tmp_path):
    """The config reads such a URL as a feed already listed: the import wrote it anyway, the
    config was then refused, and nothing was imported."""
    config = tmp_path / "brief.yaml"
    config.write_text(CONFIG)
    opml = tmp_path / "mine.opml"
    opml.write_text(
        '<?xml version="1.0"?><opml version="2.0"><body>'
        '<outline text="Again" xmlUrl="https://TechWire.example/feed.xml#latest"/>'
        '<outline text="New" xmlUrl="https://new.example/feed.xml"/>'
        "</body></opml>"
    )
    result = run_cli("feeds", "import", str(opml), "--config", str(config))
    assert result.returncode == 0, result.stderr
    assert "skipped Again: https://TechWire.example/feed.xml#latest is already listed" in (
        result.stdout
    )
    assert [f.name for f in load_config(config).feeds][-1] == "New"


def test_import_appends_new_feeds_and_keeps_comments_and_order(tmp_path):
    config = tmp_path / "brief.yaml"
    config.write_text(CONFIG)
    result = run_cli("feeds", "import", str(FIXTURES / "reader-export.opml"), "--config",
                     str(config))  # fmt: skip
    assert result.returncode == 0, result.stderr
    text = config.read_text()
    original = CONFIG.splitlines()
    kept = [line for line in text.splitlines() if line in original]
    assert kept == original, "a line of the original config was changed or moved"
    feeds = load_config(config).feeds
    assert [(f.name, f.url, f.section) for f in feeds] == [
        ("Techwire", "https://techwire.example/feed.xml", "Technology"),
        ("Lab Notes Blog", "https://labnotes.example/blog.xml", None),
        ("Harbour Gazette", "https://harbourgazette.example/rss.xml", None),
        ("Lab Notes", "https://labnotes.example/atom.xml", "Science"),
        ("Orbit Weekly", "https://orbit.example/feed.json", "Science"),
        ("Deep Feed", "https://deep.example/rss", "Deeper"),
        ("noname.example", "https://noname.example/feed.xml", None),
    ]
    assert "skipped Techwire: https://techwire.example/feed.xml is already listed" in result.stdout
    assert "skipped Gopher: 'gopher://old.example/feed' is not an http(s) URL" in result.stdout
    assert result.stdout.strip().endswith("added 5 feeds, skipped 3")

    again = run_cli("feeds", "import", str(FIXTURES / "reader-export.opml"), "--config",
                    str(config))  # fmt: skip
    assert again.stdout.strip().endswith("added 0 feeds, skipped 8")
    assert config.read_text() == text


def test_broken_opml_is_one_line_naming_the_file_and_the_config_is_untouched(tmp_path):
    config = tmp_path / "brief.yaml"
    config.write_text(CONFIG)
    for name, expected in (
        ("truncated.opml", "truncated.opml:5: not valid OPML (XML): unclosed token"),
        ("not-opml.opml", "not-opml.opml: not OPML: expected <opml> with a <body>"),
        ("missing.opml", "missing.opml: cannot read: No such file or directory"),
    ):
        result = run_cli("feeds", "import", str(FIXTURES / name), "--config", str(config))
        assert result.returncode == 1
        line = result.stderr.strip()
        assert "\n" not in line and line.endswith(expected), line
    assert config.read_text() == CONFIG


def test_export_writes_opml_2_that_imports_back(tmp_path):
    config = tmp_path / "brief.yaml"
    config.write_text(CONFIG)
    result = run_cli("feeds", "export", "--config", str(config))
    assert result.returncode == 0, result.stderr
    root = ET.fromstring(result.stdout)
    assert root.tag == "opml" and root.get("version") == "2.0"
    assert root.findtext("head/title") == "Morning Brief"
    assert root.findtext("head/dateCreated")
    exported = tmp_path / "out.opml"
    exported.write_text(result.stdout)
    assert [(f.name, f.url, f.section) for f in read_opml(exported)] == [
        ("Techwire", "https://techwire.example/feed.xml", "Technology"),
        ("Lab Notes Blog", "https://labnotes.example/blog.xml", None),
    ]


def test_imported_urls_are_written_and_shown_as_one_plain_token(tmp_path):
    # An OPML file is someone else's bytes: a bidi override in an xmlUrl made
    # ".../\u202elmx.knab-ruoy/feed" read as another address in the config and the output.
    config = tmp_path / "brief.yaml"
    config.write_text(CONFIG)
    opml = tmp_path / "in.opml"
    opml.write_text(
        '<?xml version="1.0"?><opml version="2.0"><head><title>x</title></head><body>'
        '<outline text="Bank" xmlUrl="https://news.example/\u202elmx.knab-ruoy/feed"/>'
        '<outline text="Spaced" xmlUrl="https://news3.example/a b"/></body></opml>',
        encoding="utf-8",
    )
    result = run_cli("feeds", "import", str(opml), "--config", str(config))
    assert result.returncode == 0, result.stderr
    assert "added Bank: https://news.example/%E2%80%AElmx.knab-ruoy/feed" in result.stdout
    assert "added Spaced: https://news3.example/a%20b" in result.stdout
    text = config.read_text(encoding="utf-8")
    assert "\u202e" not in text and "a%20b" in text


def test_outlines_a_thousand_deep_are_read_without_a_traceback(tmp_path):
    # A recursive walk ended Python's recursion at 990 levels, with a traceback.
    opml = tmp_path / "deep.opml"
    opml.write_text(
        '<opml version="2.0"><body>' + '<outline text="Folder">' * 5000
        + '<outline text="Deep" xmlUrl="https://deep.example/feed"/>'
        + "</outline>" * 5000 + '<outline text="After" xmlUrl="https://after.example/feed"/>'
        + "</body></opml>"
    )  # fmt: skip
    feeds = read_opml(opml)
    assert [(f.name, f.section) for f in feeds] == [("Deep", "Folder"), ("After", None)]


def test_an_opml_name_is_cut_to_a_length_a_digest_can_show(tmp_path):
    opml = tmp_path / "long.opml"
    opml.write_text(
        f'<opml version="2.0"><body><outline text="{"Name " * 1000}" '
        'xmlUrl="https://long.example/feed"/></body></opml>'
    )
    (feed,) = read_opml(opml)
    assert len(feed.name) <= MAX_NAME and feed.name.endswith("…")


@pytest.mark.parametrize(
    ("name", "ends"),
    [
        ("x" + "\U0001f1eb\U0001f1f7" * 70, "\U0001f1eb\U0001f1f7…"),  # a whole flag last
        ("N" + "e\u0301" * 70, "e\u0301…"),  # the accent stays with its letter
        ("a" * 119 + "\U0001f469\u200d\U0001f469\u200d\U0001f467", "a…"),  # no half family
    ],
)
def test_a_long_name_is_cut_between_whole_characters(tmp_path, name, ends):
    opml = tmp_path / "long.opml"
    opml.write_text(
        f'<opml version="2.0"><body><outline text="{name}" xmlUrl="https://l.example/f"/>'
        "</body></opml>",
        encoding="utf-8",
    )
    (feed,) = read_opml(opml)
    assert len(feed.name) <= MAX_NAME and feed.name.endswith(ends)


def test_a_feed_whose_name_server_is_made_slow_is_not_imported_unchecked(tmp_path, monkeypatch):
    # A name resolving after the lookups' time was taken for public, and a run then
    # fetched it wherever it pointed (an attacker's trial: localhost behind an 11 s DNS).
    # A name server made slow, or one that fails (SERVFAIL: "temporary failure"), leaves
    # its names unchecked; only "no such name" is an answer.
    def resolver(host: str, port: int) -> list[str]:
        if host == "slow.example":
            time.sleep(3)
            return ["127.0.0.1"]
        if host == "servfail.example":
            raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")
        if host == "gone.example":
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return ["93.184.216.34"]

    monkeypatch.setattr(_opml, "LOOKUP_WAIT", 0.5)
    monkeypatch.setattr(_opml, "system_resolver", resolver)
    opml = tmp_path / "slow.opml"
    opml.write_text(
        '<opml version="2.0"><body>'
        '<outline text="Slow" xmlUrl="http://slow.example/feed.xml"/>'
        '<outline text="Fine" xmlUrl="https://fine.example/feed.xml"/>'
        '<outline text="Failing" xmlUrl="https://servfail.example/feed.xml"/>'
        '<outline text="Gone" xmlUrl="https://gone.example/feed.xml"/>'
        '<outline text="Hidden" xmlUrl="https://exa\u00admple.org/feed.xml"/></body></opml>',
        encoding="utf-8",
    )
    config = tmp_path / "digest.yaml"
    config.write_text("title: X\nfeeds:\n  - name: Old\n    url: https://old.example/rss\n")
    result = _opml.import_opml(load_config(config), opml)
    assert [feed.name for feed in result.added] == ["Fine", "Gone"]  # Gone: its fetch says so
    tail = "; an imported feed may not reach the local network (--allow-private imports it)"
    assert result.skipped == [
        "Slow: http://slow.example/feed.xml could not be checked: slow.example did not "
        "resolve in time" + tail,
        "Failing: https://servfail.example/feed.xml could not be checked: servfail.example "
        "did not resolve in time" + tail,
        "Hidden: https://exa%C2%ADmple.org/feed.xml has an invisible character in its host",
    ]
