"""URL canonicalisation: one article, one identity, whatever tracking the link carries."""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit, urlunsplit

from ..text import ascii_url, one_token, split_authority

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
    """The article's identity, which is also the link the reader gets: tracking parameters,
    fragments and credentials (user:password@) are dropped, scheme and host lower-cased,
    default ports removed; the path and the rest of the query are kept as written, since
    servers may need them so, but in RFC 3986's normal form: escapes (6.2.2) and "." and
    ".." segments (5.2.4) as httpx sends them.

    >>> canonical_url("https://news.example/%7Eann/%c3%a9t%C3%A9?q=%61%2f")
    'https://news.example/~ann/%C3%A9t%C3%A9?q=a%2F'
    >>> canonical_url("HTTPS://ann:pw@www.Example.com:443/a/?utm_source=rss&id=3#top")
    'https://www.example.com/a/?id=3'
    """
    text = url.strip()
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        return text
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        return text
    host = parts.hostname.rstrip(".")
    if ":" in host:
        host = f"[{host}]"  # IPv6 keeps its brackets
    netloc = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    query = "&".join(
        pair for pair in parts.query.split("&")
        if pair and not _TRACKING_PARAMS.match(pair.split("=", 1)[0])
    )  # fmt: skip
    # "#!/story/12" and "#/story/12" route single-page sites: there the fragment is the page.
    fragment = parts.fragment if parts.fragment.startswith(("!", "/")) else ""
    path = _without_dot_segments(_PERCENT.sub(_normal_escape, parts.path or "/"))
    query = _PERCENT.sub(_normal_escape, query)
    return urlunsplit((scheme, netloc, path, query, fragment))


def _without_dot_segments(path: str) -> str:
    """RFC 3986 5.2.4, as httpx sends a path: "/x/../a/./s1.html" is "/a/s1.html"."""
    if "." not in path:
        return path
    kept: list[str] = []
    for segment in path.split("/"):
        if segment == "..":
            if len(kept) > 1:
                kept.pop()
        elif segment != ".":
            kept.append(segment)
    return "/".join(kept) + ("/" if path.endswith(("/.", "/..")) else "")


# RFC 3986 6.2.2: "%73" is "s", and "%c3%a9" is "%C3%A9". A feed listing a publisher's
# "/a/%731.html" made another article of "/a/s1.html", and took its headline.
_PERCENT = re.compile("%[0-9A-Fa-f]{2}")
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


def _normal_escape(found: re.Match[str]) -> str:
    character = chr(int(found.group()[1:], 16))
    return character if character in _UNRESERVED else found.group().upper()


_TAB_OR_NEWLINE = re.compile("[\t\n\r]")
_WEB = re.compile("https?:", re.IGNORECASE)
_QUERY_OR_FRAGMENT = re.compile("[?#]")


def _as_a_browser_slashes(link: str) -> str:
    """`link` (http or https, or relative to such a page) as a browser reads it: a
    backslash before its query is a slash (WHATWG URL). Kept as written, a link to
    "https://evil.example\\.bank.example/" showed as a bank's address and opened evil.example."""
    end = _QUERY_OR_FRAGMENT.search(link)
    cut = end.start() if end else len(link)
    return link[:cut].replace("\\", "/") + link[cut:]


def usable_link(candidate: str, base_url: str) -> str | None:
    """`candidate` made absolute against `base_url`, if it is a link we may follow.

    http(s) links need a host that can be encoded, and lose any user:password@ (a feed's
    credentials, or the operator's in the feed URL, are no one's to read in a digest);
    file links are followed only from a feed that is itself a local file, so a remote feed
    can never make us read local files. Tabs and line breaks are removed, as browsers do
    (WHATWG URL), and spaces and bidi formatting characters percent-encoded (`one_token`):
    a link is one token in a log line or an email, and could otherwise forge the lines
    after it or read as another address. A link holding another control character or a
    lone surrogate is no link.
    """
    try:
        candidate = _TAB_OR_NEWLINE.sub("", candidate).strip()
        if "\\" in candidate and (_WEB.match(candidate) or _WEB.match(base_url)):
            candidate = _as_a_browser_slashes(candidate)
        absolute = one_token(urljoin(base_url, candidate))
        if absolute is None:
            return None
        parts = urlsplit(absolute)
        if parts.scheme in ("http", "https"):
            if not parts.hostname or " " in parts.netloc:
                return None
            _ = parts.port  # a port out of range raises ValueError
            # The host as httpx sends it (IDNA 2008), the rest ASCII too: see ascii_url.
            link = ascii_url(without_userinfo(absolute))
            host = urlsplit(link).hostname or ""
            if "%" in host:  # an invisible character, encoded by one_token: no such host
                return None
            host.encode("idna")  # "a..b", "xn--" and friends fail here, not mid-run
            return link
        if parts.scheme == "file" and urlsplit(base_url).scheme == "file":
            return absolute
    except (ValueError, UnicodeError):
        return None
    return None


def without_userinfo(url: str) -> str:
    """`url` without the user:password@ before its host; every other character kept.

    >>> without_userinfo("http://ann:secret@news.example/a?b#c")
    'http://news.example/a?b#c'
    """
    start, authority, rest = split_authority(url)
    if "@" not in authority:
        return url
    return start + authority.rpartition("@")[2] + rest


def host_of(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()
