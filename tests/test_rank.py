from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from digest.cluster._rank import filter_clusters, passes, rank_clusters, summarize
from digest.models import Article, Cluster

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
BODY = (
    "Heavy rain closed the A64 between York and Leeds on Monday morning.\n\n"
    "Police said two lorries had jackknifed near Tadcaster, and drivers were told to expect "
    "delays of up to three hours while recovery crews worked.\n\n"
    "The road reopened shortly after 2pm, according to National Highways."
)


def art(number: int, feed: str, hours_ago: float, text: str = BODY, source: str = "page"):
    return Article(
        id=number,
        feed=feed,
        url=f"https://{feed}.example/{number}",
        title=f"Story {number}",
        text=text,
        published=NOW - timedelta(hours=hours_ago),
        text_source=source,
    )


def test_items_are_ordered_by_outlets_then_recency_then_weight():
    wide = Cluster((art(1, "a", 9), art(2, "b", 8), art(3, "c", 7)))
    recent = Cluster((art(4, "a", 0.2),))
    older = Cluster((art(5, "b", 4.1),))
    heavy = Cluster((art(6, "heavy", 4.9),))  # same hour as `older`: weight decides
    items = rank_clusters([older, recent, heavy, wide], {"heavy": 2.0}, max_items=10)
    assert [item.article_ids for item in items] == [(1, 2, 3), (4,), (6,), (5,)]


def test_max_items_cuts_the_tail():
    clusters = [Cluster((art(n, "a", n),)) for n in range(5)]
    assert len(rank_clusters(clusters, {}, max_items=3)) == 3


def test_one_source_per_outlet_earliest_first_and_the_fullest_text_leads():
    short = art(1, "wire", 3, text="Road closed.", source="feed-summary")
    full = art(2, "paper", 2)
    repeat = art(3, "wire", 1)
    (item,) = rank_clusters([Cluster((short, full, repeat))], {}, max_items=5)
    assert [s.name for s in item.sources] == ["wire", "paper"]
    assert item.headline == "Story 2"
    assert item.url == "https://paper.example/2"


def test_summary_takes_two_or_three_real_sentences():
    text = "Road chaos\n\n" + BODY
    summary = summarize(text, "Road chaos")
    assert summary.startswith("Heavy rain closed the A64")
    assert "Road chaos" not in summary
    assert 2 <= summary.count(". ") + 1 <= 3


@pytest.mark.parametrize(
    ("text", "summary"),
    [
        ("LONDON (Reuters) - Heavy rain closed the A64 near Tadcaster on Monday.", "Heavy"),
        ("WASHINGTON \u2014 Heavy rain closed the A64 near Tadcaster on Monday.", "Heavy"),
        ("LEEDS\u2014Heavy rain closed the A64 near Tadcaster on Monday morning.", "Heavy"),
        ("ESA-Chef Josef Aschbacher sprach nach dem Start von einem Erfolg.", "ESA-Chef"),
        ("COVID-19 cases rose in Leeds for the third week in a row, officials said.", "COVID-19"),
        ("NATO-Generalsekret\u00e4r Mark Rutte reiste am Montag nach Kiew.", "NATO-"),
        ("CDU- und CSU-Abgeordnete stimmten am Donnerstag gegen den Entwurf.", "CDU- und"),
        ("NATO- and EU-led missions in the region will be reviewed next year.", "NATO- and"),
        ("LONDON (Reuters)-Heavy rain closed the A64 near Tadcaster on Monday.", "Heavy"),
    ],
)
def test_a_dateline_goes_but_a_hyphenated_capitalised_word_stays(text, summary):
    assert summarize(text).startswith(summary)


def test_first_reported_is_the_earliest_source_even_when_another_leads():
    early = art(1, "wire", 5, text="Road closed.", source="feed-summary")
    full = art(2, "paper", 2)
    (item,) = rank_clusters([Cluster((full, early))], {}, max_items=5)
    assert item.headline == "Story 2"
    assert item.first_reported is not None
    assert (item.first_reported.name, item.first_reported.published) == ("wire", early.published)


