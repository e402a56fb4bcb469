"""The fetcher's connections: which addresses they may go to, and how long a request may take.

Addresses. A feed is written by someone else: its links could point the fetcher at the
operator's router, a cloud metadata endpoint (169.254.169.254) or a database on localhost.
Links to private, loopback, link-local and other non-public addresses are refused, with two
exceptions: the operator allowed private networks (`fetch.allow_private`), or the link is on
the feed's own origin (scheme, host and port) and the connection goes to an address the
feed's own fetch connected to. The feed's name alone earns nothing: a publisher runs their
own DNS and could answer a public address for the feed and 169.254.169.254 for its pages,
and another port on the feed's host is another service.

The check is made on the address a name resolves to, inside the connection itself
(`GuardedBackend.connect_tcp`): the name is resolved once, each address is checked, and the
socket connects to the checked address. Checking a name first and letting the connection
resolve it again would let a DNS server answer "public" to the check and "127.0.0.1" to the
connection (DNS rebinding). Every redirect hop opens its connection through the same guard.

Time. A per-read timeout does not bound a server that sends one byte of its status line,
headers or body every second: each byte starts the timeout again. So each request runs
against a `RequestClock`, and every socket operation of its connections (connect, TLS
handshake, each read and write) is given only the time the request has left.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from collections.abc import Set as AbstractSet
from contextlib import contextmanager
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
        super().__init__(f"{where} is {an_address(kind)}")


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one stands for: ::ffff:a.b.c.d, 6to4, NAT64, ::a.b.c.d."""
    if ip.ipv4_mapped:
        return ip.ipv4_mapped
    if ip.sixtofour:
        return ip.sixtofour
    if ip in _NAT64 or (ip in _IPV4_COMPATIBLE and int(ip) > 1):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def an_address(kind: str) -> str:
    """ "a loopback address", "an unspecified address"."""
    return f"{'an' if kind[:1] in 'aeiou' else 'a'} {kind} address"


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
    # Deprecated (RFC 3879) but still routed inside some networks; ipaddress counts it global.
    if isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local:
        return "site-local"
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


# The stages of a request, as its messages name them.
CONNECTING = "connecting"
WAITING = "waiting for headers"
READING_HEADERS = "reading headers"
READING_BODY = "reading the body"


class RequestClock:
    """One request's time budget, from its start to its last byte and across its redirects,
    and the stage the request is in (for the message when it runs out)."""

    def __init__(self, budget: float):
        self.budget = budget
        self.deadline = time.monotonic() + budget
        self.stage = CONNECTING

    def expired(self) -> bool:
        return time.monotonic() >= self.deadline

    def bound(self, timeout: float | None, error: type[Exception]) -> float:
        """`timeout` for one socket operation, cut to the time left; `error` when none is."""
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise error(f"{self.stage}: the request's {self.budget:g}s are spent")
        return left if timeout is None else min(timeout, left)


# A request runs on one thread from start to end (httpx's sync client), and its connection
# may come from the pool, made by an earlier request: so the connection asks the thread for
# the clock of the request it is serving now.
_running = threading.local()


@contextmanager
def timed(clock: RequestClock) -> Iterator[RequestClock]:
    """Run a request against `clock` on this thread."""
    previous = getattr(_running, "clock", None)
    _running.clock = clock
    try:
        yield clock
    finally:
        _running.clock = previous


def _clock() -> RequestClock | None:
    return getattr(_running, "clock", None)


