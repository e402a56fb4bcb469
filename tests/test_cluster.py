"""Clustering on hand-written stories and on the demo corpus."""

from __future__ import annotations

import random
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from conftest import RULES

from digest.cluster._clusterer import cluster_articles, join_delivered, pair_similarities
from digest.cluster._copies import near_copies
from digest.cluster._rank import rank_clusters
from digest.cluster._terms.batch import batch_terms
from digest.cluster._terms.figures import figures_in
from digest.cluster._terms.names import names_in
from digest.cluster._thresholds import BACKGROUND_ARTICLES
from digest.cluster._vectors import term_matrix
from digest.feeds._urls import canonical_url
from digest.models import Article, FeedEntry
from digest.pages._clean import LanguageDetector, clean_blocks
from digest.pages._extract import extract_page
from digest.store._state import NewArticle, Store

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
SITES = Path(__file__).resolve().parent.parent / "config" / "demo" / "sites"


def article(number: int, title: str, text: str, hours_ago: float = 1, story_id=None) -> Article:
    return Article(
        id=number,
        feed=f"Outlet {number}",
        url=f"https://outlet{number}.example/{number}",
        title=title,
        text=text,
        published=NOW - timedelta(hours=hours_ago),
        story_id=story_id,
    )


def groups(clusters) -> list[set[int]]:
    return sorted(({a.id for a in c.articles} for c in clusters), key=min)


def shingles(text: str, size: int = 5) -> set[tuple[str, ...]]:
    words = re.findall(r"\w+", text.lower())
    return {tuple(words[i : i + size]) for i in range(len(words) - size + 1)}


@pytest.fixture(scope="module")
def demo_articles(expectations) -> dict[str, Article]:
    detector = LanguageDetector()
    out = {}
    for number, path in enumerate(sorted(p for ps in expectations["events"].values() for p in ps)):
        page = extract_page((SITES / path).read_bytes(), f"http://127.0.0.1:8765/{path}")
        text = clean_blocks(page.blocks, detector, None, page.language).text
        out[path] = article(number, page.title or path, text, hours_ago=number % 12)
        out[path].feed = path.split("/")[0]
    return out


def test_demo_events_are_recovered_exactly(demo_articles, expectations):
    path_of = {a.id: path for path, a in demo_articles.items()}
    clusters = cluster_articles(list(demo_articles.values()))
    found = {frozenset(path_of[a.id] for a in c.articles) for c in clusters}
    assert found == {frozenset(paths) for paths in expectations["events"].values()}


def test_the_six_meta_rewrites_share_no_phrase_yet_merge(demo_articles, expectations):
    paths = expectations["events"]["meta-compute"]
    texts = [demo_articles[p].text for p in paths]
    for left in range(len(texts)):
        for right in range(left + 1, len(texts)):
            a, b = shingles(texts[left]), shingles(texts[right])
            assert len(a & b) / len(a | b) < 0.05
    (cluster,) = cluster_articles([demo_articles[p] for p in paths])
    assert len(cluster.articles) == len(paths) == 6


def test_the_french_rewrite_joins_on_names_and_figures_alone(demo_articles, expectations):
    french = demo_articles["northstar/articles/meta-compute-nuage-fr.html"]
    assert "182,9 milliards de dollars" in french.text
    english = [demo_articles[p] for p in expectations["events"]["meta-compute"][:2]]
    glasses = demo_articles[expectations["events"]["meta-glasses"][0]]
    clusters = cluster_articles([*english, glasses, french])
    assert groups(clusters) == [{english[0].id, english[1].id, french.id}, {glasses.id}]
    (meta,) = (c for c in clusters if french in c.articles)
    assert "$182.9 billion" in meta.why or "182,9 milliards de dollars" in meta.why


