"""The `digest` command: a thin layer over the library API in digest.pipeline.

Each command parses its arguments, calls one library function and maps DigestError to one
line on stderr and exit code 1 (2 for usage errors, from argparse).

The commands that run a stage import digest.pipeline in their body: it pulls in every
stage's libraries (scipy, httpx, trafilatura), which `--help`, `status`, `feeds`,
`settings` and a config error would otherwise wait for.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import select
import signal
import stat
import sys
import tempfile
import threading
import webbrowser
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import Any
from urllib.parse import urlsplit

from ..config import Config, FeedConfig, feed_url, load_config, settings_help, storage_value
from ..errors import DeliveryError, DigestError
from ..mail import delivered_to
from ..models import Digest, RunReport, Source
from ..stopping import Stopped, stop
from ..stopping import reset as reset_stop
from ..text import plural
from ..version import code_identity
from ._problems import LoggedProblems, delivery_lines, logging_problems, problem_lines
from ._progress import (
    LINES,
    LOG_FORMATS,
    LineFormatter,
    StderrHandler,
    choose_format,
    items_and_follow_ups,
    watching,
)

log = logging.getLogger("digest")


def digest_json(digest: Digest | None, title: str) -> dict[str, Any]:
    """The stable JSON shape of `digest preview --json` (documented in docs/commands.md)."""
    if digest is None:
        return {"title": title, "created": None, "items": [], "follow_ups": []}
    return {
        "title": digest.title,
        "created": digest.created.isoformat(timespec="seconds"),
        "items": [
            {
                "headline": item.headline,
                "url": item.url,
                "summary": item.summary,
                "language": item.language,
                "section": item.section,
                "sources": [_source_json(source, articles=True) for source in item.sources],
                **({"why": list(item.why)} if len(item.sources) > 1 else {}),
                "first_reported": _source_json(item.first_reported or item.sources[0]),
            }
            for item in digest.items
        ],
        # Late reports on stories sent before, under the story as it was sent.
        "follow_ups": [
            {
                "story": {
                    "headline": follow_up.story.headline,
                    "url": follow_up.story.url,
                    "sent": follow_up.story.sent.isoformat(timespec="seconds"),
                },
                "sources": [_source_json(source, articles=True) for source in follow_up.sources],
            }
            for follow_up in digest.follow_ups
            if follow_up.sources
        ],
    }


def _source_json(source: Source, articles: bool = False) -> dict[str, Any]:
    """An outlet; with `articles`, its title and every article of it, the one above first."""
    published = source.published.isoformat(timespec="seconds")
    if not articles:
        return {"name": source.name, "url": source.url, "published": published}
    return {
        "name": source.name,
        "url": source.url,
        "title": source.title,
        "published": published,
        "articles": [
            {
                "url": piece.url,
                "title": piece.title,
                "published": piece.published.isoformat(timespec="seconds"),
            }
            for piece in source.articles
        ],
    }


def _print_problems(report: RunReport, logged: LoggedProblems | None = None) -> None:
    for line in problem_lines(report, logged.said if logged is not None else None):
        LINES.say(line)


def cmd_run(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    from .. import pipeline

    try:
        with logging_problems() as logged, watching(args.log_format, args.verbose):
            report = pipeline.run(config)
    except DeliveryError as error:
        if error.report is not None:  # the feeds' problems matter even when sending failed
            _print_problems(error.report, logged)
            if error.report.resent_to:  # what went out before the new digest failed
                where = delivered_to(error.report.resent_to, config.delivery)
                _out(f"{config.title}: sent the queued digest to {where}")
        raise
    _say_outcome(config, report, logged)
    return 1 if report.failure else 0


def _say_outcome(config: Config, report: RunReport, logged: LoggedProblems) -> None:
    """What `digest run` prints once the run is over (see cmd_run)."""
    _print_problems(report, logged)
    # Late reports on stories already sent are listed under those stories, not sent as
    # new ones: count them apart from the items.
    joined = report.articles_joined_delivered
    if report.resent_to:
        # What went out first, said first: "nothing new" and then "sent" read as a
        # contradiction, and beside a new digest the resent one went unsaid.
        where = delivered_to(report.resent_to, config.delivery)
        _out(f"{config.title}: sent the queued digest to {where}")
    if report.digest is None and report.failure and not report.refused:
        # Every feed failed: "nothing new" would read as a quiet news day.
        _out(f"{config.title}: nothing to deliver: {report.failure}")
    elif report.digest is None:
        failed = f", {len(report.feeds_failed)} failed" if report.feeds_failed else ""
        pooled = report.feeds_pooled
        read = f", {plural(pooled, 'feed')} read from the store's pool" if pooled else ""
        _out(
            f"{config.title}: nothing new to deliver ("
            f"{plural(report.articles_new, 'new article')} fetched, "
            f"{plural(report.feeds_not_modified, 'feed')} unchanged{read}{failed})"
        )
    else:
        where = "nobody yet (it waits in the outbox for the next run)"
        if report.delivered_to:
            where = delivered_to(report.delivered_to, config.delivery)
        sources = sum(len(item.sources) for item in report.digest.items)
        # "New" to the readers is not "fetched by this run": a preview (or a run whose
        # delivery failed) may have brought the articles in already.
        fetched = f"this run fetched {plural(report.articles_new, 'new article')}"
        if report.feeds_pooled:
            # A digest of a shared store reads feeds another digest fetched: new to this
            # digest, not fetched by this run (which may have made no request at all).
            pooled = plural(report.feeds_pooled, "feed")
            fetched = f"{plural(report.articles_new, 'article')} new to this digest, "
            fetched += f"{pooled} read from the store's pool"
        if report.articles_new == 0:
            fetched = "fetched earlier by a preview or run"
        elif report.articles_new < sources + joined:
            fetched += ", the rest were fetched earlier by a preview or run"
        shown = items_and_follow_ups(len(report.digest.items), joined, " on stories sent before")
        counts = f"{plural(sources, 'source')}; {fetched}" if report.digest.items else fetched
        _out(f"{config.title}: delivered {shown} ({counts}) to {where}")
    for line in delivery_lines(report):
        LINES.say(line)
    if report.failure and not report.refused:  # each refusal has its line above
        LINES.say(report.failure)


def cmd_preview(args: argparse.Namespace) -> int:
    config = load_config(args.config, delivering=False)
    from .. import pipeline

    with logging_problems() as logged, watching(args.log_format, args.verbose):
        report = pipeline.preview(config)
    _print_problems(report, logged)
    if args.json:
        _out(json.dumps(digest_json(report.digest, config.title), ensure_ascii=False, indent=2))
        return 0
    if report.digest is None:
        _out(f"{config.title}: nothing new to deliver")
        return 0
    rendered = pipeline.render_email(config, report.digest, preview=True)
    # Where max_items is tried out: Gmail's clipping is said here too, not only by the run
    # that sends the email.
    if clipped := pipeline.clipped_email_warning(config, report.digest, rendered):
        LINES.say(f"warning: {clipped}")
    if args.open:
        folder = Path(tempfile.mkdtemp(prefix="digest-preview-"))
        page = folder / "digest.html"
        page.write_text(rendered.html, encoding="utf-8")
        # webbrowser.open() says False when it found no browser (a headless server): say
        # so, and give the file to open by hand, rather than claim it opened.
        if not webbrowser.open(page.as_uri()):
            _out(page)
            LINES.say(f"no browser found to open the preview; open {page} yourself "
                      "(or copy it to a machine with one)")  # fmt: skip
            return 1
        _out(f"Opened {page} in a browser")
    else:
        _out(rendered.text)
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    from .. import pipeline

    count = len(config.feeds)
    _out(f"{args.config}: config is valid ({plural(count, 'feed')})")
    failures = 0
    for result in pipeline.check(config):
        # warn: read, but not all of it well (malformed XML); not a failure.
        mark = "FAIL" if not result.ok else "warn" if result.warning else "ok  "
        _out(f"{mark} {result.name}: {result.detail}  <{result.url}>")
        failures += not result.ok
    # Then what a run needs besides its feeds: delivery (an SMTP session up to the login,
    # no mail sent, within delivery.timeout; or the outbox folder), and the folders it
    # writes. One line each, the server or folder and the problem named.
    for setup in pipeline.check_setup(config):
        _out(f"{'ok  ' if setup.ok else 'FAIL'} {setup.name}: {setup.detail}")
        failures += not setup.ok
    return 1 if failures else 0


def cmd_extract(args: argparse.Namespace) -> int:
    from .. import pipeline

    status = 0
    for source in args.sources:
        try:
            page = pipeline.extract(source)
        except DigestError as error:
            LINES.say(str(error))
            status = 1
            continue
        if args.json:
            record = {
                "source": page.source,
                "url": page.url,
                "title": page.title,
                "author": page.author,
                "date": page.date.isoformat(timespec="seconds") if page.date else None,
                "language": page.language,
                "text": page.text,
                "removed": [{"reason": r.reason, "text": r.text} for r in page.removed],
            }
            _out(json.dumps(record, ensure_ascii=False))
        else:
            _out(f"Title:    {page.title or '-'}\nAuthor:   {page.author or '-'}")
            _out(f"Date:     {page.date.isoformat() if page.date else '-'}")
            _out(f"Language: {page.language or '-'}\nURL:      {page.url or '-'}\n")
            _out(page.text)
            if page.removed:
                _out("\nRemoved:")
                for block in page.removed:
                    _out(f"  [{block.reason}] {block.text[:100]}")
    return status


def cmd_schedule(args: argparse.Namespace) -> int:
    from ._schedule import serve

    # The daemon's own log (each run's start, outcome, duration) shows without -v.
    logging.getLogger("digest.schedule").setLevel(logging.INFO)
    return serve(Path(args.config))


def cmd_status(args: argparse.Namespace) -> int:
    from ._schedule import config_files
    from ._status import format_status, read_status, status_json

    path = Path(args.config)
    if not path.is_dir():
        status = read_status(load_config(path, delivering=False))
        _out(json.dumps(status_json(status), ensure_ascii=False, indent=2) if args.json
             else format_status(status))  # fmt: skip
        return 0
    # A folder, as `schedule` takes it: one config that cannot be read is said in one line
    # and the others are still shown.
    shown, failed = [], 0
    for file in config_files(path):
        try:
            shown.append(read_status(load_config(file, delivering=False)))
        except DigestError as error:
            # A config's own error names its file; its state's (a store it cannot open)
            # names the store, which several configs of the folder may share.
            message = str(error)
            LINES.say(message if message.startswith(str(file)) else f"{file}: {message}")
            failed = 1
    if args.json:
        _out(json.dumps([status_json(s) for s in shown], ensure_ascii=False, indent=2))
    elif shown:
        _out("\n\n".join(format_status(status) for status in shown))
    return failed


def cmd_feeds(args: argparse.Namespace) -> int:
    from ..feeds import add_feed, export_opml, import_opml, local_path, remove_feed

    # Feeds are what these commands edit: a config without any yet is one to add them to.
    config = load_config(args.config, feeds_optional=True, delivering=False)
    if args.action == "export":
        _out(export_opml(config).removesuffix("\n"))
        return 0
    if args.action == "list":
        _out(feed_table(config.feeds))
        return 0
    if args.action == "add":
        added = add_feed(config, args.url, args.name, args.section, args.auth_env)
        section = f" (section {added.section})" if added.section else ""
        _out(f"{args.config}: added {added.name}: {added.url}{section}; "
             "`digest check` tries it")  # fmt: skip
        url = feed_url(added.url, config.path)
        if urlsplit(url).scheme == "file" and not local_path(url).exists():
            # A path is read from the config's folder, not from where the command ran.
            LINES.say(f"warning: no such file {local_path(url)} (a feed's path is from the "
                      "config's folder)")  # fmt: skip
        return 0
    if args.action == "remove":
        removed = remove_feed(config, args.feed)
        _out(f"{args.config}: removed {removed.name}: {removed.url}")
        return 0
    result = import_opml(config, Path(args.opml), allow_private=args.allow_private)
    for line in result.skipped:
        _out(f"skipped {line}")
    for feed in result.added:
        section = f" (section {feed.section})" if feed.section else ""
        _out(f"added {feed.name}: {feed.url}{section}")
    _out(f"{args.config}: added {plural(len(result.added), 'feed')}, "
         f"skipped {len(result.skipped)}")  # fmt: skip
    return 0


def feed_options(feed: FeedConfig) -> list[str]:
    """A feed's settings that differ from the defaults, as key=value (secrets by name only)."""
    options = []
    if feed.weight != 1.0:
        options.append(f"weight={feed.weight:g}")
    if feed.max_items is not None:
        options.append(f"max_items={feed.max_items}")
    if feed.pages is not None:
        options.append(f"pages={'true' if feed.pages else 'false'}")
    if feed.pages_per_run is not None:
        options.append(f"pages_per_run={feed.pages_per_run}")
    if feed.auth_env:
        options.append(f"auth_env=${feed.auth_env}")
    if feed.headers_env:
        options.append(f"headers_env=${feed.headers_env}")
    for key, phrases in (("include", feed.include), ("exclude", feed.exclude)):
        if phrases:
            options.append(f"{key}=[{', '.join(phrases)}]")
    return options


