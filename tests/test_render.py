from __future__ import annotations

import re
import shutil
import unicodedata
from datetime import UTC, datetime

import pytest

from digest.errors import RenderError
from digest.mail._render import Links, render_digest, safe_url, wrap
from digest.models import Digest, DigestItem, FollowUp, SentStory, Source, SourceArticle

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)> & <b>bold'


def item(headline: str, url: str, section: str | None = None, language: str = "en"):
    return DigestItem(
        headline=headline,
        url=url,
        summary=f"Summary of {headline}. {HOSTILE}",
        language=language,
        section=section,
        sources=(
            Source("Wire", url, headline, NOW),
            Source("Évening Pöst", "javascript:alert(1)", headline, NOW),
            Source("Data", "data:text/html,<script>alert(1)</script>", headline, NOW),
        ),
        article_ids=(1, 2, 3),
    )


def covered_by(*outlets: str, headline: str = "Bridge opens", language: str = "en"):
    """An item whose sources are `outlets`, each with its own article, all at NOW."""
    sources = tuple(
        Source(outlet, f"https://{n}.example/1", headline, NOW) for n, outlet in enumerate(outlets)
    )
    return DigestItem(
        headline=headline,
        url=sources[0].url,
        summary=headline + ".",
        language=language,
        section=None,
        sources=sources,
        article_ids=tuple(range(len(sources))),
    )


def digest(*items: DigestItem, sections=()) -> Digest:
    return Digest("Morning Brief", NOW, tuple(items), "Europe/Paris", "en", tuple(sections))