def test_two_launches_by_one_company_in_one_week_stay_apart():
    ipad = article(
        1,
        "Apple puts the M5 chip in a new iPad Pro",
        "Apple on Wednesday introduced a new iPad Pro powered by its M5 chip. The "
        "iPad Pro starts at $999 and ships next week with Wi-Fi 7 and a faster "
        "neural engine, Apple said. The tablet keeps its OLED screen.",
    )
    ipad_again = article(
        2,
        "iPad Pro gets the M5: what changes",
        "The new iPad Pro from Apple runs on the M5 processor and costs $999 "
        "for the 11-inch model. Shipping starts next week; the OLED display and "
        "Wi-Fi 7 radio are carried over in the iPad Pro design.",
    )
    macbook = article(
        3,
        "Apple's MacBook Air moves to the M5",
        "Apple on Wednesday updated the MacBook Air with its M5 chip, keeping the "
        "$1,099 starting price. The MacBook Air gains Wi-Fi 7 and a 12-megapixel "
        "camera and ships next week in a new sky blue finish, Apple said.",
    )
    assert groups(cluster_articles([ipad, ipad_again, macbook])) == [{1, 2}, {3}]
    steps: dict[str, float] = {}
    timed = cluster_articles([ipad, ipad_again, macbook], step_seconds=steps)
    assert groups(timed) == [{1, 2}, {3}]  # timing the steps changes nothing
    assert list(steps) == ["terms", "matrix", "pairs", "linkage", "split+why", "copies"]
    assert all(seconds >= 0 for seconds in steps.values())


def test_two_briefs_of_one_outlet_on_two_stories_stay_apart():
    # One feed's one-sentence items lead alike ("O Presidente dos Estados Unidos, Donald
    # Trump, ...") and met on that wording and its two names: one item for two stories.
    disaster = replace(
        article(
            1,
            "Trump declara estado de calamidade no Oregon devido às cheias",
            "O Presidente dos Estados Unidos, Donald Trump, declarou esta quinta-feira o "
            "estado de calamidade no Oregon, onde as cheias desalojaram milhares de pessoas.",
        ),
        feed="Jornal",
    )
    summit = replace(
        article(
            2,
            "Trump diz que vai reunir-se com Lula em Brasília",
            "O Presidente dos Estados Unidos, Donald Trump, disse esta quinta-feira que vai "
            "reunir-se com o homólogo brasileiro, Lula da Silva, em Brasília.",
        ),
        feed="Jornal",
    )
    follow_up = replace(
        article(
            3,
            "Cheias no Oregon: Trump visita a região",
            "O Presidente dos Estados Unidos, Donald Trump, visitou esta sexta-feira o "
            "Oregon, onde as cheias desalojaram milhares de pessoas.",
        ),
        feed="Jornal",
    )
    # One outlet is one feed and one site (an aggregator's feed carries many outlets' links).
    one_site = [
        replace(a, url=f"https://jornal.example/{a.id}") for a in (disaster, summit, follow_up)
    ]
    assert groups(cluster_articles(one_site)) == [{1, 3}, {2}]


def test_a_new_report_joins_a_delivered_story_but_two_stories_never_merge():
    first = article(
        1,
        "Quake of magnitude 6.8 hits southern Peru near Arequipa",
        "A magnitude 6.8 earthquake struck off southern Peru near Chala in the "
        "Arequipa region, killing two people, the Geophysical Institute of Peru said.",
        story_id=10,
    )
    late = article(
        2,
        "Peru earthquake: two dead in Arequipa",
        "Two people died when a 6.8 magnitude quake hit the Arequipa region of Peru "
        "near the coastal town of Chala, according to the Geophysical Institute.",
    )
    other = article(
        3,
        "Peru quake damages homes in Arequipa's Chala district",
        "Homes collapsed in Chala, in Peru's Arequipa region, after the magnitude "
        "6.8 earthquake, the Geophysical Institute of Peru reported.",
        story_id=11,
    )
    clusters = cluster_articles([first, late, other])
    story_of = {a.id: c.story_id for c in clusters for a in c.articles}
    assert story_of[2] in (10, 11)
    assert story_of[1] == 10 and story_of[3] == 11


def test_names_and_figures_are_normalised():
    text = (
        "Meta said the plan, led by Dina Powell McCormick, builds on $182.9 billion of "
        "commitments; Les Echos wrote 182,9 milliards de dollars and Reuters $182.9bn."
    )
    assert figures_in(text).count("x:1.829e+11$") == 3
    assert "Dina Powell McCormick" in names_in(text)
    assert "Meta" in names_in(text + " Shares of Meta rose.")


def test_ordinals_are_figures_from_the_fourth_on():
    assert figures_in("Capaldi is the 12th Doctor") == ["x:12th"]
    assert figures_in("the Twelfth Doctor after the eleventh") == ["x:12th", "x:11th"]
    assert figures_in("for the first time, the 3rd in a row") == []


