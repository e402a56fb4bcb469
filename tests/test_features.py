"""An article's terms: headline over lead over body, names and figures over words."""

from __future__ import annotations

from collections import Counter

from digest.cluster._terms.features import (
    FIGURE_WEIGHT,
    LEAD_WEIGHT,
    NAME_WEIGHT,
    TITLE_WEIGHT,
    article_terms,
)
from digest.cluster._terms.figures import word_ordinals

LEAD = "Norvik Foods said on Tuesday it will shut its plant in Tarrow, cutting 250 jobs. "
BODY = "Later the union said Norvik Foods had told staff in person."


def test_a_term_weighs_by_where_it_is_and_what_it_is():
    padding = "Managers spoke about the long history of the site. " * 12  # past the lead
    terms = article_terms("Norvik Foods to shut Tarrow plant", LEAD + padding + BODY)
    everywhere = TITLE_WEIGHT + LEAD_WEIGHT + 1.0
    assert terms.counts["w:norvik"] == everywhere
    assert terms.counts["n:norvik foods"] == everywhere * NAME_WEIGHT
    assert terms.counts["w:union"] == 1.0  # body only
    assert terms.counts["x:250"] == LEAD_WEIGHT * FIGURE_WEIGHT
    assert terms.labels["n:norvik foods"] == "Norvik Foods"
    assert terms.specific >= {"n:norvik foods", "n:tarrow", "x:250"}
    assert not terms.brief


def test_a_headline_name_counts_as_the_subject_only_when_the_text_repeats_it():
    terms = article_terms("Norvik Foods and Halden Steel in talks", LEAD + BODY)
    assert "n:norvik foods" in terms.title_names
    assert "n:halden steel" not in terms.title_names  # Headline Case, not in the text


def test_a_one_sentence_text_is_a_brief():
    assert article_terms("Quake hits Kushiro", "A magnitude 6.1 quake hit Kushiro.").brief
    assert not article_terms("Quake hits Kushiro", LEAD + BODY).brief


def test_spelled_ordinals_are_found_alone_and_inside_hyphenated_words():
    def ordinals(*words: str) -> list[tuple[str, str, int]]:
        return word_ordinals(Counter(words))

    assert ordinals("tenth", "storm", "tenth") == [("x:10th", "tenth", 2)]
    assert ordinals("well-known", "storm") == []
    assert ordinals("storm") == []
    assert ordinals("fourth-quarter", "twelfth") == [
        ("x:4th", "fourth", 1), ("x:12th", "twelfth", 1),
    ]  # fmt: skip
    assert ordinals("fifth", "well-known") == [("x:5th", "fifth", 1)]
