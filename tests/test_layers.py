"""The layers written in pyproject.toml ([tool.importlinter]) hold: a stray import fails here."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _lint_imports(*args: str) -> subprocess.CompletedProcess[str]:
    lint = Path(sys.executable).with_name("lint-imports")
    return subprocess.run([str(lint), *args], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)


def test_every_import_follows_the_layers() -> None:
    result = _lint_imports()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_a_contract_is_checked_not_skipped() -> None:
    # A config naming no contracts would "pass" too: make sure the three are there and kept.
    result = _lint_imports()
    assert result.stdout.count("KEPT") >= 3, result.stdout
