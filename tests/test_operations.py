"""What an operator meets before and after a run: `digest check` tries the delivery (an SMTP
session up to the login, no mail sent) and the folders a run writes; a run that exits 1 is
a failed run in the daemon's log and in `digest status`; the systemd units let the service
write where the docs put its files."""

from __future__ import annotations

import contextlib
import socket
import sqlite3
import threading
import time
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from conftest import DEMO_FEEDS, REPO, Mailbox, _free_port, run_cli, write_config

import digest
from digest import pipeline
from digest.cli._schedule import run_digest

DEPLOY = REPO / "deploy"


def _smtp(port: int, *, timeout: float = 5, security: str = "none", extra: str = "") -> str:
    return (
        f"delivery:\n  method: smtp\n  host: 127.0.0.1\n  port: {port}\n"
        f"  security: {security}\n  timeout: {timeout:g}\n  retries: 3\n  retry_delay: 10s\n"
        f"  from: Test Brief <digest@example.org>\n  to: ana@example.org\n{extra}"
    )


def _check(config: Path, env: dict[str, str] | None = None) -> tuple[int, list[str], float]:
    started = time.monotonic()
    result = run_cli("check", "--config", str(config), env=env)
    return result.returncode, result.stdout.splitlines(), time.monotonic() - started


def _delivery_line(lines: list[str]) -> str:
    (line,) = [line for line in lines if " delivery: " in line]
    return line


def test_check_against_a_dead_smtp_port_fails_at_once_naming_host_and_port(tmp_path, site):
    port = _free_port()  # nothing listens there
    delivery = _smtp(port, timeout=10)
    config = write_config(tmp_path, site.base_url, delivery=delivery, feeds=DEMO_FEEDS[:2])
    code, lines, took = _check(config)
    assert code == 1
    assert _delivery_line(lines) == (
        f"FAIL delivery: SMTP 127.0.0.1:{port}: connection refused: nothing listens there; "
        "check delivery.host and delivery.port"
    )
    assert [line[:4] for line in lines[1:3]] == ["ok  ", "ok  "]  # the feeds still checked
    # No retries (a run would wait 10 + 20 + 40 s): the whole command, Python's start and
    # the feeds included, within the 10 s of delivery.timeout.
    assert took < 10, took
    assert not (tmp_path / "state").exists(), "check must not write state"


def test_check_gives_up_on_a_silent_server_within_delivery_timeout(tmp_path, site):
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)  # takes the connection, never sends a greeting (a TLS-only port does)
    port = silent.getsockname()[1]
    config = write_config(tmp_path, site.base_url, feeds=DEMO_FEEDS[:1],
                          delivery=_smtp(port, timeout=2, security="starttls"))  # fmt: skip
    try:
        code, lines, took = _check(config)
    finally:
        silent.close()
    assert code == 1
    assert _delivery_line(lines) == (
        f"FAIL delivery: SMTP 127.0.0.1:{port}: no answer within delivery.timeout (2s) while "
        "waiting for its greeting; if this port expects TLS from the start (usually 465), set "
        "delivery.security: ssl"
    )
    assert 2 <= took < 2 + 8, took  # the timeout once, plus Python's start and the feed


