"""End to end: the real CLI against the demo sites on loopback HTTP and a loopback SMTP server."""

from __future__ import annotations

import html
import json
import re
import socket
import sqlite3
import subprocess
import sys
from email import message_from_bytes, policy

from conftest import (
    DEMO_FEEDS,
    DEMO_SITES,
    REPO,
    problems,
    respond,
    run_cli,
    smtp_delivery,
    stall,
    stderr_lines,
    write_config,
)


def _source_paths(item: dict) -> set[str]:
    return {re.sub(r"^https?://[^/]+/", "", source["url"]) for source in item["sources"]}


def _parts(message) -> tuple[str, str]:
    plain = message.get_body(preferencelist=("plain",)).get_content()
    rich = message.get_body(preferencelist=("html",)).get_content()
    return plain, rich


def _visible(markup: str) -> str:
    """The text a reader sees in the HTML part, whitespace folded."""
    without_tags = re.sub(r"<[^>]+>", " ", re.sub(r"<style.*?</style>", " ", markup, flags=re.S))
    return " ".join(html.unescape(without_tags).split())


def test_preview_json_gives_one_item_per_event(tmp_path, site, expectations):
    config = write_config(tmp_path, site.base_url)
    result = run_cli("preview", "--config", str(config), "--json")
    assert result.returncode == 0, result.stderr
    items = json.loads(result.stdout)["items"]
    item_of_path = {path: index for index, item in enumerate(items) for path in _source_paths(item)}

    for event, paths in expectations["events"].items():
        holders = {item_of_path[path] for path in paths}
        assert len(holders) == 1, f"{event} is split over {len(holders)} items"
        assert _source_paths(items[holders.pop()]) == set(paths), f"{event} has foreign sources"
    for left, right in expectations["different_pairs"]:
        left_item = item_of_path[expectations["events"][left][0]]
        right_item = item_of_path[expectations["events"][right][0]]
        assert left_item != right_item, f"{left} and {right} were merged"

    meta = items[item_of_path[expectations["events"]["meta-compute"][0]]]
    # Five English rewrites and one in French (Northstar News), each from its own outlet.
    assert len(meta["sources"]) == 6
    assert items[0] is meta or len(items[0]["sources"]) <= 6
    for key in ("headline", "summary", "language", "sources"):
        assert meta[key]
    assert set(meta["sources"][0]) == {"name", "url", "title", "published", "articles"}
    assert meta["language"] == "en"
    assert "$182.9 billion" in meta["why"] and "Meta Compute" in meta["why"]
    earliest = min(meta["sources"], key=lambda source: source["published"])
    assert meta["first_reported"] == {k: earliest[k] for k in ("name", "url", "published")}
    for item in items:
        assert ("why" in item) == (len(item["sources"]) > 1)
        assert item["first_reported"]["name"] in {s["name"] for s in item["sources"]}


def test_run_sends_one_email_then_nothing_and_no_feed_bodies(
    tmp_path, site, smtp_server, expectations
):
    config = write_config(tmp_path, site.base_url, delivery=smtp_delivery(smtp_server))
    first = run_cli("run", "--config", str(config))
    assert first.returncode == 0, first.stderr
    assert len(smtp_server.messages) == 1
    assert first.stdout.rstrip().endswith(
        f" to 1 recipient (reader@example.org) by SMTP 127.0.0.1:{smtp_server.port}"
    )
    message = smtp_server.messages[0]
    assert message.get_content_type() == "multipart/alternative"
    plain, rich = _parts(message)
    seen = _visible(rich)

    for page, snippets in expectations["boilerplate"].items():
        for snippet in snippets:
            assert snippet not in plain and snippet not in seen, f"{page}: {snippet!r} leaked"
    meta_paths = expectations["events"]["meta-compute"]
    for path in meta_paths:
        assert f"{site.base_url}/{path}" in plain
        assert f"{site.base_url}/{path}" in rich
    assert "6 sources" in plain and "6 sources" in seen
    assert "Meta Compute" in plain and "Meta Compute" in seen
    for name in (
        "Techwire",
        "Circuit Post",
        "ByteBeat",
        "Global Brief",
        "The Daily Ledger",
        "Northstar News",
    ):
        assert name in seen

    requests_before = len(site.requests)
    second = run_cli("run", "--config", str(config))
    assert second.returncode == 0, second.stderr
    assert "nothing new" in second.stdout
    assert len(smtp_server.messages) == 1
    rerun = site.requests[requests_before:]
    assert len(rerun) == len(DEMO_FEEDS)
    assert all(status == 304 for _, _, status in rerun), rerun


