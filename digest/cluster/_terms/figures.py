"""Figures in a text, normalised across formats and languages: sums of money, shares,
counts with a scale, ordinals."""

from __future__ import annotations

import functools
import re
from collections import Counter

from ...text import anchored_matches
from .words import fold, words_in

# The lookahead lets the scan skip every position that cannot start a figure: same matches,
# about twice as fast on news text.
_MONEY = re.compile(
    r"(?=[$€£¥\d]|us\$|usd|eur|gbp)"
    r"(?P<cur>[$€£¥]|us\$|usd|eur|gbp)?\s?(?P<num>\d{1,3}(?:[,\s.]\d{3})+|\d+(?:[.,]\d+)?)"
    r"(?P<ord>st|nd|rd|th)?\s?(?P<scale>trillion|tn|billion|bn|b|million|mn|m|thousand|k|milliards?|millions?"
    r"|milliarden?|millionen|mil millones|millones|miliardi|milioni|bilhões|milhões)?\b"
    r"(?:\s(?:of\s)?(?P<cur2>dollars?|euros?|pounds?|yen|de dollars|dollar|usd|eur))?"
    r"\s?(?P<pct>%|percent|per cent|pour cent|prozent|por ciento)?",
    re.IGNORECASE,
)
_SCALES = {
    "trillion": 1e12,
    "tn": 1e12,
    "billion": 1e9,
    "bn": 1e9,
    "b": 1e9,
    "milliard": 1e9,
    "milliards": 1e9,
    "milliarde": 1e9,
    "milliarden": 1e9,
    "mil millones": 1e9,
    "miliardi": 1e9,
    "bilhões": 1e9,
    "million": 1e6,
    "millions": 1e6,
    "mn": 1e6,
    "m": 1e6,
    "millionen": 1e6,
    "millones": 1e6,
    "milioni": 1e6,
    "milhões": 1e6,
    "thousand": 1e3,
    "k": 1e3,
}


def figures_in(text: str) -> list[str]:
    """Figures normalised across formats: '$182.9 billion', '182,9 milliards de dollars' and
    '$182.9bn' all give 'x:182.9e9$'. Bare small whole numbers and years are left out (too
    common); a decimal stays ('a magnitude 6.1 quake' is not the 5.8 one). Ordinals from the
    4th on are figures too ('12th' and 'twelfth' give 'x:12th')."""
    spelled = word_ordinals(Counter(words_in(text)))
    return [key for key, _ in written_figures(text)] + [
        key for key, _, times in spelled for _ in range(times)
    ]


def written_figures(text: str) -> list[tuple[str, str]]:
    """(normalised key, the figure as written) for each figure in `text`."""
    out: list[tuple[str, str]] = []
    ordinals: list[tuple[str, str]] = []
    # The same matches as _MONEY.finditer(text): every figure has a digit at most 4
    # characters after its start ("usd 5").
    for match in anchored_matches(_MONEY, _DIGIT, 4, text, 0, len(text)):
        figure = _figure(match.group(0, 1, 2, 3, 4, 5, 6))
        if figure is not None:
            (ordinals if figure[0] else out).append(figure[1])
    return out + ordinals


_DIGIT = re.compile(r"\d")


# Articles of a batch repeat their figures ("$40 billion" in the headline, lead and body): the
# normalised figure depends only on the match's groups, so it is worked out once per batch.
@functools.lru_cache(maxsize=1 << 16)
def _figure(groups: tuple[str | None, ...]) -> tuple[bool, tuple[str, str]] | None:
    """(is an ordinal, (key, as written)) for one _MONEY match's groups; None for no figure."""
    whole, cur, raw, ordinal, scale, cur2, percent = groups
    assert whole is not None and raw is not None  # both always take part in a match
    scale_word = (scale or "").lower()
    if ordinal:
        # "The 12th Doctor" and "the 11th Doctor" are different events; "1st" to "3rd"
        # are too common ("for the 1st time") to tell anything.
        if raw.isdigit() and int(raw) >= 4:
            return True, (f"x:{int(raw)}th", raw + ordinal)
        return None
    currency = cur or cur2
    value = _number(raw, bool(scale_word))
    if value is None:
        return None
    if scale_word:
        value *= _SCALES.get(scale_word, 1)
    unit = "%" if percent else ("$" if currency and _is_dollar(currency) else "")
    if currency and not unit:
        unit = fold(currency)[:3]
    decimal = "." in raw or "," in raw
    if not unit and not scale_word and (1900 <= value <= 2100 or (value < 10 and not decimal)):
        return None
    return False, (f"x:{value:.4g}{unit}", whole.strip())


# Spelled ordinals, from "fourth" on ("first" to "third" are too common to tell anything).
_ORDINAL_WORDS = {
    word: number
    for number, word in enumerate(
        "fourth fifth sixth seventh eighth ninth tenth eleventh twelfth thirteenth fourteenth"
        " fifteenth sixteenth seventeenth eighteenth nineteenth twentieth".split(),
        start=4,
    )
}


def word_ordinals(words: Counter[str]) -> list[tuple[str, str, int]]:
    """(key, word, times) for the spelled ordinals among `words` (folded, as `words_in`
    gives them): 'twelfth' gives 'x:12th', like '12th'. Read from the word counts the
    article already has: a regex pass for a score of words cost a third of the term time."""
    # Most articles spell no ordinal: two checks in C tell, and only a word with an
    # ordinal or a hyphen sends the words through the loop below (its order is the words').
    if _ORDINAL_WORDS.keys().isdisjoint(words) and "-" not in " ".join(words):
        return []
    found = []
    for word, times in words.items():
        # "fourth-quarter" is one word to words_in
        for part in word.split("-") if "-" in word else (word,):
            if part in _ORDINAL_WORDS:
                found.append((f"x:{_ORDINAL_WORDS[part]}th", part, times))
    return found


def _is_dollar(currency: str) -> bool:
    return fold(currency).strip() in ("$", "us$", "usd", "dollar", "dollars", "de dollars")


# Compiled once: re.fullmatch with a pattern string looks the pattern up in re's cache per call.
_COMMA_THOUSANDS = re.compile(r"\d{1,3}(,\d{3})+")
_DOT_THOUSANDS = re.compile(r"\d{1,3}(\.\d{3})+")


def _number(raw: str, scaled: bool) -> float | None:
    text = raw.replace(" ", "")
    if _COMMA_THOUSANDS.fullmatch(text):
        text = text.replace(",", "")
    elif _DOT_THOUSANDS.fullmatch(text) and not scaled:
        text = text.replace(".", "")  # 1.500.000 (continental thousands)
    elif "," in text:
        text = text.replace(",", ".")  # 182,9 milliards
    try:
        return float(text)
    except ValueError:
        return None
