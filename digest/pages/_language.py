"""Language of an article and of its blocks, cheaply: function words first, langdetect after.

langdetect costs about a millisecond per block (more than trafilatura spends on a whole
paragraph), and it is unreliable on short text: it calls an eight-word English bullet Dutch
or Italian. Frequent function words settle most blocks of the languages the digest meets
most for free, and they are right on short text where langdetect guesses; langdetect is
asked only about blocks the words cannot place.
"""

from __future__ import annotations

import re
from typing import Any

from langdetect.detector_factory import init_factory
from langdetect.lang_detect_exception import LangDetectException

# langdetect needs about this much text to be right nearly always; shorter blocks, where it
# guesses wildly, get a weaker vote.
RELIABLE_LANGUAGE_CHARS = 80
# Share of a block's words that must be another language's function words for the block
# to count as written in it (English prose runs at 30-40% with these lists).
FOREIGN_WORD_SHARE = 0.15
# A block with fewer letters than this (a phone number, a score) has no language to judge.
LANGUAGE_MIN_LETTERS = 8
# The article's language is judged on this much of its longer blocks: langdetect's cost
# grows with the text (about 2 ms for 1,000 characters) and its answer settles long before.
ARTICLE_SAMPLE_CHARS = 1500
# Function-word votes that settle the article's language without langdetect: enough hits,
# and clearly ahead of the next language.
ARTICLE_MIN_VOTES, ARTICLE_VOTE_LEAD = 8, 3.0
# Fewer votes, as clearly ahead, still outweigh an unsure langdetect answer naming a language
# the function words do not know; a sure one (this probability) stands.
FEW_VOTES, SURE_DETECTION = 3, 0.95
# Below this share of Latin letters, a page is in its other script's language.
MIXED_SCRIPT_LATIN_SHARE = 0.8

# Frequent function words per language. Words shared by two of these languages are dropped
# below, so every hit is a vote for one language only.
_FUNCTION_TEXT = {
    "en": "the and of to is was has have been are were with for that this it its from by on at"
    " not no will would be an you your our we they which who their there a in",
    "fr": "le la les des du est et une un pour dans avec sur pas ne vous nous votre vos notre nos"
    " au aux ce cette qui que à être ont sont été mais ou leur de en il",
    "de": "der die das und ist nicht mit von den dem ein eine zu auf für sie wir ihr unsere im"
    " auch sich wird sind wurde werden bei nach aus oder einen einer es in",
    "es": "el los las del y es una por para con que se su sus al lo como más pero está son fue"
    " ha este esta la de en un le les no a",
    "it": "il gli della del di che è una per con non sono alla nel le ci questo anche ha essere"
    " la un in a",
    "pt": "o os as da do das dos que é uma para com não em no na se seu sua você são foi pelo"
    " de um a",
    "nl": "de het een en van is niet met op voor zijn dat ook er aan bij naar wordt maar in",
    "pl": "i w na z że się nie do jest to o jak po od za przez dla oraz jego jej są a",
}
_SHARED = {
    word
    for lang, words in _FUNCTION_TEXT.items()
    for word in words.split()
    if any(
        word in other.split() for other_lang, other in _FUNCTION_TEXT.items() if other_lang != lang
    )
}
_FUNCTION_WORDS = {
    lang: frozenset(words.split()) - _SHARED for lang, words in _FUNCTION_TEXT.items()
}
_LANGUAGE_OF = {word: lang for lang, words in _FUNCTION_WORDS.items() for word in words}
_WORDS = re.compile(r"[^\W\d_]+")
_LATIN = re.compile(r"[A-Za-zÀ-ɏ]")
_LATIN_WORD = re.compile(r"[A-Za-zÀ-ɏ]+")
_LETTER = re.compile(r"[^\W\d_]")


class LanguageDetector:
    """langdetect with a fixed seed per call, so one text always gets one answer.

    langdetect's profiles take half a second to load: they are loaded at the first call,
    not when the detector is made, since most runs' pages are placed by their words alone.
    """

    def __init__(self, seed: int = 0):
        self._factory: Any = None
        self._seed = seed

    def detect(self, text: str) -> tuple[str | None, float]:
        if self._factory is None:
            import langdetect.detector_factory as factory_module

            init_factory()
            # langdetect keeps its loaded profiles in this module global and offers no
            # public way to get a detector with its own seed; the global seed would be
            # shared state.
            self._factory = factory_module._factory
        detector = self._factory.create()
        detector.seed = self._seed
        detector.append(text)
        try:
            best = detector.get_probabilities()[0]
        except (LangDetectException, IndexError):
            return None, 0.0
        # langdetect says zh-cn / zh-tw; the digest speaks ISO 639-1.
        return best.lang.split("-")[0], best.prob


