"""Spanish articles of the written-pages set (written for this project)."""
# ruff: noqa: E501  (the articles are prose, one paragraph a line)

from sites import BOXES, Article

BOXES.update(
    {
        "ds-relacionada": (
            "inline-rel",
            [
                (
                    "pa",
                    "Noticia relacionada: El Ayuntamiento aplaza otra "
                    "vez la reforma del mercado de Triana",
                )
            ],
        ),
        "ds-whatsapp": (
            "inline-canal",
            [
                (
                    "p",
                    "📲 Únete a nuestro canal de WhatsApp y recibe las "
                    "noticias de Sevilla al momento, sin ruido.",
                )
            ],
        ),
        "ds-en": (
            "promo-en",
            [
                ("h3", "Living in Andalusia?"),
                (
                    "p",
                    "Get the week's local news in plain English every Friday. "
                    "Free, and you can unsubscribe any time.",
                ),
            ],
        ),
        "ds-comentarios": (
            "coments",
            [("p", "Comentarios (23) · Inicia sesión para participar en la conversación")],
        ),
        "ds-ademas": (
            "inline-rel",
            [
                (
                    "pa",
                    "ADEMÁS: Las diez terrazas con mejores vistas del "
                    "Guadalquivir, según nuestros lectores",
                )
            ],
        ),
        "bv-podcast": (
            "audio",
            [
                (
                    "p",
                    "Escucha el episodio 41 de nuestro pódcast, dedicado a los "
                    "pozos ilegales, en tu plataforma favorita.",
                )
            ],
        ),
        "bv-libro": (
            "libro",
            [
                (
                    "p",
                    "¿Quieres profundizar? Nuestro libro «Agua que no has de "
                    "beber» ya está en librerías y en nuestra tienda online.",
                )
            ],
        ),
        "bv-de": (
            "kasten-de",
            [
                (
                    "p",
                    "Neu: Unser monatlicher Rundbrief zu Wasser und Klima in "
                    "Spanien, jetzt auch auf Deutsch. Hier kostenlos abonnieren.",
                )
            ],
        ),
        "ds-social": (
            "inline-aviso",
            [
                (
                    "p",
                    "Más de 40.000 andaluces ya empiezan el día con nuestro "
                    "resumen. Súmate tú también: es gratis y llega a las "
                    "siete.",
                )
            ],
        ),
    }
)

