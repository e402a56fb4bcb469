"""Render a Digest: Jinja2 -> MJML -> HTML (mjml-python), and a plain-text part.

Everything from a feed reaches the templates as plain text and is escaped by Jinja2's
autoescape; links pass `safe_url`, which lets only http(s) through, so a `javascript:` or
`data:` link in a feed becomes no link at all.

The digest speaks its `language`: the templates' fixed texts come from the gettext catalogs
in locale/ (Jinja2's i18n extension, compiled from the .po files when first used), dates,
times and numbers from Babel (CLDR) in the digest's locale and timezone.
"""

from __future__ import annotations

import functools
import io
import logging
import re
import textwrap
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import jinja2
import markupsafe
from babel import Locale, UnknownLocaleError
from babel.dates import (
    format_date,
    format_datetime,
    format_skeleton,
    format_time,
    get_datetime_format,
)
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import Translations
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment
from mjml import mjml2html

from ..config import DEFAULT_SUBJECT
from ..errors import RenderError
from ..files import slug
from ..models import (
    Digest,
    DigestItem,
    FollowUp,
    RenderedDigest,
    SourceArticle,
    day_only,
    latest_moment,
)
from ..text import CJK_LETTERS, GRAPHEME, one_line, printable, truncate

HTML_TEMPLATE = "digest.mjml.j2"
TEXT_TEMPLATE = "digest.txt.j2"
# The catalogs: locale/<language>/LC_MESSAGES/digest.po (docs/email.md, "Languages").
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "digest"
FALLBACK_LANGUAGE = "en"
# English digests keep the British forms they have always had: "23 Nov 2026", 24-hour times
# (Babel's plain "en" is American: "Nov 23, 2026", "9:00 AM").
LOCALE_OF_LANGUAGE = {"en": "en_GB"}

log = logging.getLogger(__name__)


def default_template_dir() -> Path:
    """templates/ inside the installed package, or at the repository root when run from source."""
    package = Path(__file__).resolve().parents[1]
    packaged = package / "templates"
    return packaged if packaged.is_dir() else package.parent / "templates"


def safe_url(url: str | None) -> str:
    if not url:
        return ""
    parts = urlsplit(url.strip())
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return ""
    return url.strip()


def wrap(text: str, width: int = 78, first: str = "", rest: str = "") -> str:
    """Fold plain text at `width` columns, keeping URLs whole. An isolate (`isolate_text`)
    folded across lines is closed at the end of each line and opened again on the next:
    each line is a paragraph of its own to a reader's client, where an isolate left open
    reaches nothing."""
    if _WIDE.search(text):
        lines = _wrap_wide(text, width, first, rest)
    else:
        lines = textwrap.wrap(
            text,
            width=width,
            initial_indent=first,
            subsequent_indent=rest,
            break_long_words=False,
            break_on_hyphens=False,
        )
    open_isolates = 0
    for number, line in enumerate(lines):
        if open_isolates:
            indent = len(line) - len(line.lstrip(" "))
            line = line[:indent] + _FIRST_STRONG_ISOLATE * open_isolates + line[indent:]
        open_isolates = max(line.count(_FIRST_STRONG_ISOLATE) - line.count(_POP_ISOLATE), 0)
        lines[number] = line + _POP_ISOLATE * open_isolates
    return "\n".join(lines)


