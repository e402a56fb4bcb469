"""Why an SMTP server cannot work with these delivery settings, and which one to change.

A server without STARTTLS, a plain server on a port set to implicit TLS, an untrusted
certificate, or a server that takes no mail before TLS or a login: the same answer comes
however often we ask, so these end the delivery at once (no retries) with a one-line hint.
"""

from __future__ import annotations

import contextlib
import smtplib
import socket
import ssl
import threading

from ..config import DeliveryConfig
from ..errors import DeliveryError
from ..text import one_line
from ._smtp_client import SmtpClient, SmtpSslClient


class NeedsSetting(smtplib.SMTPException):
    """The server refuses every message until a setting changes (TLS, a login)."""


def needs_what(client: smtplib.SMTP, reply: str) -> str:
    if client.has_extn("starttls"):  # offered only before TLS is on
        return f"the server wants TLS before mail ({reply}); set delivery.security: starttls"
    return f"the server wants a login before mail ({reply}); set delivery.username"


# What smtplib's login() can do, in its order of preference (it matches names as sent).
LOGIN_MECHANISMS = ("CRAM-MD5", "PLAIN", "LOGIN")


def no_common_login(client: smtplib.SMTP) -> str | None:
    """When the server (after EHLO) offers a login only by mechanisms smtplib cannot do
    (XOAUTH2, OAUTHBEARER...): what to change, else None. smtplib would raise a bare
    SMTPException, which reads like a lost connection and would be retried for days."""
    if not client.has_extn("auth"):
        return None  # login() says so itself (SMTPNotSupportedError): login_problem
    offered = client.esmtp_features["auth"].split()
    if any(mechanism in offered for mechanism in LOGIN_MECHANISMS):
        return None
    listed = ", ".join(dict.fromkeys(offered)) or "no mechanism it names"
    return (
        f"the server offers login only by {listed}, which digest cannot do (it can do "
        f"{', '.join(LOGIN_MECHANISMS)}); use a server or port that offers PLAIN or LOGIN"
    )


def login_problem(settings: DeliveryConfig, client: smtplib.SMTP, error: Exception) -> str | None:
    """What to change when logging in failed in a way no retry mends, else None (a 4xx
    answer, a lost connection: worth another try)."""
    if isinstance(error, smtplib.SMTPNotSupportedError):  # login() raises it for no AUTH
        if settings.security == "none" and client.has_extn("starttls"):
            fix = "set delivery.security: starttls (it offers STARTTLS)"
        else:
            fix = "remove delivery.username if the server takes mail without a login"
        return f"the server offers no login (AUTH) on this connection; {fix}"
    if isinstance(error, UnicodeEncodeError):
        return (
            f"delivery.username or ${settings.password_env} has characters smtplib cannot "
            "send (non-ASCII)"
        )
    if not isinstance(error, smtplib.SMTPAuthenticationError) or error.smtp_code < 500:
        return None
    reply = server_reply(error.smtp_code, error.smtp_error)
    if error.smtp_code in (530, 538) and client.has_extn("starttls"):  # RFC 3207, 4954
        return f"the server wants TLS before a login ({reply}); set delivery.security: starttls"
    return (
        f"login as {settings.username} refused ({reply}); check ${settings.password_env} "
        "and delivery.username"
    )


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


def connect_hint(settings: DeliveryConfig, error: BaseException) -> str | None:
    """What to look at when connecting failed, for a failure that is still retried (a
    server may be down for a while), so a hint, not a setting error: nothing listening or a
    name that does not resolve point at delivery.host and delivery.port; a server that took
    the connection but sent no greeting may be waiting for a TLS hello, as an implicit-TLS
    port does."""
    if isinstance(error, ConnectionRefusedError):
        return "nothing listens there; check delivery.host and delivery.port"
    if isinstance(error, socket.gaierror):
        return "check delivery.host"
    silent = isinstance(error, smtplib.SMTPServerDisconnected) and "timed out" in str(error)
    if not silent or settings.security == "ssl":
        return None
    return (
        "the server sent no greeting; if this port expects TLS from the start (usually 465), "
        "set delivery.security: ssl"
    )


# -- the probe of `digest check` ----------------------------------------------------------


def probe_smtp(settings: DeliveryConfig) -> str:
    """Do what a delivery does before its first message, and no more: connect, EHLO, start
    TLS as `delivery.security` says, log in when `delivery.username` is set, QUIT. No mail
    is sent. Returns what worked, in a few words; raises DeliveryError with one line naming
    the server and the problem, within `delivery.timeout` seconds in all (not per step:
    a server that answers each step slowly must not hold `digest check` for minutes).
    """
    server = f"SMTP {settings.host}:{settings.port}"
    password = settings.password()
    if settings.username and password is None:
        raise DeliveryError(
            f"{server}: delivery.username is set but ${settings.password_env} is empty; "
            "export the password in that environment variable"
        )
    probe = _Probe(settings, password or "")
    # The steps run in a thread of their own so that the whole probe has one deadline: a
    # socket timeout bounds each read, not their sum. A thread left waiting past the
    # deadline ends at its own socket timeout (or with the process).
    worker = threading.Thread(target=probe.run, name="smtp-probe", daemon=True)
    worker.start()
    worker.join(settings.timeout)
    if worker.is_alive():
        hint = ""
        if probe.step == "waiting for its greeting" and settings.security != "ssl":
            hint = (
                "; if this port expects TLS from the start (usually 465), set "
                "delivery.security: ssl"
            )
        raise DeliveryError(
            f"{server}: no answer within delivery.timeout ({settings.timeout:g}s) while "
            f"{probe.step}{hint}"
        )
    if probe.error is not None:
        raise DeliveryError(f"{server}: {_probe_problem(settings, probe.error, probe.step)}")
    return probe.worked


