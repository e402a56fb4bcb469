"""Term extraction: the same terms however they are computed."""

from __future__ import annotations

from digest.features import fold, names_in


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
