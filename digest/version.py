"""The version, in one place: the package metadata and the User-Agent read it from here;
and the code's identity, which a run and its Dask workers compare."""

import functools
import hashlib
from pathlib import Path

__version__ = "0.1.0"


@functools.cache
def code_identity() -> str:
    """digest's version and a short hash of its own files (code and package data): what
    a run and its workers compare, since a checkout keeps one version number across
    commits."""
    root = Path(__file__).resolve().parent
    digest_of_files = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.suffix in (".py", ".json") and "__pycache__" not in path.parts:
            digest_of_files.update(path.relative_to(root).as_posix().encode() + b"\0")
            digest_of_files.update(path.read_bytes())
    return f"{__version__} ({digest_of_files.hexdigest()[:12]})"
