"""One run of a digest, stage after stage: the library's API.

What other stages may use; the modules beside this one are internal."""

from ._progress import Progress, StageCount, reporting_progress
from ._runner import (
    FeedCheck,
    PageReport,
    check,
    clipped_email_warning,
    extract,
    preview,
    reactivate,
    render_email,
    run,
)
from ._setup_check import SetupCheck, check_setup

__all__ = [
    "FeedCheck",
    "PageReport",
    "Progress",
    "SetupCheck",
    "StageCount",
    "check",
    "check_setup",
    "clipped_email_warning",
    "extract",
    "preview",
    "reactivate",
    "render_email",
    "reporting_progress",
    "run",
]
