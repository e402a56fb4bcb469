"""Remove the boilerplate that extraction leaves inside an article's blocks.

No single signal is trusted alone: langdetect calls a short English bullet German, a real
paragraph may say "subscribe", and the last paragraph of every article sits at the edge.
Each block gets a score from several signals and goes only when they add up:

    promotional phrasing     3 (unmistakable call to action) or 2 (likely)
    language mismatch        2 when the block is long enough for langdetect to be reliable,
                             or short but its function words name another language; 1 when
                             short and langdetect alone is sure
    at the edge              1 in the first two or last three blocks, or next to an edge
                             block already removed (boilerplate comes in runs)
    repeated on the site     3 when the same block was seen on another page of the site
    next to boilerplate      1 for a block with a signal of its own (not only its position)
                             beside a removed block; a short block between two removed
                             blocks goes with them

A block is removed at REMOVE_AT or above; its strongest signal is the recorded reason.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass

from langdetect.detector_factory import init_factory
from langdetect.lang_detect_exception import LangDetectException

from .models import Block, CleanedText, RemovedBlock

REMOVE_AT = 3
# langdetect needs about this much text to be right nearly always; shorter blocks get a
# weaker vote (measured on our fixtures: 8-word English bullets came back as de/nl/sk).
RELIABLE_LANGUAGE_CHARS = 80
RELIABLE_LANGUAGE_PROBABILITY = 0.9
EDGE_HEAD, EDGE_TAIL = 2, 3

# Anchored or unambiguous calls to action in English, French, German, Spanish, Italian and
# Portuguese. Patterns are matched against the lower-cased block.
_CTA_STRONG = [
    # Labels: "Read more: ...", "Advertisement", "Related stories" (not "Share prices rose").
    r"^(read more|related( articles| stories| posts| coverage)?|see also|more from [\w ]{1,30}"
    r"|recommended( for you| reading| stories)?|advertisement|sponsored( content)?|lire aussi"
    r"|à lire aussi|lesen sie auch|mehr zum thema|anzeige|werbung|leer más|lee también"
    r"|te puede interesar|publicidad|leggi anche|pubblicità|leia também|leia mais|publicidade)"
    r"\s*([:|»›>–—-]|$)",
    r"\b(sign|signing) up (for|to) (our|the) [\w\s-]{0,30}(newsletter|briefing|digest|email)",
    r"\b(subscribe|subscribing) to (our|the) [\w\s-]{0,30}(newsletter|briefing|podcast|channel)",
    r"\bget (our|the) [\w\s-]{0,30}newsletter\b",
    r"\b(newsletter|lettre d'information|lettre hebdomadaire|infolettre)\b.{0,80}"
    r"\b(inscri|abonn|subscribe|sign up|anmelden|abonnieren|suscr|iscriviti|assine|inscreva)",
    r"\b(inscrivez-vous|abonnez-vous|je m'abonne|je m'inscris|s'inscrire"
    r"|rece(vez|voir) (notre|nos|la|le))",
    r"\b(jetzt (anmelden|abonnieren|registrieren)|newsletter abonnieren|melden sie sich)",
    r"\b(suscríbete|suscribirse|suscríbase|date de alta en)",
    r"\b(iscriviti|abbonati (ora|subito)|ricevi la nostra)",
    r"\b(assine (já|agora|a nossa)|inscreva-se|receba (a nossa|nossa))",
    r"^comments?\s*(\(\d+\))?$|^\d+\s+comments?$|^(commentaires|kommentare|comentarios|commenti"
    r"|comentários)\b",
    r"\b(sign|log) in (to|or register to) (comment|join the (conversation|discussion)|reply)",
    r"\b(log in|sign in|register) (or|and) (register|sign up|log in) to (comment|post|reply)",
    r"\b(join|start) the (conversation|discussion)\b",
    r"\bjoin our (community|discord|slack|membership|members)",
    r"\b(become a (member|subscriber|supporter)|support our journalism|support independent"
    r" journalism)",
    r"\b(editorial (policy|standards|guidelines)|corrections policy|ethics policy)\b",
    r"^sources?\s*:",
    r"\b(we use cookies|this (site|website) uses cookies|cookie (policy|settings|preferences)"
    r"|accept (all )?cookies|nous utilisons des cookies|wir verwenden cookies"
    r"|utilizamos cookies|utilizziamo (i )?cookie)",
    r"\b(follow|find) (us|him|her|them|me) on (twitter|x|facebook|instagram|linkedin|mastodon"
    r"|bluesky|threads|tiktok|youtube)\b",
    r"\bshare (this|the) (article|story|post)\b|^share( on| via| this|:|$)",
    r"\ball rights reserved\b|(^|\s)©\s*\d{4}",
    r"\b(click here|tap here) to\b",
    r"\b(download (our|the) app|get the app)\b",
]
# Likely boilerplate, scored lower: an author bio, a nudge, a byline.
# A bare byline: "By Jane Doe" (the name must be capitalised, so "By noon, ..." is prose).
_BYLINE = re.compile(r"^(?i:by|von|par|por|di)\s+[A-Z][\w.'’-]*(\s+[A-Z][\w.'’-]*){0,3}\s*$")
_CTA_LIKELY = [
    r"\b(covers|reports on|writes about|has covered|is a (senior |staff )?(reporter|writer|"
    r"correspondent|editor|columnist))\b.{0,120}\b(for|at)\b",
    r"\b(previously (worked|reported|wrote)|before joining)\b",
    r"(?i:\b(subscribe|sign up|register|log in|sign in)( now| today| here| for free"
    r"| to (read|continue|comment|get|receive|our|the))\b)",
    r"(?i:\b(our|this) (newsletter|podcast)\b)",
    r"\b(follow us|suivez-nous|folgen sie uns|síguenos|seguici|siga-nos)\b",
    r"\b(this (article|story) (was|has been) (updated|corrected))\b",
    r"\b(tips?|got a tip)\?.{0,40}\b(contact|email|signal)\b",
]
# Frequent function words per language, for short blocks where langdetect guesses: "No
# launch date has been given." comes back Dutch, but "has" and "been" say English. Words
# shared by two of these languages are dropped below, so every hit is a real vote.
_FUNCTION_TEXT = {
    "en": "the and of to is was has have been are were with for that this it its from by on at"
    " not no will would be an you your our we they",
    "fr": "le la les des du est et une un pour dans avec sur pas ne vous nous votre vos notre nos"
    " au aux ce cette qui que à être ont",
    "de": "der die das und ist nicht mit von den dem ein eine zu auf für sie wir ihr unsere im"
    " auch sich wird sind",
    "es": "el los las del y es una por para con que se su sus al lo como más pero está son",
    "it": "il gli della del di che è una per con non sono alla nel le ci questo",
    "pt": "o os as da do das dos que é uma para com não em no na se seu sua você são",
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
_STRONG = [re.compile(p, re.IGNORECASE) for p in _CTA_STRONG]
_LIKELY = [re.compile(p, re.IGNORECASE) for p in _CTA_LIKELY]
# A long paragraph that mentions cookies or comments is more likely news about them.
PROMO_MAX_CHARS = 400


@dataclass(frozen=True)
class SiteMemory:
    """Block fingerprints already seen on other pages of the same site."""

    seen: Mapping[str, int]  # fingerprint -> number of other pages it appeared on


def fingerprint(text: str) -> str:
    normalised = re.sub(r"\W+", " ", text.lower()).strip()
    return hashlib.sha1(normalised.encode("utf-8")).hexdigest()[:16]


class LanguageDetector:
    """langdetect with a fixed seed per call, so one text always gets one answer."""

    def __init__(self, seed: int = 0):
        import langdetect.detector_factory as factory_module

        init_factory()
        # langdetect keeps its loaded profiles in this module global and offers no public
        # way to get a detector with its own seed; the global seed would be shared state.
        self._factory = factory_module._factory
        self._seed = seed

    def detect(self, text: str) -> tuple[str | None, float]:
        detector = self._factory.create()
        detector.seed = self._seed
        detector.append(text)
        try:
            best = detector.get_probabilities()[0]
        except (LangDetectException, IndexError):
            return None, 0.0
        # langdetect says zh-cn / zh-tw; the digest speaks ISO 639-1.
        return best.lang.split("-")[0], best.prob


def function_word_language(text: str) -> str | None:
    """The language whose function words the text uses, when at least two say so."""
    words = re.findall(r"[^\W\d_]+", text.lower())
    votes = {lang: sum(w in table for w in words) for lang, table in _FUNCTION_WORDS.items()}
    ranked = sorted(votes.items(), key=lambda item: -item[1])
    (best, hits), (_, runner_up) = ranked[0], ranked[1]
    return best if hits >= 2 and hits > runner_up else None


def promo_score(text: str) -> int:
    """3 for an unmistakable call to action, 2 for a likely one, 1 for a long paragraph
    that uses call-to-action words, else 0."""
    strong = any(p.search(text) for p in _STRONG)
    if len(text) >= PROMO_MAX_CHARS:
        return 1 if strong else 0
    if strong:
        return 3
    if _BYLINE.match(text) or any(p.search(text) for p in _LIKELY):
        return 2
    return 0


def article_language(blocks: tuple[Block, ...], detector: LanguageDetector) -> str | None:
    """The language of the body, judged on its longer blocks (boilerplate is mostly short)."""
    # Tables of names and figures (sports results, prices) say little about the language.
    prose = [b for b in blocks if b.kind not in ("table", "list")] or list(blocks)
    long_blocks = [b.text for b in prose if len(b.text) >= RELIABLE_LANGUAGE_CHARS]
    sample = " ".join(long_blocks or [b.text for b in prose])[:4000]
    language, _ = detector.detect(sample) if sample else (None, 0.0)
    return language


def clean_blocks(
    blocks: tuple[Block, ...],
    detector: LanguageDetector,
    site: SiteMemory | None = None,
    declared_language: str | None = None,
) -> CleanedText:
    """Score every block and drop the boilerplate. Pure but for langdetect's CPU time."""
    language = article_language(blocks, detector) or declared_language
    repeated = _repeated(blocks, site)
    scores: list[tuple[int, str]] = []
    for index, block in enumerate(blocks):
        scores.append(_score(block, index in repeated, language, detector))
    edge = _edge_indexes(scores, len(blocks))
    final = [(s + 1, r or "position") if i in edge else (s, r) for i, (s, r) in enumerate(scores)]
    gone = {i for i, (score, _) in enumerate(final) if score >= REMOVE_AT}
    # A suspicious block next to removed boilerplate is part of the same box ("Je m'abonne"
    # under a French sign-up paragraph); repeat until no block joins.
    while True:
        joining = {
            i
            for i, (score, _) in enumerate(final)
            if i not in gone
            and score + 1 >= REMOVE_AT
            and score > (i in edge)
            and ({i - 1, i + 1} & gone)
        }
        # A short block between two removed ones is part of the same box.
        joining |= {
            i
            for i in range(1, len(blocks) - 1)
            if i not in gone and {i - 1, i + 1} <= gone and len(blocks[i].text) < 200
        }
        if not joining:
            break
        gone |= joining
    kept: list[Block] = []
    removed: list[RemovedBlock] = []
    for index, block in enumerate(blocks):
        if index in gone:
            removed.append(RemovedBlock(block.text, final[index][1]))
        else:
            kept.append(block)
    text = "\n\n".join(block.text for block in kept)
    return CleanedText(text=text, language=language, kept=tuple(kept), removed=tuple(removed))


