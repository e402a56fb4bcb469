"""Generated news text for the benchmarks: stories, and each outlet's own wording of them.

Every story is a set of facts (a kind of event, an organisation, a person, a place, figures).
An outlet that covers a story words it its own way: other headline and sentence templates,
other synonyms, other filler, so that two versions share the facts and few phrases. All of
it is made up here from templates, syllables and random slots; nothing is copied.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

_SYLLABLES = (
    "ka ri to lan mer vos del ben tra sol mi ra cor vin ta lo sen bar dra fel gor hal "
    "jun kel mar nor pel quin ros tam ul vel wen yar zan bri cas dor el fin gal is"
).split()
_FIRST = (
    "Amira Bruno Chen Dana Elif Farid Greta Hugo Ines Jonas Keiko Lars Maya Nadia Omar Petra "
    "Quentin Rosa Sami Tova Ulrich Vera Wanda Xavier Yusuf Zora Anil Beatriz Carlos Dmitri"
).split()
_ORG_SUFFIX = ["Corp", "Group", "Labs", "Holdings", "Energy", "Bank", "Systems", "Motors"]
_BODIES = ["council", "ministry", "regulator", "court", "union", "university", "agency"]


def _name(rng: random.Random, parts: int) -> str:
    return "".join(rng.choice(_SYLLABLES) for _ in range(parts)).capitalize()


@dataclass(frozen=True)
class Story:
    """The facts of one event; every outlet that covers it reports these."""

    number: int
    kind: str
    org: str
    person: str
    place: str
    body: str
    amount: int  # millions
    percent: int
    count: int
    weekday: str


_KINDS = {
    "deal": {
        "head": [
            "{org} agrees {amount} million takeover in {place}",
            "{org} to buy {place} rival for ${amount}m",
            "{place} firm sold to {org} in ${amount} million deal",
            "{org} strikes deal worth {amount} million dollars",
        ],
        "fact": [
            "{org} said on {weekday} it would pay {amount} million dollars for a rival based "
            "in {place}, its largest purchase in a decade.",
            "The ${amount}m acquisition, announced on {weekday}, gives {org} control of a "
            "business with {count} employees in {place}.",
            "Shareholders were told the {amount} million dollar price values the {place} "
            "company at a premium of {percent}% to its last closing level.",
            "Under the agreement reached {weekday}, {org} takes over {count} staff and the "
            "{place} headquarters for ${amount} million.",
        ],
    },
    "storm": {
        "head": [
            "Storm leaves {count} homes without power in {place}",
            "{place} cleans up after storm cuts power to {count} households",
            "Power cut for {count} in {place} as storm hits",
            "Storm damage in {place}: {count} households in the dark",
        ],
        "fact": [
            "A storm that swept through {place} on {weekday} left {count} homes without "
            "electricity, the regional {body} said.",
            "Crews worked overnight to reconnect {count} households in {place}, where winds "
            "reached {percent} miles per hour.",
            "Officials in {place} estimated repairs at {amount} million dollars after the "
            "{weekday} storm brought down power lines.",
            "{person}, who speaks for the {body}, said {percent}% of the {count} affected "
            "homes in {place} had power again by nightfall.",
        ],
    },
    "ruling": {
        "head": [
            "Court rules against {org} in {place} case",
            "{org} loses {amount} million appeal in {place}",
            "Judges in {place} order {org} to pay ${amount}m",
            "{place} court fines {org} {amount} million",
        ],
        "fact": [
            "A court in {place} ruled on {weekday} that {org} must pay {amount} million "
            "dollars to {count} former customers.",
            "The judgment, handed down {weekday}, found {org} had overcharged {count} "
            "clients in {place} by an average of {percent}%.",
            "Lawyers for {org} said they would study the {place} decision, which orders "
            "payments of ${amount}m.",
            "{person}, who led the case for the claimants, said the {amount} million award "
            "covered {count} people across {place}.",
        ],
    },
    "launch": {
        "head": [
            "{org} unveils new product line in {place}",
            "{org} launches {place}-built device priced at ${amount}",
            "New {org} device goes on sale in {place}",
            "{org} bets on {place} factory for its latest launch",
        ],
        "fact": [
            "{org} presented its new device in {place} on {weekday}, with a starting price "
            "of {amount} dollars.",
            "The product, made at the {org} plant in {place}, will ship to {count} stores "
            "from next month, the company said.",
            "{person}, head of products at {org}, told reporters in {place} the device was "
            "{percent}% faster than the one it replaces.",
            "Analysts expect {org} to sell {count} units in the first quarter after the "
            "{weekday} launch in {place}.",
        ],
    },
    "strike": {
        "head": [
            "{count} workers walk out at {org} sites in {place}",
            "Strike halts {org} plants across {place}",
            "{place} {org} staff strike over {percent}% pay offer",
            "Walkout at {org}: {count} down tools in {place}",
        ],
        "fact": [
            "About {count} employees of {org} in {place} stopped work on {weekday} after "
            "talks over pay broke down.",
            "The {body} representing {org} staff in {place} rejected a {percent}% raise as "
            "too small, its leader {person} said.",
            "{org} said the {weekday} stoppage in {place} would cost it about {amount} "
            "million dollars a week.",
            "Picket lines formed at {org} sites across {place}, where {count} people are "
            "employed, on {weekday} morning.",
        ],
    },
    "study": {
        "head": [
            "{place} study links diet to {percent}% lower risk",
            "Researchers in {place} track {count} patients for a decade",
            "{place} university study: {percent}% drop in risk",
            "Large {place} study backs new treatment",
        ],
        "fact": [
            "Researchers at a university in {place} followed {count} adults and found a "
            "{percent}% lower risk among those on the new regime.",
            "{person}, who led the {place} study published on {weekday}, said the result held "
            "across age groups.",
            "The study of {count} volunteers in {place} was funded with {amount} million "
            "dollars from the health {body}.",
            "Scientists in {place} reported on {weekday} that the {count} participants were "
            "followed for ten years.",
        ],
    },
}
_WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]

# Filler: the context and background paragraphs that make up most of a real article.
_FILLER = [
    "The {body} in {place} has been under pressure to act since {count} residents "
    "signed a petition last year.",
    "{person} said the decision reflected {adj} conditions and would be reviewed within "
    "{small} months.",
    "Figures released by the {body} show spending in {place} rose {percent}% over the past year.",
    "Critics argue the plan does little for the {count} families who depend on the "
    "sector in {place}.",
    "{org} has expanded into {place2} and now employs more than {count} people there.",
    "The move follows a {adj} period for the industry, which shed {small} thousand jobs "
    "nationally.",
    "Local businesses in {place} said they had been given {small} weeks' notice of the changes.",
    "A spokesperson for {org} declined to comment on the figures, citing {adj} talks.",
    "Observers in {place2} noted that a similar scheme was dropped {small} years ago.",
    "{person}, an economist who studies {place}, called the outlook {adj} but uncertain.",
    "The {body} will publish a fuller assessment in {small} weeks, officials said.",
    "Residents of {place2} have raised concerns about traffic, noise and the cost of living.",
    "The figures cover {count} businesses and were compiled from {adj} surveys.",
    "Prices in {place} have risen {percent}% since the start of the year, according to the {body}.",
    "{org} reported revenue of {amount} million dollars last year, up {percent}%.",
    "The {body} said it would meet representatives of {org} later in the month.",
    "Turnout at the public meeting in {place2} was {adj}, with {small} hundred people attending.",
    "Opposition members in {place} said they would seek more detail on the costs.",
]
_ADJ = ["difficult", "uneven", "steady", "fragile", "mixed", "cautious", "volatile", "strong"]
_SYNONYMS = [
    (" said ", [" said ", " stated ", " told reporters ", " noted "]),
    (" rose ", [" rose ", " climbed ", " increased ", " grew "]),
    (" more than ", [" more than ", " over ", " upwards of "]),
    (" about ", [" about ", " roughly ", " around ", " some "]),
    (" would ", [" would ", " will ", " plans to "]),
]


def make_stories(count: int, seed: int) -> list[Story]:
    rng = random.Random(seed)
    kinds = sorted(_KINDS)
    stories = []
    for number in range(count):
        stories.append(
            Story(
                number=number,
                kind=kinds[number % len(kinds)],
                org=f"{_name(rng, 2)} {rng.choice(_ORG_SUFFIX)}",
                person=f"{rng.choice(_FIRST)} {_name(rng, 3)}",
                place=_name(rng, 3),
                body=rng.choice(_BODIES),
                amount=rng.randint(12, 9800),
                percent=rng.randint(3, 87),
                count=rng.randint(150, 95000),
                weekday=rng.choice(_WEEKDAYS),
            )
        )
    return stories


class Writer:
    """One outlet's voice: its own choice of templates and synonyms for each story."""

    def __init__(self, seed: int):
        self.rng = random.Random(seed)

    def _fill(self, template: str, story: Story) -> str:
        rng = self.rng
        text = template.format(
            org=story.org,
            person=story.person,
            place=story.place,
            place2=_name(rng, 3),
            body=story.body,
            amount=story.amount,
            percent=story.percent,
            count=f"{story.count:,}",
            small=rng.randint(2, 12),
            weekday=story.weekday,
            adj=rng.choice(_ADJ),
        )
        for word, choices in _SYNONYMS:
            if word in text:
                text = text.replace(word, rng.choice(choices))
        return text

    def headline(self, story: Story) -> str:
        return self._fill(self.rng.choice(_KINDS[story.kind]["head"]), story)

    def paragraphs(self, story: Story, count: int) -> list[str]:
        """A lede of facts, then facts mixed with background, `count` paragraphs in all."""
        rng = self.rng
        facts = list(_KINDS[story.kind]["fact"])
        rng.shuffle(facts)
        out = [self._fill(facts[0], story) + " " + self._fill(facts[1], story)]
        for index in range(1, count):
            sentences = [self._fill(rng.choice(_FILLER), story) for _ in range(rng.randint(2, 4))]
            if index + 1 < len(facts) and index <= 3:
                fact = self._fill(facts[index + 1], story)
                sentences.insert(rng.randint(0, len(sentences)), fact)
            if index == count // 2:
                sentences.append(
                    f"“We expect the effects to be felt for {rng.randint(2, 9)} years,” "
                    f"{story.person} said."
                )
            out.append(" ".join(sentences))
        return out