def test_an_outlet_that_gave_only_the_day_is_not_first_over_a_time_that_day():
    # Read as midnight UTC, the day alone would beat every time written that day.
    day_only = replace(art(1, "daily", 0), published=datetime(2026, 11, 23, tzinfo=UTC))
    timed = art(2, "wire", 2)  # 07:00 the same day
    (item,) = rank_clusters([Cluster((day_only, timed))], {}, max_items=5)
    assert item.first_reported is not None and item.first_reported.name == "wire"
    assert [source.name for source in item.sources] == ["wire", "daily"]
    # A day before the timed report is still first.
    yesterday = replace(day_only, published=datetime(2026, 11, 22, tzinfo=UTC))
    (item,) = rank_clusters([Cluster((yesterday, timed))], {}, max_items=5)
    assert item.first_reported is not None and item.first_reported.name == "daily"


def test_a_quoted_question_does_not_lead_a_summary():
    text = (
        "“Is this the end of the line for the tram?” The city voted on Monday to close the "
        "tram line in March, after ten years of losses."
    )
    assert summarize(text).startswith("The city voted")


def test_filters_match_whole_words_and_phrases_case_insensitively():
    a64 = Cluster((art(1, "a", 1),))
    other = Cluster((art(2, "b", 1, text="Markets rallied in Tokyo on Monday."),))
    assert filter_clusters([a64, other], ["national  highways"], []) == [a64]
    assert filter_clusters([a64, other], [], ["TADCASTER"]) == [other]
    assert filter_clusters([a64, other], ["highway"], []) == []  # whole words only
    assert filter_clusters([a64, other], ["tokyo", "york"], ["lorries"]) == [other]
    assert passes(["Price: $999 today"], ["$999"], [])
    # a phrase of nothing visible (the config refuses one) filters nothing out
    assert filter_clusters([a64, other], [], ["\u00ad", "\u200b"]) == [a64, other]


@pytest.mark.parametrize(
    "hidden",
    [
        "Ca\u00adsino",
        "Ca\u200bsino",
        "Ca\u200dsino",
        "Ca\u2060sino",
        "\uff23\uff41sino",
        "CA\ufe0fSINO",
        "\u0421\u0430sino",  # a Cyrillic "С" and "а"
        "Casin\u03bf",  # a Greek "ο"
    ],
)
def test_a_word_split_by_characters_that_show_as_nothing_is_still_filtered(hidden):
    """A soft hyphen, a zero-width character, fullwidth letters or Cyrillic and Greek
    look-alike letters read as "Casino": a feed must not slip a story past filters.exclude
    with them, nor past include."""
    cluster = Cluster((art(1, "a", 1, text=f"{hidden} chain opens a new resort in Macau."),))
    assert filter_clusters([cluster], [], ["casino"]) == []
    assert filter_clusters([cluster], ["casino chain"], []) == [cluster]


def test_a_word_all_in_cyrillic_is_not_read_as_latin_by_a_filter():
    """Only a word that mixes scripts is a disguise: Russian "сор" (litter) is no "cop"."""
    cluster = Cluster((art(1, "a", 1, text="Вывоз сор на свалку прекращён."),))
    assert filter_clusters([cluster], [], ["cop"]) == [cluster]


def test_a_story_left_out_by_a_filter_is_logged_with_the_source_that_mentions_it(digest_log):
    """One outlet's mention of an excluded phrase drops the whole story: the log names it."""
    plain = art(1, "wire", 1)
    mentions = art(2, "gossip", 1, text=BODY + "\n\nCasino operators reported fewer visitors.")
    assert filter_clusters([Cluster((plain, mentions))], [], ["casino"]) == []
    assert filter_clusters([Cluster((plain,))], ["tokyo"], []) == []
    # (a record reaches the handler twice while the logger propagates: once is the claim)
    said = list(dict.fromkeys(record.getMessage() for record in digest_log.records))
    assert said == [
        "left out 'Story 1': gossip (https://gossip.example/2) mentions 'Casino', in "
        "filters.exclude",
        "left out 'Story 1': it mentions none of filters.include",
    ]


