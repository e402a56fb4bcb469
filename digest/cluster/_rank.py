"""Order clusters into digest items and pick each item's headline, summary and sources."""

from __future__ import annotations

import functools
import itertools
import logging
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import datetime

from ..models import Article, Cluster, DigestItem, Source, SourceArticle, latest_moment
from ..text import UNSPACED_SCRIPTS, matchable, split_sentences, truncate
from ._terms.words import words_in

log = logging.getLogger("digest")

SUMMARY_SENTENCES = (2, 3)
SUMMARY_MAX_CHARS = 420
# Sentences shorter than this are usually datelines, captions or "Here's why." teasers.
MIN_SENTENCE_CHARS = 40
MIN_FOLLOWING_CHARS = 12  # after the lead: "Nothing was agreed." stays, "Read more." goes
# "LONDON (Reuters) - ", "LONDON (Reuters)-", "WASHINGTON — ", "LEEDS—": a hyphen ends a
# dateline only with a space after it or a closing parenthesis before it, since "ESA-Chef",
# "COVID-19" and "NATO-Generalsekretär" start sentences too; and the sentence after it
# starts as sentences do, not in lower case as "CDU- und CSU-Abgeordnete" goes on.
_DATELINE = re.compile(r"^[A-Z][A-Z .,'-]{2,40}(\([^)]*\))?\s*(?:[—–:]\s*|-+\s+|(?<=\))-+)")


def rank_clusters(
    clusters: Sequence[Cluster],
    feed_weights: Mapping[str, float],
    max_items: int,
    *,
    feed_sections: Mapping[str, str | None] | None = None,
    feed_caps: Mapping[str, int] | None = None,
    fair_share: int | None = None,
) -> list[DigestItem]:
    """Items ordered by how many outlets covered them, then recency, then feed weight.

    Recency compares the latest source to the hour, so that within the same hour the
    operator's feed weights decide. `feed_weights`, `feed_sections` and `feed_caps` are the
    config's, by feed name.

    One feed cannot take every slot. An item counts for the feed of its lead article (the
    headline the reader sees). A feed with a cap (`feed_caps`, feeds[].max_items) leads at
    most that many items, even if slots stay empty. Any other feed's items beyond
    `fair_share` (max_per_feed) go after every other feed's items: they take only the slots
    left free, so a quiet day or a one-feed digest still fills `max_items`. An item that
    several outlets covered is never held back by a cap, though it counts toward one. The
    items left out are the runner's to hold back for the next digest.
    """

    def key(cluster: Cluster) -> tuple[int, datetime, float]:
        outlets = {a.feed for a in cluster.articles}
        latest = max(a.published for a in cluster.articles).replace(
            minute=0, second=0, microsecond=0
        )
        weight = max(feed_weights.get(a.feed, 1.0) for a in cluster.articles)
        return (len(outlets), latest, weight)

    ordered = sorted(clusters, key=key, reverse=True)
    sections = feed_sections or {}
    caps = feed_caps or {}
    chosen: list[int] = []  # positions in `ordered`
    beyond_share: list[int] = []
    led: Counter[str] = Counter()
    leads: dict[int, Article] = {}  # by position: each is looked for once (`best_article`)
    for position, cluster in enumerate(ordered):
        if len(chosen) == max_items:
            break
        leads[position] = best_article(cluster.articles, feed_weights)
        feed = leads[position].feed
        alone = len({a.feed for a in cluster.articles}) == 1
        cap = caps.get(feed)
        if alone and cap is not None and led[feed] >= cap:
            continue
        if alone and cap is None and fair_share is not None and led[feed] >= fair_share:
            beyond_share.append(position)
            continue
        led[feed] += 1
        chosen.append(position)
    # Shown after the others too: a feed's items past its share opened the digest (and gave
    # its subject) whenever they were the newest.
    shown = chosen + beyond_share[: max_items - len(chosen)]
    return [make_item(ordered[position], leads[position], sections) for position in shown]


