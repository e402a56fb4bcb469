"""Scripts, event handlers, javascript: and data: URLs in a feed's titles, summaries and
content, and in the article page: none reaches the email (the real CLI, end to end)."""

from __future__ import annotations

import re
from email import message_from_bytes, policy

import lxml.html
from conftest import REPO, run_cli, write_config
from sites import LocalSite

HOSTILE = REPO / "tests" / "fixtures" / "hostile"
URL_ATTRIBUTES = ("href", "src", "action", "formaction", "background", "data", "poster")
ACTIVE_URL = re.compile(r"^\s*(javascript|data|vbscript):", re.IGNORECASE)


def _active_parts(document: str) -> list[str]:
    """Every script, event handler and script-capable URL in an HTML document."""
    root = lxml.html.document_fromstring(document)
    found = [f"<{el.tag}>" for el in root.iter("script", "iframe", "object", "embed")]
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        for name, value in element.attrib.items():
            handler = name.lower().startswith("on")
            if handler or (name.lower() in URL_ATTRIBUTES and ACTIVE_URL.match(value)):
                found.append(f"{element.tag} {name}={value!r}")
    return found


def test_no_script_reaches_the_email(tmp_path):
    site = LocalSite(HOSTILE, port=0)
    site.rewrite = {"http://hostile.test": site.base_url}
    with site:
        config = write_config(
            tmp_path, site.base_url, feeds=[("Script Kiddie", "xss.xml", "World")]
        )
        result = run_cli("run", "--config", str(config))
    assert result.returncode == 0, result.stderr
    outbox = tmp_path / "outbox"
    html = next(outbox.glob("*.html")).read_text(encoding="utf-8")
    text = next(outbox.glob("*.txt")).read_text(encoding="utf-8")
    message = message_from_bytes(next(outbox.glob("*.eml")).read_bytes(), policy=policy.default)
    html_part = message.get_body(("html",)).get_content()
    text_part = message.get_body(("plain",)).get_content()

    assert "Storm floods the coastal road" in text  # the story itself got through
    for document in (html, html_part):
        assert _active_parts(document) == []
        assert "alert(" not in document and "document.cookie" not in document
    for plain in (text, text_part):
        assert "alert(" not in plain and "<script" not in plain.lower()
        assert "javascript:" not in plain.lower()
