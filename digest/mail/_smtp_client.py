"""smtplib's clients with a bound on what a server may make them wait for and read.

smtplib gives each socket read `delivery.timeout`, so a server that sends one byte of its
greeting (or of any reply) every second never times out, and it reads a multi-line reply
("250-...") for as many lines as the server sends: a hostile or broken server could hold a
run, and its lock, for ever, or fill its memory. Here a reply must arrive whole within
`delivery.timeout` and hold at most MAX_REPLY_LINES lines.
"""

from __future__ import annotations

import smtplib
import time

MAX_REPLY_LINES = 100
_MAX_LINE = 8192  # smtplib's own cap on one line


class _BoundedReplies(smtplib.SMTP):
    def getreply(self) -> tuple[int, bytes]:
        deadline = time.monotonic() + (self.timeout or 60)
        if self.file is None:
            self.file = self.sock.makefile("rb")
        lines: list[bytes] = []
        code = -1
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                self.close()
                raise smtplib.SMTPServerDisconnected(
                    f"no whole reply within {self.timeout:g}s (delivery.timeout)"
                )
            try:
                self.sock.settimeout(left)
                line = self.file.readline(_MAX_LINE + 1)
            except OSError as error:  # TimeoutError included
                self.close()
                raise smtplib.SMTPServerDisconnected(
                    f"Connection unexpectedly closed: {error}"
                ) from None
            if not line:
                self.close()
                raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
            if len(line) > _MAX_LINE or len(lines) >= MAX_REPLY_LINES:
                self.close()
                raise smtplib.SMTPResponseException(500, b"reply too long")
            lines.append(line[4:].strip(b" \t\r\n"))
            try:
                code = int(line[:3])
            except ValueError:
                code = -1
                break
            if line[3:4] != b"-":
                break
        return code, b"\n".join(lines)


class SmtpClient(_BoundedReplies):
    """smtplib.SMTP whose replies are bounded in time and size."""


class SmtpSslClient(_BoundedReplies, smtplib.SMTP_SSL):
    """smtplib.SMTP_SSL whose replies are bounded in time and size."""