def phrase_pattern(phrases: Sequence[str]) -> re.Pattern[str] | None:
    """One pattern for keywords or phrases: case-insensitive, whole words (where words are
    spaced), any spacing. It is to search text made `matchable`."""
    return _phrase_pattern(tuple(phrases))


# Filters are checked per article of every feed that has them: build each pattern once.
@functools.lru_cache(maxsize=64)
def _phrase_pattern(phrases: tuple[str, ...]) -> re.Pattern[str] | None:
    # A phrase of nothing visible is no phrase (the config refuses one): as an empty
    # pattern it would match between any two words.
    words = [matchable(phrase).split() for phrase in phrases]
    if not any(words):
        return None
    alternatives = []
    for each in words:
        if not each:
            continue
        # Whole words where words are spaced: a phrase that starts or ends in a script
        # written without spaces (カジノ in オンラインカジノ) is found inside a run of it.
        opening = "" if _UNSPACED_CHAR.match(each[0][0]) else r"(?<!\w)"
        closing = "" if _UNSPACED_CHAR.match(each[-1][-1]) else r"(?!\w)"
        alternatives.append(opening + "\\s+".join(map(re.escape, each)) + closing)
    return re.compile("|".join(alternatives), re.IGNORECASE)


def passes(texts: Sequence[str], include: Sequence[str], exclude: Sequence[str]) -> bool:
    """True when `texts` mention one `include` phrase (if any are given) and no `exclude` one."""
    return filtered_out(texts, include, exclude) is None


def filtered_out(
    texts: Sequence[str], include: Sequence[str], exclude: Sequence[str]
) -> tuple[int | None, str] | None:
    """None when `texts` pass the filters; else why not: (None, "") when none mentions an
    `include` phrase, (k, phrase) when texts[k] mentions the `exclude` phrase."""
    wanted, unwanted = phrase_pattern(include), phrase_pattern(exclude)
    if wanted is None and unwanted is None:
        return None
    readable = [matchable(text) for text in texts]
    if wanted is not None and not any(wanted.search(text) for text in readable):
        return None, ""
    if unwanted is not None:
        for number, text in enumerate(readable):
            if found := unwanted.search(text):
                return number, found.group()
    return None


def filter_clusters(
    clusters: Sequence[Cluster], include: Sequence[str], exclude: Sequence[str]
) -> list[Cluster]:
    """The clusters whose articles (title and text, any of them) pass the digest's filters.
    Each one left out is logged, naming the source that mentions an excluded phrase: one
    outlet's mention drops the whole story, and the operator should see which."""
    if not include and not exclude:
        return list(clusters)
    kept = []
    for cluster in clusters:
        articles = cluster.articles
        verdict = filtered_out([f"{a.title}\n{a.text}" for a in articles], include, exclude)
        if verdict is None:
            kept.append(cluster)
            continue
        number, phrase = verdict
        reason = (
            "it mentions none of filters.include"
            if number is None
            else f"{articles[number].feed} ({articles[number].url}) mentions {phrase!r}, "
            "in filters.exclude"
        )
        log.info("left out %r: %s", articles[0].title, reason)
    return kept


def make_item(
    cluster: Cluster, lead: Article, feed_sections: Mapping[str, str | None]
) -> DigestItem:
    """The item of `cluster`, led by `lead` (its `best_article`)."""
    summary = summarize(lead.text, lead.title) or truncate(lead.text, SUMMARY_MAX_CHARS)
    if _same_words(summary, lead.title):
        summary = ""  # a feed with titles only: the headline said it already
    return DigestItem(
        headline=lead.title,
        url=lead.url,
        summary=summary,
        language=lead.language,
        section=section_of(cluster.articles, lead, feed_sections),
        sources=sources_of(cluster.articles, lead),
        article_ids=tuple(a.id for a in cluster.articles),
        why=cluster.why,
        first_reported=first_reported(cluster.articles),
    )