def feed_table(feeds: Sequence[FeedConfig]) -> str:
    """`digest feeds list`: one row per feed, in config order, columns aligned."""
    rows = [("NAME", "URL", "SECTION", "OPTIONS")]
    rows += [(feed.name, feed.url, feed.section or "-", " ".join(feed_options(feed)) or "-")
             for feed in feeds]  # fmt: skip
    widths = [max(len(row[column]) for row in rows) for column in range(3)]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row[:3], widths, strict=True))
        + "  " + row[3]
        for row in rows
    )  # fmt: skip


def cmd_reactivate(args: argparse.Namespace) -> int:
    config = load_config(args.config, delivering=False)
    from .. import pipeline

    woken = pipeline.reactivate(config, args.feeds)
    if woken:
        _out(f"{config.title}: fetched again on the next run: {', '.join(woken)}")
    else:
        _out(f"{config.title}: no feed was deactivated or backing off")
    return 0


def cmd_copy_state(args: argparse.Namespace) -> int:
    from ..store import copy_state, shown

    config = load_config(args.config, delivering=False)
    target = storage_value(args.to, "--to")
    copied = copy_state(config.storage, target)
    counted = ", ".join(
        plural(copied.rows.get(table, 0), noun, nouns)
        for table, noun, nouns in (
            ("articles", "article", None),
            ("stories", "story", "stories"),
            ("digests", "digest made", "digests made"),
        )
    )
    rows = plural(sum(copied.rows.values()), "row")
    _out(f"copied {copied.source} into {copied.target}: {rows} ({counted})")
    _out(
        f"Now set `storage: {shown(target)}` in every config whose storage is "
        f"{shown(config.storage)}, then start the schedule again."
    )
    return 0