def test_extracted_pages_keep_facts_and_lose_boilerplate(site, expectations):
    pages = sorted(set(expectations["boilerplate"]) | set(expectations["facts"]))
    result = run_cli("extract", "--json", *(f"{site.base_url}/{page}" for page in pages))
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(records) == len(pages)
    for page, record in zip(pages, records, strict=True):
        text = " ".join(record["text"].split())
        for snippet in expectations["boilerplate"].get(page, []):
            assert snippet not in text, f"{page}: boilerplate kept: {snippet!r}"
        for snippet in expectations["facts"].get(page, []):
            assert snippet in text, f"{page}: fact lost: {snippet!r}"
        assert record["removed"], f"{page}: nothing reported as removed"
        assert {"reason", "text"} == set(record["removed"][0])


def test_broken_feeds_are_reported_and_the_digest_still_goes_out(tmp_path, site):
    site.overrides = {
        "/broken/malformed.xml": respond(200, b"<?xml version='1.0'?><rss><channel><titl"),
        "/broken/error.xml": respond(500, b"oops", "text/plain"),
        "/broken/slow.xml": stall(6),
    }
    broken = [
        ("Malformed", f"{site.base_url}/broken/malformed.xml", "World"),
        ("Erroring", f"{site.base_url}/broken/error.xml", "World"),
        ("Stalling", f"{site.base_url}/broken/slow.xml", "World"),
    ]
    config = write_config(tmp_path, site.base_url, feeds=DEMO_FEEDS + broken)
    result = run_cli("run", "--config", str(config))
    assert result.returncode == 0, result.stderr
    problems = result.stderr.splitlines()
    for name, url, _ in broken:
        assert any(name in line and url in line for line in problems), (name, problems)
    assert any("HTTP 500" in line for line in problems)
    assert any("timed out" in line for line in problems)
    assert len(list((tmp_path / "outbox").glob("*.eml"))) == 1
    assert "delivered" in result.stdout


def test_failed_delivery_keeps_every_story_for_the_next_run(tmp_path, site, smtp_server):
    closed = smtp_delivery(smtp_server).replace(str(smtp_server.port), "1")
    config = write_config(tmp_path, site.base_url, delivery=closed)
    failed = run_cli("run", "--config", str(config))
    assert failed.returncode == 1
    assert len(problems(failed.stderr)) == 1, failed.stderr  # one line, not a retry log
    assert "SMTP 127.0.0.1:1" in failed.stderr

    write_config(tmp_path, site.base_url, delivery=smtp_delivery(smtp_server))
    retried = run_cli("run", "--config", str(config))
    assert retried.returncode == 0, retried.stderr
    assert len(smtp_server.messages) == 1
    plain, _ = _parts(smtp_server.messages[0])
    assert "6 sources" in plain


