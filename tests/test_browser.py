"""The demo digest in headless Chromium (Debian's `chromium`, installed by .ci/run).

The digest is the real pipeline's output (the demo sites on loopback, `digest run` into an
outbox). Each test loads the HTML at a phone's and a desktop client's width, in light and
dark mode, and measures what a reader gets: no sideways scrolling, every story and source
link there, readable text. Screenshots land in var/screenshots/ (docs/development.md,
"Screenshots").
"""

from __future__ import annotations

import re
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import DEMO_BASE, DEMO_SITES, REPO, run_cli, write_config
from sites import LocalSite

from digest.mail._render import render_digest
from digest.models import Digest, DigestItem, FollowUp, SentStory, Source

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SCREENSHOTS = REPO / "var" / "screenshots"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

playwright_api = pytest.importorskip("playwright.sync_api", reason="pip install '.[test]'")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="no chromium on PATH (apt-get install chromium; .ci/run does)"
)

# Every element with its own visible text: its colour, and the first opaque background
# found walking up from it (the canvas colour of the colour scheme when there is none).
TEXT_COLOURS = """
() => {
  const probe = document.createElement('div');
  probe.style.backgroundColor = 'Canvas';
  document.documentElement.appendChild(probe);
  const canvas = getComputedStyle(probe).backgroundColor;
  probe.remove();
  const opaque = c => c && !/rgba\\(.*, 0\\)$/.test(c) && c !== 'transparent';
  const out = [];
  for (const el of document.body.querySelectorAll('*')) {
    const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    if (!own || !el.checkVisibility({opacityProperty: true, visibilityProperty: true})) continue;
    const box = el.getBoundingClientRect();
    if (box.width < 2 || box.height < 2) continue;
    let bg = null;
    for (let node = el; node; node = node.parentElement) {
      const c = getComputedStyle(node).backgroundColor;
      if (opaque(c)) { bg = c; break; }
    }
    out.push({text: el.textContent.trim().slice(0, 40), tag: el.tagName,
              color: getComputedStyle(el).color, background: bg || canvas});
  }
  return out;
}
"""


def _rgb(css: str) -> tuple[float, float, float]:
    values = [float(v) for v in re.findall(r"[\d.]+", css)[:3]]
    return values[0], values[1], values[2]


