"""Email addresses in the config: one, or an RFC 5322 address list, checked when the config
loads so that a bad one is a `file:line` error and not a failed send."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from email.utils import getaddresses
from typing import Any

from ..errors import Invalid


def address_list(value: Any) -> tuple[str, ...]:
    """An address, a list of them, or one string holding several (an RFC 5322 address
    list: `a@x.org, "Ana, B" <b@x.org>`). Each comes back as its own entry, so that a
    comma-separated string still gives every reader their own message."""
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, (list, tuple)) or not items:
        raise Invalid("expected an address or a list of addresses")
    return tuple(address for item in items for address in split_addresses(item))


# A display name's words with nothing of an address in them (no @ . < > " or brackets).
_PLAIN_NAME = re.compile(r"[^\W\d_]+(?:[ '-][^\W\d_]+)*")


def split_addresses(value: Any) -> list[str]:
    """The addresses of an RFC 5322 address list, each as `Name <user@host>` or `user@host`.

    getaddresses() splits; each comma-separated piece must then give exactly one valid
    address, because getaddresses() alone turns `a@x.org b@y.org` or `a@x.org <b@y.org`
    into fragments instead of refusing them.
    """
    if not isinstance(value, str):
        raise Invalid(f"{value!r} is not an email address")
    # str.splitlines() also breaks at U+2028, U+0085...: the email library refuses those too.
    if any(ord(ch) < 32 for ch in value) or len(value.splitlines()) > 1:
        raise Invalid(f"{value!r} holds a control character (a line break?); write it on one line")
    pieces = [piece.strip() for piece in _top_level_pieces(value) if piece.strip()]
    if not pieces:
        raise Invalid(f"{value!r} is not an email address")
    out = []
    for number, piece in enumerate(pieces):
        pairs = getaddresses([piece])
        if len(pairs) != 1 or not _valid_address(pairs[0][1]):
            hint = "; separate addresses with commas" if piece.count("@") > 1 else ""
            following = pieces[number + 1] if number + 1 < len(pieces) else ""
            rest = following.split("<")[0].strip()
            # `Lee, Bo <bo@example.org>`: two plain words of a name, cut at the comma. Not
            # `ana.example.org, Bo <bo@...>`: quoting that would drop ana without a word.
            if _PLAIN_NAME.fullmatch(piece) and rest and _PLAIN_NAME.fullmatch(rest):
                hint = f"; a name holding a comma needs quotes: '\"{piece}, {rest}\" <...>'"
            raise Invalid(f"{piece!r} is not an email address{hint}")
        out.append(_display_form(*pairs[0]))
    return out


def _top_level_pieces(text: str) -> list[str]:
    """`text` cut at the commas outside "quoted names", <addresses> and (comments)."""
    pieces, current = [], []
    quoted, escaped, angle, comment = False, False, 0, 0
    for char in text:
        if escaped:
            escaped = False
        elif char == "\\" and (quoted or comment):
            escaped = True
        elif quoted:
            quoted = char != '"'
        elif char == '"' and not comment:
            quoted = True
        elif char == "(":
            comment += 1
        elif char == ")" and comment:
            comment -= 1
        elif char == "<" and not comment:
            angle += 1
        elif char == ">" and angle and not comment:
            angle -= 1
        elif char == "," and not (angle or comment):
            pieces.append("".join(current))
            current = []
            continue
        current.append(char)
    pieces.append("".join(current))
    return pieces


_NAME_SPECIALS = re.compile(r'[][\\()<>@,:;".]')


def _display_form(name: str, address: str) -> str:
    """`Name <user@host>` (the name quoted when it holds specials), or the bare address.
    Unlike formataddr(), a non-ASCII name stays readable: the message encodes it."""
    if not name:
        return address
    if _NAME_SPECIALS.search(name):
        name = '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return f"{name} <{address}>"


def _valid_address(address: str) -> bool:
    local, _, host = address.rpartition("@")
    if not local or any(ch.isspace() or ch in '<>"' for ch in address):
        return False
    try:
        host.encode("idna")
    except UnicodeError:
        return False
    return "." in host or host == "localhost"


def address(value: Any) -> str:
    """'Name <user@host>' or 'user@host', on one line: exactly one address."""
    addresses = split_addresses(value)
    if len(addresses) > 1:
        raise Invalid(f"{value!r} holds {len(addresses)} addresses; give one")
    return addresses[0]


def optional_address(value: Any) -> str | None:
    return None if value is None else address(value)


def list_id(title: str, digest_id: str, sender: str) -> str:
    """The identifier of the digest's List-Id (RFC 2919), `label.domain`: the label its `id`
    (else its title's ASCII letters and digits, else "digest-" and a hash of the title), the
    namespace the sender's domain. Mail clients file and filter a list's messages by it
    (Gmail's "filter messages like these", Outlook's rules); it stays the same when the
    subject changes each day, and differs between digests: ids are unique in a store."""
    if digest_id:
        # An id is letters, digits, ".", "_" and "-": a dot-atom unless its dots are not
        # ("news."), which are replaced, and a hash of the id keeps it apart from "news_".
        label = digest_id
        if not _DOT_ATOM.fullmatch(digest_id):
            hashed = hashlib.sha1(digest_id.encode()).hexdigest()[:8]
            label = f"{digest_id.replace('.', '_')}-{hashed}"
    else:
        # "Zürich" as "zurich": the letters without their marks.
        decomposed = unicodedata.normalize("NFKD", title.lower())
        latin = "".join(char for char in decomposed if not unicodedata.combining(char))
        label = "-".join(re.findall(r"[a-z0-9]+", latin))
        hashed = hashlib.sha1(title.encode()).hexdigest()[:8]
        # Letters of another script are lost from the label ("Новости 2024" is "2024"):
        # a hash of the title keeps two such digests apart.
        lost = any(char.isalpha() and not char.isascii() for char in latin)
        if not label:
            label = f"digest-{hashed}"
        elif lost or len(label) > _LABEL_MAX:
            label = f"{label[: _LABEL_MAX - 9].rstrip('-')}-{hashed}"
    _, at, domain = getaddresses([sender])[0][1].lower().rpartition("@")
    try:
        domain = domain.encode("idna").decode("ascii") if domain else ""
    except UnicodeError:
        domain = ""
    if not at or not _DOT_ATOM.fullmatch(domain):
        domain = "localhost"
    return f"{label}.{domain}"


_DOT_ATOM = re.compile(r"[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*")
_LABEL_MAX = 64
