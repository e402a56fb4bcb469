"""Extraction quality: the project's extract+clean against bare trafilatura, same pages, one run.

    python bench/extraction_quality.py ../shared/data/article-extraction \
        ../shared/data/boilerplate-snippets

Each folder's kind is detected from its files:

- `ground-truth.json` ({id: {"articleBody", "url"}}, pages in `html/<id>.html.gz`): token
  precision, recall and F1 against the gold body. Tokens are the lower-cased `\\w+` words,
  counted as multisets; P/R/F1 are computed per page, then averaged over the pages. An empty
  extraction scores 0 on all three.
- `eval.json` ({name: {"with": [...], "without": [...]}}, pages in `html/<name>.gz`): the share
  of all must ("with") snippets found and of all must-not ("without") snippets absent. A
  snippet is found when it is a substring of the text after both are lower-cased, their
  white space folded to single spaces and what shows as nothing (a soft hyphen) dropped;
  the same rule judges both systems.

Printed first, CROSS-VALIDATED: the pages of all folders given are split into `--folds` folds
by site (the host of the page's URL or canonical URL, else the site its file name starts
with, else the file name; whole sites, the biggest first, to the smallest fold), and the
clean stage's block model (weights and thresholds, bench/fit_blocks.py) is fit on the other
folds' pages and scored on the held fold. The figures are pooled over the held folds, with
each fold's figure after them, then must-not absent and must found per language of the page
(as detected). Printed second, FIT ON ALL PAGES: the shipped weights
(digest/pages/block_model.json, fit by bench/fit_blocks.py on every page of both folders,
so these pages are not held out), against bare trafilatura, with the CPU times.

The project side is exactly what `digest.ingest` runs: `extract_page` on the page bytes, then
`clean_blocks` with the site memory `site_memories` builds. Pages whose URL (the gold URL, or
else the canonical URL the page names) has the same host are treated as one run's batch from
that site, so they teach each other what the site's chrome looks like, as they would in a
real run; pages with no http URL get no memory. The bare side is `trafilatura.extract(html)`
with default settings.

Times are CPU seconds of the worker process (`time.process_time`), so other load on the
machine skews them less than wall time would; both systems run on each page in the same
worker, one after the other. The project's time per page is its extraction plus its cleaning
(with the shipped weights).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import statistics
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import trafilatura
from trafilatura.external import jt_stoplist_init

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from digest.errors import ExtractError
from digest.feeds._urls import host_of
from digest.models import ExtractedPage
from digest.pages._clean import LanguageDetector, clean_page, page_fingerprints, site_memories
from digest.pages._extract import extract_page

_WORD = re.compile(r"\w+")


@dataclass
class Page:
    name: str
    path: Path
    url: str | None
    gold: str | None = None
    must: list[str] = field(default_factory=list)
    must_not: list[str] = field(default_factory=list)


@dataclass
class Extracted:
    """One page through both systems (the project's side not yet cleaned)."""

    name: str
    page: ExtractedPage | None = None
    error: str | None = None
    project_seconds: float = 0.0
    bare_text: str = ""
    bare_seconds: float = 0.0


def load_pages(folder: Path) -> tuple[str, list[Page]]:
    html = folder / "html"
    if (folder / "ground-truth.json").exists():
        truth = json.loads((folder / "ground-truth.json").read_text(encoding="utf-8"))
        pages = [
            Page(name, html / f"{name}.html.gz", item.get("url"), gold=item["articleBody"])
            for name, item in sorted(truth.items())
        ]
        return "gold", pages
    if (folder / "eval.json").exists():
        snippets = json.loads((folder / "eval.json").read_text(encoding="utf-8"))
        pages = [
            Page(name, html / f"{name}.gz", None, must=item["with"], must_not=item["without"])
            for name, item in sorted(snippets.items())
        ]
        return "snippets", pages
    raise SystemExit(f"{folder}: neither ground-truth.json nor eval.json found")


def _warm_up() -> None:
    """Load trafilatura's, jusText's and langdetect's tables before any page is timed."""
    sample = (
        "<html><head><title>Warm up</title></head><body><article>"
        + "<p>A paragraph long enough for the extractor to keep it as main text.</p>" * 5
        + "</article></body></html>"
    ).encode()
    page = extract_page(sample, "https://warm.example/up")
    clean_page(page, LanguageDetector())
    trafilatura.extract(sample)
    # jusText's stop words of every language (a third of a second, once per process): both
    # systems' full cascade reads them, and whichever got the first short page in a worker
    # paid for both.
    jt_stoplist_init()


def extract_both(task: tuple[int, Page]) -> Extracted:
    """Both systems on one page; which one runs first alternates from page to page, so
    neither always gets the caches the other warmed."""
    number, page = task
    raw = gzip.decompress(page.path.read_bytes())
    result = Extracted(page.name)
    url = page.url or page.path.resolve().as_uri()

    def project() -> None:
        start = time.process_time()
        try:
            result.page = extract_page(raw, url)
        except ExtractError as error:
            result.error = error.reason
        result.project_seconds = time.process_time() - start

    def bare() -> None:
        start = time.process_time()
        result.bare_text = trafilatura.extract(raw) or ""
        result.bare_seconds = time.process_time() - start

    for run in (project, bare) if number % 2 else (bare, project):
        run()
    return result


# What a reader does not see and digest drops where text comes in (digest/text.py): a soft
# hyphen, a zero-width space, a word joiner, a BOM. Dropped from both sides, so that a gold
# text or snippet copied with them ("Werk" U+00AD "zeug") is the word a reader sees.
_UNSEEN = re.compile("[\u00ad\u200b\u2060-\u2064\ufeff]")


def token_scores(text: str, gold: str) -> tuple[float, float, float]:
    predicted = Counter(_WORD.findall(_UNSEEN.sub("", text).lower()))
    expected = Counter(_WORD.findall(_UNSEEN.sub("", gold).lower()))
    common = sum((predicted & expected).values())
    if not common:
        return 0.0, 0.0, 0.0
    precision = common / sum(predicted.values())
    recall = common / sum(expected.values())
    return precision, recall, 2 * precision * recall / (precision + recall)


def _fold(text: str) -> str:
    return " ".join(_UNSEEN.sub("", text).lower().split())


def snippet_hits(text: str, page: Page) -> tuple[list[bool], list[bool]]:
    """(each must snippet found?, each must-not snippet absent?)"""
    folded = _fold(text)
    found = [_fold(s) in folded for s in page.must]
    absent = [_fold(s) not in folded for s in page.must_not]
    return found, absent


def _host(url: str | None) -> str | None:
    if not url or not url.startswith("http"):
        return None
    # An archived copy belongs to the site it archives, not to the archive.
    archived = re.match(r"https?://web\.archive\.org/web/[^/]+/(https?://.*)", url)
    return host_of(archived.group(1) if archived else url)


def clean_all(pages: list[Page], extracted: dict[str, Extracted]) -> dict[str, tuple[str, float]]:
    """Clean every page the way ingest does; {name: (text, cleaning CPU seconds)}."""
    detector = LanguageDetector()
    by_host: dict[str | None, list[str]] = {}
    for page in pages:
        done = extracted[page.name].page
        if done is not None:
            host = _host(page.url or done.canonical_url)
            by_host.setdefault(host, []).append(page.name)
    cleaned: dict[str, tuple[str, float]] = {page.name: ("", 0.0) for page in pages}
    for host, names in by_host.items():
        start = time.process_time()
        prints = {name: page_fingerprints(extracted[name].page) for name in names}
        memories = site_memories(prints, {}) if host is not None else {}
        share = (time.process_time() - start) / len(names)
        for name in names:
            start = time.process_time()
            text = clean_page(extracted[name].page, detector, memories.get(name)).text
            cleaned[name] = (text, time.process_time() - start + share)
    return cleaned


def cross_validated(folders: list[Path], loaded, extracted, folds: int) -> None:
    """Weights and thresholds fit on the other folds' sites, each fold's pages scored with
    the model that did not see them; figures pooled over the held folds, then per fold."""
    import fit_blocks

    data = fit_blocks.describe_all(loaded, extracted)
    fold_of = fit_blocks.assign_folds(data, folds)
    texts: dict[str, str] = {}
    per_fold: list[dict[str, dict[str, float]]] = []
    for fold in range(folds):
        train = [item for item in data if fold_of[item.site] != fold]
        held = [item for item in data if fold_of[item.site] == fold]
        model = fit_blocks.fit_model(train)
        held_texts = fit_blocks.cleaned_texts(held, model)
        texts.update(held_texts)
        per_fold.append(
            {
                str(folder): fit_blocks.folder_scores(
                    [i for i in held if i.page.path.parent.parent == folder], held_texts
                )
                for folder in folders
            }
        )
    sites = len(fold_of)
    print(
        f"CROSS-VALIDATED: {len(data)} pages of {sites} sites in {folds} folds by site (host, "
        "else the site in the file name); weights and thresholds fit on the other folds' "
        "pages of all folders given, scored on the held fold (pooled over the held folds; "
        "min-max over folds after)"
    )
    for folder in folders:
        items = [i for i in data if i.page.path.parent.parent == folder]
        scores = fit_blocks.folder_scores(items, texts)
        fold_scores = [f[str(folder)] for f in per_fold if f[str(folder)]]
        print(f"  {folder}: {len(items)} pages")
        for key in ("precision", "recall", "f1", "found", "absent"):
            if key in scores:
                values = [f[key] for f in fold_scores if key in f]
                spread = " ".join(f"{v:.4f}" for v in values)
                print(
                    f"    {_LABELS[key]:<16} {scores[key]:.4f}   folds {spread}   "
                    f"(min {min(values):.4f}, max {max(values):.4f})"
                )
    for folder in folders:
        snippet_items = [
            i for i in data if i.kind == "snippets" and i.page.path.parent.parent == folder
        ]
        if snippet_items:
            by_language_table(folder, snippet_items, texts)


def by_language_table(folder: Path, snippet_items: list, texts: dict[str, str]) -> None:
    """Must-not absent and must found per language of the page, one snippet folder."""
    print(f"  per language of the page (as detected), {folder.name}, cross-validated:")
    print(f"    {'lang':<5} {'pages':>5} {'must-not':>8} {'absent':>7} {'must':>5} {'found':>7}")
    by_language: dict[str, list] = {}
    for item in snippet_items:
        language = (item.description.language if item.description else None) or "-"
        by_language.setdefault(language, []).append(item)
    for language, items in sorted(by_language.items(), key=lambda kv: -len(kv[1])):
        found: list[bool] = []
        absent: list[bool] = []
        for item in items:
            must, must_not = snippet_hits(texts[item.page.name], item.page)
            found += must
            absent += must_not
        share_absent = f"{sum(absent) / len(absent):.4f}" if absent else "-"
        share_found = f"{sum(found) / len(found):.4f}" if found else "-"
        print(
            f"    {language:<5} {len(items):>5} {len(absent):>8} {share_absent:>7} "
            f"{len(found):>5} {share_found:>7}"
        )


_LABELS = {
    "precision": "token precision",
    "recall": "token recall",
    "f1": "token F1",
    "found": "must found",
    "absent": "must-not absent",
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folders", type=Path, nargs="+")
    parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument(
        "--no-cv", action="store_true", help="only the figures of the shipped weights"
    )
    parser.add_argument("--limit", type=int, help="only the first N pages of each folder")
    parser.add_argument("--worst", type=int, default=10, help="pages listed where we lose most")
    args = parser.parse_args()
    import fit_blocks

    folders = [folder.resolve() for folder in args.folders]
    loaded = []
    for folder in folders:
        kind, pages = load_pages(folder)
        loaded += [(kind, page) for page in (pages[: args.limit] if args.limit else pages)]
    started = time.perf_counter()
    extracted = fit_blocks.extract_all([page for _, page in loaded], args.workers, _warm_up)
    wall = time.perf_counter() - started
    # Cleaning is timed in this process: load langdetect's profiles here too (a run loads
    # them once per worker), or the first page that needs langdetect carries half a second.
    # It is timed before the cross-validation, whose many objects would make the garbage
    # collector's passes, and so the cleaning, slower than in a run.
    _warm_up()
    by_folder = {
        folder: [page for _, page in loaded if page.path.parent.parent == folder]
        for folder in folders
    }
    cleaned = {folder: clean_all(pages, extracted) for folder, pages in by_folder.items()}
    if not args.no_cv:
        cross_validated(folders, loaded, extracted, args.folds)
        print()
    print(
        "FIT ON ALL PAGES (not held out): the shipped weights, digest/pages/block_model.json, "
        "which bench/fit_blocks.py fits on every page of ../shared/data/article-extraction "
        "and ../shared/data/boilerplate-snippets"
    )
    for folder, pages in by_folder.items():
        kind = next(k for k, page in loaded if page.path.parent.parent == folder)
        report(folder, kind, pages, extracted, cleaned[folder], args.worst)
    print(f"  wall time of the extraction: {wall:.0f} s, {args.workers} workers")
    return 0


def report(
    folder: Path,
    kind: str,
    pages: list[Page],
    extracted: dict[str, Extracted],
    cleaned: dict[str, tuple[str, float]],
    worst: int,
) -> None:
    """The shipped weights against bare trafilatura on one folder, with CPU times."""
    rows = []  # (name, project score, bare score, detail)
    if kind == "gold":
        ours, bare = [], []
        for page in pages:
            ours.append(token_scores(cleaned[page.name][0], page.gold or ""))
            bare.append(token_scores(extracted[page.name].bare_text, page.gold or ""))
            rows.append((page.name, ours[-1][2], bare[-1][2], ""))
        print(f"  {folder}: {len(pages)} pages with gold bodies (token P / R / F1, mean)")
        for label, scores in (("digest extract+clean", ours), ("bare trafilatura", bare)):
            p, r, f = (statistics.fmean(s[i] for s in scores) for i in range(3))
            print(f"    {label:<22} P {p:.4f}  R {r:.4f}  F1 {f:.4f}")
    else:
        totals = {"ours": [0, 0], "bare": [0, 0]}
        for page in pages:
            ours_found, ours_absent = snippet_hits(cleaned[page.name][0], page)
            bare_found, bare_absent = snippet_hits(extracted[page.name].bare_text, page)
            totals["ours"][0] += sum(ours_found)
            totals["ours"][1] += sum(ours_absent)
            totals["bare"][0] += sum(bare_found)
            totals["bare"][1] += sum(bare_absent)
            missed = [s for s, ok in zip(page.must, ours_found, strict=True) if not ok]
            left = [s for s, ok in zip(page.must_not, ours_absent, strict=True) if not ok]
            detail = "; ".join(
                [f"missing {s[:50]!r}" for s in missed] + [f"kept {s[:50]!r}" for s in left]
            )
            rows.append(
                (page.name, sum(ours_found) + sum(ours_absent),
                 sum(bare_found) + sum(bare_absent), detail)
            )  # fmt: skip
        must = sum(len(p.must) for p in pages)
        must_not = sum(len(p.must_not) for p in pages)
        print(f"  {folder}: {len(pages)} pages, {must} must and {must_not} must-not snippets")
        for label, key in (("digest extract+clean", "ours"), ("bare trafilatura", "bare")):
            found, absent = totals[key]
            print(
                f"    {label:<22} must found {found / must:.4f}  must-not absent "
                f"{absent / must_not:.4f}"
            )
    errors = [p.name for p in pages if extracted[p.name].error]
    if errors:
        print(f"    project extraction failed on {len(errors)} pages (scored as empty)")

    ours_time = [extracted[p.name].project_seconds + cleaned[p.name][1] for p in pages]
    bare_time = [extracted[p.name].bare_seconds for p in pages]
    ratios = [o / b for o, b in zip(ours_time, bare_time, strict=True) if b > 0]
    print(
        f"    CPU time per page (mean): digest {statistics.fmean(ours_time) * 1000:.1f} ms, "
        f"bare trafilatura {statistics.fmean(bare_time) * 1000:.1f} ms, ratio "
        f"{statistics.fmean(ours_time) / statistics.fmean(bare_time):.2f} "
        f"(median per-page ratio {statistics.median(ratios):.2f})"
    )
    losses = sorted(rows, key=lambda row: row[1] - row[2])[:worst]
    losses = [row for row in losses if row[1] < row[2]]
    print(f"    pages where digest loses most against bare trafilatura ({len(losses)}):")
    for name, ours_score, bare_score, detail in losses:
        unit = "F1" if kind == "gold" else "snippets right"
        line = f"      {name[:24]:<24} {unit} {ours_score:.3g} vs {bare_score:.3g}"
        print(f"{line}  {detail}" if detail else line)


if __name__ == "__main__":
    sys.exit(main())