def _luminance(css: str) -> float:
    def channel(value: float) -> float:
        value /= 255
        return value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4

    red, green, blue = (channel(v) for v in _rgb(css))
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def contrast(foreground: str, background: str) -> float:
    """WCAG 2 contrast ratio of two CSS rgb() colours."""
    light, dark = sorted((_luminance(foreground), _luminance(background)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_contrast_formula_matches_wcag():
    assert contrast("rgb(0, 0, 0)", "rgb(255, 255, 255)") == pytest.approx(21)
    assert contrast("rgb(118, 118, 118)", "rgb(255, 255, 255)") == pytest.approx(4.54, abs=0.01)


def test_the_contrast_measure_sees_poor_text_and_the_canvas(browser):
    page = browser.new_page(color_scheme="dark")
    try:
        page.set_content(
            '<meta name="color-scheme" content="light dark"><p style="color:#234">dim</p>'
            '<div style="background:#fff"><span style="color:#999">grey</span></div>'
            '<p style="display:none">hidden</p>'
        )
        measured = {
            t["text"]: contrast(t["color"], t["background"]) for t in page.evaluate(TEXT_COLOURS)
        }
        assert set(measured) == {"dim", "grey"}
        assert measured["dim"] < 2 and measured["grey"] < 3
    finally:
        page.close()


@pytest.fixture(scope="module")
def demo_email(tmp_path_factory, request) -> Path:
    """The demo digest as `digest run` writes it to the outbox (real pipeline, loopback)."""
    return _demo_outbox_html(tmp_path_factory.mktemp("browser"))


@pytest.fixture(scope="module")
def demo_email_fr(tmp_path_factory) -> Path:
    """The same digest in French: longer words, the same layout."""
    return _demo_outbox_html(tmp_path_factory.mktemp("browser-fr"), "fr")


def _demo_outbox_html(tmp_path: Path, language: str = "en") -> Path:
    server = LocalSite(DEMO_SITES, port=0)
    server.rewrite = {DEMO_BASE: server.base_url}
    with server:
        extra = (
            f"timezone: Europe/London\nlanguage: {language}\n"
            "archive:\n  dir: archive\n  url: https://news.example.org/brief\n"
        )
        delivery = (
            "delivery:\n  method: file\n  outbox: outbox\n"
            "  unsubscribe: https://news.example.org/unsubscribe?who={recipient}\n"
        )
        config = write_config(tmp_path, server.base_url, delivery=delivery, extra=extra)
        result = run_cli("run", "--config", str(config))
    assert result.returncode == 0, result.stderr
    return next((tmp_path / "outbox").glob("*.html"))


@pytest.fixture(scope="module")
def browser():
    with playwright_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            yield chromium
        finally:
            chromium.close()


def _page(browser, width: int, scheme: str, email: Path):
    page = browser.new_page(viewport={"width": width, "height": 800}, color_scheme=scheme)
    # Offline: the email must not need anything beyond its own file.
    page.route(re.compile(r"^https?://"), lambda route: route.abort())
    page.goto(email.as_uri())
    return page


@pytest.mark.parametrize("width", [375, 600])
def test_no_horizontal_scrolling_and_every_story_and_link_present(browser, demo_email, width):
    page = _page(browser, width, "light", demo_email)
    try:
        scroll_width = page.evaluate("document.scrollingElement.scrollWidth")
        assert scroll_width <= width, f"{scroll_width}px of content in a {width}px window"
        wide = page.evaluate(
            f"[...document.body.querySelectorAll('*')].filter(e => "
            f"e.getBoundingClientRect().right > {width} + 0.5).map(e => e.tagName)"
        )
        assert not wide, f"elements overflow {width}px: {wide[:5]}"
        markup = demo_email.read_text(encoding="utf-8")
        hrefs = set(page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)"))
        headlines = page.eval_on_selector_all(".hl", "hs => hs.map(h => h.innerText)")
        text_part = demo_email.with_suffix(".txt").read_text(encoding="utf-8")
        numbered = re.findall(r"^\d+\. ", text_part, flags=re.M)
        assert len(headlines) == len(numbered) >= 10
        for url in re.findall(r"https?://127\.0\.0\.1:\d+/\S+", text_part):
            assert url in hrefs, f"{url} missing from the HTML"
        assert "https://news.example.org/brief/" in " ".join(hrefs)  # view in browser
        assert 'name="color-scheme"' in markup
        assert page.evaluate("document.documentElement.lang") == "en"
        assert page.locator("h1").count() == 1 and page.locator("h2").count() >= 2
        assert all(page.evaluate("[...document.images].map(i => i.alt !== '')") or [True])
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"digest-{width}-light.png"), full_page=True)
    finally:
        page.close()


@pytest.mark.parametrize("width", [375, 600])
def test_the_french_digest_fits_too(browser, demo_email_fr, width):
    page = _page(browser, width, "light", demo_email_fr)
    try:
        assert page.evaluate("document.documentElement.lang") == "fr"
        scroll_width = page.evaluate("document.scrollingElement.scrollWidth")
        assert scroll_width <= width, f"{scroll_width}px of content in a {width}px window"
        cut = page.evaluate(
            "[...document.querySelectorAll('h1,h2,h3,p')]"
            ".filter(e => e.scrollWidth > e.clientWidth).length"
        )
        assert cut == 0, "French text is clipped instead of wrapped"
        assert page.get_by_text("Se désabonner").count() == 2  # at the top and in the footer
        assert page.get_by_text("Voir dans le navigateur").count() == 1
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"digest-fr-{width}-light.png"), full_page=True)
    finally:
        page.close()


# Every "·" of the source lines and the footer's links, with the character after it that is
# not a space: a dot left at the end of a line reads as if nothing followed it.
DOTS_AND_WHAT_FOLLOWS = """
() => {
  const places = [...document.querySelectorAll('p.src, p:has(> a.acc)')];
  const texts = [];
  for (const p of places) {
    const walker = document.createTreeWalker(p, NodeFilter.SHOW_TEXT);
    for (let n; (n = walker.nextNode());) texts.push(n);
  }
  const box = (node, at) => {
    const range = document.createRange();
    range.setStart(node, at); range.setEnd(node, at + 1);
    return range.getBoundingClientRect();
  };
  const out = [];
  texts.forEach((node, k) => {
    for (let i = node.textContent.indexOf('·'); i >= 0; i = node.textContent.indexOf('·', i + 1)) {
      let next = null;
      for (let m = k, from = i + 1; m < texts.length && !next; m++, from = 0) {
        const rest = texts[m].textContent.slice(from).search(/\\S/);
        if (rest >= 0) next = box(texts[m], from + rest);
      }
      if (next) out.push({dot: box(node, i).top, next: next.top, text: node.textContent});
    }
  });
  return out;
}
"""


