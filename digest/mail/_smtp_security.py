"""Why an SMTP server cannot work with these delivery settings, and which one to change.

A server without STARTTLS, a plain server on a port set to implicit TLS, an untrusted
certificate, or a server that takes no mail before TLS or a login: the same answer comes
however often we ask, so these end the delivery at once (no retries) with a one-line hint.
"""

from __future__ import annotations

import smtplib
import ssl

from ..config import DeliveryConfig


class NeedsSetting(smtplib.SMTPException):
    """The server refuses every message until a setting changes (TLS, a login)."""


def needs_what(client: smtplib.SMTP, reply: str) -> str:
    if client.has_extn("starttls"):  # offered only before TLS is on
        return f"the server wants TLS before mail ({reply}); set delivery.security: starttls"
    return f"the server wants a login before mail ({reply}); set delivery.username"


# OpenSSL's reasons for bytes that are not TLS at all: the server speaks plain SMTP there.
_NOT_TLS = {"WRONG_VERSION_NUMBER", "UNKNOWN_PROTOCOL", "HTTP_REQUEST", "RECORD_LAYER_FAILURE",
            "PACKET_LENGTH_TOO_LONG", "UNEXPECTED_RECORD"}  # fmt: skip
# A TLS session cut off midway: the network's doing, worth another try.
_CUT_OFF = (ssl.SSLEOFError, ssl.SSLZeroReturnError, ssl.SSLSyscallError)


def security_mismatch(settings: DeliveryConfig, error: BaseException) -> str | None:
    """What to change when connecting failed because of delivery.security or the server's
    certificate (no retry can help), else None."""
    if isinstance(error, smtplib.SMTPNotSupportedError):  # only starttls() raises it here
        return (
            "the server does not offer STARTTLS; set delivery.security: ssl if this port "
            "expects TLS from the start (usually 465), or none for plain SMTP"
        )
    if isinstance(error, ssl.SSLCertVerificationError):
        return (
            f"the server's TLS certificate is not trusted ({error.reason}: "
            f"{error.verify_message}); set delivery.ca_file to the PEM file of the CA that "
            "signed it"
        )
    if not isinstance(error, ssl.SSLError) or isinstance(error, _CUT_OFF):
        return None
    reason = error.reason or str(error)
    if settings.security == "ssl" and reason in _NOT_TLS:
        return (
            f"the server does not start TLS on connect ({reason}); set delivery.security: "
            "starttls (usually port 587) or none for plain SMTP"
        )
    return f"TLS handshake failed ({reason}); check delivery.security and delivery.port"


def silent_server_hint(settings: DeliveryConfig, error: BaseException) -> str | None:
    """A server that took the connection but sent no greeting may be waiting for a TLS
    hello: what an implicit-TLS port does. It may also just be slow, so this is a hint on a
    failure that is still retried, not a setting error."""
    silent = isinstance(error, smtplib.SMTPServerDisconnected) and "timed out" in str(error)
    if not silent or settings.security == "ssl":
        return None
    return (
        "the server sent no greeting; if this port expects TLS from the start (usually 465), "
        "set delivery.security: ssl"
    )
