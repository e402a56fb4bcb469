"""Page bodies travel to the page workers as the server compressed them (gzip, deflate):
every spelling a hostile server may send, the caps on compressed and decoded bytes, and one
line naming each bad page, in the run's process, a local pool and a Dask cluster. Servers on
127.0.0.1 only."""

from __future__ import annotations

import gzip
import os
import sqlite3
import time
import tracemalloc
import zlib
from collections.abc import Iterator

import pytest
from conftest import DEMO_BASE, DEMO_SITES, write_config
from sites import LocalSite

import digest
from digest.config._loader import FetchSettings
from digest.errors import FetchError
from digest.feeds import decode_body
from digest.feeds._fetch import Fetcher, FetchRequest
from digest.pipeline import _dask
from digest.pipeline._pool import PagePool, process_page, process_pages, unpack_pages

PAGE = (DEMO_SITES / "bytebeat" / "articles" / "openssl-bug-what-to-do.html").read_bytes()


def _raw_deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush()


def raw_answer(body: bytes, *headers: str, chunked: bool = False, length: int | None = None):
    """A route that writes its HTTP/1.1 response itself: headers exactly as given, the body
    chunked, or with a Content-Length that may lie (`length`)."""

    def handler(request):
        head = ["HTTP/1.1 200 OK", "Content-Type: text/html; charset=utf-8", "Connection: close"]
        head += headers
        if chunked:
            head.append("Transfer-Encoding: chunked")
            parts = [body[i : i + 1000] for i in range(0, len(body), 1000)]
            payload = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in parts) + b"0\r\n\r\n"
        else:
            head.append(f"Content-Length: {len(body) if length is None else length}")
            payload = body
        request.close_connection = True
        request.wfile.write(("\r\n".join(head) + "\r\n\r\n").encode() + payload)

    return handler


@pytest.fixture(scope="module")
def one_site() -> Iterator[LocalSite]:
    server = LocalSite(DEMO_SITES, port=0)
    server.rewrite = {DEMO_BASE: server.base_url}
    with server:
        yield server


@pytest.fixture
def site(one_site: LocalSite) -> LocalSite:
    one_site.overrides, one_site.requests = {}, []
    return one_site


@pytest.fixture
def fetcher() -> Iterator[Fetcher]:
    with Fetcher(FetchSettings(timeout=2.0, max_bytes=200_000, user_agent="t/1")) as f:
        yield f


# -- the fetcher keeps, the worker decodes --------------------------------------------


@pytest.mark.parametrize(
    ("header", "body", "chunked"),
    [
        ("GZIP", gzip.compress(PAGE), True),
        ("x-gzip", gzip.compress(PAGE), False),
        (" Deflate ", zlib.compress(PAGE), True),
        ("deflate", _raw_deflate(PAGE), False),  # deflate without its zlib header
    ],
    # Named, not by the bodies: a gzip body holds the second it was made, and xdist's
    # workers, collecting a second apart, refused the run as "different tests collected".
    ids=["GZIP-chunked", "x-gzip", "Deflate-chunked", "raw-deflate"],
)
def test_every_spelling_is_kept_once_and_decodes_to_what_the_fetcher_decodes(
    site, fetcher, header, body, chunked
):
    site.overrides = {"/p.html": raw_answer(body, f"Content-Encoding: {header}", chunked=chunked)}
    url = f"{site.base_url}/p.html"
    kept = fetcher.fetch(FetchRequest(url, keep_encoding=True))
    assert kept.content_encoding == header.strip().lower() and kept.body == body
    assert decode_body(url, kept.body, kept.content_encoding, 200_000) == PAGE
    assert fetcher.fetch(FetchRequest(url)).body == PAGE


@pytest.mark.parametrize("header", ["gzip, gzip", "br", "gzip, identity"])
def test_stacked_or_unknown_encodings_fail_in_the_fetch_in_one_line(site, fetcher, header):
    site.overrides = {"/p.html": raw_answer(gzip.compress(gzip.compress(PAGE)),
                                            f"Content-Encoding: {header}")}  # fmt: skip
    url = f"{site.base_url}/p.html"
    with pytest.raises(FetchError) as caught:
        fetcher.fetch(FetchRequest(url, keep_encoding=True))
    assert caught.value.reason == f"unsupported content encoding {header!r}"
    assert url in str(caught.value) and "\n" not in str(caught.value)