def test_a_late_outlet_joins_the_delivered_story_as_a_follow_up_shown_once(
    tmp_path, site, smtp_server, expectations
):
    without_bytebeat = [feed for feed in DEMO_FEEDS if feed[0] != "ByteBeat"]
    delivery = smtp_delivery(smtp_server)
    config = write_config(tmp_path, site.base_url, delivery=delivery, feeds=without_bytebeat)
    assert run_cli("run", "--config", str(config)).returncode == 0
    _, first = _parts(smtp_server.messages[0])
    write_config(tmp_path, site.base_url, delivery=delivery)
    second = run_cli("run", "--config", str(config))
    assert second.returncode == 0, second.stderr
    # Every ByteBeat article reports a story already sent: no new story, and each listed
    # under its story's headline as the first digest sent it.
    assert "follow-ups on stories sent before" in second.stdout, second.stdout
    assert len(smtp_server.messages) == 2
    plain, markup = _parts(smtp_server.messages[1])
    listed = plain[plain.index("== More on earlier stories ==") :]
    with sqlite3.connect(tmp_path / "state" / "digest.db") as db:
        rows = db.execute(
            "SELECT articles.url, status, headline FROM articles JOIN stories "
            "ON stories.id = story_id WHERE feed = 'ByteBeat'"
        ).fetchall()
    assert rows and all(status == "joined" for _, status, _ in rows)
    for url, _, headline in rows:
        assert url in listed and url in markup
        # The text part wraps a long headline: its start is on the bullet's line.
        assert f"* {headline}"[:60] in listed and html.escape(headline) in first
    third = run_cli("run", "--config", str(config))
    assert "nothing new" in third.stdout and len(smtp_server.messages) == 2


def test_a_reader_of_stderr_that_leaves_does_not_fail_the_run(tmp_path, site):
    """`digest run 2>&1 | head -1`, or a log pipe that died: the run still delivers, and
    its outcome is in `digest status`. Before, the next stage line's broken pipe failed it."""
    config = write_config(tmp_path, site.base_url)
    command = [sys.executable, "-m", "digest", "run", "--config", str(config)]
    with subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as run:
        run.stderr.close()  # the reader is gone before the first line
        out, _ = run.communicate(timeout=120)
    assert run.returncode == 0
    assert b"delivered" in out
    assert [p.suffix for p in (tmp_path / "outbox").iterdir()].count(".eml") == 1
    status = run_cli("status", "--config", str(config))
    assert " ok " in status.stdout and "Broken pipe" not in status.stdout, status.stdout


def test_a_failed_run_whose_stdout_reader_left_still_exits_1(tmp_path, site):
    """`digest run | head -1` with every feed down: the broken pipe on the outcome line made
    the command exit 0, and cron's mail or a wrapper's `|| alert` saw a success."""
    site.overrides = {f"/{DEMO_FEEDS[0][1]}": respond(500, b"down", "text/plain")}
    config = write_config(tmp_path, site.base_url, feeds=DEMO_FEEDS[:1])
    command = [sys.executable, "-m", "digest", "run", "--config", str(config)]
    with subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as run:
        run.stdout.close()  # the reader is gone before the outcome line
        _, err = run.communicate(timeout=120)
    assert run.returncode == 1, err
    assert err.decode().rstrip().endswith("digest: the feed failed"), err


def test_a_broken_pipe_of_the_run_s_own_fails_it_though_stdout_is_read(tmp_path, site):
    """A pipe inside the run breaking (a helper process that could not start, as an
    operator's trial under another user met) was taken for stdout's reader leaving: exit 0,
    nothing said, nothing sent, and cron saw a success. The failure here stands for it: a
    sitecustomize makes the pipeline raise BrokenPipeError, stdout's reader staying."""
    (tmp_path / "site-hook").mkdir()
    (tmp_path / "site-hook" / "sitecustomize.py").write_text(
        "import digest.pipeline\n"
        "def run(config):\n"
        "    raise BrokenPipeError(32, 'Broken pipe')\n"
        "digest.pipeline.run = run\n"
    )
    config = write_config(tmp_path, site.base_url, feeds=DEMO_FEEDS[:1])
    done = run_cli("run", "--config", str(config), env={"PYTHONPATH": str(tmp_path / "site-hook")})
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert "BrokenPipeError" in done.stderr


