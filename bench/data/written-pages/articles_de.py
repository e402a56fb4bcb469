"""German articles of the written-pages set (written for this project)."""
# ruff: noqa: E501  (the articles are prose, one paragraph a line)

from sites import BOXES, Article

BOXES.update(
    {
        "rb-auch": (
            "mehr-zum-thema",
            [
                (
                    "pa",
                    "Auch interessant: Warum die Rheinfähre in Königswinter wochenlang stillstand",
                )
            ],
        ),
        "rb-umfrage": (
            "inline-umfrage",
            [
                (
                    "p",
                    "Ihre Meinung ist gefragt: Sollen Radwege in der "
                    "Innenstadt Vorrang vor Parkplätzen haben? Stimmen "
                    "Sie jetzt ab!",
                )
            ],
        ),
        "rb-en-news": (
            "promo-en",
            [
                ("h3", "Bonn in English"),
                (
                    "p",
                    "New in town? Our weekly English-language roundup explains "
                    "what the city council decided and why it matters to you.",
                ),
            ],
        ),
        "rb-leserreporter": (
            "inline",
            [
                (
                    "p",
                    "Waren Sie dabei? Schicken Sie uns Ihre Fotos und "
                    "Videos per Messenger an die Redaktion.",
                )
            ],
        ),
        "tw-werbung": (
            "ad-inline",
            [
                (
                    "small",
                    "Anzeige – Werkzeugkoffer 120-teilig jetzt 30 % "
                    "günstiger, nur solange der Vorrat reicht",
                )
            ],
        ),
        "tw-forum": (
            "forum-hinweis",
            [
                (
                    "p",
                    "Du hängst an einer Stelle fest? Stell deine Frage im "
                    "Forum, dort helfen über 9.000 Mitglieder weiter.",
                )
            ],
        ),
        "tw-steady": (
            "unterstuetzen",
            [
                (
                    "p",
                    "Gefällt dir diese Anleitung? Werde Unterstützer:in "
                    "und hilf uns, werbefrei zu bleiben – schon ab 3 Euro "
                    "im Monat.",
                )
            ],
        ),
        "tw-es": (
            "caja-es",
            [
                (
                    "p",
                    "¿Reparas tus propios aparatos? Suscríbete a nuestro boletín en "
                    "español y recibe guías nuevas cada mes.",
                )
            ],
        ),
        "se-lesetipp": (
            "inline-teaser",
            [("pa", "LESETIPP: Trainerwechsel im Norden – wer jetzt als Favorit gilt")],
        ),
        "se-video": (
            "video-hinweis",
            [
                (
                    "p",
                    "Im Video: Alle Tore des Spieltags in drei Minuten – "
                    "exklusiv für registrierte Nutzer",
                )
            ],
        ),
        "se-tippspiel": (
            "inline-cta",
            [
                (
                    "p",
                    "Mach mit beim Sportecke-Tippspiel: Jede Woche "
                    "winken Trikots und Stadiontickets für die besten "
                    "Tipper!",
                )
            ],
        ),
        "rb-sozial": (
            "inline-hinweis",
            [
                (
                    "p",
                    "Schon mehr als 25.000 Leserinnen und Leser bekommen "
                    "unseren Feierabend-Brief. Sie auch? Kostenlos "
                    "anmelden und abends informiert sein.",
                )
            ],
        ),
    }
)

