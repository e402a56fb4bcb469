"""URL canonicalisation: one article, one identity, whatever tracking the link carries."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

# Query parameters that only say where a click came from. Dropping them makes the same
# article under two links one source (Miniflux and FreshRSS strip much the same list).
_TRACKING_PARAMS = re.compile(
    r"^(utm_\w+|fbclid|gclid|dclid|msclkid|mc_cid|mc_eid|igshid|yclid|_hsenc|_hsmi|mkt_tok"
    r"|ref|ref_src|ref_url|referrer|cmpid|ito|ns_mchannel|ns_source|ns_campaign"
    r"|ns_linkname|ns_fee|soc_src|soc_trk|at_medium|at_campaign|taid|s_cid|smid"
    r"|ocid|xtor|__twitter_impression|sr_share)$",
    re.IGNORECASE,
)
_DEFAULT_PORTS = {"http": 80, "https": 443}


def canonical_url(url: str) -> str:
    """Normalise a link so that trivially different spellings compare equal.

    >>> canonical_url("HTTPS://www.Example.com:443/a/?utm_source=rss&id=3#top")
    'https://www.example.com/a?id=3'
    """
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        return url.strip()
    host = (parts.hostname or "").lower().rstrip(".")
    netloc = host
    if parts.port and parts.port != _DEFAULT_PORTS.get(scheme):
        netloc = f"{host}:{parts.port}"
    path = re.sub(r"/{2,}", "/", parts.path) or "/"
    if len(path) > 1 and path.endswith("/"):
        path = path.rstrip("/")
    for index_page in ("/index.html", "/index.htm", "/index.php"):
        if path.endswith(index_page):
            path = path[: -len(index_page)] or "/"
    query = [
        (key, value)
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
        if not _TRACKING_PARAMS.match(key)
    ]
    query.sort()
    # The scheme is kept: the canonical URL is also the link the reader gets.
    return urlunsplit((scheme, netloc, path, urlencode(query), ""))


def host_of(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def usable_link(candidate: str, base_url: str) -> str | None:
    """`candidate` made absolute against `base_url`, if it is a link we may follow.

    http(s) links need a host that can be encoded; file links are followed only from a feed
    that is itself a local file, so a remote feed can never make us read local files.
    """
    try:
        absolute = urljoin(base_url, candidate.strip())
        parts = urlsplit(absolute)
        if parts.scheme in ("http", "https"):
            if not parts.hostname or "\x00" in absolute or " " in parts.netloc:
                return None
            parts.hostname.encode("idna")  # "a..b", "xn--" and friends fail here, not mid-run
            _ = parts.port  # a port out of range raises ValueError
            return absolute
        if parts.scheme == "file" and urlsplit(base_url).scheme == "file":
            return absolute
    except (ValueError, UnicodeError):
        return None
    return None