def _repeated(blocks: tuple[Block, ...], site: SiteMemory | None) -> set[int]:
    if site is None or not site.seen:
        return set()
    hits = {i for i, block in enumerate(blocks) if fingerprint(block.text) in site.seen}
    # Most of the page seen before is the same article republished, not chrome.
    return set() if len(hits) * 2 > len(blocks) else hits


def _score(
    block: Block, repeated: bool, language: str | None, detector: LanguageDetector
) -> tuple[int, str]:
    signals: list[tuple[int, str]] = []
    promo = promo_score(block.text)
    if promo:
        signals.append((promo, "promo"))
    if repeated:
        signals.append((3, "repeated-on-site"))
    if language and len(block.text) >= 12 and block.kind != "table":
        weight = _language_mismatch(block.text, language, detector)
        if weight:
            signals.append((weight, "language"))
    if not signals:
        return 0, ""
    total = sum(weight for weight, _ in signals)
    reason = max(signals, key=lambda s: s[0])[1]
    return total, reason


def _language_mismatch(text: str, language: str, detector: LanguageDetector) -> int:
    """2 when the block is surely in another language, 1 when probably, else 0."""
    if len(text) < RELIABLE_LANGUAGE_CHARS:
        voted = function_word_language(text)
        if voted is not None:
            return 2 if voted != language else 0
    block_language, probability = detector.detect(text)
    if not block_language or block_language == language:
        return 0
    if len(text) >= RELIABLE_LANGUAGE_CHARS and probability >= RELIABLE_LANGUAGE_PROBABILITY:
        return 2
    return 1 if probability >= RELIABLE_LANGUAGE_PROBABILITY else 0


def _edge_indexes(scores: list[tuple[int, str]], count: int) -> set[int]:
    """Blocks at the start or end, extended inward while the block outside them goes."""
    edge = set(range(min(EDGE_HEAD, count))) | set(range(max(0, count - EDGE_TAIL), count))
    index = EDGE_HEAD
    while index < count and scores[index - 1][0] + 1 >= REMOVE_AT:
        edge.add(index)
        index += 1
    index = count - EDGE_TAIL - 1
    while index >= 0 and scores[index + 1][0] + 1 >= REMOVE_AT:
        edge.add(index)
        index -= 1
    return edge
