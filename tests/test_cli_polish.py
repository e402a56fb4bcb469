"""What the feeds commands, OPML import, `digest check` and `digest run` say, through the
real CLI: a config without feeds gets its list written, imported names are one line and
imported feeds public, a malformed feed is one `warn` line, each problem is said once."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path

from conftest import problems, respond, run_cli
from sites import LocalSite

import digest
from digest.cli._problems import problem_lines
from digest.config._loader import load_config
from digest.models import RunReport, Skipped

NOW = format_datetime(datetime.now(UTC).replace(microsecond=0))


def _feeds(config: Path) -> list[tuple[str, str, str | None]]:
    return [(f.name, f.url, f.section) for f in load_config(config).feeds]


# -- a config without feeds -----------------------------------------------------------------


def test_import_and_add_write_the_feeds_list_into_a_config_without_one(tmp_path: Path):
    opml = tmp_path / "reader.opml"
    opml.write_text(
        '<?xml version="1.0"?><opml version="2.0"><head/><body>'
        '<outline text="Harbour" xmlUrl="https://harbour.example/rss.xml"/>'
        '<outline text="Science"><outline text="Lab" xmlUrl="https://lab.example/atom"/>'
        "</outline></body></opml>"
    )
    bare = tmp_path / "bare.yaml"
    original = "# My digest: comments stay.\ntitle: X   # the title\nstorage: state.db\n"
    bare.write_text(original)
    result = run_cli("feeds", "import", str(opml), "--config", str(bare))
    assert result.returncode == 0, result.stderr
    assert bare.read_text().startswith(original)
    assert _feeds(bare) == [
        ("Harbour", "https://harbour.example/rss.xml", None),
        ("Lab", "https://lab.example/atom", "Science"),
    ]

    empty = tmp_path / "empty.yaml"
    empty.write_text("title: Y\nfeeds: []   # none yet\ndelivery:\n  method: file\n"
                     "  outbox: outbox\n")  # fmt: skip
    result = run_cli("feeds", "add", "--config", str(empty), "https://a.example/feed.xml")
    assert result.returncode == 0, result.stderr
    assert empty.read_text() == (
        "title: Y\nfeeds:  # none yet\n  - name: a.example\n    url: https://a.example/feed.xml\n"
        "delivery:\n  method: file\n  outbox: outbox\n"
    )


def test_a_config_with_no_feeds_says_to_add_one(tmp_path: Path):
    for name, text, line in (("empty.yaml", "title: Y\nfeeds: []\n", 2),
                             ("bare.yaml", "title: X\n", 1)):  # fmt: skip
        config = tmp_path / name
        config.write_text(text)
        for command in ("check", "run"):
            result = run_cli(command, "--config", str(config))
            assert result.returncode == 1
            assert problems(result.stderr) == [
                f"digest: {config}:{line}: feeds: no feeds; add one with `digest feeds add`"
            ]


# -- OPML import: names, addresses ----------------------------------------------------------

OPML = """\
<?xml version="1.0"?><opml version="2.0"><head/><body>
<outline text="Two
  Lines\tFeed" xmlUrl="https://two.example/feed.xml"/>
