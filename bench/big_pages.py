"""How long extraction takes on article pages of growing markup, with and without the
1 MB cut (digest/pages/_extract.py, fit_markup). Prints one line per size; nothing is asserted.

    PYTHONPATH=. python bench/big_pages.py [MAX_MB]
    PYTHONPATH=. python bench/big_pages.py --tags [MAX_THOUSANDS]

With --tags, pages under 1 MB of more and more tiny paragraphs ("<p>a</p>"), with and
without the cut at MAX_TAGS tags: what a 2 KB gzip body can hold.
"""

from __future__ import annotations

import sys
import time

import trafilatura

from digest.pages._extract import MAX_MARKUP, MAX_TAGS, extract_page, fit_markup

PARAGRAPH = b"<p>Some words of markup that go on and on in this paragraph of the page.</p>\n"


def page(megabytes: float) -> bytes:
    count = int(megabytes * 1024 * 1024 / len(PARAGRAPH))
    return b"<html><body><article>" + PARAGRAPH * count + b"</article></body></html>"


def seconds(call) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def tags(largest: int) -> None:
    print(f"cut at {MAX_TAGS:,} tags")
    thousands = 10
    while thousands <= largest:
        body = b"<html><body><article>" + b"<p>a</p>" * (thousands * 1000)
        body += b"</article></body></html>"
        raw = seconds(lambda b=body: trafilatura.bare_extraction(b, with_metadata=True))
        fitted = seconds(lambda b=body: extract_page(b, "http://127.0.0.1/page.html"))
        print(
            f"{thousands:4d}k paragraphs ({len(body) / 1024:5.0f} KB): trafilatura alone "
            f"{raw:6.1f} s; extract_page {fitted:5.1f} s"
        )
        thousands *= 2


def main() -> None:
    if sys.argv[1:2] == ["--tags"]:
        tags(int(sys.argv[2]) if len(sys.argv) > 2 else 80)
        return
    largest = float(sys.argv[1]) if len(sys.argv) > 1 else 4
    print(f"cut at {MAX_MARKUP / 1024 / 1024:g} MB")
    size = 0.5
    while size <= largest:
        body = page(size)
        raw = seconds(lambda b=body: trafilatura.bare_extraction(b, with_metadata=True))
        fitted = seconds(lambda b=body: extract_page(b, "http://127.0.0.1/page.html"))
        cut = seconds(lambda b=body: fit_markup(b))
        print(
            f"{size:5.1f} MB: trafilatura alone {raw:6.1f} s; extract_page {fitted:5.1f} s "
            f"(fit_markup {cut * 1000:.0f} ms)"
        )
        size *= 2


if __name__ == "__main__":
    main()
