"""Per-feed controls: a fair share of the digest for each feed and per-feed caps, per-feed
`pages`, HTTP basic auth and headers read from the environment (never shown, never sent to
another origin), and `digest feeds add|list|remove` keeping the operator's YAML."""

from __future__ import annotations

import base64
import json
import random
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
from conftest import run_cli
from sites import LocalSite

from digest.cluster import rank_clusters
from digest.config._loader import load_config
from digest.models import Article, Cluster

NOW = datetime.now(UTC).replace(microsecond=0)
_SYLLABLES = [c + v for c in "bdfgklmnprstvz" for v in "aeiou"]


def _words(count: int, rng: random.Random) -> list[str]:
    """Made-up words, so that no two events share a term and none are clustered together."""
    return ["".join(rng.choice(_SYLLABLES) for _ in range(4)) for _ in range(count)]


def _rss(title: str, entries: list[tuple[str, str, str, datetime]]) -> str:
    items = "".join(
        f"<item><title>{escape(headline)}</title><link>{escape(link)}</link>"
        f"<guid>{escape(link)}</guid><pubDate>{format_datetime(published)}</pubDate>"
        f"<description>{escape(text)}</description></item>"
        for headline, link, text, published in entries
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
        f"<title>{escape(title)}</title><link>https://example.org/</link>"
        f"<description>test</description>{items}</channel></rss>"
    )


def _event_feed(name: str, count: int, newest: datetime, rng: random.Random) -> str:
    """A feed of `count` distinct events, one a minute back from `newest`."""
    entries = []
    for number in range(count):
        words = _words(14, rng)
        headline = " ".join(word.capitalize() for word in words[:5])
        text = (
            f"The {words[5]} {words[6]} said on Monday that {words[7]} would {words[8]} the "
            f"{words[9]}. Officials in {words[10].capitalize()} expect the {words[11]} to "
            f"reach {words[12]} by {words[13]}."
        )
        link = f"https://{name.lower()}.example/story-{number}"
        entries.append((headline, link, text, newest - timedelta(minutes=number)))
    return _rss(name, entries)


def _fair_share_config(tmp_path: Path, head: str, busy_options: str = "") -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    rng = random.Random(7)
    # The busy feed's stories are the newest: by recency alone they would take every slot.
    feeds = {"Busy": (50, NOW), "Quiet": (5, NOW - timedelta(hours=3)),
             "Rare": (5, NOW - timedelta(hours=4))}  # fmt: skip
    lines = ["feeds:"]
    for name, (count, newest) in feeds.items():
        (tmp_path / f"{name.lower()}.xml").write_text(_event_feed(name, count, newest, rng))
        lines += [f"  - name: {name}", f"    url: {name.lower()}.xml"]
        if name == "Busy" and busy_options:
            lines.append(busy_options)
    config = tmp_path / "fair.yaml"
    config.write_text(
        "title: Fair Brief\nwindow: 48h\nstorage: state.db\nworkers: 0\n"
        "fetch:\n  pages: false\ndelivery:\n  method: file\n  outbox: outbox\n"
        + head
        + "\n".join(lines)
        + "\n"
    )
    return config


def _lead_feeds(config: Path) -> Counter[str]:
    result = run_cli("preview", "--json", "--config", str(config))
    assert result.returncode == 0, result.stderr
    items = json.loads(result.stdout)["items"]
    assert all(len(item["sources"]) == 1 for item in items), "the events are distinct"
    return Counter(item["sources"][0]["name"] for item in items)


def test_one_busy_feed_no_longer_takes_every_slot(tmp_path: Path):
    # Without a fair share (one as large as the digest), the busy feed takes all 20 slots.
    unfair = _lead_feeds(_fair_share_config(tmp_path / "unfair", "max_items: 20\n"
                                            "max_per_feed: 20\n"))  # fmt: skip
    assert unfair == {"Busy": 20}
    # The default share (auto: max(3, 20 // 3) = 6) lets the two quiet feeds in first; the
    # slots they leave free go to the busy feed, so the digest is still full.
    fair = _lead_feeds(_fair_share_config(tmp_path / "auto", "max_items: 20\n"))
    assert fair == {"Busy": 10, "Quiet": 5, "Rare": 5}
    # A digest of 10: each feed its share of 3, and the one slot left to the best of the
    # rest, the busy feed's next story (the newest).
    small = _lead_feeds(_fair_share_config(tmp_path / "small", "max_items: 10\n"))
    assert small == {"Busy": 4, "Quiet": 3, "Rare": 3}