def cmd_settings(args: argparse.Namespace) -> int:
    _out(settings_help())
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="digest", description="Turn news feeds into an email digest, one item per event."
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log each step to stderr")
    parser.add_argument("--log-format", choices=LOG_FORMATS, default="auto", help=LOG_FORMAT_HELP)
    parser.add_argument("--version", action="version", version=f"digest {code_identity()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(
        name: str, handler: Any, help_text: str, config: bool | str = True
    ) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text)
        _verbose_here_too(sub)
        if config:
            sub.add_argument(
                "--config",
                "-c",
                required=True,
                metavar="FILE" if config is True else "FILE_OR_DIR",
                help="the digest's YAML config file" if config is True else config,
            )
        sub.set_defaults(handler=handler)
        return sub

    add("run", cmd_run, "Fetch, build, deliver and record one digest (what cron calls).")
    preview = add(
        "preview",
        cmd_preview,
        "Build the digest without delivering it or marking anything sent. It still records "
        "what a fetch learns: new articles (kept pending, so the next run sends them), "
        "feeds' ETags and failures, and a 'preview' line in `digest status`.",
    )
    preview.add_argument("--json", action="store_true", help="print the items as JSON")
    preview.add_argument("--open", action="store_true", help="open the HTML in a browser")
    add("check", cmd_check, "Validate the config and try every feed.")
    extract = add(
        "extract", cmd_extract, "Show what the pipeline keeps of article pages.", config=False
    )
    extract.add_argument(
        "sources", nargs="+", metavar="URL_OR_PATH", help="page URL, or .html / .html.gz file"
    )
    extract.add_argument("--json", action="store_true", help="one JSON object per line")
    add(
        "schedule",
        cmd_schedule,
        "Run digests at their schedule, in the foreground (what a systemd service runs).",
        config="a digest's YAML config, or a folder of *.yaml (or *.yml) configs",
    )
    status = add(
        "status",
        cmd_status,
        "Show the last runs, what each delivered, the next run and the failing feeds.",
        config="a digest's YAML config, or a folder of *.yaml (or *.yml) configs (each shown)",
    )
    status.add_argument(
        "--json", action="store_true", help="print the status as JSON (for a folder, a list)"
    )
    feeds = add("feeds", cmd_feeds, "List, add or remove the config's feeds; import or export "
                "OPML.", config=False)  # fmt: skip
    actions = feeds.add_subparsers(dest="action", required=True, metavar="ACTION")
    importing = actions.add_parser(
        "import",
        help="add an OPML file's feeds to the config (keeps comments and order)",
        description="Add an OPML file's feeds (a feed reader's export) to the config: appended "
        "to `feeds:`, comments and order kept, OPML folders as `section`, feeds already "
        "listed skipped.",
    )
    importing.add_argument("opml", metavar="FILE.opml", help="OPML file from a feed reader")
    importing.add_argument(
        "--allow-private",
        action="store_true",
        help="import feeds at loopback, private or link-local addresses too (skipped by "
        "default: a configured feed may reach the local network, so the file must not add "
        "one unseen)",
    )
    exporting = actions.add_parser(
        "export",
        help="print the config's feeds as OPML 2.0",
        description="Print the config's feeds as OPML 2.0 on stdout, sections as folders.",
    )
    listing = actions.add_parser(
        "list",
        help="print the config's feeds: name, URL, section, their own settings",
        description="Print the config's feeds, one line each: name, URL, section and the "
        "settings a feed sets for itself (secrets by their variable's name only).",
    )
    adding = actions.add_parser(
        "add",
        help="add a feed to the config (keeps comments and order)",
        description="Append a feed to the config's `feeds:`, every other line kept as it was. "
        "Refuses a URL the config would not take, or one already listed, or a name in use.",
    )
    adding.add_argument("url", metavar="URL", help="feed URL (or a path, relative to the config)")
    adding.add_argument("--name", help="name shown in the digest (default: the URL's host)")
    adding.add_argument("--section", help="section of the digest its items go in")
    adding.add_argument("--auth-env", metavar="VARIABLE",
                        help="environment variable holding the feed's user:password")  # fmt: skip
    removing = actions.add_parser(
        "remove",
        help="remove a feed from the config (keeps comments and order)",
        description="Take a feed, by name or URL, out of the config's `feeds:`, every other "
        "line kept as it was. Its stored articles stay in the state, unsent.",
    )
    removing.add_argument("feed", metavar="NAME_OR_URL", help="the feed's name or URL")
    for sub in (importing, exporting, listing, adding, removing):
        _verbose_here_too(sub)
        sub.add_argument("--config", "-c", required=True, metavar="FILE",
                         help="the digest's YAML config file")  # fmt: skip
    reactivate = add(
        "reactivate",
        cmd_reactivate,
        "Fetch feeds again on the next run although they answered 410 Gone or back off.",
    )
    reactivate.add_argument("feeds", nargs="*", metavar="NAME", help="feed names (default: all)")
    copying = add(
        "copy-state",
        cmd_copy_state,
        "Copy the config's state (every digest it holds) into an empty SQLite file or "
        "PostgreSQL database, before pointing `storage` at it: a digest on a new, empty "
        "store sends its whole window again. Stop the schedule first.",
    )
    copying.add_argument(
        "--to",
        required=True,
        metavar="STORAGE",
        help="postgresql://USER@HOST:PORT/DB (password from DIGEST_STORAGE_PASSWORD) or a "
        "SQLite file's path",
    )
    add("settings", cmd_settings, "List every config key with its default.", config=False)
    return parser


