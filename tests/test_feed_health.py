"""A feed that keeps failing over runs: backoff, 410 Gone, 429 Retry-After, 301, alerts.

Runs go through the library API with an explicit `now`, so that hours pass in milliseconds;
the feeds are real HTTP on loopback and the state a real SQLite file.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from conftest import DEMO_FEEDS, respond, run_cli, write_config

import digest
from digest.store._state import Store

HOUR = timedelta(hours=1)


def _requests(site, path: str) -> int:
    return sum(1 for _, requested, _ in site.requests if requested == path)


def _config(tmp_path: Path, site, feeds, extra: str = "") -> Path:
    return write_config(tmp_path, site.base_url, feeds=[DEMO_FEEDS[0], *feeds], extra=extra)


def _reasons(report, name: str) -> list[str]:
    return [s.reason for s in report.skipped if s.feed == name and s.stage == "feed"]


def test_410_deactivates_the_feed_until_reactivated_or_its_url_changes(tmp_path, site, load):
    feed_file = (Path(__file__).parent / "fixtures" / "hostile" / "no-dates.xml").read_bytes()
    site.overrides = {"/gone.xml": respond(410, b"gone")}
    path = _config(tmp_path, site, [("Gone", f"{site.base_url}/gone.xml", "World")])
    config = load(path)
    t0 = datetime.now(UTC)
    first = digest.run(config, now=t0)
    assert "HTTP 410 Gone; feed deactivated" in _reasons(first, "Gone")[0]
    second = digest.run(config, now=t0 + HOUR)
    assert _reasons(second, "Gone")[0].startswith("not fetched: gone (HTTP 410) since")
    assert f"digest reactivate --config {path}" in _reasons(second, "Gone")[0]
    assert _requests(site, "/gone.xml") == 1  # skipped on later runs: no request at all

    woken = run_cli("reactivate", "--config", str(path), "Gone")
    assert woken.returncode == 0 and "fetched again on the next run: Gone" in woken.stdout
    site.overrides = {"/gone.xml": respond(200, feed_file, "application/rss+xml")}
    third = digest.run(config, now=t0 + 2 * HOUR)
    assert _reasons(third, "Gone") == [] and _requests(site, "/gone.xml") == 2

    site.overrides = {"/gone.xml": respond(410, b"gone"), "/new.xml": respond(410, b"gone")}
    digest.run(config, now=t0 + 3 * HOUR)
    moved = load(_config(tmp_path, site, [("Gone", f"{site.base_url}/new.xml", "World")]))
    digest.run(moved, now=t0 + 4 * HOUR)  # the operator changed its url: fetched again
    assert _requests(site, "/gone.xml") == 3 and _requests(site, "/new.xml") == 1


def test_429_is_not_fetched_again_before_retry_after(tmp_path, site, load):
    def too_many(request):
        request.send_response(429)
        request.send_header("Retry-After", "7200")
        request.send_header("Content-Length", "0")
        request.end_headers()

    site.overrides = {"/busy.xml": too_many}
    config = load(_config(tmp_path, site, [("Busy", f"{site.base_url}/busy.xml", "World")]))
    t0 = datetime.now(UTC)
    first = digest.run(config, now=t0)
    assert (
        "HTTP 429 Too Many Requests (Retry-After: 7200s); next attempt after"
        in (_reasons(first, "Busy")[0])
    )
    later = digest.run(config, now=t0 + HOUR)
    assert _reasons(later, "Busy")[0].startswith("not fetched until")
    assert _requests(site, "/busy.xml") == 1
    digest.run(config, now=t0 + 2 * HOUR + timedelta(minutes=1))
    assert _requests(site, "/busy.xml") == 2


def test_a_permanent_redirect_is_kept_and_reported(tmp_path, site, load):
    def moved(request):
        request.send_response(301)
        request.send_header("Location", "/techwire/feed.xml")
        request.send_header("Content-Length", "0")
        request.end_headers()

    site.overrides = {"/old-feed.xml": moved}
    feeds = [("Techwire", f"{site.base_url}/old-feed.xml", "Technology")]
    path = write_config(tmp_path, site.base_url, feeds=feeds)
    config = load(path)
    t0 = datetime.now(UTC)
    first = digest.run(config, now=t0)
    assert any(
        f"moved permanently to {site.base_url}/techwire/feed.xml; fetched there from now on" in w
        for w in first.warnings
    )
    assert first.digest is not None
    second = digest.run(config, now=t0 + HOUR)
    assert second.warnings == [] and second.feeds_not_modified == 1
    assert _requests(site, "/old-feed.xml") == 1  # later runs go straight to the new URL
    assert _requests(site, "/techwire/feed.xml") == 2


def test_a_failing_feed_backs_off_and_alerts_once_per_episode(tmp_path, site, load):
    site.overrides = {"/flaky.xml": respond(500, b"oops")}
    extra = "alerts:\n  to: ops@example.org\n  after: 2h\n"
    config = load(_config(tmp_path, site, [("Flaky", f"{site.base_url}/flaky.xml", "World")],
                          extra=extra))  # fmt: skip
    outbox = tmp_path / "outbox"

    def alerts() -> list[str]:
        return sorted(p.read_text() for p in outbox.glob("*digest-alert*.txt"))

    t0 = datetime.now(UTC).replace(microsecond=0)
    digest.run(config, now=t0)  # failure 1: tried again on the next run
    second = digest.run(config, now=t0 + HOUR)  # failure 2: waits twice the gap (~2h)
    assert "next attempt after" in _reasons(second, "Flaky")[0]
    assert "(failing since" in _reasons(second, "Flaky")[0]
    third = digest.run(config, now=t0 + 2 * HOUR)
    assert _reasons(third, "Flaky")[0].startswith("not fetched until")
    assert "2 failed attempts in a row; last error: HTTP 500" in _reasons(third, "Flaky")[0]
    assert _requests(site, "/flaky.xml") == 2  # the third run left it alone

    store = Store.open(config.storage)
    try:
        (health,) = store.failing_feeds([feed.url for feed in config.feeds])
    finally:
        store.close()
    assert (health.name, health.failures, health.failing_since) == ("Flaky", 2, t0)
    assert health.last_error == "HTTP 500 Internal Server Error" and health.next_attempt

    assert len(alerts()) == 1  # failing for 2h at the third run: one alert
    assert "Flaky <" in alerts()[0] and "failing since" in alerts()[0]
    # Not a message of the digest's list: a reader's rule filing the digest by its List-Id
    # must not take the operator's alert with it (a review).
    (alert,) = outbox.glob("*digest-alert*.eml")
    digests = [p for p in outbox.glob("*.eml") if "digest-alert" not in p.name]
    assert "List-Id:" not in alert.read_text() and "List-Id:" in digests[0].read_text()
    # As the config wrote it, not Python's "2:00:00".
    assert "have been failing for 2h or more:" in alerts()[0]
    assert any(w.startswith("alert sent to ops@example.org: failing for 2h or more: Flaky")
               for w in third.warnings), third.warnings  # fmt: skip
    digest.run(config, now=t0 + 3 * HOUR)  # tried (failure 3), no second alert
    assert _requests(site, "/flaky.xml") == 3 and len(alerts()) == 1

    # The feed comes back: the episode ends.
    site.overrides = {"/flaky.xml": lambda r: site._serve_file(r, "/techwire/feed.xml")}
    healed = digest.run(config, now=t0 + 10 * HOUR)
    assert _reasons(healed, "Flaky") == []
    site.overrides = {"/flaky.xml": respond(500, b"oops")}
    for hours in (11, 14):
        digest.run(config, now=t0 + hours * HOUR)
    assert len(alerts()) == 2  # a new episode, a new alert
