"""Polish articles of the written-pages set (written for this project)."""
# ruff: noqa: E501  (the articles are prose, one paragraph a line)

from sites import BOXES, Article

BOXES.update(
    {
        "gn-czytaj": (
            "inline-czytaj",
            [("pa", "CZYTAJ RÓWNIEŻ: Tarnobrzeg szuka pieniędzy na nowy basen miejski")],
        ),
        "gn-newsletter": (
            "inline-nl",
            [
                (
                    "p",
                    "Zapisz się na nasz poranny newsletter i dostawaj "
                    "najważniejsze wiadomości z regionu przed 7.00.",
                )
            ],
        ),
        "gn-de": (
            "kasten-de",
            [
                (
                    "p",
                    "Urlaub an der Weichsel? Unser deutschsprachiger Ausflugsführer "
                    "mit Tipps zu Radwegen und Weinbergen – jetzt gratis laden.",
                )
            ],
        ),
        "gn-komentarze": (
            "komentarze",
            [
                (
                    "p",
                    "Komentarze (8) · Zaloguj się, aby dodać komentarz. "
                    "Pamiętaj o zasadach kultury.",
                )
            ],
        ),
        "kp-reklama": (
            "reklama",
            [
                (
                    "small",
                    "Materiał promocyjny partnera: sprawdź nowe laptopy "
                    "z rabatem do 500 zł w sklepie partnera",
                )
            ],
        ),
        "kp-discord": (
            "discord",
            [
                (
                    "p",
                    "Dołącz do naszego serwera Discord, gdzie ponad 4 tysiące "
                    "osób pomaga sobie nawzajem w konfiguracji sprzętu.",
                )
            ],
        ),
        "kp-youtube": (
            "yt",
            [
                (
                    "p",
                    "Ten poradnik nagraliśmy też w wersji wideo – subskrybuj nasz "
                    "kanał, żeby nie przegapić kolejnych odcinków.",
                )
            ],
        ),
    }
)

