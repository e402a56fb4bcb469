"""The wording of boilerplate: calls to action, labels, credits and page metadata.

Patterns are matched against a block's text, case-insensitively, in English, French, German,
Spanish, Italian and Portuguese (and the commonest labels in Dutch and Polish). They name the
kind of line (a "Read also:" label, a newsletter pitch, a photo credit), never one site's
wording. A long paragraph that uses these words is more likely news about them, so length
caps every score (see `phrase_signal`). The verdicts are features of the clean stage's block
model (_block_model.py), weighed with the others by fitted weights: no wording decides alone.
"""

from __future__ import annotations

import re

# A long paragraph that mentions cookies or comments is more likely news about them (and
# not scanning long paragraphs keeps the stage cheap).
PROMO_MAX_CHARS = 400
# Credits and metadata lines are short; a longer block naming a photographer is a caption
# worth keeping or prose.
CREDIT_MAX_CHARS = 160
METADATA_MAX_CHARS = 80
SURE_CREDIT_MAX_CHARS = 100

# Labels that open a teaser or a box: "Read more: ...", "Lesen Sie auch", "Czytaj też:".
_LABELS = (
    r"read (more|also|next)|related( articles| stories| posts| coverage| content| topics)?"
    r"|see also|more from [\w ]{1,30}|more on this( story| topic)?|more stories|recommended"
    r"( for you| reading| stories| articles)?|you (may|might) also (like|be interested in)"
    r"|advertisement|sponsored( content)?|explore further|more|also read|don't miss"
    r"|lire aussi|à lire aussi|à lire également|voir aussi|sur le même sujet|publicité"
    r"|lesen sie (auch|mehr|hier)|mehr zum thema|mehr dazu|weitere (artikel|themen|beiträge"
    r"|nachrichten|informationen)|das könnte (sie|dich) auch interessieren|auch interessant"
    r"|schon gelesen\??|zum weiterlesen|anzeige|werbung|leseprobe"
    r"|leer más|lee también|lea también|te puede interesar|vea también|ver también|puedes ver"
    r"|mira|contenido relacionado|noticias relacionadas|publicidad|más noticias"
    r"|leggi anche|potrebbe interessarti|pubblicità|articoli correlati"
    r"|leia também|leia mais|veja também|saiba mais|publicidade"
    r"|lees ook|lees meer|czytaj (też|także|więcej)|zobacz (też|także)|przeczytaj (też|także)"
    r"|dowiedz się więcej"
)
# Each pattern comes with the words one of which it cannot match without: a block is
# scanned by a pattern only when one of them is in it (substring tests cost nanoseconds,
# a pattern starting with \b microseconds per block). An empty tuple: always scanned
# (patterns anchored at the start fail fast).
# Labels that open a short line even without a colon: "Weitere Artikel zum Thema".
_SHORT_LABELS = (
    r"weitere (artikel|themen|beiträge)|mehr zum thema|mehr (artikel|beiträge) (zum|von|aus)"
    r"|(das thema )?könnte (sie|dich) auch interessieren|lesen sie auch|more (from|on) |related"
    r" (articles|stories|posts)|see also|you (may|might) also|à lire aussi|lire aussi"
    r"|voir aussi|lee también|te puede interesar|vea también|más sobre|leggi anche"
    r"|leia também|veja também|czytaj (też|także)|zobacz (też|także)"
    r"|(häufig gestellte|frequently asked) (fragen|questions)|faqs?|preguntas frecuentes"
    r"|(\.\.\.|…)? ?(weiter zu|continue to|next page|nächste seite|page suivante)"
    r"|questions fréquentes|domande frequenti|perguntas frequentes"
)
_CTA_STRONG: list[tuple[tuple[str, ...], str]] = [
    ((), rf"^[>»›\s]*({_LABELS})\s*([:|»›>–—-]|\.\.\.|…|$)"),
    ((), rf"^({_SHORT_LABELS})\b[\s\S]{{0,40}}$"),
    (
        (),
        r"^(original ?publi(kation|cation)|publication originale|publicación original"
        r"|about (the|this) (author|authors|series|site)|über (den autor|die autorin|diese reihe"
        r"|uns)|à propos de l'auteur|sobre (el|la) autora?|l'autore|sobre o autor)\s*:?\s*$",
    ),
    # An unrendered shortcode: "[button link=...]".
    ((), r"^\[[a-z_]+ [a-z_]+=[^\]]*\]"),
    (("enjoyed", "liked"), r"\bif you (enjoyed|liked) (this|reading|our)"),
    # Newsletters and sign-ups.
    (
        ("sign",),
        r"\b(sign|signing) up (for|to) (our|the) [\w\s-]{0,30}(newsletter|briefing|digest|email)",
    ),
    (
        ("subscrib",),
        r"\b(subscribe|subscribing) to (our|the) [\w\s-]{0,30}"
        r"(newsletter|briefing|podcast|channel)",
    ),
    (
        ("newsletter",),
        r"\bget (our|the) [\w\s-]{0,30}newsletter\b|\bnewsletters?\s*$|^newsletter\b",
    ),
    (
        ("newsletter", "lettre"),
        r"\b(newsletter|lettre d'information|lettre hebdomadaire|infolettre)\b.{0,80}"
        r"\b(inscri|abonn|subscribe|sign up|anmelden|abonnieren|suscr|iscriviti|assine|inscreva"
        r"|registr|erhalten|receive|recevez)",
    ),
    (("newsletter",), r"\b(mit unserem|unser(en)?) newsletter\b"),
    (
        ("inscri", "abonn", "rece"),
        r"\b(inscrivez-vous|abonnez-vous|je m'abonne|je m'inscris|s'inscrire"
        r"|rece(vez|voir) (notre|nos|la|le))",
    ),
    (
        ("jetzt", "newsletter", "melden"),
        r"\b(jetzt (anmelden|abonnieren|registrieren|bestellen)|newsletter abonnieren"
        r"|melden sie sich)",
    ),
    (("suscr", "date de alta"), r"\b(suscríbete|suscribirse|suscríbase|date de alta en)"),
    (("iscriv", "abbonati", "ricevi"), r"\b(iscriviti|abbonati (ora|subito)|ricevi la nostra)"),
    (
        ("assine", "inscreva", "receba"),
        r"\b(assine (já|agora|a nossa)|inscreva-se|receba (a nossa|nossa))",
    ),
    (("sign",), r"\bfree sign ?up\b|\bsign up here\b"),
    (
        ("thank", "error"),
        r"^thanks? (you )?for (signing up|subscribing|registering)\b"
        r"|\berror processing your (subscription|request|sign)",
    ),
    # Comments and accounts.
    (
        (),
        r"^comments?\s*(\(\d+\))?$|^\d+\s+comments?$|^(view|show|read|hide) (all )?comments?\b"
        r"|^(commentaires|kommentare|comentarios|commenti|comentários|komentarze)\b"
        r"|^keine kommentare\b|^(leave|post|write|add) a (comment|reply)\b"
        r"|^(laisser|écrire) un commentaire|^deja (un|tu) comentario|^lascia un commento"
        r"|^deixe (um|seu) comentário|^kommentar (schreiben|verfassen)",
    ),
    (
        ("sign in", "log in"),
        r"\b(sign|log) in (to|or register to) (comment|join the (conversation|discussion)|reply)",
    ),
    (
        ("log in", "sign in", "register"),
        r"\b(log in|sign in|register) (or|and) (register|sign up|log in) to (comment|post|reply)",
    ),
    (("eingeloggt", "kommentare"), r"\beingeloggt sein\b|\bum kommentare zu schreiben"),
    (("conversation", "discussion"), r"\b(join|start) the (conversation|discussion)\b"),
    (("join our",), r"\bjoin our (community|discord|slack|membership|members)"),
    # Social proof under a sign-up: "Join 40,000 founders who...", "Rejoignez les 12 000
    # lecteurs", "Únete a más de 5.000 lectores".
    (
        ("join", "rejoign", "únete", "unete", "schließen sie sich", "werden sie"),
        r"\b(join|rejoignez|únete a|unete a|schließen sie sich)( the| les| los| las| more than"
        r"| over| plus de| más de| mehr als| über)? ?[\d][\d,. \u202fk+]*\s*(\w+\s){0,2}"
        r"(founders|readers|subscribers|people|members|professionals|others|lecteurs|abonnés"
        r"|membres|lectores|suscriptores|miembros|lesern|lesen|abonnenten|mitgliedern)",
    ),
    (
        ("registr", "sign", "subscrib", "anmeldung", "inscri", "regist"),
        r"\bby (registering|signing up|subscribing),? you (agree|accept)"
        r"|\bmit (der|ihrer) (registrierung|anmeldung) (akzeptieren|stimmen) sie"
        r"|\ben vous (inscrivant|abonnant),? vous acceptez"
        r"|\bal (registrarte|suscribirte),? aceptas",
    ),
    # Paywalls and support.
    (
        ("become a", "support"),
        r"\b(become a (member|subscriber|supporter)|support (our|independent) journalism"
        r"|consider supporting|support our work)",
    ),
    # A reader asked for money in the other languages: "Unterstütze uns", "Soutenez-nous",
    # "Wesprzyj nas darowizną". Only the appeal's own turn of phrase: an article about a
    # donation ("LVMH's donation", "die Spendenaffäre") says none of these.
    (
        tuple(
            "don unterstütz spende souten apóya apoya hazte sostien apoie doaç wesprzyj "
            "darowizn steun".split()
        ),
        r"\b(donate (now|today|here)|make a donation (today|now)"
        r"|unterstütze(n sie)? (uns|unsere arbeit)|jetzt spenden|spenden sie (jetzt|hier)"
        r"|soutenez[- ](nous|notre (travail|journal))"
        r"|faire un don|apóyanos|apoya (nuestro|nuestra) (trabajo|periodismo)|haz una donación"
        r"|hazte (socio|socia|miembro)|sostienici|sostieni (il nostro|la nostra)"
        r"|fai una donazione|apoie (o nosso|nosso) (trabalho|jornalismo)|faça uma doação"
        r"|wesprzyj (nas|nasz)|przekaż (nam )?darowiznę|steun ons|doneer nu)\b",
    ),
    (
        ("reading", "subscriber", "lire la suite", "abonnés", "weiterlesen", "abonnenten", "suscr"),
        r"\b(to continue reading|already a subscriber|subscribers only|pour lire la suite"
        r"|réservé aux abonnés|weiterlesen mit|für abonnenten|suscríbete para (seguir|continuar))",
    ),
    (
        ("cancel", "kündbar", "résiliable", "engagement", "accéder", "cancela"),
        r"\b(cancel (at )?any ?time|jederzeit kündbar|résiliable à tout moment|sans engagement"
        r"|cancela cuando quieras|pour accéder (en illimité|à tous)|disdici quando vuoi)",
    ),
    # Editorial furniture.
    (
        ("policy", "standards", "guidelines", "principles"),
        r"\b(editorial (policy|standards|guidelines)|corrections policy|ethics policy"
        r"|our standards|trust principles)\b",
    ),
    ((), r"^(sources?|fuentes?|quellen?|fonte)\s*:"),
    (
        ("cookie",),
        r"\b(we use cookies|this (site|website) uses cookies|cookie (policy|settings|preferences)"
        r"|accept (all )?cookies|nous utilisons des cookies|wir verwenden cookies"
        r"|utilizamos cookies|utilizziamo (i )?cookie)",
    ),
    (
        (" on ",),
        r"\b(follow|find) (us|him|her|them|me|[\w\s@]{1,30}) on (twitter|x|facebook|instagram"
        r"|linkedin|mastodon"
        r"|bluesky|threads|tiktok|youtube)\b",
    ),
    (("share",), r"\bshare (this|the) (article|story|post)\b"),
    (
        (),
        r"^share( on| via| this|:|$)|^(teilen|partager|compartir|condividi|compartilhe"
        r"|udostępnij)\s*(:|$)",
    ),
    (
        ("rights", "rechte", "droits", "derechos", "diritti", "direitos", "prawa", "prawem"),
        r"\ball rights reserved\b|\balle rechte vorbehalten\b|\btous droits réservés\b"
        r"|\btodos los derechos reservados\b|\btutti i diritti riservati\b"
        r"|\btodos os direitos reservados\b|\bwszelkie prawa zastrzeżone\b|\bprawem autorskim\b",
    ),
    (("©",), r"(^|\s)©\s*\d{4}"),
    ((), r"^copyright\b"),
    (("here",), r"\b(click here|tap here) to\b|\bklicken sie hier\b"),
    (("clic aquí",), r"\bhaga clic aquí\b"),
    ((" app",), r"\b(download (our|the) [\w\s]{0,30}apps?|get the app)\b"),
    (
        (),
        r"^(back to top|zurück nach oben|retour en haut|volver arriba|torna su)\b"
        r"|^zurück zu(r|m)?\b",
    ),
    # Affiliate and advertising disclosures.
    (
        ("affiliate", "commission", "compensation", "something through", "werbung", "anzeige"),
        r"\baffiliate[- ]links?\b|\bwe may (receive|earn|get) (a )?(commission|compensation|share)"
        r"|\bif you (buy|purchase) something through\b|\benthält werbung\b"
        r"|\b(werbung|anzeige)\s*[:|]",
    ),
]
# A bare byline: "By Jane Doe" (the name must be capitalised, so "By noon, ..." is prose).
_BYLINE = re.compile(r"^(?i:by|von|par|por|di|de)\s+[A-Z][\w.'’-]*(\s+[A-Z][\w.'’-]*){0,3}\s*$")
# Likely boilerplate, scored lower: an author bio, a nudge, a pitch for the site's own wares.
_CTA_LIKELY: list[tuple[tuple[str, ...], str]] = [
    (
        ("cover", "report", "writes", "is a "),
        r"\b(covers|reports on|writes about|has covered|is a (senior |staff )?(reporter|writer|"
        r"correspondent|editor|columnist))\b.{0,120}\b(for|at)\b",
    ),
    (("previously", "before joining"), r"\b(previously (worked|reported|wrote)|before joining)\b"),
    (
        ("subscribe", "sign up", "register", "log in", "sign in"),
        r"\b(subscribe|sign up|register|log in|sign in)( now| today| here| for free"
        r"| to (read|continue|comment|get|receive|our|the))\b",
    ),
    (("newsletter", "podcast"), r"\b(our|this) (newsletter|podcast)\b"),
    (
        ("follow us", "suivez-nous", "folgen sie uns", "síguenos", "seguici", "siga-nos"),
        r"\b(follow us|suivez-nous|folgen sie uns|síguenos|seguici|siga-nos)\b",
    ),
    (("updated", "corrected"), r"\b(this (article|story) (was|has been) (updated|corrected))\b"),
    (("tip",), r"\b(tips?|got a tip|have a tip)\?.{0,60}\b(contact|email|signal|reached)\b"),
    (
        ("listen", "watch", "channel"),
        r"\b(listen to|watch) (us|the show|live)\b|\bour (youtube|telegram|whatsapp) channel\b"
        r"|\blisten (back|again|live) (here|now|on)\b",
    ),
    (("canal de",), r"\b(canal de (youtube|telegram|whatsapp))\b"),
    (
        ("ausgabe", "current issue", "numéro"),
        r"\b(aktuelle ausgabe|current issue|dernier numéro)\b",
    ),
    (
        (),
        r"^(contact|kontakt|pressekontakt|press contact|media contact|contact presse"
        r"|contacto|contatti)\s*:?\s*$",
    ),
    (
        (),
        r"^(weitere informationen|zusatzinformationen|more information|additional information"
        r"|further information|plus d'informations|informations complémentaires|más información"
        r"|información adicional)\s*:?\s*$",
    ),
    (("filed under",), r"\bfiled under\b"),
    (
        ("privacy", "datenschutz", "confidentialité", "privacidad", "privacy"),
        r"\b(privacy policy|datenschutz(erklärung|bestimmungen|-? und nutzungsbedingungen)"
        r"|politique de confidentialité|política de privacidad|informativa (sulla )?privacy)",
    ),
    (("access",), r"\b(get|unlock|gain) (full |unlimited |instant )?access to\b"),
    (
        ("comment", "kommentar", "coment"),
        r"\b(comments?|commentaires?|kommentare?|comentários?|comentarios?|commenti)\b.{0,120}"
        r"(moderat|modér|approv|aprovad|freigabe|freigeschaltet)",
    ),
    ((), r"^(tags?|schlagwörter|themen|étiquettes|etiquetas)\s*:"),
]
# Credits and page metadata: short lines naming a photographer, agency or date.
_CREDIT = re.compile(
    r"^(foto|fotos|fot\.|photo|photos|bild|bilder|titelbild|beitragsbild|image|images"
    r"|picture|pictures|crédits?( photos?)?|credits?|photo credit|illustration|grafik"
    r"|quelle|source|fuente|fonte|źródło)\s*[:.]|^fot\.\s"
    r"|©|\(c\)\s|\bgetty images\b|\bpicture[- ]alliance\b|\bimago\b|\bshutterstock\b"
    r"|/\s*(afp|dpa|ap|reuters|pap|epa|ansa|efe)\b|\b(afp|dpa|reuters|pap|epa)\s*/",
    re.IGNORECASE,
)
_SURE_CREDIT = re.compile(
    r"^(©|\(c\)\s|foto\s*:|fotos\s*:|fot\.|photo\s*:|photos\s*:|bild\s*:|titelbild|beitragsbild"
    r"|crédits? photos?|photo credit|image\s*:|credits?\s*:)"
    r"|©\s*[\w .-]{1,40}/\s*[\w .-]{1,40}$"
)
# A numbered figure caption: "Abbildung 4: ...", "Fig. 2. ...".
_CAPTION = re.compile(
    r"^(abbildung|abb\.|figure|fig\.|grafik|tabelle|table|bild|foto|photo|image)\s*\d+\s*[:.)]"
)
CAPTION_MAX_CHARS = 300
# Who is where in a photo: "Jane Doe (left) and ...".
_PICTURED = re.compile(
    r"\((left|right|centre|center|second (left|right)|from left|l\.|r\.|links|rechts|mitte"
    r"|à gauche|à droite|izquierda|derecha)\)"
)
# A label this short ending in a colon ("Kontakt:", "Release date:") heads a box.
BARE_LABEL_MAX_CHARS = 40
_METADATA = re.compile(
    r"^(updated|last updated|aktualisiert|zuletzt aktualisiert|published|veröffentlicht"
    r"|publié|mis à jour|actualizado|publicado|pubblicato|aggiornato|release date|news date)\b"
    r"|^stand\s*:|\b(category|categories|kategorie|catégorie|categoría)\s*:"
    r"|\b(verfügbar bis|available until|disponible jusqu'au)\b"
    r"|\b(reading time|lesezeit|temps de lecture|tiempo de lectura|tempo de leitura"
    r"|min(ute)?s? read)\b"
    r"|^[\d\s./:,-]+(am|pm|uhr|h)?$|^\d{1,3}\s*(min|mins|minutes|minuten|sek|sec)\.?$",
    re.IGNORECASE,
)
# Matched against the lower-cased block: faster than IGNORECASE, and the patterns are
# written in lower case.
_STRONG = [(words, re.compile(p)) for words, p in _CTA_STRONG]
_LIKELY = [(words, re.compile(p)) for words, p in _CTA_LIKELY]