def _stop_on_sigterm(signum: int, frame: FrameType | None) -> None:
    # Now, or once a message the SMTP server is taking has its reply recorded.
    stop(f"stopped by {signal.Signals(signum).name}")


LOG_FORMAT_HELP = (
    "how stderr shows a run: a live display of its stages (terminal), or lines dated in UTC "
    "(timestamped), or the same undated (plain); auto (default): terminal on a terminal, "
    "plain to the systemd journal, timestamped otherwise (cron, a file)"
)


def _verbose_here_too(sub: argparse.ArgumentParser) -> None:
    """`digest run -v` as well as `digest -v run`; SUPPRESS keeps a -v given before. The
    same for --log-format."""
    sub.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS,
                     help="log each step to stderr")  # fmt: skip
    sub.add_argument("--log-format", choices=LOG_FORMATS, default=argparse.SUPPRESS,
                     help=LOG_FORMAT_HELP)  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    args.log_format = choose_format(args.log_format)
    _configure_logging(args.verbose, args.log_format)
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, _stop_on_sigterm)  # `schedule` has its own
    STDOUT.failed = False
    reset_stop()  # a stop left from an earlier call in this process (tests, scripts)
    try:
        code = args.handler(args)
        return max(code, 1) if STDOUT.failed else code
    except DigestError as error:
        LINES.say(str(error))
        return 1
    except Stopped as error:
        LINES.say(str(error))
        return 128 + signal.SIGTERM
    except KeyboardInterrupt:
        LINES.say("interrupted")
        return 130
    except BrokenPipeError:
        if not _reader_left():
            # A pipe of the run's own (a worker's, a helper process's): a failure, which
            # must not pass for a reader that left (exit 0, nothing said, nothing sent).
            raise
        # `digest preview | head`: the reader left; say nothing more on a closed pipe.
        _stdout_gone()
        return 0
    finally:
        if previous is not None:  # main() called in a longer-lived process (tests, scripts)
            signal.signal(signal.SIGTERM, previous)


