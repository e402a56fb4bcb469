from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from digest.errors import RenderError
from digest.models import Digest, DigestItem, Source
from digest.render import render_digest, safe_url

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


def digest(*items: DigestItem, sections=()) -> Digest:
    return Digest("Morning Brief", NOW, tuple(items), "Europe/Paris", "en", tuple(sections))


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


def test_plain_text_is_wrapped_at_78_columns_except_links():
    long = item("A very long headline " * 6, "https://wire.example/" + "x" * 90)
    for line in render_digest(digest(long)).text.splitlines():
        assert len(line) <= 78 or "https://" in line


def test_foreign_language_items_are_tagged():
    rendered = render_digest(digest(item("Le pont ouvre", "https://a.example", language="fr")))
    assert "[FR]" in rendered.text and "[FR]" in rendered.html


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
    assert re.search(r'class="why"[^>]*font-size:11px[^>]*>Grouped by: Meta Compute', shown.html)