def test_a_small_decimal_is_a_figure_but_a_small_whole_number_is_not():
    assert figures_in("a magnitude 6.1 quake, the 2nd in 3 days, in 2024") == ["x:6.1"]


@pytest.mark.parametrize(
    ("link", "canonical"),
    [
        ("https://News.example/a/?utm_source=rss&utm_medium=feed", "https://news.example/a/"),
        ("https://news.example/a?fbclid=x&id=7#comments", "https://news.example/a?id=7"),
        ("https://news.example:443/a", "https://news.example/a"),
        (
            "http://news.example/forum/index.php?topic=1",
            "http://news.example/forum/index.php?topic=1",
        ),
        ("http://news.example/?12345", "http://news.example/?12345"),
        ("http://[::1]:8080/a", "http://[::1]:8080/a"),
        ("https://app.example/#!/story/2", "https://app.example/#!/story/2"),
        # Escapes in RFC 3986's normal form: another feed's "%73" is the publisher's "s".
        ("https://pub.example/a/%731.html", "https://pub.example/a/s1.html"),
        ("https://pub.example/%c3%a9t%C3%A9?q=%7e%2f", "https://pub.example/%C3%A9t%C3%A9?q=~%2F"),
        ("https://pub.example/x/../a/./s1.html", "https://pub.example/a/s1.html"),
        ("https://pub.example/a/..", "https://pub.example/"),
        ("https://pub.example/v1.2/.well", "https://pub.example/v1.2/.well"),
    ],
)
def test_tracking_links_canonicalise_to_one_source(link, canonical):
    assert canonical_url(link) == canonical


def test_late_reports_join_the_delivered_story_before_pairing_with_each_other():
    delivered = article(
        1,
        "Quake of magnitude 6.8 hits southern Peru near Arequipa",
        "A magnitude 6.8 earthquake struck off southern Peru near Chala in the Arequipa "
        "region, killing two people, the Geophysical Institute of Peru said.",
        hours_ago=30,
        story_id=10,
    )
    late_a = article(
        2,
        "Peru earthquake: Chala counts the damage",
        "Two people died when the 6.8 magnitude quake hit the Arequipa region of Peru near "
        "Chala. Mayor Rosa Quispe said 140 adobe homes in Chala fell and the Pan-American "
        "Highway was cut by landslides, the Geophysical Institute of Peru reported.",
    )
    late_b = article(
        3,
        "Chala after the quake: 140 homes down, highway cut",
        "In Chala, mayor Rosa Quispe counted 140 adobe homes destroyed after the magnitude 6.8 "
        "earthquake in Arequipa, Peru; landslides cut the Pan-American Highway and two people "
        "died.",
    )
    unrelated = article(
        4,
        "Sinner beats Alcaraz to win the ATP Finals in Turin",
        "Jannik Sinner defended his ATP Finals title in Turin, beating Carlos Alcaraz 7-6 7-5.",
    )
    joined, rest = join_delivered([late_a, late_b, unrelated], [delivered])
    assert joined == {2: 10, 3: 10}
    assert [a.id for a in rest] == [4]


def test_a_late_report_joins_the_story_it_matches_best_less_the_size_margin(monkeypatch):
    # 0.10 against a story of one article, 0.09 against each of a story of four: with the
    # margin the second is the better match (0.065 against 0.05), and the only one that
    # clears merge_at, so the report joins it rather than going out again as new.
    from digest.cluster import _clusterer
    from digest.cluster._linkage import ScoredPairs

    late = article(1, "Late", "late report")
    delivered = [article(10, "One", "one", story_id=100)] + [
        article(20 + k, "Four", "four", story_id=200) for k in range(4)
    ]
    scores = {(0, 1): 0.10, **{(0, 2 + k): 0.09 for k in range(4)}}
    monkeypatch.setattr(_clusterer, "_scored_pairs", lambda *_, **__: ScoredPairs.of(scores))
    limits = replace(RULES, merge_at=0.06, size_margin=0.05)
    joined, rest = join_delivered([late], delivered, thresholds=limits)
    assert joined == {1: 200} and rest == []
    joined, _ = join_delivered([late], delivered, thresholds=replace(limits, size_margin=0.0))
    assert joined == {1: 100}