def test_the_compressed_body_is_held_to_max_bytes_whatever_content_length_says(site, fetcher):
    noise = gzip.compress(os.urandom(300_000))  # incompressible: 300 KB sent
    site.overrides = {
        "/chunked.html": raw_answer(noise, "Content-Encoding: gzip", chunked=True),
        "/declared.html": raw_answer(b"", "Content-Encoding: gzip", length=10**9),
        "/short.html": raw_answer(noise, "Content-Encoding: gzip", length=100),
    }
    for path, reason in [
        ("/chunked.html", "body exceeds the 200,000 byte limit"),
        ("/declared.html", "body of 1,000,000,000 bytes exceeds the 200,000 limit"),
    ]:
        with pytest.raises(FetchError) as caught:
            fetcher.fetch(FetchRequest(f"{site.base_url}{path}", keep_encoding=True))
        assert caught.value.reason == reason
    # A Content-Length under the bytes sent: only those bytes are read, and they decode to
    # a (truncated) body, never to more.
    short = fetcher.fetch(FetchRequest(f"{site.base_url}/short.html", keep_encoding=True))
    assert len(short.body) == 100 and len(decode_body("u", short.body, "gzip", 200_000)) <= 200


def test_a_bomb_is_never_inflated_in_the_run_process_and_fails_in_the_worker(site, fetcher):
    bomb = gzip.compress(bytes(100 * 1024 * 1024), compresslevel=9)  # 100 MB of zeros
    site.overrides = {"/bomb.html": raw_answer(bomb, "Content-Encoding: gzip", chunked=True)}
    url = f"{site.base_url}/bomb.html"
    tracemalloc.start()
    try:
        kept = fetcher.fetch(FetchRequest(url, keep_encoding=True))
        _, fetch_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        work = process_page(kept.body, kept.final_url, kept.content_encoding, 200_000)
        _, worker_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert kept.body == bomb and fetch_peak < 2_000_000 and worker_peak < 2_000_000
    assert work.skipped.target == url
    assert work.skipped.reason == "decompressed body exceeds the 200,000 byte limit"


def test_multi_member_gzip_decodes_to_its_first_member_only():
    # Behaviour, unchanged by 31a032e (the fetcher's own decoder stops there too): a second
    # member is dropped silently, never added past the cap.
    assert (
        decode_body("u", gzip.compress(PAGE) + gzip.compress(b"<p>more</p>"), "gzip", 10**6) == PAGE
    )


def test_a_dask_batch_with_a_bomb_and_bad_gzip_gives_each_page_its_own_result():
    good = [(gzip.compress(PAGE), f"http://h.example/{n}", "gzip") for n in range(2)]
    batch = [*good, (gzip.compress(bytes(50 * 2**20)), "http://h.example/bomb", "gzip"),
             (b"<html>not gzip</html>", "http://h.example/bad", "x-gzip"),
             (PAGE, "http://h.example/plain", None)]  # fmt: skip
    works = unpack_pages(process_pages(batch, 1_000_000))
    assert [w.url for w in works] == [url for _, url, _ in batch]
    assert works[0].cleaned == works[1].cleaned == works[4].cleaned is not None
    assert works[2].skipped.reason == "decompressed body exceeds the 1,000,000 byte limit"
    assert works[3].skipped.reason.startswith("bad content encoding: ")


SITES = [("ByteBeat", "bytebeat/feed.json", "Technology"),
         ("Circuit Post", "circuitpost/atom.xml", "Technology")]  # fmt: skip