def first_reported(articles: Sequence[Article]) -> Source:
    """The outlet that had the story first (ties: the outlet named first alphabetically).
    An outlet that gave only the day counts from the end of it: the outlet that wrote 09:00
    that day is not known to be second."""
    first = min(articles, key=lambda a: (latest_moment(a.published), a.feed))
    return Source(name=first.feed, url=first.url, title=first.title, published=first.published)


def section_of(
    articles: Sequence[Article], lead: Article, feed_sections: Mapping[str, str | None]
) -> str | None:
    """The section most of the item's outlets file it under; the lead's breaks a tie."""
    votes = Counter(section for feed in {a.feed for a in articles}
                    if (section := feed_sections.get(feed)))  # fmt: skip
    if not votes:
        return None
    best = max(votes.values())
    lead_section = feed_sections.get(lead.feed)
    return lead_section if votes.get(lead_section) == best else votes.most_common(1)[0][0]


# The lead is looked for among the most complete article of each outlet, each asked of
# BEARING_OUTLETS other outlets (PIECES_ASKED articles of each at most): a story a thousand
# outlets tell would otherwise cost a million headline checks, and one feed's twenty copies
# count as one outlet, never as twenty. The other outlets' terms are taken once.
BEARING_OUTLETS = 50
PIECES_ASKED = 3


def best_article(articles: Sequence[Article], feed_weights: Mapping[str, float]) -> Article:
    """The item's lead: the most complete source (full page text beats feed text, then
    length, then weight) whose headline the other outlets bear out (`_borne_out`); the most
    complete when no outlet's is."""

    def completeness(article: Article) -> tuple[bool, int, float]:
        return (
            article.text_source == "page",
            min(len(article.text), 4000),
            feed_weights.get(article.feed, 1.0),
        )

    # sorted() keeps equals in the input's order: the first is what max() would give.
    ranked = sorted(articles, key=completeness, reverse=True)
    pieces: dict[str, list[int]] = {}  # outlet -> its articles' positions, in the item's order
    for position, article in enumerate(articles):
        pieces.setdefault(article.feed, []).append(position)
    candidates: dict[str, Article] = {}  # each outlet's most complete, the most complete first
    for article in ranked:
        candidates.setdefault(article.feed, article)
    held: dict[int, frozenset[str]] = {}
    for article in candidates.values():
        if _borne_out(article, articles, pieces, held):
            return article
    return ranked[0]


def _borne_out(
    article: Article,
    articles: Sequence[Article],
    pieces: Mapping[str, list[int]],
    held: dict[int, frozenset[str]],
) -> bool:
    """Whether at least half of the other outlets (the first BEARING_OUTLETS) have an
    article that holds at least half of `article`'s headline terms (`_terms`). The lead
    gives the email its subject and the item its link: a copy padded to be the longest,
    under a headline of its own ("Sponsored: 90% off cloud GPUs today"), must not lead.
    `pieces` are each outlet's articles (positions in `articles`), `held` caches each
    article's terms."""
    asked = itertools.islice(pieces, BEARING_OUTLETS + 1)  # one may be the article's own
    others = [outlet for outlet in asked if outlet != article.feed][:BEARING_OUTLETS]
    if not others:
        return True
    headline = _terms(article.title)
    if not headline:
        return False
    needed = max(1, len(headline) / 2)
    bearing = 0
    for outlet in others:
        for position in pieces[outlet][:PIECES_ASKED]:
            if position not in held:
                piece = articles[position]
                held[position] = _terms(f"{piece.title}\n{piece.text}")
            if len(headline & held[position]) >= needed:
                bearing += 1
                break
    return bearing * 2 >= len(others)


