"""Italian and Portuguese articles of the written-pages set (written for this project)."""
# ruff: noqa: E501  (the articles are prose, one paragraph a line)

from sites import BOXES, Article

BOXES.update(
    {
        "cv-leggi": (
            "inline-leggi",
            [
                (
                    "pa",
                    "Potrebbe interessarti anche: Tirano, il trenino rosso "
                    "torna a pieno servizio da aprile",
                )
            ],
        ),
        "cv-whatsapp": (
            "inline-canale",
            [
                (
                    "p",
                    "Segui il Corriere delle Valli anche su WhatsApp: "
                    "le notizie della provincia, appena succedono.",
                )
            ],
        ),
        "cv-de": (
            "kasten",
            [
                (
                    "p",
                    "Urlaub in den Alpen? Abonnieren Sie unseren Newsletter auf "
                    "Deutsch mit Tipps für Ausflüge, Hütten und Veranstaltungen.",
                )
            ],
        ),
        "jp-veja": (
            "inline-veja",
            [
                (
                    "pa",
                    "VEJA TAMBÉM: Governo anuncia novo leilão de energia "
                    "solar para o segundo semestre",
                )
            ],
        ),
        "jp-app": (
            "inline-app",
            [
                (
                    "p",
                    "Baixe o aplicativo do Jornal do Planalto e receba alertas "
                    "das principais notícias de economia no seu celular.",
                )
            ],
        ),
        "jp-en": (
            "promo-en",
            [
                (
                    "p",
                    "Doing business in Brazil? Our English briefing explains the "
                    "week's policy moves in five minutes. Sign up at no cost.",
                )
            ],
        ),
    }
)