# Japanese, Chinese and Korean letters take two columns on a terminal (Hangul, CJK
# ideographs and punctuation, kana, fullwidth forms); Japanese and Chinese put no space
# between words, so a line may break between any two of theirs (`_UNSPACED`: their
# letters, CJK punctuation and bopomofo, fullwidth forms, the supplementary ideographs).
# Korean spaces its words and breaks at its spaces.
_UNSPACED = CJK_LETTERS + (
    "\u2e80-\u303e\u3100-\u33ff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6\U00020000-\U0003fffd"
)
_WIDE = re.compile(f"[\u1100-\u115f\ua960-\ua97f\uac00-\ud7a3{_UNSPACED}]")
_BREAKS_BETWEEN = re.compile(f"[{_UNSPACED}]")
# What no line starts with (closing marks and punctuation, small kana, the prolonged sound
# mark) and what no line ends with (opening marks): JIS X 4051's basic rules (kinsoku), with
# the Western marks CJK text also uses.
_NO_LINE_START = frozenset(
    "、。，．・：；？！）」』】〕〉》］｝〟ゝゞ々ー”’…‥!?),.:;]}"  # closing marks
    "ぁぃぅぇぉっゃゅょゎァィゥェォッャュョヮヵヶ"  # small kana
)
_NO_LINE_END = frozenset("（「『【〔〈《［｛〝“‘([{")
# Where a line may break: at ASCII white space, as textwrap (a no-break space holds).
_BREAKING_SPACE = re.compile(r"[ \t\n\r\f\v]+")
_URL_IN_WORD = re.compile(r"https?://\S*", re.IGNORECASE)


_NO_WIDTH = frozenset({"Mn", "Me", "Cf"})


def _columns(text: str) -> int:
    """The columns `text` takes on a terminal: two for a wide letter, none for a mark or
    a format character alone (an isolate), one for the rest; a grapheme counts once."""
    return sum(
        2 if _WIDE.match(grapheme) else 0 if unicodedata.category(grapheme[0]) in _NO_WIDTH else 1
        for grapheme in GRAPHEME.findall(text)
    )


def _wrap_wide(text: str, width: int, first: str, rest: str) -> list[str]:
    """`wrap` for a text with wide letters: breaks at ASCII spaces and next to a Japanese
    or Chinese letter (but not before a closing mark or after an opening one, nor inside a
    grapheme or a URL), at `width` columns with wide letters counted as two."""
    pieces: list[tuple[str, bool]] = []  # (piece, a space before it)
    for word in _BREAKING_SPACE.split(text.strip()):
        if not word:
            continue
        inside_url = [(url.start(), url.end()) for url in _URL_IN_WORD.finditer(word)]
        graphemes = GRAPHEME.findall(word)
        piece, spaced, at = graphemes[0], True, len(graphemes[0])
        for before, after in pairwise(graphemes):
            if _may_break(before, after) and not any(a < at < b for a, b in inside_url):
                pieces.append((piece, spaced))
                piece, spaced = after, False
            else:
                piece += after
            at += len(after)
        pieces.append((piece, spaced))
    lines: list[str] = []
    line, used = first, _columns(first)
    empty = True  # nothing but the indent on the line yet
    for piece, spaced in pieces:
        wide = _columns(piece) + (1 if spaced and not empty else 0)
        if not empty and used + wide > width:
            lines.append(line)
            line, used, empty = rest, _columns(rest), True
            wide = _columns(piece)
        line += (" " if spaced and not empty else "") + piece
        used += wide
        empty = False
    if not empty:
        lines.append(line)
    return lines


def _may_break(before: str, after: str) -> bool:
    """Whether a line may break between the graphemes `before` and `after` of one word."""
    return bool(
        (_BREAKS_BETWEEN.match(before) or _BREAKS_BETWEEN.match(after))
        and after[0] not in _NO_LINE_START
        and before[-1] not in _NO_LINE_END
    )


# Gmail shows this much of a message's HTML and hides the rest behind "View entire
# message": the last stories, and the footer (the bundled template's unsubscribe link is
# at the top too, for this).
GMAIL_CLIPS_AFTER = 102 * 1024


def clipping_warning(rendered: RenderedDigest) -> str:
    """What a reader in Gmail loses of `rendered`, as a warning line for the operator, or
    "" when its HTML is within GMAIL_CLIPS_AFTER."""
    size = len(rendered.html.encode("utf-8"))
    if size <= GMAIL_CLIPS_AFTER:
        return ""
    return (
        f"the email's HTML is {size // 1024} KB: Gmail shows the first "
        f"{GMAIL_CLIPS_AFTER // 1024} KB and hides the rest: the last stories, the footer, "
        "and an unsubscribe link that is only there"
    )


