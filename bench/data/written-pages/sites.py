"""The fictional sites of the written-pages set: each site's template and the boxes it repeats
on every article (written for this project). Articles add their own boxes to BOXES."""

from __future__ import annotations

from dataclasses import dataclass, field

ARTICLE_TAG = ('<article class="post">', "</article>")
ENTRY_DIV = ('<div class="entry-content">', "</div>")
STORY_DIV = ('<div class="story-body" itemprop="articleBody">', "</div>")


@dataclass
class Site:
    domain: str
    name: str
    lang: str
    nav: list[str]
    section: str
    section_path: str
    byline: str  # with {author} and {date}
    related_heading: str
    cookie: str
    footer: list[str]
    top: list[str] = field(default_factory=list)
    after_lead: list[str] = field(default_factory=list)
    end: list[str] = field(default_factory=list)
    more_titles: list[str] = field(default_factory=list)
    wrapper: tuple[str, str] = ARTICLE_TAG
    related_class: str = "more-stories"
    footer_class: str = "site-footer"
    related_inside: bool = False  # the related list inside the article's container
    cookie_class: str = "cookie-note"


@dataclass
class Article:
    site: str
    slug: str
    title: str
    author: str
    date: str  # ISO date
    lead: str
    body: str  # one line per block, "kind: text" (see `render_body`)
    top: list[str] = field(default_factory=list)  # page-specific boxes above the headline
    end: list[str] = field(default_factory=list)  # page-specific boxes after the body


