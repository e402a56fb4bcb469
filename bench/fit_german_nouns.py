"""Fit the list of German nouns that clustering reads as nouns wherever they stand.

    python bench/fit_german_nouns.py ../shared/data/boilerplate-snippets \
        ../shared/data/article-extraction

Writes digest/cluster/_terms/german_nouns.txt (`--out` elsewhere). Deterministic: the same
pages give the same list.

German capitalises every noun, so a capitalised word is a name only where it is not a noun.
An article shows many of its nouns by their place (after a determiner or a number) or their
ending (`german_nouns` in digest/cluster/_terms/names.py), but not the ones it writes only
after a bare preposition ("nach Angaben", "an Bord", "am Sonntag" aside). Those are the
language's common nouns, and the pages of ../shared show them: every page is extracted as
`digest` does it, and on the German ones (by their function words) each capitalised word is
counted, and counted as a noun where its place or ending says so. A word goes in the list
when that says so on at least MIN_PAGES pages and at least MIN_NOUN_SHARE of its
occurrences: a noun mostly stands after a determiner, a name seldom ("in Berlin", "aus
Deutschland": a twentieth of the time on these pages, "Angaben" a third, "Tag" four
fifths). A name German writes with an article ("die Schweiz", "der Bundestag") is listed
and loses only its weight as a name in German text, where it stays a word.
"""

from __future__ import annotations

import argparse
import gzip
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from digest.cluster._terms.names import GERMAN_NOUNS_FILE, german_words
from digest.pages._extract import extract_page
from digest.pages._language import function_word_votes

# A noun must be read on this many pages (of different sites, mostly) to be listed, and
# its place or ending must say "noun" for this share of its occurrences.
MIN_PAGES = 3
MIN_NOUN_SHARE = 0.25
# Adjectives German capitalises inside names ("die Deutsche Bahn", "die Europäische Union")
# stand after a determiner as nouns do; they are not nouns, and not listed.
NAME_ADJECTIVE_ENDINGS = ("sche", "schen", "scher", "sches", "schem")
# A page is German when its function words say so, with at least this many of them.
MIN_FUNCTION_WORDS = 20


def german_texts(folders: list[Path]) -> list[str]:
    """The extracted text of every German page of `folders` (html/*.html.gz), in name order."""
    texts = []
    for folder in folders:
        for path in sorted((folder / "html").glob("*.html.gz")):
            try:
                page = extract_page(gzip.decompress(path.read_bytes()), f"https://{path.stem}/")
            except Exception as error:  # a page extraction refuses is skipped, with a line
                print(f"{path}: skipped ({error})", file=sys.stderr)
                continue
            text = "\n".join(block.text for block in page.blocks)
            votes = function_word_votes(text)
            if votes and votes[0][0] == "de" and votes[0][1] >= MIN_FUNCTION_WORDS:
                texts.append(text)
    return texts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folders", type=Path, nargs="+")
    parser.add_argument(
        "--out",
        type=Path,
        default=Path(__file__).resolve().parent.parent
        / "digest"
        / "cluster"
        / "_terms"
        / GERMAN_NOUNS_FILE,
    )
    args = parser.parse_args()
    texts = german_texts(args.folders)
    pages: Counter[str] = Counter()
    placed: Counter[str] = Counter()
    written: Counter[str] = Counter()
    for text in texts:
        told: set[str] = set()
        places: list = []
        german_words(text, told, places)
        pages.update(told)
        for _, _, _, noun, is_noun in places:
            if noun is not None:
                written[noun] += 1
                placed[noun] += is_noun
    nouns = sorted(
        noun
        for noun, count in pages.items()
        if count >= MIN_PAGES
        and len(noun) >= 3
        and placed[noun] >= MIN_NOUN_SHARE * written[noun]
        and not noun.endswith(NAME_ADJECTIVE_ENDINGS)
    )
    header = (
        f"# German nouns: read as nouns on at least {MIN_PAGES} of the {len(texts)} German "
        f"pages of {', '.join(folder.name for folder in args.folders)}, and in at least "
        f"{MIN_NOUN_SHARE:.0%} of their places there,\n"
        "# by bench/fit_german_nouns.py; one a line, in lower case.\n"
    )
    args.out.write_text(header + "\n".join(nouns) + "\n", encoding="utf-8")
    print(f"wrote {args.out}: {len(nouns)} nouns from {len(texts)} German pages")
    return 0


if __name__ == "__main__":
    sys.exit(main())
