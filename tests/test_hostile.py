"""Feeds that try to hurt the run: local-file links, broken links, odd JSON, refusals."""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from html import escape as html_escape
from html.parser import HTMLParser

from conftest import DEMO_FEEDS, problems, respond, run_cli, smtp_delivery, write_config
from sites import LocalSite


def _json_feed(items: list[dict]) -> bytes:
    return json.dumps(
        {"version": "https://jsonfeed.org/version/1.1", "title": "Odd", "items": items}
    ).encode()


def _run_odd_feed(tmp_path, site, feed: bytes):
    """`digest run` over one JSON feed, "Odd", served by the test site."""
    site.overrides = {"/odd/feed.json": respond(200, feed, "application/feed+json")}
    config = write_config(tmp_path, site.base_url, feeds=[("Odd", f"{site.base_url}/odd/feed.json",
                                                          "World")])  # fmt: skip
    return run_cli("run", "--config", str(config))


def test_a_remote_feed_cannot_make_us_read_local_files(tmp_path, site):
    secret = tmp_path / "secret.html"
    secret.write_text("<html><body><article><p>" + "hunter2 " * 80 + "</p></article></body>")
    feed = _json_feed([
        {"id": "1", "url": secret.as_uri(), "title": "Local file", "summary": "Nothing."},
        {"id": "2", "url": "file://localhost" + str(secret), "title": "Also local"},
    ])  # fmt: skip
    site.overrides = {"/odd/feed.json": respond(200, feed, "application/feed+json")}
    feeds = [("Odd", f"{site.base_url}/odd/feed.json", "World"), DEMO_FEEDS[0]]
    config = write_config(tmp_path, site.base_url, feeds=feeds)
    result = run_cli("run", "--config", str(config))
    assert result.returncode == 0, result.stderr
    outbox = "".join(p.read_text(errors="replace") for p in (tmp_path / "outbox").iterdir())
    assert "hunter2" not in outbox
    assert "Local file" not in outbox
    (line,) = [line for line in result.stderr.splitlines() if "'Local file'" in line]
    # One entry, not the feed: "skipped: feed 'Odd'" first read as if the feed was.
    assert line.endswith(
        f"feed 'Odd' ({site.base_url}/odd/feed.json): entry skipped: item 'Local file' has no "
        "usable http(s) url"
    ), line
    assert "skipped: feed" not in line


def test_broken_links_and_odd_json_skip_one_entry_not_the_run(tmp_path, site):
    good = f"{site.base_url}/techwire/articles/meta-compute-cloud.html"
    feed = _json_feed([
        {"id": "1", "url": "http://a..b/x", "title": "Bad host"},
        {"id": "2", "url": "http://[::1/x", "title": "Bad IPv6"},
        {"id": "3", "url": good, "title": "Meta Compute, the good one",
         "authors": {"name": "Ann"}, "summary": "Meta plans a cloud business."},
        "not an object",
    ])  # fmt: skip
    result = _run_odd_feed(tmp_path, site, feed)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.count("entry skipped") == 3
    text = next((tmp_path / "outbox").glob("*.txt")).read_text()
    assert "Meta Compute, the good one" in text


def test_an_empty_feed_is_fine_and_not_a_failure(tmp_path, site):
    empty = b'<?xml version="1.0"?><rss version="2.0"><channel><title>Quiet</title></channel></rss>'
    site.overrides = {"/quiet.xml": respond(200, empty, "application/rss+xml")}
    config = write_config(tmp_path, site.base_url, feeds=[("Quiet", f"{site.base_url}/quiet.xml",
                                                          "World")])  # fmt: skip
    result = run_cli("run", "--config", str(config))
    assert result.returncode == 0, result.stderr
    assert "nothing new" in result.stdout and problems(result.stderr) == [], result.stderr
    checked = run_cli("check", "--config", str(config))
    assert checked.returncode == 0 and "ok   Quiet: 0 entries" in checked.stdout