# name: (css class of the box, [(tag, text)]); tags p, h3, a (a button), li (a teaser link),
# small. Lines of 20 characters or more become must-not snippets.
BOXES: dict[str, tuple[str, list[tuple[str, str]]]] = {
    # harbourline.example (en, regional news)
    "hl-support": (
        "panel panel--yellow",
        [
            ("h3", "Local reporting costs money. It is worth it."),
            (
                "p",
                "Harbourline has three reporters covering four councils. If you read us most "
                "weeks, a supporter pass at £3.50 a month keeps one of them on the beat.",
            ),
            ("a", "Chip in"),
        ],
    ),
    "hl-share": (
        "tools",
        [
            ("p", "Send this story to a neighbour · Email · WhatsApp · Copy link"),
        ],
    ),
    "hl-corrections": (
        "note-small",
        [
            (
                "small",
                "Spotted an error? Write to corrections@harbourline.example and we will "
                "look at it within two working days.",
            ),
        ],
    ),
    # stackandsprocket.example (en, tech blog)
    "ss-disclosure": (
        "pre-article",
        [
            (
                "p",
                "Heads up: some links on this page earn us a small cut if you buy something. "
                "It never changes what we recommend.",
            ),
        ],
    ),
    "ss-digest": (
        "card card-dark",
        [
            ("h3", "The Sprocket Sunday"),
            (
                "p",
                "Twelve links, one long read and a tool we actually use, every Sunday "
                "morning. More than 18,000 developers already open it with their coffee.",
            ),
            ("a", "Put me on the list"),
        ],
    ),
    "ss-author": (
        "about-writer",
        [
            (
                "p",
                "Written by the Stack & Sprocket desk. We test things on our own hardware "
                "and buy most of it ourselves.",
            ),
        ],
    ),
    # fieldnotes-climate.example (en, science)
    "fn-podcast": (
        "audio-plug",
        [
            ("h3", "Prefer to listen?"),
            (
                "p",
                "Every Thursday the Field Notes podcast walks through one study in twenty "
                "minutes. Find it wherever you get your podcasts.",
            ),
        ],
    ),
    "fn-license": (
        "reuse",
        [
            (
                "p",
                "You may republish this article for free under a Creative Commons licence, "
                "as long as you credit Field Notes and link back to the original.",
            ),
        ],
    ),
    "fn-donate": (
        "give",
        [
            (
                "p",
                "Field Notes is run as a charity. No billionaire owner, no advertisers "
                "to please: just readers. Give once or monthly and your gift goes twice as "
                "far until the end of the month.",
            ),
            ("a", "Give now"),
        ],
    ),
    # rheinblick.example (de, regional news)
    "rb-plus": (
        "paywall-teaser",
        [
            (
                "p",
                "Sie lesen einen Artikel aus unserem frei zugänglichen Angebot. Mit "
                "Rheinblick Digital für 7,90 Euro im Monat lesen Sie alle Berichte aus Ihrer "
                "Region – jederzeit kündbar.",
            ),
            ("a", "Jetzt testen"),
        ],
    ),
    "rb-whatsapp": (
        "kanal",
        [
            (
                "p",
                "Nachrichten aus dem Rheinland direkt aufs Handy: Folgen Sie unserem "
                "WhatsApp-Kanal und verpassen Sie keine Eilmeldung mehr.",
            ),
        ],
    ),
    "rb-source": (
        "quelle",
        [
            (
                "small",
                "Mit Material der Nachrichtenagenturen dpa und epd. Alle Rechte "
                "vorbehalten. Vervielfältigung nur mit Genehmigung des Verlags.",
            ),
        ],
    ),
    # technikwerkstatt.example (de, tech blog, English chrome)
    "tw-newsletter-en": (
        "box-signup",
        [
            ("h3", "Build log, once a month"),
            (
                "p",
                "Our best repair guides, teardown photos and part sources in one short email. "
                "No tracking pixels, and you can leave whenever you like.",
            ),
            ("a", "Subscribe free"),
        ],
    ),
    "tw-affiliate": (
        "hinweis",
        [
            (
                "p",
                "Transparenz: Mit einem * gekennzeichnete Links sind Affiliate-Links. Kaufst "
                "du darüber ein, bekommen wir eine kleine Provision, der Preis bleibt gleich.",
            ),
        ],
    ),
    "tw-comments": (
        "diskussion",
        [
            ("h3", "Diskussion (14 Kommentare)"),
            ("p", "Melde dich an, um mitzudiskutieren. Bitte bleib freundlich und beim Thema."),
        ],
    ),
    # sportecke.example (de, sport)
    "se-liveticker": (
        "app-box",
        [
            (
                "p",
                "Alle Spiele, alle Tore, alle Aufstellungen: Hol dir die Sportecke-App "
                "kostenlos für iOS und Android und stell dir deine Lieblingsvereine ein.",
            ),
        ],
    ),
    "se-social": (
        "folgen",
        [
            (
                "p",
                "Folgt uns auf Instagram und TikTok für Highlights und Interviews aus der Kabine.",
            ),
        ],
    ),
    "se-tipp": (
        "anzeige",
        [
            (
                "small",
                "Anzeige · Sportwetten ab 18 · Glücksspiel kann süchtig machen. Hilfe "
                "unter der kostenlosen Beratungsnummer.",
            ),
        ],
    ),
    # diariodelsur.example (es, news)
    "ds-boletin": (
        "caja-boletin",
        [
            ("h3", "Lo que pasa en el sur, cada mañana"),
            (
                "p",
                "Apúntate a nuestro boletín gratuito y recibe antes de las siete las "
                "noticias que marcan el día en Andalucía.",
            ),
            ("a", "Quiero recibirlo"),
        ],
    ),
    "ds-socio": (
        "caja-socio",
        [
            (
                "p",
                "El periodismo local necesita lectores comprometidos. Hazte socio de Diario "
                "del Sur por 5 euros al mes y ayúdanos a seguir contando lo que otros callan.",
            ),
        ],
    ),
    "ds-fuente": (
        "firma-agencia",
        [
            (
                "small",
                "Con información de agencias. Queda prohibida la reproducción total o "
                "parcial de este contenido sin autorización expresa.",
            ),
        ],
    ),
    # bitacoraverde.example (es, environment blog, English chrome)
    "bv-cookie-en": (
        "notice",
        [
            (
                "p",
                "This site stores a couple of small files on your device so the comment form "
                "remembers you. Keep browsing if that is fine with you.",
            ),
        ],
    ),
    "bv-patreon": (
        "apoyo",
        [
            (
                "p",
                "Bitácora Verde se mantiene gracias a 312 mecenas. Si te sirve lo que "
                "publicamos, con dos euros al mes nos ayudas a pagar el alojamiento.",
            ),
            ("a", "Apoyar en Patreon"),
        ],
    ),
    "bv-tags": (
        "etiquetas",
        [
            ("p", "Archivado en: Agua · Sequía · Agricultura · Doñana · Política ambiental"),
        ],
    ),
    # lecourrierdulac.example (fr, regional)
    "cl-abo": (
        "encart-abo",
        [
            (
                "p",
                "Cet article vous est offert. Pour lire toute l'actualité du Léman, abonnez-"
                "vous dès 1 € le premier mois, sans engagement.",
            ),
            ("a", "Je m'abonne"),
        ],
    ),
    "cl-alerte": (
        "encart-app",
        [
            (
                "p",
                "Recevez nos alertes en temps réel : téléchargez l'application du Courrier "
                "du Lac et activez les notifications pour votre commune.",
            ),
        ],
    ),
    "cl-copyright": (
        "droits",
        [
            (
                "small",
                "© Le Courrier du Lac – Reproduction interdite sans l'accord écrit de la "
                "rédaction.",
            ),
        ],
    ),
    # numerique-hebdo.example (fr, tech, German chrome)
    "nh-promo-de": (
        "kasten",
        [
            ("h3", "Jeden Freitag: Das Wichtigste aus der Techwelt"),
            (
                "p",
                "Kompakt, kritisch und kostenlos: der Wochenrückblick der Redaktion. "
                "Einfach E-Mail-Adresse eintragen.",
            ),
        ],
    ),
    "nh-reagir": (
        "reactions",
        [
            ("p", "Réagissez à cet article : connectez-vous ou créez un compte en deux minutes."),
        ],
    ),
    "nh-podcast": (
        "encadre",
        [
            (
                "p",
                "Dans notre podcast « Octets », la rédaction décrypte l'actu numérique de la "
                "semaine. Nouvel épisode chaque mardi sur toutes les plateformes.",
            ),
        ],
    ),
    # gazetanadwislanska.example (pl, news)
    "gn-prenumerata": (
        "ramka-prenumerata",
        [
            (
                "p",
                "Czytasz bezpłatny artykuł. Wykup prenumeratę cyfrową za 19,90 zł miesięcznie "
                "i czytaj bez ograniczeń na komputerze, tablecie i telefonie.",
            ),
            ("a", "Kup dostęp"),
        ],
    ),
    "gn-kontakt": (
        "ramka-kontakt",
        [
            (
                "p",
                "Masz temat, o którym powinniśmy napisać? Wyślij nam wiadomość na adres "
                "redakcja@gazetanadwislanska.example lub zadzwoń.",
            ),
        ],
    ),
    "gn-zrodlo": (
        "zrodlo",
        [
            ("small", "Źródło: PAP, informacje własne. Wszelkie prawa zastrzeżone."),
        ],
    ),
    # kodipixel.example (pl, tech, English chrome)
    "kp-newsletter-en": (
        "cta-box",
        [
            ("h3", "Patch notes for humans"),
            (
                "p",
                "Once a week we explain the updates that matter and skip the ones that do not. "
                "Drop your email below, it takes ten seconds.",
            ),
        ],
    ),
    "kp-polecamy": (
        "polecane",
        [
            ("h3", "Zobacz także"),
            ("li", "Test słuchawek do 300 zł: które warto kupić w tym roku"),
            ("li", "Jak przenieść zdjęcia z telefonu na dysk bez chmury"),
        ],
    ),
    "kp-autor": (
        "o-autorze",
        [
            (
                "p",
                "Autor pisze o sprzęcie i oprogramowaniu od 2014 roku. Po godzinach składa "
                "klawiatury mechaniczne i naprawia stare konsole.",
            ),
        ],
    ),
    # corrieredellevalli.example (it)
    "cv-newsletter": (
        "box-nl",
        [
            (
                "p",
                "Ogni venerdì le notizie delle nostre valli nella tua casella di posta. "
                "Iscriviti gratis alla newsletter del Corriere delle Valli.",
            ),
        ],
    ),
    "cv-abbonati": (
        "box-abbonamento",
        [
            (
                "p",
                "Sostieni l'informazione locale: abbonati a 1 euro a settimana e leggi "
                "anche l'edizione digitale del giornale di carta.",
            ),
        ],
    ),
    "cv-riproduzione": (
        "note",
        [
            ("small", "Riproduzione riservata © Corriere delle Valli"),
        ],
    ),
    # jornaldoplanalto.example (pt, Spanish chrome)
    "jp-assine": (
        "assinatura",
        [
            (
                "p",
                "Assine o Jornal do Planalto e tenha acesso ilimitado ao nosso conteúdo a "
                "partir de R$ 9,90 por mês. Cancele quando quiser.",
            ),
        ],
    ),
    "jp-boletin-es": (
        "caja",
        [
            (
                "p",
                "¿Te interesa América Latina? Recibe gratis nuestra selección semanal en "
                "español, con las noticias más leídas de la región.",
            ),
            ("a", "Suscribirme"),
        ],
    ),
    "jp-comentarios": (
        "comentarios",
        [
            (
                "p",
                "Os comentários são de responsabilidade exclusiva dos autores e não "
                "representam a opinião deste site.",
            ),
        ],
    ),
    # ledgerline.example (en, personal finance; Spanish/French chrome)
    "ll-disclosure": (
        "disclaimer",
        [
            (
                "p",
                "Nothing here is financial advice. We may hold positions in companies we write "
                "about, and we say so at the end of each article when we do.",
            ),
        ],
    ),
    "ll-caja-es": (
        "promo-es",
        [
            ("h3", "Ledgerline ahora también en español"),
            (
                "p",
                "Suscríbete a nuestra carta semanal en español y recibe cada lunes las claves "
                "de tus finanzas personales.",
            ),
        ],
    ),
    "ll-membership": (
        "membership-box",
        [
            (
                "p",
                "Ledgerline Plus members get our full portfolio spreadsheets, the quarterly "
                "tax guide and no ads. It costs less than a coffee a week.",
            ),
            ("a", "See plans"),
        ],
    ),
}


