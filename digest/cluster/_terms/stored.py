"""A `TermsBatch` as bytes to keep in the state database, and back.

A batch is stored as it is, arrays and vocabulary, so that storing and reading it back cost
a few numpy calls, not work per article.
"""

from __future__ import annotations

import io
import zipfile
import zlib

import numpy as np

from .batch import TermsBatch

_ARRAYS = (
    "indptr",
    "columns",
    "counts",
    "title_indptr",
    "title_columns",
    "label_indptr",
    "label_columns",
    "brief",
)


def encoded_terms(batch: TermsBatch) -> bytes:
    """The batch's arrays, and its strings NUL-separated (printable() leaves no NUL in a
    text; a batch whose strings do not split into as many as it had is taken for not
    stored), as an .npz of numeric arrays (no pickle), compressed: a third of the size."""
    buffer = io.BytesIO()
    np.savez(
        buffer,
        vocabulary=np.frombuffer("\0".join(batch.vocabulary).encode(), np.uint8),
        label_texts=np.frombuffer("\0".join(batch.label_texts).encode(), np.uint8),
        sizes=np.array([len(batch.vocabulary), len(batch.label_texts)], np.int64),
        **{name: getattr(batch, name) for name in _ARRAYS},
    )
    return zlib.compress(buffer.getvalue(), 1)


def decoded_terms(blob: bytes) -> TermsBatch | None:
    """The batch of a stored row; None for a row that does not read back whole (damaged, or
    written in another layout)."""
    try:
        with np.load(io.BytesIO(zlib.decompress(blob)), allow_pickle=False) as stored:
            arrays = {name: stored[name] for name in _ARRAYS}
            vocabulary = _strings(stored["vocabulary"], int(stored["sizes"][0]))
            label_texts = _strings(stored["label_texts"], int(stored["sizes"][1]))
    except (zlib.error, zipfile.BadZipFile, KeyError, ValueError, IndexError, OSError):
        return None
    if vocabulary is None or label_texts is None:
        return None
    return TermsBatch(vocabulary, label_texts=label_texts, **arrays)


def _strings(joined: np.ndarray, count: int) -> list[str] | None:
    strings = joined.tobytes().decode().split("\0") if count else []
    return strings if len(strings) == count else None
