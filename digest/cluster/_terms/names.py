"""Names in a text: runs of capitalised words ("Bank of England", "Tim Cook"), without the
ordinary words that open sentences and headlines."""

from __future__ import annotations

import functools
import re
from importlib import resources
from operator import itemgetter

from ...text import anchored_matches, sentence_spans
from .words import STOPWORDS, fold

# Lower-case words inside a name ("Bank of England", "Leonardo da Vinci"), the common first:
# the name pattern tries them in this order; "&" joins a firm's names ("Marks & Spencer").
_CONNECTOR_WORDS = "of de du des la le von van der den da di del al bin y &".split()
_CONNECTORS = frozenset(_CONNECTOR_WORDS)
# The capital letters of the alphabets that capitalise names: Latin with its accents
# ("Österreich", "Élisabeth Borne", "Łódź"), Greek, Cyrillic.
_UPPER = "[" + "".join(c for c in map(chr, range(0x530)) if c.isupper()) + "]"
_LOWER_LETTERS = "".join(c for c in map(chr, range(0x530)) if c.islower())
_NAME_WORD = r"(?:" + _UPPER + r"[\w'’&.-]*|[a-z]{1,2}" + _UPPER + r"[\w'’&.-]*)"
_NAME_JOINS = r"\s+(?:(?:" + "|".join(_CONNECTOR_WORDS) + r")\s+)?"
_NAME = re.compile(r"(?<![\w$€£])" + _NAME_WORD + "(?:" + _NAME_JOINS + _NAME_WORD + ")*")
# Capitalised words that start sentences or headlines without naming anything.
_NOT_NAMES = STOPWORDS | frozenset(
    "however meanwhile still yet while after before when if although despite".split()
    # Months date a story, they do not name its subject; titles lead into the name proper.
    + "january february march april june july august september october november december".split()
    + "mr mrs ms dr sen rep gov".split()
)


_CAPITAL = re.compile(_UPPER)

# German capitalises every noun, so a run of capitalised words there glues nouns onto names
# ("Wetteragentur Eumetra", "Vorstandschef Markus Feld") and a headline's rarest "name" is a
# noun ("Start"). `german_nouns_lowered` writes a noun's first letter in lower case, so that
# what is left capitalised is mostly what German capitalises for being a name. A noun is a
# capitalised word after a determiner or a number (adjectives between), or one whose last
# part ends as a role or an abstract noun does (GERMAN_NOUN_ENDINGS: "-chef", "-ung"), the
# words that stand before a name without an article. A noun after a bare preposition ("nach
# Angaben") is told by the article's other places for it, or by the list of the language's
# common nouns fitted on real German pages (GERMAN_NOUNS_FILE); a rarer one ("von Stürmen")
# stays capitalised.
_GERMAN_DETERMINERS = frozenset(
    """der die das des dem den ein eine einer eines einem einen kein keine keiner keines
    keinem keinen im am vom zum zur beim ins ans aufs ums durchs fürs übers unters vors
    dieser diese dieses diesem diesen jeder jede jedes jedem jeden jener jene jenes jenem
    jenen alle allen aller beide beiden viele vielen einige einigen mehrere mehreren mein
    meine meiner meines meinem meinen dein deine sein seine seiner seines seinem seinen ihr
    ihre ihrer ihres ihrem ihren unser unsere unserer unseres unserem unseren euer eure eurer
    eures eurem euren zwei drei vier fünf sechs sieben acht neun zehn elf zwölf zwanzig
    hundert tausend""".split()
)
# Words that open German sentences and never name anything ("Für Oberwald spielte er...").
_GERMAN_FUNCTION_WORDS = _GERMAN_DETERMINERS | frozenset(
    """für mit nach bei aus von in auf über unter durch gegen ohne um seit während wegen
    trotz laut zu an vor hinter neben zwischen pro je ab bis per samt und oder aber doch denn
    als wenn dass weil ob
    ich du er sie es wir ihr man auch noch nur schon so dann da hier dort nun jetzt heute
    gestern morgen bereits zudem damit dabei danach deshalb außerdem wie was wer wo warum
    nicht kein""".split()
)
GERMAN_NOUN_ENDINGS = tuple(
    """chef chefin sprecher sprecherin minister ministerin präsident präsidentin direktor
    direktorin leiter leiterin sekretär sekretärin meister meisterin vorsitzende
    vorsitzender gründer gründerin spieler spielerin trainer trainerin officer manager
    managerin experte expertin unternehmen konzern hersteller ung ungen heit heiten keit
    keiten schaft schaften tion tionen tät täten ismus""".split()
)
# German nouns common enough to be read as nouns wherever they stand, beside this module.
GERMAN_NOUNS_FILE = "german_nouns.txt"
_GERMAN_WORD = re.compile(r"[^\W\d_][\w'’-]*|\d[\d.,]*|[^\w\s]")


