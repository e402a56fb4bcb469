"""Names: sentence openers, capitals inside words, and one scan that agrees with the other."""

from __future__ import annotations

import random

from digest.cluster._terms.features import article_terms
from digest.cluster._terms.names import (
    _names_by_sentence,
    german_nouns,
    german_nouns_lowered,
    listed_german_nouns,
    names_in,
    names_in_sentences,
)
from digest.text import sentence_spans


def test_a_capitalised_opener_counts_only_when_also_named_mid_sentence():
    text = (
        "Meta said so. Analysts said little. Rivals praised Meta and shares fell. "
        "Shares of Meta rose."
    )
    # "Shares of Meta": "shares" is an ordinary word here, so the name is Meta alone.
    assert names_in(text) == ["Meta", "Meta", "Meta"]


def test_names_inside_words_are_found_as_a_sentence_by_sentence_scan_finds_them():
    text = "Shoppers left eBay for Amazon. The maker Apple met 3M staff."
    assert names_in(text) == ["eBay", "Amazon", "Apple"]


def test_the_one_pass_name_scan_agrees_with_the_scan_by_sentence():
    # Words that exercise every branch: openers, connectors, possessives, acronyms,
    # abbreviations that do not end a sentence, and capitals inside words (the fallback).
    pieces = [
        "Apple", "eBay", "iPhone", "3M", "$US", "the", "of", "de", "U.S.", "Mr.", "Tim",
        "Cook's", "NASA", "AI", "said", "Meta", "Shares", "rivals", "A", "I", "x86", "la",
        "McDonald", "O'Neil", "Smith.", "Dr.", "Zürich", "5G", "£5", "(Reuters)", '"The',
    ]  # fmt: skip
    separators = [" ", " ", " ", ". ", "! ", "? ", ", ", "\n", "\n\n", '." ']
    rng = random.Random(7)
    for _ in range(3000):
        text = "".join(
            rng.choice(pieces) + rng.choice(separators) for _ in range(rng.randint(1, 20))
        )
        sentences = sentence_spans(text)
        assert names_in_sentences(text, sentences) == _names_by_sentence(text, sentences), text


def test_german_nouns_after_a_determiner_or_a_number_do_not_glue_onto_names():
    # Written for this test: every German noun is capitalised, so without the determiner's
    # hint "Wetteragentur Eumetra" would be one name, and no English report would share it.
    text = (
        "Der Satellit wurde für die europäische Wetteragentur Eumetra gebaut und kostete "
        "85 Millionen. Er startete vom Weltraumbahnhof Skarvik."
    )
    lowered = german_nouns_lowered(text)
    assert len(lowered) == len(text)
    assert names_in(lowered) == ["Eumetra", "Skarvik"]
    assert names_in(text) != names_in(lowered)  # the same text read as English glues them


def test_an_english_text_loses_no_name_to_the_german_reading():
    text = "Eumetra said the satellite cost 85 million euros. Sigrid Holm of Kestrel Launch spoke."
    names = {k for k in article_terms("Kestrel loses Brisa-1", text, "en").counts if k[0] == "n"}
    assert names == {"n:brisa-1", "n:sigrid holm of kestrel launch"}  # as before "de" existed
    german = article_terms(
        "Kestrel verliert Brisa-1", "Die Firma Kestrel Launch verlor den Satelliten.", "de_AT"
    )
    assert "n:kestrel launch" in german.counts and "n:firma kestrel launch" not in german.counts


def test_german_names_of_two_names_and_acronyms_stay_whole():
    # Written for this test: the part after a hyphen is lowered only when it is a noun.
    text = (
        "Hans-Peter Kolberg fuhr von Nordrhein-Westfalen nach Baden-Württemberg, sagte die "
        "Firma Mercedes-Benz. Sie leidet an ALS, meldete Volvo AB."
    )
    lowered = german_nouns_lowered(text)
    assert "an ALS" in lowered and "die firma Mercedes-Benz" in lowered
    assert names_in(lowered) == [
        "Hans-Peter Kolberg",
        "Nordrhein-Westfalen",
        "Baden-Württemberg",
        "Mercedes-Benz",
        "Volvo AB",
    ]


def test_sentences_of_other_alphabets_end_before_their_capitals():
    assert names_in("Встреча прошла в Москве. Он сказал, что Москва готова. Это важно.") == [
        "Москве",
        "Москва",
    ]


