"""A failing feed as the operator sees it over runs: when it is tried again, what the run
says about a feed it left alone, and which feeds `digest status` and the alerts list.
Written against the mutants bench/mutation.sh found alive in digest/feeds/_health.py and
digest/store/_feed_health.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from digest.feeds._health import failing_for, next_attempt, waiting_reason
from digest.models import FeedState

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def state(failures: int = 0, last_attempt: datetime | None = None, **kwargs) -> FeedState:
    return FeedState(None, None, failures, kwargs.pop("failing_since", None),
                     last_attempt=last_attempt, **kwargs)  # fmt: skip


def test_a_feed_that_failed_for_the_first_time_is_tried_on_the_next_run():
    assert next_attempt(state(0, NOW - HOUR), NOW, None) is None


@pytest.mark.parametrize(
    ("gap", "wait"),
    [
        (HOUR, 2 * HOUR * 0.9),  # twice the gap since the previous attempt, less 10% slack
        (3 * HOUR, 6 * HOUR * 0.9),
        (20 * HOUR, timedelta(days=1) * 0.9),  # capped at a day
        (30 * HOUR, 30 * HOUR * 0.9),  # a gap already over a day is kept, not doubled
    ],
)
def test_a_feed_failing_again_waits_twice_its_last_gap_up_to_a_day(gap, wait):
    assert next_attempt(state(1, NOW - gap), NOW, None) == NOW + wait


def test_a_clock_gone_backwards_does_not_make_the_wait_negative():
    assert next_attempt(state(2, NOW + HOUR), NOW, None) is None


def test_retry_after_is_kept_when_longer_than_the_backoff_and_ignored_when_shorter():
    assert next_attempt(state(0, NOW - HOUR), NOW, 120) == NOW + timedelta(seconds=120)
    assert next_attempt(state(1, NOW - HOUR), NOW, 60) == NOW + 2 * HOUR * 0.9
    assert next_attempt(state(1, NOW - HOUR), NOW, 3 * 3600) == NOW + 3 * HOUR


def test_a_gone_feed_says_since_when_and_how_to_bring_it_back():
    gone = state(3, gone_since=datetime(2026, 11, 20, 6, 5, tzinfo=UTC))
    assert waiting_reason(gone, NOW, "/srv/brief.yaml") == (
        "not fetched: gone (HTTP 410) since 2026-11-20 06:05 UTC; change its url or run "
        "`digest reactivate --config /srv/brief.yaml` to fetch it again"
    )


def test_a_feed_in_backoff_says_until_when_since_when_and_its_last_error():
    waiting = state(
        3, failing_since="2026-11-20T06:00:00+00:00", next_attempt=NOW + HOUR,
        last_error="HTTP 500 Internal Server Error",
    )  # fmt: skip
    assert waiting_reason(waiting, NOW, "brief.yaml") == (
        "not fetched until 2026-11-23 10:00:00 UTC (failing since 2026-11-20 06:00 UTC, "
        "3 failed attempts in a row; last error: HTTP 500 Internal Server Error)"
    )
    unknown_start = state(1, next_attempt=NOW + HOUR, last_error="timed out")
    assert waiting_reason(unknown_start, NOW, "brief.yaml") == (
        "not fetched until 2026-11-23 10:00:00 UTC (1 failed attempt in a row; last error: "
        "timed out)"
    )


def test_a_back_off_ending_within_the_minute_says_its_second():
    soon = state(1, next_attempt=NOW + timedelta(seconds=9), last_error="timed out")
    assert waiting_reason(soon, NOW, "brief.yaml").startswith(
        "not fetched until 2026-11-23 09:00:09 UTC ("
    )


def test_a_feed_is_due_at_its_next_attempt_and_after():
    due = state(2, next_attempt=NOW, last_error="x")
    assert waiting_reason(due, NOW, "brief.yaml") is None
    assert waiting_reason(state(2), NOW, "brief.yaml") is None


def test_failing_for_reads_the_stored_time_to_the_minute():
    assert failing_for("2026-11-20T06:07:59.123+00:00", 1) == (
        "failing since 2026-11-20 06:07 UTC, 1 failed attempt in a row"
    )


# -- what the state records: `digest status`, alerts, `digest reactivate` ---------------------


@pytest.fixture
def store(tmp_path):
    from digest.store import Store

    opened = Store.open(tmp_path / "state" / "digest.db")
    yield opened
    opened.close()


def test_failing_feeds_are_listed_longest_failing_first_with_what_went_wrong(store):
    store.feed_succeeded("https://ok.example/f", "Fine", 200, None, None, NOW - 3 * HOUR)
    store.feed_failed("https://b.example/f", "Broken", "HTTP 500", 500, NOW - HOUR, NOW + HOUR)
    store.feed_failed("https://a.example/f", "Gone", "HTTP 410 Gone", 410, NOW - 2 * HOUR,
                      gone=True)  # fmt: skip
    store.feed_failed("https://b.example/f", "Broken", "timed out", None, NOW, NOW + 2 * HOUR)
    store.feed_moved("https://b.example/f", "https://b.example/new")
    failing = store.failing_feeds()
    assert [(f.url, f.name, f.failures) for f in failing] == [
        ("https://a.example/f", "Gone", 1),
        ("https://b.example/f", "Broken", 2),
    ]
    gone, broken = failing
    assert (gone.last_error, gone.last_status, gone.gone_since) == ("HTTP 410 Gone", 410,
                                                                    NOW - 2 * HOUR)  # fmt: skip
    assert (broken.failing_since, broken.last_attempt, broken.next_attempt) == (
        NOW - HOUR, NOW, NOW + 2 * HOUR,
    )  # fmt: skip
    assert (broken.last_error, broken.last_status, broken.gone_since) == ("timed out", None, None)
    assert (broken.moved_to, broken.alerted) == ("https://b.example/new", None)
    assert [f.url for f in store.failing_feeds(["https://b.example/f"])] == ["https://b.example/f"]
    assert store.failing_feeds([]) == []


def test_an_alert_is_recorded_for_the_feeds_it_named_only(store):
    for url in ("https://a.example/f", "https://b.example/f"):
        store.feed_failed(url, url, "HTTP 500", 500, NOW - HOUR)
    store.mark_alerted(["https://a.example/f"], NOW)
    alerted = {f.url: f.alerted for f in store.failing_feeds()}
    assert alerted == {"https://a.example/f": NOW, "https://b.example/f": None}


def test_reactivate_wakes_gone_and_waiting_feeds_only_and_they_are_due_at_once(store):
    store.feed_failed("https://gone.example/f", "Gone", "HTTP 410", 410, NOW, gone=True)
    store.feed_failed("https://wait.example/f", "Wait", "HTTP 503", 503, NOW, NOW + HOUR)
    store.feed_failed("https://due.example/f", "Due", "HTTP 500", 500, NOW)
    woken = store.reactivate_feeds(
        ["https://gone.example/f", "https://wait.example/f", "https://due.example/f",
         "https://never.example/f"]
    )  # fmt: skip
    assert woken == ["https://gone.example/f", "https://wait.example/f"]
    for url in woken:
        after = store.feed_state(url)
        assert (after.gone_since, after.next_attempt, after.failures) == (None, None, 0)
        assert waiting_reason(after, NOW, "brief.yaml") is None


def test_a_feed_moved_back_is_fetched_at_its_configured_url_again(store):
    store.feed_failed("https://a.example/f", "A", "HTTP 500", 500, NOW)
    store.feed_moved("https://a.example/f", "https://a.example/new")
    assert store.feed_state("https://a.example/f").moved_to == "https://a.example/new"
    store.feed_moved("https://a.example/f", None)
    assert store.feed_state("https://a.example/f").moved_to is None