def function_word_votes(text: str) -> list[tuple[str, int]]:
    """(language, function words of it in `text`), best first."""
    votes = dict.fromkeys(_FUNCTION_WORDS, 0)
    for word in _WORDS.findall(text.lower()):
        lang = _LANGUAGE_OF.get(word)
        if lang is not None:
            votes[lang] += 1
    return sorted(votes.items(), key=lambda item: -item[1])


def latin_share(text: str) -> float:
    letters = len(_LETTER.findall(text))
    return len(_LATIN.findall(text)) / letters if letters else 0.0


def article_language(
    texts: list[str], detector: LanguageDetector, declared: str | None = None
) -> str | None:
    """The language of the body, judged on its longer blocks (boilerplate is mostly short).

    Function words settle most pages. langdetect, asked about the rest, misreads pages of
    names and figures (a results table, a page of short lines) as a language nobody wrote
    them in: its answer is overruled by the page's declared language or the function words
    when it names a language of another script, or one the function words do not know while
    they clearly point to one they do."""
    long_texts = [t for t in texts if len(t) >= RELIABLE_LANGUAGE_CHARS] or texts
    sample = " ".join(long_texts)
    if not sample.strip():
        return declared
    (best, hits), (_, runner_up) = function_word_votes(sample[: ARTICLE_SAMPLE_CHARS * 2])[:2]
    if hits >= ARTICLE_MIN_VOTES and hits >= ARTICLE_VOTE_LEAD * max(runner_up, 1):
        return best
    latin = latin_share(sample[:ARTICLE_SAMPLE_CHARS])
    if latin < MIXED_SCRIPT_LATIN_SHARE:
        # Another script with Latin words among it (names, transliterations, product
        # names): the other script's text says the language.
        other_script = _LATIN_WORD.sub(" ", sample[: ARTICLE_SAMPLE_CHARS * 2])
        detected = detector.detect(other_script[:ARTICLE_SAMPLE_CHARS])[0]
        if detected is not None:
            return detected
    detected, probability = detector.detect(sample[:ARTICLE_SAMPLE_CHARS])
    words_say = (
        best if hits >= FEW_VOTES and hits >= ARTICLE_VOTE_LEAD * max(runner_up, 1) else None
    )
    if detected is None or detected == declared:
        return detected or declared or words_say
    latin_text = latin >= 0.5
    latin_answer = detected in _FUNCTION_WORDS or detected in _LATIN_LANGUAGES
    if latin_text != latin_answer:
        return declared or words_say or detected
    unknown = detected not in _FUNCTION_WORDS
    if unknown and (words_say or declared in _FUNCTION_WORDS) and probability < SURE_DETECTION:
        return words_say or declared
    return detected


def language_mismatch(text: str, language: str, detector: LanguageDetector) -> int:
    """2 when the block is surely in another language than `language`, 1 when probably.

    Boilerplate in another language than the article is nearly always in one of the
    languages whose function words are listed here (a French sign-up box, an English cookie
    line), or in another script. So the function words decide; a block they cannot place is
    judged by its script alone. langdetect is not asked: on a block it confuses neighbours
    (Indonesian for Malay, an English bullet for Dutch), and it costs a millisecond a block.
    """
    ranked = function_word_votes(text)
    votes = dict(ranked)
    (best, hits), (_, runner_up) = ranked[:2]
    if best == language and hits >= 2 and hits > runner_up:
        return 0
    words = max(1, len(_WORDS.findall(text)))
    # Another language's function words, dense enough to be that language (a homograph
    # like Italian "di" in Indonesian prose is not), with the article's own nearly absent
    # ("The Last of Us" in a German sentence is still German).
    if (
        best != language
        and hits >= 2
        and hits > runner_up
        and hits >= FOREIGN_WORD_SHARE * words
        and votes.get(language, 0) * 3 <= hits
    ):
        return 2
    if len(_LETTER.findall(text)) < LANGUAGE_MIN_LETTERS:
        return 0  # a phone number, a date, a score: no language at all
    block_latin = latin_share(text) >= 0.5
    article_latin = language in _FUNCTION_WORDS or language in _LATIN_LANGUAGES
    # Another script (a Latin line on a Japanese page) is a hint only: code, names and
    # product lines are written in Latin script everywhere.
    return 1 if block_latin != article_latin else 0


# Other languages written in Latin script (langdetect's codes), so a Latin-script block on
# their pages is not taken for a change of script.
_LATIN_LANGUAGES = frozenset(
    "af ca cs cy da et fi hr hu id lt lv no ro sk sl so sq sv sw tl tr vi".split()
)