<outline text="Invoice&#x202E;fdp.exe&#x2066;" xmlUrl="https://evil.example/feed.xml"/>
<outline text="Folder&#10;Name"><outline text="In" xmlUrl="https://in.example/f"/></outline>
<outline text="Metadata" xmlUrl="http://169.254.169.254/latest/meta-data/"/>
<outline text="Router" xmlUrl="http://[::ffff:192.168.1.1]/feed"/>
<outline text="Here" xmlUrl="http://localhost:8080/feed"/>
<outline text="Torn" xmlUrl="http://[::1/feed"/>
</body></opml>
"""


def test_opml_names_are_one_line_and_feeds_at_private_addresses_are_skipped(tmp_path: Path):
    opml = tmp_path / "reader.opml"
    opml.write_text(OPML)
    config = tmp_path / "brief.yaml"
    config.write_text("title: X\nfeeds:\n  - name: Old\n    url: https://old.example/rss\n")
    result = run_cli("feeds", "import", str(opml), "--config", str(config))
    assert result.returncode == 0, result.stderr
    assert _feeds(config) == [
        ("Old", "https://old.example/rss", None),
        ("Two Lines Feed", "https://two.example/feed.xml", None),
        ("Invoicefdp.exe", "https://evil.example/feed.xml", None),
        ("In", "https://in.example/f", "Folder Name"),
    ]
    tail = "not a public one; an imported feed may not reach the local network " \
           "(--allow-private imports it)"  # fmt: skip
    skipped = [line for line in result.stdout.splitlines() if line.startswith("skipped")]
    assert skipped == [
        "skipped Metadata: http://169.254.169.254/latest/meta-data/ is at a link-local "
        f"address (169.254.169.254), {tail}",
        "skipped Router: http://[::ffff:192.168.1.1]/feed is at a private address "
        f"(::ffff:192.168.1.1), {tail}",
        f"skipped Here: http://localhost:8080/feed is at a loopback address (localhost, "
        f"127.0.0.1), {tail}",
        "skipped Torn: its URL does not parse (Invalid IPv6 URL)",
    ]
    assert result.stdout.strip().endswith("added 3 feeds, skipped 4")

    allowed = run_cli("feeds", "import", str(opml), "--allow-private", "--config", str(config))
    assert allowed.returncode == 0, allowed.stderr
    assert [url for _, url, _ in _feeds(config)[4:]] == [
        "http://169.254.169.254/latest/meta-data/",
        "http://[::ffff:192.168.1.1]/feed",
        "http://localhost:8080/feed",
    ]


# -- a malformed feed: check and run ---------------------------------------------------------


def _broken_feed_config(tmp_path: Path) -> tuple[Path, str]:
    # Line 2 has a bare "&" (not well-formed); its one item has no link: read, not usable.
    (tmp_path / "broken.xml").write_text(
        '<?xml version="1.0"?><rss version="2.0"><channel><title>B</title>\n'
        f"<item><title>Story & more</title><pubDate>{NOW}</pubDate></item>"
        "</channel></rss>\n"
    )
    config = tmp_path / "broken.yaml"
    config.write_text(
        "title: T\nstorage: state.db\nworkers: 0\nfetch:\n  pages: false\n"
        "feeds:\n  - name: Broken Feed\n    url: broken.xml\n"
        "delivery:\n  method: file\n  outbox: outbox\n"
    )
    return config, (tmp_path / "broken.xml").resolve().as_uri()


def test_check_says_a_malformed_feed_in_one_warn_line_with_its_url(tmp_path: Path):
    config, url = _broken_feed_config(tmp_path)
    result = run_cli("check", "--config", str(config))
    assert result.returncode == 0, result.stdout + result.stderr
    lines = [line for line in result.stdout.splitlines() if "Broken Feed" in line]
    assert lines == [
        "warn Broken Feed: malformed feed (not well-formed (invalid token) at line 2, "
        "column 20); 1 entry recovered; 0 entries, 0 outside the 48h window; 1 dropped "
        f"(entry 'Story & more' has no http(s) link)  <{url}>"
    ]


def test_run_says_a_malformed_feed_and_its_dropped_entry_in_one_line(tmp_path: Path):
    config, url = _broken_feed_config(tmp_path)
    result = run_cli("run", "--config", str(config))
    assert result.returncode == 0, result.stderr
    assert problems(result.stderr) == [
        f"digest: warning: feed 'Broken Feed' ({url}): malformed feed (not well-formed "
        "(invalid token) at line 2, column 20); 1 entry recovered; 1 dropped (entry 'Story & "
        "more' has no http(s) link)"
    ]


# -- -v: each problem once; counts with their plurals ------------------------------------------


def test_verbose_run_says_a_missing_page_and_a_missing_feed_once(tmp_path: Path):
    root = tmp_path / "site"
    root.mkdir()
    with LocalSite(root) as site:
        (root / "feed.xml").write_text(
            '<?xml version="1.0"?><rss version="2.0"><channel><title>Site</title>'
            f"<item><title>A story</title><link>{site.base_url}/missing.html</link>"
            f"<guid>a</guid><pubDate>{NOW}</pubDate><description>The story, told in a "
            "sentence.</description></item></channel></rss>"
        )
        config = tmp_path / "site.yaml"
        config.write_text(
            f"title: T\nstorage: state.db\nworkers: 0\nfeeds:\n  - name: Site\n"
            f"    url: {site.base_url}/feed.xml\n  - name: Gone\n"
            f"    url: {site.base_url}/gone.xml\ndelivery:\n  method: file\n  outbox: outbox\n"
        )
        result = run_cli("-v", "run", "--config", str(config))
    assert result.returncode == 0, result.stderr
    lines = problems(result.stderr)
    assert len([line for line in lines if "missing.html" in line]) == 1, lines
    assert len([line for line in lines if "gone.xml" in line]) == 1, lines
    assert "digest: feeds: 1 fetched, 0 unchanged, 1 failed; 1 new article" in lines


def test_pages_of_a_host_that_kept_timing_out_are_one_line_not_one_each(tmp_path: Path):
    from conftest import respond, stall

    root = tmp_path / "site"
    root.mkdir()
    stamp = format_datetime(datetime.now(UTC))
    with LocalSite(root, port=0) as server:
        base = server.base_url
        links = [f"{base}/slow/{n}.html" for n in range(7)]
        items = "".join(
            f"<item><title>Slow story {n}</title><link>{link}</link><guid>{link}</guid>"
            f"<pubDate>{stamp}</pubDate><description>The feed's text of story {n}."
            "</description></item>"
            for n, link in enumerate(links)
        )
        feed = f"<rss version='2.0'><channel><title>Slow</title>{items}</channel></rss>"
        server.overrides = {
            "/feed.xml": respond(200, feed.encode(), "application/rss+xml"),
            **{f"/slow/{n}.html": stall(4) for n in range(7)},
        }
        config = tmp_path / "digest.yaml"
        config.write_text(
            "title: Slow\nstorage: state.db\nfetch:\n  timeout: 1\n"
            "delivery:\n  method: file\n  outbox: outbox\n"
            f"feeds:\n  - name: Slow\n    url: {base}/feed.xml\n"
        )
        result = run_cli("run", "--config", str(config))
    assert result.returncode == 0, result.stderr
    lines = problems(result.stderr)
    timed_out = [line for line in lines if "timed out after 1s" in line]
    not_asked = [line for line in lines if "not asked" in line]
    assert len(timed_out) >= 3 and len(timed_out) + 1 == len(lines), lines
    (line,) = not_asked
    assert line.startswith(f"digest: {7 - len(timed_out)} pages (feed 'Slow', first {base}/slow/")
    assert line.endswith(
        "not asked: 127.0.0.1 did not answer in time 3 times or more in this run, for 25% or "
        "more of its pages; pages not used, the articles keep their feeds' text"
    )


def test_pages_of_a_site_whose_robots_txt_is_unavailable_are_one_line_per_host(
    tmp_path: Path,
):
    """Two sites whose robots.txt answers 503, five pages each: a line per host naming its
    robots.txt, the reason and how many pages it held back, not a line per page; each page
    is still its own skip in the run's report."""

    def feed_of(base: str, name: str) -> bytes:
        items = "".join(
            f"<item><title>{name} story {n}</title><link>{base}/story/{n}.html</link>"
            f"<guid>{base}/story/{n}.html</guid><pubDate>{NOW}</pubDate>"
            f"<description>The feed's text of {name} story {n}.</description></item>"
            for n in range(5)
        )
        return f"<rss version='2.0'><channel><title>{name}</title>{items}</channel></rss>".encode()

    root = tmp_path / "site"
    root.mkdir()
    with LocalSite(root) as one, LocalSite(root) as two:
        for site, name in ((one, "One"), (two, "Two")):
            site.overrides = {
                "/feed.xml": respond(200, feed_of(site.base_url, name), "application/rss+xml"),
                "/robots.txt": respond(503, b"down", "text/plain"),
            }
        feeds = "".join(
            f"  - name: {name}\n    url: {site.base_url}/feed.xml\n"
            for site, name in ((one, "One"), (two, "Two"))
        )
        configs = []
        for run in ("library", "cli"):
            (tmp_path / run).mkdir()
            configs.append(tmp_path / run / "digest.yaml")
            configs[-1].write_text(
                "title: Robots\nstorage: state.db\nfetch:\n  timeout: 2\n"
                f"delivery:\n  method: file\n  outbox: outbox\nfeeds:\n{feeds}"
            )
        report = digest.run(load_config(configs[0]))
        result = run_cli("preview", "--config", str(configs[1]))
        story_requests = [r for r in (*one.requests, *two.requests) if "/story/" in r[1]]
    assert result.returncode == 0, result.stderr
    pages = [skip for skip in report.skipped if skip.stage == "page"]
    assert sorted(skip.target for skip in pages) == sorted(
        f"{site.base_url}/story/{n}.html" for site in (one, two) for n in range(5)
    )
    assert all(skip.reason.startswith("robots.txt unavailable (") for skip in pages), pages
    assert not story_requests  # the sites were not crawled
    lines = [line for line in problems(result.stderr) if "robots.txt" in line]
    assert sorted(lines) == [
        f"digest: 5 pages (feed {name!r}, first {site.base_url}/story/0.html): robots.txt "
        f"unavailable ({site.base_url}/robots.txt: HTTP 503 Service Unavailable), so the site "
        "is not crawled this run; pages not used, the articles keep their feeds' text"
        for site, name in ((one, "One"), (two, "Two"))
    ], lines