def test_a_german_role_or_a_compound_led_by_a_name_leaves_the_name_alone():
    # Written for this test: German writes the role before a name without an article, and
    # glues a name onto the noun it qualifies.
    text = (
        "Brennholt-Chef Markus Feld tritt ab. Für Oberwald spielte Mittelfeldspieler Jonas "
        "Reiter sechs Jahre. Eine Kestrel-2-Rakete ist gescheitert, sagte Firmenchefin Sigrid "
        "Holm."
    )
    lowered = german_nouns_lowered(text)
    assert len(lowered) == len(text)
    names = names_in(lowered)
    assert {"Markus Feld", "Jonas Reiter", "Sigrid Holm", "Kestrel-2"} <= set(names)
    assert not {name for name in names if name.split()[0] in ("Für", "Mittelfeldspieler")}


def test_names_may_open_with_an_accented_or_another_alphabet_s_capital():
    text = "Talks in Österreich went on. Élisabeth Borne met Ángel Gabilondo in Ávila and Łódź."
    assert names_in(text) == ["Österreich", "Élisabeth Borne", "Ángel Gabilondo", "Ávila", "Łódź"]
    assert names_in("Встреча прошла в Москве, сказал Иван Петров.") == ["Москве", "Иван Петров"]


def test_a_german_noun_its_text_shows_once_is_a_noun_wherever_it_stands():
    # Written for this test: "Rakete" follows a determiner once, so the headline's compound
    # loses it too, and the name that follows "von" stands alone (mid-sentence: a lone word
    # opening a headline is a name only when the headline repeats it).
    title = "Kestrel-2-Rakete von Valtra Orbital erreicht die Umlaufbahn"
    text = (
        "Die Rakete startete am Morgen. Nach Angaben der Firma lief alles gut; die Angaben stimmen."
    )
    nouns = german_nouns(title) | german_nouns(text)
    assert {"rakete", "angaben", "firma"} <= nouns
    lowered = german_nouns_lowered(title, nouns)
    assert lowered.startswith("Kestrel-2 rakete von Valtra Orbital erreicht die umlaufbahn")
    assert names_in(f"Sie sagte: {lowered}") == ["Kestrel-2", "Valtra Orbital"]
    assert "Angaben" not in " ".join(names_in(german_nouns_lowered(text, nouns)))
    assert "SPD" in names_in(german_nouns_lowered("Die SPD und die Grünen stimmten zu.", None))


def test_common_german_nouns_are_nouns_even_where_no_determiner_tells():
    # The shipped list (bench/fit_german_nouns.py) holds the nouns German pages show by
    # their place; names that stand after prepositions ("in Berlin") are not in it.
    text = "Nach Angaben von Anna Berg regnete es am Sonntag in Berlin. Pro Tag kamen 20 Euro."
    names = names_in(german_nouns_lowered(text))
    assert names == ["Anna Berg", "Berlin"]
    assert {"angaben", "tag"} <= listed_german_nouns()
    assert not {"berlin", "deutschland", "deutsche"} & listed_german_nouns()


def test_a_numbered_model_and_its_maker_are_two_names():
    # "de" joins "Banque de France", not a model to the company that makes it.
    assert names_in("Le vol du Kestrel-2 de Valtra Orbital a réussi.") == [
        "Kestrel-2",
        "Valtra Orbital",
    ]
    assert names_in("La Banque de France et Charles de Gaulle.") == [
        "Banque de France",
        "Charles de Gaulle",
    ]


def test_a_firm_named_with_an_ampersand_is_one_name():
    # Two names would count as two facts shared by any two stories on the firm.
    assert names_in("Shoppers at Harlow & Finch and Marks & Spencer queued.") == [
        "Harlow & Finch",
        "Marks & Spencer",
    ]
    # A bare "&" opens nothing: a name is never led by it.
    assert names_in("Profits & losses: Corvane said so.") == ["Corvane"]


def test_two_names_joined_by_an_ampersand_part_when_the_text_names_either_alone():
    pair = article_terms(
        "Apple & Google team up on chips", "Apple said it will work with Google on chips."
    )
    assert {"n:apple", "n:google"} <= set(pair.counts)
    assert "n:apple & google" not in pair.counts
    firm = article_terms("Harlow & Finch opens Leeds store", "Harlow & Finch opened it today.")
    assert "n:harlow & finch" in firm.counts and "n:harlow" not in firm.counts