class _Probe:
    """The steps of `probe_smtp`, with the one in progress named for the message."""

    def __init__(self, settings: DeliveryConfig, password: str):
        self.settings = settings
        self.password = password
        self.step = "connecting"
        self.error: BaseException | None = None
        self.worked = ""

    def connected(self) -> None:
        self.step = "waiting for its greeting"

    def run(self) -> None:
        settings = self.settings
        context = ssl.create_default_context(cafile=settings.ca_file)
        local_name = settings.sender.rsplit("@", 1)[-1].strip("> ") or "localhost"
        client: smtplib.SMTP | None = None
        try:
            if settings.security == "ssl":
                self.step = "connecting and starting TLS"
                client = _ProbeSsl(self, settings.host, local_name, settings.timeout, context)
            else:
                client = _ProbePlain(self, settings.host, local_name, settings.timeout)
            code, greeting = client.connect(settings.host, settings.port)
            if code != 220:  # the constructor would raise this, given the host
                raise smtplib.SMTPConnectError(code, greeting)
            self.step = "greeting it (EHLO)"
            client.ehlo_or_helo_if_needed()
            done = ["TLS from the start" if settings.security == "ssl" else "no TLS"]
            if settings.security == "starttls":
                self.step = "starting TLS (STARTTLS)"
                client.starttls(context=context)
                self.step = "greeting it again after STARTTLS (EHLO)"
                client.ehlo()
                done = ["STARTTLS"]
            if settings.username:
                self.step = f"logging in as {settings.username}"
                problem = no_common_login(client)
                if problem:
                    raise NeedsSetting(problem)
                try:
                    client.login(settings.username, self.password)
                except (smtplib.SMTPException, UnicodeEncodeError) as error:
                    # What to change, in a delivery's words (it looks at what the server
                    # offers); a failure a retry may mend is told as any other step's.
                    problem = login_problem(settings, client, error)
                    if problem:
                        raise NeedsSetting(problem) from error
                    raise
                done.append(f"logged in as {settings.username}")
            self.worked = ", ".join(done) + "; no mail sent"
            self.step = "closing the session (QUIT)"
            with contextlib.suppress(smtplib.SMTPException, OSError):  # all was done
                client.quit()
        except BaseException as error:  # reported by probe_smtp, from its own thread
            self.error = error
        finally:
            if client is not None:
                client.close()


# smtplib's connect() opens the socket (and, for SMTP_SSL, does the TLS handshake) and then
# reads the greeting; its _get_socket is the one place between the two.
# Neither is given the host when made (it would connect at once, before the probe can name
# its steps), and smtplib takes the name a TLS certificate must match (server_hostname)
# from the constructor's host only: so it is set on each here.
class _ProbePlain(SmtpClient):
    def __init__(self, probe: _Probe, host: str, local_name: str, timeout: float):
        self.probe = probe
        super().__init__(local_hostname=local_name, timeout=timeout)
        self._host = host

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        sock = super()._get_socket(host, port, timeout)
        self.probe.connected()
        return sock


class _ProbeSsl(SmtpSslClient):
    def __init__(
        self, probe: _Probe, host: str, local_name: str, timeout: float, context: ssl.SSLContext
    ):
        self.probe = probe
        super().__init__(local_hostname=local_name, timeout=timeout, context=context)
        self._host = host

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        sock = super()._get_socket(host, port, timeout)
        self.probe.connected()
        return sock


def _probe_problem(settings: DeliveryConfig, error: BaseException, step: str) -> str:
    """One line: what went wrong at `step`, and what to change when a setting can fix it."""
    if isinstance(error, NeedsSetting):
        return str(error)
    if isinstance(error, ConnectionRefusedError):
        return "connection refused: nothing listens there; check delivery.host and delivery.port"
    if isinstance(error, socket.gaierror):
        return f"cannot resolve {settings.host} ({error.strerror}); check delivery.host"
    if isinstance(error, TimeoutError):
        return f"no answer within delivery.timeout ({settings.timeout:g}s) while {step}"
    if isinstance(error, smtplib.SMTPAuthenticationError):
        reply = server_reply(error.smtp_code, error.smtp_error)
        return (
            f"login as {settings.username} refused ({reply}); check ${settings.password_env} "
            "and delivery.username"
        )
    mismatch = security_mismatch(settings, error)
    if mismatch:
        return mismatch
    if isinstance(error, smtplib.SMTPConnectError | smtplib.SMTPHeloError):
        return f"the server refused the session ({server_reply(error.smtp_code, error.smtp_error)})"
    if isinstance(error, smtplib.SMTPResponseException):
        return f"the server answered {server_reply(error.smtp_code, error.smtp_error)} while {step}"
    if isinstance(error, smtplib.SMTPServerDisconnected):
        return f"the server closed the connection while {step}"
    if isinstance(error, OSError):
        return f"cannot connect: {error.strerror or error}"
    return f"{step} failed: {error or type(error).__name__}"


def server_reply(code: int, message: bytes | str) -> str:
    """A server's reply as one line to store and print: its code and text, without what a
    hostile server could put there for the operator's terminal or log (controls, escape
    sequences, line breaks, bidi overrides)."""
    text = message.decode("utf-8", "replace") if isinstance(message, bytes) else str(message)
    return one_line(f"{code} {text}")