def test_a_feed_s_own_max_items_caps_it_even_with_slots_left(tmp_path: Path):
    config = _fair_share_config(tmp_path, "max_items: 30\n", "    max_items: 10")
    assert _lead_feeds(config) == {"Busy": 10, "Quiet": 5, "Rare": 5}
    run = run_cli("run", "--config", str(config))
    assert run.returncode == 0, run.stderr
    assert "delivered 20 items" in run.stdout
    # The busy feed's other stories wait: the next run sends its next 10.
    again = run_cli("preview", "--json", "--config", str(config))
    items = json.loads(again.stdout)["items"]
    assert [item["sources"][0]["name"] for item in items] == ["Busy"] * 10


def _article(article_id: int, feed: str, hours_ago: int, text: str = "") -> Article:
    published = NOW - timedelta(hours=hours_ago)
    return Article(
        id=article_id,
        feed=feed,
        url=f"https://{feed}.example/{article_id}",
        title=f"Story {article_id} of {feed}",
        text=text or f"Story {article_id} of {feed}, in words enough to be a summary here.",
        text_source="feed-summary",
        language="en",
        published=published,
    )


def test_an_item_several_outlets_covered_is_never_held_back_by_one_feed_s_cap():
    # Three stories led by "busy" alone and two that other outlets covered too, led by busy
    # (its text is the longest): with a cap of 1, the shared stories still go out.
    long_text = "A full account of the event, longer than any other outlet gave. " * 5
    shared = [
        Cluster((_article(10 + n, "busy", 1, long_text), _article(20 + n, "other", 1)))
        for n in range(2)
    ]
    alone = [Cluster((_article(30 + n, "busy", 0),)) for n in range(3)]
    items = rank_clusters([*alone, *shared], {}, 10, feed_caps={"busy": 1})
    # Both shared stories, led by busy, and no story of busy alone: they spent its cap.
    assert [item.headline for item in items] == ["Story 10 of busy", "Story 11 of busy"]
    # The fair share alone never leaves a slot empty: one feed fills a digest of its own.
    one_feed = [Cluster((_article(n, "only", n),)) for n in range(8)]
    assert len(rank_clusters(one_feed, {}, 6, fair_share=2)) == 6


def test_a_feed_s_items_past_its_share_are_shown_after_the_other_feeds_items():
    # A flood of newer stories from one feed took the slots left free, as it should, but
    # was listed first: its items opened the digest and gave its subject (an attacker's
    # trial). Those past its share now come after every other feed's items.
    flood = [Cluster((_article(n, "flood", 0),)) for n in range(8)]
    good = [Cluster((_article(100 + n, "good", 2 + n),)) for n in range(3)]
    items = rank_clusters([*flood, *good], {}, 8, fair_share=3)
    assert [item.sources[0].name for item in items] == ["flood"] * 3 + ["good"] * 3 + ["flood"] * 2


# -- per-feed pages ------------------------------------------------------------------------


def _demo_config(tmp_path: Path, site: LocalSite, fetch: str, circuit: str, techwire: str) -> Path:
    config = tmp_path / "pages.yaml"
    config.write_text(
        "title: Pages Brief\nwindow: 72h\nstorage: state.db\nworkers: 0\n"
        f"fetch:\n  timeout: 5\n{fetch}"
        "delivery:\n  method: file\n  outbox: outbox\n"
        "feeds:\n"
        f"  - name: Techwire\n    url: {site.base_url}/techwire/feed.xml\n{techwire}"
        f"  - name: Circuit Post\n    url: {site.base_url}/circuitpost/atom.xml\n{circuit}"
    )
    return config


def _page_requests(site: LocalSite, folder: str) -> list[str]:
    return [path for _, path, _ in site.requests if path.startswith(f"/{folder}/articles/")]


def test_pages_false_on_one_feed_fetches_none_of_its_pages(tmp_path: Path, site: LocalSite):
    config = _demo_config(tmp_path, site, "", "", "    pages: false\n")
    result = run_cli("preview", "--json", "--config", str(config))
    assert result.returncode == 0, result.stderr
    assert _page_requests(site, "techwire") == []
    assert _page_requests(site, "circuitpost"), "the other feed's pages are fetched"
    items = json.loads(result.stdout)["items"]
    assert any(s["name"] == "Techwire" for item in items for s in item["sources"])


