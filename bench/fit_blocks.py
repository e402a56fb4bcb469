"""Fit the clean stage's block model on real pages and write it as package data.

    python bench/fit_blocks.py ../shared/data/article-extraction ../shared/data/boilerplate-snippets

Writes digest/pages/block_model.json (`--out` elsewhere). Deterministic: the same pages give
the same weights.

Every page is extracted and described as `digest` does it (`describe`: the article's
language and each block's features), and its blocks that the site repeats are found as a
run would find them (pages of one host teach each other). Blocks get labels from the data:

- pages with must / must-not snippets: a block holding a must-not snippet and no must snippet
  is boilerplate, one holding a must snippet is article; the rest carry no label.
- pages with a gold body: a block whose words run as they are in the gold body, or nearly all
  of whose words are there, is article; one most of whose words are not is boilerplate.

A logistic regression (L2, fitted with L-BFGS) gives the weights; the snippet pages' blocks
weigh SNIPPET_SHARE of it and the gold pages' the rest, whatever their numbers of blocks. The
site's terms are held near a prior (SITE_PRIOR): the pages repeat too few blocks to fit them.
The two thresholds (`remove_at`, `join_at`) are then chosen on a grid for the best sum of the
folders' scores (must found + must-not absent, token F1), as bench/extraction_quality.py
scores them. bench/extraction_quality.py fits the same way on part of the sites and scores
the rest (its cross-validated figures).
"""

from __future__ import annotations

import argparse
import hashlib
import re
import statistics
import sys
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import trafilatura
from scipy.optimize import minimize

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from extraction_quality import (
    Extracted,
    Page,
    _host,
    extract_both,
    load_pages,
    snippet_hits,
    token_scores,
)
from inputs import as_named

from digest.pages._block_model import FEATURES, MODEL_FILE, SITE_FEATURES, BlockModel
from digest.pages._clean import (
    Description,
    LanguageDetector,
    block_fingerprints,
    decide,
    describe,
    page_fingerprints,
    repeated_blocks,
    site_memories,
    weigh,
)
from digest.pages._extract import extract_page

# L2 penalty on every weight but the bias, per unit of total sample weight.
L2 = 0.0001
# The shared pages hold a handful of blocks their site repeats (8 of some 20,000, most
# sites having one page there), too few to fit the site's terms: they are held near this
# prior (a block seen on other pages of the site is boilerplate unless the rest of it says
# otherwise; its neighbours learn nothing from it) by a penalty strong enough that those few
# blocks cannot move them far.
SITE_PRIOR = (4.0, 0.0, 0.0)
SITE_PRIOR_STRENGTH = 1.0
# Share of the snippet folders' score that is boilerplate removed (the rest: article kept).
ABSENT_WEIGHT = 0.5
# Share of the fit's sample weight on the snippet pages' blocks when both folders are given
# (the rest on the gold pages'), whatever their numbers of blocks: boilerplate of many kinds
# and languages is labelled there, while the gold pages are mostly English news.
SNIPPET_SHARE = 0.7
REMOVE_AT_GRID = tuple(x / 4 for x in range(-4, 9))
JOIN_BELOW_GRID = (0.0, 0.5, 1.0, 1.5, 2.0)
# A gold-body block with at least this share of its words in the gold body is article text,
# with at most the second share boilerplate; in between, no label.
GOLD_ARTICLE_SHARE, GOLD_BOILERPLATE_SHARE = 0.9, 0.5
WARM_UP_PAGE = (
    "<html><head><title>Warm up</title></head><body><article>"
    + "<p>A paragraph long enough for the extractor to keep it as main text.</p>" * 5
    + "</article></body></html>"
).encode()
_WORD = re.compile(r"\w+")
_SITE_PREFIX = re.compile(r"^((?:[a-z0-9-]+\.)+[a-z]{2,})(?=[.\-_]|$)")


@dataclass
class PageData:
    """One page, extracted and described, with what its site repeats."""

    page: Page
    kind: str  # "gold" or "snippets"
    site: str  # the page's site, for folds
    description: Description | None  # None when extraction failed
    repeated: set[int]


def site_key(page: Page, canonical: str | None) -> str:
    """The host of the page's URL, else of its canonical URL, else the site named at the
    start of its file name, else the file name."""
    host = _host(page.url) or _host(canonical)
    if host:
        return host.removeprefix("www.")
    named = _SITE_PREFIX.match(page.name.lower())
    return named.group(1).removeprefix("www.") if named else page.name


def load_folders(folders: list[Path]) -> list[tuple[str, Page]]:
    """(kind, page) of every page of `folders`."""
    loaded: list[tuple[str, Page]] = []
    for folder in folders:
        kind, pages = load_pages(folder)
        loaded += [(kind, page) for page in pages]
    return loaded