def translated_languages() -> list[str]:
    """The languages with a catalog of the digest's texts."""
    return sorted(path.parent.parent.name for path in LOCALE_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))


@functools.cache
def catalog(language: str) -> Translations:
    """The digest's texts in `language`, compiled in memory from its .po file (so a clean
    checkout needs no build step); English, with a warning, for a language without one."""
    path = LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    if not re.fullmatch(r"[a-z]{2,3}", language) or not path.is_file():
        if language == FALLBACK_LANGUAGE:
            raise RenderError(f"{path}: the English catalog is missing; reinstall digest")
        log.warning(
            "language %r: no translation of the digest's texts (there are %s); they stay in "
            "English, dates and numbers follow %r",
            language,
            ", ".join(translated_languages()),
            language,
        )
        return catalog(FALLBACK_LANGUAGE)
    with path.open("rb") as source:
        messages = read_po(source, locale=language, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, messages)  # fuzzy entries stay out, as msgfmt leaves them
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


@functools.cache
def digest_locale(language: str) -> Locale:
    """The CLDR locale for the digest's dates and numbers; English for one CLDR lacks."""
    try:
        return Locale.parse(LOCALE_OF_LANGUAGE.get(language, language))
    except (UnknownLocaleError, ValueError):
        return Locale.parse(LOCALE_OF_LANGUAGE[FALLBACK_LANGUAGE])


def long_date(moment: datetime, language: str) -> str:
    """'Saturday 5 December 2026', 'samedi 5 décembre 2026': the catalog's CLDR pattern.
    A language without a catalog gets its locale's own full date ('2026年12月7日月曜日'):
    the English pattern in its words gave '月曜日 7 12月 2026'."""
    locale = digest_locale(language)
    # (A language CLDR lacks has the English locale: it keeps the English pattern.)
    if locale.language != FALLBACK_LANGUAGE and language not in translated_languages():
        return format_date(moment, "full", locale=locale)
    # TRANSLATORS: the digest's date as a CLDR pattern (EEEE weekday, d day, MMMM month,
    # y year; quote literal words: 'de'). Keep the day without a leading zero.
    pattern = catalog(language).pgettext("date format", "EEEE d MMMM y")
    return format_datetime(moment, pattern, locale=locale)


def short_date(moment: datetime, language: str) -> str:
    """'5 Dec 2026', '5 déc. 2026', '5. Dez. 2026' (the subject's {date})."""
    return format_skeleton("yMMMd", moment, locale=digest_locale(language))


def date_and_time(day: str, time: str, language: str, width: str = "short") -> str:
    """A date and a time joined as the locale joins them: '5 Dec, 12:00', '5 déc. 12:00'."""
    joint = str(get_datetime_format(width, locale=digest_locale(language)))
    return joint.replace("'", "").replace("{0}", time).replace("{1}", day)


def zone_name(local: datetime, language: str) -> str:
    """The timezone as readers of the language abbreviate it where CLDR has a short name
    ('MEZ' in German, 'CET' in English), else as tzdata does ('CET', 'JST'), never an
    offset like '+0100' or a long name."""
    short = format_datetime(local, "z", locale=digest_locale(language))
    return short if short.isalpha() and len(short) <= 5 else (local.tzname() or "UTC")