@pytest.mark.parametrize("width", [320, 375])
def test_no_line_ends_in_a_separating_dot(browser, demo_email_fr, width):
    """At 375 px the footer broke as "Lire sur le web · Anciens numéros ·" with
    "Se désabonner" alone below, and source lines as "Wire 10:00 ·" over "Data 10:00"."""
    page = _page(browser, width, "light", demo_email_fr)
    try:
        dots = page.evaluate(DOTS_AND_WHAT_FOLLOWS)
        assert len(dots) > 10
        ending = [d["text"] for d in dots if abs(d["dot"] - d["next"]) > 4]
        assert ending == [], f"a line ends in a dot at {width} px: {ending}"
    finally:
        page.close()


def _document(demo_email: Path, name: str) -> Path:
    """The email, or the archive's copy of it, or the archive's index."""
    archive = demo_email.parent.parent / "archive"
    if name == "archive-page":
        return next(archive.glob("20*.html"))
    return archive / "index.html" if name == "archive-index" else demo_email


def test_unbroken_long_words_wrap_instead_of_scrolling_sideways(browser, tmp_path):
    now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    source = Source("Outlet" + "y" * 70, "https://a.example/" + "z" * 200, "t", now)
    long_item = DigestItem(
        "Supercalifragilistic" * 6, source.url, "x" * 300 + ".", "en", None, (source,), (1,)
    )
    # A late report's outlet, with spaces and without: its line once ran 680 px wide.
    story = SentStory(2, "Peru earthquake near Arequipa", "https://b.example/quake", now)
    late = [
        Source(outlet, f"https://c.example/{number}", "Peru quake toll rises", now)
        for number, outlet in enumerate(
            ["The New York Times – International Edition", "Outlet" + "w" * 70]
        )
    ]
    follow_up = FollowUp(story, tuple(late), (7, 8))
    email = tmp_path / "long.html"
    digest = Digest("T", now, (long_item,), follow_ups=(follow_up,))
    email.write_text(render_digest(digest).html, encoding="utf-8")
    page = _page(browser, 375, "light", email)
    try:
        assert page.evaluate("document.scrollingElement.scrollWidth") <= 375
        cut = page.evaluate(
            "[...document.querySelectorAll('h2,h3,p')].filter(e => e.scrollWidth > e.clientWidth)"
            ".length"
        )
        assert cut == 0, "text is clipped instead of wrapped"
    finally:
        page.close()


def test_a_right_to_left_headline_and_summary_start_on_the_right(browser, tmp_path):
    """MJML's text blocks align left, which held Arabic to the left edge, ragged on the
    side it starts from. An Arabic headline that starts with a brand in Latin letters was
    set left to right (dir="auto" goes by the first letter; a subscriber-side review)."""
    now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    source = Source("الجزيرة", "https://a.example/quake", "زلزال في بيرو", now)
    item = DigestItem(
        "iPhone 17 يصل إلى الأسواق في بيرو", source.url, "قتل عشرون شخصا.", "ar", None,
        (source,), (1,),
    )  # fmt: skip
    story = SentStory(2, "زلزال في بيرو", "https://b.example/quake", now, "ar")
    late = Source("BBC عربي", "https://c.example/1", "ارتفاع عدد الضحايا", now)
    digest = Digest("T", now, (item,), follow_ups=(FollowUp(story, (late,), (7,)),))
    email = tmp_path / "rtl.html"
    email.write_text(render_digest(digest).html, encoding="utf-8")
    page = _page(browser, 600, "light", email)
    try:
        gaps = page.evaluate(
            """[...document.querySelectorAll('[dir=auto]:not(span), [dir=rtl]:not(span)')]
               .filter(e => getComputedStyle(e).direction === 'rtl')
               .map(e => {
                 const range = document.createRange();
                 range.selectNodeContents(e);
                 return e.getBoundingClientRect().right - range.getBoundingClientRect().right;
               })"""
        )
        assert len(gaps) == 3  # the headline, its summary, the late report's story
        assert max(gaps) < 2, gaps
    finally:
        page.close()