def test_warnings_reach_a_log_without_verbose(tmp_path: Path):
    # cron and systemd run without -v: what a run recovered from must still be said there.
    from conftest import DEMO_SITES, write_config

    with LocalSite(DEMO_SITES, port=0) as server:
        config = write_config(
            tmp_path, server.base_url,
            feeds=[("Techwire", f"{server.base_url}/techwire/feed.xml", "World")],
        )  # fmt: skip
        assert run_cli("preview", "--config", str(config)).returncode == 0
        text = config.read_text().replace("techwire/feed.xml", "circuitpost/atom.xml")
        config.write_text(text.replace("name: Techwire", "name: Circuit Post"))
        result = run_cli("run", "--config", str(config))
    assert result.returncode == 0, result.stderr
    assert "held back: articles of 'Techwire', no longer in " in result.stderr


def test_feeds_add_of_a_path_that_is_no_file_from_the_config_s_folder_warns(tmp_path: Path):
    """A path is read from the config's folder: typed from the shell's folder it named no
    file, was added without a word, and `check` failed later (an operator's trial)."""
    folder = tmp_path / "my"
    (folder / "site").mkdir(parents=True)
    (folder / "site" / "here.xml").write_text("<rss/>")
    config = folder / "rel.yaml"
    config.write_text("title: T\nfeeds:\n  - name: A\n    url: https://a.example/feed\n")
    missing = run_cli("feeds", "add", "--config", "my/rel.yaml", "my/site/here.xml", cwd=tmp_path)
    assert missing.returncode == 0, missing.stderr
    warned = folder / "my" / "site" / "here.xml"
    assert f"warning: no such file {warned} (a feed's path is from the config's folder)" in (
        missing.stderr
    )
    found = run_cli(
        "feeds", "add", "--config", "my/rel.yaml", "site/here.xml", "--name", "Here", cwd=tmp_path
    )
    assert found.returncode == 0 and "warning" not in found.stderr, found.stderr