def test_one_article_under_two_tracking_urls_is_one_source(tmp_path):
    links = (
        "https://Wire.example/2026/meta-compute?utm_source=rss&utm_medium=feed",
        "https://wire.example/2026/meta-compute?fbclid=abc123#comments",
    )
    entries = [
        FeedEntry("Wire", f"guid-{n}", link, canonical_url(link), "Meta launches Meta Compute",
                  "Meta will rent out its data centres.", "", NOW)
        for n, link in enumerate(links)
    ]  # fmt: skip
    store = Store.open(tmp_path / "digest.db")
    try:
        new = [NewArticle(e, e.title, e.summary, "feed-summary", "en", None, NOW) for e in entries]
        store.add_articles(new, NOW)
        stored = store.articles(("pending",), since=NOW - timedelta(days=1))
    finally:
        store.close()
    assert [a.url for a in stored] == ["https://wire.example/2026/meta-compute"]
    (item,) = rank_clusters(cluster_articles(stored), {}, max_items=5)
    assert len(item.sources) == 1


def test_rewrites_sharing_no_five_word_phrase_merge_and_a_look_alike_stays_apart():
    wire = article(
        1,
        "Volcano erupts on Iceland's Reykjanes peninsula, Grindavik evacuated",
        "Lava burst from a 3.5 km fissure near Sundhnukur on the Reykjanes peninsula late on "
        "Tuesday, and civil defence ordered the 3,800 residents of Grindavik to leave, the "
        "Icelandic Met Office said. Flights at Keflavik airport were not affected.",
    )
    paper = article(
        2,
        "Grindavik empties again as Sundhnukur fissure opens",
        "Iceland's Met Office reported a fissure about 3.5 kilometres long opening by "
        "Sundhnukur overnight. Authorities moved all 3,800 people out of Grindavik; Keflavik "
        "kept operating normally. It is the Reykjanes peninsula's seventh eruption since 2023.",
    )
    other = article(
        3,
        "Etna eruption closes Catania airport",
        "Mount Etna in Sicily sent a column of ash 6 km high on Sunday, and Catania airport "
        "shut its runway, the Italian volcanology institute INGV said. No villages were "
        "evacuated.",
    )
    assert not shingles(wire.text) & shingles(paper.text)
    assert groups(cluster_articles([wire, paper, other])) == [{1, 2}, {3}]


def test_a_story_sixty_outlets_cover_is_one_item():
    verbs = ["struck", "hit", "rattled", "shook", "jolted", "rocked"]
    extras = ["Trains stopped", "Power failed", "Schools closed", "Flights were held",
              "Ports shut", "Roads cracked", "Phones went down", "Shops emptied",
              "Bridges were checked", "Hospitals ran on generators"]  # fmt: skip
    outlets = [
        article(
            n,
            f"Magnitude 7.1 quake {verbs[n % 6]} Hokkaido near Kushiro",
            f"A magnitude 7.1 earthquake {verbs[(n + 1) % 6]} eastern Hokkaido near Kushiro, "
            f"the Japan Meteorological Agency said, and a tsunami advisory of 1 metre was issued "
            f"for the Pacific coast. {extras[n % 10]} in Kushiro and {extras[(n + 3) % 10]} in "
            f"Obihiro, and Governor Naomichi Suzuki asked residents to stay on high ground.",
        )
        for n in range(60)
    ]
    other = article(
        99, "Sinner beats Alcaraz in Turin", "Jannik Sinner won the ATP Finals in Turin."
    )
    assert groups(cluster_articles([*outlets, other])) == [set(range(60)), {99}]


def test_a_one_sentence_brief_joins_the_story_whose_headline_names_someone_it_does_not():
    full = article(
        1,
        "Perth doctor Mark Vinar presumed dead after fall on Zurbriggens Ridge",
        "Mark Vinar, a 43-year-old doctor from Perth, is presumed dead after falling from "
        "Zurbriggens Ridge on Mount Cook, New Zealand's highest peak, police said. His "
        "brother Miles Vinar survived two nights in an ice cave before rescuers reached "
        "him. Bad weather has stopped the search for Dr Vinar's body.",
    )
    brief = article(
        2,
        "Climber trapped on Aoraki saw his brother fall to his death",
        "An Australian climber trapped for two nights on Aoraki, New Zealand's Mount Cook, "
        "watched his brother fall to his death from a ridge near the summit.",
    )
    other = article(
        3,
        "Everest season opens as Nepal issues a record number of climbing permits",
        "Nepal has issued a record 478 permits for Everest this spring, the tourism "
        "department said. Sherpas fixed ropes to Camp 4 last week. Officials warn of "
        "queues near the summit if the weather window is short.",
    )
    assert groups(cluster_articles([full, brief, other])) == [{1, 2}, {3}]