def _slow_smtp_server(pause: float) -> socket.socket:
    """A server that answers every command, each after `pause` seconds: no single read
    times out, so only a deadline for the whole session stops the probe in time."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)

    def serve() -> None:
        with contextlib.suppress(OSError):
            connection, _ = listener.accept()
            with connection:
                time.sleep(pause)
                connection.sendall(b"220 slow.example ESMTP\r\n")
                while connection.recv(1024):
                    time.sleep(pause)
                    connection.sendall(b"250-slow.example\r\n250 STARTTLS\r\n")

    threading.Thread(target=serve, daemon=True).start()
    return listener


def test_the_probe_keeps_to_delivery_timeout_for_the_whole_session(tmp_path):
    listener = _slow_smtp_server(pause=0.8)  # the greeting, EHLO, STARTTLS: 0.8 s each
    port = listener.getsockname()[1]
    delivery = _smtp(port, timeout=2, security="starttls")
    config = digest.load_config(write_config(tmp_path, "http://127.0.0.1:9", delivery=delivery))
    started = time.monotonic()
    try:
        (delivery_check, *_) = pipeline.check_setup(config)
    finally:
        listener.close()
    took = time.monotonic() - started
    assert not delivery_check.ok
    assert delivery_check.detail.startswith(
        f"SMTP 127.0.0.1:{port}: no answer within delivery.timeout (2s) while "
    ), delivery_check.detail
    assert 2 <= took < 2.5, took  # not 3 x 0.8 s and more, nor a timeout per step


def test_check_logs_in_and_sends_no_mail(tmp_path, site):
    mailbox = Mailbox("127.0.0.1", _free_port())
    logins: list[tuple[str, str]] = []

    def authenticate(server, session, envelope, mechanism, auth_data) -> AuthResult:
        login, password = auth_data.login.decode(), auth_data.password.decode()
        logins.append((login, password))
        return AuthResult(success=password == "right", handled=False)  # aiosmtpd answers 535

    controller = Controller(mailbox, hostname=mailbox.host, port=mailbox.port,
                            authenticator=authenticate, auth_require_tls=False)  # fmt: skip
    controller.start()
    delivery = _smtp(mailbox.port, extra="  username: digest\n  password_env: PROBE_PASSWORD\n")
    config = write_config(tmp_path, site.base_url, feeds=DEMO_FEEDS[:1], delivery=delivery)
    try:
        good, good_lines, _ = _check(config, env={"PROBE_PASSWORD": "right"})
        bad, bad_lines, _ = _check(config, env={"PROBE_PASSWORD": "wrong"})
    finally:
        controller.stop()
    assert good == 0, good_lines
    assert _delivery_line(good_lines) == (
        f"ok   delivery: SMTP 127.0.0.1:{mailbox.port}: no TLS, logged in as digest; no mail sent"
    )
    assert bad == 1
    line = _delivery_line(bad_lines)
    assert line.startswith(
        f"FAIL delivery: SMTP 127.0.0.1:{mailbox.port}: login as digest refused (535 "
    ), line
    assert line.endswith("check $PROBE_PASSWORD and delivery.username"), line
    # smtplib tries each mechanism the server offers (PLAIN, then LOGIN) before giving up.
    assert logins[0] == ("digest", "right") and set(logins[1:]) == {("digest", "wrong")}
    assert mailbox.messages == [] and mailbox.envelopes == []


def test_check_names_a_setting_the_server_cannot_work_with(tmp_path, site, smtp_server):
    # security: starttls against a server that offers no STARTTLS: the same line a run gives.
    config = write_config(tmp_path, site.base_url, feeds=DEMO_FEEDS[:1],
                          delivery=_smtp(smtp_server.port, security="starttls"))  # fmt: skip
    code, lines, _ = _check(config)
    assert code == 1
    assert _delivery_line(lines) == (
        f"FAIL delivery: SMTP 127.0.0.1:{smtp_server.port}: the server does not offer "
        "STARTTLS; set delivery.security: ssl if this port expects TLS from the start "
        "(usually 465), or none for plain SMTP"
    )


def test_check_tries_the_folders_a_run_writes(tmp_path, site):
    blocker = tmp_path / "www"
    blocker.write_text("a file where the archive's parent folder should be")
    config = write_config(
        tmp_path, site.base_url, feeds=DEMO_FEEDS[:1], extra=f"archive:\n  dir: {blocker}/brief\n"
    )
    code, lines, _ = _check(config)
    assert code == 1
    assert lines[-3:] == [
        f"ok   delivery: delivery.outbox {tmp_path / 'outbox'} does not exist yet; {tmp_path} "
        "is writable",
        f"FAIL archive: archive.dir {blocker}/brief: {blocker} is not a folder",
        f"ok   state: storage {tmp_path / 'state'} does not exist yet; {tmp_path} is writable",
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["digest.yaml", "www"]  # nothing made


def test_check_renders_an_operators_templates_as_a_run_would(tmp_path, site):
    """`check` said "config is valid" for a templates folder without digest.mjml.j2 and for
    a template with an unknown filter; the run then fetched everything and stopped."""
    import shutil

    from digest.mail._render import default_template_dir

    folder = tmp_path / "templates"
    shutil.copytree(default_template_dir(), folder)
    config = write_config(
        tmp_path, site.base_url, feeds=DEMO_FEEDS[:1],
        extra=f"templates: {folder}\narchive:\n  dir: {tmp_path / 'www'}\n",
    )  # fmt: skip
    code, lines, _ = _check(config)
    (line,) = [line for line in lines if " templates: " in line]
    assert code == 0 and line.startswith(f"ok   templates: {folder}: a sample digest renders ("), (
        lines
    )
    text = folder / "digest.txt.j2"
    text.write_text(text.read_text().replace("{{ digest.title", "{{ digest.title | nosuch", 1))
    code, lines, _ = _check(config)
    assert code == 1
    (line,) = [line for line in lines if " templates: " in line]
    assert line.startswith(f"FAIL templates: {text}:") and "No filter named 'nosuch'" in line
    # A filter only a one-outlet item in another language reaches: Jinja looks it up when
    # the branch renders, so the sample digest must hold such an item.
    text.write_text(
        text.read_text().replace("{{ digest.title | nosuch", "{{ digest.title", 1)
        + "{% for section in sections %}{% for item in section.stories %}"
        "{% if item.language_tag and not item.why %}{{ item.headline | only_abroad }}"
        "{% endif %}{% endfor %}{% endfor %}\n"
    )
    code, lines, _ = _check(config)
    assert code == 1 and "No filter named 'only_abroad'" in "\n".join(lines), lines
    text.unlink()
    code, lines, _ = _check(config)
    assert code == 1
    assert f"FAIL templates: {folder}: template digest.txt.j2 not found" in lines


def test_a_run_whose_every_feed_failed_is_a_failed_run_in_the_daemons_log(tmp_path):
    dead = f"http://127.0.0.1:{_free_port()}"
    feeds = [("Gone A", f"{dead}/a.xml", "World"), ("Gone B", f"{dead}/b.xml", "World")]
    config = write_config(tmp_path, dead, feeds=feeds)
    outcome = run_digest(config, "Test Brief")
    assert outcome == "failed: all 2 feeds failed; nothing new (0 new articles)"
    result = run_cli("run", "--config", str(config))
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1].endswith(" digest: all 2 feeds failed")
    # Not "nothing new", which reads as a quiet news day.
    assert result.stdout == "Test Brief: nothing to deliver: all 2 feeds failed\n"


def test_status_shows_a_run_that_exited_1_as_failed_with_its_reason(tmp_path):
    dead = f"http://127.0.0.1:{_free_port()}"
    config = write_config(tmp_path, dead, feeds=[("Gone", f"{dead}/feed.xml", "World")])
    assert run_cli("run", "--config", str(config)).returncode == 1
    shown = run_cli("status", "--config", str(config))
    newest = next(line for line in shown.stdout.splitlines() if line.startswith("  20"))
    assert " failed " in newest and newest.endswith("the feed failed"), newest
    with sqlite3.connect(tmp_path / "state" / "digest.db") as db:
        assert db.execute("SELECT outcome, detail FROM runs").fetchall() == [
            ("failed", "the feed failed")
        ]


def test_the_units_let_the_service_write_its_state_outbox_and_archive():
    for name in ("digest.service", "digest-run.service"):
        unit = (DEPLOY / name).read_text()
        assert "ProtectSystem=strict" in unit
        lines = unit.splitlines()
        writable = [line.split("=", 1)[1] for line in lines if line.startswith("ReadWritePaths=")]
        # State and outbox in /var/lib/digest; the archive where docs/email.md puts it; a
        # folder not made yet must not stop the service from starting ("-").
        assert writable == ["/var/lib/digest", "-/var/www/brief"], (name, writable)
    operations = (REPO / "docs" / "operations.md").read_text()
    assert "ReadWritePaths=" in operations and "/var/www/brief" in operations