def german_nouns(text: str) -> set[str]:
    """The nouns of `text` (German), in lower case: the capitalised words (a compound's
    last part) after a determiner or a number, or ending as GERMAN_NOUN_ENDINGS do."""
    return german_scan(text)[0]


def german_scan(text: str) -> tuple[set[str], list[GermanWord]]:
    """(german_nouns(text), every capitalised word of `text` but acronyms): one pass, which
    german_nouns_lowered takes back."""
    nouns: set[str] = set()
    places: list[GermanWord] = []
    german_words(text, nouns, places)
    return nouns, places


def german_nouns_lowered(
    text: str, nouns: set[str] | None = None, places: list[GermanWord] | None = None
) -> str:
    """`text` (German), the same length, with its nouns' first letters in lower case: those
    its own words tell (`german_nouns`) wherever they stand ("nach Angaben" in a text that
    also writes "die Angaben"), those of `nouns`, and the language's common nouns
    (GERMAN_NOUNS_FILE); `places`, when given, are german_scan(text)'s. A compound led by a
    name keeps the name and loses a noun ("Kestrel-2-Rakete" gives "Kestrel-2 rakete"); a
    name of two names keeps both ("Baden-Württemberg", "Hans-Peter"). Acronyms ("SPD",
    "ALS") stay; a capitalised function word, which opens no name ("Für Oberwald"), is
    lowered too."""
    known = set(nouns or ())
    if places is None:
        own, places = german_scan(text)
        known |= own
    chars = list(text)
    listed = listed_german_nouns()
    after_name = -1  # where the last word kept as a name ends
    for start, end, head, noun, told in places:
        if noun is None or told:
            lowered = True
        elif noun in known or noun in listed:
            # A listed or known noun right after a name is a surname ("Markus Feld", "Anna
            # Berg"); the last part of a compound is not ("Kestrel-2-Rakete").
            lowered = head > 0 or not (
                after_name >= 0 and start == after_name + 1 and text[after_name] == " "
            )
        else:
            lowered = False
        if not lowered:
            after_name = end
            continue
        at = start + head
        if len(chars[at].lower()) == 1:
            chars[at] = chars[at].lower()
            if head:
                chars[at - 1] = " "  # the compound's name stands alone
    return "".join(chars)


# A capitalised word of a German text: (start, end, offset of its last part, that part in
# lower case or None for a function word, whether its place or ending says it is a noun).
GermanWord = tuple[int, int, int, str | None, bool]


def german_words(text: str, nouns: set[str], places: list[GermanWord]) -> None:
    """Adds to `nouns` the nouns that their place or ending tells, and to `places` every
    capitalised word but acronyms."""
    nominal = False
    for match in _GERMAN_WORD.finditer(text):
        word = match.group(0)
        if word[0].isdigit():
            nominal = True  # "85 Millionen", "die 85 Millionen": what a number counts is a noun
            continue
        lowered = word.lower()
        # (an acronym spelt as a function word, "ALS" or "AB", is no function word)
        if lowered in _GERMAN_FUNCTION_WORDS and not word[1:].isupper():
            if word[0].isupper():
                places.append((match.start(), match.end(), 0, None, False))
            nominal = lowered in _GERMAN_DETERMINERS
        elif word[0].isupper():
            head = word.rfind("-") + 1
            part = word[head:]
            if part[:1].isupper() and sum(map(str.isupper, part)) == 1:
                noun = part.lower()
                told = nominal or noun.endswith(GERMAN_NOUN_ENDINGS)
                if told:
                    nouns.add(noun)
                places.append((match.start(), match.end(), head, noun, told))
            nominal = False
        elif not word[0].isalpha() or not word.islower():
            nominal = False  # punctuation ends a noun phrase


@functools.cache
def listed_german_nouns() -> frozenset[str]:
    """The common nouns of GERMAN_NOUNS_FILE, fitted by bench/fit_german_nouns.py."""
    text = resources.files(__package__).joinpath(GERMAN_NOUNS_FILE).read_text(encoding="utf-8")
    return frozenset(line for line in text.splitlines() if line and not line.startswith("#"))


_LOWERCASE_WORD = re.compile(r"(?<![\w-])[" + _LOWER_LETTERS + r"][" + _LOWER_LETTERS + r"'’-]+")
_POSSESSIVE = re.compile(r"['’]s\s+")
_POSSESSIVE_END = re.compile(r"['’]s$")


