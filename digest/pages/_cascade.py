"""trafilatura's full cascade, taking its fast path where its own extractor found a long text.

trafilatura's full cascade runs its own extractor, then readability and jusText to compare
with it. On a long extraction the comparison rarely changes the text (and, measured by
bench/extraction_quality.py, changes it for the worse more often than not) while it costs a
third of the extraction; on a short one it finds what the extractor missed. Running the fast
pass first and the full cascade again on short pages paid the extractor twice on two pages in
five, a quarter of trafilatura's whole time. Here one full-cascade run decides at its
comparison step, where the extractor's text is known, and when that text is long skips from
there on what the fast path skips: the comparison, and the jusText candidate of the recall
retry. (Its extractor ran with the full cascade's settings, whose minimum sizes differ from
the fast pass's; a few pages in a hundred come out differently.)

Those two steps are trafilatura.core's `compare_extraction` and `justext_rescue`, wrapped
once at import. The wrappers act only within this module's `bare_extraction`: other code
calling trafilatura in the same process gets trafilatura unchanged. pyproject.toml pins the
trafilatura minor version whose cascade this follows, and tests/test_extract.py checks that
trafilatura still calls both steps by those names.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass

import lxml.etree
import lxml.html
import trafilatura
import trafilatura.core

# From the module that defines them, which is never wrapped: taken from trafilatura.core, a
# second run of this module (importlib.reload) would take its own wrapper for trafilatura's
# step, and every extraction in the process would recurse.
from trafilatura.external import compare_extraction as _trafilatura_compare
from trafilatura.external import justext_rescue as _trafilatura_justext
from trafilatura.settings import Document, Extractor

# An extraction shorter than this (characters), without paragraphs, or with more tables
# than paragraphs (where trafilatura prefers readability's result) gets the full cascade.
FULL_CASCADE_BELOW = 2500


@dataclass
class _Extraction:
    """One bare_extraction call: None until its comparison step has seen the text."""

    fast_path: bool | None = None


_current: ContextVar[_Extraction | None] = ContextVar("trafilatura_extraction", default=None)


def needs_full_cascade(body: lxml.etree._Element | None) -> bool:
    """True when trafilatura's own extraction `body` is one its full cascade may well
    replace: short, without paragraphs, or more tables than paragraphs."""
    if body is None:
        return True
    if sum(len(text) for text in body.itertext()) < FULL_CASCADE_BELOW:
        return True
    paragraphs = body.findall(".//p")
    return not paragraphs or len(body.findall(".//table")) > len(paragraphs)


def _compare_extraction(
    cleaned_tree: lxml.html.HtmlElement,
    raw_tree: lxml.html.HtmlElement,
    body: lxml.etree._Element,
    text: str,
    options: Extractor,
) -> tuple[lxml.etree._Element, str]:
    extraction = _current.get()
    if extraction is not None:
        if extraction.fast_path is None:
            extraction.fast_path = not needs_full_cascade(body)
        if extraction.fast_path:
            return body, text
    return _trafilatura_compare(cleaned_tree, raw_tree, body, text, options)


def _justext_rescue(
    tree: lxml.html.HtmlElement, options: Extractor
) -> tuple[lxml.etree._Element, str]:
    extraction = _current.get()
    if extraction is not None and extraction.fast_path:
        return lxml.etree.Element("body"), ""
    return _trafilatura_justext(tree, options)


def bare_extraction(tree: lxml.html.HtmlElement, options: Extractor) -> Document | None:
    """trafilatura.bare_extraction of `tree` with `options` (whose `fast` is False), which
    takes the fast path once its own extractor's text is long (`needs_full_cascade`)."""
    token = _current.set(_Extraction())
    try:
        return trafilatura.bare_extraction(tree, options=options)
    finally:
        _current.reset(token)


trafilatura.core.compare_extraction = _compare_extraction
trafilatura.core.justext_rescue = _justext_rescue
