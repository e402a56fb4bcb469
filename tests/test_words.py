"""Words: folded, the same words whichever scan finds them."""

from __future__ import annotations

import random
import re
import unicodedata
from collections import Counter

from digest.cluster._terms.words import (
    _WORD,
    INERT_PUNCTUATION,
    STOPWORDS,
    _plain_fold,
    fold,
    word_counts,
    words_in,
)


def test_fold_strips_accents_and_keeps_other_text():
    assert fold("Zürich “Crème brûlée” São Paulo") == "zurich “creme brulee” sao paulo"
    assert fold("ASCII Only") == "ascii only"


def test_words_are_the_same_with_or_without_letters_beyond_ascii():
    assert words_in("Naïve façade: don’t sell well-known players’ co-op- shares") == [
        "naive", "facade", "don’t", "sell", "well-known", "players", "co-op", "shares",
    ]  # fmt: skip
    # Letters that folding keeps (ß, ł, Greek) take the Unicode pattern; "3d" is no word.
    assert words_in("Die Straße in Łódź, Αθήνα 3D") == ["straße", "łodz", "αθηνα"]
    rng = random.Random(3)
    alphabet = [*"abXZ09_'- .,", *INERT_PUNCTUATION, "é", "ß", "²", "ł", "α", "中", "\u0301"]
    # Beyond ASCII but not inert: NFKD changes them ("…" to "...", "™" to "TM", "K" to
    # "K"), or they are letters, or a lone surrogate.
    alphabet += ["…", "™", "\u212a", "\xa0", "\ud800"]
    for _ in range(5000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30)))
        folded = fold(text)
        expected = [w for w in _WORD.findall(folded) if len(w) > 2 and w not in STOPWORDS]
        assert words_in(text) == expected, text
        assert list(word_counts(text).items()) == list(Counter(expected).items()), text


def test_inert_punctuation_is_what_folding_keeps_and_no_word_has():
    for character in INERT_PUNCTUATION:
        assert fold(character) == character
        assert unicodedata.normalize("NFKD", character) == character
        assert not re.match(r"\w", character) and not unicodedata.combining(character)
        assert len(character.encode()) == 3  # what _plain_fold counts on


def test_a_text_with_only_inert_characters_beyond_ascii_folds_to_its_lower_case():
    others = re.compile("[^\x00-\x7f" + INERT_PUNCTUATION + "]")
    rng = random.Random(5)
    # Characters of one, two, three and four bytes in UTF-8, and a lone surrogate.
    alphabet = [*"aZ .", *INERT_PUNCTUATION, "é", "ł", "…", "€", "中", "😀", "\ud800", "\x85"]
    for _ in range(20000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))
        plain = others.search(text) is None
        assert _plain_fold(text) == (fold(text) if plain else None), repr(text)
