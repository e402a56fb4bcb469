"""Which addresses a feed's links may make us connect to, enforced where we connect.

A feed is written by someone else: its links could point the fetcher at the operator's
router, a cloud metadata endpoint (169.254.169.254) or a database on localhost. Links to
private, loopback, link-local and other non-public addresses are refused, unless the link's
host is the feed's own host (the feed already lives there) or the operator allowed private
networks (`fetch.allow_private`).

The check is made on the address a name resolves to, inside the connection itself
(`GuardedBackend.connect_tcp`): the name is resolved once, each address is checked, and the
socket connects to the checked address. Checking a name first and letting the connection
resolve it again would let a DNS server answer "public" to the check and "127.0.0.1" to the
connection (DNS rebinding). Every redirect hop opens its connection through the same guard.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
from collections.abc import Callable, Iterable
from typing import Any

import httpcore
import httpx
from httpcore._backends.sync import SyncStream

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], list[str]]

_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")
_CGNAT = ipaddress.ip_network("100.64.0.0/10")


class BlockedAddress(Exception):
    """A connection the address policy refused. Not an httpcore error, so httpx lets it
    through unchanged and the fetcher can tell it from a network failure."""

    def __init__(self, host: str, address: str, kind: str):
        self.host = host
        self.address = address
        self.kind = kind
        where = address if host == address else f"{host} ({address})"
        super().__init__(f"{where} is a {kind} address")


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one stands for: ::ffff:a.b.c.d, 6to4, NAT64, ::a.b.c.d."""
    if ip.ipv4_mapped:
        return ip.ipv4_mapped
    if ip.sixtofour:
        return ip.sixtofour
    if ip in _NAT64 or (ip in _IPV4_COMPATIBLE and int(ip) > 1):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def address_kind(address: str | IPAddress) -> str | None:
    """Why `address` is not a public unicast address ("loopback", "private", ...), or None.

    >>> address_kind("10.1.2.3"), address_kind("::ffff:127.0.0.1"), address_kind("9.9.9.9")
    ('private', 'loopback', None)
    """
    ip = ipaddress.ip_address(address) if isinstance(address, str) else address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.scope_id:
            ip = ipaddress.IPv6Address(str(ip).split("%", 1)[0])
        inner = _embedded_ipv4(ip)
        if inner is not None:
            return address_kind(inner)
    if ip.is_loopback:
        return "loopback"
    if ip.is_link_local:
        return "link-local"
    if ip.is_unspecified:
        return "unspecified"
    if ip.is_multicast:
        return "multicast"
    if ip in _CGNAT:
        return "shared (carrier-grade NAT)"
    if ip.is_private:
        return "private"
    if not ip.is_global or ip.is_reserved:
        return "reserved"
    return None


def system_resolver(host: str, port: int) -> list[str]:
    """Every address `host` resolves to, in the system's preferred order."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class GuardedBackend(httpcore.SyncBackend):
    """httpcore's socket backend, refusing non-public addresses and pinning what it checked."""

    def __init__(
        self,
        resolver: Resolver = system_resolver,
        refuse: Callable[[str], str | None] = address_kind,
    ):
        self.resolver = resolver
        self.refuse = refuse

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        try:
            addresses = self.resolver(host, port)
        except (OSError, UnicodeError) as error:
            raise httpcore.ConnectError(f"cannot resolve {host}: {error}") from None
        allowed = []
        refusal: BlockedAddress | None = None
        for address in addresses:
            kind = self.refuse(address)
            if kind is None:
                allowed.append(address)
            elif refusal is None:
                refusal = BlockedAddress(host, address, kind)
        if refusal is not None:
            # One bad address is enough: a name that also resolves to 10.0.0.1 is either
            # misconfigured or an attack, and a retry could be sent there.
            raise refusal
        if not allowed:
            raise httpcore.ConnectError(f"{host} resolves to no address")
        last_error: OSError | None = None
        source = None if local_address is None else (local_address, 0)
        for address in allowed:
            try:
                sock = socket.create_connection((address, port), timeout, source_address=source)
            except TimeoutError:
                raise httpcore.ConnectTimeout(f"connecting to {host} timed out") from None
            except OSError as error:
                last_error = error
                continue
            for option in socket_options or ():
                sock.setsockopt(*option)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            return SyncStream(sock)
        raise httpcore.ConnectError(str(last_error))


class GuardedTransport(httpx.HTTPTransport):
    """httpx's transport over a `GuardedBackend` connection pool. `ssl_context`, when given,
    is shared (loading the CA certificates for each transport takes milliseconds)."""

    def __init__(
        self, backend: GuardedBackend | None = None, ssl_context: ssl.SSLContext | None = None
    ):
        context = ssl_context or httpx.create_ssl_context()
        super().__init__(verify=context)
        self._pool = httpcore.ConnectionPool(
            ssl_context=context,
            network_backend=backend or GuardedBackend(),
        )
