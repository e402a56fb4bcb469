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
            line = self._read_line(deadline, started=bool(lines))
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

    def _read_line(self, deadline: float, started: bool) -> bytes:
        """One line (up to _MAX_LINE + 1 bytes), or what came before the server closed.

        Read piece by piece, each read bounded by the time left: a buffered readline()
        waits up to the socket timeout for *each* piece, so a server trickling a line
        without its end, a byte at a time, would hold it for ever. `started`: lines of this
        reply came already (a server that sent nothing is silent, not slow: the caller's
        hints tell the two apart by the words "timed out")."""
        line = b""
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise self._late()
            try:
                self.sock.settimeout(left)
                buffered = self.file.peek(1)  # at most one read from the socket
            except OSError as error:  # TimeoutError included
                if isinstance(error, TimeoutError) and (started or line):
                    raise self._late() from None
                self.close()
                raise smtplib.SMTPServerDisconnected(
                    f"Connection unexpectedly closed: {error}"
                ) from None
            if not buffered:
                return line
            end = buffered.find(b"\n")
            wanted = len(buffered) if end < 0 else end + 1
            line += self.file.read(min(wanted, _MAX_LINE + 1 - len(line)))
            if line.endswith(b"\n") or len(line) > _MAX_LINE:
                return line

    def _late(self) -> smtplib.SMTPServerDisconnected:
        self.close()
        return smtplib.SMTPServerDisconnected(
            f"no whole reply within {self.timeout:g}s (delivery.timeout)"
        )


class SmtpClient(_BoundedReplies):
    """smtplib.SMTP whose replies are bounded in time and size."""


class SmtpSslClient(_BoundedReplies, smtplib.SMTP_SSL):
    """smtplib.SMTP_SSL whose replies are bounded in time and size."""
