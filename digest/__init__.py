"""digest: turn a list of news feeds into an email digest, one item per event.

import digest
config = digest.load_config("config/demo.yaml")
report = digest.run(config)          # what `digest run` and cron call
for item in digest.preview(config).digest.items:
    print(item.headline, [s.name for s in item.sources])
"""

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
)
from .models import Digest, DigestItem, RunReport, Skipped, Source
from .pipeline import FeedCheck, PageReport, check, extract, preview, run
from .version import __version__

__all__ = [
    "Config",
    "ConfigError",
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
    "__version__",
    "check",
    "extract",
    "load_config",
    "preview",
    "run",
]
