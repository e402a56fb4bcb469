"""Term extraction: the same terms however they are computed."""

from __future__ import annotations

import random
from collections import Counter

from digest.features import (
    _WORD,
    STOPWORDS,
    _names,
    _names_by_sentence,
    fold,
    names_in,
    word_counts,
    words_in,
)
from digest.text import sentence_spans


def test_fold_strips_accents_and_keeps_other_text():
    assert fold("Zürich “Crème brûlée” São Paulo") == "zurich “creme brulee” sao paulo"
    assert fold("ASCII Only") == "ascii only"


def test_a_capitalised_opener_counts_only_when_also_named_mid_sentence():
    text = (
        "Meta said so. Analysts said little. Rivals praised Meta and shares fell. "
        "Shares of Meta rose."
    )
    # "Shares of Meta": "shares" is an ordinary word here, so the name is Meta alone.
    assert names_in(text) == ["Meta", "Meta", "Meta"]


def test_names_inside_words_are_found_as_a_sentence_by_sentence_scan_finds_them():
    text = "Shoppers left eBay for Amazon. The maker Apple met 3M staff."
    assert names_in(text) == ["eBay", "Amazon", "Apple"]


def test_the_one_pass_name_scan_agrees_with_the_scan_by_sentence():
    # Words that exercise every branch: openers, connectors, possessives, acronyms,
    # abbreviations that do not end a sentence, and capitals inside words (the fallback).
    pieces = [
        "Apple", "eBay", "iPhone", "3M", "$US", "the", "of", "de", "U.S.", "Mr.", "Tim",
        "Cook's", "NASA", "AI", "said", "Meta", "Shares", "rivals", "A", "I", "x86", "la",
        "McDonald", "O'Neil", "Smith.", "Dr.", "Zürich", "5G", "£5", "(Reuters)", '"The',
    ]  # fmt: skip
    separators = [" ", " ", " ", ". ", "! ", "? ", ", ", "\n", "\n\n", '." ']
    rng = random.Random(7)
    for _ in range(3000):
        text = "".join(
            rng.choice(pieces) + rng.choice(separators) for _ in range(rng.randint(1, 20))
        )
        sentences = sentence_spans(text)
        assert _names(text, sentences) == _names_by_sentence(text, sentences), text


def test_words_are_the_same_with_or_without_letters_beyond_ascii():
    assert words_in("Naïve façade: don’t sell well-known players’ co-op- shares") == [
        "naive", "facade", "don’t", "sell", "well-known", "players", "co-op", "shares",
    ]  # fmt: skip
    # Letters that folding keeps (ß, ł, Greek) take the Unicode pattern; "3d" is no word.
    assert words_in("Die Straße in Łódź, Αθήνα 3D") == ["straße", "łodz", "αθηνα"]
    rng = random.Random(3)
    alphabet = [*"abXZ09_'’- .,", "é", "ß", "²", "ł", "α", "中", "\u0301", "“", "—"]
    for _ in range(5000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30)))
        folded = fold(text)
        expected = [w for w in _WORD.findall(folded) if len(w) > 2 and w not in STOPWORDS]
        assert words_in(text) == expected, text
        assert list(word_counts(text).items()) == list(Counter(expected).items()), text
