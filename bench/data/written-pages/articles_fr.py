"""French articles of the written-pages set (written for this project)."""
# ruff: noqa: E501  (the articles are prose, one paragraph a line)

from sites import BOXES, Article

BOXES.update(
    {
        "cl-lire": (
            "inline-lire",
            [
                (
                    "pa",
                    "LIRE AUSSI. Annecy : la piétonnisation de la vieille "
                    "ville divise toujours les commerçants",
                )
            ],
        ),
        "cl-newsletter": (
            "inline-nl",
            [
                ("h3", "La lettre du matin"),
                (
                    "p",
                    "Chaque jour à 7 h, les nouvelles de Haute-Savoie "
                    "qui comptent, envoyées par mail. C'est gratuit.",
                ),
            ],
        ),
        "cl-en": (
            "promo-en",
            [
                (
                    "p",
                    "Visiting the lakes this summer? Our free English guide to "
                    "events, ferries and beaches is out now. Grab your copy.",
                )
            ],
        ),
        "cl-temoin": (
            "appel",
            [
                (
                    "p",
                    "Vous avez été témoin de cet événement ? Contactez la "
                    "rédaction, nous publions vos photos avec votre accord.",
                )
            ],
        ),
        "nh-ensavoir": (
            "inline-plus",
            [
                (
                    "pa",
                    "En savoir plus : notre comparatif des forfaits "
                    "mobiles à moins de 10 euros, mis à jour ce mois-ci",
                )
            ],
        ),
        "nh-soutien": (
            "inline-don",
            [
                (
                    "p",
                    "Numérique Hebdo ne vit que de ses lecteurs. Un don, "
                    "même de 5 €, nous permet de rester sans publicité "
                    "ciblée.",
                )
            ],
        ),
        "nh-affil": (
            "mention",
            [
                (
                    "small",
                    "Certains liens de cet article sont affiliés : un achat "
                    "peut nous rapporter une commission, sans surcoût pour "
                    "vous.",
                )
            ],
        ),
        "cl-club": (
            "inline-club",
            [
                (
                    "p",
                    "Vous appréciez nos reportages ? Rejoignez le club des "
                    "lecteurs : soirées avec la rédaction, édition du "
                    "dimanche en avant-première et zéro bannière. Dès 3 € "
                    "par mois.",
                )
            ],
        ),
    }
)

