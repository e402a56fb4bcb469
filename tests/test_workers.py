"""Page extraction in worker processes: the same result as in-process, fed as pages arrive."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime, timedelta

from conftest import DEMO_SITES, respond, run_cli, write_config

import digest
from digest.crash_points import CRASH_VARIABLE
from digest.pages._clean import (
    LanguageDetector,
    SiteMemory,
    block_fingerprints,
    clean_page,
    decide,
    fingerprints,
    repeated_blocks,
)
from digest.pages._extract import extract_page
from digest.pipeline._pool import PagePool, process_page
from digest.store._state import Store

PAGES = sorted(DEMO_SITES.glob("*/articles/*.html"))[:6]


def _url(path) -> str:
    return "http://127.0.0.1:8765/" + path.relative_to(DEMO_SITES).as_posix()


def test_process_page_is_extract_then_clean():
    path = PAGES[0]
    work = process_page(path.read_bytes(), _url(path))
    page = extract_page(path.read_bytes(), _url(path))
    expected = clean_page(page, LanguageDetector())
    assert work.skipped is None and work.page == page and work.cleaned == expected
    assert work.cpu > 0


def test_a_bad_page_is_a_reason_not_an_exception():
    work = process_page(b"   ", "http://127.0.0.1/empty")
    assert work.page is None and work.skipped.reason == "the page is empty"


def test_a_page_kept_compressed_is_decoded_by_its_worker_within_the_limit():
    path = PAGES[0]
    raw = path.read_bytes()
    sent = process_page(gzip.compress(raw), _url(path), "gzip", 10 * len(raw))
    assert sent.skipped is None and sent.cleaned == process_page(raw, _url(path)).cleaned
    bomb = gzip.compress(bytes(50 * 1024 * 1024), compresslevel=9)  # 50 MB of zeros
    work = process_page(bomb, _url(path), "gzip", 1024 * 1024)
    assert work.page is None
    assert work.skipped.reason == "decompressed body exceeds the 1,048,576 byte limit"
    broken = process_page(b"not gzip at all", _url(path), "gzip", 1024 * 1024)
    assert broken.skipped.reason.startswith("bad content encoding")


def test_worker_processes_give_what_the_run_would_give_in_process():
    inline: dict[str, object] = {}
    with PagePool[str](0) as pool:
        for path in PAGES:
            pool.submit(path.name, path.read_bytes(), _url(path))
        inline = {key: work.cleaned for key, work in pool.drain()}
    with PagePool[str](2) as pool:
        for path in PAGES:
            pool.submit(path.name, path.read_bytes(), _url(path))
        pooled = dict(pool.finished())
        pooled.update(pool.drain())
    assert {key: work.cleaned for key, work in pooled.items()} == inline
    assert all(work.cpu > 0 for work in pooled.values())


def test_a_page_decided_again_from_its_scores_is_the_page_cleaned_with_its_site():
    detector = LanguageDetector()
    changed = []
    for path in PAGES:
        work = process_page(path.read_bytes(), _url(path))
        assert work.page is not None and work.scored is not None
        assert work.prints == block_fingerprints(work.page.blocks)
        # A site that repeats the page's first and last blocks (a kicker and a footer).
        repeated = [work.page.blocks[0], work.page.blocks[-1]]
        site = SiteMemory({fp: 1 for block in repeated for fp in fingerprints(block.text)})
        again = decide(work.scored, repeated_blocks(work.prints, site))
        assert again == clean_page(work.page, detector, site)
        assert not {block.text for block in repeated} & {block.text for block in again.kept}
        changed.append(again != work.cleaned)
    assert any(changed)  # the memory mattered: some page lost a block its worker kept


def test_a_run_with_worker_processes_and_a_rerun_that_skips_clustering(tmp_path, site):
    config = digest.load_config(write_config(tmp_path, site.base_url, extra="workers: 2\n"))
    cold = digest.run(config)
    stages = {stage.stage: stage for stage in cold.stages}
    assert cold.digest is not None and cold.articles_new >= 27
    assert stages["pages"].items == cold.articles_new and stages["pages"].workers_cpu > 0
    assert stages["feeds"].workers_cpu > 0  # the feeds were parsed in the same workers
    assert {"feeds", "pages", "clean", "store", "cluster", "rank", "render", "deliver"} <= set(
        stages
    )
    again = digest.run(config)
    assert again.digest is None and again.feeds_not_modified == 8
    assert [stage.stage for stage in again.stages] == ["feeds", "store"]


def test_a_page_that_inflates_past_the_limit_costs_that_page_only(tmp_path, site):
    # Pages travel to the workers as the server compressed them: the limit on the decoded
    # page holds there, and the run tells which page and why.
    bomb = gzip.compress(bytes(30 * 1024 * 1024), compresslevel=9)
    send_bomb = respond(200, bomb, "text/html", Content_Encoding="gzip")
    site.overrides = {"/techwire/articles/ipad-pro-m5-launch.html": send_bomb}
    extra = "  max_bytes: 2MB\nworkers: 2\n"  # under fetch:, which write_config opens
    config = digest.load_config(write_config(tmp_path, site.base_url, extra=extra))
    report = digest.run(config)
    assert report.digest is not None
    [skipped] = [s for s in report.skipped if s.stage == "page"]
    assert skipped.target.endswith("/techwire/articles/ipad-pro-m5-launch.html")
    assert skipped.reason == "decompressed body exceeds the 2,097,152 byte limit"


def test_a_page_that_is_not_html_keeps_the_feeds_text_and_says_what_it_is(tmp_path, site):
    pdf = b"%PDF-1.7\n" + bytes(range(256)) * 40
    send_pdf = respond(200, pdf, "application/pdf")
    site.overrides = {"/techwire/articles/ipad-pro-m5-launch.html": send_pdf}
    config = digest.load_config(write_config(tmp_path, site.base_url, extra="workers: 0\n"))
    report = digest.run(config)
    assert report.digest is not None
    [skipped] = [s for s in report.skipped if s.stage == "page"]
    assert skipped.target.endswith("/techwire/articles/ipad-pro-m5-launch.html")
    assert skipped.reason == "the page is application/pdf, not HTML"
    extracted = run_cli("extract", f"{site.base_url}/techwire/articles/ipad-pro-m5-launch.html")
    assert extracted.returncode != 0
    assert extracted.stderr.strip().endswith(": the page is application/pdf, not HTML")
    assert extracted.stderr.count("ipad-pro-m5-launch.html") == 1
    # A type that is not a well-formed name is the server's bytes: not repeated, and the
    # page is tried as HTML (here it is binary).
    site.overrides = {"/techwire/articles/ipad-pro-m5-launch.html": respond(
        200, pdf, "application/\x9b31mpdf\x1bX")}  # fmt: skip
    odd = run_cli("extract", f"{site.base_url}/techwire/articles/ipad-pro-m5-launch.html")
    assert odd.stderr.strip().endswith(": the page is binary, not HTML"), odd.stderr
    assert "\x9b" not in odd.stderr and "\x1b" not in odd.stderr
    # Given to the extractor all the same (`digest extract` on a file), the reason is its own.
    assert process_page(pdf, "http://127.0.0.1/a.pdf").skipped.reason == (
        "the page is binary, not HTML"
    )
    assert process_page(b"\x7fELF" + b"x" * 60, "http://127.0.0.1/e").skipped.reason == (
        "the page is not HTML"
    )


def test_pending_articles_after_a_failed_delivery_are_not_skipped(tmp_path, site):
    config = digest.load_config(write_config(tmp_path, site.base_url, extra="workers: 0\n"))
    preview = digest.preview(config)  # stores pending articles, delivers nothing
    assert preview.digest is not None
    store = Store.open(config.storage)
    assert store.pending_since_last_digest()
    digest_id, _ = store.stage_digest("S", [], [], None, datetime.now(UTC))
    assert not store.pending_since_last_digest()  # a digest being sent weighed them all
    assert store.cancel_digest(digest_id, "no server took it", datetime.now(UTC))
    assert store.pending_since_last_digest()  # a failed digest weighed nothing for good
    store.close()
    sent = digest.run(config, now=datetime.now(UTC) + timedelta(minutes=1))
    assert sent.digest is not None and sent.articles_new == 0
    store = Store.open(config.storage)
    assert not store.pending_since_last_digest()
    store.close()


def test_a_feed_worker_that_dies_costs_no_feed(tmp_path, site):
    # The worker parsing the first feed is killed: every feed is parsed in the run's own
    # process instead, and the pages still go to worker processes.
    config = write_config(tmp_path, site.base_url, extra="workers: 2\n")
    result = run_cli("-v", "run", "--config", str(config), env={CRASH_VARIABLE: "feed-worker"})
    assert result.returncode == 0, result.stderr
    assert "feed workers failed" in result.stderr
    assert "delivered 15 items" in result.stdout + result.stderr, result.stdout
