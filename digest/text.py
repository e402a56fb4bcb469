"""Small text helpers shared by the stages: HTML fragments to plain text, sentences."""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterator, Sequence
from datetime import timedelta
from urllib.parse import quote

import idna
import lxml.etree
import lxml.html
import regex

_SPACE = re.compile(r"[ \t\r\f\v\u00a0\u2009\u200a\u202f]+")
_BLANK_LINES = re.compile(r"\n\s*\n+")
_BLOCK_TAGS = {
    "p",
    "div",
    "br",
    "li",
    "ul",
    "ol",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "blockquote",
    "pre",
    "table",
    "tr",
    "section",
    "article",
    "header",
    "footer",
    "figure",
    "figcaption",
}
_DROP_TAGS = ("script", "style", "noscript", "template", "iframe", "object", "embed", "svg")


# C0/C1 controls (but tab and newlines), lone surrogates, and Unicode non-characters: a feed
# can carry them, and each one breaks something downstream (MJML's parser, SQLite's UTF-8
# encoding, the operator's terminal). And the bidi embeddings, overrides and isolates
# (U+202A-E, U+2066-9): unclosed, one turns the rest of its line around, in a headline as in
# a subject ("Pay invoice" U+202E "gnp.exe now" reads "Pay invoice won exe.png"). The marks
# LRM and RLM stay, as do ZWJ and ZWNJ: scripts and emoji need them.
_BIDI_CONTROLS = "\u202a-\u202e\u2066-\u2069"
_NOT_TEXT = "\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff"  # lone surrogates, non-characters
# And what shows as nothing and only hints where a line may break or a hyphen go: the soft
# hyphen, the word joiner (and the invisible operators beside it), the zero-width no-break
# space (BOM), and the zero-width space (`_INNER_ZWSP`). Sites put them inside words
# ("Bundes" U+00AD "regierung"), and a feed can hide a word from a filter with them ("Ca"
# U+200B "sino"): dropped where text comes in, the word is one word to filters, the
# clusterer and the reader's search.
_BREAK_HINTS = "\u00ad\u2060-\u2064\ufeff"
# And what shows as nothing but is no break hint, taken up to pad a headline with blank or
# to hide words in it: the Hangul fillers (U+115F, U+1160, U+3164, U+FFA0), which modern
# Korean text does not use, and the tag characters, which spell a word no person sees
# ("Ignore" as U+E0049 U+E0067...: read by a mail assistant, not by the reader). Tags stay
# in a region's flag (England's, Scotland's): the black flag, a region's code in tag
# letters and digits, the cancel tag. The blank Braille cell, a space in Braille, becomes one.
_FILLERS = "\u115f\u1160\u3164\uffa0"
_TAG_RUN = re.compile(
    "(\U0001f3f4[\U000e0030-\U000e0039\U000e0061-\U000e007a]{1,7}\U000e007f)"
    "|[\U000e0000-\U000e007f]+"
)
_UNPRINTABLE = re.compile(
    f"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f{_BIDI_CONTROLS}{_NOT_TEXT}{_BREAK_HINTS}{_FILLERS}]"
)
# Kana and CJK ideographs, as character-class ranges.
CJK_LETTERS = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
# Scripts written without spaces between words: Thai, Lao, Myanmar, Khmer; kana and CJK.
UNSPACED_SCRIPTS = "\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff" + CJK_LETTERS
# In those a zero-width space is where a word ends, and stays; elsewhere it is a break hint.
_INNER_ZWSP = re.compile(f"(?<![{UNSPACED_SCRIPTS}])\u200b(?![{UNSPACED_SCRIPTS}])")


def plural(count: int, noun: str, nouns: str | None = None) -> str:
    """`1 item`, `2 items`: the count with its noun; `nouns` for a noun that does not just
    take an s (`plural(2, "entry", "entries")`)."""
    if count == 1:
        return f"{count} {noun}"
    return f"{count} {nouns or noun + 's'}"