ARTICLES = [
    Article(
        "courrierdulac",
        "annecy-bateaux-electriques",
        "Lac d'Annecy : les bateaux de promenade passent à l'électrique",
        "Claire Dumont",
        "2026-02-04",
        "La compagnie de navigation va remplacer trois de ses cinq bateaux d'ici 2028, une "
        "première sur un grand lac alpin.",
        """
        p: Le conseil d'administration de la compagnie a validé mardi la commande de trois bateaux à propulsion électrique, d'une capacité de 250 passagers chacun, auprès d'un chantier naval de Vendée.
        p: Les nouveaux navires seront rechargés la nuit au port d'Annecy et pourront effectuer le tour complet du lac, soit environ 40 kilomètres, sans recharge intermédiaire.
        box: cl-newsletter
        box: cl-lire
        n: Le prix du billet pour le tour du lac restera fixé à 21,50 euros pour un adulte, assure la direction, qui compte sur une baisse des coûts de carburant pour absorber l'investissement.
        q: « Le lac est notre outil de travail. On ne pouvait pas continuer à y brûler du gazole tout l'été », explique le directeur, Olivier Perrin.
        p: L'investissement, de 18 millions d'euros, est financé en partie par la région et par l'agence de l'eau. Les deux bateaux restants, plus récents, seront convertis plus tard.
        """,
    ),
    Article(
        "courrierdulac",
        "thonon-marche-couvert",
        "Thonon : le marché couvert rouvrira au printemps",
        "Claire Dumont",
        "2026-02-18",
        "Fermée depuis l'incendie de 2024, la halle retrouvera ses étals en avril avec une "
        "vingtaine de commerçants.",
        """
        p: Les travaux de reconstruction de la halle se terminent, a annoncé la mairie de Thonon-les-Bains, qui prévoit une réouverture le premier samedi d'avril.
        fig: La charpente de la halle reconstruite à l'identique | Photo : Le Courrier du Lac / J. Morel
        p: La charpente métallique du XIXe siècle a été restaurée à l'identique, mais l'intérieur a été repensé, avec une zone de restauration et des stands plus petits pour accueillir de jeunes producteurs.
        box: cl-temoin
        n: Les loyers des étals seront plafonnés à 180 euros par mois la première année, une mesure réclamée par les producteurs du Chablais qui jugeaient les anciens tarifs trop élevés.
        n: Les producteurs intéressés par un étal peuvent encore s'inscrire gratuitement auprès de la mairie jusqu'au 15 mars, par courriel ou au guichet.
        p: Pendant les travaux, le marché s'était installé sur la place des Arts, avec des horaires réduits. Plusieurs commerçants disent avoir perdu jusqu'à un tiers de leur clientèle.
        box: cl-en
        p: La mairie organisera une fête d'inauguration avec concerts et dégustations le 4 avril.
        """,
    ),
    Article(
        "courrierdulac",
        "chamonix-glacier-mesures",
        "Mer de Glace : le glacier a perdu 4 mètres d'épaisseur en un an",
        "Hugo Bernard",
        "2026-03-10",
        "Les mesures réalisées à l'automne confirment une fonte accélérée, qui oblige à "
        "rallonger encore l'accès à la grotte de glace.",
        """
        p: Les glaciologues qui suivent la Mer de Glace depuis plus d'un siècle ont publié leurs relevés de l'automne : au niveau du site du Montenvers, le glacier s'est aminci de près de quatre mètres en douze mois.
        p: Pour rejoindre la grotte creusée chaque année dans la glace, les visiteurs doivent désormais descendre plus de 580 marches depuis la gare du train à crémaillère.
        box: cl-lire
        q: « Ce n'est plus une tendance, c'est un effondrement en direct », estime la glaciologue Anne Vallet.
        box: cl-club
        p: La commune réfléchit à un nouveau site d'interprétation qui montrerait le glacier à distance plutôt que d'y conduire les visiteurs.
        box: cl-newsletter
        q: « Il ghiacciaio non tornerà », résume de son côté un guide de Courmayeur, de l'autre côté du massif : le glacier ne reviendra pas.
        p: Les relevés complets seront présentés en mai lors d'une conférence publique à Chamonix.
        """,
    ),
    Article(
        "courrierdulac",
        "geneve-frontaliers-train",
        "Léman Express : plus de trains le soir pour les frontaliers",
        "Hugo Bernard",
        "2026-03-17",
        "À partir de juin, les derniers départs de Genève vers Annemasse et Évian seront "
        "décalés d'une heure.",
        """
        p: Après des mois de demandes des usagers, les opérateurs du Léman Express ont annoncé des départs supplémentaires en soirée sur les lignes vers la Haute-Savoie, avec un dernier train à 0 h 45 en semaine.
        n: L'abonnement mensuel transfrontalier, à 145 euros, ne sera pas augmenté cette année, ont précisé les autorités organisatrices, alors que les usagers redoutaient une hausse.
        box: cl-temoin
        box: cl-club
        p: Quelque 50 000 voyageurs empruntent chaque jour le réseau, dont une majorité de travailleurs frontaliers qui résident en France et travaillent à Genève.
        p: Les associations d'usagers saluent un progrès mais demandent aussi des trains plus fréquents le dimanche, quand la cadence tombe à un train par heure.
        """,
    ),
    Article(
        "numeriquehebdo",
        "forfait-mobile-hausse",
        "Forfaits mobiles : les opérateurs augmentent discrètement leurs prix",
        "Sophie Lambert",
        "2026-01-26",
        "Plusieurs millions d'abonnés ont reçu un SMS annonçant une hausse de un à trois "
        "euros par mois. Voici comment réagir.",
        """
        n: Les hausses concernent surtout les anciens forfaits : un abonnement 100 Go souscrit il y a trois ans passe ainsi de 15,99 à 17,99 euros par mois, tandis que les nouvelles offres restent affichées à 9,99 euros.
        p: La loi impose aux opérateurs de prévenir leurs clients au moins un mois à l'avance. Pendant quatre mois après la notification, l'abonné peut résilier sans frais, même s'il est encore engagé.
        box: nh-ensavoir
        p: Dans la plupart des cas, le plus simple est d'appeler le service client et de demander à basculer sur une offre récente. Les conseillers disposent souvent d'une marge de manœuvre.
        q: « Les opérateurs misent sur l'inertie des clients, qui ne lisent pas les SMS », résume Julien Marchand, de l'association de consommateurs UFC locale.
        box: nh-soutien
        p: Si rien ne bouge, la portabilité du numéro prend moins de trois jours et ne coûte rien.
        """,
    ),
    Article(
        "numeriquehebdo",
        "clavier-azerty-nouveau",
        "Le clavier AZERTY amélioré peine encore à trouver sa place",
        "Sophie Lambert",
        "2026-02-23",
        "Normalisé il y a plusieurs années, il facilite la saisie des majuscules accentuées. "
        "Mais rares sont les fabricants à le proposer.",
        """
        p: Le nouveau clavier permet de taper facilement les guillemets français, les majuscules accentuées comme le É ou les ligatures, sans codes ni combinaisons obscures.
        box: nh-affil
        p: Sur les ordinateurs, il suffit de quelques clics pour l'activer dans les réglages, mais les touches physiques ne correspondent alors plus aux caractères affichés, ce qui décourage beaucoup d'utilisateurs.
        box: nh-ensavoir
        p: Seuls quelques fabricants de claviers vendent un modèle gravé selon la nouvelle disposition, le plus souvent sur commande.
        q: « Tant que les administrations n'en achètent pas, le marché ne suivra pas », regrette un linguiste qui a participé aux travaux de normalisation.
        p: Les défenseurs de la réforme plaident pour une disposition par défaut sur les machines vendues en France.
        """,
    ),
    Article(
        "numeriquehebdo",
        "cloud-souverain-etude",
        "Cloud : les collectivités restent dépendantes des géants américains",
        "Karim Haddad",
        "2026-03-12",
        "Une étude menée auprès de 300 communes et départements montre que la migration vers "
        "des hébergeurs européens progresse lentement.",
        """
        p: Selon l'enquête publiée cette semaine, près de deux collectivités sur trois utilisent encore une suite bureautique en ligne d'un fournisseur américain pour leur messagerie et leurs documents.
        p: Les raisons invoquées sont surtout pratiques : habitudes des agents, formation, compatibilité avec les logiciels métiers. Le coût arrive loin derrière.
        box: nh-soutien
        n: Les offres d'hébergeurs européens coûtent en moyenne 20 % de moins par utilisateur, mais la migration elle-même revient à plusieurs centaines de milliers d'euros pour une grande ville.
        q: « On nous demande de migrer sans budget ni personnel. Évidemment, tout le monde attend », confie le DSI d'une agglomération de l'Ouest.
        box: nh-affil
        q: "Data sovereignty is not a product you can buy off the shelf," a été la réponse d'un dirigeant d'un hébergeur américain, interrogé lors d'une conférence à Paris.
        p: Le gouvernement promet un guide de migration et un fonds d'accompagnement d'ici l'été.
        """,
    ),
]