HOSTILE = {  # path: (Content-Encoding, body, chunked); None: the page is extracted
    "/bytebeat/articles/ipad-pro-m5-first-look.html": ("X-Gzip", gzip.compress, True),
    "/bytebeat/articles/meta-compute-explained.html": ("deflate", _raw_deflate, False),
    "/bytebeat/articles/openssl-bug-what-to-do.html": ("gzip", lambda b: b, False),
    "/circuitpost/articles/macbook-air-m5-sky-blue.html": (
        "gzip, gzip", lambda b: gzip.compress(gzip.compress(b)), False),
    "/circuitpost/articles/meta-compute-ai-cloud-rivals.html": (
        "gzip", lambda b: gzip.compress(bytes(8 * 2**20)), True),
}  # fmt: skip
REASONS = {
    "/bytebeat/articles/openssl-bug-what-to-do.html": "bad content encoding: ",
    "/circuitpost/articles/macbook-air-m5-sky-blue.html": "unsupported content encoding",
    "/circuitpost/articles/meta-compute-ai-cloud-rivals.html": "decompressed body exceeds",
}


@pytest.mark.parametrize("workers", ["0", "1"])
def test_a_run_decodes_each_kept_page_once_and_names_each_bad_one(tmp_path, site, workers):
    for path, (header, encode, chunked) in HOSTILE.items():
        body = encode((DEMO_SITES / path.lstrip("/")).read_bytes())
        site.overrides[path] = raw_answer(body, f"Content-Encoding: {header}", chunked=chunked)
    extra = f"  max_bytes: 2MB\nworkers: {workers}\n"
    config = write_config(tmp_path, site.base_url, feeds=SITES, extra=extra)
    report = digest.run(digest.load_config(config))
    assert report.digest is not None
    skipped = {s.target.removeprefix(site.base_url): s.reason for s in report.skipped
               if s.stage == "page"}  # fmt: skip
    assert set(skipped) == set(REASONS)
    for path, start in REASONS.items():
        assert skipped[path].startswith(start) and "\n" not in skipped[path]
    with sqlite3.connect(tmp_path / "state" / "digest.db") as db:
        sources = dict(db.execute("SELECT url, text_source FROM articles").fetchall())
    for path in set(HOSTILE) - set(REASONS):
        assert sources[f"{site.base_url}{path}"] == "page"


def test_dask_batches_and_their_fallback_in_the_run_decode_each_page_once(monkeypatch):
    distributed = pytest.importorskip("distributed")
    monkeypatch.setattr(_dask, "WATCH_EVERY", 0.2)
    monkeypatch.setattr(_dask, "NO_WORKER_GRACE", 1.0)
    cluster = distributed.LocalCluster(
        processes=False, protocol="tcp", host="127.0.0.1", n_workers=1, threads_per_worker=2,
        dashboard_address="127.0.0.1:0",  # (None still binds :8787, as other tests may)
    )  # fmt: skip
    executor = _dask.DaskWorkers(cluster.scheduler_address)
    expected = process_page(PAGE, "http://h.example/p").cleaned
    try:
        with PagePool[str](2, executor, 1_000_000) as pool:
            for round_ in ("cluster", "fallback"):
                if round_ == "fallback":  # every worker gone: batches are processed here
                    for worker in list(cluster.workers.values()):
                        cluster.sync(worker.close)
                    time.sleep(0.3)
                for n in range(3):
                    pool.submit(
                        f"{round_}{n}", gzip.compress(PAGE), f"http://h.example/{n}", "gzip"
                    )
                pool.submit(
                    f"{round_}-bomb", gzip.compress(bytes(20 * 2**20)), "http://h.example/b", "gzip"
                )
                done = dict(pool.drain())
                assert {
                    key: work.cleaned == expected for key, work in done.items() if "bomb" not in key
                } == {f"{round_}{n}": True for n in range(3)}
                assert done[f"{round_}-bomb"].skipped.reason.startswith("decompressed body exceeds")
    finally:
        executor.shutdown()
        cluster.close()


def test_digest_extract_still_decodes_what_it_fetches(site):
    # `digest extract URL` does not ask for kept bodies: it gets the page decoded.
    site.overrides = {"/p.html": raw_answer(gzip.compress(PAGE), "Content-Encoding: X-GZIP")}
    fetched = digest.extract(f"{site.base_url}/p.html")
    local = digest.extract(
        str(DEMO_SITES / "bytebeat" / "articles" / "openssl-bug-what-to-do.html")
    )
    assert fetched.text == local.text and len(fetched.text) > 500