@pytest.mark.parametrize("name", ["archive-page", "archive-index"])
@pytest.mark.parametrize("width", [375, 600])
def test_the_archive_pages_fit_too(browser, demo_email, width, name):
    page = _page(browser, width, "light", _document(demo_email, name))
    try:
        scroll_width = page.evaluate("document.scrollingElement.scrollWidth")
        assert scroll_width <= width, f"{name}: {scroll_width}px in a {width}px window"
        if name == "archive-page":
            assert page.locator(".hl").count() == demo_email.read_text().count('class="hl"')
            assert page.get_by_text("Unsubscribe").count() == 0
    finally:
        page.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_source_links_are_underlined_not_told_by_hue_alone(browser, demo_email, scheme):
    """The sources' links and the grey times beside them have one lightness (1.0:1): hue
    alone told them apart (WCAG 1.4.1; a subscriber-side review)."""
    page = _page(browser, 600, scheme, demo_email)
    try:
        lines = page.evaluate(
            "[...document.querySelectorAll('.src a')].map(a => getComputedStyle(a)"
            ".textDecorationLine)"
        )
        assert lines and set(lines) == {"underline"}, lines
    finally:
        page.close()


def test_the_archive_index_wraps_a_headline_of_one_long_word(browser, tmp_path):
    """One 104-letter word in a headline made the index 973 px wide on a phone (a
    subscriber-side review); the email already broke such words."""
    from digest.config._loader import ArchiveConfig
    from digest.mail._archive import ArchivedDigest, index_page

    word = "Donaudampfschifffahrtselektrizitaetenhauptbetriebswerkbauunterbeamtengesellschaft" * 2
    entry = ArchivedDigest(
        "2026-12-07.html", "Brief", f"Brief: {word}", "2026-12-07T07:00:00+00:00", 1,
        [(f"{word} opens", "2026-12-07.html#story-1")],
    )  # fmt: skip
    index = tmp_path / "index.html"
    index.write_text(index_page([entry], "Brief", "en", ArchiveConfig(tmp_path)), encoding="utf-8")
    page = _page(browser, 375, "light", index)
    try:
        assert page.evaluate("document.scrollingElement.scrollWidth") <= 375
    finally:
        page.close()


@pytest.mark.parametrize("name", ["email", "archive-page", "archive-index"])
def test_in_dark_mode_the_page_below_the_digest_is_dark_too(browser, demo_email, name):
    # Only the content's own box turned dark: a window taller than the digest showed the
    # light body below it.
    page = _page(browser, 600, "dark", _document(demo_email, name))
    try:
        page.set_viewport_size({"width": 600, "height": 20_000})
        body = page.evaluate("getComputedStyle(document.body).backgroundColor")
        assert _luminance(body) < 0.02, body
    finally:
        page.close()


@pytest.mark.parametrize("name", ["email", "archive-page", "archive-index"])
@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("width", [375, 600])
def test_text_contrast_is_at_least_4_5_to_1(browser, demo_email, width, scheme, name):
    page = _page(browser, width, scheme, _document(demo_email, name))
    try:
        assert page.evaluate("matchMedia('(prefers-color-scheme: dark)').matches") == (
            scheme == "dark"
        )
        texts = page.evaluate(TEXT_COLOURS)
        assert len(texts) > (50 if name != "archive-index" else 5)
        poor = [
            (
                t["text"],
                t["color"],
                t["background"],
                round(contrast(t["color"], t["background"]), 2),
            )
            for t in texts
            if contrast(t["color"], t["background"]) < 4.5
        ]
        assert not poor, f"{name}: {len(poor)} texts below 4.5:1 in {scheme} mode: {poor[:5]}"
        lowest = min(contrast(t["color"], t["background"]) for t in texts)
        print(
            f"{name} {scheme} {width}px: lowest text contrast {lowest:.2f}:1 "
            f"over {len(texts)} texts"
        )
        if scheme == "dark" or name != "email":
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            prefix = "digest" if name == "email" else name
            shot = SCREENSHOTS / f"{prefix}-{width}-{scheme}.png"
            page.screenshot(path=str(shot), full_page=True)
    finally:
        page.close()
