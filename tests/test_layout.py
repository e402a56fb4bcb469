"""The package's layout holds: stages import each other's faces only, in one direction."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from conftest import REPO


def test_the_import_contracts_hold():
    # The contracts live in pyproject.toml; lint-imports reads them from the repository root.
    command = shutil.which("lint-imports") or str(Path(sys.executable).parent / "lint-imports")
    result = subprocess.run(
        [command], cwd=REPO, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout


def test_the_top_level_holds_the_stage_packages_and_a_few_shared_modules():
    package = REPO / "digest"
    folders = {p.name for p in package.iterdir() if (p / "__init__.py").is_file()}
    assert folders == {"config", "feeds", "pages", "cluster", "mail", "store", "pipeline", "cli"}
    modules = {p.stem for p in package.glob("*.py")}
    assert len(modules) <= 9, sorted(modules)