def moment_text(
    moment: datetime,
    zone: ZoneInfo,
    now: datetime,
    language: str,
    full: bool = False,
    exact: bool = False,
) -> str:
    """When a piece was published, in the digest's timezone: '08:14' today, '22 Nov, 17:00'
    on another day of this year, '31 Jan 2018, 21:00' in another year; with `full`, always
    the day with its year ('4 Dec 2026, 09:43'). A day given without its time (`day_only`)
    is that day alone ('7 Dec'): read in the reader's zone, midnight UTC would show a time
    nobody wrote, and a day early west of Greenwich. `exact`: a time the digest took itself,
    shown with its time whatever it is."""
    today = now.astimezone(zone)
    if day_only(moment) and not exact:
        day = moment.astimezone(UTC)
        skeleton = "MMMd" if day.year == today.year and not full else "yMMMd"
        return format_skeleton(skeleton, day, locale=digest_locale(language)).replace(" ", "\u00a0")
    local = moment.astimezone(zone)
    time = format_time(local, "short", locale=digest_locale(language))
    if local.date() == today.date() and not full:
        return time
    skeleton = "MMMd" if local.year == today.year and not full else "yMMMd"
    day = format_skeleton(skeleton, local, locale=digest_locale(language))
    # No-break spaces: on a phone "5 Dec," and "12:00" would otherwise wrap apart.
    return date_and_time(day, time, language).replace(" ", "\u00a0")


def _environment(
    folder: Path, autoescape: bool, language: str, translations: Translations
) -> jinja2.Environment:
    # Sandboxed: an operator's template folder (`templates:`) is data a digest renders,
    # not code it runs; unsandboxed, `cycler.__init__.__globals__.os` ran commands with the
    # digest's rights, its SMTP password in reach.
    environment = SandboxedEnvironment(
        loader=jinja2.FileSystemLoader(str(folder)),
        autoescape=autoescape,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        extensions=["jinja2.ext.i18n"],
    )
    # {% trans %} blocks collapse their whitespace, as `pybabel extract` (trimmed) reads them.
    environment.policies["ext.i18n.trimmed"] = True
    # newstyle: _() and ngettext() fill %(name)s themselves, escaping the values under
    # autoescape, so a feed's text in a translated sentence stays text.
    environment.install_gettext_translations(translations, newstyle=True)
    locale = digest_locale(language)
    environment.filters["wrap"] = wrap
    environment.filters["number"] = functools.partial(_number, locale=locale)
    environment.filters["isolate"] = isolate_html if autoescape else isolate_text
    return environment


# Letters written right to left: Hebrew, Arabic, Syriac, Thaana, NKo, Samaritan, Mandaic and
# their presentation forms.
_RIGHT_TO_LEFT = re.compile("[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufefc]")


def isolate_html(text: str) -> markupsafe.Markup:
    """`text`, escaped, set apart from its neighbours' direction when it holds right-to-left
    letters: an Arabic outlet's name followed by "6 Dec, 20:43" would otherwise take the
    "6" into its own run and show it on the wrong side. dir="auto" isolates (HTML's
    stylesheet), and costs nothing on the names that need none."""
    if _RIGHT_TO_LEFT.search(text):
        return markupsafe.Markup('<span dir="auto">%s</span>') % text
    return markupsafe.escape(text)


_FIRST_STRONG_ISOLATE, _POP_ISOLATE = "\u2068", "\u2069"


def isolate_text(text: str) -> str:
    """The text part's isolate_html: FIRST STRONG ISOLATE ... POP DIRECTIONAL ISOLATE, the
    characters printable() removes from feeds, added by us where they are needed."""
    if _RIGHT_TO_LEFT.search(text):
        return f"{_FIRST_STRONG_ISOLATE}{text}{_POP_ISOLATE}"
    return text


def _number(value: int, locale: Locale) -> str:
    return format_decimal(value, locale=locale)


@dataclass(frozen=True)
class Links:
    """Links around the digest: its archive page, the archive's index, unsubscribing."""

    archive_page: str = ""  # this digest on the web ("view in browser")
    archive_index: str = ""  # the list of past digests
    unsubscribe: str = ""  # https URL or mailto:; may hold {recipient}, filled per message