def test_a_headline_name_an_article_in_another_language_lacks_is_no_conflict():
    # Written for this test. The English headline's "Sulphur Canyon Fire" is "l'incendie de
    # Sulphur Canyon" in French, and the French headline names "Californie", which the
    # English report never writes: in one language that double silence would say "another
    # story" (the iPad against the MacBook).
    english = (
        "Sulphur Canyon Fire forces 8,000 to flee near Ojai",
        "The Sulphur Canyon Fire grew to 6,200 acres on Monday and forced 8,000 people from "
        "their homes near Ojai. Cal Fire said 900 firefighters were on the lines.",
    )
    french = (
        "L'incendie de Sulphur Canyon chasse 8 000 habitants en Californie",
        "L'incendie de Sulphur Canyon a parcouru 6 200 acres lundi près d'Ojai, en "
        "Californie, et 8 000 habitants ont dû partir. Cal Fire a engagé 900 pompiers.",
    )

    def similarity(language: str | None) -> float:
        pair = [
            replace(article(0, *english), language="en"),
            replace(article(1, *french), language=language),
        ]
        terms = batch_terms([(a.title, a.text, a.language) for a in pair], 0)
        matrix = term_matrix(terms, BACKGROUND_ARTICLES)
        one, other = np.array([0]), np.array([1])
        return float(pair_similarities(pair, terms, matrix, one, other, RULES)[0])

    assert similarity(None) == pytest.approx(similarity("fr") * RULES.subject_conflict_factor)


def test_a_shared_word_of_two_product_names_is_no_translation():
    # Written for this test: a tablet and a watch of one maker, told in two languages. The
    # Spanish report writes "Galaxy", not "Tab S10": the headline rule still holds.
    english = (
        "Galaxy Tab S10 gets a 12-inch screen from Samsung",
        "Samsung showed the Galaxy Tab S10 in Seoul on Monday with a 12-inch screen and a "
        "price of 899 dollars. Samsung said 2 million units would ship.",
    )
    spanish = (
        "Samsung presenta el Galaxy Watch 8 en Seúl",
        "Samsung mostró el lunes en Seúl el Galaxy Watch 8, con un precio de 899 dólares. "
        "Samsung dijo que enviará 2 millones de unidades.",
    )
    batch = [
        replace(article(0, *english), language="en"),
        replace(article(1, *spanish), language="es"),
    ]
    assert groups(cluster_articles(batch, workers=0)) == [{0}, {1}]


def test_two_launches_told_in_two_languages_stay_two_items():
    # Written for this test: one company's phone on Monday and tablet on Thursday, each told
    # in English and in Spanish. Across languages the headline rule still holds: "Pulse"
    # is written the same in both, and the tablet's reports never write it.
    reports = [
        (
            "en",
            "Lumora unveils Pulse 7 smartphone with a 5,000 mAh battery",
            "Lumora unveiled the Pulse 7 smartphone in Madrid on Monday, priced at 499 euros. "
            "The Pulse 7 has a 6.4-inch screen and a 5,000 mAh battery, chief executive Marta "
            "Ríos said. Lumora expects to sell 1.2 million units of the Pulse 7 this year.",
            0,
        ),
        (
            "es",
            "Lumora presenta el Pulse 7, su nuevo móvil de gama media",
            "Lumora presentó el lunes en Madrid el Pulse 7, un móvil que costará 499 euros. El "
            "Pulse 7 tiene una pantalla de 6,4 pulgadas y una batería de 5.000 mAh, según la "
            "consejera delegada Marta Ríos. Lumora espera vender 1,2 millones de unidades.",
            1,
        ),
        (
            "en",
            "Lumora launches Nova 11 tablet for students at 649 euros",
            "Lumora launched the Nova 11 tablet in Barcelona on Thursday, its second product in "
            "a week, at 649 euros. The Nova 11 has an 11-inch screen and an 8,000 mAh battery, "
            "Marta Ríos said, and schools in Ávila will test it first.",
            72,
        ),
        (
            "es",
            "Lumora lanza la tableta Nova 11 para estudiantes por 649 euros",
            "Lumora presentó el jueves en Barcelona la tableta Nova 11, su segundo lanzamiento "
            "en una semana, por 649 euros. La Nova 11 tiene una pantalla de 11 pulgadas y una "
            "batería de 8.000 mAh, dijo Marta Ríos; los colegios de Ávila la probarán primero.",
            73,
        ),
    ]
    batch = [
        replace(article(number, title, text, hours_ago=100 - hours), language=language)
        for number, (language, title, text, hours) in enumerate(reports)
    ]
    assert groups(cluster_articles(batch, workers=0)) == [{0, 1}, {2, 3}]