SITES: dict[str, Site] = {
    "harbourline": Site(
        "harbourline.example",
        "Harbourline",
        "en",
        ["News", "Councils", "Transport", "Schools", "Sport", "What's on", "Notices"],
        "Councils",
        "news/councils",
        "By {author} · Local democracy reporter · {date}",
        "More from the coast",
        "We use cookies to count visits and keep you signed in. Read our cookie policy to "
        "find out more or change your settings.",
        [
            "Harbourline is an independent local news site for the Tyne and Wear coast.",
            "Harbourline Media CIC, registered in England, company no. 11223344.",
        ],
        end=["hl-share", "hl-corrections", "hl-support"],
        more_titles=["Ferry timetable changes from Monday", "Letters: the promenade lights"],
    ),
    "stackandsprocket": Site(
        "stackandsprocket.example",
        "Stack & Sprocket",
        "en",
        ["Reviews", "Guides", "Linux", "Homelab", "Deals"],
        "Guides",
        "guides",
        "{author} — updated {date}",
        "Keep reading",
        "Stack & Sprocket uses first-party analytics only. By staying you accept one "
        "session cookie.",
        [
            "© Stack & Sprocket. Made in a spare room with too many cables.",
            "About · Ethics policy · How we test · Contact",
        ],
        top=["ss-disclosure"],
        end=["ss-author", "ss-digest"],
        wrapper=ENTRY_DIV,
        more_titles=["The quietest NAS cases we have tried"],
        related_inside=True,
        cookie_class="bar-bottom",
    ),
    "fieldnotes": Site(
        "fieldnotes-climate.example",
        "Field Notes",
        "en",
        ["Climate", "Oceans", "Energy", "Wildlife", "Data"],
        "Climate",
        "climate",
        "Words by {author} | {date}",
        "Related reading",
        "This website uses cookies for analytics. You can turn them off in your browser.",
        [
            "Field Notes is a registered charity. Tax ID 55-0001234.",
            "Editorial independence policy · Funders · Jobs",
        ],
        after_lead=["fn-podcast"],
        end=["fn-license", "fn-donate"],
        wrapper=STORY_DIV,
        more_titles=["Why glacier maps are getting redrawn"],
    ),
    "rheinblick": Site(
        "rheinblick.example",
        "Rheinblick",
        "de",
        ["Lokales", "Politik", "Wirtschaft", "Sport", "Kultur", "Service"],
        "Lokales",
        "lokales",
        "Von {author} | {date}",
        "Mehr aus der Region",
        "Wir verwenden Cookies und ähnliche Technologien, um Inhalte zu personalisieren "
        "und Zugriffe zu analysieren. Details in unserer Datenschutzerklärung.",
        [
            "Rheinblick Mediengruppe GmbH & Co. KG, Rheinallee 5, Bonn",
            "Impressum · Datenschutz · AGB · Mediadaten · Kontakt",
        ],
        after_lead=["rb-whatsapp"],
        end=["rb-source", "rb-plus"],
        more_titles=["Baustelle an der Südbrücke dauert länger"],
    ),
    "technikwerkstatt": Site(
        "technikwerkstatt.example",
        "Technikwerkstatt",
        "de",
        ["Reparatur", "Elektronik", "3D-Druck", "Werkzeug", "Forum"],
        "Reparatur",
        "reparatur",
        "{author} am {date}",
        "Das könnte dich auch interessieren",
        "Wir nutzen ein einziges Cookie für die Anmeldung im Forum, sonst nichts.",
        [
            "Technikwerkstatt – ein Projekt von Bastlern für Bastler.",
            "Impressum · Datenschutz · Spenden",
        ],
        top=["tw-affiliate"],
        end=["tw-newsletter-en", "tw-comments"],
        wrapper=ENTRY_DIV,
        related_class="verwandt",
        more_titles=["Lötstation für Einsteiger: worauf es ankommt"],
    ),
    "sportecke": Site(
        "sportecke.example",
        "Sportecke",
        "de",
        ["Fußball", "Handball", "Basketball", "Wintersport", "Ergebnisse"],
        "Fußball",
        "fussball",
        "{date} · {author}",
        "Weitere Meldungen",
        "Diese Seite verwendet Cookies. Mit der Nutzung stimmst du dem zu.",
        [
            "Sportecke ist ein Angebot der Nordsport Medien GmbH.",
            "Impressum · Datenschutz · Jugendschutz",
        ],
        after_lead=["se-liveticker"],
        end=["se-social", "se-tipp"],
        wrapper=STORY_DIV,
        more_titles=["Zweite Liga: Der Spieltag im Überblick"],
    ),
    "diariodelsur": Site(
        "diariodelsur.example",
        "Diario del Sur",
        "es",
        ["Andalucía", "España", "Economía", "Deportes", "Cultura", "Opinión"],
        "Andalucía",
        "andalucia",
        "{author} | Sevilla | {date}",
        "Te puede interesar",
        "Utilizamos cookies propias y de terceros para mejorar nuestros servicios y "
        "mostrarle publicidad relacionada con sus preferencias.",
        [
            "Diario del Sur, S.L. · Avenida de la Constitución 12, Sevilla",
            "Aviso legal · Política de privacidad · Contacto · Publicidad",
        ],
        after_lead=["ds-boletin"],
        end=["ds-fuente", "ds-socio"],
        more_titles=["Huelga de autobuses en Málaga este jueves"],
    ),
    "bitacoraverde": Site(
        "bitacoraverde.example",
        "Bitácora Verde",
        "es",
        ["Agua", "Clima", "Campo", "Biodiversidad", "Sobre nosotros"],
        "Agua",
        "agua",
        "Por {author}, {date}",
        "Entradas relacionadas",
        "Este blog usa cookies técnicas para que los comentarios funcionen.",
        [
            "Bitácora Verde · Textos con licencia CC BY-SA 4.0",
            "Escríbenos · Colabora · Aviso legal",
        ],
        top=["bv-cookie-en"],
        end=["bv-tags", "bv-patreon"],
        wrapper=ENTRY_DIV,
        related_class="relacionadas",
        more_titles=["Qué es un acuífero sobreexplotado, explicado"],
        related_inside=True,
    ),
    "courrierdulac": Site(
        "lecourrierdulac.example",
        "Le Courrier du Lac",
        "fr",
        ["Actualité", "Haute-Savoie", "Genevois", "Sports", "Loisirs", "Annonces"],
        "Haute-Savoie",
        "actu/haute-savoie",
        "Par {author} – Publié le {date}",
        "À lire aussi",
        "Avec votre accord, nos partenaires et nous utilisons des cookies pour stocker "
        "et accéder à des informations sur votre appareil.",
        [
            "Le Courrier du Lac, 4 quai de la Tournette, Annecy",
            "Mentions légales · Confidentialité · Gérer mes cookies · Contact",
        ],
        after_lead=["cl-alerte"],
        end=["cl-copyright", "cl-abo"],
        more_titles=["Travaux sur la RD 1508 : circulation alternée"],
    ),
    "numeriquehebdo": Site(
        "numerique-hebdo.example",
        "Numérique Hebdo",
        "fr",
        ["Actus", "Tests", "Logiciels", "Vie privée", "Bons plans"],
        "Actus",
        "actus",
        "{author}, le {date}",
        "Sur le même sujet",
        "Nous utilisons des traceurs pour mesurer l'audience. Continuer, c'est accepter.",
        [
            "Numérique Hebdo – le média indépendant du numérique",
            "Qui sommes-nous · Charte · Mentions légales",
        ],
        top=["nh-promo-de"],
        end=["nh-podcast", "nh-reagir"],
        wrapper=STORY_DIV,
        related_class="meme-sujet",
        more_titles=["Les meilleurs gestionnaires de mots de passe gratuits"],
        related_inside=True,
    ),
    "gazetanadwislanska": Site(
        "gazetanadwislanska.example",
        "Gazeta Nadwiślańska",
        "pl",
        ["Kraj", "Region", "Gospodarka", "Sport", "Kultura", "Ogłoszenia"],
        "Region",
        "region",
        "{author} | {date}",
        "Czytaj także",
        "Używamy plików cookie, aby zapewnić prawidłowe działanie serwisu. Możesz zmienić "
        "ustawienia w swojej przeglądarce.",
        [
            "Gazeta Nadwiślańska Sp. z o.o., ul. Bulwarowa 3, Sandomierz",
            "Regulamin · Polityka prywatności · Reklama · Kontakt",
        ],
        after_lead=["gn-kontakt"],
        end=["gn-zrodlo", "gn-prenumerata"],
        more_titles=["Remont mostu w Sandomierzu potrwa do jesieni"],
    ),
    "kodipixel": Site(
        "kodipixel.example",
        "KodiPixel",
        "pl",
        ["Newsy", "Testy", "Poradniki", "Gry", "Promocje"],
        "Poradniki",
        "poradniki",
        "{author} · {date}",
        "Więcej poradników",
        "Korzystamy z ciasteczek, żeby wiedzieć, które artykuły czytacie najchętniej.",
        ["KodiPixel.example – technologia po ludzku", "O nas · Współpraca · Polityka prywatności"],
        end=["kp-autor", "kp-newsletter-en", "kp-polecamy"],
        wrapper=ENTRY_DIV,
        more_titles=["Jak wybrać router Wi-Fi 7 do mieszkania"],
        related_inside=True,
        cookie_class="info-strip",
    ),
    "corrieredellevalli": Site(
        "corrieredellevalli.example",
        "Corriere delle Valli",
        "it",
        ["Cronaca", "Politica", "Economia", "Sport", "Cultura", "Necrologi"],
        "Cronaca",
        "cronaca",
        "di {author} – {date}",
        "Leggi anche",
        "Questo sito utilizza cookie tecnici e, previo consenso, cookie di profilazione.",
        [
            "Corriere delle Valli srl – P.IVA 01234567890",
            "Chi siamo · Privacy · Pubblicità · Contatti",
        ],
        after_lead=["cv-newsletter"],
        end=["cv-riproduzione", "cv-abbonati"],
        more_titles=["Sondrio, chiusa per lavori la strada del passo"],
        cookie_class="banner-privacy",
    ),
    "jornaldoplanalto": Site(
        "jornaldoplanalto.example",
        "Jornal do Planalto",
        "pt",
        ["Brasília", "Política", "Economia", "Esportes", "Cultura"],
        "Economia",
        "economia",
        "Por {author} — {date}",
        "Leia também",
        "Usamos cookies para melhorar sua experiência. Ao continuar navegando, você "
        "concorda com nossa política de privacidade.",
        [
            "Jornal do Planalto · SCS Quadra 2, Brasília – DF",
            "Expediente · Termos de uso · Privacidade · Fale conosco",
        ],
        after_lead=["jp-boletin-es"],
        end=["jp-comentarios", "jp-assine"],
        wrapper=STORY_DIV,
        more_titles=["Preço do café sobe pelo terceiro mês seguido"],
    ),
    "ledgerline": Site(
        "ledgerline.example",
        "Ledgerline",
        "en",
        ["Saving", "Investing", "Pensions", "Property", "Tax"],
        "Investing",
        "investing",
        "{author} | {date}",
        "More on investing",
        "Ledgerline and selected advertisers store cookies to tailor what you see. Adjust "
        "your choices from the footer.",
        [
            "Ledgerline Ltd is not authorised to give regulated financial advice.",
            "About · Editorial code · Advertise · Privacy",
        ],
        top=["ll-disclosure"],
        after_lead=["ll-caja-es"],
        end=["ll-membership"],
        more_titles=["How to read a fund factsheet in five minutes"],
    ),
}