def _matches(patterns: list[tuple[tuple[str, ...], re.Pattern[str]]], lowered: str) -> bool:
    # Plain loops, not any() over generators: this runs for 58 patterns on every short block
    # of every page, where the generators' frames would be a large share of its time.
    for words, pattern in patterns:
        if words:
            for word in words:
                if word in lowered:
                    break
            else:
                continue  # none of the words a match needs is there
        if pattern.search(lowered):
            return True
    return False


def phrase_signal(text: str) -> tuple[int, str]:
    """(weight, reason): 3 for an unmistakable call to action or label, 2 for a likely one
    ("promo"), a byline ("byline"), a credit ("credit") or a metadata line ("metadata");
    (0, "") for prose, and for any block of PROMO_MAX_CHARS or more."""
    if len(text) >= PROMO_MAX_CHARS:
        return 0, ""
    lowered = text.lower()
    if _matches(_STRONG, lowered):
        return 3, "promo"
    if _BYLINE.match(text):
        return 2, "byline"
    bare_label = len(text) < BARE_LABEL_MAX_CHARS and text.rstrip().endswith(":")
    if _matches(_LIKELY, lowered):
        return 2 + bare_label, "promo"
    if len(text) < CAPTION_MAX_CHARS and (_CAPTION.match(lowered) or _PICTURED.search(lowered)):
        return 3, "credit"
    if len(text) < CREDIT_MAX_CHARS and _CREDIT.search(lowered):
        # A short line that is only a credit: "© Jane Doe/Agency", "Foto: Jane Doe".
        return (
            3 if len(text) < SURE_CREDIT_MAX_CHARS and _SURE_CREDIT.search(lowered) else 2
        ), "credit"
    if len(text) < METADATA_MAX_CHARS and _METADATA.search(lowered):
        return 2 + bare_label, "metadata"
    return 0, ""