def template_context(
    digest: Digest,
    links: Links | None = None,
    web: bool = False,
    show_why: bool = False,
    named_in_subject: str = "",
) -> dict[str, Any]:
    """The variables a template receives (documented in docs/email.md, "Templates"). The
    preheader leaves out `named_in_subject`, the headline the subject already shows, unless
    it is the only one."""
    links = links or Links()
    zone = ZoneInfo(digest.timezone)
    local = digest.created.astimezone(zone)
    order = {name: index for index, name in enumerate(digest.sections)}
    # Each item with its rank in the digest (1 = top), which its anchor keeps.
    grouped: dict[str | None, list[tuple[int, DigestItem]]] = {}
    for rank, item in enumerate(digest.items, 1):
        grouped.setdefault(item.section, []).append((rank, item))
    # Unsectioned items lead; sections follow in config order, then any the config lacks.
    names = sorted(grouped, key=lambda n: (n is not None, order.get(n or "", len(order)), n or ""))
    sections: list[dict[str, Any]] = []
    number = 0
    for name, anchor in zip(names, _anchors(names), strict=True):
        stories = []
        for rank, item in grouped[name]:
            number += 1
            stories.append(_item_context(item, number, rank, zone, digest, show_why))
        sections.append(
            {
                "name": name,
                "anchor": anchor,
                "count": len(stories),
                "stories": stories,
            }
        )
    named = [section for section in sections if section["name"]]
    all_sources = [
        *(s for item in digest.items for s in item.sources),
        *(s for follow_up in digest.follow_ups for s in follow_up.sources),
    ]
    follow_ups = [_follow_up_context(f, zone, digest) for f in digest.follow_ups if f.sources]
    # The items' headlines, then (a digest of follow-ups only) the new reports' titles.
    headlines = [item.headline for item in digest.items] or [
        report["title"] for f in follow_ups for report in f["reports"]
    ]
    shown = [printable(headline) for headline in headlines]
    others = [headline for headline in shown if headline != printable(named_in_subject)]
    headlines = (others or shown)[:3]  # every copy left out (outlets share wire titles)
    return {
        "digest": {
            "title": digest.title,
            "date": long_date(local, digest.language),
            "timezone": zone_name(local, digest.language),
            "language": digest.language,
            "item_count": len(digest.items),
            "follow_up_count": sum(len(f["reports"]) for f in follow_ups),
            "source_count": sum(max(len(source.articles), 1) for source in all_sources),
            # The feeds this digest has reports from, not the config's: a failing feed gave
            # nothing, and "from 5 feeds" over 3 feeds' stories misleads.
            "feed_count": len({source.name for source in all_sources}),
            "story_feed_count": len({s.name for item in digest.items for s in item.sources}),
        },
        "sections": sections,
        "follow_ups": follow_ups,
        # A table of contents only helps when there is more than one section to jump to.
        "toc": named if len(named) > 1 else [],
        "preheader": " · ".join(headlines),
        "web": web,
        "links": {
            "archive_page": _operator_link(links.archive_page),
            "archive_index": _operator_link(links.archive_index),
            # The archive page is public: it never carries a reader's unsubscribe link.
            "unsubscribe": "" if web else _operator_link(links.unsubscribe),
        },
    }


def _anchors(names: Sequence[str | None]) -> list[str]:
    """Each section's id in the email, for its table of contents: "section-" and the name in
    ASCII letters ("Économie": section-economie), numbered when it has none (Россия) or
    when another section took it, so that no two links jump to one section."""
    taken: set[str] = set()
    anchors = []
    for number, name in enumerate(names, 1):
        letters = unicodedata.normalize("NFKD", name or "").encode("ascii", "ignore").decode()
        anchor = f"section-{slug(letters, limit=60, empty=str(number))}"
        while anchor in taken:
            anchor = f"{anchor}-{number}"
        taken.add(anchor)
        anchors.append(anchor)
    return anchors


