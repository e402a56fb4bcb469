"""What a block looks like, as numbers, and the fitted weights that turn them into a verdict.

Every block is described by general features that carry from one site and language to the
next: how much of it is link text, where it stands in the page and around the article, its
length, its punctuation and case, what its wording says (_phrases.py, one feature among
many), whether it is in the article's language, and the same of its neighbours. A logistic
regression over them gives the log-odds that the block is boilerplate; the site's memory adds
its own terms when the page is decided (`site_terms`).

The weights are not set by hand: `bench/fit_blocks.py` fits them on ../shared/data and writes
block_model.json beside this module, with a note of how it was made.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from operator import mul

from ..models import Block
from ._phrases import cta_shape, signup_words

MODEL_FILE = "block_model.json"
# A paragraph at least this long is article prose: it marks where the article starts and
# ends on the page.
PROSE_MIN_CHARS = 150
# Distance to the nearest such paragraph, in blocks, counted up to this many.
GAP_STEPS = 3
SHAPE_SAMPLE_CHARS, SHAPE_SAMPLE_WORDS = 160, 25
_SEPARATOR_MARKS = ("·", "|", "•", "–", "—", "/")
_WORD = re.compile(r"[^\W\d_]+")
_SEPARATORS = re.compile(r"\s[·|•–—/]\s|\s[·|•]|[·|•]\s")
_URL_ONLY = re.compile(r"^\S+://\S+$|^www\.\S+$|^[\w-]+(\.[\w-]+)*\.[a-zA-Z]{2,}/?$")
# A pitch speaks to the reader and for the site ("Sign up and we will send you..."): the
# second person and the site's "we" in the languages the digest meets most. Formal German
# "Sie"/"Ihr" counts only capitalised inside a sentence.
_ADDRESSING_WORDS = frozenset(
    "you your yours vous votre vos dich dir dein deine euch euer tú tu tus te usted ustedes"
    " vosotros twój twoja ciebie państwo".split()
)
_FORMAL_ADDRESS = re.compile(r"(?<=[a-zäöüß,] )(?:Sie|Ihr|Ihre|Ihnen)\b")
_SITE_VOICE_WORDS = frozenset(
    "our we us notre nos nous unser unsere unseren unserem unserer wir uns nuestro nuestra"
    " nuestros nuestras nosotros nasz nasza nasze naszego".split()
)
# A web address or a bare domain ("auf gofeminin.de", "www.example.org/presse").
_SITE_NAME_MARKS = (
    "://", "www.", ".com", ".org", ".net", ".de", ".at", ".ch", ".fr", ".es", ".pl", ".it", ".uk",
    ".eu", ".info", ".io", ".tv", ".news", ".online",
)  # fmt: skip
_SITE_NAME = re.compile(
    r"(?i:https?://|www\.)|\b[\w-]{2,}\.(?i:com|org|net|de|at|ch|fr|es|pl|it|uk|eu|info|io|tv"
    r"|news|online)\b(?!\.\w)"
)
# Latin and Cyrillic letters within one word: look-alike letters of spam that hides from
# filters.
_MIXED_SCRIPT = re.compile(r"[a-zA-Z][\u0400-\u04ff]|[\u0400-\u04ff][a-zA-Z]")
# Looked for in the last few characters only: a search anchored at the end still tries
# every position of a long paragraph.
_SENTENCE_END = re.compile(r"[.!?…][\"'”’)»]*$")
# Looked for in the last characters only: a search anchored at the end still tries every
# position of a long paragraph.
SENTENCE_END_CHARS = 6

# Per block: (name, how it is read from `_own`), in the order of the weights.
OWN_FEATURES = (
    "bias",
    "phrase_promo_sure",
    "phrase_promo_likely",
    "phrase_byline",
    "phrase_credit",
    "phrase_metadata",
    "signup_words",
    "cta_shape",
    "link_density",
    "link_density_short",
    "links_list",
    "head",
    "list",
    "quote",
    "table",
    "log_length",
    "short",
    "very_short",
    "sentence_end",
    "capitals",
    "title_case",
    "digits",
    "separators",
    "language_sure",
    "language_likely",
    "at_head",
    "at_tail",
    "before_prose",
    "after_prose",
    "relative_position",
    "title",
    "above_title",
    "standfirst",
    "url_only",
    "phrase_short",
    "links_after_prose",
    "short_at_tail",
    "short_at_head",
    "title_case_short",
    "signup_at_edge",
    "addressing",
    "site_voice",
    "mixed_script",
    "names_a_site",
    "relative_length",
    "gap_to_prose",
)
# The same few facts about the block before and after.
NEIGHBOUR_FEATURES = (
    "phrase_any",
    "link_density",
    "language_any",
    "short",
    "sentence_end",
)
FEATURES = (
    *OWN_FEATURES,
    *(f"prev_{name}" for name in NEIGHBOUR_FEATURES),
    *(f"next_{name}" for name in NEIGHBOUR_FEATURES),
)
# Terms the site's memory adds when the page is decided: the block, and its neighbours, seen
# on another page of the site.
SITE_FEATURES = ("repeated", "prev_repeated", "next_repeated")


@dataclass(frozen=True)
class BlockModel:
    """Fitted weights: `own` for FEATURES, `site` for SITE_FEATURES; a block is removed when
    its log-odds reach `remove_at`, and joins removed neighbours from `join_at`."""

    own: tuple[float, ...]
    site: tuple[float, ...]
    remove_at: float
    join_at: float

    def to_json(self, note: str) -> str:
        record = {
            "note": note,
            "features": dict(zip(FEATURES, self.own, strict=True)),
            "site_features": dict(zip(SITE_FEATURES, self.site, strict=True)),
            "remove_at": self.remove_at,
            "join_at": self.join_at,
        }
        return json.dumps(record, indent=1, ensure_ascii=False) + "\n"

    @classmethod
    def from_json(cls, text: str) -> BlockModel:
        record = json.loads(text)
        return cls(
            own=tuple(float(record["features"][name]) for name in FEATURES),
            site=tuple(float(record["site_features"][name]) for name in SITE_FEATURES),
            remove_at=float(record["remove_at"]),
            join_at=float(record["join_at"]),
        )

    def log_odds(self, features: list[list[float]]) -> tuple[float, ...]:
        # Plain Python, not numpy: a page has a few dozen blocks, and a BLAS call leaves
        # its threads spinning for milliseconds after it, which is CPU time of the run.
        weights = self.own
        return tuple(sum(map(mul, weights, row)) for row in features)


@cache
def shipped_model() -> BlockModel:
    """The weights fitted by bench/fit_blocks.py, shipped with the package."""
    text = resources.files(__package__).joinpath(MODEL_FILE).read_text(encoding="utf-8")
    return BlockModel.from_json(text)


_PHRASE_FEATURES = {
    (3, "promo"): 1,
    (2, "promo"): 2,
    (2, "byline"): 3,
    (3, "credit"): 4,
    (2, "credit"): 4,
    (3, "metadata"): 5,
    (2, "metadata"): 5,
}


def block_features(
    blocks: tuple[Block, ...],
    phrases: list[tuple[int, str]],
    language_weights: tuple[int, ...],
    marks: dict[int, str],
) -> list[list[float]]:
    """One row of FEATURES per block. `phrases` are _phrases.phrase_signal's verdicts,
    `language_weights` the language mismatches, `marks` the title heading and what stands
    around it ({index: "title" | "above_title" | "standfirst"})."""
    count = len(blocks)
    prose = [i for i, b in enumerate(blocks) if b.kind == "p" and len(b.text) >= PROSE_MIN_CHARS]
    first_prose = prose[0] if prose else count
    last_prose = prose[-1] if prose else -1
    prose_set = set(prose)
    own = [
        _own(block, phrases[i], language_weights[i], i, count, first_prose, last_prose, marks)
        for i, block in enumerate(blocks)
    ]
    # Length against the page's own paragraphs (a short block among short paragraphs is
    # ordinary), and how far the block stands from the nearest long paragraph.
    lengths = sorted(len(b.text) for b in blocks if b.kind == "p") or [1]
    typical = max(1, lengths[len(lengths) // 2])
    relative, gap = OWN_FEATURES.index("relative_length"), OWN_FEATURES.index("gap_to_prose")
    nearest = count
    before = [count] * count
    for i in range(count):
        nearest = 0 if i in prose_set else nearest + 1
        before[i] = nearest
    nearest = count
    for i in range(count - 1, -1, -1):
        nearest = 0 if i in prose_set else nearest + 1
        own[i][gap] = min(GAP_STEPS, before[i], nearest) / GAP_STEPS
        own[i][relative] = min(1.0, len(blocks[i].text) / typical)
    neighbours = [
        _neighbour(block, phrases[i], language_weights[i]) for i, block in enumerate(blocks)
    ]
    empty = [0.0] * len(NEIGHBOUR_FEATURES)
    return [
        own[i]
        + (neighbours[i - 1] if i > 0 else empty)
        + (neighbours[i + 1] if i + 1 < count else empty)
        for i in range(count)
    ]


def _own(
    block: Block,
    phrase: tuple[int, str],
    language_weight: int,
    index: int,
    count: int,
    first_prose: int,
    last_prose: int,
    marks: dict[int, str],
) -> list[float]:
    text = block.text
    length = len(text)
    row = [0.0] * len(OWN_FEATURES)
    row[0] = 1.0
    slot = _PHRASE_FEATURES.get(phrase)
    if slot:
        row[slot] = 1.0
    short = length < 200
    if length < 400:
        row[6] = signup_words(text) / 3
        row[7] = float(cta_shape(text))
    density = block.link_density if block.kind != "table" else 0.0
    row[8] = density
    row[9] = density if short else 0.0
    row[10] = density if block.kind == "list" else 0.0
    row[11] = float(block.kind == "head")
    row[12] = float(block.kind == "list")
    row[13] = float(block.kind == "quote")
    row[14] = float(block.kind == "table")
    row[15] = math.log(1 + length) / 8
    row[16] = float(short)
    row[17] = float(length < 50)
    row[18] = float(bool(_SENTENCE_END.search(text[-SENTENCE_END_CHARS:])))
    # Case and figures are read on the opening characters: enough to tell a teaser in
    # capitals or a line of dates, and cheap on long paragraphs.
    sample = text[:SHAPE_SAMPLE_CHARS]
    letters = sum(map(str.isalpha, sample))
    if letters:
        row[19] = sum(map(str.isupper, sample)) / letters
    words = _WORD.findall(text[:400])
    opening = words[:SHAPE_SAMPLE_WORDS]
    if opening:
        row[20] = sum(map(str.isupper, [w[0] for w in opening])) / len(opening)
    row[21] = sum(map(str.isdigit, sample)) / len(sample)
    if any(mark in sample for mark in _SEPARATOR_MARKS):
        row[22] = min(3, len(_SEPARATORS.findall(sample))) / 3
    row[23] = float(language_weight >= 2)
    row[24] = float(language_weight == 1)
    row[25] = float(index < 2)
    row[26] = float(index >= count - 3)
    row[27] = float(index < first_prose)
    row[28] = float(index > last_prose)
    row[29] = index / (count - 1) if count > 1 else 0.0
    mark = marks.get(index)
    if mark:
        row[OWN_FEATURES.index(mark)] = 1.0
    row[33] = float(bool(_URL_ONLY.match(text)))
    row[34] = float(bool(slot) and short)
    row[35] = density * row[28]
    row[36] = float(short and row[26] > 0)
    row[37] = float(short and row[25] > 0)
    row[38] = row[20] if short else 0.0
    row[39] = row[6] * float(row[25] > 0 or row[26] > 0 or row[27] > 0 or row[28] > 0)
    if length < 400:
        lowered = text.lower()
        lower_words = [word.lower() for word in words]
        addressing = sum(1 for word in lower_words if word in _ADDRESSING_WORDS)
        if "Sie" in text or "Ihr" in text:
            addressing += len(_FORMAL_ADDRESS.findall(text))
        row[40] = min(2, addressing) / 2
        row[41] = min(2, sum(1 for word in lower_words if word in _SITE_VOICE_WORDS)) / 2
        row[42] = float(not text.isascii() and bool(_MIXED_SCRIPT.search(text)))
        row[43] = float(
            any(mark in lowered for mark in _SITE_NAME_MARKS) and bool(_SITE_NAME.search(text))
        )
    return row


def _neighbour(block: Block, phrase: tuple[int, str], language_weight: int) -> list[float]:
    return [
        float(phrase[0] > 0),
        block.link_density if block.kind != "table" else 0.0,
        float(language_weight > 0),
        float(len(block.text) < 200),
        float(bool(_SENTENCE_END.search(block.text[-SENTENCE_END_CHARS:]))),
    ]


def site_terms(model: BlockModel, repeated: set[int], count: int) -> list[float]:
    """What the site's memory adds to each block's log-odds."""
    own, before, after = model.site
    terms = [0.0] * count
    for index in repeated:
        terms[index] += own
        if index + 1 < count:
            terms[index + 1] += before  # the block after a repeated one
        if index > 0:
            terms[index - 1] += after
    return terms