ARTICLES = [
    Article(
        "diariodelsur",
        "sevilla-tranvia-norte",
        "El tranvía llegará al norte de Sevilla en 2029, según la Junta",
        "Lucía Morales",
        "2026-01-19",
        "La consejería de Fomento presentó el trazado definitivo, que unirá el Prado de San "
        "Sebastián con el barrio de Pino Montano.",
        """
        p: El nuevo tranvía tendrá once paradas y casi seis kilómetros de recorrido, y pasará por la Macarena y la avenida de Miraflores, una de las zonas peor conectadas de la ciudad con el centro.
        p: La Junta calcula que las obras costarán unos 190 millones de euros y que el trayecto completo durará 22 minutos, frente a los más de 40 que necesita ahora el autobús en hora punta.
        box: ds-whatsapp
        q: «Es una deuda histórica con los barrios del norte, que llevan veinte años oyendo promesas», dijo la consejera Rocío Díaz durante la presentación.
        n: El billete costará lo mismo que el del metro, 1,35 euros con la tarjeta de transporte, y los menores de 14 años viajarán gratis.
        box: ds-relacionada
        p: Los vecinos de Pino Montano recibieron el anuncio con cautela. La asociación vecinal recordó que el proyecto ya se presentó en dos ocasiones anteriores y que nunca pasó del papel.
        box: ds-social
        p: Las obras deberían empezar a finales del año que viene, una vez adjudicado el contrato.
        """,
    ),
    Article(
        "diariodelsur",
        "cadiz-almadraba",
        "Arranca la temporada de almadraba con buenas capturas en Barbate",
        "Antonio Ruiz",
        "2026-04-28",
        "Los pescadores levantaron las primeras redes de la temporada con atunes de más de "
        "200 kilos y un precio en lonja por encima del año pasado.",
        """
        p: La almadraba de Barbate, una de las cuatro que siguen activas en la costa gaditana, capturó el martes 96 atunes rojos en su primera levantá del año.
        p: Esta técnica de pesca, de origen fenicio, consiste en un laberinto de redes fijas en el que los atunes quedan atrapados durante su migración hacia el Mediterráneo para desovar.
        box: ds-en
        n: En la lonja, el kilo de atún rojo salvaje se pagó a una media de 18 euros, tres más que en la primera subasta del año pasado, según la cofradía de pescadores.
        q: «Venimos de unos años muy buenos, el atún se ha recuperado y eso se nota», explicó el capitán de la almadraba, Juan Carlos Marín.
        box: ds-ademas
        q: "I have eaten tuna in Tokyo and this is better," said Kenji Watanabe, a Japanese buyer who travels to Barbate every spring to bid at the auction.
        p: La cuota asignada a las almadrabas de Cádiz para esta temporada ronda las 1.500 toneladas, repartidas entre las cuatro artes.
        """,
    ),
    Article(
        "diariodelsur",
        "malaga-alquiler-turistico",
        "Málaga congela las nuevas licencias de pisos turísticos en el centro",
        "Lucía Morales",
        "2026-02-12",
        "El pleno aprobó una moratoria de un año mientras redacta una norma que limite los "
        "apartamentos turísticos por barrios.",
        """
        p: El Ayuntamiento de Málaga no concederá nuevas licencias de vivienda de uso turístico en el distrito Centro durante al menos doce meses, tras la aprobación de la moratoria con los votos del equipo de gobierno.
        n: Según datos municipales, en el centro hay ya más de 7.200 pisos turísticos registrados, y el alquiler medio de un piso de dos dormitorios ha pasado de 750 a 1.150 euros al mes en cinco años.
        box: ds-relacionada
        box: ds-social
        p: La medida no afecta a las licencias ya concedidas. La oposición la calificó de insuficiente y reclamó que se extienda a barrios como El Perchel y La Trinidad, donde se concentran ahora las nuevas solicitudes.
        q: «Esto llega tarde. La gente del centro ya se ha ido», lamentó Carmen Vega, portavoz de una plataforma vecinal.
        box: ds-comentarios
        n: Los propietarios que ya tienen licencia deberán inscribirse de nuevo en el registro autonómico antes de octubre; el trámite es gratuito y se hace por correo electrónico o en la sede.
        p: El equipo de gobierno prevé presentar la ordenanza definitiva antes del verano.
        """,
    ),
    Article(
        "diariodelsur",
        "cordoba-ola-calor",
        "Córdoba abre refugios climáticos en colegios por el calor",
        "Antonio Ruiz",
        "2026-06-24",
        "Diez centros escolares abrirán por las tardes como espacios frescos para mayores y "
        "familias durante los días de alerta.",
        """
        p: Con temperaturas previstas de hasta 44 grados esta semana, el Ayuntamiento de Córdoba activará una red de refugios climáticos en colegios con aire acondicionado y patios con sombra.
        p: Los espacios abrirán de cuatro a nueve de la tarde los días en que la Aemet declare aviso naranja o rojo, y contarán con agua fresca y personal de Cruz Roja.
        box: ds-whatsapp
        box: ds-ademas
        li: Horario: de 16.00 a 21.00 horas
        li: Diez colegios repartidos por todos los distritos
        li: Acceso libre, sin inscripción previa
        q: «Hay muchas personas mayores que viven solas en pisos sin aire acondicionado», recordó la delegada de Servicios Sociales.
        p: El año pasado el servicio de emergencias atendió 312 avisos relacionados con golpes de calor en la provincia.
        """,
    ),
    Article(
        "bitacoraverde",
        "donana-pozos",
        "Doñana: lo que dicen los nuevos datos del acuífero",
        "Marta Ibáñez",
        "2026-01-30",
        "El último informe de la Confederación Hidrográfica confirma que el nivel del agua "
        "sigue bajando en la zona norte del parque.",
        """
        p: Llevamos años contando aquí la historia de las lagunas de Doñana que se secan. El informe publicado esta semana vuelve a poner números a lo que cualquiera que camine por la zona puede ver.
        p: En los sondeos del norte, cerca de las fincas de frutos rojos, el nivel del acuífero ha bajado una media de medio metro en el último año hidrológico, a pesar de que la primavera fue más lluviosa.
        box: bv-podcast
        p: El informe atribuye buena parte del descenso a las extracciones para regadío, legales e ilegales, y recuerda que la mayoría de las lagunas temporales del parque no se inundaron en invierno.
        n: El plan de compra de tierras de la Junta ofrece a los agricultores unos 100.000 euros por hectárea que dejen de regar, y hasta ahora se han adherido fincas que suman 1.200 hectáreas.
        box: bv-libro
        n: La Comisión Europea ya advirtió a España en su dictamen: "Spain has failed to take appropriate measures to avoid the deterioration of protected habitats in Doñana."
        p: Sin una reducción de las extracciones, dicen los técnicos, el acuífero no se recuperará aunque llueva varios años seguidos.
        """,
    ),
    Article(
        "bitacoraverde",
        "riego-goteo-olivar",
        "¿De verdad ahorra agua el riego por goteo en el olivar?",
        "Marta Ibáñez",
        "2026-02-16",
        "La modernización del regadío se vendió como ahorro. Varios estudios apuntan a que, "
        "a escala de cuenca, el consumo total ha crecido.",
        """
        p: La idea parece sencilla: si cada árbol recibe el agua justa por un tubo, se desperdicia menos que inundando la parcela. Y en la finca es verdad.
        p: El problema aparece cuando miramos la cuenca entera. El agua que antes se perdía volvía en parte a ríos y acuíferos; ahora el agricultor la usa para regar más hectáreas o cultivos más sedientos.
        box: bv-de
        box: bv-podcast
        q: «La eficiencia en la parcela no es lo mismo que el ahorro en el río», resume el hidrólogo Pablo Serrano, que ha estudiado el caso del Guadalquivir.
        p: Es lo que los economistas llaman paradoja de Jevons. En el olivar intensivo ha ido acompañada de un aumento fuerte de la superficie regada en las dos últimas décadas.
        n: Las ayudas públicas a la modernización han superado los 1.000 millones de euros en Andalucía desde 2005, casi siempre sin exigir que se redujera el volumen concedido.
        p: Nada de esto significa que el goteo sea malo. Significa que, sin límites al agua total, el ahorro se convierte en más regadío.
        """,
    ),
    Article(
        "bitacoraverde",
        "lluvia-marzo-embalses",
        "Las lluvias de marzo alivian los embalses, pero no la sequía",
        "Jorge Calvo",
        "2026-03-28",
        "Los pantanos de la cuenca del Segura ganan capacidad tras las tormentas, aunque los "
        "acuíferos tardarán años en notarlo.",
        """
        p: Tres semanas de lluvias han dejado algunos embalses del sureste con más agua que en cualquier momento de los últimos tres años, y las imágenes de presas aliviando han llenado las redes sociales.
        p: Conviene no confundir reservas de superficie con el estado del agua subterránea. Los acuíferos del sureste se recargan lentamente y muchos llevan décadas extrayendo más de lo que entra.
        box: bv-libro
        li: Reserva de la cuenca del Segura: 24 % de su capacidad
        li: Hace un año: 16 %
        li: Media de los últimos diez años: 31 %
        p: Los regantes ya han pedido que se levanten las restricciones. La confederación estudiará su petición en la próxima junta de explotación, prevista para abril.
        """,
    ),
]