ARTICLES = [
    Article(
        "rheinblick",
        "beuel-fahrradstrasse",
        "Beuel bekommt seine erste Fahrradstraße",
        "Jana Kessler",
        "2026-01-22",
        "Ab dem Frühjahr haben Radfahrer auf der Siegburger Straße Vorrang. Anwohner dürfen "
        "weiter mit dem Auto zu ihren Häusern fahren.",
        """
        p: Der Bezirksausschuss Beuel hat am Mittwochabend mit knapper Mehrheit beschlossen, einen 800 Meter langen Abschnitt zwischen der Kennedybrücke und dem Konrad-Adenauer-Platz zur Fahrradstraße umzuwidmen.
        p: Autos dürfen dort künftig nur noch mit Tempo 30 fahren und Radfahrer nicht mehr überholen, wenn diese nebeneinander unterwegs sind. Durchgangsverkehr soll mit Schildern und zwei Pollern an der Einmündung zur Hermannstraße verhindert werden.
        box: rb-umfrage
        q: „Wir haben hier morgens bis zu 3.000 Radfahrer, mehr als Autos. Die Straße sollte das endlich abbilden“, sagte die Grünen-Politikerin Sabine Lohmar.
        box: rb-sozial
        p: Die CDU stimmte dagegen. Ihr Sprecher Markus Ehlert warnte vor Ausweichverkehr in den Seitenstraßen und forderte, zunächst eine Zählung des Autoverkehrs abzuwarten.
        n: Die Kosten für Markierungen und Schilder beziffert die Stadt auf rund 95.000 Euro, das Land übernimmt davon 70 Prozent aus einem Förderprogramm für den Radverkehr.
        box: rb-auch
        p: Die Bauarbeiten sollen im März beginnen und etwa sechs Wochen dauern. Die Verwaltung will nach einem Jahr Bilanz ziehen.
        """,
    ),
    Article(
        "rheinblick",
        "rheinaue-flohmarkt",
        "Rheinauen-Flohmarkt: Stadt erhöht Standgebühren deutlich",
        "Jana Kessler",
        "2026-02-06",
        "Wer im Sommer einen Stand auf dem größten Flohmarkt der Region aufbauen will, "
        "muss künftig fast doppelt so viel zahlen.",
        """
        n: Die Gebühr für einen drei Meter langen Stand steigt von 18 auf 34 Euro, für gewerbliche Händler von 45 auf 80 Euro, wie aus einer Vorlage für den Finanzausschuss hervorgeht.
        p: Die Stadt begründet die Erhöhung mit gestiegenen Kosten für Reinigung, Toiletten und Sicherheitspersonal. Zuletzt hatte der Markt pro Termin ein Defizit von rund 12.000 Euro gemacht.
        box: rb-en-news
        p: Der Flohmarkt in der Rheinaue findet seit den Siebzigerjahren statt und zieht an guten Tagen mehr als 50.000 Besucher an. Viele Anbieter sind Familien, die Kinderkleidung und Spielzeug verkaufen.
        q: „Für private Verkäufer lohnt es sich dann kaum noch“, sagt Thomas Brück, der seit zwanzig Jahren mit seiner Tochter einen Stand betreibt.
        n: Die Anmeldung für einen Stand läuft künftig nur noch online: Wer sich bis Ende März registriert, bekommt seinen Platz per E-Mail zugeteilt, kostenlos stornieren lässt er sich bis eine Woche vorher.
        p: Der Ausschuss berät am kommenden Dienstag. Die Opposition hat bereits angekündigt, eine Staffelung nach privaten und gewerblichen Anbietern zu beantragen.
        """,
    ),
    Article(
        "rheinblick",
        "godesberg-schwimmbad",
        "Hallenbad in Bad Godesberg öffnet nach Sanierung",
        "Peter Albers",
        "2026-02-21",
        "Nach drei Jahren Bauzeit ist das Kurfürstenbad wieder offen. Der Eintritt bleibt "
        "für Kinder vorerst kostenlos.",
        """
        p: Oberbürgermeisterin Katja Dörner hat am Samstag das sanierte Bad eröffnet. Das denkmalgeschützte Gebäude aus den Fünfzigerjahren hat ein neues Dach, eine moderne Lüftung und ein zusätzliches Lehrschwimmbecken bekommen.
        fig: Das sanierte Kurfürstenbad am Eröffnungstag | Foto: Rheinblick/Meier
        p: Die Sanierung kostete rund 21 Millionen Euro und damit sechs Millionen mehr als geplant. Als Gründe nannte die Stadt Schadstoffe in der alten Decke und gestiegene Baupreise.
        box: rb-leserreporter
        n: Erwachsene zahlen künftig 4,50 Euro für einen Besuch, eine Jahreskarte kostet 290 Euro; Kinder unter 14 Jahren schwimmen bis Ende des Jahres kostenlos.
        p: Schulen und Vereine haben Vorrang bei den Bahnen am Vormittag und frühen Abend. Für die Öffentlichkeit ist das Bad an Wochenenden ganztägig geöffnet.
        p: Die Schwimmvereine hatten während der Schließung auf Bäder in Nachbarstädten ausweichen müssen.
        """,
    ),
    Article(
        "rheinblick",
        "siebengebirge-wanderwege",
        "Sturmschäden: Mehrere Wanderwege im Siebengebirge gesperrt",
        "Peter Albers",
        "2026-03-03",
        "Umgestürzte Bäume blockieren Wege rund um den Drachenfels. Der Forst bittet "
        "Ausflügler, die Sperrungen ernst zu nehmen.",
        """
        p: Nach den Sturmböen vom Wochenende sind im Naturpark Siebengebirge mindestens zwölf Wanderwege ganz oder teilweise gesperrt. Besonders betroffen ist der Bereich zwischen Drachenfels und Löwenburg.
        p: Nach Angaben des Regionalforstamts liegen allein am Eselsweg mehr als vierzig Bäume quer. Viele weitere Kronen hängen abgebrochen in Nachbarbäumen und können jederzeit herabfallen.
        box: rb-umfrage
        li: Eselsweg zwischen Königswinter und Drachenfels
        li: Rundweg um den Großen Ölberg
        li: Verbindungsweg von der Margarethenhöhe zur Löwenburg
        box: rb-sozial
        q: „Die Wege sehen teilweise harmlos aus, aber die Gefahr kommt von oben“, sagte Revierförster Heiko Brandt.
        p: Die Aufräumarbeiten sollen bis Ostern dauern. Die Drachenfelsbahn fährt normal.
        """,
    ),
    Article(
        "technikwerkstatt",
        "akku-akkuschrauber-zellen",
        "Akkuschrauber-Akku selbst neu bestücken: So geht's",
        "Lena Haupt",
        "2026-01-18",
        "Der Ersatzakku kostet oft mehr als der halbe Schrauber. Mit neuen Zellen und etwas "
        "Geduld lässt sich der alte Pack retten.",
        """
        p: Die meisten Akkupacks bestehen aus fünf oder zehn Rundzellen vom Typ 18650, die mit Nickelband verschweißt sind. Meist ist nur eine Zelle schwach, reißt aber den ganzen Pack mit nach unten.
        p: Vor dem Öffnen solltest du den Akku vollständig entladen und die Spannung jeder Zelle einzeln messen. Weicht eine Zelle um mehr als 0,3 Volt ab, ist sie der Übeltäter.
        box: tw-werbung
        box: tw-forum
        h: Löten oder schweißen?
        p: Direkt auf Zellen zu löten ist heikel, weil die Hitze die Zelle schädigen kann. Besser sind Zellen mit bereits angeschweißten Lötfahnen, die du dann mit dem Nickelband verbindest.
        n: Markenzellen mit Lötfahnen kosten derzeit zwischen 4 und 7 Euro pro Stück, ein kompletter Satz für einen 18-Volt-Pack also rund 30 Euro.
        p: Wichtig: Die Elektronik im Pack überwacht Temperatur und Spannung. Schließe sie wieder genau so an, wie sie war, und mach vorher ein Foto.
        """,
    ),
    Article(
        "technikwerkstatt",
        "roehrenradio-restaurieren",
        "Ein Röhrenradio von 1956 wieder zum Spielen bringen",
        "Lena Haupt",
        "2026-02-09",
        "Unser Fundstück vom Dachboden brummte nur. Nach einem Wochenende mit neuen "
        "Kondensatoren spielt es wieder UKW.",
        """
        p: Das Gerät stammt aus einer westdeutschen Fabrik und hat sechs Röhren, ein magisches Auge und eine Klaviertastatur für die Wellenbereiche. Beim ersten Einschalten am Regeltrenntrafo war nur ein lautes Netzbrummen zu hören.
        box: tw-es
        p: Die Ursache war, wie so oft, der Siebelko im Netzteil. Die alten Elektrolytkondensatoren trocknen über die Jahrzehnte aus und glätten die Anodenspannung nicht mehr.
        box: tw-steady
        p: Wir haben außerdem alle Papierkondensatoren ersetzt, weil sie Feuchtigkeit ziehen und Leckströme bekommen. Insgesamt waren es 14 Stück.
        q: „Nie ein altes Röhrengerät einfach an die Steckdose hängen“, sagt unser Leser Günter Wolf, der seit vierzig Jahren Radios restauriert.
        p: Nach dem Abgleich der Zwischenfrequenz klingt das Radio warm und erstaunlich kräftig. Das magische Auge leuchtet allerdings nur noch schwach; eine neue Röhre ist bestellt.
        """,
    ),
    Article(
        "technikwerkstatt",
        "reparaturbonus-sachsen",
        "Reparaturbonus: Was der neue Zuschuss für Elektrogeräte taugt",
        "Mehmet Yilmaz",
        "2026-03-01",
        "Seit Februar zahlt das Land die Hälfte der Reparaturkosten, bis zu 100 Euro. Wir "
        "haben ausprobiert, wie einfach das geht.",
        """
        n: Der Bonus gilt für Geräte wie Waschmaschinen, Smartphones und Kaffeevollautomaten, die in einem Fachbetrieb repariert werden; die Rechnung muss mindestens 75 Euro betragen.
        p: Den Antrag stellt man online nach der Reparatur. Wir haben das mit der Rechnung für einen neuen Bildschirm an einem drei Jahre alten Tablet getestet, das Formular war in zehn Minuten ausgefüllt.
        box: tw-forum
        p: Nach fünf Wochen kam das Geld. Wer selbst repariert, geht allerdings leer aus, auch wenn er Ersatzteile kauft. Das kritisieren Repair-Cafés seit dem Start des Programms.
        q: „Ein Bonus, der nur für Werkstätten gilt, erreicht die Leute nicht, die sowieso schon reparieren“, sagt Anja Roth vom Netzwerk Reparatur-Initiativen.
        q: "Right to repair only matters if people can afford the repair," wrote the European consumer group BEUC in its statement on the new rules, which Sachsen cites as a model.
        p: Der Topf für das laufende Jahr ist mit 2,5 Millionen Euro gefüllt. Ist er leer, endet das Programm vorzeitig.
        """,
    ),
    Article(
        "sportecke",
        "holstein-heimsieg",
        "Kiel dreht das Spiel in der Nachspielzeit",
        "Finn Carstens",
        "2026-02-08",
        "Lange sah es nach der nächsten Heimniederlage aus. Dann trafen zwei Einwechselspieler "
        "innerhalb von vier Minuten.",
        """
        p: Vor 14.200 Zuschauern lag Kiel bis zur 87. Minute mit 0:1 zurück. Die Gäste waren in der ersten Halbzeit nach einem Eckball in Führung gegangen und verteidigten danach tief und geschickt.
        box: se-lesetipp
        p: Trainer Marcel Rapp brachte nach einer Stunde zwei frische Stürmer, und beide sollten das Spiel entscheiden. Erst köpfte Jonas Sterner nach einer Flanke von links zum Ausgleich, dann schob Lukas Reiners in der 91. Minute aus kurzer Distanz ein.
        q: „Wir haben nie aufgehört, an uns zu glauben. Das war heute eine Frage des Willens“, sagte Reiners nach dem Abpfiff.
        box: se-tippspiel
        li: Tore: 0:1 Hauser (23.), 1:1 Sterner (87.), 2:1 Reiners (90.+1)
        li: Zuschauer: 14.200
        q: "We defended well for eighty-five minutes, and then football happened," said the visiting coach, a Dane, who gave his press conference in English.
        p: Mit dem Sieg springt Kiel auf Platz neun. Am kommenden Samstag geht es zum Tabellenführer.
        """,
    ),
    Article(
        "sportecke",
        "bundesliga-ticketpreise",
        "Fans protestieren gegen höhere Ticketpreise",
        "Finn Carstens",
        "2026-02-22",
        "In mehreren Stadien blieben die Kurven zwölf Minuten lang still. Der Protest richtet "
        "sich gegen Preissprünge bei Dauerkarten.",
        """
        p: Mit Bannern und zwölf Minuten Schweigen zu Beginn der Spiele haben Fanszenen am Wochenende gegen steigende Eintrittspreise protestiert. Mehrere Vereine hatten angekündigt, die Preise für Stehplätze zur neuen Saison anzuheben.
        n: Bei einem Verein soll die Stehplatz-Dauerkarte von 210 auf 265 Euro steigen, ein Einzelticket für die Gästekurve kostet dann 22 statt 17 Euro.
        box: se-video
        p: Die Vereine verweisen auf höhere Kosten für Energie, Personal und Sicherheit. Fanvertreter halten dagegen, die Einnahmen aus Fernsehgeldern seien so hoch wie nie.
        q: „Die Kurve ist kein Kostenfaktor, sie ist der Grund, warum die Leute im Fernsehen zuschauen“, hieß es in einer gemeinsamen Erklärung.
        p: Die Deutsche Fußball Liga äußerte sich nicht. Die Fanszenen kündigten weitere Aktionen an.
        """,
    ),
    Article(
        "sportecke",
        "handball-pokal-final4",
        "Pokal-Final-Four: Flensburg gegen Magdeburg im Halbfinale",
        "Merle Jansen",
        "2026-03-06",
        "Die Auslosung verspricht ein vorgezogenes Endspiel. Das Turnier findet im April "
        "in Hamburg statt.",
        """
        p: Die Auslosung am Donnerstagabend hat die beiden Favoriten schon im Halbfinale zusammengebracht. Im zweiten Spiel trifft Lemgo auf die Füchse Berlin.
        box: se-lesetipp
        p: Flensburg hatte sich im Viertelfinale knapp mit einem Tor Vorsprung gegen Kiel durchgesetzt, Magdeburg gewann souverän mit acht Toren Differenz in Erlangen.
        box: se-tippspiel
        q: „Gegen Magdeburg kannst du nicht über sechzig Minuten gut spielen, nur über zweiundsechzig“, sagte Flensburgs Kapitän lachend.
        p: Das Final Four wird am 18. und 19. April in der Hamburger Arena ausgetragen, die Halle ist bereits ausverkauft.
        """,
    ),
]
