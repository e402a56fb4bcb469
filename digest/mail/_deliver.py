"""Deliver a rendered digest: as files in an outbox folder, or by SMTP.

Both send the messages that _message.py composes; this module is only the transport. The
pipeline stages them in the store's outbox first (store/_outbox.py) and this module reports
each one's fate to it as it happens (`Journal`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import glob
import re
import smtplib
import socket
import ssl
import stat
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email import message_from_bytes
from email.message import EmailMessage, Message
from email.policy import SMTP
from email.utils import parseaddr
from pathlib import Path
from typing import NamedTuple, Protocol

from ..config import DeliveryConfig
from ..errors import DeliveryError
from ..files import slug, write_atomically
from ..models import Outgoing, RenderedDigest, Staged
from ..stopping import held
from ..text import first_few, plural
from ._message import build_message
from ._smtp_client import SmtpClient, SmtpSslClient
from ._smtp_security import (
    NeedsSetting,
    connect_hint,
    login_problem,
    needs_what,
    no_common_login,
    security_mismatch,
    server_reply,
)


@dataclass(frozen=True)
class Delivery:
    method: str
    recipients: tuple[str, ...]
    detail: str  # outbox file stem, or the SMTP server's answer
    files: tuple[str, ...] = ()
    refused: dict[str, str] = field(default_factory=dict)  # recipient -> the server's reply
    # recipient -> (reason, message): refused for now; the caller may send `message` later
    deferred: dict[str, tuple[str, bytes]] = field(default_factory=dict)


@dataclass
class SendOutcome:
    """Per message key: accepted, refused for good (5xx), or deferred (4xx, cut off)."""

    accepted: list[str] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)
    deferred: dict[str, str] = field(default_factory=dict)
    # Keys sent again although the server may have had them already (a session cut off
    # after the end of the message).
    uncertain: set[str] = field(default_factory=set)
    # A setting the server cannot work with (delivery.security, the CA): what to change.
    # Asking again cannot help, so nothing is retried; what was waiting stays deferred.
    setting_error: str | None = None


class Journal(Protocol):
    """Where each message's fate is written down as it happens (the store's outbox)."""

    def sending(self, message: Outgoing) -> None: ...
    def sent(self, message: Outgoing, reply: str) -> None: ...
    def refused(self, message: Outgoing, reply: str) -> None: ...
    def deferred(self, message: Outgoing, reason: str) -> None: ...


class _NoJournal:
    def sending(self, message: Outgoing) -> None:
        pass

    def sent(self, message: Outgoing, reply: str) -> None:
        pass

    def refused(self, message: Outgoing, reply: str) -> None:
        pass

    def deferred(self, message: Outgoing, reason: str) -> None:
        pass


def stage_messages(
    rendered: RenderedDigest, settings: DeliveryConfig, language: str, now: datetime
) -> Iterator[Staged]:
    """The complete messages of a digest, before anything is sent: one per recipient (no
    reader sees the others' addresses). The file method adds one row for the .html and .txt
    copies, whose target is the files' stem; each .eml row targets its own file.

    Each recipient's message is built when the iterator gets to it, so that staging
    (Store.stage_digest) holds one in memory at a time, whatever the number of recipients.
    The settings are checked and the file names chosen here, before the first is built.
    """
    if settings.method != "file":
        return (
            _staged(rendered, settings, recipient, language, now)
            for recipient in settings.recipients
        )
    if settings.outbox is None:
        raise DeliveryError("delivery.outbox is not set")
    # To the millisecond, so that the names sort in the order the digests were made.
    moment = f"{now:%Y%m%d-%H%M%S}-{now.microsecond // 1000:03d}"
    base = f"{moment}-{slug(rendered.subject.split('·')[0], 40)}"
    stem = settings.outbox / base
    # Should a name still be taken (files already in the outbox), the earlier digest keeps
    # its files: this one takes the next free name.
    taken = 1
    while _name_taken(settings.outbox, stem.name):
        taken += 1
        stem = settings.outbox / f"{base}-{taken}"
    paths: dict[str, Path] = {}
    taken_paths: set[Path] = set()
    for recipient in settings.recipients:
        path = stem.with_name(f"{stem.name}.to-{slug(recipient)}.eml")
        if path in taken_paths:  # a.b@x and a-b@x share a slug
            path = path.with_name(f"{path.stem}-{len(taken_paths) + 1}.eml")
        paths[recipient] = path
        taken_paths.add(path)
    return _file_messages(rendered, settings, language, now, stem, paths)


def _name_taken(outbox: Path, name: str) -> bool:
    """Whether files of that stem are in the outbox already. An outbox that cannot even be
    looked at (too long a name, no permission) cannot be written either: one line naming
    delivery.outbox, before anything is staged."""
    try:
        return outbox.is_dir() and any(outbox.glob(glob.escape(name) + ".*"))
    except OSError as error:
        reason = error.strerror or str(error)
        raise DeliveryError(f"delivery.outbox {outbox}: cannot write there: {reason}") from None


def _file_messages(
    rendered: RenderedDigest,
    settings: DeliveryConfig,
    language: str,
    now: datetime,
    stem: Path,
    paths: dict[str, Path],
) -> Iterator[Staged]:
    # The side files (.html, .txt) are a reader's copy to look at: the first recipient's, so
    # that an unsubscribe link shows as that reader gets it, never as the raw {recipient}.
    copy = _message(rendered, settings, settings.recipients[0], language, now)
    yield Staged("", copy["Message-ID"], copy.as_bytes(), "file", str(stem))
    for recipient, path in paths.items():
        yield _staged(rendered, settings, recipient, language, now, str(path))


def _staged(
    rendered: RenderedDigest,
    settings: DeliveryConfig,
    recipient: str,
    language: str,
    now: datetime,
    path: str | None = None,
) -> Staged:
    message = _message(rendered, settings, recipient, language, now)
    method = "smtp" if path is None else "file"
    return Staged(recipient, message["Message-ID"], message.as_bytes(), method, path)


def _message(
    rendered: RenderedDigest,
    settings: DeliveryConfig,
    recipient: str,
    language: str,
    now: datetime,
) -> EmailMessage:
    """The message for `recipient` with the delivery's sender, unsubscribe links and List-Id."""
    list_id = (settings.list_name, settings.list_id) if settings.list_id else None
    return build_message(
        rendered, settings.sender, recipient, language, now, settings.unsubscribe, list_id
    )


Load = Callable[[Outgoing], bytes]


def _own_bytes(message: Outgoing) -> bytes:
    return message.message


# Seconds a stop waits for an SMTP session to reach its other readers (see send_outgoing);
# well inside deploy/'s TimeoutStopSec (10 min).
STOP_PATIENCE = 60.0


def send_outgoing(
    settings: DeliveryConfig,
    messages: Sequence[Outgoing],
    journal: Journal | None = None,
    sleep: Callable[[float], None] = time.sleep,
    load: Load = _own_bytes,
) -> SendOutcome:
    """Send staged messages; each ends accepted, refused (5xx) or deferred, in `journal` too.

    Connection errors, timeouts and 4xx replies are retried in new sessions, up to
    `settings.retries` more times, waiting retry_delay, then twice that, and so on. What is
    still deferred after that waits in the outbox for the next run. What no retry can mend
    (TLS, the login, its password: `setting_error`) ends the sending at once. Raises
    DeliveryError only for a message without bytes to send.

    `load` gives a message's bytes just before they go out; messages listed from the
    store's outbox come without them (Store.staged_message reads them), so memory holds one
    message at a time. By default a message carries its own bytes.
    """
    journal = journal or _NoJournal()
    outcome = SendOutcome()
    waiting = []
    for message in messages:
        if message.method == "file":
            _write_outbox_files(message, journal, outcome, load)
        else:
            waiting.append(message)
    for attempt in range(settings.retries + 1):
        if not waiting or outcome.setting_error:
            break
        if attempt:
            sleep(settings.retry_delay * 2 ** (attempt - 1))
        # A stop (SIGTERM: `systemctl stop`, a shutdown) waits for the session to reach
        # every reader it holds, as the daemon's does: stopped after one message, a timer's
        # run left the others a day to wait. For STOP_PATIENCE at most: a slow server times
        # a thousand readers would outlast the unit's TimeoutStopSec, and a SIGKILL then
        # leaves a message half handed over. Its retries, which wait, go to the next run.
        with held(patience=STOP_PATIENCE):
            waiting = _smtp_session(settings, waiting, journal, outcome, load)
    return outcome


def _message_bytes(message: Outgoing, load: Load) -> bytes:
    data = load(message)
    if not data:  # never an empty message: a row listed without its bytes and no `load`
        whom = message.recipient or "the outbox copies"
        raise DeliveryError(f"no bytes to send for the message {message.message_id} to {whom}")
    return data


def _write_outbox_files(
    message: Outgoing, journal: Journal, outcome: SendOutcome, load: Load
) -> None:
    """Write the .eml (or the .html and .txt copies) at the staged path. Writing them again
    gives the same files under the same names, so a rerun after a crash here cannot make a
    second copy: exactly once."""
    target = Path(message.target or "digest")
    data = _message_bytes(message, load)
    if target.suffix == ".eml":
        files = {target: data}
    else:
        parsed = message_from_bytes(data, policy=SMTP)
        files = {
            target.with_name(target.name + ".html"): _part(parsed, "html").encode("utf-8"),
            target.with_name(target.name + ".txt"): _part(parsed, "plain").encode("utf-8"),
        }
    journal.sending(message)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        for path, data in files.items():
            write_atomically(path, data)
    except OSError as error:
        reason = f"outbox {target.parent}: cannot write: {_why_unwritable(target.parent, error)}"
        outcome.deferred[message.key] = reason
        journal.deferred(message, reason)
        return
    outcome.accepted.append(message.key)
    journal.sent(message, f"wrote {', '.join(path.name for path in files)}")


def _part(message: Message, subtype: str) -> str:
    body = message.get_body((subtype,))
    text = body.get_content() if isinstance(body, EmailMessage) else ""
    return text.replace("\r\n", "\n")


def _smtp_session(
    settings: DeliveryConfig,
    messages: Sequence[Outgoing],
    journal: Journal,
    outcome: SendOutcome,
    load: Load,
) -> list[Outgoing]:
    """One SMTP session over `messages`; returns those deferred, to try again later."""
    deferred: list[Outgoing] = []

    def defer(message: Outgoing, reason: str) -> None:
        if message.uncertain:
            outcome.uncertain.add(message.key)
        outcome.deferred[message.key] = reason
        journal.deferred(message, reason)
        deferred.append(message)

    password = settings.password()
    if settings.username and password is None:
        outcome.setting_error = (
            f"delivery.username is set but ${settings.password_env} is empty; "
            "export the password in that environment variable"
        )
        for message in messages:
            defer(message, outcome.setting_error)
        return deferred
    try:
        client = _connect(settings)
    except (OSError, smtplib.SMTPException, UnicodeError, ValueError) as error:
        reason = f"cannot connect: {error or type(error).__name__}"
        outcome.setting_error = security_mismatch(settings, error)
        if outcome.setting_error:
            reason = outcome.setting_error
        hint = connect_hint(settings, error)
        if hint:
            reason += f"; {hint}"
        for message in messages:
            defer(message, reason)
        return deferred
    envelope_from = parseaddr(settings.sender)[1] or settings.sender
    done = 0
    closed_on = 0  # the code of the answer after which the server ended the session
    try:
        if settings.username:
            _log_in(client, settings, password or "")
        for message in messages:
            verdict = _send_one(client, envelope_from, message, journal, load)
            done += 1
            if verdict is None:
                outcome.accepted.append(message.key)
                outcome.deferred.pop(message.key, None)
                continue
            if verdict.code >= 500:
                outcome.refused[message.key] = verdict.reply
                outcome.deferred.pop(message.key, None)
                journal.refused(message, verdict.reply)
            else:
                defer(message, verdict.reply)
            if verdict.session_over:
                closed_on = verdict.code
                break
    except NeedsSetting as error:  # before DATA: the message in hand was not taken
        outcome.setting_error = str(error)
        for message in messages[done:]:
            defer(message, outcome.setting_error)
    except _SessionBroken as error:
        # The message in hand may have reached the server if its end had gone out (then it
        # stays `sending`: uncertain, never unstaged); it and the rest go again.
        if error.after_data:
            defer(dataclasses.replace(messages[done], uncertain=True), error.reason)
            done += 1
        for message in messages[done:]:
            defer(message, error.reason)
    except DeliveryError:
        # A message without bytes (_message_bytes): not the network's doing, and no retry
        # mends it. DeliveryError is an OSError, so without this it would read "connection
        # lost" and defer every message after it too.
        raise
    except (smtplib.SMTPException, OSError) as error:
        # Cut off before the end of the message in hand went out: the server has none of it.
        reason = f"connection lost: {error or type(error).__name__}"
        for message in messages[done:]:
            defer(message, reason)
    else:
        for message in messages[done:]:
            defer(message, f"the server closed the session ({closed_on})")
    finally:
        try:
            client.quit()
        except (smtplib.SMTPException, OSError):
            client.close()
    return deferred


def _log_in(client: smtplib.SMTP, settings: DeliveryConfig, password: str) -> None:
    """Log in; a login no retry can mend (refused, not offered, unsendable) raises
    NeedsSetting naming what to change, one refused for now (4xx) _SessionBroken."""
    client.ehlo_or_helo_if_needed()  # the AUTH list comes with the EHLO answer
    problem = no_common_login(client)
    if problem:
        raise NeedsSetting(problem)
    try:
        client.login(settings.username or "", password)
    except (smtplib.SMTPException, UnicodeEncodeError) as error:
        problem = login_problem(settings, client, error)
        if problem:
            raise NeedsSetting(problem) from None
        if isinstance(error, smtplib.SMTPAuthenticationError):
            reply = server_reply(error.smtp_code, error.smtp_error)
            raise _SessionBroken(
                f"login as {settings.username} refused for now ({reply})"
            ) from None
        raise


class _Refusal(NamedTuple):
    code: int
    reply: str  # the code and the server's text, as one line
    session_over: bool  # the server ended the session after it: the rest wait for the next


def _send_one(
    client: smtplib.SMTP, envelope_from: str, message: Outgoing, journal: Journal, load: Load
) -> _Refusal | None:
    """MAIL, RCPT, DATA for one message; None when accepted, else the refusal.

    smtplib's sendmail() is unrolled so that the outbox row is marked `sending` between the
    body and the final dot: until that dot the server discards the message if we die, so
    only a death between the dot and the `sent` commit can leave the server with a
    message we do not know it took.
    """
    data = _message_bytes(message, load)  # before MAIL: a failure here leaves no open DATA
    client.ehlo_or_helo_if_needed()
    options: tuple[str, ...] = ()
    if not (envelope_from.isascii() and parseaddr(message.recipient)[1].isascii()):
        if not client.has_extn("smtputf8"):
            # Final: this server cannot carry the address, however often we ask.
            return _Refusal(
                553, "553 the address is not ASCII and the server does not offer SMTPUTF8", False
            )
        options = ("SMTPUTF8",)
    # Each command has its own success code: a DATA answered 250 (not 354) would take the
    # body for commands, and a later 250 would read as the message taken.
    steps: tuple[tuple[str, tuple[int, ...], Callable[[], tuple[int, bytes]]], ...] = (
        ("MAIL", (250,), lambda: client.mail(envelope_from, options)),
        ("RCPT", (250, 251), lambda: client.rcpt(message.recipient)),
        ("DATA", (354,), lambda: client.docmd("DATA")),
    )
    for command, expected, send in steps:
        code, text = send()
        if code in expected:
            continue
        reply = server_reply(code, text)
        if code == 530:  # RFC 3207/4954: no mail before TLS or a login, for any recipient
            raise NeedsSetting(needs_what(client, reply))
        if 400 <= code < 600:
            return _refusal(client, code, reply)
        raise _SessionBroken(_out_of_step(command, reply, expected))
    client.send(_data_body(data))
    with held():  # a SIGTERM here waits for the reply, recorded (digest/stopping.py)
        journal.sending(message)
        try:
            client.send(b".\r\n")
            code, text = client.getreply()
        except (smtplib.SMTPException, OSError) as error:
            reason = f"connection lost: {error or type(error).__name__}"
            raise _SessionBroken(reason, after_data=True) from error
        reply = server_reply(code, text)
        if code == 250:
            journal.sent(message, reply)
            return None
        if 400 <= code < 600:
            return _refusal(client, code, reply)
    raise _SessionBroken(_out_of_step("the end of the message", reply, (250,)), after_data=True)


def _refusal(client: smtplib.SMTP, code: int, reply: str) -> _Refusal:
    """The server's no, and whether the session can go on. The no stands whatever the RSET
    after it meets: a server that refuses for good often hangs up at once ("554 ...;
    closing"), and that is no lost connection."""
    if code == 421:  # the server is closing the session
        return _Refusal(code, reply, True)
    # As smtplib's sendmail does: a server that failed while taking the message may keep
    # its transaction open, and answer the next MAIL "nested MAIL command".
    try:
        reset, _ = client.rset()
    except (smtplib.SMTPException, OSError):
        return _Refusal(code, reply, True)
    return _Refusal(code, reply, reset != 250)


def _out_of_step(command: str, reply: str, expected: tuple[int, ...]) -> str:
    codes = " or ".join(str(code) for code in expected)
    return f'the server answered {command} with "{reply}" where SMTP expects {codes}'


class _SessionBroken(smtplib.SMTPException):
    """The session cannot go on: cut off, or the server out of step with SMTP. `after_data`:
    the end of the message in hand had gone out, so the server may have it."""

    def __init__(self, reason: str, after_data: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.after_data = after_data


def _why_unwritable(folder: Path, error: OSError) -> str:
    """Why the outbox `folder` could not be written, naming a file in the way: "Not a
    directory" alone does not say which part of the path is not one."""
    for part in (folder, *folder.parents):
        try:
            mode = part.stat().st_mode
        except (FileNotFoundError, NotADirectoryError):
            continue  # look further up for what is in the way
        except OSError:  # too long a name, no search permission: the error says it
            break
        if not stat.S_ISDIR(mode):
            return f"{part} is a file, not a folder; set delivery.outbox to a folder"
        break
    if isinstance(error, PermissionError):  # as `digest check` says it
        return f"{error.strerror} (under systemd, list it in the unit's ReadWritePaths=)"
    return error.strerror or str(error)


def _data_body(message: bytes) -> bytes:
    """CRLF line ends and leading dots doubled (RFC 5321 4.5.2), ending in CRLF."""
    body = re.sub(rb"\r\n|\r|\n", b"\r\n", message)
    body = re.sub(rb"(?m)^\.", b"..", body)
    return body if body.endswith(b"\r\n") else body + b"\r\n"


def deliver(
    rendered: RenderedDigest, settings: DeliveryConfig, language: str, now: datetime
) -> Delivery:
    """Deliver a digest without a store (no outbox rows): the library's one-shot sender.

    Raises DeliveryError when no recipient accepted it.
    """
    staged = stage_messages(rendered, settings, language, now)
    messages = [
        Outgoing(str(i), 0, s.recipient, s.message, s.message_id, s.method, s.target)
        for i, s in enumerate(staged)
    ]
    outcome = send_outgoing(settings, messages)
    by_key = {m.key: m for m in messages}
    if not outcome.accepted:
        raise DeliveryError(
            nothing_delivered(settings, outcome, {m.key: m.recipient for m in messages})
        )
    if settings.method == "file":
        files = [m.target or "" for m in messages]
        files = [f + ".html" for f in files[:1]] + [f + ".txt" for f in files[:1]] + files[1:]
        return Delivery("file", settings.recipients, Path(files[0]).stem, tuple(files))
    return Delivery(
        "smtp",
        tuple(by_key[k].recipient for k in outcome.accepted),
        f"{settings.host}:{settings.port} accepted {len(outcome.accepted)} message(s)",
        (),
        {by_key[k].recipient: why for k, why in outcome.refused.items()},
        {by_key[k].recipient: (why, by_key[k].message) for k, why in outcome.deferred.items()},
    )


def delivered_to(recipients: Sequence[str], settings: DeliveryConfig, shown: int = 3) -> str:
    """Who got the digest and where, in one form for both methods:
    `2 recipients (ana@example.org, bo@example.org) in /srv/outbox/` or `... by SMTP host:port`.
    """
    addresses = [parseaddr(recipient)[1] or recipient for recipient in recipients]
    listed = ", ".join(addresses[:shown])
    if len(addresses) > shown:
        listed += f" and {len(addresses) - shown} more"
    count = plural(len(addresses), "recipient")
    if settings.method == "file":
        where = f"in {settings.outbox}/"
    else:
        where = f"by SMTP {settings.host}:{settings.port}"
    return f"{count} ({listed}) {where}"


def nothing_delivered(
    settings: DeliveryConfig, outcome: SendOutcome, recipient: dict[str, str]
) -> str:
    """One line saying why no message of a digest was delivered, naming the server (or the
    outbox), however many recipients: when their reasons differ (a server's reply may name
    its recipient), the first few, then a count."""
    reasons = {**outcome.refused, **outcome.deferred}
    distinct = list(dict.fromkeys(reasons.values()))
    if settings.method == "file" and len(distinct) <= 3:
        return "; ".join(distinct)
    where = (
        f"SMTP {settings.host}:{settings.port}"
        if settings.method == "smtp"
        else f"outbox {settings.outbox}"
    )
    if outcome.setting_error:
        return f"{where}: {outcome.setting_error}"
    if len(distinct) == 1:
        summary = f"{where}: {distinct[0]}"
    else:
        copies = "the .html and .txt copies"  # the file method's recipient ""
        named = [f"{recipient[key] or copies}: {why}" for key, why in reasons.items()]
        listed = first_few(named, "; ")
        summary = f"{where}: no recipient accepted the digest ({listed})"
    if outcome.deferred and settings.retries:
        summary += f" (tried {settings.retries + 1} times)"
    return summary


def _connect(settings: DeliveryConfig) -> smtplib.SMTP:
    # Default system trust; delivery.ca_file trusts a private CA (or a self-signed server).
    context = ssl.create_default_context(cafile=settings.ca_file)
    # smtplib would otherwise ask DNS for our own name (getfqdn), which can stall for seconds.
    local_name = settings.sender.rsplit("@", 1)[-1].strip("> ") or "localhost"
    if settings.security == "ssl":
        return _no_delay(
            SmtpSslClient(
                settings.host,
                settings.port,
                local_hostname=local_name,
                timeout=settings.timeout,
                context=context,
            )
        )
    client = _no_delay(
        SmtpClient(
            settings.host, settings.port, local_hostname=local_name, timeout=settings.timeout
        )
    )
    if settings.security == "starttls":
        try:
            client.starttls(context=context)
        except BaseException:
            client.close()  # else the socket lingers until garbage collection
            raise
    return client


def _no_delay(client: smtplib.SMTP) -> smtplib.SMTP:
    """Send each write at once. The end of data is a small write of its own after the body
    (the outbox row is marked `sending` between them), which Nagle's algorithm holds back
    until the server acknowledges the body: a server that delays its ACKs does that some
    40 ms later, for every message (7 minutes for a digest to 10,000 readers)."""
    with contextlib.suppress(OSError, AttributeError):  # not TCP (a test double): no matter
        client.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return client
