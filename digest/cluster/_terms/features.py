"""What an article is about, as weighted terms: words, names and figures.

Outlets that rewrite one story share few phrases but the same specific facts: the names of
people, companies and places, and the figures. Those are extracted (the words, names and
figures modules beside this one: no model, no network) and weighed here, so that the
clusterer can weigh them above common words.
"""

from __future__ import annotations

import functools
import hashlib
import sys
import unicodedata
import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from ...text import sentence_spans
from .figures import word_ordinals, written_figures
from .names import (
    ampersands_parted,
    german_nouns_lowered,
    german_scan,
    names_in,
    names_in_sentences,
)
from .words import fold, word_counts


@dataclass(frozen=True)
class ArticleTerms:
    """Weighted terms of one article. Keys: 'w:word', 'n:name', 'x:figure'."""

    counts: dict[str, float]
    specific: frozenset[str]  # names and figures: the event's specific facts
    title_names: frozenset[str]  # names in the headline: what the story is about
    labels: dict[str, str] = field(default_factory=dict)  # key -> as first written
    brief: bool = False  # the text is one sentence: it names the main actor, little else


# The headline and opening say what the event is; later paragraphs add background that
# look-alike stories share. Names and figures outweigh words, not so far as to drown them;
# calibrated as one set with cluster/_thresholds.py (bench/cluster_quality.py).
TITLE_WEIGHT = 3.0
LEAD_WEIGHT = 2.0
LEAD_CHARS = 600
BODY_CHARS = 6000
NAME_WEIGHT = 3.0
FIGURE_WEIGHT = 3.0


def article_terms(title: str, text: str, language: str | None = None) -> ArticleTerms:
    """The weighted terms of one article. `language` is the article's (Article.language):
    in German, where every noun is capitalised, names are told from nouns by the words
    before them (`german_nouns_lowered`)."""
    cut = text.rfind(" ", 0, LEAD_CHARS) if len(text) > LEAD_CHARS else len(text)
    lead, body = text[:cut], text[cut:BODY_CHARS]
    counts: dict[str, float] = {}
    labels: dict[str, str] = {}
    parts = (title, lead, body)
    lead_sentences = sentence_spans(lead)
    if base_language(language) == "de":
        # A German noun that one place in the article tells is a noun wherever else it
        # stands: each part is scanned once, and lowered with the nouns of all three.
        scans = [german_scan(part) for part in parts]
        nouns = set().union(*(found for found, _ in scans))
        lowered = [
            german_nouns_lowered(part, nouns, places)
            for part, (_, places) in zip(parts, scans, strict=True)
        ]
        names_of = [names_in(part) for part in lowered]
    else:
        names_of = [names_in(title), names_in_sentences(lead, lead_sentences), names_in(body)]
    names_of = ampersands_parted(names_of)
    headline_names = names_of[0]
    # Terms are tallied per part in C (Counter) and weighted once per distinct term: an
    # article repeats most of its words, and this loop runs for every article of a batch.
    weights = (TITLE_WEIGHT, LEAD_WEIGHT, 1.0)
    for part, weight, names in zip(parts, weights, names_of, strict=True):
        words = word_counts(part)
        _add_weighted(counts, map("w:".__add__, words), words.values(), weight)
        for name, times in Counter(names).items():
            key = "n:" + fold(name)
            counts[key] = counts.get(key, 0.0) + times * weight * NAME_WEIGHT
            labels.setdefault(key, name)
        for figure, written in written_figures(part):
            counts[figure] = counts.get(figure, 0.0) + weight * FIGURE_WEIGHT
            labels.setdefault(figure, written)
        for figure, written, times in word_ordinals(words):
            counts[figure] = counts.get(figure, 0.0) + times * weight * FIGURE_WEIGHT
            labels.setdefault(figure, written)
    specific = frozenset(k for k in counts if k[0] in "nx")
    # Headline Case capitalises every word; a headline "name" counts only if the body has it.
    title_names = frozenset(
        key
        for key in ("n:" + fold(name) for name in headline_names)
        if counts[key] > TITLE_WEIGHT * NAME_WEIGHT
    )
    # The lead is text[:LEAD_CHARS] up to its last space: cut at a space, a text has at least
    # the sentences of that cut (a sentence end needs a capital after it), so the lead's count
    # settles most articles. The lead is the whole text when it is short.
    if cut == len(text) or (cut >= 0 and len(lead_sentences) >= 2):
        brief = len(lead_sentences) < 2
    else:
        brief = len(sentence_spans(text[:LEAD_CHARS])) < 2
    return ArticleTerms(counts, specific, title_names, labels, brief)


def base_language(code: str | None) -> str | None:
    """The primary language of a language tag ("de" of "de-AT", "de_AT" or "DE")."""
    return code.replace("_", "-").partition("-")[0].lower() or None if code else None


def _add_weighted(
    counts: dict[str, float], keys: Iterable[str], times: Iterable[int], weight: float
) -> None:
    """counts[key] += times * weight for each key in order (new keys go at the end, in order).

    In C, but for the keys `counts` has already: the words of an article's lead and body
    are mostly new, and a loop over each distinct word was a tenth of the term time."""
    added = dict(zip(keys, map(weight.__mul__, times), strict=True))
    for key in counts.keys() & added.keys():
        added[key] += counts[key]
    counts.update(added)  # a key already there keeps its place


# The modules whose code decides an article's terms, relative to the package's folder
# (tests/test_store_terms.py checks that they import no other module of the package), and
# the form they are stored in.
_TERMS_CODE = (
    "cluster/_terms/features.py",
    "cluster/_terms/words.py",
    "cluster/_terms/names.py",
    "cluster/_terms/german_nouns.txt",
    "cluster/_terms/figures.py",
    "cluster/_terms/batch.py",
    "cluster/_terms/stored.py",
    "text.py",
)
UNKNOWN_VERSION = "unknown"
_PACKAGE = Path(__file__).resolve().parents[2]


@functools.cache
def terms_version() -> str:
    """A fingerprint of what decides an article's terms: the source of _TERMS_CODE, and the
    Python and Unicode versions (folding and the regexes' word characters follow Unicode's
    tables). Terms stored under another fingerprint are computed again, so
    a change of that code needs no version to be bumped by hand. Without the source beside
    the code, terms are not stored at all (UNKNOWN_VERSION)."""
    fingerprint = hashlib.sha256(f"{sys.version} {unicodedata.unidata_version}".encode())
    try:
        for name in _TERMS_CODE:
            fingerprint.update((_PACKAGE / name).read_bytes())
    except OSError:
        return f"{UNKNOWN_VERSION} {uuid.uuid4()}"
    return fingerprint.hexdigest()[:16]
