"""Settings of a digest: the YAML loader, the settings registry, addresses.

What other stages may use; the modules beside this one are internal."""

from ._loader import (
    SERVED_ORIGIN,
    ArchiveConfig,
    Config,
    DeliveryConfig,
    FeedConfig,
    FetchSettings,
    feed_key,
    feed_url,
    load_config,
    parse_config,
    served_origin,
    settings_help,
    storage_value,
)
from ._settings import DEFAULT_SUBJECT

__all__ = [
    "DEFAULT_SUBJECT",
    "SERVED_ORIGIN",
    "ArchiveConfig",
    "Config",
    "DeliveryConfig",
    "FeedConfig",
    "FetchSettings",
    "feed_key",
    "feed_url",
    "load_config",
    "parse_config",
    "served_origin",
    "settings_help",
    "storage_value",
]
