"""Write the written-pages set: html/NAME.html.gz and eval.json from the Python data beside
this file (sites.py: each site's template and recurring boxes; articles_*.py: the articles).

    python bench/data/written-pages/build.py

Labels come from the markup: every article paragraph marked `n:` (news about subscriptions,
prices, newsletters...) and `q:` (quotes) gives a must snippet, as do the first, a middle and
the last plain paragraph; every boilerplate line of 20 characters or more gives a must-not
snippet. Each page is then extracted as `digest` extracts it (digest.pages.extract_page):
a must-not snippet that trafilatura already drops is left out (the set labels only what
could survive extraction), and a must snippet the extraction loses stops the build.
"""

from __future__ import annotations

import gzip
import html
import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parents[2]))

import articles_de  # noqa: E402
import articles_en  # noqa: E402
import articles_es  # noqa: E402
import articles_fr  # noqa: E402
import articles_itpt  # noqa: E402
import articles_pl  # noqa: E402
from sites import BIOS, BOXES, SITES, Article, Site  # noqa: E402

SNIPPET_MIN, SNIPPET_MAX = 20, 70


def esc(text: str) -> str:
    return html.escape(text, quote=False)


def snippet(text: str, start_share: float = 0.0) -> str | None:
    """A 20-70 character piece of `text` starting at a word near `start_share` of it."""
    text = " ".join(text.split())
    if len(text) < SNIPPET_MIN:
        return None
    start = int(len(text) * start_share)
    if start:
        space = text.find(" ", start)
        start = space + 1 if 0 < space < len(text) - SNIPPET_MIN else 0
    piece = text[start : start + SNIPPET_MAX]
    if start + SNIPPET_MAX < len(text):
        cut = piece.rfind(" ")
        if cut >= SNIPPET_MIN:
            piece = piece[:cut]
    piece = piece.strip(" ,;:")
    return piece if len(piece) >= SNIPPET_MIN else None


def render_box(name: str, without: list[str]) -> str:
    """A boilerplate box: (css class, [(tag, text)]); every line long enough is a must-not."""
    css, lines = BOXES[name]
    parts = []
    for tag, text in lines:
        if (piece := snippet(text)) is not None:
            without.append(piece)
        if tag == "pa":  # "Read also: <a>headline</a>"
            head, headline = re.match(r"(.*?[.:])\s+(.*)", text).groups()
            parts.append(f'<p><strong>{esc(head)}</strong> <a href="#">{esc(headline)}</a></p>')
        elif tag == "a":
            parts.append(f'<a class="btn" href="#">{esc(text)}</a>')
        elif tag == "li":
            parts.append(f'<ul><li><a href="#">{esc(text)}</a></li></ul>')
        elif tag == "small":
            parts.append(f'<p class="fine-print">{esc(text)}</p>')
        else:
            parts.append(f"<{tag}>{esc(text)}</{tag}>")
    return f'<div class="{css}">' + "".join(parts) + "</div>"