# Words that sign-up and membership boxes use in any wording, in the languages the digest
# meets most: one of them says little (prose says "free" and "email" too), several in a short
# block say a box. A feature of the block model, not a verdict.
_SIGNUP_STEMS = (
    "newsletter",
    "subscri",
    "abonn",
    "inscri",
    "suscri",
    "registr",
    "anmeld",
    "abmeld",
    "sign up",
    "sign-up",
    "signup",
    "spam",
    "e-mail",
    "email",
    "courriel",
    "correo",
    "inbox",
    "boîte mail",
    "boîte de réception",
    "bandeja de entrada",
    "postfach",
    "posteingang",
    "gratuit",
    "kostenlos",
    "gratis",
    "free",
    "join ",
    "rejoign",
    "únete",
    "unete",
    "member",
    "membre",
    "mitglied",
    "miembro",
    "lettre",
    "boletín",
    "boletin",
    "briefing",
    "digest",
    "unsubscri",
    "désinscri",
    "darse de baja",
    "darte de baja",
    "un clic",
    "one click",
    "einem klick",
    "un clic",
    "cada semana",
    "chaque semaine",
    "jede woche",
    "every week",
    "weekly",
    "hebdo",
    "wöchentlich",
    "semanal",
    "lecteurs",
    "leser",
    "lectores",
    "readers",
)
_ARROWS = ("→", "»", "›", "▸", "➜", ">")
_CHECKS = ("✓", "✔", "✅", "☑")
_PERK_SEPARATORS = re.compile(r"\s*[·|•✓✔]\s*")
CTA_MAX_CHARS = 120
PERK_MAX_CHARS = 40


def signup_words(text: str) -> int:
    """How many kinds of sign-up word the block uses (at most 3)."""
    lowered = text.lower()
    found = 0
    for stem in _SIGNUP_STEMS:
        if stem in lowered:
            found += 1
            if found == 3:
                break
    return found


def cta_shape(text: str) -> bool:
    """The shape of a button or a perks line, whatever its words: a short line ending in an
    exclamation or an arrow, or short items strung on middle dots, bars or check marks."""
    stripped = text.strip()
    if not stripped or len(stripped) >= CTA_MAX_CHARS:
        return False
    if stripped.endswith(("!", *_ARROWS)) or stripped.startswith(_ARROWS):
        return True
    if any(mark in stripped for mark in _CHECKS):
        return True
    items = [item for item in _PERK_SEPARATORS.split(stripped) if item]
    return len(items) >= 3 and all(len(item) <= PERK_MAX_CHARS for item in items)