def _operator_link(link: str) -> str:
    """Links from the config (not from feeds): http(s), mailto: or a relative path."""
    parts = urlsplit(link)
    if parts.scheme.lower() == "mailto" or (not parts.scheme and not parts.netloc):
        return link
    return safe_url(link)


def _item_context(
    item: DigestItem,
    number: int,
    rank: int,
    zone: ZoneInfo,
    digest: Digest,
    show_why: bool = False,
) -> dict[str, Any]:
    language = digest.language

    def when(moment: datetime) -> str:
        return moment_text(moment, zone, digest.created, language)

    first = item.first_reported or item.sources[0]
    count = len(item.sources)
    return {
        "number": number,
        # The item's place in the digest's ranking: archive index links point at it.
        "anchor": f"story-{rank}",
        "indent": " " * (len(str(number)) + 2),
        # printable(): one control character from a feed would stop MJML and the digest.
        "headline": printable(item.headline),
        "url": safe_url(item.url),
        "summary": printable(item.summary),
        "section": item.section,
        # Tagged only when it differs from the digest's own language: a French digest marks
        # its English items EN, an English one its French items FR.
        **_language_tag(item.language, language),
        # The templates write the coverage line (only for two or more sources): "6 sources ·
        # first reported by Global Brief, 5 Dec, 12:00".
        "source_count": count,
        "first_source": printable(first.name),
        "first_time": when(first.published),
        # show_why: the terms that grouped the sources, for operators checking the clusterer.
        "why": ", ".join(printable(term) for term in item.why) if show_why and count > 1 else "",
        "sources": [
            {
                "name": printable(source.name),
                "url": safe_url(source.url),
                "title": printable(source.title),
                "time": when(source.published),
                # Every piece the outlet has in the item: a follow-up, a translation, or a
                # story merged by mistake is listed under its outlet, never hidden.
                "count": max(len(source.articles), 1),
                "more": [
                    {
                        "url": safe_url(piece.url),
                        "title": printable(piece.title),
                        "time": when(piece.published),
                    }
                    for piece in source.articles[1:]
                ],
            }
            for source in item.sources
        ],
    }


def _follow_up_context(follow_up: FollowUp, zone: ZoneInfo, digest: Digest) -> dict[str, Any]:
    """A story sent before, and its new reports: each with its headline, as what is new is
    in the headlines."""

    def when(moment: datetime) -> str:
        return moment_text(moment, zone, digest.created, digest.language)

    story = follow_up.story
    reports = sorted(
        (
            (latest_moment(piece.published), source.name, piece)
            for source in follow_up.sources
            for piece in source.articles
            or (SourceArticle(source.url, source.title, source.published),)
        ),
        key=lambda report: (report[0], report[1], report[2].url),
    )
    return {
        "headline": printable(story.headline),
        "url": safe_url(story.url),
        # Always with its date: "sent 4 Dec 2026, 09:43" reads in every language.
        # Our own clock's time: exact even at midnight UTC, never a day without its time.
        "sent": moment_text(
            story.sent, zone, digest.created, digest.language, full=True, exact=True
        ),
        **_language_tag(story.language, digest.language),
        "reports": [
            {
                "title": printable(piece.title),
                "url": safe_url(piece.url),
                "source": printable(name),
                "time": when(published),
                **_language_tag(piece.language, digest.language),
            }
            for published, name, piece in reports
        ],
    }


def _language_tag(language: str | None, digest_language: str) -> dict[str, str]:
    """The tag of a text in another language than the digest's: "FR" in an English digest;
    and its direction, "rtl" for a language written right to left, else "auto" (from its
    first strong letter, which for "iPhone 17 يصل ..." is the brand's Latin "i")."""
    foreign = language if language and language != digest_language else ""
    return {
        "direction": "rtl" if language and _right_to_left(language) else "auto",
        "language_tag": foreign.upper(),
        "language_code": foreign,
        "language_name": digest_locale(digest_language).languages.get(foreign, "")
        if foreign
        else "",
    }