def test_pages_true_on_one_feed_overrides_fetch_pages_false(tmp_path: Path, site: LocalSite):
    config = _demo_config(tmp_path, site, "  pages: false\n", "    pages: true\n", "")
    result = run_cli("preview", "--config", str(config))
    assert result.returncode == 0, result.stderr
    assert _page_requests(site, "techwire") == []
    assert _page_requests(site, "circuitpost")


# -- auth and headers ----------------------------------------------------------------------

USER, PASSWORD, API_KEY = "reader", "pa55-w0rd-Qx7", "k3y-Zr9-secret"
TOKEN = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
SECRETS = (PASSWORD, TOKEN, API_KEY)
ENV = {"FEED_AUTH": f"{USER}:{PASSWORD}", "FEED_HEADERS": json.dumps({"X-Api-Key": API_KEY})}
PAGE = (
    "<html><head><title>{title}</title></head><body><article><h1>{title}</h1>"
    + "<p>The harbour authority approved the new quay on Monday after a long review. "
    "Work starts in spring and should end within two years, officials said.</p>"
    * 4
    + "</article></body></html>"
)

Seen = list[tuple[str, dict[str, str]]]


def _serve(seen: Seen, body: str, content_type: str, password: bool) -> Callable:
    """A route that records each request's headers and, with `password`, answers 401
    unless the request carries the right basic auth."""

    def handler(request: BaseHTTPRequestHandler) -> None:
        seen.append((request.path, dict(request.headers)))
        if password and request.headers.get("Authorization") != f"Basic {TOKEN}":
            request.send_response(401)
            request.send_header("WWW-Authenticate", 'Basic realm="feeds"')
            request.send_header("Content-Length", "0")
            request.end_headers()
            return
        data = body.encode()
        request.send_response(200)
        request.send_header("Content-Type", content_type)
        request.send_header("Content-Length", str(len(data)))
        request.end_headers()
        request.wfile.write(data)

    return handler


def _redirect(seen: Seen, location: str) -> Callable:
    def handler(request: BaseHTTPRequestHandler) -> None:
        seen.append((request.path, dict(request.headers)))
        request.send_response(302)
        request.send_header("Location", location)
        request.send_header("Content-Length", "0")
        request.end_headers()

    return handler


class AuthSites:
    def __init__(self, root: Path):
        self.main = LocalSite(root, port=0)  # the feeds' own origin
        self.other = LocalSite(root, port=0, host="127.0.0.2")  # another host
        self.main_seen: Seen = []
        self.other_seen: Seen = []


@pytest.fixture
def auth_sites(tmp_path: Path) -> Iterator[AuthSites]:
    sites = AuthSites(tmp_path)
    main, other = sites.main.base_url, sites.other.base_url
    rss, html = "application/rss+xml", "text/html; charset=utf-8"
    private_feed = _rss("Private", [
        ("Harbour quay approved", f"{main}/private/story.html", "The quay is approved.", NOW),
        ("Elsewhere", f"{other}/story.html", "A story on another host.", NOW),
    ])  # fmt: skip
    moved_feed = _rss("Moved", [("Moved story", f"{other}/story2.html", "Moved away.", NOW)])
    sites.main.overrides = {
        "/private/feed.xml": _serve(sites.main_seen, private_feed, rss, password=True),
        "/private/story.html": _serve(sites.main_seen, PAGE.format(title="Quay"), html, True),
        "/moved/feed.xml": _redirect(sites.main_seen, f"{other}/feed.xml"),
    }
    sites.other.overrides = {
        "/feed.xml": _serve(sites.other_seen, moved_feed, rss, password=False),
        "/story.html": _serve(sites.other_seen, PAGE.format(title="Other"), html, False),
        "/story2.html": _serve(sites.other_seen, PAGE.format(title="Moved"), html, False),
    }
    with sites.main, sites.other:
        yield sites


def _auth_config(tmp_path: Path, sites: AuthSites, private_options: str) -> Path:
    config = tmp_path / "auth.yaml"
    config.write_text(
        "title: Private Brief\nwindow: 48h\nstorage: state/digest.db\nworkers: 0\n"
        # Pages on 127.0.0.2 are another host's: reachable only with allow_private.
        "fetch:\n  timeout: 5\n  allow_private: true\n"
        "delivery:\n  method: file\n  outbox: outbox\n"
        "feeds:\n"
        f"  - name: Private\n    url: {sites.main.base_url}/private/feed.xml\n{private_options}"
        f"  - name: Moved\n    url: {sites.main.base_url}/moved/feed.xml\n"
        "    auth_env: FEED_AUTH\n"
    )
    return config