def duration_text(span: timedelta) -> str:
    """A duration as an operator writes it in a config: 48h, 7d, 90m, 30s (days past three,
    else the largest unit it is a whole number of; a part of a second as 0.5s)."""
    if span.total_seconds() < 1:
        return f"{span.total_seconds():g}s"
    seconds = int(span.total_seconds())
    if seconds % 86400 == 0 and seconds > 3 * 86400:
        return f"{seconds // 86400}d"
    for unit, size in (("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def first_few(items: Sequence[str], separator: str = ", ", shown: int = 3) -> str:
    """The first `shown` of `items` joined, then how many more: one line however long the
    list (a digest may go to thousands): `a, b, c and 997 more`."""
    rest = f" and {len(items) - shown:,} more" if len(items) > shown else ""
    return separator.join(items[:shown]) + rest


def printable(text: str) -> str:
    """`text` without the characters no reader should get (see _UNPRINTABLE)."""
    text = _UNPRINTABLE.sub("", text)
    if "\u2800" in text:
        text = text.replace("\u2800", " ")
    if _TAG_RUN.search(text):
        text = _TAG_RUN.sub(_flag_or_nothing, text)
    return _INNER_ZWSP.sub("", text) if "\u200b" in text else text


def _flag_or_nothing(found: re.Match[str]) -> str:
    return found.group() if found.group(1) else ""


def collapse(text: str) -> str:
    """Fold runs of white space into one space and trim; drop unprintable characters."""
    return " ".join(printable(text).split())


# What one line shown to a reader (an email header, a subject) must not hold: every C0 and
# C1 control (tab, CR, LF and NEL included), the line and paragraph separators, and the bidi
# embeddings, overrides and isolates (U+202A-E, U+2066-9), which turn the text after them
# around in the reader's inbox ("invoice" U+202E "fdp.exe" shows as "invoiceexe.pdf"). The
# marks LRM and RLM stay: right-to-left text needs them and they reorder nothing around them.
_NOT_IN_A_LINE = re.compile(f"[\x00-\x1f\x7f-\x9f\u2028\u2029{_BIDI_CONTROLS}{_NOT_TEXT}]")


def one_line(text: str) -> str:
    """`text` as one line: every run of white space or line breaks (CR, LF, NEL, U+2028...)
    one space, trimmed, without the characters of _NOT_IN_A_LINE."""
    # Split first, so that a line break between two words leaves a space, not one word.
    words = (_NOT_IN_A_LINE.sub("", word) for word in text.split())
    return " ".join(word for word in words if word)


def fits_one_line(text: str) -> bool:
    """Whether `text` holds none of the characters one_line() drops (white space may repeat)."""
    return _NOT_IN_A_LINE.search(text) is None


def html_to_text(fragment: str) -> str:
    """Plain text of an HTML fragment (feed summaries, content:encoded), paragraphs kept.

    Scripts, styles and comments are dropped with their content; entities are decoded.
    """
    if not fragment or not fragment.strip():
        return ""
    fragment = printable(fragment)
    if "<" not in fragment:
        return _paragraphs(html.unescape(fragment))
    try:
        root = lxml.html.fragment_fromstring(fragment, create_parent="div")
    except (lxml.etree.ParserError, ValueError):
        return _paragraphs(html.unescape(re.sub(r"<[^>]*>", " ", fragment)))
    for junk in list(root.iter(lxml.etree.Comment, lxml.etree.ProcessingInstruction, *_DROP_TAGS)):
        junk.drop_tree()  # keeps the text that follows it
    for element in root.iter():
        if element.tag == "br":
            element.tail = "\n" + (element.tail or "")
        elif element.tag in _BLOCK_TAGS:
            element.text = "\n\n" + (element.text or "")
            element.tail = "\n\n" + (element.tail or "")
    return _paragraphs(root.text_content())


def _paragraphs(text: str) -> str:
    paragraphs = (collapse(p) for p in _BLANK_LINES.split(printable(text).replace("\r", "")))
    return "\n\n".join(p for p in paragraphs if p)


# A sentence ends at . ! ? (optionally followed by a closing quote or bracket) before a
# capital letter, digit or opening quote. Abbreviations like "U.S." and "Dr." are kept whole
# by requiring the previous word to be longer than one capital letter or a known title.
# The match takes in the . ! or ? rather than looking behind for it: the regex engine then
# skips straight to those characters (about 3x faster than a lookbehind at every character).
# Capitals of every alphabet up to Cyrillic ("Łódź", "Москва"), and digits.
_OPENING = "[" + "".join(c for c in map(chr, range(0x530)) if c.isupper()) + "0-9]"
_SENTENCE_STOP = re.compile(r"[.!?][\"'”’)\]]?\s+(?=[\"“‘(\[]?" + _OPENING + ")")
# The same for a paragraph with no ! or ?: led by one literal character, which the engine
# finds without testing each character against a set (a paragraph's scan in half the time).
_PERIOD_STOP = re.compile(r"\.[\"'”’)\]]?\s+(?=[\"“‘(\[]?" + _OPENING + ")")
_ABBREVIATIONS = {
    "mr",
    "mrs",
    "ms",
    "dr",
    "prof",
    "sen",
    "rep",
    "gov",
    "gen",
    "st",
    "jr",
    "sr",
    "inc",
    "corp",
    "co",
    "ltd",
    "no",
    "vs",
    "u.s",
    "u.k",
    "e.u",
    "u.n",
    "a.m",
    "p.m",
    "jan",
    "feb",
    "mar",
    "apr",
    "jun",
    "jul",
    "aug",
    "sep",
    "sept",
    "oct",
    "nov",
    "dec",
    "mt",
    "ft",
    "okt",  # German's own month abbreviations: "am 3. Okt. 2025"
    "dez",
}
# "am 22. November", "der 2. Weltkrieg", "zum 3. Mal": German writes an ordinal as its number
# and a full stop, and capitalises the noun after it. A number of one or two digits ends no
# sentence after a word that takes an ordinal, or before a month after a word that takes a
# date ("am", "ab", "seit"). English shares the months and "die"; French has "des": "rose to
# 45. August figures …", "the 27. Les débats …" still end there, and so does "I am 12. My".
_ORDINAL_NUMBER = re.compile(r"[0-9]{1,2}\.")
_GERMAN_MONTH = re.compile(
    r"(?:Januar|Jänner|Februar|Feber|März|April|Mai|Juni|Juli|August|September|Oktober"
    r"|November|Dezember|Jan|Feb|Mär|Mrz|Apr|Jun|Jul|Aug|Sept?|Okt|Nov|Dez)\b"
)
_BEFORE_AN_ORDINAL = frozenset("der das dem den im zum zur vom beim".split())
_BEFORE_A_DATE = _BEFORE_AN_ORDINAL | frozenset("am ab bis seit".split())


def split_sentences(text: str) -> list[str]:
    """Split prose into sentences, keeping common abbreviations whole."""
    return [paragraph[start:end] for paragraph, start, end in sentence_spans(text)]


# The white space str.split splits at, but the space and what a printable line lacks (the
# newline, C0 and C1 controls): listed, not a category, so that the engine tests ranges.
_OTHER_WHITESPACE = re.compile("[\t\r\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]")


def sentence_spans(text: str) -> list[tuple[str, int, int]]:
    """(paragraph, start, end) for each sentence of split_sentences: paragraph[start:end].

    The paragraph is collapsed, as the sentences are. Name extraction only needs to know
    where sentences start and end: it scans the paragraph between them, not a copy of each.
    """
    spans: list[tuple[str, int, int]] = []
    for paragraph in text.split("\n"):  # (_UNPRINTABLE has no newline)
        # Extracted text is printable and collapsed already, which str.isprintable tells in
        # C: it is false for controls and for any white space but the space. (Splitting a
        # collapsed paragraph into words to join them again was a quarter of this function's
        # time, and a regex scan for the odd characters costs a third more than isprintable.)
        if "  " in paragraph or not paragraph.isprintable():
            paragraph = printable(paragraph)
            if "  " in paragraph or _OTHER_WHITESPACE.search(paragraph):
                paragraph = " ".join(paragraph.split())
        paragraph = paragraph.strip(" ")
        if not paragraph:
            continue
        start = 0
        stops = _SENTENCE_STOP if "!" in paragraph or "?" in paragraph else _PERIOD_STOP
        for match in stops.finditer(paragraph):
            # The sentence ends with its . ! or ? and the quote or bracket that closes it
            # ("(He said so.)"): all the match but its one space (the paragraph is collapsed).
            end = match.end() - 1
            word_start = max(paragraph.rfind(" ", start, end) + 1, start)
            last_word = paragraph[word_start:end].rstrip(".!?\"'”’)]").lower()
            if last_word in _ABBREVIATIONS or (len(last_word) == 1 and "a" <= last_word <= "z"):
                continue
            if last_word.isdigit() and _is_ordinal(paragraph, start, word_start, end):
                continue
            spans.append((paragraph, start, end))
            start = match.end()
        # A collapsed paragraph has no outer space, and the match ends before a letter or digit.
        if start < len(paragraph):
            spans.append((paragraph, start, len(paragraph)))
    return spans


def _is_ordinal(paragraph: str, start: int, word_start: int, end: int) -> bool:
    """Whether the number ending in a full stop at paragraph[word_start:end] is an ordinal
    (_ORDINAL_NUMBER), the sentence from `start`: a word that takes one stands before it,
    or a word that takes a date with a month after it."""
    if _ORDINAL_NUMBER.fullmatch(paragraph, word_start, end) is None:
        return False
    before = paragraph[max(paragraph.rfind(" ", start, word_start - 1) + 1, start) : word_start]
    before = before.rstrip(" ").lower()
    if before in _BEFORE_AN_ORDINAL:
        return True
    return before in _BEFORE_A_DATE and _GERMAN_MONTH.match(paragraph, end + 1) is not None


def anchored_matches(
    pattern: re.Pattern[str], anchor: re.Pattern[str], reach: int, text: str, pos: int, end: int
) -> Iterator[re.Match[str]]:
    """The matches of `pattern.finditer(text, pos, end)`, for a pattern whose every match
    has a character of `anchor` at most `reach` characters after its start. The slow scan
    (a lookahead or lookbehind at every character) starts `reach` before the next anchor,
    which a one-character pattern finds at a fraction of the cost per character. Neither
    pattern may match empty."""
    find_anchor, find = anchor.search, pattern.search
    while found := find_anchor(text, pos, end):
        at = found.start() - reach
        match = find(text, at if at > pos else pos, end)
        if match is None:
            return
        yield match
        pos = match.end()


def truncate(text: str, limit: int) -> str:
    """`text` whitespace-collapsed; when longer than `limit`, cut (`cut_at_word`) and
    ended with an ellipsis."""
    text = collapse(text)
    if len(text) <= limit:
        return text
    return cut_at_word(text, limit).rstrip(",;:-–—") + "…"


def cut_at_word(text: str, limit: int) -> str:
    """The start of `text` of at most `limit` characters, ended at its last space when one
    is in the second half of it. Else (Japanese, Chinese or Thai, written without spaces; a
    long URL) at `limit` itself: cut at the last space, "朝のニュース · 2026年12月7日: " lost
    its whole headline. Never inside a grapheme, what shows as one character (a letter and
    its marks, a Thai or Devanagari cluster, an emoji sequence, a flag), unless the first
    one is longer than `limit`."""
    if len(text) <= limit:
        return text
    space = text.rfind(" ", 0, limit + 1)
    if space >= limit // 2:
        return text[:space].rstrip()
    end = 0
    for grapheme in GRAPHEME.finditer(text):
        if grapheme.end() > limit:
            break
        end = grapheme.end()
    return (text[:end] if end else text[:limit]).rstrip()


# A grapheme (Unicode's extended grapheme cluster, UAX #29), as `regex` finds them.
GRAPHEME = regex.compile(r"\X")


# In a URL, what a browser percent-encodes before it sends or shows it: white space (the
# tab and line breaks are refused instead, below), every formatting character (Unicode's
# Cf: zero-width ones, the soft hyphen, bidi embeddings, overrides, isolates and marks, tag
# characters) and the other code points that show as nothing (default-ignorable fillers
# and variation selectors, the blank Braille cell): ".../\u202emoc.knab-ruoy.www//:sptth"
# reads as "https://www.your-bank.com", and a run of U+2800 pads a link until the words
# after it read as a line of their own. tests/test_text.py checks the class against the
# running Python's Unicode tables.
# Written as all of them but the zero-width space, which `matchable` reads two ways, and
# that space.
_SHOWS_AS_NOTHING_BUT_ZWSP = (
    "\u00ad\u034f\u0600-\u0605\u061c\u06dd\u070f\u0890-\u0891\u08e2\u115f-\u1160"
    "\u17b4-\u17b5\u180b-\u180f\u200c-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f"
    "\u2800\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff9-\ufffb\U000110bd\U000110cd"
    "\U00013430-\U0001343f\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0000-\U000e0fff"
)
_ENCODED_IN_A_URL = re.compile(
    "[\u0020\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u200b"
    + _SHOWS_AS_NOTHING_BUT_ZWSP
    + "]"
)
_INVISIBLE = re.compile(f"[{_SHOWS_AS_NOTHING_BUT_ZWSP}]")


def matchable(text: str) -> str:
    """`text` as a keyword filter reads it: in NFKC (a fullwidth "ｃａｓｉｎｏ" is "casino"),
    without the characters that show as nothing (a zero-width joiner inside a word), and
    with the Cyrillic and Greek letters that look Latin read as Latin in a word that mixes
    them with Latin letters ("саsino" with a Cyrillic "с" and "а"), so that no word written
    in another way than the filter's escapes it. A word all Cyrillic or Greek stays as it
    is: Russian "сор" is no "cop". A zero-width space ends a Thai or Khmer word, and may
    be slipped inside one ("คาสิ" U+200B "โน"): such a text is read both ways, the space
    dropped and the space a word break, the two joined by a NUL no phrase spans."""
    text = _INVISIBLE.sub("", text)
    if "\u200b" in text:
        text = text.replace("\u200b", "") + "\x00" + text.replace("\u200b", " ")
    text = unicodedata.normalize("NFKC", text)
    if _LOOKS_LATIN.search(text):
        text = _WORD_RUN.sub(_latin_letters, text)
    return text


# Cyrillic and Greek letters drawn like a Latin one in common fonts (most of them as
# Unicode's confusables.txt maps them), and the Latin letter each passes for.
_LOOK_ALIKES = "аеорсухѕіјԁһԛԝӏАВЕКМНОРСТУХІЈЅ" + "αονριυκΑΒΕΖΗΙΚΜΝΟΡΤΥΧ"  # Cyrillic, Greek
_AS_LATIN = str.maketrans(_LOOK_ALIKES, "aeopcyxsijdhqwlABEKMHOPCTYXIJS" + "aovpiukABEZHIKMNOPTYX")
_LOOKS_LATIN = re.compile(f"[{_LOOK_ALIKES}]")
_WORD_RUN = re.compile(r"\w+")
_LATIN_LETTER = re.compile("[A-Za-z]")


def _latin_letters(found: re.Match[str]) -> str:
    """The word with its look-alike letters as Latin ones, if it holds a Latin letter."""
    word = found.group()
    if _LATIN_LETTER.search(word) and _LOOKS_LATIN.search(word):
        return word.translate(_AS_LATIN)
    return word


# The longest URL taken, about what servers accept in a request line (Apache's 8,190,
# nginx's 8 KB buffer): a feed's 100 KB link was a 100 KB line in every message naming it.
MAX_URL = 8192


_NON_ASCII = re.compile(r"[^\x00-\x7f]+")


def ascii_url(url: str) -> str:
    """`url` as it goes on the wire: its host in IDNA 2008 ASCII (punycode, as httpx sends
    it), every other non-ASCII character percent-encoded as UTF-8 (RFC 3987, 3.1). So a
    reader sees "www.xn--bnk-6cd.com", not a Cyrillic "\u0430" passing for a bank's "a", and
    a header that allows only ASCII (List-Unsubscribe) can hold it. A host IDNA 2008 refuses
    (a slash look-alike U+2215 in it) raises UnicodeError.

    >>> ascii_url("https://M\u00fcnchen.example:8080/\u00e9t\u00e9?q=\u00fc#x")
    'https://xn--mnchen-3ya.example:8080/%C3%A9t%C3%A9?q=%C3%BC#x'
    """
    if url.isascii():
        return url
    start, authority, rest = split_authority(url)
    if not start:  # mailto:
        return _NON_ASCII.sub(_encoded, url)
    userinfo, at, hostport = authority.rpartition("@")
    if not hostport.isascii():  # then no IPv6 literal, whose colons would split wrong
        host, colon, port = hostport.partition(":")
        try:
            hostport = idna.encode(host.lower()).decode("ascii") + colon + port
        except idna.IDNAError as error:
            raise UnicodeError(f"the host {host!r} is not a valid domain name: {error}") from None
    authority = _NON_ASCII.sub(_encoded, userinfo + at) + hostport
    return start + authority + _NON_ASCII.sub(_encoded, rest)


def split_authority(url: str) -> tuple[str, str, str]:
    """(`scheme://`, the authority, the rest) of `url`, the authority where urlsplit reads
    the netloc: up to the first / ? or #. ("", "", url) for a URL without "//".

    >>> split_authority("http://ann:pw@news.example:80/a?b#c")
    ('http://', 'ann:pw@news.example:80', '/a?b#c')
    """
    scheme, slashes, rest = url.partition("//")
    if not slashes:
        return "", "", url
    end = min((at for at in (rest.find(c) for c in "/?#") if at >= 0), default=len(rest))
    return scheme + slashes, rest[:end], rest[end:]


def _encoded(found: re.Match[str]) -> str:
    return quote(found.group(), safe="")


def one_token(url: str) -> str | None:
    """`url` as one plain token, for every place that shows or fetches it: white space and
    invisible or bidi formatting characters percent-encoded, as a browser sends them (the
    server gets the same request); None when it holds a control character (C0, tab and
    line breaks included, or C1), a lone surrogate or a noncharacter, or is longer than
    MAX_URL.

    >>> one_token("https://a.example/x y\u202e"), one_token("https://a.example/\x9b2K")
    ('https://a.example/x%20y%E2%80%AE', None)
    """
    url = _ENCODED_IN_A_URL.sub(lambda found: quote(found.group()), url)
    return url if _NOT_IN_A_LINE.search(url) is None and len(url) <= MAX_URL else None