ARTICLES = [
    Article(
        "corrieredellevalli",
        "valtellina-neve-impianti",
        "Poca neve, gli impianti della Valtellina chiudono in anticipo",
        "Giulia Bianchi",
        "2026-03-08",
        "Tre stazioni sciistiche hanno annunciato la fine della stagione con tre settimane "
        "di anticipo. Gli albergatori chiedono aiuti.",
        """
        p: Dopo un inverno con temperature sopra la media e nevicate scarse sotto i 1.800 metri, le società che gestiscono gli impianti di tre comprensori della valle hanno deciso di fermare le seggiovie a metà marzo.
        p: L'innevamento artificiale ha permesso di tenere aperte le piste principali fino a febbraio, ma il caldo delle ultime settimane ha reso impossibile mantenere il fondo.
        box: cv-whatsapp
        n: Lo skipass stagionale, venduto quest'anno a 560 euro, non sarà rimborsato, ma le società offriranno uno sconto del 30 per cento sull'abbonamento della prossima stagione.
        q: «Non possiamo più programmare l'inverno come vent'anni fa. Dobbiamo pensare a cosa offrire quando la neve non c'è», ha detto il presidente del consorzio turistico, Paolo Mottarella.
        box: cv-de
        q: «Wir kommen seit dreißig Jahren hierher, aber so wenig Schnee haben wir noch nie gesehen», racconta una coppia di turisti bavaresi incontrata alla partenza della cabinovia.
        p: Gli albergatori chiedono alla Regione un fondo per le stagioni più corte e per finanziare attività alternative, dalle escursioni alle terme.
        """,
    ),
    Article(
        "corrieredellevalli",
        "sondrio-ospedale-pediatria",
        "Sondrio, riapre il reparto di pediatria dopo i lavori",
        "Giulia Bianchi",
        "2026-02-15",
        "Nuove stanze con posto letto per i genitori e un pronto soccorso pediatrico aperto "
        "giorno e notte.",
        """
        p: Il reparto di pediatria dell'ospedale di Sondrio ha riaperto lunedì dopo quattordici mesi di lavori, durante i quali i piccoli pazienti erano stati trasferiti in un'ala provvisoria.
        p: Le nuove stanze sono dodici, tutte con bagno e un letto per il genitore che accompagna il bambino. È stata anche ricavata una sala giochi con finestre sulle montagne.
        box: cv-leggi
        box: cv-whatsapp
        p: Il pronto soccorso pediatrico sarà attivo 24 ore su 24, una novità attesa da anni dalle famiglie della provincia, che finora di notte dovevano spesso raggiungere Lecco.
        q: «Avere i genitori accanto fa parte della cura, non è un lusso», ha spiegato la primaria, Elena Fumagalli.
        p: I lavori sono costati 3,8 milioni di euro, finanziati in parte da una raccolta fondi delle associazioni locali.
        """,
    ),
    Article(
        "corrieredellevalli",
        "chiavenna-crotti-festa",
        "Chiavenna, tornano i crotti aperti con sessanta cantine",
        "Luca Ferrari",
        "2026-09-05",
        "La sagra dei crotti attira ogni anno migliaia di visitatori tra le grotte naturali "
        "dove si conservano vino e formaggi.",
        """
        p: Da venerdì a domenica i crotti di Chiavenna, le antiche cantine scavate tra i massi dove soffia un'aria fresca costante, apriranno le porte ai visitatori con piatti tipici e musica.
        p: Quest'anno partecipano sessanta crotti, dieci in più dello scorso anno, grazie all'ingresso di alcune famiglie che hanno ristrutturato le cantine dei nonni.
        box: cv-de
        n: Il biglietto per il percorso enogastronomico costa 35 euro e comprende sei degustazioni; i residenti del comune pagano la metà.
        n: Per i gruppi di oltre dieci persone è obbligatorio iscriversi online entro il 31 agosto, e la conferma arriva via email con l'orario di ingresso assegnato.
        p: Gli organizzatori consigliano di arrivare in treno, perché il centro storico sarà chiuso al traffico per tutto il fine settimana.
        box: cv-leggi
        p: In caso di pioggia, le serate musicali si sposteranno nella palestra comunale.
        """,
    ),
    Article(
        "jornaldoplanalto",
        "inflacao-alimentos",
        "Preço dos alimentos volta a pesar na inflação de fevereiro",
        "Renata Souza",
        "2026-03-11",
        "Feijão, café e carne puxaram a alta do mês. Economistas esperam alívio apenas no "
        "segundo semestre.",
        """
        p: A inflação oficial acelerou em fevereiro, puxada pelos alimentos consumidos em casa, que subiram mais que o índice geral pelo terceiro mês seguido.
        n: O café moído ficou 6% mais caro no mês e já acumula alta de quase 40% em doze meses; o quilo do feijão-carioca passou de R$ 7,80 para R$ 8,90 nos supermercados de Brasília.
        box: jp-veja
        box: jp-en
        p: A seca do ano passado em regiões produtoras e o dólar mais alto explicam boa parte da pressão, segundo analistas ouvidos pelo jornal.
        q: "A família de renda mais baixa sente muito mais, porque gasta uma parte maior do salário com comida", afirma a economista Fernanda Lima.
        p: O Banco Central deve manter os juros elevados na próxima reunião, segundo a maioria das projeções do mercado.
        """,
    ),
    Article(
        "jornaldoplanalto",
        "brasilia-metro-expansao",
        "Metrô do DF recebe verba para chegar a Samambaia Norte",
        "Renata Souza",
        "2026-02-09",
        "A obra de 3,6 quilômetros deve levar dois anos. Moradores esperam há mais de uma "
        "década pela expansão.",
        """
        p: O governo do Distrito Federal assinou nesta segunda-feira o contrato de financiamento para a expansão da linha verde do metrô até Samambaia Norte, com duas novas estações.
        p: A obra deve custar cerca de R$ 600 milhões, com recursos federais e de um banco de desenvolvimento, e a previsão é que os trens comecem a circular no fim de 2028.
        box: jp-app
        n: A tarifa do metrô continuará em R$ 5,50, e os moradores das novas estações poderão fazer integração gratuita com as linhas de ônibus da região.
        q: "Hoje eu levo uma hora e meia para chegar ao Plano Piloto. Com o metrô, quero ver esse tempo cair pela metade", diz a diarista Joana Pereira.
        box: jp-veja
        n: Moradores interessados em acompanhar a obra podem se inscrever gratuitamente para receber boletins mensais por e-mail, segundo a companhia do metrô.
        p: O edital da obra será publicado nos próximos meses.
        """,
    ),
    Article(
        "jornaldoplanalto",
        "cerrado-soja-moratoria",
        "Produtores e ambientalistas divergem sobre proteção do Cerrado",
        "Felipe Andrade",
        "2026-03-02",
        "O desmatamento caiu na Amazônia, mas segue alto no Cerrado. Uma proposta de acordo "
        "com tradings divide o setor.",
        """
        p: Dados de satélite divulgados na semana passada mostram que o Cerrado perdeu mais vegetação nativa no ano passado do que a Amazônia, pelo segundo ano consecutivo.
        p: Organizações ambientais defendem um acordo semelhante à moratória da soja na Amazônia, em que as empresas compradoras se comprometem a não adquirir grãos de áreas desmatadas recentemente.
        box: jp-en
        q: "O Cerrado é a caixa d'água do Brasil. Sem ele, os rios que abastecem metade do país secam", disse o pesquisador Marcos Ribeiro.
        p: Representantes dos produtores afirmam que o Código Florestal já permite o desmatamento legal de parte das propriedades no bioma e que um acordo privado seria uma restrição adicional.
        box: jp-app
        q: "El Cerrado también es nuestro problema, porque sus ríos llegan hasta el Paraná", afirmou um representante do governo paraguaio presente ao debate.
        p: As negociações devem continuar em abril, em Brasília.
        """,
    ),
]