def test_a_failed_check_whose_reader_left_exits_1_and_a_full_disk_is_one_line(tmp_path, site):
    """`digest check | grep -q FAIL` exited 0 once the reader left; stdout on a full disk
    ended a run's output with a traceback and lost its stderr lines."""
    site.overrides = {f"/{DEMO_FEEDS[0][1]}": respond(404, b"gone", "text/plain")}
    config = write_config(tmp_path, site.base_url, feeds=DEMO_FEEDS[:1])
    command = [sys.executable, "-m", "digest", "check", "--config", str(config)]
    pipes = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE}
    with subprocess.Popen(command, cwd=REPO, **pipes) as check:
        check.stdout.close()
        _, err = check.communicate(timeout=120)
    assert check.returncode == 1, err
    run = [sys.executable, "-m", "digest", "run", "--config", str(config)]
    with open("/dev/full", "w") as full:
        done = subprocess.run(run, cwd=REPO, stdout=full, stderr=subprocess.PIPE, timeout=120,
                              check=False, text=True)  # fmt: skip
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    assert "digest: cannot write to stdout: No space left on device" in done.stderr
    assert done.stderr.rstrip().endswith("digest: the feed failed"), done.stderr
    for command in (["status"], ["preview", "--json"], ["feeds", "list"]):
        with open("/dev/full", "w") as full:
            shown = subprocess.run(
                [sys.executable, "-m", "digest", *command, "--config", str(config)], cwd=REPO,
                stdout=full, stderr=subprocess.PIPE, timeout=120, check=False, text=True,
            )  # fmt: skip
        assert shown.returncode == 1 and "Traceback" not in shown.stderr, (command, shown.stderr)
        assert "cannot write to stdout: No space left on device" in shown.stderr


def test_a_run_whose_log_is_on_a_full_disk_still_delivers(tmp_path, site):
    """cron's `>> log 2>&1` on a full disk: the first stage line's ENOSPC failed the run
    before it delivered (a review). It goes on unheard and delivers; `digest status` has
    its outcome, and the exit code says its output was lost."""
    config = write_config(tmp_path, site.base_url, feeds=DEMO_FEEDS[:1])
    run = [sys.executable, "-m", "digest", "run", "--config", str(config)]
    with open("/dev/full", "w") as full:
        done = subprocess.run(run, cwd=REPO, stdout=full, stderr=full, timeout=120, check=False)
    assert done.returncode == 1
    assert [p.suffix for p in (tmp_path / "outbox").iterdir()].count(".eml") == 1
    assert " ok " in run_cli("status", "--config", str(config)).stdout


def test_the_shipped_demo_config_runs(tmp_path):
    demo = (REPO / "config" / "demo.yaml").read_text()
    demo = demo.replace("root: demo/sites", f"root: {DEMO_SITES}")
    demo = re.sub(r"storage: \S+", "storage: state/demo.db", demo)
    demo = re.sub(r"outbox: \S+", "outbox: outbox", demo)
    demo = re.sub(r"dir: \S+", "dir: archive", demo)
    config = tmp_path / "demo.yaml"
    config.write_text(demo)
    result = run_cli("run", "--config", str(config))
    assert result.returncode == 0, result.stderr
    assert problems(result.stderr) == [], result.stderr
    written = sorted(p.suffix for p in (tmp_path / "outbox").iterdir())
    assert written == [".eml", ".html", ".txt"]
    archived = sorted(p.name for p in (tmp_path / "archive").iterdir() if p.name != ".digests.lock")
    assert archived[-3:] == ["digests.json", "feed.atom", "index.html"] and len(archived) == 4