def test_basic_auth_and_headers_reach_the_feed_s_origin_only(tmp_path: Path, auth_sites):
    options = "    auth_env: FEED_AUTH\n    headers_env: FEED_HEADERS\n"
    config = _auth_config(tmp_path, auth_sites, options)
    result = run_cli("-v", "run", "--config", str(config), env=ENV)
    assert result.returncode == 0, result.stderr
    main = {path: headers for path, headers in auth_sites.main_seen}
    for path in ("/private/feed.xml", "/private/story.html"):
        assert main[path].get("Authorization") == f"Basic {TOKEN}", path
    assert main["/private/feed.xml"].get("X-Api-Key") == API_KEY
    assert main["/moved/feed.xml"].get("Authorization") == f"Basic {TOKEN}"
    # The other host got the redirected feed and both pages, and none of the secrets.
    assert {path for path, _ in auth_sites.other_seen} == {
        "/feed.xml", "/story.html", "/story2.html"
    }  # fmt: skip
    for path, headers in auth_sites.other_seen:
        assert "Authorization" not in headers and "X-Api-Key" not in headers, path
    # The secrets show nowhere: run -v, check, status, feeds list and export, the state.
    outputs = [result.stdout + result.stderr]
    for command in (["check"], ["status"], ["feeds", "list"], ["feeds", "export"]):
        shown = run_cli(*command, "-v", "--config", str(config), env=ENV)
        assert shown.returncode == 0, (command, shown.stderr)
        outputs.append(shown.stdout + shown.stderr)
    assert "ok   Private: 2 entries" in outputs[1]
    files = [path for path in tmp_path.rglob("*") if path.is_file()]
    assert any(path.name.startswith("digest.db") for path in files)
    for secret in SECRETS:
        for text in outputs:
            assert secret not in text
        for path in files:
            assert secret.encode() not in path.read_bytes(), path


def test_without_its_credentials_a_feed_fails_alone_with_one_line(tmp_path: Path, auth_sites):
    # The server does require the password: without auth_env, 401.
    config = _auth_config(tmp_path, auth_sites, "")
    check = run_cli("check", "--config", str(config), env=ENV)
    assert check.returncode == 1
    assert "FAIL Private: HTTP 401 Unauthorized" in check.stdout
    assert "ok   Moved: 1 entry," in check.stdout
    # auth_env naming a variable that is not set: that feed fails, nothing is sent for it.
    config = _auth_config(tmp_path, auth_sites, "    auth_env: FEED_AUTH_MISSING\n")
    before = len(auth_sites.main_seen)
    check = run_cli("check", "--config", str(config), env=ENV)
    assert "FAIL Private: auth_env: $FEED_AUTH_MISSING is not set; export user:password in it" in (
        check.stdout
    )
    assert [path for path, _ in auth_sites.main_seen[before:]] == ["/moved/feed.xml"]
    run = run_cli("run", "--config", str(config), env=ENV)
    assert run.returncode == 0, run.stderr
    assert "feed 'Private'" in run.stderr and "$FEED_AUTH_MISSING is not set" in run.stderr
    assert "delivered 1 item" in run.stdout
    # A headers_env that is not a JSON object is named, and its text is not shown.
    config = _auth_config(tmp_path, auth_sites, "    headers_env: FEED_HEADERS\n")
    bad = run_cli("check", "--config", str(config), env={"FEED_HEADERS": f"X-Api-Key: {API_KEY}"})
    assert "FAIL Private: headers_env: $FEED_HEADERS is not a JSON object of headers" in bad.stdout
    assert API_KEY not in bad.stdout + bad.stderr


def test_a_password_in_a_feed_url_is_refused_without_showing_it(tmp_path: Path):
    config = tmp_path / "brief.yaml"
    config.write_text(
        "title: Brief\nfeeds:\n  - name: Private\n"
        f"    url: https://{USER}:{PASSWORD}@feeds.example/private.xml\n"
    )
    for command in (["check"], ["feeds", "export"], ["feeds", "list"], ["status"]):
        result = run_cli(*command, "--config", str(config))
        assert result.returncode == 1
        line = result.stderr.strip()
        assert "\n" not in line and PASSWORD not in result.stdout + line
        assert line.endswith(
            "brief.yaml:4: feeds[0].url: the URL holds a user name or password "
            "(user:password@), which would show wherever the URL does; write it without them "
            "and set the feed's auth_env to the name of an environment variable holding "
            "user:password"
        ), line