def ampersands_parted(names_of: list[list[str]]) -> list[list[str]]:
    """The names of an article's parts, each "A & B" read as two names when the article
    also names A or B alone: "Apple & Google team up" then "Apple said", two firms; a firm
    called "Harlow & Finch" stays one name wherever the article never shortens it."""
    # Most articles name no "A & B": they pay one scan, not the fold of every name.
    if not any(" & " in name for names in names_of for name in names):
        return names_of
    alone = {fold(name) for names in names_of for name in names if " & " not in name}
    if not alone:
        return names_of
    return [
        [
            part
            for name in names
            for part in (
                name.split(" & ")
                if " & " in name and any(fold(p) in alone for p in name.split(" & "))
                else [name]
            )
        ]
        for names in names_of
    ]


def names_in(text: str) -> list[str]:
    """Capitalised names (multi-word kept whole), skipping sentence-initial common words.

    A lone capitalised word opening a sentence counts only when the text also capitalises
    it mid-sentence ("Meta said..." then "...rivals of Meta").
    """
    return names_in_sentences(text, sentence_spans(text))


def names_in_sentences(text: str, sentences: list[tuple[str, int, int]]) -> list[str]:
    """names_in(text), given the text's sentence_spans (article_terms reuses them).

    The sentences are scanned as one string, each opened by a NUL (printable() leaves none
    in a text): one regex call a part instead of two a sentence, whose own cost was most of
    the scan's. A capital the scan finds inside a word ("eBay", "3M") may belong to a name
    that starts before it, which only the sentence-by-sentence scan (_names_by_sentence)
    finds; such a part is scanned that way.
    """
    marked = "\0" + "\0".join([paragraph[start:end] for paragraph, start, end in sentences])
    matches = _SENTENCE_NAME.findall(marked)
    if any(map(_inside_a_word, matches)):
        return _names_by_sentence(text, sentences)
    found: list[str] = []
    openers = _Openers(text)
    for name, opens_sentence, _ in matches:
        if opens_sentence:
            openers.add(name, found)
        else:
            found.extend(_name_parts(name))
    return openers.confirmed(found)


def _names_by_sentence(text: str, sentences: list[tuple[str, int, int]]) -> list[str]:
    """names_in_sentences(text, sentences), one sentence at a time."""
    found: list[str] = []
    openers = _Openers(text)
    for paragraph, start, end in sentences:
        # The same matches as _NAME.finditer(paragraph[start:end]): the end is cut there, and
        # the lookbehind at the start sees the space before a sentence or the paragraph's start.
        # A name has a capital at most 2 characters after its start ("eBay").
        for match in anchored_matches(_NAME, _CAPITAL, 2, paragraph, start, end):
            if match.start() == start:
                openers.add(match.group(0), found)
            else:
                found.extend(_name_parts(match.group(0)))
    return openers.confirmed(found)


# _NAME from each capital of sentences opened by NULs, as (the name, NUL when its capital
# opens a sentence, the character before a capital inside a word). Led by the capital, so
# that the engine skips to capitals; the lookbehinds that _NAME puts before a name look
# back past the capital instead.
_SENTENCE_NAME = re.compile(
    "(" + _UPPER + r"(?:(?<=(\0)" + _UPPER + r")|(?<=([\w$€£])" + _UPPER + r")|)"
    r"[\w'’&.-]*(?:" + _NAME_JOINS + _NAME_WORD + ")*)"
)
_inside_a_word = itemgetter(2)


