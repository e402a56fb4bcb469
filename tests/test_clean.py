"""The clean stage on hand-written articles (written for these tests)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from digest.models import Block
from digest.pages._clean import (
    LanguageDetector,
    SiteMemory,
    clean_blocks,
    fingerprint,
    site_memories,
)
from digest.pages._extract import extract_page
from digest.pages._phrases import phrase_signal
from digest.pipeline._ingest import _clean_pages, publication_date
from digest.pipeline._pool import process_page
from digest.store._state import Store

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)

ARTICLE = [
    "The city council of Leeds voted on Tuesday to turn the disused Kirkstall power station "
    "into a community energy hub, ending a planning dispute that had run for six years.",
    "Under the plan, a cooperative owned by residents will install 4,000 solar panels on the "
    "old turbine hall roof and a battery store in the former coal yard.",
    "Councillor Amira Haddad said the project would cut bills for about 1,200 nearby homes, "
    "and that construction should start in the spring once the site has been cleared.",
    "Opponents had argued for housing on the site, but the council said flood risk ruled "
    "that out after the Environment Agency objected to residential use.",
]


@pytest.fixture(scope="module")
def detector() -> LanguageDetector:
    return LanguageDetector()


def blocks(*texts: str) -> tuple[Block, ...]:
    return tuple(Block(text) for text in texts)


def test_french_signup_box_around_an_english_article_goes(detector):
    top = [
        "Ne manquez rien de l'actualité locale : chaque lundi, notre équipe vous envoie les "
        "nouvelles du quartier directement dans votre boîte de réception.",
        "Je m'inscris gratuitement",
    ]
    bottom = [
        "Cet article vous a plu ? Partagez-le avec vos proches et retrouvez toutes nos "
        "enquêtes sur notre site, avec des contenus exclusifs pour nos abonnés.",
        "Recevoir la lettre du lundi",
    ]
    result = clean_blocks(blocks(*top, *ARTICLE, *bottom), detector)
    assert [b.text for b in result.kept] == ARTICLE
    assert {r.text for r in result.removed} == set(top + bottom)
    assert result.language == "en"


@pytest.mark.parametrize("position", [1, 5])
def test_a_short_bullet_langdetect_misreads_stays(detector, position):
    bullet = "• Intel Core Ultra processor"
    assert detector.detect(bullet)[0] != "en"  # the trap: langdetect calls it Italian
    texts = list(ARTICLE)
    texts.insert(position, bullet)
    result = clean_blocks(blocks(*texts), detector)
    assert [b.text for b in result.kept] == texts
    assert not result.removed


def test_a_short_english_sentence_at_the_end_stays(detector):
    ending = "No launch date has been given."
    assert detector.detect(ending)[0] != "en"  # the trap: langdetect alone says otherwise
    result = clean_blocks(blocks(*ARTICLE, ending, "Comments (3)", "Log in to comment"), detector)
    assert [b.text for b in result.kept] == [*ARTICLE, ending]


def test_an_english_cookie_banner_on_a_german_article_goes(detector):
    german = [
        "Die Stadt München hat am Dienstag beschlossen, die stillgelegte Trambahnlinie nach "
        "Grünwald wieder in Betrieb zu nehmen, nachdem die Finanzierung gesichert wurde.",
        "Nach Angaben der Verkehrsbetriebe sollen die ersten Züge im Herbst fahren; die Kosten "
        "für die Sanierung der Gleise liegen bei rund 48 Millionen Euro.",
        "Anwohner hatten seit Jahren eine bessere Anbindung gefordert, weil die Buslinien zu "
        "den Stoßzeiten regelmäßig überfüllt sind.",
    ]
    banner = "We use cookies to improve your experience. Accept all cookies or manage settings."
    result = clean_blocks(blocks(banner, *german), detector)
    assert [b.text for b in result.kept] == german
    assert result.removed[0].text == banner
    assert result.language == "de"


def test_promos_inside_the_body_go_with_their_reason(detector):
    promo = "Read more: Leeds budget row deepens as council tax rises"
    result = clean_blocks(blocks(ARTICLE[0], ARTICLE[1], promo, *ARTICLE[2:]), detector)
    assert [(r.reason, r.text) for r in result.removed] == [("promo", promo)]


def test_a_footer_seen_on_another_page_of_the_site_goes(detector):
    footer = "The Leeds Courier is published by Courier Media Group, 12 Wellington Street."
    page = blocks(*ARTICLE, footer)
    alone = clean_blocks(page, detector, SiteMemory({}))
    assert footer in [b.text for b in alone.kept]
    known = clean_blocks(page, detector, SiteMemory({fingerprint(footer): 1}))
    assert [(r.reason, r.text) for r in known.removed] == [("repeated-on-site", footer)]


def test_a_republished_article_is_not_taken_for_chrome(detector):
    page = blocks(*ARTICLE)
    memory = SiteMemory({fingerprint(text): 1 for text in ARTICLE})
    assert not clean_blocks(page, detector, memory).removed


def test_site_memories_count_other_pages_only():
    prints = {"https://a.example/1": ["nav", "one"], "https://a.example/2": ["nav", "two"]}
    stored = {"footer": {"https://a.example/0"}, "one": {"https://a.example/1"}}
    memories = site_memories({**prints, "https://a.example/3": ["footer", "three"]}, stored)
    assert memories["https://a.example/1"] == SiteMemory({"nav": 1})  # its own "one" not
    assert memories["https://a.example/2"] == SiteMemory({"nav": 1})
    assert memories["https://a.example/3"] == SiteMemory({"footer": 1})


def _page(title: str, paragraphs: list[str], footer: str) -> bytes:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (
        f"<html lang='en'><head><title>{title}</title></head><body><article><h1>{title}</h1>"
        f"{body}<p>{footer}</p></article></body></html>"
    ).encode()


def test_the_second_and_third_page_of_a_site_lose_its_footer(tmp_path, detector):
    footer = (
        "Leeds Courier journalism is funded by readers like you. Every story is checked by "
        "two editors before it is published on this site."
    )
    stories = [
        ("Council backs solar hub", ARTICLE),
        (
            "Tram line to reopen",
            [
                "West Yorkshire's transport authority confirmed that the tram link between Leeds "
                "station and the White Rose centre will open to passengers in March.",
                "Test runs have been under way since August, and drivers have completed 300 hours "
                "of training on the route, according to the operator.",
                "Fares will match the existing bus network, with a single trip costing £2.",
            ],
        ),
        (
            "Library hours extended",
            [
                "Central Library will open until 9pm on weekdays from January, after a donation of "
                "£250,000 from a local engineering firm covered two years of staffing.",
                "The extra hours were the most requested change in a survey of 5,000 members, "
                "many of them students without a quiet place to work at home.",
                "Librarians will also run free coding clubs for teenagers on Thursday evenings.",
            ],
        ),
    ]
    store = Store.open(tmp_path / "state.db")
    kept_footer = []
    for number, (title, paragraphs) in enumerate(stories):
        url = f"https://courier.example/story-{number}"
        work = process_page(_page(title, paragraphs, footer), url)
        cleaned = _clean_pages(store, {url: work}, NOW)[url]
        kept_footer.append(footer in cleaned.text)
        assert all(paragraph in cleaned.text for paragraph in paragraphs)
    store.close()
    assert kept_footer == [True, False, False]


def test_extracted_french_wrapped_demo_page_keeps_every_paragraph(detector, expectations):
    root = Path(__file__).resolve().parent.parent / "config" / "demo" / "sites"
    path = "techwire/articles/meta-compute-cloud.html"
    page = extract_page((root / path).read_bytes(), "http://127.0.0.1:8765/" + path)
    cleaned = clean_blocks(page.blocks, detector, None, page.language)
    text = " ".join(cleaned.text.split())
    for fact in expectations["facts"][path]:
        assert fact in text
    for snippet in expectations["boilerplate"][path]:
        assert snippet not in text


@pytest.mark.parametrize(
    ("feed", "page", "expected"),
    [
        # The page's exact time wins over the feed's day.
        (datetime(2026, 11, 23, tzinfo=UTC), datetime(2026, 11, 23, 7, 30, tzinfo=UTC), "page"),
        # A page date in the future is a guess from the markup.
        (datetime(2026, 11, 23, tzinfo=UTC), datetime(2026, 12, 25, tzinfo=UTC), "feed"),
        # Years before the feed's date: a copyright line, not the publication.
        (datetime(2026, 11, 22, tzinfo=UTC), datetime(2019, 1, 1, tzinfo=UTC), "feed"),
        (None, datetime(2026, 11, 22, 18, tzinfo=UTC), "page"),
        (datetime(2026, 11, 22, tzinfo=UTC), None, "feed"),
        # A day without its time (read from /2026/11/20/live-updates) tells less than the
        # feed's time, and would date a live page updated today three days back.
        (datetime(2026, 11, 23, 8, 5, tzinfo=UTC), datetime(2026, 11, 20, tzinfo=UTC), "feed"),
        (datetime(2026, 11, 23, 8, 5, tzinfo=UTC), datetime(2026, 11, 23, tzinfo=UTC), "feed"),
        # Both days only: the page's, as before.
        (datetime(2026, 11, 23, tzinfo=UTC), datetime(2026, 11, 21, tzinfo=UTC), "page"),
    ],
)
def test_the_page_date_wins_only_when_plausible(feed, page, expected):
    chosen = publication_date(feed, page, NOW)
    assert chosen == (page if expected == "page" else feed)


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("Lesen Sie auch: Stadtrat streitet über neue Radwege", "promo"),
        ("À lire aussi : la réforme des retraites en cinq questions", "promo"),
        ("Lee también: Las lluvias dejan sin luz a tres barrios", "promo"),
        ("Leggi anche: il nuovo piano per i trasporti", "promo"),
        ("Leia também: Governo anuncia novo pacote", "promo"),
        ("Melden Sie sich jetzt für unseren Newsletter an", "promo"),
        ("Suivez-nous sur Instagram", "promo"),
        ("Unabhängiger Lokaljournalismus kostet Geld. Unterstütze uns mit 5 Euro.", "promo"),
        ("Soutenez-nous : faites un don à partir de 3 euros par mois.", "promo"),
        ("¿Te gusta lo que lees? Apóyanos con una suscripción.", "promo"),
        ("Wesprzyj nas darowizną: każda złotówka pomaga nam pisać dalej.", "promo"),
        ("Foto: Maria Schneider", "credit"),
        ("© 2026 Courier Media Group. All rights reserved.", "promo"),
        ("Updated 23.11.2026, 09:14", "metadata"),
    ],
)
def test_boilerplate_wording_in_several_languages(line, reason):
    weight, found = phrase_signal(line)
    assert weight >= 2 and found == reason


def test_prose_that_mentions_newsletters_and_cookies_stays():
    for text in (
        "The council's newsletter, posted to every household, announced the new bin schedule.",
        "Bakers in Leeds sold 40,000 cookies for the hospice appeal over the weekend.",
        "The foundation said it would make a donation decision after the audit in March.",
        "Die Partei muss die Spende von 90.000 Euro an die Bundestagsverwaltung zurückzahlen.",
    ):
        assert phrase_signal(text) == (0, "")


def test_a_related_links_list_at_the_end_goes(detector):
    related = Block(
        "• Council tax to rise by 4.9%\n• New tram stops open\n• Library hours extended",
        kind="list",
        link_density=0.95,
    )
    result = clean_blocks((*blocks(*ARTICLE), related), detector)
    assert [b.text for b in result.kept] == ARTICLE
    assert [r.reason for r in result.removed] == ["links"]


def test_a_promo_heading_and_teaser_lists_after_a_removed_box_go(detector):
    box = "Sign up for our morning briefing newsletter and get the day's news by 7am."
    promo_heading = Block("Play our free fantasy league this season", kind="head")
    # Lists of linked headlines; lists only partly linked at the end of an article are
    # more often its own (the fitted weights keep them).
    teasers = [
        Block("• Leeds United sign striker\n• Rhinos beat Saints", kind="list", link_density=0.9),
        Block("• Cricket: Yorkshire squad named\n• Marathon route", kind="list", link_density=0.9),
    ]
    page = (*blocks(*ARTICLE, box), promo_heading, *teasers)
    result = clean_blocks(page, detector)
    assert [b.text for b in result.kept] == ARTICLE


def test_captions_bare_labels_and_faq_sections_go(detector):
    figure = "Figure 2: Solar output at the Kirkstall site by month, 2025."
    pictured = "Councillor Amira Haddad (left) and cooperative chair Tom Reyes at the turbine hall."
    faq = Block("Frequently asked questions", kind="head")
    answer = "Who can buy shares? Anyone over 16 living in Leeds can buy up to 40 shares."
    texts = [ARTICLE[0], figure, ARTICLE[1], ARTICLE[2], pictured, ARTICLE[3]]
    assert [b.text for b in clean_blocks(blocks(*texts), detector).kept] == ARTICLE
    result = clean_blocks((*blocks(*ARTICLE), faq, Block(answer)), detector)
    assert [b.text for b in result.kept] == ARTICLE
    # A label alone, ending in a colon, is sure enough to go wherever it stands.
    assert phrase_signal("Release date:")[0] >= 3
    assert phrase_signal("Release date: 4 March 2026")[0] == 2


def test_a_press_contact_at_the_end_goes_with_its_lines(detector):
    contact = [Block("Press contact", kind="head"), *blocks("Jo Baker", "Tel. 0113 496 0000")]
    result = clean_blocks((*blocks(*ARTICLE), *contact), detector)
    assert [b.text for b in result.kept] == ARTICLE


def test_headings_borrowed_from_another_language_do_not_set_the_page_language(detector):
    figures = {
        "Dile que no con la mano derecha y una vuelta de la dama al final": (
            "• Der Führende öffnet mit der linken Hand und macht einen Schritt zurück\n"
            "• Die Folgende dreht sich dabei einmal unter seinem Arm nach rechts"
        ),
        "Vacilala con mano derecha, la variante de la casa para los que empiezan": (
            "• Wie beim Dile que no, nur dass der Führende die Hand wechselt\n"
            "• Danach gehen beide wieder in die Grundposition und warten auf das Kommando"
        ),
        "Exhibela doble con vuelta y cambio de mano al final de la figura": (
            "• Die Folgende läuft um den Führenden herum und nimmt seine rechte Hand\n"
            "• Er hält sie fest, bis sie wieder vor ihm steht, und lässt dann los"
        ),
        "Enchufla con la mano por detrás de la espalda y sin soltar a la pareja": (
            "• Die Folgende geht unter dem Arm durch und der Führende wechselt den Platz\n"
            "• Am Ende stehen beide wieder so, wie sie am Anfang gestanden haben"
        ),
        "Setenta con las manos cruzadas y una vuelta completa de la pareja al centro": (
            "• Der Führende kreuzt die Hände und führt die Folgende einmal um sich herum\n"
            "• Zum Schluss lösen beide die Hände und stehen sich wieder gegenüber"
        ),
        "Sombrero con las dos manos y un giro que termina en la posición abierta": (
            "• Beide Hände werden über den Kopf der Folgenden gelegt und wieder gelöst\n"
            "• Mit dem nächsten Schritt öffnet sich das Paar wieder zur Seite"
        ),
    }
    steps = [
        block
        for heading, items in figures.items()
        for block in (Block(heading, kind="head"), Block(items, kind="list"))
    ]
    steps.append(Block("Page revision: 4, last edited: 12 May 2026"))
    result = clean_blocks(tuple(steps), detector)
    assert result.language == "de"
    assert all(block in result.kept for block in steps if block.kind == "list")


def test_a_quotation_in_another_language_ending_the_article_stays(detector):
    german = [
        "Der Skatepark am Rheinufer wird am Samstag mit einem Wettbewerb für Jugendliche "
        "eröffnet, nachdem die Stadt zwei Jahre lang um die Finanzierung gerungen hatte.",
        "Die Anlage bietet eine Bowl, mehrere Rails und eine flache Zone für Anfänger; "
        "Helme werden am Eingang kostenlos verliehen.",
        "Der Verein rechnet mit mehr als dreihundert Besuchern und bittet darum, mit dem "
        "Fahrrad oder der Straßenbahn anzureisen.",
    ]
    motto = "See you at the river, and bring your friends!"
    result = clean_blocks(blocks(*german, motto), detector)
    assert [b.text for b in result.kept] == [*german, motto]


def test_a_short_page_that_says_more_than_the_feed_is_the_text_in_any_words():
    from digest.models import CleanedText, FeedEntry
    from digest.pages import LanguageDetector
    from digest.pipeline._ingest import _article

    entry = FeedEntry(
        feed="Stadt", guid="1", link="https://n.example/1", url="https://n.example/1",
        title="Stadtwerk erhöht Strompreis", summary="", content="", published=NOW,
    )  # fmt: skip
    # Not one word of the title as written: the page inflects them.
    text = "Die Stadtwerke erhöhen ab Januar den Preis für Strom um zwölf Prozent."
    cleaned = CleanedText(text, "de", (), ())
    article = _article(entry, None, cleaned, LanguageDetector(), NOW)
    assert (article.text, article.text_source) == (text, "page")