def extract_all(pages: list[Page], workers: int, warm_up=None) -> dict[str, Extracted]:
    """Both systems on every page, in `workers` processes (bench/extraction_quality.py)."""
    # By default extraction only is warmed up: the shipped weights may not fit the features
    # being fitted.
    with ProcessPoolExecutor(workers, initializer=warm_up or _warm_extraction) as pool:
        results = list(pool.map(extract_both, enumerate(pages), chunksize=4))
    return {r.name: r for r in results}


def describe_all(loaded: list[tuple[str, Page]], extracted: dict[str, Extracted]) -> list[PageData]:
    """Every page described, with the blocks its site repeats."""
    detector = LanguageDetector()
    data = []
    for kind, page in loaded:
        done = extracted[page.name].page
        key = site_key(page, done.canonical_url if done else None)
        description = describe(done.blocks, detector, done.language, done.title) if done else None
        data.append(PageData(page, kind, key, description, set()))
    # A run's batch from one site teaches its pages what the site repeats.
    by_site: dict[str, list[PageData]] = {}
    for item in data:
        done = extracted[item.page.name].page
        if done is not None and (_host(item.page.url) or _host(done.canonical_url)):
            by_site.setdefault(item.site, []).append(item)
    for items in by_site.values():
        prints = {i.page.name: page_fingerprints(extracted[i.page.name].page) for i in items}
        memories = site_memories(prints, {})
        for item in items:
            blocks = extracted[item.page.name].page.blocks
            item.repeated = repeated_blocks(
                block_fingerprints(blocks), memories.get(item.page.name)
            )
    return data


def prepare(folders: list[Path], workers: int) -> tuple[list[PageData], dict[str, Extracted]]:
    """Every page of `folders`, extracted (both systems, timed) and described."""
    loaded = load_folders(folders)
    extracted = extract_all([page for _, page in loaded], workers)
    return describe_all(loaded, extracted), extracted


def _warm_extraction() -> None:
    extract_page(WARM_UP_PAGE, "https://warm.example/up")
    trafilatura.extract(WARM_UP_PAGE)


def _fold(text: str) -> str:
    return " ".join(text.lower().split())


def block_labels(item: PageData) -> list[int | None]:
    """1 boilerplate, 0 article, None unknown, per block (see the module's note)."""
    assert item.description is not None
    blocks = item.description.blocks
    if item.kind == "snippets":
        must = [_fold(s) for s in item.page.must]
        must_not = [_fold(s) for s in item.page.must_not]
        labels: list[int | None] = []
        for block in blocks:
            text = _fold(block.text)
            if any(s in text for s in must):
                labels.append(0)
            elif any(s in text for s in must_not):
                labels.append(1)
            else:
                labels.append(None)
        return labels
    gold_words = _WORD.findall((item.page.gold or "").lower())
    gold_text = " " + " ".join(gold_words) + " "
    gold_set = set(gold_words)
    labels = []
    for block in blocks:
        words = _WORD.findall(block.text.lower())
        if not words:
            labels.append(None)
            continue
        share = sum(w in gold_set for w in words) / len(words)
        if " " + " ".join(words) + " " in gold_text or share >= GOLD_ARTICLE_SHARE:
            labels.append(0)
        elif share <= GOLD_BOILERPLATE_SHARE:
            labels.append(1)
        else:
            labels.append(None)
    return labels


def site_columns(repeated: set[int], count: int) -> list[list[float]]:
    """Per block, SITE_FEATURES: the block, the one before and the one after repeated."""
    return [
        [float(i in repeated), float(i - 1 in repeated), float(i + 1 in repeated)]
        for i in range(count)
    ]


def fit_weights(train: list[PageData]) -> tuple[np.ndarray, np.ndarray]:
    """(weights of FEATURES, weights of SITE_FEATURES) of an L2 logistic regression."""
    rows, targets, kinds = [], [], []
    for item in train:
        if item.description is None:
            continue
        labels = block_labels(item)
        site = site_columns(item.repeated, len(labels))
        for features, extra, label in zip(item.description.features, site, labels, strict=True):
            if label is not None:
                rows.append(features + extra)
                targets.append(label)
                kinds.append(item.kind)
    x = np.array(rows, dtype=float)
    y = np.array(targets, dtype=float)
    per_kind = Counter(kinds)
    share = {"snippets": SNIPPET_SHARE, "gold": 1 - SNIPPET_SHARE} if len(per_kind) == 2 else {}
    sample = np.array([share.get(k, 1.0) / per_kind[k] for k in kinds])
    penalty = np.full(x.shape[1], L2)
    penalty[FEATURES.index("bias")] = 0.0
    prior = np.zeros(x.shape[1])
    prior[len(FEATURES) :] = SITE_PRIOR
    penalty[len(FEATURES) :] = SITE_PRIOR_STRENGTH

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        z = x @ w
        # log(1 + e^z) - y z, stably
        value = np.sum(sample * (np.logaddexp(0.0, z) - y * z)) + 0.5 * np.sum(
            penalty * (w - prior) ** 2
        )
        p = 1.0 / (1.0 + np.exp(-z))
        gradient = x.T @ (sample * (p - y)) + penalty * (w - prior)
        return float(value), gradient

    result = minimize(loss, np.zeros(x.shape[1]), jac=True, method="L-BFGS-B",
                      options={"maxiter": 2000})  # fmt: skip
    weights = result.x
    return weights[: len(FEATURES)], weights[len(FEATURES) :]