def test_two_sites_whose_pages_were_skipped_for_one_reason_get_a_line_each():
    # Two sites whose robots.txt both redirect to one that does not answer: one reason text.
    reason = "robots.txt unavailable (https://www.x.example/robots.txt: timed out)"
    pages = [
        Skipped("page", f"https://{site}.x.example/{n}", reason, "F")
        for site in ("blog", "news")
        for n in range(3)
    ]
    lines = problem_lines(RunReport(skipped=pages))
    assert [line.split(")")[0] for line in lines] == [
        "3 pages (feed 'F', first https://blog.x.example/0",
        "3 pages (feed 'F', first https://news.x.example/0",
    ]


def test_pages_a_site_s_robots_txt_disallows_are_one_line_per_host():
    # A site whose robots.txt closes it to crawlers gave one line per page of its feed, all
    # saying the same; one page alone keeps the page's own line.
    pages = [
        Skipped("page", f"https://closed.example/story/{n}", "disallowed by robots.txt", "F")
        for n in range(4)
    ]
    alone = Skipped("page", "https://news.example/a", "disallowed by robots.txt", "G")
    lines = problem_lines(RunReport(skipped=[*pages, alone]))
    assert sorted(lines) == [
        "4 pages (feed 'F', first https://closed.example/story/0): disallowed by robots.txt; "
        "pages not used, the articles keep their feeds' text",
        "page https://news.example/a (feed 'G'): disallowed by robots.txt; page not used, the "
        "article keeps the feed's text",
    ]


def test_commands_that_send_no_mail_work_without_the_smtp_password(tmp_path: Path):
    # secrets.env is readable by root and the digest user only: an admin's `digest status`
    # refused to run for want of a password it never uses (an operator's trial).
    config = tmp_path / "brief.yaml"
    config.write_text(
        "title: Brief\nstorage: state.db\n"
        "delivery:\n  method: smtp\n  to: ana@example.org\n  username: brief\n"
        "  password_env: DIGEST_TEST_UNSET_PASSWORD\n"
        "feeds:\n  - name: Wire\n    url: http://127.0.0.1:9/feed.xml\n"
    )
    opml = tmp_path / "more.opml"
    opml.write_text(
        '<opml version="2.0"><body><outline text="More" type="rss" '
        'xmlUrl="https://more.example/feed.xml"/></body></opml>'
    )
    for command in (
        ["status"],
        ["feeds", "list"],
        ["feeds", "export"],
        ["feeds", "add", "https://other.example/feed.xml", "--name", "Other"],
        ["feeds", "remove", "Other"],
        ["feeds", "import", str(opml)],
    ):
        result = run_cli(*command, "--config", str(config))
        assert result.returncode == 0, (command, result.stderr)
        assert "password" not in result.stderr, (command, result.stderr)
    assert "More" in config.read_text() and "Other" not in config.read_text()
    checked = run_cli("check", "--config", str(config))
    assert checked.returncode == 1
    assert f"{config}:7: delivery.password_env: $DIGEST_TEST_UNSET_PASSWORD is not set" in (
        checked.stderr
    )
