"""The CLI is thin: every command has help, is in the README, and maps errors to one line."""

from __future__ import annotations

import gzip
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import DEMO_FEEDS, REPO, _free_port, run_cli, stderr_lines, write_config

from digest.cli._commands import build_parser, main
from digest.version import __version__, code_identity

COMMANDS = [
    "run",
    "preview",
    "check",
    "extract",
    "schedule",
    "status",
    "feeds",
    "settings",
    "reactivate",
    "copy-state",
]


def test_every_command_has_help_and_is_documented():
    readme = (REPO / "README.md").read_text()
    parser = build_parser()
    subcommands = next(a for a in parser._actions if a.dest == "command").choices
    assert sorted(subcommands) == sorted(COMMANDS)
    for name, sub in subcommands.items():
        assert sub.description, name
        assert f"`digest {name}" in readme, name


def test_usage_errors_exit_2(capsys):
    with pytest.raises(SystemExit) as caught:
        main(["run"])
    assert caught.value.code == 2
    assert "--config" in capsys.readouterr().err


def test_main_called_again_speaks_after_a_stderr_whose_reader_left(tmp_path, capsys):
    """A script or test calling main() twice: once stderr's reader had left, every later
    call in the process printed nothing at all."""
    from digest.cli._progress import LINES

    LINES.reader_gone = True  # as a first call whose stderr broke leaves it
    assert main(["check", "--config", str(tmp_path / "none.yaml")]) == 1
    assert "none.yaml" in capsys.readouterr().err


def test_extract_reads_gzipped_pages_and_reports_removed_blocks(tmp_path):
    source = REPO / "config/demo/sites/techwire/articles/meta-compute-cloud.html"
    packed = tmp_path / "page.html.gz"
    packed.write_bytes(gzip.compress(source.read_bytes()))
    result = run_cli("extract", "--json", str(packed), str(tmp_path / "missing.html"))
    assert result.returncode == 1
    assert result.stderr.strip().endswith("missing.html: cannot read: No such file or directory")
    (record,) = [json.loads(line) for line in result.stdout.splitlines()]
    assert set(record) == {
        "source",
        "url",
        "title",
        "author",
        "date",
        "language",
        "text",
        "removed",
    }
    assert record["source"] == str(packed)
    assert record["title"].startswith("Meta wants to rent out its AI muscle")
    assert record["author"] == "Priya Ramanathan"
    assert record["language"] == "en"
    assert {r["reason"] for r in record["removed"]} >= {"promo", "language"}


def test_the_library_has_a_public_facade():
    import digest

    for name in ("run", "preview", "check", "extract", "load_config", "DigestError"):
        assert name in digest.__all__ and hasattr(digest, name)


@pytest.mark.skipif(shutil.which("ruff") is None, reason="ruff is not installed")
def test_the_code_is_ruff_clean():
    paths = [str(REPO / p) for p in ("digest", "tests", "bench") if (REPO / p).exists()]
    lint = subprocess.run(["ruff", "check", *paths], capture_output=True, text=True, check=False)
    assert lint.returncode == 0, lint.stdout
    layout = subprocess.run(
        ["ruff", "format", "--check", *paths], capture_output=True, text=True, check=False
    )
    assert layout.returncode == 0, layout.stdout


def test_no_module_grows_past_500_lines():
    for path in (REPO / "digest").glob("*.py"):
        assert len(path.read_text().splitlines()) <= 500, path.name


def test_python_dash_m_works():
    result = subprocess.run(
        [sys.executable, "-m", "digest", "--help"],
        capture_output=True,
        text=True,
        cwd=Path("/"),
        check=False,
    )
    assert result.returncode == 0 and "preview" in result.stdout


def test_preview_open_shows_the_email_in_a_browser_and_writes_no_archive(
    tmp_path, site, monkeypatch, capsys
):
    opened: list[str] = []
    monkeypatch.setattr("webbrowser.open", lambda url: opened.append(url) or True)
    archive = "archive:\n  dir: public\n  url: https://news.example.org/brief\n"
    config = write_config(tmp_path, site.base_url, feeds=DEMO_FEEDS[:2], extra=archive)
    assert main(["preview", "--config", str(config), "--open"]) == 0
    assert len(opened) == 1 and opened[0].startswith("file://")
    page = Path(opened[0].removeprefix("file://"))
    markup = page.read_text(encoding="utf-8")
    assert markup.startswith("<!doctype html>") and 'class="hl"' in markup
    # The email as `run` would send it, less the link to its archive page, which only a
    # run writes (under another name): a preview's was dead.
    assert "Past digests" in markup and "https://news.example.org/brief/" in markup
    assert "View in browser" not in markup and "Read it on the web" not in markup
    assert not (tmp_path / "public").exists()
    shutil.rmtree(page.parent)