def cleaned_texts(items: list[PageData], model: BlockModel) -> dict[str, str]:
    texts = {}
    for item in items:
        if item.description is None:
            texts[item.page.name] = ""
            continue
        texts[item.page.name] = decide(weigh(item.description, model), item.repeated, model).text
    return texts


def folder_scores(items: list[PageData], texts: dict[str, str]) -> dict[str, float]:
    """{"f1", "precision", "recall"} over gold pages, {"found", "absent"} over snippet pages."""
    scores: dict[str, float] = {}
    gold = [token_scores(texts[i.page.name], i.page.gold or "") for i in items if i.kind == "gold"]
    if gold:
        for n, name in enumerate(("precision", "recall", "f1")):
            scores[name] = statistics.fmean(s[n] for s in gold)
    found: list[bool] = []
    absent: list[bool] = []
    for item in items:
        if item.kind == "snippets":
            must, must_not = snippet_hits(texts[item.page.name], item.page)
            found += must
            absent += must_not
    if found:
        scores["found"] = sum(found) / len(found)
    if absent:
        scores["absent"] = sum(absent) / len(absent)
    return scores


def objective(scores: dict[str, float]) -> float:
    value = 0.0
    if "f1" in scores:
        value += scores["f1"]
    if "found" in scores:
        value += (1 - ABSENT_WEIGHT) * scores["found"] + ABSENT_WEIGHT * scores["absent"]
    return value


def fit_model(train: list[PageData]) -> BlockModel:
    """Weights by logistic regression, then the thresholds with the best objective."""
    own, site = fit_weights(train)
    best: tuple[float, BlockModel] | None = None
    for remove_at in REMOVE_AT_GRID:
        for below in JOIN_BELOW_GRID:
            model = BlockModel(
                tuple(float(w) for w in own),
                tuple(float(w) for w in site),
                remove_at,
                remove_at - below,
            )
            value = objective(folder_scores(train, cleaned_texts(train, model)))
            if best is None or value > best[0] + 1e-9:
                best = (value, model)
    assert best is not None
    return best[1]


def assign_folds(items: list[PageData], count: int) -> dict[str, int]:
    """{site: fold}: whole sites, the biggest first, each to the fold with fewest pages
    (ties by a hash of the site's name, so the split does not depend on the file order)."""
    sizes = Counter(item.site for item in items)
    order = sorted(sizes, key=lambda s: (-sizes[s], hashlib.sha1(s.encode()).hexdigest()))
    pages = [0] * count
    folds = {}
    for site in order:
        fold = min(range(count), key=lambda f: (pages[f], f))
        folds[site] = fold
        pages[fold] += sizes[site]
    return folds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folders", type=Path, nargs="+")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--out",
        type=Path,
        default=Path(__file__).resolve().parent.parent / "digest" / "pages" / MODEL_FILE,
    )
    args = parser.parse_args()
    data, _ = prepare(args.folders, args.workers)
    model = fit_model(data)
    names = ", ".join(as_named(folder) for folder in args.folders)
    note = (
        f"Fitted by bench/fit_blocks.py on every page of {names} ({len(data)} pages): "
        "logistic regression over the block features of digest/pages/_block_model.py, "
        f"L2 {L2}, snippet pages weighing {SNIPPET_SHARE} of the fit, the site's terms held "
        f"near the prior {SITE_PRIOR}; thresholds chosen on a grid for the best "
        "sum of the folders' scores. Do not edit by hand: rerun the script."
    )
    args.out.write_text(model.to_json(note), encoding="utf-8")
    scores = folder_scores(data, cleaned_texts(data, model))
    print(f"wrote {args.out}: remove_at {model.remove_at}, join_at {model.join_at}")
    print("  scores on the pages fitted on (not held out): " + ", ".join(
        f"{k} {v:.4f}" for k, v in scores.items()))  # fmt: skip
    for name, weight in sorted(
        zip(FEATURES + SITE_FEATURES, model.own + model.site, strict=True), key=lambda t: -abs(t[1])
    ):
        print(f"  {name:<24} {weight:+.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
