"""A benchmark corpus: outlets with RSS, Atom and JSON feeds and real-sized article pages.

Page structure comes from the real pages in ../shared/data/article-extraction/html (read in
place at bench time, never copied): each usable page (50-300 KB) becomes a template by
removing its article paragraphs, headline and metadata and marking where they go. Each
outlet uses one template, so its pages share navigation, sidebars, scripts and comments
like a real site's; the article text, headline, byline, date and the outlet's own sign-up
box are generated (newsgen.py).

`serve` runs a threaded HTTP/1.1 server per outlet, each on its own loopback address
(127.0.x.y: one host per outlet, as the fetcher's per-host limit expects), answering
If-None-Match / If-Modified-Since with 304 and sending the stored gzip bodies as is.
"""

from __future__ import annotations

import gzip
import html
import json
import random
import sys
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, formatdate, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import lxml.html
from newsgen import Story, Writer, make_stories

SHARED_PAGES = Path(__file__).resolve().parents[2] / "shared" / "data" / "article-extraction"
BODY_MARK = "DIGESTBENCHBODYMARK"
TITLE_MARK = "DIGESTBENCHTITLEMARK"
HEAD_MARK = "DIGESTBENCHHEADMARK"
FORMATS = ("rss", "atom", "json")
FEED_FILES = {"rss": "feed.xml", "atom": "atom.xml", "json": "feed.json"}
TYPES = {
    ".xml": "application/rss+xml; charset=utf-8",
    ".atom": "application/atom+xml; charset=utf-8",
    ".json": "application/feed+json; charset=utf-8",
    ".html": "text/html; charset=utf-8",
}


def outlet_address(index: int) -> str:
    return f"127.0.{10 + index // 250}.{1 + index % 250}"


@dataclass(frozen=True)
class Template:
    source: str  # the shared file it was made from
    parts: tuple[str, str, str, str]  # before title, before head meta, before body, after


def load_templates(limit: int = 40) -> list[Template]:
    """Templates from the shared pages whose main container is clear; at most `limit`."""
    templates = []
    for path in sorted((SHARED_PAGES / "html").glob("*.html.gz")):
        raw = gzip.decompress(path.read_bytes())
        if not 50_000 <= len(raw) <= 300_000:
            continue
        template = _template(raw, path.name)
        if template is not None and _extracts_cleanly(template):
            templates.append(template)
        if len(templates) >= limit:
            break
    return templates


def _template(raw: bytes, name: str) -> Template | None:
    try:
        doc = lxml.html.document_fromstring(raw)
    except (ValueError, lxml.etree.ParserError):
        return None
    best, best_length = None, 0
    for element in doc.iter():
        if not isinstance(element.tag, str):
            continue
        length = sum(len(c.text_content()) for c in element if c.tag == "p")
        if length > best_length:
            best, best_length = element, length
    if best is None or best_length < 1500:
        return None
    paragraphs = [c for c in best if c.tag == "p"]
    marker = lxml.html.Element("div")
    marker.text = BODY_MARK
    best.replace(paragraphs[0], marker)
    for paragraph in paragraphs[1:]:
        paragraph.drop_tree()
    # The original headline, metadata and structured data would describe another article.
    for element in doc.xpath("//h1 | //script[@type='application/ld+json'] | //meta[@property "
                             "or @name or @itemprop] | //time"):  # fmt: skip
        element.drop_tree()
    head = doc.find("head")
    title = doc.find(".//title")
    if head is None or title is None:
        return None
    title.text = TITLE_MARK
    meta = lxml.html.Element("meta")
    meta.set("name", HEAD_MARK)
    head.append(meta)
    page = lxml.html.tostring(doc, encoding="unicode", doctype="<!DOCTYPE html>")
    before_title, _, rest = page.partition(TITLE_MARK)
    before_head, _, rest = rest.partition(f'<meta name="{HEAD_MARK}">')
    before_body, _, after = rest.partition(f"<div>{BODY_MARK}</div>")
    if not after:
        return None
    return Template(name, (before_title, before_head, before_body, after))


def _extracts_cleanly(template: Template) -> bool:
    """The pipeline finds the generated article in a page made from this template (else the
    benchmark would time a page the digest falls back to feed text for)."""
    from digest.pipeline._pool import process_page

    article = plan(2, 1, seed=1, now=datetime(2026, 1, 1, tzinfo=UTC))[0][0]
    work = process_page(page_html(template, article, "Check").encode(), "http://127.0.0.1/a")
    text = work.cleaned.text if work.cleaned else ""
    return all(paragraph in text for paragraph in article.paragraphs)


