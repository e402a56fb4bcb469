"""Extraction on hand-written pages (written for these tests): the lead trafilatura drops,
and the fast path of trafilatura's cascade on long articles."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
import trafilatura
import trafilatura.core
from conftest import REPO
from trafilatura.settings import Extractor

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


def test_a_brief_page_keeps_its_headline_and_byline_out_of_the_text():
    # Written for this test. On a page this short trafilatura's cascade settles on its
    # baseline, which runs the whole <article> into one paragraph: headline, byline, date
    # and text, which would open the digest's summary.
    html = (
        "<html lang='de'><head><title>Lumora eröffnet Büro in Wien | Tagesblick</title>"
        "<meta name='author' content='dpa/tb'></head><body>"
        "<nav><a href='/'>Start</a> <a href='/wirtschaft'>Wirtschaft</a></nav><main><article>"
        "<h1>Lumora eröffnet Büro in Wien</h1>"
        "<p class='byline'>dpa/tb · <time datetime='2026-12-05T18:32'>05.12.2026 18:32</time></p>"
        "<p>Der spanische Hersteller Lumora eröffnet im März ein Büro in Wien. Von dort aus "
        "will das Unternehmen mit 40 Beschäftigten Österreich und Osteuropa beliefern.</p>"
        "</article></main><footer>© 2026 Tagesblick</footer></body></html>"
    ).encode()
    assert trafilatura.extract(html).startswith("Lumora eröffnet Büro in Wien dpa/tb")
    page = extract_page(html, "https://tagesblick.example/wien")
    assert [block.text[:20] for block in page.blocks] == [
        "Lumora eröffnet Büro",
        "Der spanische Herste",
    ]


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


# -- _cascade's wrappers: one decision per extraction --------------------------------------------


def _counting(monkeypatch) -> dict[str, int]:
    """How often trafilatura's own comparison, jusText candidate and recall retry run."""
    calls = {"compare": 0, "justext": 0, "recall": 0}
    for owner, name, key in [(_cascade, "_trafilatura_compare", "compare"),
                             (_cascade, "_trafilatura_justext", "justext"),
                             (trafilatura.core, "_recall_retry", "recall")]:  # fmt: skip
        original = getattr(owner, name)

        def counted(*args, _original=original, _key=key):
            calls[_key] += 1
            return _original(*args)

        monkeypatch.setattr(owner, name, counted)
    return calls


def _escalating_page(paragraphs: int) -> bytes:
    """An article beside a sidebar with five times its text: trafilatura's recall retry runs."""
    line = "Volunteers counted the hours of work on this part of the old cinema by the spring."
    article = "".join(f"<p>{line} Paragraph {n} of the story.</p>" for n in range(paragraphs))
    side = "".join(f"<div class='box'><h3>Section {n}</h3><div>{line} {line} {line}</div>"
                   f"<div><a href='/x{n}'>Read more about box {n}</a></div></div>"
                   for n in range(60))  # fmt: skip
    return (f"<html lang='en'><head><title>T</title></head><body><article><h1>Cinema</h1>"
            f"{article}</article><div class='sidebar'>{side}</div></body></html>"
            ).encode()  # fmt: skip


def test_the_recall_retry_inside_one_run_follows_the_first_decision(monkeypatch):
    calls = _counting(monkeypatch)
    extract_page(_escalating_page(26), "https://h.example/long")  # long: the fast path
    assert calls == {"compare": 0, "justext": 0, "recall": 1}
    calls.update(compare=0, justext=0, recall=0)
    extract_page(_escalating_page(8), "https://h.example/short")  # short: the full cascade
    assert calls == {"compare": 2, "justext": 1, "recall": 1}


class _Exploding(Extractor):
    """digest's options, failing where trafilatura reads `dedup` once the fast path is decided."""

    def __init__(self) -> None:
        super().__init__(output_format="python", fast=False, comments=False, tables=True,
                         links=True, with_metadata=False)  # fmt: skip

    @property
    def dedup(self) -> bool:
        extraction = _cascade._current.get()
        if extraction is not None and extraction.fast_path is not None:
            raise RuntimeError("after the comparison step")
        return False

    @dedup.setter
    def dedup(self, value: bool) -> None:
        pass