def render_body(article: Article, with_: list[str], without: list[str]) -> str:
    """Body lines: p (paragraph), n (paragraph that must stay: news about prices,
    subscriptions...), q (quote), h (subheading), li (list item), box (a box of BOXES),
    fig (caption | credit, the credit is boilerplate)."""
    out: list[str] = []
    plain: list[str] = []
    in_list = False
    for raw in article.body.strip().splitlines():
        kind, _, text = raw.strip().partition(": ")
        text = text.strip()
        if in_list and kind != "li":
            out.append("</ul>")
            in_list = False
        if kind == "p":
            out.append(f"<p>{esc(text)}</p>")
            plain.append(text)
        elif kind == "n":
            out.append(f"<p>{esc(text)}</p>")
            with_.append(snippet(text, 0.2) or text)
        elif kind == "q":
            out.append(f"<blockquote><p>{esc(text)}</p></blockquote>")
            with_.append(snippet(text, 0.1) or text)
        elif kind == "h":
            out.append(f"<h2>{esc(text)}</h2>")
        elif kind == "li":
            if not in_list:
                out.append("<ul>")
                in_list = True
            out.append(f"<li>{esc(text)}</li>")
        elif kind == "box":
            out.append(render_box(text, without))
        elif kind == "fig":
            caption, _, credit = text.partition(" | ")
            without.append(credit)
            out.append(
                f'<figure><img src="/img/{article.slug}.jpg" alt=""><figcaption>{esc(caption)} '
                f'<span class="credit">{esc(credit)}</span></figcaption></figure>'
            )
        else:
            raise SystemExit(f"{article.slug}: unknown body line {raw!r}")
    if in_list:
        out.append("</ul>")
    picks = [plain[0], plain[len(plain) // 2], plain[-1]] if len(plain) >= 3 else plain
    for n, text in enumerate(dict.fromkeys(picks)):
        if len(with_) < 6 and (piece := snippet(text, (0.1, 0.3, 0.5)[n % 3])) is not None:
            with_.append(piece)
    return "\n".join(out)


def render_page(article: Article, others: list[Article]) -> tuple[str, list[str], list[str]]:
    site: Site = SITES[article.site]
    with_: list[str] = []
    without: list[str] = []
    url = f"https://{site.domain}/{site.section_path}/{article.slug}"
    nav = "".join(f'<li><a href="/{i}">{esc(item)}</a></li>' for i, item in enumerate(site.nav))
    crumbs = " &rsaquo; ".join(f'<a href="/">{esc(c)}</a>' for c in (site.name, site.section))
    top = "".join(render_box(b, without) for b in site.top + article.top)
    after_lead = "".join(render_box(b, without) for b in site.after_lead)
    body = render_body(article, with_, without)
    bio = ""
    if article.author in BIOS:
        BOXES[f"bio {article.author}"] = ("card-person", [("p", BIOS[article.author])])
        bio = render_box(f"bio {article.author}", without)
    end = bio + "".join(render_box(b, without) for b in article.end + site.end)
    byline = site.byline.format(author=article.author, date=article.date)
    without.append(byline)
    related_titles = [o.title for o in others if o.site == article.site and o is not article]
    related_titles += site.more_titles
    related_items = "".join(f'<li><a href="/x/{i}">{esc(t)}</a></li>'
                            for i, t in enumerate(related_titles[:5]))  # fmt: skip
    if related_titles:
        without.append(snippet(related_titles[0]) or related_titles[0])
    related = (
        f'<div class="{site.related_class}"><h3>{esc(site.related_heading)}</h3>'
        f"<ul>{related_items}</ul></div>"
    )
    footer_lines = "".join(f"<p>{esc(line)}</p>" for line in site.footer)
    for line in site.footer:
        if (piece := snippet(line)) is not None:
            without.append(piece)
    without.append(snippet(site.cookie) or site.cookie)
    head = (
        f'<!DOCTYPE html>\n<html lang="{site.lang}">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{esc(article.title)} | {esc(site.name)}</title>\n"
        f'<link rel="canonical" href="{url}">\n'
        f'<meta property="og:title" content="{html.escape(article.title)}">\n'
        f'<meta name="author" content="{html.escape(article.author)}">\n'
        f'<meta property="article:published_time" content="{article.date}T07:30:00+01:00">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<link rel="stylesheet" href="/assets/{site.domain.split(".")[0]}.css">\n</head>\n'
    )
    open_wrap, close_wrap = site.wrapper
    page = (
        f'{head}<body class="single">\n'
        f'<header class="masthead"><a class="logo" href="/">{esc(site.name)}</a>'
        f'<nav class="main-nav"><ul>{nav}</ul></nav></header>\n'
        f'<main id="content">\n<div class="breadcrumbs">{crumbs}</div>\n'
        f"{open_wrap}\n{top}\n<h1>{esc(article.title)}</h1>\n"
        f'<div class="meta"><span class="byline">{esc(byline)}</span>'
        f' <time datetime="{article.date}">{article.date}</time></div>\n'
        f'<p class="lead"><strong>{esc(article.lead)}</strong></p>\n{after_lead}\n'
        f"{body}\n{end}\n{related if site.related_inside else ''}\n{close_wrap}\n"
        f"{'' if site.related_inside else related}\n</main>\n"
        f'<div class="{site.footer_class}">{footer_lines}</div>\n'
        f'<div class="{site.cookie_class}" id="cc"><p>{esc(site.cookie)}</p>'
        f'<button type="button">OK</button></div>\n</body>\n</html>\n'
    )
    return page, with_, without


def _fold(text: str) -> str:
    return " ".join(text.lower().split())


def main() -> int:
    from digest.pages import extract_page

    articles = [
        *articles_en.ARTICLES,
        *articles_de.ARTICLES,
        *articles_es.ARTICLES,
        *articles_fr.ARTICLES,
        *articles_pl.ARTICLES,
        *articles_itpt.ARTICLES,
    ]
    out = HERE / "html"
    out.mkdir(exist_ok=True)
    for old in out.glob("*.html.gz"):
        old.unlink()
    labels: dict[str, dict[str, list[str]]] = {}
    problems = 0
    dropped = 0
    for article in articles:
        name = f"{SITES[article.site].domain.split('.')[0]}-{article.slug}.html"
        page, with_, without = render_page(article, articles)
        blocks = [_fold(b.text) for b in extract_page(page.encode(), f"file:///{name}").blocks]
        for piece in with_:
            if not any(_fold(piece) in b for b in blocks):
                print(f"{name}: must snippet lost by extraction: {piece!r}")
                problems += 1
        kept = []
        for piece in dict.fromkeys(without):
            inside = [b for b in blocks if _fold(piece) in b]
            if not inside:
                dropped += 1
                continue
            if any(_fold(w) in b for b in inside for w in with_):
                print(f"{name}: must-not {piece!r} shares a block with a must snippet")
                problems += 1
            kept.append(piece)
        labels[name] = {"with": with_, "without": kept}
        (out / f"{name}.gz").write_bytes(gzip.compress(page.encode(), mtime=0))
    (HERE / "eval.json").write_text(
        json.dumps(labels, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8"
    )
    must = sum(len(v["with"]) for v in labels.values())
    must_not = sum(len(v["without"]) for v in labels.values())
    print(f"{len(labels)} pages, {must} must and {must_not} must-not snippets "
          f"({dropped} boilerplate lines trafilatura drops left unlabelled)")  # fmt: skip
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