def test_preview_open_without_a_browser_says_so_and_gives_the_file(tmp_path, site):
    config = write_config(tmp_path, site.base_url, feeds=DEMO_FEEDS[:2])
    empty = tmp_path / "bin"
    empty.mkdir()
    # A headless host: no display, no BROWSER, no console browser on the PATH.
    env = {
        k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "BROWSER")
    }
    result = subprocess.run(
        [sys.executable, "-m", "digest", "preview", "--config", str(config), "--open"],
        capture_output=True, text=True, cwd=REPO, env={**env, "PATH": str(empty)}, check=False,
    )  # fmt: skip
    assert result.returncode == 1
    page = Path(result.stdout.strip())
    assert page.name == "digest.html" and page.read_text().startswith("<!doctype html>")
    assert "Opening" not in result.stdout
    assert f"no browser found to open the preview; open {page} yourself" in result.stderr
    shutil.rmtree(page.parent)


def test_the_readme_python_api_example_runs_also_when_nothing_is_new(tmp_path):
    readme = (REPO / "README.md").read_text()
    section = readme[readme.index("## Python API") :]
    example = section.split("```python\n", 1)[1].split("```", 1)[0]
    assert 'digest.load_config("config/demo.yaml")' in example
    demo = (REPO / "config" / "demo.yaml").read_text()
    demo = demo.replace("root: demo/sites", f"root: {REPO / 'config' / 'demo' / 'sites'}")
    demo = demo.replace("port: 8765", f"port: {_free_port()}")
    demo = re.sub(r"(storage|outbox|dir): \S+", r"\1: var/\1", demo)
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "demo.yaml").write_text(demo)
    # Run it as the README's reader does, in the repo's place; the second time (after the
    # example's own `run`) nothing is new and `report.digest` is None.
    for _ in range(2):
        result = subprocess.run(
            [sys.executable, "-c", example], cwd=tmp_path, capture_output=True, text=True,
            env={**os.environ, "PYTHONPATH": str(REPO)}, timeout=300, check=False,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("nothing new\n")


def test_version_and_verbose_after_the_command(capsys):
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    # The version and a hash of the package's files: a checkout keeps one version number.
    shown = capsys.readouterr().out.strip()
    assert shown == f"digest {code_identity()}"
    assert re.fullmatch(rf"digest {re.escape(__version__)} \([0-9a-f]{{12}}\)", shown)
    parser = build_parser()
    assert parser.parse_args(["run", "-v", "--config", "x.yaml"]).verbose is True
    assert parser.parse_args(["-v", "run", "--config", "x.yaml"]).verbose is True
    assert parser.parse_args(["run", "--config", "x.yaml"]).verbose is False
    assert parser.parse_args(["feeds", "export", "-v", "--config", "x.yaml"]).verbose is True


@pytest.mark.parametrize("action", ["import", "export"])
def test_feeds_subcommands_describe_themselves(action):
    result = run_cli("feeds", action, "--help")
    assert result.returncode == 0
    description = result.stdout.split("\n\n")[1]
    assert description.startswith(("Add an OPML file's feeds", "Print the config's feeds"))


def test_preview_help_says_what_it_records():
    text = " ".join(run_cli("preview", "--help").stdout.split())
    assert "without delivering or recording" not in text
    assert "new articles (kept pending" in text and "ETags" in text


def test_run_output_counts_in_words_and_a_failed_page_is_not_called_skipped(tmp_path, site):
    page = "/techwire/articles/ipad-pro-m5-launch.html"
    site.overrides = {page: lambda request: request.send_error(404, "File not found")}
    config = write_config(tmp_path, site.base_url, feeds=DEMO_FEEDS[:1])
    first = run_cli("run", "--config", str(config))
    assert first.returncode == 0, first.stderr
    assert f"digest: page {site.base_url}{page} (feed 'Techwire'): HTTP 404" in first.stderr
    assert "; page not used, the article keeps the feed's text" in first.stderr
    assert "skipped: page" not in first.stderr
    again = run_cli("run", "--config", str(config))
    assert "(0 new articles fetched, 1 feed unchanged)" in again.stdout


def test_a_folder_given_as_the_config_file_is_named_as_such(tmp_path):
    result = run_cli("run", "--config", str(tmp_path))
    assert result.returncode == 1
    assert stderr_lines(result.stderr) == [
        f"digest: {tmp_path}: is a folder, not a config file; give one digest's YAML file "
        "(only `digest schedule` and `digest status` take a folder of them)"
    ]


def test_a_missing_key_error_is_apart_from_its_help(tmp_path):
    config = write_config(tmp_path, "http://127.0.0.1:9")
    config.write_text(config.read_text().replace("title: Test Brief\n", ""))
    result = run_cli("check", "--config", str(config))
    assert result.returncode == 1
    assert "title: missing (required; help: Digest title, shown in the subject" in result.stderr


def test_main_gives_back_the_sigterm_handler_it_found():
    import signal

    from digest.cli._commands import main

    before = signal.getsignal(signal.SIGTERM)
    assert main(["settings"]) == 0
    assert signal.getsignal(signal.SIGTERM) is before


def test_two_configs_on_one_state_under_one_id_are_refused_naming_both(tmp_path, site):
    # Two digests set up side by side in one folder, as both on the default state file: the
    # same state and no `id`, so the second would find every story already sent.
    alice = write_config(tmp_path, site.base_url, name="alice.yaml")
    bob = write_config(tmp_path, site.base_url, name="bob.yaml")
    assert run_cli("run", "--config", str(alice)).returncode == 0
    refused = run_cli("run", "--config", str(bob))
    assert refused.returncode == 1
    assert stderr_lines(refused.stderr) == [
        f"digest: {bob}: storage: {tmp_path / 'state' / 'digest.db'} is also the state of "
        f"{alice}, with no id; give each digest sharing a storage its own `id`, or its own "
        "storage (if that config is gone for good, delete or rename that file)"
    ]
    assert len(list((tmp_path / "outbox").glob("*.eml"))) == 1  # bob sent nothing
    state = (tmp_path / "state" / "digest.db").read_bytes()
    checked = run_cli("check", "--config", str(bob))
    assert checked.returncode == 1
    assert f"FAIL state: {bob}: storage: " in checked.stdout
    assert (tmp_path / "state" / "digest.db").read_bytes() == state  # check only reads
    # With its own id, bob is a digest of its own on the shared state and gets the news.
    bob.write_text(bob.read_text().replace("title: Test Brief\n", "title: Test Brief\nid: bob\n"))
    assert run_cli("run", "--config", str(bob)).returncode == 0
    assert len(list((tmp_path / "outbox").glob("*.eml"))) == 2
    # A config moved to another file name takes its digest along.
    alice.rename(tmp_path / "alice-moved.yaml")
    moved = run_cli("run", "--config", str(tmp_path / "alice-moved.yaml"))
    assert moved.returncode == 0, moved.stderr


def test_a_config_reached_through_a_switched_release_symlink_stays_its_digest(tmp_path, site):
    # Versioned deploys: `current` points at a release folder, and a new release switches
    # it; the old release's files stay on disk. The config's path as given is the same.
    for release in ("v1", "v2"):
        (tmp_path / release).mkdir()
        write_config(tmp_path / release, site.base_url)
        text = (tmp_path / release / "digest.yaml").read_text()
        state = tmp_path / "state.db"
        (tmp_path / release / "digest.yaml").write_text(
            text.replace("storage: state/digest.db", f"storage: {state}")
        )
    (tmp_path / "current").symlink_to(tmp_path / "v1")
    config = tmp_path / "current" / "digest.yaml"
    assert run_cli("run", "--config", str(config)).returncode == 0
    (tmp_path / "current").unlink()
    (tmp_path / "current").symlink_to(tmp_path / "v2")
    again = run_cli("run", "--config", str(config))
    assert again.returncode == 0, again.stderr
