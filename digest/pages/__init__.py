"""Article pages: extraction (trafilatura), boilerplate cleaning, language.

What other stages may use; the modules beside this one are internal."""

from ._clean import (
    LanguageDetector,
    ScoredBlocks,
    all_seen_whole,
    block_fingerprints,
    clean_page,
    decide,
    repeated_blocks,
    score_page,
    site_memories,
)
from ._extract import extract_page
from ._language import article_language

__all__ = [
    "LanguageDetector",
    "ScoredBlocks",
    "all_seen_whole",
    "article_language",
    "block_fingerprints",
    "clean_page",
    "decide",
    "extract_page",
    "repeated_blocks",
    "score_page",
    "site_memories",
]