LLAMA_STORY = (
    "Meta released Llama 5, its largest open-weight language model, on Tuesday in "
    "Menlo Park. The company said the model was trained on 40 trillion tokens."
)
AD = "Sponsored: 90% off cloud GPUs today at gpu-deals.example"


def llama_reports(count: int) -> list[Article]:
    """`count` outlets' reports of the Llama 5 release, each under its own headline."""
    headlines = (
        (1, "techwire", "Meta releases Llama 5 open-weight model"),
        (2, "circuit", "Llama 5: Meta's new open-weight model is out"),
        (3, "daily", "Meta unveils Llama 5, its largest model yet"),
    )
    return [
        replace(art(number, feed, 2, text=LLAMA_STORY), title=title)
        for number, feed, title in headlines[:count]
    ]


def test_a_padded_copy_under_a_headline_of_its_own_does_not_lead_the_story():
    """A hostile outlet copies a story, pads it to be the longest and titles it as an ad: it
    stays a source, but the item's headline, link (and the email's subject) stay the story's."""
    reports = llama_reports(3)
    text = LLAMA_STORY + "\n\n" + LLAMA_STORY + "\n\nThe model runs on GPUs."
    padded = replace(art(4, "gpudeals", 1, text=text), title=AD)
    (item,) = rank_clusters([Cluster((*reports, padded))], {}, max_items=5)
    assert item.headline == "Meta releases Llama 5 open-weight model"
    assert item.url == "https://techwire.example/1"
    assert {source.name for source in item.sources} == {"techwire", "circuit", "daily", "gpudeals"}


def test_twenty_padded_copies_from_one_feed_are_one_outlet_and_do_not_lead():
    """Copies count as one outlet: they neither vote for their own headline nor push the
    story's own reports out of the outlets asked."""
    reports = llama_reports(2)
    copies = [
        replace(
            art(10 + n, "gpudeals", 1, text=f"{LLAMA_STORY}\n\n{LLAMA_STORY}\n\n{AD} {n}."),
            title=AD,
        )
        for n in range(25)
    ]
    (item,) = rank_clusters([Cluster((*copies, *reports))], {}, max_items=5)
    assert item.headline == "Meta releases Llama 5 open-weight model"


def test_a_padded_copy_does_not_lead_a_story_told_in_japanese():
    """Japanese runs are no words: their character pairs are matched instead."""
    story = (
        "市議会は月曜日、新しい路面電車の路線が春に開業すると発表した。"
        "橋の工事は予定より長くかかっている。"
    )
    reports = [
        replace(art(number, feed, 2, text=story), title=title, language="ja")
        for number, feed, title in (
            (1, "asahi", "新しい路面電車、春に開業へ"),
            (2, "mainichi", "路面電車の新路線が春に開業"),
        )
    ]
    padded = replace(
        art(3, "ads", 1, text=story * 3, source="page"),
        title="【広告】クラウドGPUが今日だけ90%オフ",
        language="ja",
    )
    (item,) = rank_clusters([Cluster((padded, *reports))], {}, max_items=5)
    assert item.headline == "新しい路面電車、春に開業へ"


def test_a_short_sentence_after_the_lead_stays_in_the_summary():
    text = (
        "Ministers from both sides met in Geneva on Monday. Nothing was agreed. "
        "Talks resume next week."
    )
    assert summarize(text) == text


def test_a_summary_keeps_the_month_after_a_german_date_and_a_closing_bracket():
    text = (
        "Die neue Staffel der Sendung startet am 22. November. "
        "(Das hat der Sender bestätigt.) Gedreht wurde im Sommer in Hamburg."
    )
    assert summarize(text) == text


def test_a_title_only_item_has_no_summary_repeating_the_headline():
    bare = art(1, "wire", 1, text="Story 1", source="feed-summary")
    (item,) = rank_clusters([Cluster((bare,))], {}, max_items=5)
    assert item.headline == "Story 1" and item.summary == ""
