import stat

import pytest

from digest.files import slug, write_atomically


def test_slug_keeps_letters_and_digits_only():
    assert slug("Morning Brief · 23 Nov") == "morning-brief-23-nov"
    assert slug("chloé@example.org", 10) == "chlo-examp"
    assert slug("···") == "digest"
    assert slug("", empty="x") == "x"


def test_write_atomically_replaces_the_file_and_sets_the_mode(tmp_path):
    path = tmp_path / "page.html"
    path.write_text("old")
    write_atomically(path, b"new", mode=0o644)
    assert path.read_bytes() == b"new"
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    write_atomically(path, b"private")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["page.html"]


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text("kept")
    with pytest.raises(TypeError):
        write_atomically(path, "not bytes")  # type: ignore[arg-type]
    assert path.read_text() == "kept"
    assert [p.name for p in tmp_path.iterdir()] == ["config.yaml"]