def test_a_story_copied_past_the_index_s_posting_limit_is_one_item():
    # Identical copies share every term, and a term in more than MAX_POSTING articles finds
    # no candidates: 60 copies of one nameless story (a feed repeating it) were 60 items.
    from digest.cluster._thresholds import MAX_POSTING

    when = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
    copies = [
        Article(id=n, feed="Repeats", url=f"https://repeats.example/{n}",
                title="Dam bursts in the northern valley, thousands evacuated",
                text="The dam burst at dawn and water rushed down the valley.\n"
                     "Thousands left their homes before noon.", published=when)
        for n in range(MAX_POSTING + 10)
    ]  # fmt: skip
    others = [
        Article(id=100 + n, feed=f"Outlet {n}", url=f"https://o{n}.example/a", title=title,
                text=f"{title}. The report gave few details.", published=when)
        for n, title in enumerate(["Harbour crane collapses in Port Elston",
                                   "Chipmaker Veltra posts record quarter"])
    ]  # fmt: skip
    clusters = cluster_articles([*copies[:30], *others, *copies[30:]], workers=0)
    assert sorted(len(c.articles) for c in clusters) == [1, 1, len(copies)]
    (repeated,) = [c for c in clusters if len(c.articles) > 1]
    assert [a.id for a in repeated.articles] == list(range(len(copies)))  # the input's order
    assert "dam" in repeated.why  # "why grouped" counts the copies, as any member


def test_exact_copies_are_the_same_headline_and_text_white_space_and_case_aside():
    from digest.cluster._clusterer import _exact_copies

    when = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
    texts = [
        ("Dam bursts in the valley", "The dam burst at dawn.\nThousands left."),
        ("DAM bursts  in the valley ", "The dam  burst at dawn. Thousands\tleft."),
        ("Valley dam bursts", "The dam burst at dawn. Thousands left."),  # its own headline
        ("Dam bursts in the valley", "The dam burst at dawn. Hundreds left."),  # its own text
        ("Dam bursts in the valley", "The dam burst at dawn. Thousands left."),
    ]
    batch = [
        Article(id=n, feed=f"Outlet {n}", url=f"https://o{n}.example/a", title=title,
                text=text, published=when)
        for n, (title, text) in enumerate(texts)
    ]  # fmt: skip
    assert _exact_copies(batch) == {1: 0, 4: 0}
    # A delivered story's article is nobody's copy, nor copied.
    batch[0] = replace(batch[0], story_id=7)
    assert _exact_copies(batch) == {4: 1}


WIRE_STORY = (
    "The European Central Bank cut its deposit rate by a quarter point to 2 percent on "
    "Thursday, its eighth cut since June 2024, President Christine Lagarde told reporters in "
    "Frankfurt. Inflation in the euro area eased to 2.1 percent in October, Eurostat said, "
    "and the bank lowered its growth forecast for 2026 to 1.2 percent. Economists at Deutsche "
    "Bank and BNP Paribas expect one more cut in March, while the Bundesbank warned that wage "
    "growth remains strong in Germany and the Netherlands. Markets in Milan and Madrid rose "
    "after the decision, and the euro fell against the dollar to 1.08."
)


