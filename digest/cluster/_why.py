"""Why a digest item's sources were grouped: the names, figures and words most of them share.

Computed for every group of a batch at once: the members' terms are counted per group in
numpy (one sort of every member's cells), the shared ones ranked in one lexsort, and only
the labels are picked in Python. Group by group, a dozen numpy calls' own cost would be most
of the time on a batch of many small groups; at once, sorting the cells is most of it.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise

import numpy as np

from ._ordering import lexsort_ints, stable_argsort
from ._terms.batch import TermsBatch, row_positions

WHY_TERMS = 6  # terms shown in an item's "why grouped"


def why_grouped(
    terms: TermsBatch, groups: Sequence[Sequence[int]], holders: np.ndarray
) -> list[tuple[str, ...]]:
    """For each group of rows of `terms`, the few names, figures and words that most of its
    members share, most telling first.

    `holders[column]` is the number of articles of the batch that hold the term. Names and
    figures come before words; within each, terms that more members share come first, then
    those fewer other articles of the batch hold, then figures before names (at equal
    spread and rarity a figure ties an event down more), then heavier in the members, then
    by name. A term is shown as the first member (in the group's order) wrote it. Bare
    numbers without a unit, and terms inside one already shown ("20417" in
    "CVE-2026-20417"), are left out. Empty for a group of one (nothing was grouped).
    """
    whys: list[tuple[str, ...]] = [()] * len(groups)
    several = [index for index, group in enumerate(groups) if len(group) >= 2]
    if not several:
        return whys
    sizes = np.array([len(groups[index]) for index in several], dtype=np.int64)
    members = np.concatenate([np.asarray(groups[index], dtype=np.int64) for index in several])
    width = len(terms.vocabulary)

    def cells(indptr: np.ndarray, columns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each member's cells, group after group: their positions and (group, column) keys."""
        at = row_positions(indptr, members)
        lengths = indptr[members + 1] - indptr[members]
        group = np.repeat(np.repeat(np.arange(len(several)), sizes), lengths)
        return at, group * width + columns[at]

    at, keys = cells(terms.indptr, terms.columns)
    if not len(keys):
        return whys  # the grouped articles have no terms at all
    order = stable_argsort(keys)
    keys = keys[order]
    starts = np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1])))
    held = np.diff(np.append(starts, len(keys)))
    # The counts are whole numbers (weights 3, 2 and 1, names and figures 3x), so reduceat's
    # pairwise sums are the floats a sum over the members' counts in their order gives.
    weights = np.add.reduceat(terms.counts[at[order]], starts)
    distinct = keys[starts]
    group = distinct // width
    shared = np.flatnonzero(held >= np.maximum(2, (sizes + 1) // 2)[group])
    group, column, held, weights = (
        group[shared],
        distinct[shared] % width,
        held[shared],
        weights[shared],
    )
    # The terms' order by name, among the terms some group shares.
    named, position = np.unique(column, return_inverse=True)
    vocabulary = terms.vocabulary
    by_name = sorted(range(len(named)), key=[vocabulary[c] for c in named.tolist()].__getitem__)
    name_rank = np.empty(len(named), dtype=np.int64)
    name_rank[by_name] = np.arange(len(named))
    kinds = np.array([vocabulary[c][0] for c in named.tolist()])[position]
    heavier_first = np.unique(-weights, return_inverse=True)[1]
    # Each group's terms in the order they are shown: names and figures, then words; within
    # each, shared by more members, held by fewer articles of the batch, figures first,
    # heavier, then by name. (np.lexsort of the same keys took 1.2 s at 100,000 articles.)
    ranked = lexsort_ints(
        (
            name_rank[position],
            heavier_first,
            (kinds != "x").astype(np.int64),
            holders[column],
            held.max(initial=0) - held,
            (kinds == "w").astype(np.int64),
            group,
        )
    )
    group, column = group[ranked], column[ranked]
    # Where each ranked term's label (as its first member in the group wrote it) is in
    # label_texts, or -1 for a term with none: looked up for the ranked terms at once, not
    # through a dictionary of every member's labels.
    label_at, label_keys = cells(terms.label_indptr, terms.label_columns)
    labelled, first = np.unique(label_keys, return_index=True)
    wanted = group * width + column
    found = np.minimum(np.searchsorted(labelled, wanted), max(len(labelled) - 1, 0))
    label = np.full(len(wanted), -1, dtype=np.int64)
    if len(labelled):
        hit = labelled[found] == wanted
        label[hit] = label_at[first[found[hit]]]
    bounds = np.searchsorted(group, np.arange(len(several) + 1)).tolist()
    column_list, label_list = column.tolist(), label.tolist()
    for index, (start, stop) in enumerate(pairwise(bounds)):
        whys[several[index]] = _shown(
            column_list[start:stop], label_list[start:stop], terms.label_texts, vocabulary
        )
    return whys


def _shown(
    columns: list[int], labels: list[int], label_texts: list[str], vocabulary: list[str]
) -> tuple[str, ...]:
    """The first WHY_TERMS labels of a group's ranked `columns` worth showing; `labels`:
    each one's position in `label_texts`, or -1 to show the term itself."""
    shown: list[str] = []
    keys: list[str] = []  # the shown terms as folded in the vocabulary ("koln" for "Köln")
    for column, position in zip(columns, labels, strict=True):
        key = vocabulary[column][2:]
        label = key if position < 0 else label_texts[position]
        if label.isdigit() or any(
            label.casefold() in other.casefold() or key in other_key
            for other, other_key in zip(shown, keys, strict=True)
        ):
            continue
        shown.append(label)
        keys.append(key)
        if len(shown) == WHY_TERMS:
            break
    return tuple(shown)