def test_the_outbox_copy_for_reading_is_not_counted_as_a_message(tmp_path, site):
    # The file method writes the digest for reading (.html/.txt) beside one .eml a reader.
    delivery = "delivery:\n  method: file\n  outbox: outbox\n  to: ana@example.org\n"
    config = write_config(tmp_path, site.base_url, delivery=delivery, feeds=DEMO_FEEDS[:2])
    result = run_cli("-v", "run", "--config", str(config))
    assert result.returncode == 0, result.stderr
    assert "stage deliver: 1 accepted message in " in result.stderr
    assert "to 1 recipient" in result.stdout


def test_a_refused_recipient_is_reported_and_the_others_are_not_sent_twice(
    tmp_path, site, smtp_server
):
    smtp_server.refuse = {"gone@example.org"}
    delivery = smtp_delivery(smtp_server, to="[ana@example.org, gone@example.org]")
    config = write_config(tmp_path, site.base_url, delivery=delivery, feeds=DEMO_FEEDS[:2])
    first = run_cli("-v", "run", "--config", str(config))
    assert first.returncode == 1
    assert "gone@example.org refused: 550 5.1.1 No such user here" in first.stderr
    assert "stage deliver: 1 accepted message in " in first.stderr  # of the 2 staged
    assert [rcpt for _, rcpt in smtp_server.envelopes] == [["ana@example.org"]]
    second = run_cli("run", "--config", str(config))
    assert second.returncode == 0 and "nothing new" in second.stdout
    assert len(smtp_server.messages) == 1
    with sqlite3.connect(tmp_path / "state" / "digest.db") as db:
        rows = sorted(db.execute("SELECT recipient, status FROM deliveries"))
    assert rows == [("ana@example.org", "sent"), ("gone@example.org", "refused")]


def test_a_greylisted_recipient_gets_the_same_digest_on_the_next_run(tmp_path, site, smtp_server):
    smtp_server.defer = {"later@example.org"}
    delivery = smtp_delivery(smtp_server, to="[ana@example.org, later@example.org]")
    config = write_config(tmp_path, site.base_url, delivery=delivery, feeds=DEMO_FEEDS[:2])
    first = run_cli("run", "--config", str(config))
    assert first.returncode == 0, first.stderr
    assert "later@example.org deferred (451 4.7.1 Greylisted" in first.stderr
    assert [rcpt for _, rcpt in smtp_server.envelopes] == [["ana@example.org"]]

    smtp_server.defer = set()
    second = run_cli("run", "--config", str(config))
    assert second.returncode == 0, second.stderr
    assert [rcpt for _, rcpt in smtp_server.envelopes] == [["ana@example.org"],
                                                          ["later@example.org"]]  # fmt: skip
    sent, nothing_new = second.stdout.splitlines()
    assert "sent the queued digest to 1 recipient (later@example.org) by SMTP 127.0.0.1:" in sent
    assert "nothing new to deliver" in nothing_new  # what went out is said first
    first_copy, late_copy = smtp_server.messages
    assert late_copy["Subject"] == first_copy["Subject"] and late_copy["To"] == "later@example.org"
    third = run_cli("run", "--config", str(config))
    assert third.returncode == 0 and len(smtp_server.messages) == 2


HOSTILE_RSS = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Hostile</title><link>{base}/</link>
<item><guid>h1</guid><link>{base}/hostile/one.html</link>
  <title>&lt;script&gt;alert("title")&lt;/script&gt;Dam bursts
    &lt;img src=x onerror=alert(1)&gt;</title>
  <description><![CDATA[<p>The dam <b>burst<p>at dawn <a href="javascript:alert(2)">see</a>
  <img src="x" onerror="alert(3)"><svg onload=alert(4)></svg>
  <iframe src="data:text/html,<script>alert(5)</script>"></iframe>
  <a href="data:text/html;base64,PHNjcmlwdD5hbGVydCg2KTwvc2NyaXB0Pg==">more</a>
  <div style="x:expression(alert(7))"
  unclosed <scr<script>ipt>alert(8)</script> and the valley was evacuated by noon.]]></description>
  <author>ed@example.org (Évelyne &lt;b onmouseover=alert(9)&gt;)</author>
</item>
<item><guid>h2</guid><link>javascript:alert(10)</link><title>Live link</title>
  <description>Clicking the headline must not run code.</description></item>
