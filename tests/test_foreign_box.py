"""A newsletter box in another language around an English article goes whole, through the
real `digest extract` on pages served on 127.0.0.1. The boxes are written for this test, in
wordings of their own (not the demo's): a tagline and a line of perks above the article, a
"free, no spam, unsubscribe" line and a brand line below it."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from conftest import run_cli

from digest.models import Block
from digest.pages._clean import LanguageDetector, clean_blocks

ARTICLE = [
    "Harbour authorities in Rotterdam approved on Wednesday a plan to electrify the quays "
    "used by inland barges, so that boats moored overnight no longer run diesel generators.",
    "The first forty charging posts will go in along the Maashaven by next summer, paid for "
    "by the port and a national grant, with a further hundred planned over three years.",
    "Barge operators had asked for shore power for a decade, but said the connection fees "
    "proposed in earlier plans would have cost more than the fuel they saved.",
    "Under the new tariff, skippers pay per kilowatt-hour at the rate the port itself pays, "
    "and the port expects the posts to cover their running costs within six years.",
    "Residents of the nearby Katendrecht district, who have complained of engine noise and "
    "fumes at night, welcomed the decision at a public hearing on Tuesday evening.",
    "The port will publish the location of every post on its website once the work starts, "
    "and says it will review the tariff after the first full year of use.",
]
# Social proof in the middle of the article: a promo line of the site, in English.
PROMO = "Join 40,000 founders who start their week with our Monday briefing."

BOXES = {
    "fr": (
        [
            "La Boussole Éco : chaque jeudi, ce qui compte vraiment pour votre entreprise",
            "Analyses · Chiffres clés · Agenda · Tribunes",
        ],
        [
            "Gratuit · sans publicité · désinscription en un clic",
            "La Boussole Éco, une lettre de la rédaction de Marchés & Cie",
        ],
    ),
    "de": (
        [
            "Der Montagsbrief für alle, die mit Daten arbeiten und nicht viel Zeit haben",
            "Fünf Minuten Lektüre | Handverlesene Links | Jede Woche neu",
        ],
        [
            "Kostenlos · kein Spam · Abmeldung mit einem Klick",
            "Datenbrief ist ein Angebot der Redaktion von Zahlenwerk aus Leipzig",
        ],
    ),
    "es": (
        [
            "El boletín de los lunes para quienes construyen productos digitales",
            "Casos reales ✓ Herramientas ✓ Entrevistas",
        ],
        [
            "Gratis · sin spam · date de baja con un clic",
            "Producto Semanal es una publicación del equipo de Taller Digital",
        ],
    ),
}


def _page(language: str) -> str:
    top, bottom = BOXES[language]
    middle = len(ARTICLE) // 2
    paragraphs = [*top, *ARTICLE[:middle], PROMO, *ARTICLE[middle:], *bottom]
    body = "\n".join(f"<p>{text}</p>" for text in paragraphs)
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<title>Rotterdam barges get shore power</title></head><body>"
        "<header><a href='/'>Harbour Weekly</a></header><main><article>"
        f"<h1>Rotterdam barges get shore power</h1>\n{body}\n</article></main></body></html>"
    )


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    for language in BOXES:
        (tmp_path / f"{language}.html").write_text(_page(language), encoding="utf-8")
    handler = partial(SimpleHTTPRequestHandler, directory=str(tmp_path))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    # A short poll: shutdown() waits out one poll of serve_forever.
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
    )
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_a_box_in_another_language_around_an_article_goes_whole(served):
    urls = [f"{served}/{language}.html" for language in BOXES]
    result = run_cli("extract", "--json", *urls)
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(records) == len(BOXES)
    for language, record in zip(BOXES, records, strict=True):
        text = " ".join(record["text"].split())
        top, bottom = BOXES[language]
        for line in (*top, *bottom):
            assert line not in text, f"{language}: box line kept: {line!r}"
        assert PROMO not in text, f"{language}: promo line kept"
        for paragraph in ARTICLE:
            assert paragraph in text, f"{language}: article paragraph lost: {paragraph[:40]!r}"
        assert record["language"] == "en"


def test_lines_in_another_language_without_a_call_stay():
    # A French epigraph and its source above an English article: no call to action, no box.
    epigraph = [
        "Le port est une ville qui ne dort jamais, et ses quais racontent toute son histoire.",
        "Victor Segalen, carnet de voyage",
    ]
    blocks = tuple(Block(text) for text in (*epigraph, *ARTICLE))
    result = clean_blocks(blocks, LanguageDetector())
    assert all(line in result.text for line in epigraph)
    assert result.language == "en"


def test_an_english_line_beside_the_box_is_not_taken_with_it():
    top, bottom = BOXES["de"]
    standfirst = "Shore power comes to the Maashaven next summer."
    blocks = tuple(Block(text) for text in (standfirst, *top, *ARTICLE, *bottom))
    result = clean_blocks(blocks, LanguageDetector())
    assert [block.text for block in result.kept] == [standfirst, *ARTICLE]
