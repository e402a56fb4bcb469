"""The deploy/ files: systemd units pass `systemd-analyze verify`; the crontab line parses."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest
from apscheduler.triggers.cron import CronTrigger
from conftest import REPO

DEPLOY = REPO / "deploy"
UNITS = ["digest.service", "digest-run.service", "digest-run.timer"]


@pytest.mark.skipif(
    shutil.which("systemd-analyze") is None,
    reason="systemd-analyze is not installed (apt-get install systemd)",
)
def test_the_unit_files_pass_systemd_analyze_verify(tmp_path):
    # The units name /usr/local/bin/digest, where `pip install` puts it; verify checks that
    # the program exists, so point them at this interpreter running the package instead.
    for name in UNITS:
        text = (DEPLOY / name).read_text()
        (tmp_path / name).write_text(
            text.replace("/usr/local/bin/digest", f"{sys.executable} -m digest")
        )
    result = subprocess.run(
        ["systemd-analyze", "verify", *(str(tmp_path / name) for name in UNITS)],
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "digest" not in result.stderr, result.stderr  # no warning about our units


def test_the_units_run_the_commands_the_readme_documents():
    daemon = (DEPLOY / "digest.service").read_text()
    assert "ExecStart=/usr/local/bin/digest schedule --config /etc/digest\n" in daemon
    assert "TimeoutStopSec=" in daemon  # room for a running digest to finish on stop
    oneshot = (DEPLOY / "digest-run.service").read_text()
    assert "Type=oneshot" in oneshot and "digest run --config" in oneshot
    assert "Persistent=yes" in (DEPLOY / "digest-run.timer").read_text()
    readme = (REPO / "README.md").read_text()
    for name in [*UNITS, "crontab"]:
        assert f"deploy/{name}" in readme, name


def test_the_crontab_line_is_a_valid_cron_schedule_of_digest_run():
    (line,) = [
        line for line in (DEPLOY / "crontab").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]  # fmt: skip
    fields = line.split()
    CronTrigger.from_crontab(" ".join(fields[:5]))
    assert "digest run --config /etc/digest/digest.yaml" in line


def test_the_crontab_log_folder_is_made_by_the_readme_install_steps():
    (line,) = [
        line for line in (DEPLOY / "crontab").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]  # fmt: skip
    log = line.split(">>", 1)[1].split()[0]
    folder = log.rsplit("/", 1)[0]
    readme = (REPO / "README.md").read_text()
    install = readme[readme.index("## Running it for months") :].split("```")[1]
    # The redirect runs as `digest` before digest does: the folder must exist, owned by it.
    assert f"install -d -o digest -g digest {folder}" in install or (
        f"--home-dir {folder} --create-home digest" in install
    ), install


def test_the_crontab_line_gives_digest_the_password_the_readme_writes(tmp_path):
    # Only the systemd units read secrets.env: every run from the crontab line failed
    # with "$DIGEST_SMTP_PASSWORD is not set".
    (line,) = [
        line for line in (DEPLOY / "crontab").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]  # fmt: skip
    readme = (REPO / "README.md").read_text()
    install = readme[readme.index("## Running it for months") :].split("```")[1]
    (written,) = [step for step in install.splitlines() if "secrets.env" in step]
    password = "p4ss w$rd;x"
    secrets = tmp_path / "secrets.env"
    written = written.replace("...", password).replace("/etc/digest/secrets.env", str(secrets))
    written = written.replace("sudo ", "").replace(" -g digest", "")
    subprocess.run(["sh", "-c", written], check=True)
    command = " ".join(line.split()[5:])
    command = (
        command.replace("/etc/digest/secrets.env", str(secrets))
        .replace("/var/lib/digest", str(tmp_path))
        .replace("/var/log/digest/digest.log", str(tmp_path / "log"))
        .replace(
            "/usr/local/bin/digest run --config /etc/digest/digest.yaml",
            "printenv DIGEST_SMTP_PASSWORD",
        )
    )
    subprocess.run(["sh", "-c", command], check=True, env={"PATH": "/usr/bin:/bin"})
    assert (tmp_path / "log").read_text() == password + "\n"
    # Without the file (the outbox method, a relay without a login) digest runs all the same.
    secrets.unlink()
    (tmp_path / "log").unlink()
    ran = subprocess.run(["sh", "-c", command], check=False, env={"PATH": "/usr/bin:/bin"})
    assert ran.returncode == 1  # printenv's: the variable is not set; digest ran
    assert (tmp_path / "log").read_text() == ""
