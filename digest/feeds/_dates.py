"""Dates as feeds write them, read where feedparser gives up.

feedparser reads RFC 822 and ISO 8601 in English; real feeds also write their dates in
their own language ("Seg, 24 Set 2018 19:35:07 -0300"), with a time without colons
("03 Apr 02 1500 GMT") or with a two-digit year. Such a date used to be taken as "now", so a
years-old item came in as today's news. `parse_date` reads them with dateparser, in the
feed's language first; `century_fixed` places a two-digit year in the right century.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from dateparser.data.languages_info import language_order
from dateparser.date import DateDataParser

# A feed date more than this far ahead of the fetch is a publisher's clock or timezone bug;
# such entries are dated at the fetch instead of floating to the top for days.
FUTURE_TOLERANCE = timedelta(hours=2)
# The longest date text worth reading: "Wednesday, 24 September 2018 19:35:07 +0300 (BRT)"
# is 50 characters; longer is prose, and dateparser's time grows with the length.
_MAX_TEXT = 100
# Only absolute dates: a bare number is not a Unix time in a feed, and "yesterday" in a
# feed meant the day before the publisher wrote it, which nobody knows.
_SETTINGS = {
    "RETURN_AS_TIMEZONE_AWARE": True,
    "TIMEZONE": "UTC",  # a date without an offset is read as UTC, as feedparser does
    "TO_TIMEZONE": "UTC",
    "REQUIRE_PARTS": ["day", "month", "year"],
    "PARSERS": ["absolute-time"],
}
_LANGUAGES = frozenset(language_order)
_DIGIT = re.compile(r"\d")
# "03 Apr 02 1500 GMT": RFC 822's day, month and year, then a time written without colons.
_COMPACT_TIME = re.compile(
    r"^((?:[^\W\d_]+\.?,?\s+)?\d{1,2}\s+[^\W\d_]{3,}\.?,?\s+(?:\d{2}|\d{4})\s+)"
    r"([01]\d|2[0-3])([0-5]\d)([0-5]\d)?(?!\d)"
)
# A year written with four digits: alone, or opening a compact date (20180924).
_FOUR_DIGITS = re.compile(r"(?<!\d)\d{4}(?=\d{4}(?!\d)|(?!\d))")
# A date written in numbers only: "06/12/2026", "6.12.26 08:30", "2026/12/06". feedparser
# misreads some ("06-12-2026" as 20 Dec 2006, "2026/12/06" as 1 Dec), and dateparser reads
# the day and the month in the language's order, month first in English, where British,
# Indian or Australian feeds write the day first. So these are read here
# (`DateReader.learn_order`, `DateReader._numeric`).
NUMERIC_DATE = re.compile(r"^(\d{1,4})([/.-])(\d{1,2})\2(\d{2}|\d{4})(?![\d/.-])")
# Detecting a date's language among all of dateparser's costs tens of milliseconds a text;
# once this many of a feed's dates were in no language, the rest of them are read in the
# languages already known only, so a feed of unreadable dates cannot cost minutes a run.
MAX_FAILED_DETECTIONS = 3


def parse_date(text: str, now: datetime, languages: Iterable[str] = ()) -> datetime | None:
    """`text` as an aware UTC datetime, or None when it is not an absolute date.

    `languages` are the feed's (BCP 47 tags such as "pt-BR"); they are tried first, then
    English, then every language dateparser knows (which costs a second, once per process,
    to load them all). A two-digit year is placed by `century_fixed`. A date in the future
    is returned as written: clamping it is the caller's policy.
    """
    return DateReader(now, languages).read(text)


class DateReader:
    """Reads the dates of one feed: once a date was read in a language the feed did not
    declare (detected among all), that language is tried first for its other dates, which
    spares each of them the detection (tens of milliseconds a date). After
    MAX_FAILED_DETECTIONS dates that no language reads, it stops detecting."""

    def __init__(self, now: datetime, languages: Iterable[str] = ()):
        self.now = now
        self.hints = _codes(languages)
        self.failed_detections = 0
        self.day_first: bool | None = None  # the feed's order of numeric dates, once known

    def learn_order(self, texts: Iterable[object]) -> None:
        """The order of day and month in the feed's numeric dates, from those that tell it
        ("13/11/2026" is day first): one feed writes all its dates one way."""
        votes = {True: 0, False: 0}
        for text in texts:
            match = NUMERIC_DATE.match(" ".join(text.split())) if isinstance(text, str) else None
            if match and len(match.group(1)) <= 2:
                first, second = int(match.group(1)), int(match.group(3))
                if first > 12 >= second:
                    votes[True] += 1
                elif second > 12 >= first:
                    votes[False] += 1
        if votes[True] != votes[False]:
            self.day_first = votes[True] > votes[False]

    def read(self, text: str, languages: Iterable[str] = ()) -> datetime | None:
        """See `parse_date`; `languages` are tried before the reader's own (an entry's)."""
        text = " ".join(text.split())
        if not text or len(text) > _MAX_TEXT or not _DIGIT.search(text):
            return None  # no day, no year: no date, and no need to ask dateparser
        text = _COMPACT_TIME.sub(_with_colons, text)
        moment = _iso(text)
        numeric = NUMERIC_DATE.match(text) if moment is None else None
        if numeric:
            return self._numeric(numeric, text)
        try:
            if moment is None:
                hints = tuple(dict.fromkeys([*_codes(languages), *self.hints, "en"]))
                moment = _parser(hints).get_date_data(text).date_obj
            if moment is None and self.failed_detections < MAX_FAILED_DETECTIONS:
                found = _parser(None).get_date_data(text)
                moment = found.date_obj
                if moment is None:
                    self.failed_detections += 1
                elif found.locale:
                    self.hints = list(dict.fromkeys([*_codes([found.locale]), *self.hints]))
        except Exception:  # dateparser's surprise on a hostile text costs the date only
            return None
        if moment is None:
            return None
        return century_fixed(moment.astimezone(UTC), text, self.now)

    def _numeric(self, match: re.Match[str], text: str) -> datetime | None:
        """A date in numbers: year first as ISO 8601 has it; else day and month in the feed's
        order (`learn_order`) when the numbers do not tell, and failing that the reading
        nearest the fetch that is not ahead of it (a feed's entries are recent news)."""
        head, _, middle, tail = match.groups()
        if len(head) == 4:
            readings = [(head, middle, tail)] if len(tail) == 2 else []
        elif len(head) <= 2:
            day_first, month_first = (tail, middle, head), (tail, head, middle)
            readings = [day_first, month_first]
            if self.day_first is not None and max(int(head), int(middle)) <= 12:
                readings = [day_first if self.day_first else month_first]
        else:
            readings = []
        rest = text[match.end() :]
        moments = []
        for year, month, day in readings:
            written = f"{year if len(year) == 4 else '20' + year}-{month:0>2}-{day:0>2}{rest}"
            try:
                moment = _parser(("en",)).get_date_data(written).date_obj
            except Exception:  # dateparser's surprise on a hostile text costs the date only
                moment = None
            if moment is not None:
                moments.append(century_fixed(moment.astimezone(UTC), text, self.now))
        past = [moment for moment in moments if moment <= self.now + FUTURE_TOLERANCE]
        if past:
            return max(past)
        return min(moments, default=None)


def century_fixed(moment: datetime, text: str, now: datetime) -> datetime:
    """`moment` read from `text`, in the century that makes it the latest date not in the
    future when `text` wrote its year with two digits: "02" is 2002, not 2102 (nor "now",
    which a date clamped from the future would become), "99" is 1999.

    The year was written with two digits when `text` holds no four-digit number equal to
    it, give or take one (the conversion to UTC may cross a new year)."""
    year = moment.year
    if {int(number) for number in _FOUR_DIGITS.findall(text)} & {year - 1, year, year + 1}:
        return moment
    best = None
    for shift in (-100, 0, 100):
        try:
            candidate = moment.replace(year=year + shift)
        except ValueError:  # 29 February in a year without one, or beyond 1..9999
            continue
        if candidate <= now + FUTURE_TOLERANCE and (best is None or candidate > best):
            best = candidate
    return best or moment


def not_in_future(moment: datetime, now: datetime) -> datetime:
    """A date far ahead of the fetch is a publisher's clock bug: date the entry now."""
    return now if moment - now > FUTURE_TOLERANCE else moment


def _with_colons(match: re.Match[str]) -> str:
    seconds = f":{match.group(4)}" if match.group(4) else ""
    return f"{match.group(1)}{match.group(2)}:{match.group(3)}{seconds}"


def _iso(text: str) -> datetime | None:
    """ISO 8601 / RFC 3339, the common case of what feedparser missed (JSON Feed)."""
    if not re.match(r"^\d{4}-\d{2}-\d{2}", text):
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:  # year 1 or 9999 with an offset
        return None


def _codes(languages: Iterable[str]) -> list[str]:
    """dateparser's codes for BCP 47 tags: "pt-BR" -> "pt"; unknown ones are left out."""
    codes = []
    for tag in languages:
        if not isinstance(tag, str):
            continue
        primary = tag.strip().replace("_", "-").split("-")[0].lower()
        if primary in _LANGUAGES:
            codes.append(primary)
    return codes


@lru_cache(maxsize=32)
def _parser(languages: tuple[str, ...] | None) -> DateDataParser:
    """One parser per set of languages (building one loads their data); None: detect."""
    if languages is None:
        return DateDataParser(settings=_SETTINGS)
    return DateDataParser(languages=list(languages), use_given_order=True, settings=_SETTINGS)
