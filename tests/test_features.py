"""Term extraction: the same terms however they are computed."""

from __future__ import annotations

import pytest

from digest.features import article_terms, batch_terms, fold, names_in

STORY = (
    "Shares of Meta rose after Meta’s chief said the company would spend $40 billion. "
    "The Zürich office of Meta hires 1,200 engineers, according to Dina Powell McCormick.\n\n"
    "Analysts at Morgan Stanley said the “$40bn” plan was priced in. Meanwhile rivals waited."
)


def test_fold_strips_accents_and_keeps_other_text():
    assert fold("Zürich “Crème brûlée” São Paulo") == "zurich “creme brulee” sao paulo"
    assert fold("ASCII Only") == "ascii only"


def test_a_capitalised_opener_counts_only_when_also_named_mid_sentence():
    text = (
        "Meta said so. Analysts said little. Rivals praised Meta and shares fell. "
        "Shares of Meta rose."
    )
    # "Shares of Meta": "shares" is an ordinary word here, so the name is Meta alone.
    assert names_in(text) == ["Meta", "Meta", "Meta"]


@pytest.mark.parametrize("start_method", ["fork", "forkserver"])
def test_terms_from_worker_processes_equal_terms_from_this_process(start_method, monkeypatch):
    texts = [(f"Meta plan number {n}", STORY.replace("1,200", f"{1000 + n:,}")) for n in range(40)]
    here = batch_terms(texts, workers=2)
    assert here.workers_cpu == 0  # a small batch stays in this process, whatever `workers` says
    monkeypatch.setattr("digest.features.POOL_MIN_ARTICLES", 10)
    here = batch_terms(texts, workers=0)
    pooled = batch_terms(texts, workers=2, start_method=start_method)
    assert pooled.terms == here.terms == [article_terms(t, x) for t, x in texts]
    assert pooled.workers_cpu > 0
    assert here.workers_cpu == 0
