"""The documentation holds: the settings reference is what cogapp generates from the registry,
every setting has its row, README.md stays a front door, and every page and link resolves.

Each check is a function of a file, so that the tests at the end can show that it catches
the mistake it is for (a stale reference, a missing row, a broken link).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from conftest import REPO

from digest.config._settings import FEED_SETTINGS, SETTINGS

README = REPO / "README.md"
DOCS = REPO / "docs"
CONFIGURATION = DOCS / "configuration.md"
README_MAX_LINES = 200

_FENCE = re.compile(r"^\s*(```|~~~)")
_INLINE_CODE = re.compile(r"`+[^`]*`+")
_INLINE_LINK = re.compile(r"\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_REFERENCE_LINK = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)")
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$")
_HTML_ID = re.compile(r"""\b(?:id|name)\s*=\s*["']([^"']+)["']""")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def cog_check(path: Path) -> subprocess.CompletedProcess[str]:
    """`cog --check` on one file, importing the package from this checkout."""
    return subprocess.run(
        [sys.executable, "-m", "cogapp", "--check", "-I", str(REPO), str(path)],
        cwd=REPO, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def setting_keys() -> list[str]:
    return [s.key for s in SETTINGS] + [f"feeds[].{s.key}" for s in FEED_SETTINGS]


def settings_without_a_row(text: str) -> list[str]:
    """Registry keys with no `| `key` | ... |` row in the reference table of `text`."""
    rows = set(re.findall(r"^\| `([^`]+)` \|", text, re.MULTILINE))
    return [key for key in setting_keys() if key not in rows]


def unfenced_lines(text: str) -> list[str]:
    """The lines outside fenced code blocks."""
    lines, fenced = [], False
    for line in text.splitlines():
        if _FENCE.match(line):
            fenced = not fenced
        elif not fenced:
            lines.append(line)
    return lines


def link_targets(path: Path) -> list[str]:
    targets = []
    for line in unfenced_lines(path.read_text()):
        line = _INLINE_CODE.sub("", line)
        targets += _INLINE_LINK.findall(line)
        targets += _REFERENCE_LINK.findall(line)
    return targets


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"<[^>]+>", "", heading).lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    found: set[str] = set()
    seen: dict[str, int] = {}
    text = path.read_text()
    for line in unfenced_lines(text):
        match = _HEADING.match(line)
        if match:
            base = slug(match.group(1))
            count = seen.get(base, 0)
            seen[base] = count + 1
            found.add(base if count == 0 else f"{base}-{count}")
    found.update(_HTML_ID.findall(text))
    return found


def relative_links(path: Path) -> list[tuple[str, Path, str]]:
    """(link as written, file it names, anchor or "") for each link that is not a URL."""
    out = []
    for target in link_targets(path):
        if _SCHEME.match(target) or target.startswith("//"):
            continue
        name, _, anchor = target.partition("#")
        out.append((target, (path.parent / name).resolve() if name else path.resolve(), anchor))
    return out


def broken_links(path: Path) -> list[str]:
    broken = []
    for target, file, anchor in relative_links(path):
        if not file.exists():
            broken.append(f"{path.name}: {target}: no such file")
        elif anchor and file.suffix == ".md" and anchor not in anchors(file):
            broken.append(f"{path.name}: {target}: no heading with that anchor")
    return broken


def doc_pages() -> list[Path]:
    return sorted(DOCS.glob("*.md"))


# -- the checks, on the repository's files --


def test_the_settings_reference_is_what_cog_generates():
    text = CONFIGURATION.read_text()
    assert "[[[cog" in text and "[[[end]]]" in text, "the cog block is gone"
    assert "digest.config._settings" in text, "the cog block no longer reads the registry"
    result = cog_check(CONFIGURATION)
    assert result.returncode == 0, (
        "docs/configuration.md is out of date; regenerate it with "
        "`python -m cogapp -r -I . docs/configuration.md`\n" + result.stdout + result.stderr
    )


def test_every_setting_has_a_row_in_the_reference():
    assert settings_without_a_row(CONFIGURATION.read_text()) == []


def test_the_readme_is_a_front_door_of_at_most_200_lines():
    lines = len(README.read_text().splitlines())
    assert lines <= README_MAX_LINES, f"README.md has {lines} lines; move detail to docs/"


def test_every_docs_page_is_linked_from_the_readme():
    pages = doc_pages()
    assert pages, "docs/ has no pages"
    linked = {file for _, file, _ in relative_links(README)}
    assert [page.name for page in pages if page.resolve() not in linked] == []


def test_every_relative_link_of_the_readme_and_docs_resolves():
    broken = [line for path in [README, *doc_pages()] for line in broken_links(path)]
    assert broken == []


# -- each check catches the mistake it is for --


def test_cog_check_fails_on_a_stale_reference(tmp_path):
    stale = tmp_path / "configuration.md"
    text = CONFIGURATION.read_text()
    row = next(line for line in text.splitlines() if line.startswith("| `title` |"))
    stale.write_text(text.replace(row + "\n", ""))
    assert cog_check(stale).returncode != 0


def test_a_missing_row_is_named():
    text = CONFIGURATION.read_text()
    without = re.sub(r"^\| `feeds\[\]\.weight` \|.*\n", "", text, flags=re.MULTILINE)
    assert settings_without_a_row(without) == ["feeds[].weight"]


def test_broken_links_and_anchors_are_named_and_code_is_not_read_as_links(tmp_path):
    (tmp_path / "there.md").write_text("# A `code` heading: yes\n\n## Twice\n\n## Twice\n")
    page = tmp_path / "page.md"
    page.write_text(
        "# Page\n\n"
        "[ok](there.md) [ok](there.md#a-code-heading-yes) [ok](there.md#twice-1) [ok](#page)\n"
        "[web](https://example.org/x) [mail](mailto:a@example.org)\n"
        "[gone](missing.md) [no anchor](there.md#nowhere) [self](#nope)\n"
        "`[inline](code.md)`\n"
        "```\n[fenced](fenced.md)\n```\n"
        "[ref]: other/missing.md\n"
    )
    assert broken_links(page) == [
        "page.md: missing.md: no such file",
        "page.md: there.md#nowhere: no heading with that anchor",
        "page.md: #nope: no heading with that anchor",
        "page.md: other/missing.md: no such file",
    ]
