"""Extraction on hand-written pages (written for these tests): the lead trafilatura drops,
and the fast path of trafilatura's cascade on long articles."""

from __future__ import annotations

import trafilatura
import trafilatura.core

from digest.pages import _cascade
from digest.pages._extract import extract_page

LEAD = (
    "Harrogate's oldest cinema will reopen in May after a two-year restoration paid for by "
    "a community share offer that raised more than £600,000 from 1,400 local investors."
)
BODY = [
    "The Odeon on East Parade closed in 2024 when its owners said the building needed a new "
    "roof, new wiring and seats that met current fire standards, work they could not afford.",
    "A group of residents formed a cooperative within weeks and bought the lease for a "
    "nominal sum, on condition that the auditorium be kept as a single screen of 500 seats.",
    "Builders finished the roof in October, and the projection booth now houses a digital "
    "projector alongside the original 35mm machines, which volunteers have restored.",
    "The cooperative expects to show films six days a week and to rent the hall to the town's "
    "theatre and music societies on Mondays.",
]


def _page(before_body: str) -> bytes:
    paragraphs = "".join(f"<p>{text}</p>" for text in BODY)
    return (
        "<html lang='en'><head><title>Harrogate cinema to reopen</title></head><body>"
        "<nav><a href='/'>Home</a> <a href='/news'>News</a></nav>"
        "<article><header><h1>Harrogate cinema to reopen in May</h1>"
        f"{before_body}</header>"
        f"<div class='article-body'>{paragraphs}</div></article>"
        "<footer><p>Harrogate Herald, 3 Station Square.</p></footer></body></html>"
    ).encode()


def test_a_lead_marked_as_teaser_is_put_back_before_the_body():
    html = _page(f"<div class='article-teaser'><p>{LEAD}</p></div>")
    assert LEAD not in (trafilatura.extract(html) or "")  # the trap: trafilatura prunes it
    page = extract_page(html, "https://herald.example/cinema")
    texts = [block.text for block in page.blocks]
    assert texts.index(LEAD) < texts.index(BODY[0])
    assert all(text in texts for text in BODY)


def test_prose_near_the_headline_is_not_a_lead_unless_named_so():
    caption = (
        "The cinema's foyer during restoration, with the original 1936 terrazzo floor uncovered "
        "and the ticket booth moved back to its first position."
    )
    key_point = "Investors bought shares at £50 each and will get free tickets for life."
    html = _page(
        f"<figure class='intro-image'><img src='foyer.jpg'><figcaption>{caption}</figcaption>"
        f"</figure><div class='intro'><ul><li>{key_point}</li></ul></div>"
        f"<div class='box'><p>{LEAD}</p></div>"
    )
    page = extract_page(html, "https://herald.example/cinema")
    text = " ".join(block.text for block in page.blocks)
    assert caption not in text
    assert key_point not in text
    assert LEAD not in text  # in a block not named as a lead: left to trafilatura


def test_lines_split_by_a_line_break_stay_apart_as_words():
    # trafilatura keeps a <br> as an empty <lb/>: read as bare text, the words on either
    # side of it would run into one ("SquareOpen").
    address = "Harrogate Herald<br>3 Station Square<br>Open daily from nine"
    html = _page("").replace(
        b"<div class='article-body'>", f"<div class='article-body'><p>{address}</p>".encode()
    )
    page = extract_page(html, "https://herald.example/cinema")
    text = " ".join(block.text for block in page.blocks)
    assert "Harrogate Herald 3 Station Square Open daily from nine" in text
    assert "SquareOpen" not in text


def _long_page() -> bytes:
    """An article of some 3,000 characters: long enough for trafilatura's fast path."""
    paragraphs = "".join(
        f"<p>{text} Volunteers counted {count} hours of work on this part by the spring.</p>"
        for count, text in enumerate(BODY * 6, start=40)
    )
    return (
        "<html lang='en'><head><title>Harrogate cinema to reopen</title></head><body>"
        "<nav><a href='/'>Home</a> <a href='/news'>News</a></nav>"
        "<article><h1>Harrogate cinema to reopen in May</h1>"
        f"<div class='article-body'>{paragraphs}</div></article></body></html>"
    ).encode()


def _count_comparisons(monkeypatch) -> list[int]:
    """How many times trafilatura's own comparison with readability and jusText runs."""
    calls: list[int] = []
    original = _cascade._trafilatura_compare

    def counted(*args):
        calls.append(1)
        return original(*args)

    monkeypatch.setattr(_cascade, "_trafilatura_compare", counted)
    return calls


def test_a_long_article_takes_the_fast_path_in_one_run(monkeypatch):
    comparisons = _count_comparisons(monkeypatch)
    page = extract_page(_long_page(), "https://herald.example/cinema")
    assert comparisons == []
    fast = trafilatura.bare_extraction(
        _long_page(), fast=True, include_comments=False, include_links=True
    )
    assert [block.text for block in page.blocks] == [
        " ".join(paragraph.split()) for paragraph in fast.text.split("\n")
    ]


def test_a_short_article_gets_the_full_cascade(monkeypatch):
    comparisons = _count_comparisons(monkeypatch)
    extract_page(_page(f"<p class='teaser'>{LEAD}</p>"), "https://herald.example/cinema")
    assert comparisons == [1]


def test_other_callers_of_trafilatura_get_it_unchanged(monkeypatch):
    comparisons = _count_comparisons(monkeypatch)
    trafilatura.extract(_long_page())
    assert comparisons == [1]


def test_trafilatura_still_calls_the_steps_the_fast_path_wraps():
    """pyproject.toml pins trafilatura's minor version; this fails first if a release moves
    the comparison or the jusText candidate to names the wrappers do not replace."""
    assert trafilatura.core.compare_extraction is _cascade._compare_extraction
    assert trafilatura.core.justext_rescue is _cascade._justext_rescue
    assert "compare_extraction" in trafilatura.core._extract_and_compare.__code__.co_names
    assert "justext_rescue" in trafilatura.core.trafilatura_sequence.__code__.co_names
