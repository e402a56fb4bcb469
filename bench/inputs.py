"""How the fitting scripts name their inputs in the notes they write beside what they fit."""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def as_named(path: Path) -> str:
    """`path` as seen from the repository: relative inside it ("bench/data/x.jsonl"), from
    beside it for the shared data ("../shared/data/ecbplus/dev.jsonl"), else as given."""
    absolute = Path(os.path.abspath(path))  # ".." folded, symlinks kept
    if absolute.resolve().is_relative_to(REPO):
        return absolute.resolve().relative_to(REPO).as_posix()
    if absolute.is_relative_to(REPO.parent):
        return "../" + absolute.relative_to(REPO.parent).as_posix()
    return str(path)
