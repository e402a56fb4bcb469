"""One run of a digest, stage after stage: the library's API.

What other stages may use; the modules beside this one are internal."""

from ._runner import FeedCheck, PageReport, check, extract, preview, reactivate, render_email, run

__all__ = [
    "FeedCheck",
    "PageReport",
    "check",
    "extract",
    "preview",
    "reactivate",
    "render_email",
    "run",
]
