"""Words of a text, as the clusterer counts them: folded (lower case, no accents), three
letters or more, stop words of the languages news comes in left out."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter

_WORD = re.compile(r"[^\W\d_][\w'’-]*[^\W_]|[^\W\d_]", re.UNICODE)
# _WORD's words of three characters or more (the only ones words_in keeps), for a text whose
# letters and digits are all ASCII (most folded news text: its other characters are quotes
# and dashes): the engine compares character ranges instead of looking each character's
# Unicode category up, a third faster, and makes no strings for "a", "of" or "to". (A
# shorter match cannot hide a longer one: a match runs to the last letter or digit of its
# run of word characters.)
_ASCII_LONG_WORD = re.compile(r"[a-zA-Z][a-zA-Z0-9_'’-]+[a-zA-Z0-9]")
# A letter or digit beyond ASCII: the scan skips ASCII in C and tests only the others.
_FOREIGN_WORD_CHARACTER = re.compile(r"[^\x00-\x7f](?<=\w)")
# What makes most English news text non-ASCII: typographic quotes and dashes. Each is its
# own NFKD form, no word character and no mark, so a text with no other non-ASCII character
# folds to its lower case, and its words are _ASCII_LONG_WORD's. Each takes three bytes in
# UTF-8, which _plain_fold counts on.
INERT_PUNCTUATION = "‘’“”–—"

_STOPWORD_TEXT = """
a about above after again against all also am an and any are as at be because been before
being below between both but by can could did do does doing down during each few for from
further had has have having he her here hers herself him himself his how i if in into is it
its itself just me more most my myself no nor not now of off on once only or other our ours
ourselves out over own said same says she should so some such than that the their theirs them
themselves then there these they this those through to too under until up very was we were
what when where which while who whom why will with would you your yours yourself yourselves
new one two three year years week weeks day days monday tuesday wednesday thursday friday
saturday sunday according told last first next may might must per via like including however
since among around percent
le la les un une des du de et en est que qui dans pour par sur au aux avec ce cette ses son
sa ont été plus pas ne il elle ils elles nous vous leur leurs mais ou donc
der die das ein eine und ist im den dem des mit von zu auf für nicht sich als auch es an aus
bei nach wie wird wurde sind hat haben
el los las una unos y es del al con por para se su sus como más pero lo ha han
lo gli uno e di da con per su non che sono
"""
STOPWORDS = frozenset(_STOPWORD_TEXT.split())


def fold(text: str) -> str:
    """Lower-case and strip accents, so 'Zürich' and 'Zurich' meet."""
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text.lower())
    if decomposed.isascii():
        return decomposed
    # Whole texts are folded (one curly quote makes a text non-ASCII): look up each distinct
    # character once and drop the marks in C, rather than testing every character in Python.
    marks = [ch for ch in set(decomposed) if unicodedata.combining(ch)]
    return decomposed.translate(dict.fromkeys(map(ord, marks))) if marks else decomposed


def _long_words(text: str) -> list[str]:
    """The words of three characters or more in `text`, folded, in order."""
    lowered = _plain_fold(text)
    if lowered is not None:
        return _ASCII_LONG_WORD.findall(lowered)
    # Folding the whole text once is much cheaper than folding each word (NFKD per call).
    folded = fold(text)
    if folded.isascii() or not _FOREIGN_WORD_CHARACTER.search(folded):
        return _ASCII_LONG_WORD.findall(folded)
    return [w for w in _WORD.findall(folded) if len(w) > 2]


def _plain_fold(text: str) -> str | None:
    """fold(text) when every character of `text` beyond ASCII is in INERT_PUNCTUATION (the
    text's lower case then), None otherwise.

    Counted, not scanned: UTF-8 spends two bytes more than the character count on each of
    those characters and at least one more on any other beyond ASCII; encoding plus six
    counts take half the time of a regex scan for the others (3.7 KB of news text, 10
    against 21 microseconds), and a fifth of what folding the text cost. Only ASCII letters
    have a case then, and bytes.lower() lowers them without str.lower()'s Unicode look-up
    for each character (a third of the instructions of the whole check)."""
    if text.isascii():
        return text.lower()
    encoded = text.encode("utf-8", "surrogatepass")
    if len(encoded) - len(text) != 2 * sum(map(text.count, INERT_PUNCTUATION)):
        return None
    return encoded.lower().decode("utf-8")


def words_in(text: str) -> list[str]:
    return [w for w in _long_words(text) if w not in STOPWORDS]


def word_counts(text: str) -> Counter[str]:
    """Counter(words_in(text)), its words in the same order: counted in C, and only then
    are the stop words taken out (a text has fewer distinct words than words)."""
    counts = Counter(_long_words(text))
    for stopword in STOPWORDS.intersection(counts):
        del counts[stopword]
    return counts