@dataclass(frozen=True)
class Article:
    outlet: int
    number: int  # within the outlet
    story: Story
    title: str
    paragraphs: tuple[str, ...]
    author: str
    published: datetime

    @property
    def path(self) -> str:
        return f"/news/{self.number:04d}-story-{self.story.number}.html"


def page_html(template: Template, article: Article, outlet_name: str) -> str:
    before_title, before_head, before_body, after = template.parts
    title = html.escape(article.title)
    when = article.published.isoformat(timespec="seconds")
    head = (
        f'<meta property="og:title" content="{title}">'
        f'<meta property="article:published_time" content="{when}">'
        f'<meta name="author" content="{html.escape(article.author)}">'
    )
    body = "".join(f"<p>{html.escape(p)}</p>" for p in article.paragraphs)
    signup = (
        f'<div class="newsletter"><p>Sign up for the {outlet_name} morning briefing: the '
        f"day's top stories in your inbox before breakfast.</p></div>"
    )
    return (
        f"{before_title}{title} | {outlet_name}{before_head}{head}{before_body}"
        f"<h1>{title}</h1><p class=byline>By {html.escape(article.author)} · "
        f'<time datetime="{when}">{article.published:%d %B %Y}</time></p>{body}{signup}'
        f"{after}"
    )


def plan(outlets: int, per_outlet: int, seed: int, now: datetime) -> list[list[Article]]:
    """Each outlet's articles; about 10% of the stories are covered by 2-8 outlets."""
    rng = random.Random(seed)
    total = outlets * per_outlet
    shared_sizes = []
    covered = 0
    while covered < total * 0.3:  # 10% of ~1.4*N/5 stories, 5 versions each on average
        size = rng.randint(2, min(8, outlets))
        shared_sizes.append(size)
        covered += size
    singles = total - covered
    stories = make_stories(len(shared_sizes) + singles, seed)
    slots = {outlet: per_outlet for outlet in range(outlets)}
    assignment: list[list[Story]] = [[] for _ in range(outlets)]
    for story, size in zip(stories, shared_sizes, strict=False):
        free = [o for o, left in slots.items() if left > 0]
        for outlet in rng.sample(free, min(size, len(free))):
            assignment[outlet].append(story)
            slots[outlet] -= 1
    rest = iter(stories[len(shared_sizes) :])
    for outlet, left in slots.items():
        assignment[outlet].extend(next(rest) for _ in range(left))
    writers = [Writer(seed * 1000 + outlet) for outlet in range(outlets)]
    story_time = {s.number: now - timedelta(minutes=rng.randint(30, 36 * 60)) for s in stories}
    result = []
    for outlet, assigned in enumerate(assignment):
        writer = writers[outlet]
        articles = []
        for number, story in enumerate(assigned):
            articles.append(
                Article(
                    outlet=outlet,
                    number=number,
                    story=story,
                    title=writer.headline(story),
                    paragraphs=tuple(writer.paragraphs(story, writer.rng.randint(10, 16))),
                    author=f"{writer.rng.choice(['Sam', 'Alex', 'Kim', 'Noor'])} Writer{outlet}",
                    published=story_time[story.number] + timedelta(minutes=outlet % 97),
                )
            )
        articles.sort(key=lambda a: a.published, reverse=True)
        result.append(articles)
    return result


def outlet_name(index: int) -> str:
    return f"Outlet {index:03d} {random.Random(index).choice(['Times', 'Post', 'Wire', 'Herald'])}"


def feed_document(kind: str, name: str, base: str, articles: list[Article]) -> str:
    if kind == "json":
        items = [
            {
                "id": f"{base}{a.path}",
                "url": f"{base}{a.path}",
                "title": a.title,
                "summary": a.paragraphs[0],
                "date_published": a.published.isoformat(timespec="seconds"),
                "authors": [{"name": a.author}],
            }
            for a in articles
        ]
        feed = {"version": "https://jsonfeed.org/version/1.1", "title": name,
                "home_page_url": base + "/", "items": items}  # fmt: skip
        return json.dumps(feed, ensure_ascii=False)
    esc = html.escape
    if kind == "atom":
        entries = "".join(
            f"<entry><id>{base}{a.path}</id><title>{esc(a.title)}</title>"
            f'<link rel="alternate" href="{base}{a.path}"/>'
            f"<updated>{a.published.isoformat(timespec='seconds')}</updated>"
            f"<author><name>{esc(a.author)}</name></author>"
            f"<summary>{esc(a.paragraphs[0])}</summary></entry>"
            for a in articles
        )
        return (
            '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
            f"<title>{esc(name)}</title><id>{base}/</id>"
            f"<updated>{articles[0].published.isoformat(timespec='seconds')}</updated>"
            f"{entries}</feed>"
        )
    items = "".join(
        f"<item><title>{esc(a.title)}</title><link>{base}{a.path}</link>"
        f'<guid isPermaLink="true">{base}{a.path}</guid>'
        f"<pubDate>{format_datetime(a.published)}</pubDate>"
        f"<description>{esc(a.paragraphs[0])}</description></item>"
        for a in articles
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>{esc(name)}</title><link>{base}/</link><description>{esc(name)}</description>"
        f"{items}</channel></rss>"
    )