def test_the_demo_works_on_another_serve_port(tmp_path):
    """8765 taken (a shared machine): setting serve.port, as the error says, is enough."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        port = taken.getsockname()[1]
    demo = (REPO / "config" / "demo.yaml").read_text()
    assert "port: 8765" in demo
    demo = demo.replace("root: demo/sites", f"root: {DEMO_SITES}")
    demo = demo.replace("port: 8765", f"port: {port}")
    demo = re.sub(r"storage: \S+", "storage: state/demo.db", demo)
    demo = re.sub(r"outbox: \S+", "outbox: outbox", demo)
    demo = re.sub(r"dir: \S+", "dir: archive", demo)
    config = tmp_path / "demo.yaml"
    config.write_text(demo)
    # Before, the feeds still pointed at 8765 (refused, or another program's 404s).
    result = run_cli("preview", "--config", str(config), "--json")
    assert result.returncode == 0, result.stderr
    assert problems(result.stderr) == [], result.stderr
    items = json.loads(result.stdout)["items"]
    assert len(items) >= 10
    urls = [source["url"] for item in items for source in item["sources"]]
    assert all(url.startswith(f"http://127.0.0.1:{port}/") for url in urls), urls[:3]


def test_config_mistakes_are_one_line_with_file_and_line(tmp_path, site):
    config = write_config(tmp_path, site.base_url)
    text = config.read_text().replace("max_items: 30", "max_items: lots")
    config.write_text(text)
    result = run_cli("run", "--config", str(config))
    assert result.returncode == 1
    assert stderr_lines(result.stderr) == [
        f"digest: {config}:3: max_items: expected a whole number of at least 1, got 'lots'"
    ]


def test_check_reports_every_feed(tmp_path, site):
    site.overrides = {"/broken/error.xml": respond(500, b"oops", "text/plain")}
    feeds = [*DEMO_FEEDS[:2], ("Erroring", f"{site.base_url}/broken/error.xml", "World")]
    config = write_config(tmp_path, site.base_url, feeds=feeds)
    result = run_cli("check", "--config", str(config))
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[0].endswith("config is valid (3 feeds)")
    assert lines[1].startswith("ok   Techwire:") and "entries" in lines[1]
    assert lines[3].startswith("FAIL Erroring: HTTP 500")
    assert not (tmp_path / "state").exists(), "check must not write state"


def test_file_outbox_writes_a_complete_message(tmp_path, site):
    config = write_config(tmp_path, site.base_url)
    assert run_cli("run", "--config", str(config)).returncode == 0
    eml = next((tmp_path / "outbox").glob("*.eml"))
    message = message_from_bytes(eml.read_bytes(), policy=policy.default)
    assert message.get_content_type() == "multipart/alternative"
    assert message["Subject"].startswith("Test Brief")
    plain, rich = _parts(message)
    # The .eml keeps SMTP's CRLF line ends; the side files are plain files.
    side = eml.with_name(eml.name.split(".to-")[0])
    assert plain.replace("\r\n", "\n") == side.with_suffix(".txt").read_text()
    assert rich.replace("\r\n", "\n").rstrip() == side.with_suffix(".html").read_text().rstrip()


def test_a_recipients_file_gets_one_eml_per_reader_and_one_html_and_text(tmp_path, site):
    (tmp_path / "readers.txt").write_text(
        "# the list\nana@example.org\nBéa Müller <bea@example.org>\ncy@example.org\n",
        encoding="utf-8",
    )
    delivery = "delivery:\n  method: file\n  outbox: outbox\n  recipients_file: readers.txt\n"
    config = write_config(tmp_path, site.base_url, delivery=delivery, feeds=DEMO_FEEDS[:2])
    result = run_cli("run", "--config", str(config))
    assert result.returncode == 0, result.stderr
    outbox = tmp_path / "outbox"
    # Who and where, in the form the SMTP method uses too (not an .eml path).
    assert result.stdout.rstrip().endswith(
        f" to 3 recipients (ana@example.org, bea@example.org, cy@example.org) in {outbox}/"
    )
    shown = run_cli("status", "--config", str(config))
    assert "items to ana@example.org, Béa Müller <bea@example.org>, cy@example.org" in shown.stdout
    assert ".eml" not in shown.stdout
    assert len(list(outbox.glob("*.html"))) == 1 and len(list(outbox.glob("*.txt"))) == 1
    readers = set()
    for eml in outbox.glob("*.eml"):
        message = message_from_bytes(eml.read_bytes(), policy=policy.default)
        readers.add(message["To"])
        raw = eml.read_bytes()
        assert sum(address in raw for address in (b"ana@", b"bea@", b"cy@")) == 1
    assert readers == {"ana@example.org", "Béa Müller <bea@example.org>", "cy@example.org"}