def test_an_opml_feed_with_a_password_in_its_url_is_skipped_unshown(tmp_path: Path):
    config = tmp_path / "brief.yaml"
    config.write_text(FEEDS_CONFIG)
    opml = tmp_path / "reader.opml"
    opml.write_text(
        '<?xml version="1.0"?><opml version="2.0"><head/><body>'
        f'<outline text="Private" xmlUrl="https://{USER}:{PASSWORD}@feeds.example/p.xml"/>'
        f'<outline text="Old" xmlUrl="gopher://{USER}:{PASSWORD}@old.example/feed"/>'
        "</body></opml>"
    )
    result = run_cli("feeds", "import", str(opml), "--config", str(config))
    assert result.returncode == 0, result.stderr
    assert PASSWORD not in result.stdout + result.stderr
    assert "skipped Private: the URL holds a user name or password" in result.stdout
    assert "skipped Old: 'gopher://old.example/feed' is not an http(s) URL" in result.stdout
    assert config.read_text() == FEEDS_CONFIG


# -- feeds add | list | remove -------------------------------------------------------------

FEEDS_CONFIG = """\
# Morning brief: edited by hand, comments must survive every edit.
title: Morning Brief
storage: state/brief.db
feeds:
  # Tech first
  - name: Techwire
    url: https://techwire.example/feed.xml
    section: Technology   # the big one
    max_items: 4
    filters:
      include: [AI, chips]
  # Lab notes: the blog, behind a login
  - name: Lab Notes
    url: https://labnotes.example/blog.xml
    auth_env: LAB_AUTH
    pages: false

  # Harbour news, last of the feeds
  - name: Harbour Gazette
    url: https://harbourgazette.example/rss.xml
# Delivery: to the outbox for now
delivery:
  method: file   # smtp later
  outbox: outbox
"""


def _feeds(config: Path) -> list[tuple[str, str, str | None]]:
    return [(f.name, f.url, f.section) for f in load_config(config).feeds]


def test_feeds_add_appends_one_feed_and_keeps_every_other_line(tmp_path: Path):
    config = tmp_path / "brief.yaml"
    config.write_text(FEEDS_CONFIG)
    result = run_cli("feeds", "add", "--config", str(config), "https://orbit.example/feed.json",
                     "--name", "Orbit Weekly", "--section", "Science: space")  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        f"{config}: added Orbit Weekly: https://orbit.example/feed.json (section Science: "
        "space); `digest check` tries it"
    )
    text = config.read_text()
    new = ["  - name: Orbit Weekly", "    url: https://orbit.example/feed.json",
           "    section: 'Science: space'"]  # fmt: skip
    original = FEEDS_CONFIG.splitlines()
    at = original.index("# Delivery: to the outbox for now")
    assert text.splitlines() == original[:at] + new + original[at:]
    assert _feeds(config)[-1] == ("Orbit Weekly", "https://orbit.example/feed.json",
                                  "Science: space")  # fmt: skip
    # Without --name, the feed is named after its host.
    result = run_cli("feeds", "add", "-c", str(config), "https://deep.example/rss")
    assert result.returncode == 0, result.stderr
    assert _feeds(config)[-1] == ("deep.example", "https://deep.example/rss", None)


def test_feeds_add_refuses_a_duplicate_url_or_name_and_a_bad_url_with_one_line(tmp_path: Path):
    config = tmp_path / "brief.yaml"
    config.write_text(FEEDS_CONFIG)
    for args, expected in (
        (["https://labnotes.example/blog.xml", "--name", "Lab again"],
         "https://labnotes.example/blog.xml is already listed, as feed 'Lab Notes'"),
        # As the config compares them: no #fragment, the host in any case.
        (["https://LabNotes.example/blog.xml#top", "--name", "Lab again"],
         "https://LabNotes.example/blog.xml#top is already listed, as feed 'Lab Notes'"),
        (["https://other.example/feed.xml", "--name", "Techwire"],
         "a feed named 'Techwire' is already listed (https://techwire.example/feed.xml); give "
         "this one another --name"),
        (["htp:/x"], "cannot add the feed: 'htp:/x' is not a URL or path (scheme 'htp')"),
        ([f"https://{USER}:{PASSWORD}@other.example/feed.xml"],
         "cannot add the feed: the URL holds a user name or password (user:password@), which "
         "would show wherever the URL does; write it without them and set the feed's auth_env "
         "to the name of an environment variable holding user:password"),
    ):  # fmt: skip
        result = run_cli("feeds", "add", "--config", str(config), *args)
        assert result.returncode == 1, args
        line = result.stderr.strip()
        assert "\n" not in line and line.endswith(f"digest: {config}: {expected}"), line
    assert config.read_text() == FEEDS_CONFIG


