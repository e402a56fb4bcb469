"""Deliver a rendered digest: as files in an outbox folder, or by SMTP.

Both send the messages that message.py composes; this module is only the transport.
"""

from __future__ import annotations

import os
import re
import smtplib
import ssl
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import parseaddr
from pathlib import Path

from .config import DeliveryConfig
from .errors import DeliveryError
from .message import build_message
from .models import RenderedDigest


@dataclass(frozen=True)
class Delivery:
    method: str
    recipients: tuple[str, ...]
    detail: str  # outbox file stem, or the SMTP server's answer
    files: tuple[str, ...] = ()
    refused: dict[str, str] = field(default_factory=dict)  # recipient -> the server's reply
    # recipient -> (reason, message): a temporary refusal; the message waits in the queue
    deferred: dict[str, tuple[str, bytes]] = field(default_factory=dict)


def deliver(
    rendered: RenderedDigest, settings: DeliveryConfig, language: str, now: datetime
) -> Delivery:
    """Deliver to every recipient, or raise DeliveryError (then nothing counts as sent).

    When some recipients accepted it, the digest counts as delivered, so that they never get
    it twice: recipients refused for good (5xx) come back in `Delivery.refused`, those
    refused for now (4xx, a dropped connection) in `Delivery.deferred` with their message,
    which the store queues for the next run.
    """
    if settings.method == "file":
        return _to_outbox(rendered, settings, language, now)
    return _by_smtp(rendered, settings, language, now)


def _slug(text: str, limit: int = 40) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:limit] or "digest"


def _write_atomically(path: Path, data: bytes) -> None:
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _to_outbox(
    rendered: RenderedDigest, settings: DeliveryConfig, language: str, now: datetime
) -> Delivery:
    outbox = settings.outbox
    if outbox is None:
        raise DeliveryError("delivery.outbox is not set")
    stem = f"{now.strftime('%Y%m%d-%H%M%S')}-{_slug(rendered.subject.split('·')[0])}"
    files = {
        outbox / f"{stem}.html": rendered.html.encode("utf-8"),
        outbox / f"{stem}.txt": rendered.text.encode("utf-8"),
    }
    # One .eml per recipient, as SMTP would send them: no reader sees the others' addresses.
    for recipient in settings.recipients:
        message = build_message(
            rendered, settings.sender, recipient, language, now, settings.unsubscribe
        )
        path = outbox / f"{stem}.to-{_slug(recipient, 80)}.eml"
        if path in files:  # a.b@x and a-b@x share a slug
            path = path.with_name(f"{path.stem}-{len(files)}.eml")
        files[path] = message.as_bytes()
    try:
        outbox.mkdir(parents=True, exist_ok=True)
        for path, data in files.items():
            _write_atomically(path, data)
    except OSError as error:
        raise DeliveryError(f"outbox {outbox}: cannot write: {error.strerror or error}") from None
    return Delivery("file", settings.recipients, stem, tuple(str(p) for p in files))


@dataclass
class SendOutcome:
    """Per message key: accepted, refused for good (5xx), or deferred (4xx, cut off)."""

    accepted: list[str] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)
    deferred: dict[str, str] = field(default_factory=dict)


def send_each(settings: DeliveryConfig, messages: Sequence[tuple[str, str, bytes]]) -> SendOutcome:
    """Send (key, recipient, message bytes) triples over one SMTP session.

    Raises DeliveryError only when nothing could be tried (no connection, bad login); after
    that every message ends in exactly one of the outcome's three buckets.
    """
    server = f"{settings.host}:{settings.port}"
    password = settings.password()
    if settings.username and password is None:
        raise DeliveryError(
            f"SMTP {server}: delivery.username is set but ${settings.password_env} is empty; "
            "export the password in that environment variable"
        )
    try:
        client = _connect(settings)
    except (OSError, smtplib.SMTPException, UnicodeError, ValueError) as error:
        raise DeliveryError(f"SMTP {server}: cannot connect: {error}") from None
    envelope_from = parseaddr(settings.sender)[1] or settings.sender
    outcome = SendOutcome()
    try:
        if settings.username:
            client.login(settings.username, password or "")
        for key, recipient, data in messages:
            try:
                client.sendmail(envelope_from, [recipient], data)
            except smtplib.SMTPRecipientsRefused as error:
                code, text = error.recipients.get(recipient, (0, b""))
                bucket = outcome.refused if code >= 500 else outcome.deferred
                bucket[key] = f"{code} {_decode(text)}".strip()
                continue
            except smtplib.SMTPResponseException as error:
                if error.smtp_code == 421:
                    raise  # the server is closing the session
                bucket = outcome.refused if error.smtp_code >= 500 else outcome.deferred
                bucket[key] = f"{error.smtp_code} {_decode(error.smtp_error)}".strip()
                continue
            outcome.accepted.append(key)
    except smtplib.SMTPAuthenticationError as error:
        raise DeliveryError(
            f"SMTP {server}: login as {settings.username} failed ({error.smtp_code}); "
            f"check ${settings.password_env}"
        ) from None
    except UnicodeEncodeError:
        raise DeliveryError(
            f"SMTP {server}: the user name or ${settings.password_env} has characters "
            "smtplib cannot send (non-ASCII)"
        ) from None
    except (smtplib.SMTPException, OSError) as error:
        done = set(outcome.accepted) | set(outcome.refused) | set(outcome.deferred)
        for key, _, _ in messages:
            if key not in done:
                outcome.deferred[key] = f"not sent: {error}"
    finally:
        try:
            client.quit()
        except (smtplib.SMTPException, OSError):
            client.close()
    return outcome


def _by_smtp(
    rendered: RenderedDigest, settings: DeliveryConfig, language: str, now: datetime
) -> Delivery:
    server = f"{settings.host}:{settings.port}"
    # One message per recipient: no reader sees the others' addresses.
    messages = {
        recipient: build_message(
            rendered, settings.sender, recipient, language, now, settings.unsubscribe
        ).as_bytes()
        for recipient in settings.recipients
    }
    outcome = send_each(settings, [(r, r, data) for r, data in messages.items()])
    if not outcome.accepted:
        reasons = "; ".join(
            f"{r}: {why}" for r, why in {**outcome.refused, **outcome.deferred}.items()
        )
        raise DeliveryError(f"SMTP {server}: no recipient accepted the digest ({reasons})")
    return Delivery(
        "smtp",
        tuple(outcome.accepted),
        f"{server} accepted {len(outcome.accepted)} message(s)",
        (),
        outcome.refused,
        {r: (why, messages[r]) for r, why in outcome.deferred.items()},
    )


def _decode(text: bytes | str) -> str:
    return text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)


def _connect(settings: DeliveryConfig) -> smtplib.SMTP:
    context = ssl.create_default_context()
    # smtplib would otherwise ask DNS for our own name (getfqdn), which can stall for seconds.
    local_name = settings.sender.rsplit("@", 1)[-1].strip("> ") or "localhost"
    if settings.security == "ssl":
        return smtplib.SMTP_SSL(
            settings.host,
            settings.port,
            local_hostname=local_name,
            timeout=settings.timeout,
            context=context,
        )
    client = smtplib.SMTP(
        settings.host, settings.port, local_hostname=local_name, timeout=settings.timeout
    )
    if settings.security == "starttls":
        client.starttls(context=context)
    return client