<item><guid>h3</guid><link>data:text/html,&lt;script&gt;alert(11)&lt;/script&gt;</link>
  <title>Data link</title><description>Nor here.</description></item>
</channel></rss>
"""


class _Markup(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attributes: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attributes += [(name, value or "") for name, value in attrs]


def _assert_inert(markup: str, where: str) -> None:
    parsed = _Markup()
    parsed.feed(markup)
    assert not {"script", "img", "svg", "iframe", "object", "embed"} & set(parsed.tags), where
    handlers = [name for name, _ in parsed.attributes if name.startswith("on")]
    assert not handlers, f"{where}: event handler attributes {handlers}"
    for name, value in parsed.attributes:
        if name in ("href", "src", "action"):
            scheme = value.split(":", 1)[0].lower() if ":" in value else ""
            assert scheme in ("", "http", "https", "mailto"), f"{where}: live link {value!r}"
    assert "expression(" not in markup, where


def test_hostile_feed_text_reaches_no_email_or_archive_page_as_markup(tmp_path, site):
    site.overrides = {
        "/hostile/feed.xml": respond(200, HOSTILE_RSS.format(base=site.base_url).encode())
    }
    feeds = [("Höstile Ωutlet", f"{site.base_url}/hostile/feed.xml", "World")]
    config = write_config(tmp_path, site.base_url, feeds=feeds, extra="archive:\n  dir: archive\n")
    result = run_cli("run", "--config", str(config))
    assert result.returncode == 0, result.stderr
    email = next((tmp_path / "outbox").glob("*.html")).read_text(encoding="utf-8")
    assert "Dam bursts" in email and "evacuated by noon" in email
    assert "Höstile Ωutlet" in email
    _assert_inert(email, "email")
    for page in (tmp_path / "archive").glob("*.html"):
        _assert_inert(page.read_text(encoding="utf-8"), page.name)
    text = next((tmp_path / "outbox").glob("*.txt")).read_text(encoding="utf-8")
    # Each source's link on the line under it, and only links to the feed's own site.
    urls = re.findall(r"^\s+- .*\n\s+(\S+)$", text, flags=re.M)
    assert urls and all(url.startswith("http://127.0.0.1") for url in urls)


def test_a_feed_listing_another_sites_articles_does_not_take_them_from_their_publisher(
    tmp_path,
):
    # Two host names for one loopback server: the publisher's feed and articles on
    # 127.0.0.1, a feed on "localhost" that lists the same articles (with a tracking
    # parameter, so only the canonical URLs agree) under titles of its own, listed first.
    root = tmp_path / "site"
    root.mkdir()
    stamp = "Mon, 23 Nov 2026 08:00:00 +0000"

    def feed(title: str, items: list[tuple[str, str]]) -> str:
        return (
            f"<rss version='2.0'><channel><title>{title}</title>"
            + "".join(
                f"<item><title>{headline}</title><link>{link}</link><guid>{link}</guid>"
                f"<pubDate>{stamp}</pubDate><description>{headline}.</description></item>"
                for headline, link in items
            )
            + "</channel></rss>"
        )

    with LocalSite(root, port=0) as server:
        own = f"http://127.0.0.1:{server.port}"
        (root / "pub.xml").write_text(
            feed("Harbour Post", [("Ferry timetable changes for winter", f"{own}/ferry")])
        )
        (root / "squat.xml").write_text(
            feed("Squatter", [("SQUAT fake headline", f"{own}/ferry?utm_source=squat")])
        )
        config = tmp_path / "digest.yaml"
        config.write_text(
            "title: Test Brief\nwindow: 30000h\nstorage: state/digest.db\n"
            "fetch:\n  timeout: 2\n  pages: false\n"
            "delivery:\n  method: file\n  outbox: outbox\n"
            "feeds:\n"
            f"  - name: Squatter\n    url: http://localhost:{server.port}/squat.xml\n"
            f"  - name: Harbour Post\n    url: {own}/pub.xml\n"
        )
        result = run_cli("preview", "--config", str(config), "--json")
    assert result.returncode == 0, result.stderr
    items = json.loads(result.stdout)["items"]
    assert [item["headline"] for item in items] == ["Ferry timetable changes for winter"]
    assert [source["name"] for source in items[0]["sources"]] == ["Harbour Post"]


def test_a_feed_back_dating_a_publishers_link_does_not_hide_it_when_the_publisher_lists_it(
    tmp_path,
):
    # A feed on "localhost" lists the publisher's article ten days before the window; the
    # next run the publisher's own feed lists it, dated now. The first listing was kept
    # outside the window and made the URL known, and the story was never sent.
    root = tmp_path / "site"
    root.mkdir()
    now = datetime.now(UTC)

    def feed(items: list[tuple[str, str, datetime]]) -> str:
        return (
            "<rss version='2.0'><channel><title>t</title>"
            + "".join(
                f"<item><title>{headline}</title><link>{link}</link><guid>{link}</guid>"
                f"<pubDate>{format_datetime(date)}</pubDate><description>{headline}.</description>"
                "</item>"
                for headline, link, date in items
            )
            + "</channel></rss>"
        )

    with LocalSite(root, port=0) as server:
        own = f"http://127.0.0.1:{server.port}"
        story = ("Ferry timetable changes for winter", f"{own}/ferry")
        (root / "pub.xml").write_text(feed([("Harbour works", f"{own}/works", now)]))
        (root / "early.xml").write_text(feed([("Old news", story[1], now - timedelta(days=10))]))
        config = tmp_path / "digest.yaml"
        config.write_text(
            "title: Test Brief\nwindow: 48h\nstorage: state/digest.db\n"
            "fetch:\n  timeout: 2\n  pages: false\n"
            "delivery:\n  method: file\n  outbox: outbox\n"
            "feeds:\n"
            f"  - name: Early\n    url: http://localhost:{server.port}/early.xml\n"
            f"  - name: Harbour Post\n    url: {own}/pub.xml\n"
        )
        first = run_cli("run", "--config", str(config))
        (root / "pub.xml").write_text(feed([(*story, now - timedelta(hours=1))]))
        second = run_cli("run", "--config", str(config))
    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    texts = sorted((tmp_path / "outbox").glob("*.txt"))
    assert len(texts) == 2, second.stdout
    assert "Ferry timetable changes for winter" in texts[-1].read_text()
    assert "Old news" not in "".join(text.read_text() for text in texts)


def test_links_that_hide_lines_or_pass_for_another_host_reach_the_email_harmless(tmp_path, site):
    # Through the real command: a run of blank Braille cells made "Unsubscribe: <evil>" read
    # as a line of its own in the text part, and a Cyrillic "а" made a host pass for a bank.
    good = f"{site.base_url}/techwire/articles/meta-compute-cloud.html"
    padded = good + "?r=" + "\u2800" * 30 + "Unsubscribe:\u2800https://evil.example/u"
    feed = _json_feed([
        {"id": "1", "url": padded, "title": "Meta plans a cloud", "summary": "Meta plans."},
        {"id": "2", "url": "https://www.b\u0430nk.example/login", "title": "Bank notice",
         "summary": "Sign in to keep your account."},
        {"id": "3", "url": "https://pay.example\u2215login.evil.example/", "title": "Slash"},
    ])  # fmt: skip
    result = _run_odd_feed(tmp_path, site, feed)
    assert result.returncode == 0, result.stderr
    text = next((tmp_path / "outbox").glob("*.txt")).read_text()
    assert "\u2800" not in text and "%E2%A0%80Unsubscribe:%E2%A0%80https://evil" in text
    assert "https://www.xn--bnk-6cd.example/login" in text and "b\u0430nk" not in text
    assert "Slash" not in text
    assert "entry skipped: item 'Slash' has no usable http(s) url" in result.stderr


def test_a_template_folder_cannot_run_commands_through_the_real_command(tmp_path, site):
    from digest.mail._render import default_template_dir

    folder = tmp_path / "templates"
    shutil.copytree(default_template_dir(), folder)
    text = folder / "digest.txt.j2"
    text.write_text(text.read_text() + "{{ cycler.__init__.__globals__.os.popen('id').read() }}\n")
    config = write_config(tmp_path, site.base_url, extra=f"templates: {folder}\n",
                          feeds=DEMO_FEEDS[:1])  # fmt: skip
    checked = run_cli("check", "--config", str(config))
    assert checked.returncode == 1 and "a template reached outside the digest's data" in (
        checked.stdout
    )
    result = run_cli("run", "--config", str(config))
    assert result.returncode == 1
    assert "a template reached outside the digest's data" in result.stderr
    assert not list((tmp_path / "outbox").glob("*")) or "uid=" not in "".join(
        p.read_text(errors="replace") for p in (tmp_path / "outbox").iterdir()
    )


def test_the_digest_counts_the_feeds_it_has_stories_from_not_those_that_failed(tmp_path, site):
    site.overrides = {"/down/feed.xml": respond(500), "/gone/feed.xml": respond(404)}
    feeds = [
        ("Techwire", f"{site.base_url}/techwire/feed.xml", "World"),
        ("Down", f"{site.base_url}/down/feed.xml", "World"),
        ("Gone", f"{site.base_url}/gone/feed.xml", "World"),
    ]
    config = write_config(tmp_path, site.base_url, feeds=feeds)
    result = run_cli("run", "--config", str(config))
    assert result.returncode == 0, result.stderr
    text = next((tmp_path / "outbox").glob("*.txt")).read_text()
    header, footer = text.splitlines()[1], text.split("\n-- \n")[1]
    assert re.search(r"\d+ stor(y|ies) from 1 feed · ", header), header
    assert re.search(r"from 1 feed; each story", " ".join(footer.split())), footer


def test_a_flood_of_empty_items_and_a_reversed_headline_through_the_real_command(tmp_path, site):
    # 20,000 items without a link were 20,000 stderr lines and stored problems on every
    # run; a headline's U+202E turned the rest of its line around in the email's body.
    good = f"{site.base_url}/techwire/articles/meta-compute-cloud.html"
    feed = _json_feed([
        {"id": "0", "url": good, "title": "Pay invoice \u202egnp.exe now",
         "summary": "Your refund \u202eis ready."},
        *([{}] * 20_000),
    ])  # fmt: skip
    site.overrides = {"/flood/feed.json": respond(200, feed, "application/feed+json")}
    flood = [("Flood", f"{site.base_url}/flood/feed.json", "World")]
    config = write_config(tmp_path, site.base_url, feeds=flood)
    result = run_cli("run", "--config", str(config))
    assert result.returncode == 0, result.stderr
    assert result.stderr.count("entry skipped") == 6, result.stderr
    assert "entry skipped: 19,995 more entries (the last: " in result.stderr
    with sqlite3.connect(tmp_path / "state" / "digest.db") as db:
        assert db.execute("SELECT count(*) FROM problems").fetchone()[0] == 6
    sent = "".join(p.read_text(encoding="utf-8") for p in (tmp_path / "outbox").glob("*"))
    assert "Pay invoice gnp.exe now" in sent and "\u202e" not in sent


def test_a_right_to_left_outlet_name_with_markup_is_isolated_and_escaped_in_both_parts(
    tmp_path, site
):
    # An outlet's name may come from someone else's OPML file: markup in it stays text, and
    # its right-to-left letters are set apart from the times beside them, in both parts.
    outlet = "\u0635\u062d\u064a\u0641\u0629 <i>\u0627\u0644\u0631\u064a\u0627\u0636</i> & Co"
    feeds = [(outlet if name == "Techwire" else name, path, section)
             for name, path, section in DEMO_FEEDS[:3]]  # fmt: skip
    config = write_config(tmp_path, site.base_url, feeds=feeds)
    result = run_cli("run", "--config", str(config))
    assert result.returncode == 0, result.stderr
    html = next((tmp_path / "outbox").glob("*.html")).read_text(encoding="utf-8")
    text = next((tmp_path / "outbox").glob("*.txt")).read_text(encoding="utf-8")
    escaped = html_escape(outlet, quote=False)
    assert f'<span dir="auto">{escaped}</span>' in html
    assert "<i>\u0627" not in html
    assert f"\u2068{outlet}\u2069" in text
    for line in text.splitlines():
        assert line.count("\u2068") == line.count("\u2069"), repr(line)
