"""URL canonicalisation: one article, one identity, whatever tracking the link carries."""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit, urlunsplit

import idna

from ..text import one_token

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
    default ports removed; the path and the rest of the query are kept exactly, since
    servers may need them as they are, but for their escapes in RFC 3986's normal form.

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
    path, query = (
        _PERCENT.sub(_normal_escape, parts.path or "/"),
        _PERCENT.sub(_normal_escape, query),
    )
    return urlunsplit((scheme, netloc, path, query, fragment))


# RFC 3986 6.2.2: "%73" is "s", and "%c3%a9" is "%C3%A9". A feed listing a publisher's
# "/a/%731.html" made another article of "/a/s1.html", and took its headline.
_PERCENT = re.compile("%[0-9A-Fa-f]{2}")
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


def _normal_escape(found: re.Match[str]) -> str:
    character = chr(int(found.group()[1:], 16))
    return character if character in _UNRESERVED else found.group().upper()


_TAB_OR_NEWLINE = re.compile("[\t\n\r]")


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
        absolute = one_token(urljoin(base_url, _TAB_OR_NEWLINE.sub("", candidate).strip()))
        if absolute is None:
            return None
        parts = urlsplit(absolute)
        if parts.scheme in ("http", "https"):
            if not parts.hostname or " " in parts.netloc:
                return None
            _ = parts.port  # a port out of range raises ValueError
            if parts.hostname.isascii():
                parts.hostname.encode("idna")  # "a..b", "xn--" and friends fail here
                return without_userinfo(absolute)
            return _with_ascii_host(without_userinfo(absolute))
        if parts.scheme == "file" and urlsplit(base_url).scheme == "file":
            return absolute
    except (ValueError, UnicodeError):
        return None
    return None


def _with_ascii_host(url: str) -> str:
    """`url` with its host in IDNA 2008 ASCII (punycode), as httpx sends it and as a reader
    should see it: "www.b\u0430nk.com", a Cyrillic "\u0430", shows as "www.xn--bnk-6cd.com",
    not as a bank's name. A host IDNA 2008 refuses (a slash look-alike U+2215 in
    "paypal.com\u2215signin.evil.example") raises UnicodeError: no link."""
    scheme, slashes, rest = url.partition("//")
    end = min((at for at in (rest.find(c) for c in "/?#") if at >= 0), default=len(rest))
    parts = urlsplit(url)
    try:
        host = idna.encode(parts.hostname or "").decode("ascii")
    except idna.IDNAError as error:
        raise UnicodeError(str(error)) from None
    port = f":{parts.port}" if parts.port is not None else ""
    return f"{scheme}{slashes}{host}{port}{rest[end:]}"


def without_userinfo(url: str) -> str:
    """`url` without the user:password@ before its host; every other character kept.

    >>> without_userinfo("http://ann:secret@news.example/a?b#c")
    'http://news.example/a?b#c'
    """
    scheme, slashes, rest = url.partition("//")
    end = min((at for at in (rest.find(c) for c in "/?#") if at >= 0), default=len(rest))
    authority = rest[:end]  # where urlsplit reads the netloc: up to the first / ? or #
    if not slashes or "@" not in authority:
        return url
    return scheme + slashes + authority.rpartition("@")[2] + rest[end:]


def host_of(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()