def build(root: Path, outlets: int, per_outlet: int, port: int, now: datetime) -> dict:
    """Write every outlet's feed and pages (gzipped) under `root`; returns the manifest."""
    templates = load_templates()
    if not templates:
        raise SystemExit(f"no usable page templates under {SHARED_PAGES}")
    plans = plan(outlets, per_outlet, seed=8, now=now)
    feeds = []
    page_bytes = 0
    for outlet, articles in enumerate(plans):
        name = outlet_name(outlet)
        base = f"http://{outlet_address(outlet)}:{port}"
        kind = FORMATS[outlet % len(FORMATS)]
        folder = root / f"{outlet:03d}"
        (folder / "news").mkdir(parents=True, exist_ok=True)
        template = templates[outlet % len(templates)]
        for article in articles:
            data = page_html(template, article, name).encode("utf-8")
            page_bytes += len(data)
            (folder / article.path.lstrip("/")).with_suffix(".html.gz").write_bytes(
                gzip.compress(data, compresslevel=1)
            )
        document = feed_document(kind, name, base, articles).encode("utf-8")
        feed_file = FEED_FILES[kind]
        (folder / (feed_file + ".gz")).write_bytes(gzip.compress(document, compresslevel=1))
        feeds.append({"name": name, "url": f"{base}/{feed_file}"})
    shared = sum(1 for p in plans for a in p if any(
        a.story.number == b.story.number for q in plans if q is not p for b in q
    )) if outlets * per_outlet <= 4000 else None  # fmt: skip
    manifest = {
        "outlets": outlets,
        "per_outlet": per_outlet,
        "port": port,
        "now": now.isoformat(),
        "feeds": feeds,
        "templates": len(templates),
        "page_bytes": page_bytes,
        "articles_in_shared_stories": shared,
    }
    (root / "manifest.json").write_text(json.dumps(manifest))
    return manifest


def serve(root: Path, outlets: int, port: int) -> None:
    """Serve `root` until stdin closes; prints 'ready' once every outlet listens."""
    servers = []
    for outlet in range(outlets):
        folder = root / f"{outlet:03d}"
        server = ThreadingHTTPServer((outlet_address(outlet), port), _handler(folder))
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
    print("ready", flush=True)
    sys.stdin.read()  # then exit: the serving threads are daemons (200 shutdowns take minutes)


def _handler(folder: Path) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out in two writes; with Nagle's algorithm on, the body's last
        # segment waits for the client's delayed ACK (40 ms on Linux), a stall per response
        # that real web servers avoid (TCP_NODELAY, or one write). It made each page fetch
        # take 44 ms on loopback, so the run needed more requests in flight than
        # fetch.concurrency allows to keep the extraction workers busy.
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            return

        def do_GET(self) -> None:
            path = (folder / self.path.split("?")[0].lstrip("/")).with_name(
                Path(self.path).name + ".gz"
            )
            try:
                stat = path.stat()
            except OSError:
                self.send_error(404)
                return
            etag = f'"{stat.st_mtime_ns:x}-{stat.st_size:x}"'
            modified = formatdate(stat.st_mtime, usegmt=True)
            since = self.headers.get("If-Modified-Since")
            fresh = self.headers.get("If-None-Match") == etag
            if not fresh and since:
                try:
                    fresh = parsedate_to_datetime(since).timestamp() >= int(stat.st_mtime)
                except (TypeError, ValueError):
                    fresh = False
            if fresh:
                self.send_response(304)
                self.send_header("ETag", etag)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            body = path.read_bytes()
            self.send_response(200)
            if "gzip" in self.headers.get("Accept-Encoding", ""):
                self.send_header("Content-Encoding", "gzip")
            else:
                body = gzip.decompress(body)
            self.send_header("Content-Type", TYPES.get(Path(self.path).suffix, "text/plain"))
            self.send_header("Content-Length", str(len(body)))
            self.send_header("ETag", etag)
            self.send_header("Last-Modified", modified)
            self.end_headers()
            self.wfile.write(body)

    return Handler


if __name__ == "__main__":
    # python bench/corpus.py serve ROOT OUTLETS PORT
    _, _, root_arg, outlets_arg, port_arg = sys.argv
    serve(Path(root_arg), int(outlets_arg), int(port_arg))