@functools.cache
def _right_to_left(language: str) -> bool:
    """Whether CLDR writes `language` right to left (ar, he, fa, ur, ...)."""
    try:
        return Locale.parse(language.replace("-", "_")).character_order == "right-to-left"
    except (UnknownLocaleError, ValueError):
        return False


def subject_line(digest: Digest, pattern: str = DEFAULT_SUBJECT) -> str:
    """The subject from the config's pattern; {headline} is the top item's headline
    (`_top_headline`)."""
    if pattern == DEFAULT_SUBJECT and digest.language == "fr":
        # French sets a space before a colon ("lundi 7 déc. : ..."); without it the
        # default reads as a typo. (A no-break space would become a plain one in the
        # header anyway: every header is made one line of plain spaces.)
        pattern = DEFAULT_SUBJECT.replace("}: {", "} : {")
    zone = ZoneInfo(digest.timezone)
    fields = {
        "title": digest.title,
        "date": short_date(digest.created.astimezone(zone), digest.language),
        "headline": _top_headline(digest),
        "count": format_decimal(len(digest.items), locale=digest_locale(digest.language)),
    }
    # One line without controls or bidi overrides, as build_message makes every header: the
    # length is then measured on what the reader sees.
    subject = one_line(pattern.format(**fields)).rstrip(" :·")
    return subject if len(subject) <= 140 else truncate(subject, 139)


def _top_headline(digest: Digest) -> str:
    """The top item's headline; in a digest of follow-ups alone, the newest story's first
    new report, which says what is new."""
    if digest.items:
        return digest.items[0].headline
    for follow_up in digest.follow_ups:
        pieces = [piece for source in follow_up.sources for piece in source.articles]
        if pieces:
            return min(pieces, key=lambda piece: (piece.published, piece.url)).title
    return ""


def render_digest(
    digest: Digest,
    template_dir: Path | None = None,
    *,
    subject: str = DEFAULT_SUBJECT,
    links: Links | None = None,
    web: bool = False,
    show_why: bool = False,
) -> RenderedDigest:
    """The email (or, with `web`, the archive page: no unsubscribe link, no hidden preheader)."""
    folder = template_dir or default_template_dir()
    translations = catalog(digest.language)
    # The inbox shows the subject, then the preheader: when the subject names the top
    # headline, the preheader goes on from there rather than say it twice.
    named = _top_headline(digest) if "{headline}" in subject else ""
    context = template_context(digest, links, web, show_why, named_in_subject=named)
    try:
        escaping = _environment(folder, True, digest.language, translations)
        mjml_source = escaping.get_template(HTML_TEMPLATE).render(context)
        plain = _environment(folder, False, digest.language, translations)
        text = plain.get_template(TEXT_TEMPLATE).render(context)
    except jinja2.TemplateNotFound as error:
        raise RenderError(f"{folder}: template {error.name} not found") from None
    except jinja2.TemplateSyntaxError as error:
        raise RenderError(f"{error.filename or folder}:{error.lineno}: {error.message}") from None
    except SecurityError as error:
        raise RenderError(
            f"{folder}: a template reached outside the digest's data ({error}); templates "
            "render the digest's fields and filters only (docs/email.md)"
        ) from None
    except Exception as error:  # an operator's template can fail in any way; name it
        raise RenderError(f"{folder}: template failed: {type(error).__name__}: {error}") from None
    try:
        # fonts={}: no web-font <link>; the email must not call out to a font host.
        html = mjml2html(mjml_source, disable_comments=True, fonts={})
    except Exception as error:  # mrml raises its own error types from Rust
        raise RenderError(f"{HTML_TEMPLATE}: MJML could not be rendered: {error}") from None
    return RenderedDigest(subject=subject_line(digest, subject), html=html, text=text)