def test_feeds_remove_takes_out_one_feed_by_name_or_url_and_keeps_the_rest(tmp_path: Path):
    config = tmp_path / "brief.yaml"
    config.write_text(FEEDS_CONFIG)
    result = run_cli("feeds", "remove", "--config", str(config), "Techwire")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"{config}: removed Techwire: https://techwire.example/feed.xml"
    gone = FEEDS_CONFIG.splitlines()[5:11]
    assert gone[0] == "  - name: Techwire" and gone[-1] == "      include: [AI, chips]"
    expected = [line for line in FEEDS_CONFIG.splitlines() if line not in gone]
    assert config.read_text().splitlines() == expected
    # The last feed, by its URL: the comment before `delivery:` stays where it was.
    result = run_cli("feeds", "remove", "-c", str(config), "https://harbourgazette.example/rss.xml")
    assert result.returncode == 0, result.stderr
    expected = [
        line for line in expected if "Harbour Gazette" not in line and "harbour" not in line
    ]
    assert config.read_text().splitlines() == expected
    assert _feeds(config) == [("Lab Notes", "https://labnotes.example/blog.xml", None)]
    missing = run_cli("feeds", "remove", "-c", str(config), "Techwire")
    assert missing.returncode == 1
    assert missing.stderr.strip().endswith(
        f"digest: {config}: no feed named or at 'Techwire'; feeds: Lab Notes"
    )
    only = run_cli("feeds", "remove", "-c", str(config), "Lab Notes")
    assert only.returncode == 1
    assert "'Lab Notes' is the only feed and a digest needs one" in only.stderr
    assert config.read_text().splitlines() == expected


def test_feeds_list_shows_each_feed_with_its_own_settings(tmp_path: Path):
    config = tmp_path / "brief.yaml"
    config.write_text(FEEDS_CONFIG)
    result = run_cli("feeds", "list", "--config", str(config))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "NAME             URL                                     SECTION     OPTIONS",
        "Techwire         https://techwire.example/feed.xml       Technology  "
        "max_items=4 include=[AI, chips]",
        "Lab Notes        https://labnotes.example/blog.xml       -           "
        "pages=false auth_env=$LAB_AUTH",
        "Harbour Gazette  https://harbourgazette.example/rss.xml  -           -",
    ]


def test_a_feed_only_article_gets_its_language_from_its_words(tmp_path: Path):
    """Without a page, an article's language is judged on its feed text as a page's body is:
    function words first, langdetect for the rest (another script)."""
    texts = {
        "en": "The city council said on Monday that the new tram line would open in the "
        "spring, and that the work on the bridge was taking longer than it had planned.",
        "fr": "Le conseil municipal a annoncé lundi que la nouvelle ligne de tramway "
        "ouvrira au printemps, et que les travaux sur le pont prennent plus de temps.",
        "de": "Der Stadtrat hat am Montag mitgeteilt, dass die neue Straßenbahnlinie im "
        "Frühjahr eröffnet wird und dass die Arbeiten an der Brücke länger dauern.",
        "ja": "市議会は月曜日、新しい路面電車の路線が春に開業すると発表した。"
        "橋の工事は予定より長くかかっている。",
    }
    entries = [
        (f"{language} tram {number}", f"https://tram.example/{language}", text, NOW)
        for number, (language, text) in enumerate(texts.items())
    ]
    (tmp_path / "tram.xml").write_text(_rss("Tram", entries), encoding="utf-8")
    config = tmp_path / "tram.yaml"
    config.write_text(
        "title: Tram\nwindow: 48h\nstorage: state.db\nworkers: 0\nfetch:\n  pages: false\n"
        "delivery:\n  method: file\n  outbox: outbox\nfeeds:\n  - name: Tram\n    url: tram.xml\n"
    )
    result = run_cli("preview", "--json", "--config", str(config))
    assert result.returncode == 0, result.stderr
    found = {
        item["headline"].split()[0]: item["language"] for item in json.loads(result.stdout)["items"]
    }
    assert found == {language: language for language in texts}