@pytest.mark.parametrize(
    "reach",
    [
        "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
        "{{ self.__init__.__globals__.__builtins__.open('/etc/hostname').read() }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    ],
)
def test_an_operators_template_renders_the_digest_and_cannot_run_code(tmp_path, reach):
    # A `templates:` folder ran commands and read files with the digest's rights (an
    # attacker's trial): the templates are sandboxed.
    from digest.mail._render import default_template_dir

    folder = tmp_path / "templates"
    shutil.copytree(default_template_dir(), folder)
    text = folder / "digest.txt.j2"
    text.write_text(text.read_text() + reach + "\n")
    with pytest.raises(RenderError, match="a template reached outside the digest's data"):
        render_digest(digest(item("Harbour reopens", "https://a.example/1")), folder)


def test_hostile_feed_text_never_becomes_markup_or_a_live_link():
    rendered = render_digest(digest(item(HOSTILE, "javascript:alert(2)")))
    assert "<script>alert" not in rendered.html
    assert "onerror=alert" not in rendered.html.replace("&lt;img src=x onerror=alert", "")
    assert "<img" not in rendered.html
    assert not re.search(r'href="\s*(javascript|data):', rendered.html, re.I)
    assert "&lt;script&gt;" in rendered.html
    assert "javascript:" not in rendered.text and "data:text" not in rendered.text


def test_both_parts_list_every_source_and_the_coverage_line():
    rendered = render_digest(digest(item("Bridge opens", "https://wire.example/bridge")))
    for part in (rendered.html, rendered.text):
        assert "Wire" in part and "Data" in part
        assert "3 sources · first reported by Wire, 10:00" in part
    assert "Évening Pöst" in rendered.text
    assert 'href="https://wire.example/bridge"' in rendered.html
    assert '<html lang="en"' in rendered.html
    assert rendered.subject == "Morning Brief · 23 Nov 2026: Bridge opens"


def test_a_day_given_without_its_time_is_shown_as_that_day_in_any_zone():
    # Read as midnight UTC; in New York that would be "22 Nov, 19:00", a day early.
    day = datetime(2026, 11, 23, tzinfo=UTC)
    story = covered_by("Daily", "Wire")
    story = DigestItem(
        **{
            **story.__dict__,
            "sources": (
                Source("Daily", "https://daily.example/1", "Bridge opens", day),
                Source("Wire", "https://wire.example/1", "Bridge opens", NOW),
            ),
        }
    )
    letter = Digest("Morning Brief", NOW, (story,), "America/New_York", "en", ())
    rendered = render_digest(letter)
    for part in (rendered.html, rendered.text):
        assert "23\u00a0Nov" in part and "22\u00a0Nov" not in part and "19:00" not in part
        assert "04:00" in part  # the timed report, in New York's time


def test_sections_follow_config_order_and_numbers_follow_the_page():
    rendered = render_digest(
        digest(
            item("A", "https://a.example", "World"),
            item("B", "https://b.example", "Tech"),
            item("C", "https://c.example", "World"),
            sections=("Tech", "World"),
        )
    )
    text = rendered.text
    assert text.index("== Tech ==") < text.index("== World ==")
    assert "1. B" in text and "2. A" in text and "3. C" in text


def test_plain_text_is_wrapped_at_78_columns_except_links_alone_on_their_line():
    long = item("A very long headline " * 6, "https://wire.example/" + "x" * 60)
    tagged = item("Une très longue manchette " * 3 + "fin", "https://b.example/y", language="fr")
    for line in render_digest(digest(long, tagged)).text.splitlines():
        assert len(line) <= 78 or re.fullmatch(r" *https?://\S+", line), line


def test_foreign_language_items_are_tagged():
    rendered = render_digest(digest(item("Le pont ouvre", "https://a.example", language="fr")))
    assert "[FR]" in rendered.text
    assert re.search(r'<span class="mute" lang="fr"[^>]*>FR</span>', rendered.html)
    # Read aloud in its own language: the headline and the summary carry it too.
    assert re.search(r'<a href="https://a.example" lang="fr"[^>]*>Le pont ouvre</a>', rendered.html)
    assert re.search(r'<p class="ink" lang="fr"[^>]*>Summary of Le pont ouvre', rendered.html)


def test_a_broken_operator_template_is_a_render_error(tmp_path):
    (tmp_path / "digest.mjml.j2").write_text("<mjml>{% for x in %}</mjml>")
    (tmp_path / "digest.txt.j2").write_text("ok")
    with pytest.raises(RenderError, match=r"digest.mjml.j2:1"):
        render_digest(digest(item("A", "https://a.example")), tmp_path)


@pytest.mark.parametrize(
    ("url", "safe"),
    [
        ("https://a.example/x", "https://a.example/x"),
        ("HTTP://a.example", "HTTP://a.example"),
        ("javascript:alert(1)", ""),
        ("data:text/html,x", ""),
        ("//a.example", ""),
        (" vbscript:x", ""),
        ("http:///nohost", ""),
    ],
)
def test_safe_url_only_lets_http_through(url, safe):
    assert safe_url(url) == safe


def test_why_is_shown_in_small_type_only_when_asked():
    grouped = DigestItem(
        headline="Meta launches Meta Compute",
        url="https://wire.example/meta",
        summary="Meta will rent out its data centres.",
        language="en",
        section=None,
        sources=(
            Source("Wire", "https://wire.example/meta", "Meta", NOW),
            Source("Post", "https://post.example/meta", "Meta", NOW),
        ),
        article_ids=(1, 2),
        why=("Meta Compute", "$182.9 billion", "Santosh Janardhan"),
    )
    plain = render_digest(digest(grouped))
    assert "Grouped by" not in plain.html and "Grouped by" not in plain.text
    shown = render_digest(digest(grouped), show_why=True)
    assert "Grouped by: Meta Compute, $182.9 billion, Santosh Janardhan" in shown.text
    small = r'class="why[^"]*"[^>]*font-size:13px[^>]*>Grouped by: Meta Compute'
    assert re.search(small, shown.html)


def _thirty_items() -> Digest:
    """30 items as long as real ones run: 90-character headlines, three-sentence summaries
    of about 480 characters, one to six sources with long article URLs."""
    outlets = ["Techwire", "Circuit Post", "The Daily Ledger", "Global Brief", "Märkte Heute"]
    sentence = "The regulator said the measure would take effect in the spring after a review "
    items = []
    for index in range(30):
        count = index % 6 + 1
        sources = tuple(
            Source(
                f"{outlets[n % len(outlets)]} {n}",
                f"https://www.{n}.news.example/2026/11/23/section/long-article-slug-number-{index}",
                "A headline",
                NOW,
            )
            for n in range(count)
        )
        items.append(
            DigestItem(
                headline=f"Story {index}: " + "a ninety character headline about events " * 2,
                url=sources[0].url,
                summary=(sentence * 6)[:480] + ".",
                language="de" if index % 7 == 0 else "en",
                section=("World", "Business", "Technology", "Science")[index % 4],
                sources=sources,
                article_ids=tuple(range(count)),
            )
        )
    return digest(*items, sections=("World", "Business", "Technology", "Science"))


def test_a_thirty_item_digest_stays_under_gmails_102_kb_clipping_limit():
    links = Links(
        archive_page="https://news.example.org/brief/2026-11-23-090000.html",
        archive_index="https://news.example.org/brief/",
        unsubscribe="https://news.example.org/unsubscribe?who={recipient}",
    )
    rendered = render_digest(_thirty_items(), links=links)
    size = len(rendered.html.encode("utf-8"))
    print(f"30-item digest: {size} bytes of HTML ({size / 1024:.1f} KB, limit 102 KB)")
    assert rendered.html.count('class="hl"') == 30
    assert size < 102 * 1024


def test_twenty_items_of_fifteen_sources_each_stay_under_gmails_clipping_limit():
    """A busy day: every item covered by fifteen outlets, "why" shown. Gmail hides what is
    past 102 KB of HTML, the footer's unsubscribe link with it."""
    outlets = [f"Outlet Number {n}" for n in range(15)]
    items = [
        DigestItem(
            headline=f"Story {index}: " + "a ninety character headline about events " * 2,
            url=f"https://www.0.news.example/2026/11/23/section/long-article-slug-{index}",
            summary=("The regulator said the measure would take effect in spring. " * 7)[:420],
            language="en",
            section=None,
            sources=tuple(
                Source(
                    name,
                    f"https://www.{n}.news.example/2026/11/23/section/long-article-slug-{index}",
                    "A headline",
                    NOW,
                )
                for n, name in enumerate(outlets)
            ),
            article_ids=tuple(range(15)),
            why=("regulator", "measure", "spring"),
        )
        for index in range(20)
    ]
    links = Links(
        archive_page="https://news.example.org/brief/2026-11-23-090000.html",
        archive_index="https://news.example.org/brief/",
        unsubscribe="https://news.example.org/unsubscribe?who={recipient}",
    )
    rendered = render_digest(digest(*items), links=links, show_why=True)
    size = len(rendered.html.encode("utf-8"))
    print(f"20 items of 15 sources: {size} bytes of HTML ({size / 1024:.1f} KB)")
    assert rendered.html.count("long-article-slug") == 20 * 16
    assert size < 102 * 1024


def test_an_email_gmail_clips_keeps_its_unsubscribe_link_in_what_gmail_shows():
    """Twenty items of fifteen outlets, "why" shown, with links of 150 characters (news
    sites' slugs) pass 102 KB: Gmail hid the footer, the email's only unsubscribe link with it."""
    from digest.mail._message import build_message
    from digest.mail._render import GMAIL_CLIPS_AFTER

    def link(outlet: int, index: int) -> str:
        start = f"https://www.outlet{outlet}.news.example/world/2026/11/23/"
        return start + f"story-{index}-".ljust(150 - len(start), "x")

    items = [
        DigestItem(
            headline=f"Story {index}: " + "a ninety character headline about events " * 2,
            url=link(0, index),
            summary=("The regulator said the measure would take effect in spring. " * 7)[:420],
            language="en",
            section=None,
            sources=tuple(
                Source(f"Outlet {n}", link(n, index), "A headline", NOW) for n in range(15)
            ),
            article_ids=tuple(range(15)),
            why=("regulator", "measure", "spring"),
        )
        for index in range(20)
    ]
    unsubscribe = "https://news.example.org/unsubscribe?who={recipient}"
    links = Links(
        archive_page="https://news.example.org/brief/2026-11-23-090000.html",
        archive_index="https://news.example.org/brief/",
        unsubscribe=unsubscribe,
    )
    rendered = render_digest(digest(*items), links=links, show_why=True)
    message = build_message(
        rendered, "digest@example.org", "ana@example.org", "en", NOW, [unsubscribe]
    )
    html = message.get_body(("html",)).get_payload(decode=True)
    assert len(html) > GMAIL_CLIPS_AFTER  # the email Gmail clips
    shown = html[:GMAIL_CLIPS_AFTER].decode("utf-8", "ignore")
    assert 'href="https://news.example.org/unsubscribe?who=ana%40example.org"' in shown


def test_a_digest_past_gmails_clipping_limit_is_said_to_the_operator(tmp_path, site):
    """Whatever the template, an email Gmail would clip gets a warning naming its size:
    the reader loses the last stories and the unsubscribe link without a word."""
    from conftest import run_cli, write_config

    from digest.mail._render import default_template_dir

    folder = tmp_path / "templates"
    shutil.copytree(default_template_dir(), folder)
    mjml = folder / "digest.mjml.j2"
    padding = '<mj-raw><div style="display:none">' + "x" * 120_000 + "</div></mj-raw>"
    mjml.write_text(mjml.read_text().replace("  </mj-body>", padding + "\n  </mj-body>"))
    config = write_config(tmp_path, site.base_url, extra=f"templates: {folder}\n")
    # preview, where an operator tries max_items out, says it too
    for command in ("preview", "run"):
        result = run_cli(command, "--config", str(config))
        assert result.returncode == 0, result.stderr
        assert re.search(
            r"the email's HTML is 1\d\d KB: Gmail shows the first 102 KB and hides the rest: "
            r"the last stories, the footer, and an unsubscribe link that is only there; lower "
            r"max_items \(now 30\)",
            result.stderr,
        ), (command, result.stderr)
    (tmp_path / "plain").mkdir()
    plain = write_config(tmp_path / "plain", site.base_url)
    assert "Gmail" not in run_cli("run", "--config", str(plain)).stderr


def test_the_clipping_warning_of_a_digest_of_late_reports_says_max_items_does_not_cap_them():
    # 1,500 late reports made a 478 KB email, and the warning said to lower max_items,
    # which caps the items only (an operator's trial).
    from digest.pipeline._runner import clipped_advice

    assert clipped_advice("the email's HTML is 478 KB: ...", 20, 0) == (
        "the email's HTML is 478 KB: ...; lower max_items (now 20)"
    )
    assert clipped_advice("the email's HTML is 478 KB: ...", 20, 1).endswith(
        "; its 1 late report on stories sent before is not capped by it"
    )
    assert clipped_advice("the email's HTML is 478 KB: ...", 20, 1500) == (
        "the email's HTML is 478 KB: ...; lower max_items (now 20); its 1500 late reports on "
        "stories sent before are not capped by it"
    )


def test_right_to_left_names_and_titles_are_isolated_from_the_times_beside_them():
    """An Arabic outlet's name followed by "10:00" took the digits into its own run and
    showed them on the wrong side, in both parts."""
    riyadh = "\u0635\u062d\u064a\u0641\u0629 \u0627\u0644\u0631\u064a\u0627\u0636"
    headline = "\u0627\u0641\u062a\u062a\u0627\u062d \u0627\u0644\u062c\u0633\u0631"
    rtl = covered_by(riyadh, "Wire", headline=headline, language="ar")
    rendered = render_digest(digest(rtl))
    html = rendered.html
    assert f'style="color:#0b57d0;"><span dir="auto">{riyadh}</span></a>&nbsp;10:00' in html
    assert 'style="color:#0b57d0;">Wire</a>&nbsp;10:00' in html  # no span it needs not
    assert re.search(r'<h2 [^>]*class="hl" dir="rtl"', rendered.html)  # an Arabic item
    assert f"- \u2068{riyadh}\u2069, 10:00" in rendered.text
    assert "- Wire, 10:00" in rendered.text
    assert f"first reported by \u2068{riyadh}\u2069, 10:00" in rendered.text


def test_an_isolate_folded_over_two_lines_is_closed_and_opened_again_on_each():
    """Each line of a plain-text part is a paragraph of its own: an isolate opened on one
    line and closed on the next left the time beside a long Arabic name on the wrong side
    (a code review)."""
    name = "\u0635\u062d\u064a\u0641\u0629 \u0627\u0644\u0631\u064a\u0627\u0636 " * 7
    long_rtl = covered_by(name.strip(), "Wire")
    text = render_digest(digest(long_rtl)).text
    folded = [line for line in text.splitlines() if "\u2068" in line or "\u2069" in line]
    assert len(folded) >= 4  # the coverage line and the source line, each over two lines
    for line in folded:
        assert line.count("\u2068") == line.count("\u2069") == 1, repr(line)
        assert line.lstrip(" -").startswith("\u2068") or "by \u2068" in line, repr(line)


def test_a_long_outlet_name_is_folded_in_the_text_part_like_everything_else():
    name = "S\u00e4chsische Allgemeine Rundschau f\u00fcr Politik, Wirtschaft, Sport und Kultur"
    long_name = covered_by(name)
    text = render_digest(digest(long_name)).text
    assert max(len(line) for line in text.splitlines()) <= 78
    assert "Kultur, 10:00" in text


def test_top_of_the_email_has_preheader_and_table_of_contents_and_footer_links():
    links = Links("https://n.example/b/1.html", "https://n.example/b/", "mailto:off@n.example")
    rendered = render_digest(
        digest(
            item("Bridge opens", "https://a.example", "World"),
            item("Chip ships", "https://b.example", "Tech"),
            sections=("Tech", "World"),
        ),
        links=links,
    )
    html = rendered.html
    # The preheader, by rank: from the second headline, the subject saying the first.
    assert rendered.subject.endswith(": Bridge opens")
    assert html.index("Chip ships&#847;") < html.index("<h1")
    assert "Bridge opens · Chip ships" not in html
    both = digest(
        item("Bridge opens", "https://a.example", "World"),
        item("Chip ships", "https://b.example", "Tech"),
    )
    dated = render_digest(both, subject="{title} · {date}")  # no headline in the subject
    assert "Bridge opens · Chip ships" in dated.html
    assert 'name="color-scheme" content="light dark"' in html
    assert html.index('href="#section-tech"') < html.index('href="#section-world"')
    assert 'id="section-tech"' in html and 'id="section-world"' in html
    for url in ("https://n.example/b/1.html", "https://n.example/b/", "mailto:off@n.example"):
        assert f'href="{url}"' in html and url in rendered.text
    assert "In this issue: Tech (1) · World (1)" in rendered.text


def test_every_section_link_jumps_to_its_own_section_in_any_script():
    """Anchors were the name's ASCII letters: "Économie" lost its É, and three sections in
    Cyrillic were all "section-x", so every link of the contents jumped to the first."""
    names = ["Économie", "Россия", "Україна", "Tech", "tech!"]
    html = render_digest(
        digest(
            *(item(f"Story {n}", f"https://a.example/{n}", name) for n, name in enumerate(names))
        )
    ).html
    anchors = re.findall(r'href="#(section-[^"]*)"', html)
    # in the order the sections come: by name, as no config orders them here
    assert anchors == [
        "section-tech",
        "section-tech-2",
        "section-economie",
        "section-4",
        "section-5",
    ]
    for anchor in anchors:
        assert html.count(f'id="{anchor}"') == 1


def test_the_archive_page_has_no_unsubscribe_link_and_no_preheader():
    links = Links(archive_index="index.html", unsubscribe="https://n.example/u?r={recipient}")
    rendered = render_digest(
        digest(item("Bridge opens", "https://a.example")), links=links, web=True
    )
    assert "/u?r=" not in rendered.html and "Unsubscribe" not in rendered.html
    assert 'href="index.html"' in rendered.html
    assert "display:none" not in rendered.html.replace(" ", "")


@pytest.mark.parametrize(
    ("pattern", "subject"),
    [
        ("{title} · {date}: {headline}", "Morning Brief · 23 Nov 2026: Bridge opens"),
        ("{title} ({count})", "Morning Brief (1)"),
        ("{headline}", "Bridge opens"),
    ],
)
def test_subject_follows_the_configured_pattern(pattern, subject):
    rendered = render_digest(digest(item("Bridge opens", "https://a.example")), subject=pattern)
    assert rendered.subject == subject


def test_no_table_of_contents_for_a_single_section():
    rendered = render_digest(digest(item("A", "https://a.example", "World"), sections=("World",)))
    assert "In this issue" not in rendered.html and "In this issue" not in rendered.text


def test_the_text_part_writes_out_every_link_of_the_html():
    links = Links("https://n.example/b/1.html", "https://n.example/b/", "https://n.example/u")
    rendered = render_digest(
        digest(
            item("Bridge opens", "https://a.example/bridge", "World"),
            item("Chip ships", "https://b.example/chip", "Tech"),
            sections=("Tech", "World"),
        ),
        links=links,
    )
    hrefs = set(re.findall(r'href="([^"#][^"]*)"', rendered.html))
    assert len(hrefs) == 5
    for href in hrefs:
        assert href in rendered.text
    for line in rendered.text.splitlines():
        assert len(line) <= 78 or re.search(r"https?://\S+$", line), line


def _follow_up(title: str, language: str | None, outlet: str = "Late Wire") -> FollowUp:
    story = SentStory(3, "Harbour closes after storm", "https://old.example/h", NOW)
    later = NOW.replace(hour=11)
    piece = SourceArticle(f"https://late.example/{len(title)}", title, later, language)
    return FollowUp(story, (Source(outlet, piece.url, title, later, (piece,)),), (9,))


def test_a_digest_of_follow_ups_alone_says_what_is_new():
    late = _follow_up("Harbour to reopen on Friday", "en")
    alone = Digest("Morning Brief", NOW.replace(hour=12), (), "UTC", "en", follow_ups=(late,))
    rendered = render_digest(alone)
    # The subject names the new report, not an empty headline; the header counts follow-ups.
    assert rendered.subject == "Morning Brief · 23 Nov 2026: Harbour to reopen on Friday"
    assert "23 November 2026 · 1 follow-up · times in UTC" in rendered.text
    assert "0 stories" not in rendered.text and "0 stories" not in rendered.html
    # No-break spaces keep the date whole on a phone, as the sources' times.
    sent = "sent 23 Nov 2026, 09:00".replace(" ", "\u00a0").replace("sent\u00a0", "sent ")
    assert f"* Harbour closes after storm ({sent})" in rendered.text
    story = SentStory(4, "A long headline " * 6, "https://old.example/long", NOW)
    long = Digest("B", NOW, (), "UTC", "en", follow_ups=(FollowUp(story, late.sources, (9,)),))
    lines = render_digest(long).text.splitlines()
    assert max(len(line) for line in lines if "://" not in line) <= 78


def test_a_story_sent_at_midnight_utc_keeps_its_time_of_sending():
    # The digest's own clock: 19:00 in New York is midnight UTC, and no day without a time.
    late = _follow_up("Harbour to reopen on Friday", "en")
    story = SentStory(4, "Harbour closes after storm", "https://old.example/1", NOW.replace(hour=0))
    letter = Digest(
        "B", NOW, (), "America/New_York", "en", follow_ups=(FollowUp(story, late.sources, (9,)),)
    )
    sent = "sent 22 Nov 2026, 19:00".replace(" ", "\u00a0").replace("sent\u00a0", "sent ")
    assert f"({sent})" in render_digest(letter).text


def test_a_language_tag_with_a_region_is_right_to_left_as_its_language():
    from digest.mail._render import _right_to_left

    assert _right_to_left("ar-EG") and _right_to_left("he_IL") and _right_to_left("fa")
    assert not _right_to_left("en-US") and not _right_to_left("und")


def test_a_digest_of_follow_ups_alone_does_not_say_its_subject_twice_in_the_inbox():
    """Its subject names the first new report; the preheader started with that same title
    (a subscriber-side review), as it no longer does for a digest of stories."""
    first, second = (
        _follow_up("Harbour to reopen on Friday", "en"),
        _follow_up("Ferries back", "en"),
    )
    reports = first.sources + second.sources
    both = Digest("Morning Brief", NOW.replace(hour=12), (), "UTC", "en",
                  follow_ups=(FollowUp(first.story, reports, (9, 10)),))  # fmt: skip
    rendered = render_digest(both)
    named = rendered.subject.rpartition(": ")[2]
    other = ({"Harbour to reopen on Friday", "Ferries back"} - {named}).pop()
    preheader = rendered.html[: rendered.html.index("<h1")]
    assert f"{other}&#847;" in preheader and named not in preheader
    # Every copy of the subject's headline is left out: outlets share a wire's title.
    wire = _follow_up("Ferries back", "en", "Wire B")
    copies = Digest(
        "Morning Brief",
        NOW.replace(hour=12),
        (),
        "UTC",
        "en",
        follow_ups=(FollowUp(first.story, (*reports, *wire.sources), (9, 10, 11)),),
    )
    rendered = render_digest(copies)
    named = rendered.subject.rpartition(": ")[2]
    assert named not in rendered.html[: rendered.html.index("<h1")]
    # Copies left out, three other headlines still follow (they were cut to two).
    items = [item(title, f"https://x.example/{n}") for n, title in enumerate("AABCD")]
    many = render_digest(digest(*items))
    assert many.subject.endswith(": A") and "B · C · D&#847;" in many.html
    # With one new report only, it is the preheader too: better than none.
    alone = Digest("Morning Brief", NOW, (), "UTC", "en", follow_ups=(first,))
    assert "Harbour to reopen on Friday&#847;" in render_digest(alone).html


def test_follow_ups_are_tagged_with_their_language_and_counted_apart_from_the_stories():
    story = item("Strike ends", "https://w.example/s")
    late = _follow_up("Le port rouvre vendredi", "fr", "Le Quai")
    mixed = Digest("Morning Brief", NOW.replace(hour=12), (story,), "UTC", "en",
                   follow_ups=(late,))  # fmt: skip
    rendered = render_digest(mixed)
    # The story's three outlets; the follow-up's outlet is not one the stories came from.
    assert "1 story from 3 feeds · 1 follow-up" in rendered.text
    assert "+ Le port rouvre vendredi [FR] · Le Quai, 11:00" in rendered.text
    assert 'lang="fr"' in rendered.html and ">FR</span>" in rendered.html


def test_a_follow_ups_story_sent_in_another_language_carries_its_tag():
    """The headline of a story sent before keeps its language: a screen reader read a
    French headline in an English digest with English sounds, and the item it came from
    had said [FR]."""
    late = _follow_up("Harbour to reopen on Friday", "en")
    story = SentStory(5, "Le port de Brest fermé après la tempête", "https://fr.example/p",
                      NOW, "fr")  # fmt: skip
    digest_ = Digest("B", NOW.replace(hour=12), (), "UTC", "en",
                     follow_ups=(FollowUp(story, late.sources, (9,)),))  # fmt: skip
    rendered = render_digest(digest_)
    assert "* Le port de Brest fermé après la tempête [FR] (sent" in rendered.text
    assert '<a href="https://fr.example/p" lang="fr" ' in rendered.html
    english = Digest("B", NOW.replace(hour=12), (), "UTC", "en", follow_ups=(late,))
    assert 'href="https://old.example/h" style=' in render_digest(english).html


def test_the_text_part_of_a_japanese_digest_is_wrapped_too():
    """Japanese puts no space between words: wrapped at spaces, a summary was one line of
    268 characters (536 columns on a terminal)."""
    sentence = (
        "東京で大規模な停電が発生し、鉄道各線が運転を見合わせている。"
        "「復旧の見通しは立っていない」と電力会社は発表した。"
    )
    source = Source("東京新聞", "https://tokyo.example/1", "東京で停電", NOW)
    japanese = DigestItem("東京で大規模停電", source.url, sentence * 3, "ja", None, (source,), (1,))
    text = render_digest(Digest("朝のニュース", NOW, (japanese,), language="ja")).text
    lines = [line for line in text.splitlines() if "://" not in line]
    # a wide letter takes two columns
    assert (
        max(len(line) + len(re.findall("[\u3000-\u9fff\uff00-\uffef]", line)) for line in lines)
        <= 78
    )
    assert sentence * 3 in "".join(line.strip() for line in text.splitlines())
    assert not any(line.strip().startswith(("、", "。", "」")) for line in lines)
    assert not any(line.rstrip().endswith("「") for line in lines)


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        # a voiced mark written apart (NFD, as a feed may send it) stays with its letter
        (unicodedata.normalize("NFD", "原因はまだ分かっていない。" * 8), "た\u3099"),
        # closing and opening marks of Chinese text, and its ellipsis
        ("双方应当“相向而行”，推动关系重回正轨……她还说。" * 5, "”，"),
        # a URL is whole, whatever letters it holds
        (
            "詳しくはhttps://ja.wikipedia.org/wiki/令和6年能登半島地震を参照。",
            "/wiki/令和6年能登半島地震",
        ),
        # a no-break space holds, as the French catalog binds « title »
        ("Lu dans «\u00a0Presse du Japon 日本\u00a0» ce matin. " * 6, "日本\u00a0»"),
    ],
)
def test_wide_text_is_wrapped_where_a_reader_allows_a_break(text, kept):
    lines = wrap(text, 30, "  ", "  ").splitlines()
    assert "".join("".join(lines).split(" ")) == "".join(text.split(" "))  # nothing lost
    assert any(kept in line for line in lines), lines
    for line in lines:
        assert not line.strip(" ").startswith(("\u3099", "”", "，", "…", "»")), lines
        assert not line.rstrip(" ").endswith(("“", "«")), lines