class _Stdout:
    """Whether this call of main() could not write its stdout (a full disk), which fails
    the command: a reader that left (`| head -1`) does not."""

    failed = False


STDOUT = _Stdout()


def _out(line: str) -> None:
    """A line on stdout; when its reader has left (`digest run | head -1`), the run is
    done all the same: the lines after it and the exit code stand. When it cannot be
    written (a file on a full disk), that is said once on stderr and the command fails."""
    try:
        print(line, flush=True)
    except BrokenPipeError:
        _stdout_gone()
    except OSError as error:
        if not STDOUT.failed:
            LINES.say(f"cannot write to stdout: {error.strerror or error}")
        STDOUT.failed = True
        _stdout_gone()


def _reader_left() -> bool:
    """Whether stdout is a pipe or socket whose reader has closed it (poll says POLLERR or
    POLLHUP for its writing end)."""
    try:
        descriptor = sys.stdout.fileno()
        mode = os.fstat(descriptor).st_mode
        if not (stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)):
            return False
        poller = select.poll()
        poller.register(descriptor, select.POLLOUT)
        return any(events & (select.POLLERR | select.POLLHUP) for _, events in poller.poll(0))
    except (OSError, ValueError, AttributeError):  # no stdout, or one without a descriptor
        return False


def _stdout_gone() -> None:
    """Stdout's reader has left: what is still buffered for it goes nowhere, and Python's
    exit does not fail on flushing it (which would make the exit code 120)."""
    with contextlib.suppress(OSError, ValueError):
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def _configure_logging(verbose: bool, log_format: str) -> None:
    """Our own log on stderr; the libraries' chatter (trafilatura, httpx) only with -v.
    Every line in the form `log_format` says (dated in "timestamped")."""
    LINES.timestamped = log_format == "timestamped"
    LINES.reader_gone = False  # main() called again in one process, with a stderr that works
    handler = StderrHandler()
    handler.setFormatter(LineFormatter())
    own = logging.getLogger("digest")
    for old in [h for h in own.handlers if isinstance(h, StderrHandler)]:
        own.removeHandler(old)  # main() called again in one process (tests, scripts)
    own.addHandler(handler)
    # Without -v, warnings still show: what a run recovered from (a Dask scheduler gone, an
    # alert not sent, a filesystem without locks) is for the operator's cron or journal
    # log. The feeds' and pages' problems are logged at INFO: the run prints them once.
    own.setLevel(logging.INFO if verbose else logging.WARNING)
    own.propagate = False
    if verbose:
        chatter = StderrHandler()
        chatter.setFormatter(LineFormatter(named=True))
        logging.basicConfig(level=logging.WARNING, handlers=[chatter])
    else:
        logging.getLogger().addHandler(logging.NullHandler())
        for noisy in ("trafilatura", "htmldate", "courlan", "justext", "httpx", "httpcore"):
            logging.getLogger(noisy).setLevel(logging.CRITICAL)


if __name__ == "__main__":
    sys.exit(main())
