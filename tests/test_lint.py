"""Style is checked, not hoped for: ruff's lint rules and formatter over the code."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import ROOT

RUFF = shutil.which("ruff", path=str(Path(sys.executable).parent))


@pytest.mark.skipif(RUFF is None, reason="ruff is installed with the test extras (./scripts/test installs it)")
@pytest.mark.parametrize("command", [["check"], ["format", "--check"]])
def test_ruff(command: list[str]) -> None:
    result = subprocess.run([RUFF, *command, "app", "tests", "bench"], cwd=ROOT, capture_output=True, text=True)  # type: ignore[list-item]
    assert result.returncode == 0, result.stdout + result.stderr


MYPY = shutil.which("mypy", path=str(Path(sys.executable).parent))


@pytest.mark.skipif(MYPY is None, reason="mypy is installed with the test extras (./scripts/test installs it)")
def test_mypy_strict() -> None:
    result = subprocess.run([MYPY, "app", "tests", "bench"], cwd=ROOT, capture_output=True, text=True)  # type: ignore[list-item]
    assert result.returncode == 0, result.stdout + result.stderr