# Runs of scripts written without spaces are no words to match: their character pairs
# stand for them.
_UNSPACED_RUN = re.compile(f"[{UNSPACED_SCRIPTS}]+")
_UNSPACED_CHAR = re.compile(f"[{UNSPACED_SCRIPTS}]")


def _terms(text: str) -> frozenset[str]:
    """A text's words (of three letters or more, no stop words), and the character pairs of
    its runs of unspaced scripts ("路面電車": 路面, 面電, 電車)."""
    words = {word for word in words_in(text) if not _UNSPACED_CHAR.search(word)}
    for run in _UNSPACED_RUN.findall(text):
        words.update(run[i : i + 2] for i in range(max(1, len(run) - 1)))
    return frozenset(words)


def sources_of(articles: Sequence[Article], lead: Article | None = None) -> tuple[Source, ...]:
    """One source per outlet, earliest first (a day without its time as the day's end, as
    in `first_reported`). Each shows its earliest article, or the lead
    for the lead's outlet (so the headline's link is always among the sources), and lists
    every article the outlet has in the item, that one first: each article is in exactly
    one source."""
    by_outlet: dict[str, list[Article]] = {}
    for article in sorted(articles, key=lambda a: (latest_moment(a.published), a.id)):
        by_outlet.setdefault(article.feed, []).append(article)
    sources = []
    for outlet, pieces in by_outlet.items():
        shown = lead if lead is not None and lead.feed == outlet else pieces[0]
        ordered = [shown, *(piece for piece in pieces if piece is not shown)]
        sources.append(
            Source(
                name=outlet,
                url=shown.url,
                title=shown.title,
                published=shown.published,
                articles=tuple(
                    SourceArticle(a.url, a.title, a.published, a.language) for a in ordered
                ),
            )
        )
    return tuple(sorted(sources, key=lambda source: latest_moment(source.published)))


def _is_prose(paragraph: str, title: str) -> bool:
    """Headings, the repeated headline, bullets and captions make poor summaries."""
    paragraph = paragraph.strip()
    if len(paragraph) < MIN_SENTENCE_CHARS or paragraph.startswith("•"):
        return False
    if paragraph.casefold() == title.strip().casefold():
        return False
    return paragraph[-1] in '.!?"”’)»'


def _same_words(left: str, right: str) -> bool:
    return left.strip().rstrip(".").casefold() == right.strip().rstrip(".").casefold()


def _without_dateline(sentence: str) -> str:
    dateline = _DATELINE.match(sentence)
    if dateline is None or sentence[dateline.end() : dateline.end() + 1].islower():
        return sentence.strip()
    return sentence[dateline.end() :].strip()


def summarize(text: str, title: str = "") -> str:
    """Two or three informative sentences from the start of the article text."""
    low, high = SUMMARY_SENTENCES
    chosen: list[str] = []
    length = 0
    # A standfirst (the subtitle under a headline) is kept: by length alone it cannot be told
    # from a short one-sentence lead, and dropping a lead loses the story's main fact.
    prose = "\n".join(p for p in text.split("\n\n") if _is_prose(p, title))
    for sentence in split_sentences(prose):
        sentence = _without_dateline(sentence)
        # (A sentence keeps its closing quote or bracket: "“Is this the end?”")
        ending = sentence.rstrip("\"'”’»)]")
        if ending.endswith("?") or ending[-1:] == ":":
            continue
        # Short lines before the lead are bylines and fragments; after it, a short sentence
        # is part of the story ("Nothing was agreed.") and dropping it would change its sense.
        if len(sentence) < (MIN_SENTENCE_CHARS if not chosen else MIN_FOLLOWING_CHARS):
            continue
        if chosen and length + len(sentence) > SUMMARY_MAX_CHARS and len(chosen) >= low:
            break
        chosen.append(sentence)
        length += len(sentence) + 1
        if len(chosen) >= high or length >= SUMMARY_MAX_CHARS:
            break
    return truncate(" ".join(chosen), SUMMARY_MAX_CHARS + 80)
