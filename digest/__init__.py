"""digest: turn a list of news feeds into an email digest, one item per event.

import digest
config = digest.load_config("config/demo.yaml")
report = digest.run(config)          # what `digest run` and cron call
digest.copy_state(config.storage, "postgresql://digest@db/digest")  # `digest copy-state`
for item in digest.preview(config).digest.items:
    print(item.headline, [s.name for s in item.sources])
"""

from typing import TYPE_CHECKING, Any

from .config import Config, FeedConfig, load_config
from .errors import (
    ConfigError,
    DeliveryError,
    DigestError,
    ExtractError,
    FeedError,
    FetchError,
    RenderError,
    RunLocked,
    SharedDigest,
    StoreError,
    StoreUnavailable,
)
from .models import Digest, DigestItem, RunReport, Skipped, Source
from .version import __version__

if TYPE_CHECKING:
    from .pipeline import FeedCheck, PageReport, check, extract, preview, run
    from .store import CopiedState, copy_state

# The pipeline's names load on first use (PEP 562): importing them pulls in every stage
# (scipy, httpx, trafilatura), which `digest --help`, `digest status` and a config error
# do not need and would wait for on each call.
_PIPELINE_NAMES = frozenset({"FeedCheck", "PageReport", "check", "extract", "preview", "run"})
_STORE_NAMES = frozenset({"CopiedState", "copy_state"})


def __getattr__(name: str) -> Any:
    if name in _PIPELINE_NAMES:
        from . import pipeline

        return getattr(pipeline, name)
    if name in _STORE_NAMES:
        from . import store

        return getattr(store, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "Config",
    "ConfigError",
    "CopiedState",
    "DeliveryError",
    "Digest",
    "DigestError",
    "DigestItem",
    "ExtractError",
    "FeedCheck",
    "FeedConfig",
    "FeedError",
    "FetchError",
    "PageReport",
    "RenderError",
    "RunLocked",
    "RunReport",
    "SharedDigest",
    "Skipped",
    "Source",
    "StoreError",
    "StoreUnavailable",
    "__version__",
    "check",
    "copy_state",
    "extract",
    "load_config",
    "preview",
    "run",
]
