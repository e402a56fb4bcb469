"""The language of real pages (../shared/data/boilerplate-snippets, written by others): the
set is German, English, Spanish, French and Polish, with a few pages in other languages,
each named here with the language it is written in (read by eye)."""

from __future__ import annotations

import gzip
import json
from collections import Counter
from concurrent.futures import ProcessPoolExecutor

import pytest
from conftest import SHARED_DATA

from digest.errors import ExtractError
from digest.pages import LanguageDetector, extract_page, score_page

pytestmark = pytest.mark.shared_data

FOLDER = SHARED_DATA / "boilerplate-snippets"
LANGUAGES = {"de", "en", "es", "fr", "pl"}
# The pages written in another language than those five.
WRITTEN_IN = {
    "assabah.com.tn.article.html": "ar",
    "banyuetan.org.1000200033136171577956287380194268_1.html": "zh",
    # Chinese lyrics, each line followed by its pinyin.
    "chineselyrics4u.com.zhineng.html": "zh",
    "campograndenews.com.br-adolescente.html": "pt",
    "correiobraziliense.com.br-poderes.html": "pt",
    "gazetadopovo.com.br-pacheco.html": "pt",
    "football.ua.podolski.html": "ru",
    "ukbdnews.com.23646.html": "bn",
    "uusisuomi.fi.angela.html": "fi",
    "vegolosi.it.climate.html": "it",
}


def _language(name: str) -> tuple[str, str | None]:
    raw = gzip.decompress((FOLDER / "html" / f"{name}.gz").read_bytes())
    try:
        page = extract_page(raw, f"https://pages.example/{name}")
    except ExtractError:
        return name, None
    return name, score_page(page, LanguageDetector()).language


def test_every_page_gets_the_language_it_is_written_in():
    names = sorted(json.loads((FOLDER / "eval.json").read_text(encoding="utf-8")))
    assert len(names) == 495 and set(WRITTEN_IN) <= set(names)
    with ProcessPoolExecutor(2) as pool:
        found = dict(pool.map(_language, names, chunksize=8))
    wrong = {}
    for name, language in found.items():
        expected = WRITTEN_IN.get(name)
        if language is not None and (
            language != expected if expected else language not in LANGUAGES
        ):
            wrong[name] = language
    assert not wrong, wrong
    # Extraction finds text on all but a handful of pages.
    assert sum(language is None for language in found.values()) <= 5
    assert set(Counter(found.values())) - {None} == LANGUAGES | set(WRITTEN_IN.values())