ARTICLES = [
    Article(
        "gazetanadwislanska",
        "sandomierz-winobranie",
        "Winnice spod Sandomierza z rekordowym zbiorem",
        "Katarzyna Wójcik",
        "2025-10-14",
        "Ciepły wrzesień sprawił, że winogrona dojrzały wcześniej niż zwykle. Winiarze mówią "
        "o najlepszym roku od dekady.",
        """
        p: W okolicach Sandomierza działa już ponad czterdzieści winnic, a większość z nich zakończyła winobranie na początku października, niemal dwa tygodnie wcześniej niż w ubiegłych latach.
        p: Według stowarzyszenia winiarzy zbiory były o jedną trzecią wyższe niż przed rokiem, a zawartość cukru w owocach pozwoli na produkcję win wytrawnych bez dosładzania.
        box: gn-czytaj
        q: – Takiego roku nie pamiętam, odkąd posadziłem pierwsze krzewy w 2008 roku – mówi Andrzej Kowalczyk, właściciel winnicy pod Górami Pieprzowymi.
        n: Butelka lokalnego wina kosztuje w winnicach od 45 do 120 zł, a część producentów zapowiada, że ceny nowego rocznika nie wzrosną mimo wyższych kosztów pracy.
        box: gn-de
        q: „So einen Jahrgang hatten wir an der Mosel lange nicht“, mówi Klaus Berger, niemiecki winiarz, który od trzech lat doradza jednej z winnic pod Sandomierzem.
        p: Region coraz częściej odwiedzają turyści, którzy łączą degustacje z wycieczkami rowerowymi wzdłuż Wisły. Winiarze chcą w przyszłym roku oznakować wspólny szlak.
        """,
    ),
    Article(
        "gazetanadwislanska",
        "most-kladka-wisla",
        "Kładka pieszo-rowerowa nad Wisłą coraz bliżej",
        "Katarzyna Wójcik",
        "2026-01-21",
        "Miasto podpisało umowę na projekt kładki, która połączy bulwary z prawym brzegiem "
        "rzeki. Budowa mogłaby ruszyć za dwa lata.",
        """
        p: Kładka ma mieć około 300 metrów długości i prowadzić od bulwaru przy ulicy Flisaczej na drugi brzeg Wisły, gdzie kończy się wojewódzka trasa rowerowa.
        p: Projekt przygotuje krakowska pracownia, która wygrała konkurs architektoniczny. Koncepcja zakłada lekką konstrukcję podwieszoną na jednym pylonie.
        box: gn-newsletter
        n: Szacowany koszt budowy to około 60 milionów złotych; miasto liczy, że 80 procent pokryją środki unijne, a resztę dołoży z własnego budżetu w ciągu trzech lat.
        q: – Dziś, żeby przejechać rowerem na drugą stronę, trzeba korzystać z mostu, po którym jeżdżą ciężarówki. To po prostu niebezpieczne – mówi radna Ewa Nowak.
        box: gn-komentarze
        p: Projekt ma być gotowy do końca przyszłego roku.
        """,
    ),
    Article(
        "gazetanadwislanska",
        "szpital-nocna-pomoc",
        "Nocna pomoc lekarska w nowym miejscu. Pacjenci skarżą się na dojazd",
        "Marek Zieliński",
        "2026-02-10",
        "Od lutego dyżury nocne i świąteczne przeniesiono do szpitala powiatowego. Dla "
        "mieszkańców wsi to dodatkowe kilometry.",
        """
        p: Przez ostatnie lata nocna i świąteczna opieka zdrowotna działała w przychodni w centrum miasta. Po zmianie umowy z Narodowym Funduszem Zdrowia dyżury przejął szpital powiatowy.
        p: Szpital przekonuje, że pacjenci zyskają dostęp do badań i szybszą pomoc w razie pogorszenia stanu zdrowia. Część mieszkańców narzeka jednak na brak autobusów wieczorem.
        box: gn-czytaj
        box: gn-newsletter
        li: Godziny pracy: od 18.00 do 8.00 w dni robocze
        li: W weekendy i święta: całodobowo
        li: Telefon do porady: czynny przez całą dobę
        q: – Nie mam samochodu, a taksówka w nocy kosztuje mnie więcej niż pół emerytury – mówi pani Halina z gminy Dwikozy.
        p: Starostwo zapowiada rozmowy z przewoźnikiem o dodatkowym kursie wieczornym.
        """,
    ),
    Article(
        "gazetanadwislanska",
        "powodz-waly",
        "Wały przeciwpowodziowe do remontu przed wiosną",
        "Marek Zieliński",
        "2026-02-27",
        "Wody Polskie rozpoczęły prace na najbardziej zniszczonym odcinku. Mieszkańcy "
        "pamiętają powódź sprzed kilkunastu lat.",
        """
        p: Prace obejmą około czterech kilometrów wału na prawym brzegu Wisły, między Koćmierzowem a ujściem Sanu. Na tym odcinku podczas ostatnich roztopów pojawiły się przesiąki.
        n: Koszt remontu wynosi 38 milionów złotych, a wykonawca zobowiązał się zakończyć najważniejsze prace do końca marca, przed spodziewanym wzrostem stanu wody.
        box: gn-komentarze
        p: Mieszkańcy Koćmierzowa wciąż pamiętają rok 2010, gdy woda przerwała wał i zalała domy oraz okoliczne sady.
        q: – Każdej wiosny patrzymy na rzekę i liczymy centymetry – mówi sołtys Jan Pietrzyk.
        n: Urząd gminy uruchomił bezpłatny newsletter z ostrzeżeniami przed wysoką wodą; zapisało się do niego już ponad 3 tysiące mieszkańców, a wiadomości przychodzą też SMS-em.
        p: Na czas prac ścieżka rowerowa na koronie wału będzie zamknięta.
        """,
    ),
    Article(
        "kodipixel",
        "router-haslo-aktualizacja",
        "Jak zabezpieczyć domowy router w 15 minut",
        "Tomasz Lis",
        "2026-01-25",
        "Większość routerów od operatora działa na fabrycznych ustawieniach latami. Kilka "
        "prostych zmian znacząco poprawia bezpieczeństwo.",
        """
        p: Zacznij od zmiany hasła do panelu administracyjnego. Na wielu urządzeniach wciąż działa login admin i hasło wydrukowane na naklejce, którą widzi każdy gość.
        p: Drugim krokiem jest aktualizacja oprogramowania. Routery od operatorów często aktualizują się same, ale kupione w sklepie wymagają ręcznego sprawdzenia, zwykle w zakładce System.
        box: kp-reklama
        p: Wyłącz WPS i zdalne zarządzanie, jeśli z nich nie korzystasz. To dwie najczęściej wykorzystywane furtki w atakach na sprzęt domowy.
        n: Operatorzy coraz częściej oferują płatne pakiety bezpieczeństwa za 5–10 zł miesięcznie; w większości przypadków dają one niewiele ponad to, co można ustawić samodzielnie za darmo.
        box: kp-discord
        p: Na koniec utwórz osobną sieć dla gości i urządzeń smart home. Jeśli żarówka zostanie przejęta, nie da dostępu do twojego laptopa.
        """,
    ),
    Article(
        "kodipixel",
        "bateria-telefon-zima",
        "Dlaczego telefon rozładowuje się na mrozie i co z tym zrobić",
        "Tomasz Lis",
        "2026-02-02",
        "Przy minus dziesięciu stopniach bateria potrafi pokazać 30 procent, a chwilę później "
        "telefon się wyłącza. To nie usterka.",
        """
        p: Baterie litowo-jonowe źle znoszą zimno, bo reakcje chemiczne w ich wnętrzu zwalniają. Telefon widzi nagły spadek napięcia i wyłącza się, żeby chronić podzespoły.
        p: Po ogrzaniu bateria zwykle odzyskuje pojemność. Problem jest większy w starszych telefonach, których ogniwa są już zużyte.
        box: kp-youtube
        box: kp-discord
        li: Noś telefon w wewnętrznej kieszeni kurtki
        li: Nie ładuj go od razu po powrocie z mrozu
        li: Wyłącz niepotrzebne funkcje, np. GPS w tle
        n: Wymiana baterii w autoryzowanym serwisie kosztuje od 250 do 500 zł, zależnie od modelu, a w niezależnych punktach często o połowę mniej.
        p: Jeśli telefon wyłącza się także w ciepłym pomieszczeniu przy kilkunastu procentach, to znak, że bateria nadaje się do wymiany.
        """,
    ),
    Article(
        "kodipixel",
        "stary-laptop-linux",
        "Stary laptop znów szybki? Sprawdziliśmy trzy lekkie systemy",
        "Agnieszka Mazur",
        "2026-02-20",
        "Dziesięcioletni laptop z 4 GB pamięci dostał drugie życie. Nie każdy system "
        "poradził sobie równie dobrze.",
        """
        p: Do testu wykorzystaliśmy laptopa z 2015 roku z procesorem dwurdzeniowym, 4 GB pamięci i nowym dyskiem SSD za niecałe 100 zł. Na fabrycznym systemie uruchamiał się prawie dwie minuty.
        p: Najlepiej wypadła dystrybucja z lekkim środowiskiem graficznym: start w 25 sekund i płynna praca w przeglądarce z kilkoma kartami. Najwięcej pamięci zajęła dystrybucja z efektami wizualnymi.
        box: kp-reklama
        q: – Dla osoby, która przegląda internet i pisze maile, taki sprzęt w zupełności wystarczy – mówi Paweł Kaczmarek z fundacji przekazującej komputery szkołom.
        p: Największym ograniczeniem okazała się przeglądarka. Strony z dużą ilością reklam potrafią zająć całą pamięć, dlatego warto zainstalować blokowanie reklam.
        box: kp-youtube
        q: "Old hardware is not slow, modern software is heavy," pisze w dokumentacji twórca jednej z testowanych dystrybucji.
        p: Nasze wnioski: wymiana dysku na SSD daje więcej niż zmiana systemu, ale razem robią z dziesięcioletniego sprzętu całkiem używalny komputer.
        """,
    ),
]
