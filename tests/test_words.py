"""Words: folded, the same words whichever scan finds them."""

from __future__ import annotations

import random
from collections import Counter

from digest.words import _WORD, STOPWORDS, fold, word_counts, words_in


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
    alphabet = [*"abXZ09_'’- .,", "é", "ß", "²", "ł", "α", "中", "\u0301", "“", "—"]
    for _ in range(5000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30)))
        folded = fold(text)
        expected = [w for w in _WORD.findall(folded) if len(w) > 2 and w not in STOPWORDS]
        assert words_in(text) == expected, text
        assert list(word_counts(text).items()) == list(Counter(expected).items()), text