class _TimedStream(httpcore.NetworkStream):
    """A connection whose reads and writes get no more than the request's time left."""

    def __init__(self, stream: httpcore.NetworkStream):
        self._stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        clock = _clock()
        if clock is None:
            return self._stream.read(max_bytes, timeout)
        data = self._stream.read(max_bytes, clock.bound(timeout, httpcore.ReadTimeout))
        if data and clock.stage == WAITING:
            clock.stage = READING_HEADERS
        return data

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        clock = _clock()
        if clock is None:
            return self._stream.write(buffer, timeout)
        if clock.stage == CONNECTING:
            clock.stage = WAITING  # connected (or reusing a connection): the request goes out
        self._stream.write(buffer, clock.bound(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        clock = _clock()
        if clock is not None:
            # The TLS handshake's timeout bounds the whole handshake, not each of its reads.
            timeout = clock.bound(timeout, httpcore.ConnectTimeout)
        return _TimedStream(self._stream.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


def _resolve_within(
    resolver: Resolver, host: str, port: int, clock: RequestClock | None, timeout: float | None
) -> list[str]:
    """`resolver(host, port)`, given no more than one wait (`timeout`) and the request's time
    left: a publisher's
    slow name server would otherwise hold a request for the system resolver's own timeout,
    outside its budget. The lookup goes on in its thread if we stop waiting; the thread is a
    daemon, so it holds up no exit."""
    if clock is None:
        return resolver(host, port)
    answer: dict[str, Any] = {}
    done = threading.Event()

    def look_up() -> None:
        try:
            answer["addresses"] = resolver(host, port)
        except BaseException as error:  # handed to the waiting request below
            answer["error"] = error
        finally:
            done.set()

    threading.Thread(target=look_up, name="resolve", daemon=True).start()
    if not done.wait(clock.bound(timeout, httpcore.ConnectTimeout)):
        raise httpcore.ConnectTimeout(f"{CONNECTING}: resolving {host} used up the request's time")
    if "error" in answer:
        raise answer["error"]
    return answer["addresses"]


class GuardedBackend(httpcore.SyncBackend):
    """httpcore's socket backend under an address policy, pinning what it checked, with
    connections timed by the request's clock.

    `refuse` says why an address may not be connected to (None: it may); `refuse=None`
    checks nothing (the operator's own URLs). `exempt`, when given, are the addresses of the
    feed's own origin that its fetch connected to: those may be connected to whatever
    `refuse` says, the name's other refused addresses are skipped, and the connection is
    refused only when no address is left. Without `exempt`, one refused address refuses the
    name.
    """

    def __init__(
        self,
        resolver: Resolver | None = None,
        refuse: Callable[[str], str | None] | None = address_kind,
        *,
        exempt: AbstractSet[str] | None = None,
    ):
        self.resolver = resolver  # None: `system_resolver`, looked up when connecting
        self.refuse = refuse
        self.exempt = exempt

    def unchecked(self) -> GuardedBackend:
        """This backend's resolver with no address check."""
        return GuardedBackend(self.resolver, None)

    def trusting(self, exempt: AbstractSet[str]) -> GuardedBackend:
        """This backend's policy, with `exempt` addresses allowed (see the class)."""
        return GuardedBackend(self.resolver, self.refuse, exempt=exempt)

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        clock = _clock()
        resolver = self.resolver or system_resolver
        try:
            addresses = _resolve_within(resolver, host, port, clock, timeout)
        except (OSError, UnicodeError) as error:
            raise httpcore.ConnectError(f"cannot resolve {host}: {error}") from None
        allowed = self._allowed(host, addresses)
        if not allowed:
            raise httpcore.ConnectError(f"{host} resolves to no address")
        last_error: OSError | None = None
        source = None if local_address is None else (local_address, 0)
        for address in allowed:
            if clock is not None:
                timeout = clock.bound(timeout, httpcore.ConnectTimeout)
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
            return _TimedStream(SyncStream(sock))
        raise httpcore.ConnectError(str(last_error))

    def _allowed(self, host: str, addresses: list[str]) -> list[str]:
        """The addresses the policy lets us connect to, in the resolver's order."""
        if self.refuse is None:
            return addresses
        allowed = []
        refusal: BlockedAddress | None = None
        for address in addresses:
            kind = self.refuse(address)
            if kind is None or (self.exempt is not None and address in self.exempt):
                allowed.append(address)
            elif refusal is None:
                refusal = BlockedAddress(host, address, kind)
        if refusal is not None and (self.exempt is None or not allowed):
            # Outside the feed's own origin one bad address is enough: a name that also
            # resolves to 10.0.0.1 is either misconfigured or an attack. On the feed's own
            # origin a name often has an address the feed did not use (::1 beside
            # 127.0.0.1): the connection goes only to the ones it did.
            raise refusal
        return allowed


class GuardedTransport(httpx.HTTPTransport):
    """httpx's transport over a `GuardedBackend` connection pool, with httpx's default
    limits. `ssl_context`, when given, is shared (loading the CA certificates for each
    transport takes milliseconds)."""

    def __init__(
        self, backend: GuardedBackend | None = None, ssl_context: ssl.SSLContext | None = None
    ):
        context = ssl_context or httpx.create_ssl_context()
        super().__init__(verify=context)
        self._pool = httpcore.ConnectionPool(
            ssl_context=context,
            max_connections=100,  # httpx's own defaults (httpcore's allow 10 connections)
            max_keepalive_connections=20,
            keepalive_expiry=5.0,
            network_backend=backend or GuardedBackend(),
        )