# Author bios, shown after the article on the sites that name their writers; an author with
# two pages repeats hers, as real sites do.
BIOS: dict[str, str] = {
    "Megan Liddle": "Megan Liddle is Harbourline's local democracy reporter, a post part-funded "
    "by a national scheme for council reporting. She grew up in Wallsend.",
    "Rob Hanlon": "Rob Hanlon writes about heritage, the coast and anything that floats. "
    "Tips and complaints to rob@harbourline.example.",
    "Isla Ferguson": "Isla Ferguson is the oceans and energy correspondent at Field Notes, "
    "based in Edinburgh. Her last book was about the North Sea herring.",
    "Daniel Mbeki": "Daniel Mbeki reports on wildlife for Field Notes and spends most summers "
    "on islands with very bad phone signal.",
    "Harriet Cole": "Harriet Cole has written about personal finance for fifteen years. She "
    "owns shares in a global tracker fund and nothing else.",
    "Marcus Webb": "About the author: Marcus Webb is a former pensions administrator who now "
    "explains retirement saving in plain English.",
    "Jana Kessler": "Jana Kessler ist Redakteurin im Lokalressort und schreibt vor allem über "
    "Verkehr, Stadtplanung und den Bonner Stadtrat.",
    "Peter Albers": "Peter Albers berichtet seit 2009 für den Rheinblick aus Bad Godesberg und "
    "dem Siebengebirge. Kontakt: p.albers@rheinblick.example",
    "Finn Carstens": "Über den Autor: Finn Carstens begleitet Holstein Kiel seit der "
    "Regionalliga und hat noch kein Auswärtsspiel verpasst.",
    "Merle Jansen": "Merle Jansen ist Handball-Expertin der Sportecke und war selbst Torhüterin "
    "in der zweiten Liga.",
    "Lucía Morales": "Lucía Morales es redactora de Diario del Sur especializada en urbanismo y "
    "vivienda. Antes trabajó en la radio pública andaluza.",
    "Antonio Ruiz": "Antonio Ruiz cubre la actualidad de Cádiz y Córdoba para Diario del Sur. "
    "Puedes escribirle a aruiz@diariodelsur.example.",
    "Claire Dumont": "Claire Dumont est journaliste au Courrier du Lac depuis 2015. Elle suit "
    "l'actualité du bassin annécien et du Chablais.",
    "Hugo Bernard": "Hugo Bernard, journaliste, s'intéresse aux transports et à la montagne. "
    "Il est l'auteur d'un guide des refuges du Mont-Blanc.",
    "Sophie Lambert": "Sophie Lambert est rédactrice en chef adjointe de Numérique Hebdo, "
    "spécialiste des télécoms et des droits des consommateurs.",
    "Karim Haddad": "Karim Haddad écrit sur le cloud, les logiciels libres et la commande "
    "publique pour Numérique Hebdo.",
    "Katarzyna Wójcik": "Katarzyna Wójcik jest dziennikarką działu regionalnego. Wcześniej "
    "przez osiem lat pracowała w lokalnym radiu.",
    "Marek Zieliński": "Marek Zieliński pisze o zdrowiu i samorządach. Kontakt z autorem: "
    "m.zielinski@gazetanadwislanska.example",
    "Giulia Bianchi": "Giulia Bianchi è giornalista del Corriere delle Valli, segue cronaca e "
    "sanità in provincia di Sondrio.",
    "Luca Ferrari": "Luca Ferrari scrive di turismo, cultura e tradizioni della Valchiavenna "
    "per il Corriere delle Valli.",
    "Renata Souza": "Renata Souza é repórter de economia do Jornal do Planalto, com passagem "
    "pela cobertura do Congresso Nacional.",
    "Felipe Andrade": "Felipe Andrade é jornalista especializado em meio ambiente e "
    "agronegócio, baseado em Brasília.",
}