def test_a_finished_or_failed_extraction_leaves_other_callers_the_full_cascade(monkeypatch):
    calls = _counting(monkeypatch)
    extract_page(_long_page(), "https://h.example/long")  # decided: the fast path
    with pytest.raises(RuntimeError, match="after the comparison step"):
        _cascade.bare_extraction(trafilatura.utils.load_html(_long_page()), _Exploding())
    assert _cascade._current.get() is None
    trafilatura.extract(_long_page())
    assert calls["compare"] == 1


def test_threads_extracting_at_once_keep_their_own_decision(monkeypatch):
    # Dask workers run page batches in threads, next to whatever else the process runs.
    seen: dict[str, int] = {}
    original = _cascade._trafilatura_compare

    def counted(*args):
        name = threading.current_thread().name.split("-")[0]
        seen[name] = seen.get(name, 0) + 1
        return original(*args)

    monkeypatch.setattr(_cascade, "_trafilatura_compare", counted)
    start = threading.Barrier(4)
    results: dict[str, list[object]] = {}

    def digest_pages(name: str) -> None:
        start.wait()
        results[name] = [[b.text for b in extract_page(_long_page(), "https://h/a").blocks]
                         for _ in range(3)]  # fmt: skip

    def plain(name: str) -> None:
        start.wait()
        results[name] = [trafilatura.extract(_long_page()) for _ in range(3)]

    jobs = (("digest", digest_pages), ("plain", plain))
    threads = [threading.Thread(target=job, args=(f"{kind}-{n}",), name=f"{kind}-{n}")
               for n in range(2) for kind, job in jobs]  # fmt: skip
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert seen == {"plain": 6}
    assert len({repr(r) for name, r in results.items() if name.startswith("digest")}) == 1
    assert len({repr(r) for name, r in results.items() if name.startswith("plain")}) == 1


def test_importing_the_cascade_again_leaves_trafilatura_working():
    # importlib.reload (IPython autoreload, a plugin reloader, a second import under another
    # name) runs the module again: it then takes its own wrapper for trafilatura's step.
    script = (
        "import importlib, trafilatura\n"
        "from digest.pages import _cascade\n"
        "importlib.reload(_cascade)\n"
        "from test_extract import _long_page\n"
        "print(len(trafilatura.extract(_long_page())))\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), str(Path(__file__).parent)])}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env=env, cwd=REPO, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr.strip().splitlines()[-1]


def test_a_page_s_og_url_is_one_plain_token():
    # og:url is taken as the page wrote it (trafilatura encodes a canonical link, not it):
    # a bidi override or a terminal's CSI in it reached `digest extract` and the state.
    from digest.pages._extract import extract_page

    body = "<p>" + "A paragraph of the article, long enough to be its text. " * 6 + "</p>"

    def page(og_url: str) -> str:
        return (
            f"<html><head><meta property='og:url' content='{og_url}'><title>T</title></head>"
            f"<body><article><h1>T</h1>{body}{body}</article></body></html>"
        )

    flipped = extract_page(page("https://bank.example/\u202egpj.exe more"), "https://x.example/a")
    assert flipped.canonical_url == "https://bank.example/%E2%80%AEgpj.exe%20more"
    csi = extract_page(page("https://bank.example/a\x9b1A"), "https://x.example/a")
    assert csi.canonical_url is None


@pytest.mark.parametrize(
    ("written", "read"),
    [
        ("2026-12-04T08:30:00+0100", datetime(2026, 12, 4, 7, 30, tzinfo=UTC)),
        ("2026-12-04T08:30:00", datetime(2026, 12, 4, 8, 30, tzinfo=UTC)),
        # A day: without a time, or at midnight where the page is (a CMS's bare day).
        ("2026-12-04", datetime(2026, 12, 4, tzinfo=UTC)),
        ("2026-12-04T00:00:00", datetime(2026, 12, 4, tzinfo=UTC)),
        ("2026-12-04T00:00:00+0100", datetime(2026, 12, 4, tzinfo=UTC)),
    ],
)
def test_a_page_date_is_an_instant_or_a_day(written, read):
    from digest.pages._extract import _parse_date

    assert _parse_date(written) == read