class _Openers:
    """The names that open sentences, which count only when the text has them elsewhere.

    A lone capitalised word opening a sentence counts when the text also capitalises it
    mid-sentence ("Meta said..." then "...rivals of Meta"); a name of several words counts
    at once, without its first word when that word is ordinary ("Shares of Meta").
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self.single: list[str] = []
        self.lowercase_words: set[str] | None = None  # scanned for only when a look-up cannot tell
        # What an opener of several words names in this text. A name that opens sentences
        # opens several ("Keiko Ulkelzan said... Keiko Ulkelzan noted..."), and each look-up
        # of its first word searches the whole text in vain.
        self.seen: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {}

    def add(self, matched: str, found: list[str]) -> None:
        if " " not in matched:  # most openers: what they name depends on the word alone
            lone, named = _one_word_opener(matched)
        elif (known := self.seen.get(matched)) is not None:
            lone, named = known
        else:
            span = matched.rstrip(".'’-")
            first, rest = span.split(None, 1)
            if self._is_ordinary(first.lower()):
                span = rest  # "Shares of Meta": the opener is an ordinary word
            lone, named = self.seen[matched] = _opener_names(span)
        self.single.extend(lone)
        found.extend(named)

    def _is_ordinary(self, word: str) -> bool:
        ordinary = _is_lowercase_word(self.text, word)
        if ordinary is None:
            if self.lowercase_words is None:
                self.lowercase_words = set(_LOWERCASE_WORD.findall(self.text))
            ordinary = word in self.lowercase_words
        return ordinary

    def confirmed(self, found: list[str]) -> list[str]:
        """`found` and then the lone openers that the text also has mid-sentence."""
        if self.single:
            joined = " ".join(found)
            if joined.isascii():  # folding is lower-casing then, and one call does all the words
                mid_sentence = set(joined.lower().split())
            else:
                mid_sentence = {fold(word) for name in found for word in name.split()}
            found.extend(name for name in self.single if fold(name) in mid_sentence)
        return found


_LOWERCASE_TOKEN = re.compile("[" + _LOWER_LETTERS + "][" + _LOWER_LETTERS + "'’-]+")
_TOKEN_CHAR = re.compile("[" + _LOWER_LETTERS + "'’-]")
_WORD_OR_HYPHEN = re.compile(r"[\w-]")


def _is_lowercase_word(text: str, word: str) -> bool | None:
    """Whether `word` is in _LOWERCASE_WORD.findall(text), or None when only that scan can tell.

    The scan costs a pass over the text with a lookbehind at every character; a sentence
    opener is looked up with str.find instead. An occurrence of `word` is one of the scan's
    words when it is the whole run of word characters from there and not preceded by a word
    character or hyphen; preceded by a quote, it may be inside an earlier word ("rock'n'roll"),
    which only the scan can tell.
    """
    if not _LOWERCASE_TOKEN.fullmatch(word):
        return False
    unsure = False
    size = len(word)
    at = text.find(word)
    while at >= 0:
        after = at + size
        if (after == len(text) or not _TOKEN_CHAR.match(text, after)) and (
            at == 0 or not _WORD_OR_HYPHEN.match(text, at - 1)
        ):
            if at == 0 or text[at - 1] not in "'’":
                return True
            unsure = True
        at = text.find(word, at + 1)
    return None if unsure else False


# The same names recur through an article and across a batch; caching what one matched span
# names keeps the per-match work of a batch mostly to a dictionary look-up.
@functools.lru_cache(maxsize=1 << 16)
def _name_parts(span: str) -> tuple[str, ...]:
    """The names in one matched span: leading common words dropped, possessives split."""
    words = span.rstrip(".'’-").split()
    while words and (fold(words[0]) in _NOT_NAMES or words[0] in _CONNECTORS):
        words = words[1:]
    if not words:
        return ()
    # "Apple's MacBook Air" names two things: Apple, and the MacBook Air; so does "le
    # Kestrel-2 de Valtra Orbital" (a model numbered is no "Banque de France").
    joined = " ".join(words)
    parts = _POSSESSIVE.split(joined) if "s" in joined else [joined]
    if any(map(str.isdigit, joined)) and len(words) > 2:
        parts = [piece for part in parts for piece in _numbered_split(part)]
    names = []
    for part in parts:
        name = _POSSESSIVE_END.sub("", part) if "'" in part or "’" in part else part
        if len(name) >= 2:
            names.append(name)
    return tuple(names)


def _numbered_split(name: str) -> list[str]:
    """`name` cut at each connector that follows a word with a digit."""
    words = name.split()
    pieces: list[list[str]] = [[]]
    for word in words:
        if word in _CONNECTORS and pieces[-1] and any(map(str.isdigit, pieces[-1][-1])):
            pieces.append([])
        else:
            pieces[-1].append(word)
    return [" ".join(piece) for piece in pieces if piece]


def _opener_names(span: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(lone words, names) of a span opening a sentence (_Openers.add): 'The' gives nothing,
    'Meta' or 'Apple’s' a lone word to confirm, 'NASA' or 'Tim Cook' a name at once."""
    lone, named = [], []
    for name in _name_parts(span):
        (named if " " in name or _looks_like_acronym(name) else lone).append(name)
    return tuple(lone), tuple(named)


# One-word openers recur through a batch ('The', 'He', a company's name); longer ones rarely
# do, and caching them too cost more than it saved.
_one_word_opener = functools.lru_cache(maxsize=1 << 14)(_opener_names)


def _looks_like_acronym(word: str) -> bool:
    return sum(map(str.isupper, word)) >= 2