def test_seven_hundred_near_copies_of_a_wire_story_are_one_item():
    """Every term of a wire story carried by 700 outlets, each changing a word or two, is
    past the candidate caps: the copies never met and made 500 items."""
    rng = random.Random(3)
    words = WIRE_STORY.split()
    plain = [k for k, word in enumerate(words) if word.islower()]  # names and figures stay
    copies = []
    for number in range(700):
        changed = list(words)
        for _ in range(2):
            changed[rng.choice(plain)] = rng.choice(["also", "again", "reportedly"])
        copies.append(
            article(number, f"ECB cuts rates again ({number % 4})", " ".join(changed), number % 9)
        )
    other = article(
        1000,
        "Ford opens battery plant in Michigan",
        "Ford began production at its battery plant in Marshall, Michigan, on Monday, where "
        "1,700 workers will make lithium iron phosphate cells under a licence from CATL.",
    )
    clusters = cluster_articles([*copies, other])
    assert groups(clusters) == [set(range(700)), {1000}]


def copies_in(rows: list[tuple[str, str, str]]) -> dict[int, int]:
    """near_copies of (title, text, language) rows, none delivered."""
    terms = batch_terms(rows, 0)
    return near_copies(terms, [None] * len(rows), term_matrix(terms, BACKGROUND_ARTICLES).kinds)


def test_briefs_of_one_template_are_no_copies_of_each_other():
    """Briefs a wire writes from one template share their words, not their names and
    figures: none is a copy of another."""
    template = (
        "{company} reported third-quarter revenue of {revenue} million dollars on Tuesday, up "
        "{growth} percent from a year earlier, and said it expects demand for its products to "
        "stay firm through the holiday season. Shares of {company} rose {move} percent in "
        "early trading in New York after the results, which beat the average forecast of "
        "analysts surveyed by the research firm."
    )
    companies = ["Norvik Systems", "Calder Foods", "Pellham Steel", "Arbe Logistics"]
    briefs = [
        (
            f"{company} beats forecasts",
            template.format(
                company=company, revenue=410 + 37 * number, growth=3 + number, move=2 + number
            ),
            "en",
        )
        for number, company in enumerate(companies)
    ]
    assert copies_in(briefs) == {}
    # five words changed in one of them: a copy
    edited = briefs[0][1].replace("expects", "sees").replace("firm through", "strong into")
    again = [*briefs, ("Norvik Systems tops estimates", edited, "en")]
    assert copies_in(again) == {4: 0}


def test_late_near_copies_of_a_delivered_story_join_it_however_many():
    """700 late copies of a delivered wire story found no pairs past the candidate caps and
    went out again as a new item."""
    rng = random.Random(4)
    words = WIRE_STORY.split()
    plain = [k for k, word in enumerate(words) if word.islower()]

    def copy(number: int, story_id=None) -> Article:
        changed = list(words)
        changed[rng.choice(plain)] = rng.choice(["also", "again", "reportedly"])
        return article(number, "ECB cuts rates again", " ".join(changed), 30, story_id)

    delivered = [copy(number, story_id=5) for number in range(3)]
    late = [copy(number) for number in range(3, 703)]
    joined, rest = join_delivered(late, delivered)
    assert rest == [] and set(joined.values()) == {5} and len(joined) == 700


def test_near_copies_with_their_own_time_stamp_and_few_names_are_one_item():
    """A story that names one town, posted 600 times with a word changed, five headlines and
    a time stamp of its own: the copies' names and figures differ by the stamp alone."""
    story = (
        "A water main burst under the high street early on Tuesday, flooding shops and "
        "cutting supply to thousands of homes in Harford, the water company said. Crews "
        "worked through the morning to isolate the pipe, and bottled water was handed out at "
        "the library and the leisure centre. Most customers should have water back by the "
        "evening, although some may notice low pressure for a day or two. Traffic was "
        "diverted around the town centre, and buses were sent along the ring road."
    )
    headlines = ["Water main bursts in Harford", "Harford high street flooded",
                 "Thousands without water after burst pipe", "Burst main floods shops",
                 "Harford water supply cut"]  # fmt: skip
    rng = random.Random(5)
    words = story.split()
    plain = [k for k, word in enumerate(words) if word.islower()]
    copies = []
    for number in range(600):
        changed = list(words)
        changed[rng.choice(plain)] = rng.choice(["also", "again", "now"])
        stamp = f" Last updated {number // 60 % 24:02d}:{number % 60:02d}."
        copies.append(article(number, headlines[number % 5], " ".join(changed) + stamp))
    assert len(cluster_articles(copies)) == 1
